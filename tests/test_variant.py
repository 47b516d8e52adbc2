"""Scenario variants: written next to the base, only changed files copied, invalid edits refused whole."""

from __future__ import annotations

import shutil
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from planner.loader import load_and_validate
from planner.variant import VariantError, list_variants, variant_paths, write_variant

TINY = Path(__file__).resolve().parent / "data" / "tiny"


@pytest.fixture()
def base(tmp_path: Path) -> Path:
    """A copy of the tiny scenario in its own folder (variants are written beside it)."""
    d = tmp_path / "sc"
    shutil.copytree(TINY, d)
    return d / "scenario.toml"


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_fleet_variant_copies_only_the_fleet_and_validates(base: Path) -> None:
    v = write_variant(base, "more", {"fleet": {"500101": {"C53": 9, "C45": 0}}, "wait_for_fuller_coach": False,
                                     "occupancy": {"low_relaxed_from": date(2020, 2, 28)}})
    assert v.path == base.with_name("scenario-more.toml")
    assert v.changed == ["fleet"]
    assert sorted(p.name for p in v.data_dir.iterdir()) == ["fleet.csv"]
    doc = tomllib.loads(v.path.read_text(encoding="utf-8"))
    assert doc["data"]["workers"] == "workers.csv"  # unchanged files referenced where the base has them
    assert doc["data"]["fleet"] == "variants/scenario-more/fleet.csv"
    assert doc["solver"]["wait_for_fuller_coach"] is False
    sc, res = load_and_validate(v.path)
    assert res.ok
    fl = res.tables["fleet"]
    got = {(r.county_code, r.type_id): r.count for r in fl.itertuples()}
    assert got[("500101", "C53")] == 9 and ("500101", "C45") not in got and got[("500154", "C53")] == 3
    assert sc.occupancy.low_relaxed_from == date(2020, 2, 28)
    assert list_variants(base) == [v.path]


def test_trains_and_closure(base: Path) -> None:
    v = write_variant(base, "trains", {
        "remove_trains": ["K7001"],
        "add_trains": [{"service_id": "K9001", "date": "2020-02-25", "depart_time": "10:30", "origin_station_id": "R-WZB",
                        "destination_station_id": "S-DG", "carriages": 4, "carriage_type": "YZ25", "travel_hours": 20.5}],
        "close": [{"region_code": "4419", "from": date(2020, 3, 1), "to": date(2020, 3, 3)}],
        "window": {"end": date(2020, 3, 10)}, "feeder_max_ride_h": 3.0, "isolation_rows": {"coach": 1}})
    _sc, res = load_and_validate(v.path)
    assert res.ok
    ids = set(res.tables["train_services"]["service_id"])
    assert "K7001" not in ids and "K9001" in ids and len(ids) == 4
    risk = res.tables["risk_calendar"]
    assert (risk["level"] == "closed").sum() == 1
    assert _sc.window.end == date(2020, 3, 10) and _sc.feeders.max_ride_h == 3.0
    assert _sc.occupancy.coach_isolation_rows == 1


@pytest.mark.parametrize(("edits", "field"), [
    ({"fleet": {"500101": {"C53": -2}}}, "fleet.500101.C53"),
    ({"window": {"end": date(2020, 2, 1)}}, "window.end"),
    ({"add_trains": [{"service_id": "K9", "date": "2020-02-25", "depart_time": "10:30", "origin_station_id": "R-WZB",
                      "destination_station_id": "S-DG", "carriages": 0, "carriage_type": "YZ25",
                      "travel_hours": 20}]}, "add_trains[0].carriages"),
    ({"add_trains": [{"service_id": "K9", "date": "2020-02-25", "depart_time": "10:30", "origin_station_id": "R-NONE",
                      "destination_station_id": "S-DG", "carriages": 2, "carriage_type": "YZ25",
                      "travel_hours": 20}]}, "train_services.origin_station_id"),
    ({"isolation_rows": {"coach": 13}}, "occupancy.coach_isolation_rows"),
    ({"feeder_max_ride_h": -1}, "feeders.max_ride_h"),
    ({"remove_trains": ["NOPE"]}, "remove_trains"),
    ({"close": [{"region_code": "4419", "from": "2020-03-05", "to": "2020-03-01"}]}, "close[0].to"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_edit_is_refused_naming_the_field_and_nothing_written(base: Path, edits: dict, field: str) -> None:
    before = _listing(base.parent)
    with pytest.raises(VariantError) as err:
        write_variant(base, "bad", edits)
    assert field in err.value.fields
    assert field.split("[")[0].split(".")[0] in str(err.value)
    assert _listing(base.parent) == before  # no variant, no staging left behind


def test_existing_variant_is_not_overwritten_unless_asked(base: Path) -> None:
    write_variant(base, "v1", {"fleet": {"500101": {"C53": 6}}})
    with pytest.raises(VariantError):
        write_variant(base, "v1", {"fleet": {"500101": {"C53": 7}}})
    v = write_variant(base, "v1", {"fleet": {"500101": {"C53": 7}}}, overwrite=True)
    fl = pd.read_csv(v.data_dir / "fleet.csv", dtype=str)
    assert fl.loc[(fl["county_code"] == "500101") & (fl["type_id"] == "C53"), "count"].tolist() == ["7"]
    toml, data = variant_paths(base, "v1")
    assert toml.exists() and data.is_dir()


def test_bad_name_refused(base: Path) -> None:
    with pytest.raises(VariantError):
        write_variant(base, "../escape", {})
