"""The optional vehicle register (``vehicles`` table): validated like every table, bad rows named by row and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner.scenario import load_scenario
from planner.validate import fleet_vehicle_ids, validate_scenario
from tests.test_validate import scenario_with

HEADER = "vehicle_id,county_code,type_id,plate,driver_name,driver_phone,driver2_name,driver2_phone\n"
GOOD = [
    "500101-C53-001,500101,C53,渝F12345,王某军,13900000001,刘某明,13900000002",
    "500101-F35-002,500101,F35,渝F54321,陈某,13900000003,,",
    "500154-C53-003,500154,C53,渝A11111,,,,",
]


def register(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "vehicles.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def validate(tmp_path: Path, rows: list[str], header: str = HEADER):
    path = register(tmp_path, rows, header)
    return validate_scenario(load_scenario(scenario_with(tmp_path, vehicles=f'"{path}"')))


def test_fleet_vehicle_ids_follow_the_planner():
    fleet = pd.DataFrame({"county_code": ["500101", "500101"], "type_id": ["C53", "F35"], "count": [2, 1]})
    assert fleet_vehicle_ids(fleet) == {"500101-C53-001", "500101-C53-002", "500101-F35-001"}


def test_good_register_is_accepted(tmp_path):
    res = validate(tmp_path, GOOD)
    assert res.counts["vehicles"] == {"read": 3, "accepted": 3, "rejected": 0}
    assert not [p for p in res.problems if p.file.endswith("vehicles.csv")]
    reg = res.tables["vehicles"]
    assert list(reg["plate"]) == ["渝F12345", "渝F54321", "渝A11111"]


def test_register_is_optional(tmp_path):
    res = validate_scenario(load_scenario(scenario_with(tmp_path)))
    assert "vehicles" not in res.counts


@pytest.mark.parametrize(("row", "column", "code"), [
    ("500101-C53-009,500101,C53,渝F1,,,,", "vehicle_id", "dangling_reference"),  # fleet has 5 C53
    ("500102-C53-001,500102,C53,渝F1,,,,", "county_code", "dangling_reference"),  # unknown county
    ("500101-C53-002,500101,C45,渝F1,,,,", "vehicle_id", "inconsistent_code"),  # id says C53, row says C45
    ("500101-XX-001,500101,XX,渝F1,,,,", "type_id", "dangling_reference"),  # unknown type
    ("500101-C53-002,500101,C53,,,,,", "plate", "missing_value"),
    ("500101-C53-002,500101,C53,渝F1,王某,12345,,", "driver_phone", "bad_phone"),
    ("500101-C53-001,500101,C53,渝F9,,,,", "vehicle_id", "duplicate_id"),
])
def test_bad_row_named_by_row_and_column(tmp_path, row, column, code):
    res = validate(tmp_path, [*GOOD, row])
    probs = [p for p in res.problems if p.file.endswith("vehicles.csv")]
    assert [(p.row, p.column, p.code) for p in probs] == [(5, column, code)], probs
    assert res.counts["vehicles"] == {"read": 4, "accepted": 3, "rejected": 1}
    # personal data never in a message
    assert all("13900000001" not in p.message and "王某" not in p.message for p in res.problems)


def test_missing_plate_column_is_fatal(tmp_path):
    res = validate(tmp_path, ["500101-C53-001,500101,C53"], header="vehicle_id,county_code,type_id\n")
    assert any(p.code == "missing_column" and p.severity == "fatal" for p in res.problems)


def test_doc_data_carries_the_register(tmp_path, tiny_plan_dir):
    from planner.documents.common import load_doc_data

    path = register(tmp_path, GOOD)
    data = load_doc_data(tiny_plan_dir, scenario_with(tmp_path, vehicles=f'"{path}"'))
    assert data.vehicles.loc["500101-C53-001", "driver_phone"] == "13900000001"
