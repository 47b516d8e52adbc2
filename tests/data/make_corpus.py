"""Make the validation test corpus: a tiny valid scenario and one bad file per problem.

Run from the repository root: .venv/bin/python tests/data/make_corpus.py
Deterministic; the outputs are committed so they can be inspected. Every bad
file differs from the valid one in one row: data row 4, which a user sees as
row 5 (the header is row 1).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.coords import wgs84_to_gcj02
from planner.idcard import id_check_char

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TINY = HERE / "tiny"
BAD = HERE / "bad"
BAD_ROW = 3  # index of the broken data row -> file row 5


def _id(i: int) -> str:
    first17 = f"500101{1980 + i % 20}{1 + i % 12:02d}{1 + i % 28:02d}{900 + i:03d}"
    return first17 + id_check_char(first17)


def valid_tables() -> dict[str, pd.DataFrame]:
    v = pd.read_csv(ROOT / "geodata/chongqing/villages.csv", dtype=str)
    v = v[v["county_code"] == "500101"].iloc[[0, 40, 80, 120, 160, 200]].reset_index(drop=True)
    factories = pd.DataFrame(
        [
            ("F0001", "虎门示例电子厂", "广东", "东莞市", 113.675, 22.820, "2020-03-10", "S-DG"),
            ("F0002", "义乌示例五金厂", "浙江省", "金华市", 120.075, 29.306, "2020-03-12", "S-YW"),
        ],
        columns=["factory_id", "name", "province", "city", "lon", "lat", "needed_by", "arrival_station_id"],
    )
    rows = []
    for i in range(20):
        rows.append(
            {
                "worker_id": f"W{i + 1:07d}",
                "name": "张某华" if i % 2 else "李某芳",
                "id_number": _id(i),
                "phone": f"199{i + 1:08d}",
                "village_code": v["village_code"].iloc[i % len(v)],
                "factory_id": "F0001" if i % 3 else "F0002",
                "ready_date": f"2020-02-{14 + i % 10}",
                "health_proof": "certificate" if i % 5 else "green_code",
                "proof_date": f"2020-02-{14 + i % 10}",
                "job_confirmed": "true" if i % 7 else "是",
                "group_id": "G000001" if i in (6, 12) else "",
            }
        )
    workers = pd.DataFrame(rows)
    workers.loc[12, "village_code"] = workers.loc[6, "village_code"]
    workers.loc[12, "factory_id"] = workers.loc[6, "factory_id"]
    fleet = pd.DataFrame([("500101", "C53", 5), ("500101", "F35", 2)], columns=["county_code", "type_id", "count"])
    return {"villages": v, "factories": factories, "workers": workers, "fleet": fleet}


SCENARIO = """name = "校验测试情景"

[window]
start = 2020-02-14
end = 2020-03-15

[data]
villages = {villages}
counties = "../../../geodata/chongqing/counties.gpkg"
hubs = {hubs}
stations = "../../../geodata/receiving/stations.csv"
receiving_counties = "../../../geodata/receiving/counties.gpkg"
vehicle_types = "../../../scenarios/data/common/vehicle_types.csv"
workers = {workers}
factories = "factories.csv"
fleet = "fleet.csv"
"""


def scenario_text(villages: str = '"villages.csv"', hubs: str = '"../../../geodata/chongqing/hubs.csv"',
                  workers: str = '"workers.csv"') -> str:
    """The tiny scenario, with any of its files replaced (TOML values)."""
    return SCENARIO.format(villages=villages, hubs=hubs, workers=workers)


def main() -> None:
    TINY.mkdir(parents=True, exist_ok=True)
    BAD.mkdir(parents=True, exist_ok=True)
    t = valid_tables()
    for name, df in t.items():
        df.to_csv(TINY / f"{name}.csv", index=False, lineterminator="\n")
    (TINY / "scenario.toml").write_text(scenario_text(), encoding="utf-8")
    w, v = t["workers"], t["villages"]
    r = BAD_ROW

    def bad_workers(fname: str, **changes) -> None:
        df = w.copy()
        for col, val in changes.items():
            df.loc[r, col] = val
        df.to_csv(BAD / fname, index=False, lineterminator="\n")

    w.drop(columns=["phone"]).to_csv(BAD / "workers_missing_column.csv", index=False, lineterminator="\n")
    bad_workers("workers_bad_type.csv", ready_date="下周一")
    bad_workers("workers_duplicate_id.csv", worker_id=w.loc[0, "worker_id"])
    bad_workers("workers_unknown_village.csv", village_code="500101999999")
    bad_workers("workers_unknown_factory.csv", factory_id="F9999")
    good = w.loc[r, "id_number"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    bad_workers("workers_bad_check_digit.csv", id_number=wrong)
    bad_workers("workers_bad_phone.csv", phone="1234567")
    bad_workers("workers_date_outside_window.csv", ready_date="2020-04-20")
    w.to_csv(BAD / "workers_gb18030.csv", index=False, encoding="gb18030", lineterminator="\n")
    w.to_csv(BAD / "workers_bom.csv", index=False, encoding="utf-8-sig", lineterminator="\n")
    w.to_excel(BAD / "workers.xlsx", index=False, sheet_name="名单")

    def bad_villages(fname: str, **changes) -> None:
        df = v.copy()
        for col, val in changes.items():
            df.loc[r, col] = val
        df.to_csv(BAD / fname, index=False, lineterminator="\n")

    bad_villages("villages_outside_china.csv", lon="2.35", lat="48.85")
    bad_villages("villages_swapped.csv", lon=v.loc[r, "lat"], lat=v.loc[r, "lon"])
    bad_villages("villages_outside_county.csv", lon="108.40", lat="31.16")  # 开州 (500154), not 万州
    g = v.copy()
    glon, glat = wgs84_to_gcj02(g["lon"].astype(float).to_numpy(), g["lat"].astype(float).to_numpy())
    g["lon"] = [f"{x:.7f}" for x in glon]
    g["lat"] = [f"{y:.7f}" for y in glat]
    g.to_csv(BAD / "villages_gcj02.csv", index=False, lineterminator="\n")
    hubs = pd.read_csv(ROOT / "geodata/chongqing/hubs.csv", dtype=str)
    hubs.loc[r, "county_code"] = "500199"
    hubs.to_csv(BAD / "hubs_unknown_county.csv", index=False, lineterminator="\n")
    print(f"corpus written to {HERE}")


if __name__ == "__main__":
    main()
