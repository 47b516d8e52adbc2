"""Write a plan directory in the format of planner/plan_format.py (docs/plan-format.md).

Only plain records cross this boundary: the writer knows nothing of how the
solver found the plan, and the checker, documents and app read only what it
writes. The directory is written whole into a staging directory beside
``out`` and swapped in atomically (:mod:`planner.plan_dir`): ``out`` always
holds the old complete plan or the new complete one.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import PlanFormatError, PlanOutputError
from planner.plan_dir import (PlanLock, check_out_target, fsync_path, kill_point, recover, staging_dir, swap_in,
                              write_file_durably)
from planner.plan_format import (FORMAT_VERSION, GPKG_FILE, PLAN_FILES, SUMMARY_FILE, TABLES,
                                 direct_coach_ids, file_manifest, iso_time, passenger_trips, trunk_trips,
                                 verify_plan_dir, write_table)
from planner.plan_metrics import summary_blocks
from planner.solve.problem import ProblemData
from planner.solve.solver import SolveResult
from planner.vocab import DEFAULT_UNPLACED_REASON, INELIGIBLE_REASONS, REJECTED_INPUT, unknown_reasons

TRIP_COLUMNS = TABLES["trips"].names()
STOP_COLUMNS = TABLES["stops"].names()
LEG_COLUMNS = TABLES["legs"].names()
WORKER_COLUMNS = TABLES["workers"].names()


def iso(t: datetime | None) -> str:
    """ISO 8601 with the +08:00 offset, or "" for no time (never ``NaT``)."""
    return iso_time(t)


def _iso_col(series: pd.Series) -> pd.Series:
    """Every value as :func:`planner.plan_format.iso_time` writes it, formatting each distinct time once.

    The solver's times are ``datetime`` objects sharing one ``tzinfo`` and many rows
    share a time (every passenger of a trip). When every non-empty value is a plain
    ``datetime`` with that one ``tzinfo`` and ``fold`` 0, two values that compare equal
    have the same fields and so the same text: the column is factorised and only its
    distinct values are formatted. Any other column (strings, ``pd.Timestamp``, mixed
    zones, ``fold`` 1) goes value by value. Either way the text is the same, byte for byte.
    """
    if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(series.dtype):
        fast = _iso_datetime64(series)
        if fast is not None:
            return fast
        return series.map(iso_time).astype(object)
    values = series.to_numpy(dtype=object)
    empty = pd.isna(values)
    vals = values[~empty]
    if not _same_zone_datetimes(vals):
        return series.map(iso_time).astype(object)
    out = np.full(len(values), "", dtype=object)
    if len(vals):
        codes, uniq = pd.factorize(vals)
        text = np.array([iso_time(v) for v in uniq], dtype=object)
        out[~empty] = text[codes]
    return pd.Series(out, index=series.index, dtype=object)


def _iso_datetime64(series: pd.Series) -> pd.Series | None:
    """A datetime64 column (pandas infers one when every cell is a time) as ISO text, with numpy.

    Wall time to the second (``iso_time`` truncates, as ``to_pydatetime`` and
    ``timespec="seconds"`` do), then the column's UTC offset of each instant,
    ``+HH:MM``. None when some time is before 1970 or an offset is not whole minutes
    (then the caller formats row by row).
    """
    tz = getattr(series.dtype, "tz", None)
    empty = series.isna().to_numpy()
    utc_ns = series.to_numpy(dtype="datetime64[ns]").view(np.int64) if tz is None else \
        series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    wall = series if tz is None else series.dt.tz_localize(None)
    wall_ns = wall.to_numpy(dtype="datetime64[ns]").view(np.int64)
    ok = ~empty
    if (wall_ns[ok] < 0).any() or (utc_ns[ok] < 0).any():
        return None
    out = np.full(len(series), "", dtype=object)
    if not ok.any():
        return pd.Series(out, index=series.index, dtype=object)
    text = np.datetime_as_string((wall_ns[ok] // 1_000_000_000).astype("datetime64[s]"), unit="s").astype(object)
    if tz is not None:
        off_s = (wall_ns[ok] - utc_ns[ok]) // 1_000_000_000
        uniq, inv = np.unique(off_s, return_inverse=True)
        if (uniq % 60).any():
            return None
        suffix = np.array([f"{'-' if o < 0 else '+'}{abs(int(o)) // 3600:02d}:{abs(int(o)) // 60 % 60:02d}"
                           for o in uniq], dtype=object)
        text = text + suffix[inv]
    out[ok] = text
    return pd.Series(out, index=series.index, dtype=object)


def _iso_days(days: np.ndarray) -> np.ndarray:
    """``d.isoformat()`` of every value, formatting each distinct plain ``date`` once."""
    if len(days) and all(type(d) is date for d in days):  # noqa: E721  (a datetime is a date subclass)
        codes, uniq = pd.factorize(days)
        return np.array([d.isoformat() for d in uniq], dtype=object)[codes]
    return np.array([d.isoformat() for d in days], dtype=object)


def _same_zone_datetimes(vals: np.ndarray) -> bool:
    """True when every value is a plain ``datetime`` (not a subclass), all with one tzinfo object and fold 0."""
    if not len(vals):
        return True
    tz = getattr(vals[0], "tzinfo", None)
    return (all(type(v) is datetime for v in vals)  # noqa: E721  (pd.Timestamp is a datetime subclass)
            and all(v.tzinfo is tz for v in vals) and not any(v.fold for v in vals))


def plan_tables(p: ProblemData, res: SolveResult, rejected_workers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The plan's CSV tables as DataFrames (times already as ISO strings)."""
    parts = res.parts
    trips = pd.DataFrame(parts.trips, columns=TRIP_COLUMNS)
    trips["depart"] = _iso_col(trips["depart"])
    trips["arrive"] = _iso_col(trips["arrive"])
    stops = pd.DataFrame(parts.stops, columns=STOP_COLUMNS)
    stops["arrive"] = _iso_col(stops["arrive"])
    stops["depart"] = _iso_col(stops["depart"])
    w = p.workers
    wid = w["worker_id"].astype(str).to_numpy()
    legs = pd.DataFrame(
        parts.legs,
        columns=["pos", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"],
    )
    legs.insert(0, "worker_id", wid[legs["pos"].to_numpy(np.int64)] if len(legs) else [])
    legs["board_time"] = _iso_col(legs["board_time"])
    legs["alight_time"] = _iso_col(legs["alight_time"])
    legs = legs.sort_values(["pos", "leg"]).drop(columns="pos")[LEG_COLUMNS]
    # workers: accepted rows
    n = len(w)
    status = np.full(n, "unassigned", dtype=object)
    reason = res.reasons.to_numpy(dtype=object).copy()
    chain = np.full(n, "", dtype=object)
    depart_day = np.full(n, "", dtype=object)
    arrival = np.full(n, "", dtype=object)
    if parts.outcome:
        pos = np.fromiter(parts.outcome.keys(), dtype=np.int64, count=len(parts.outcome))
        ch, day, arr = (np.array(col, dtype=object) for col in zip(*parts.outcome.values()))
        status[pos] = "planned"
        reason[pos] = ""
        chain[pos] = ch
        depart_day[pos] = _iso_days(day)
        arrival[pos] = _iso_col(pd.Series(arr, dtype=object)).to_numpy()
    if parts.unplaced:
        pos = np.fromiter(parts.unplaced.keys(), dtype=np.int64, count=len(parts.unplaced))
        why = np.array(list(parts.unplaced.values()), dtype=object)
        free = status[pos] != "planned"
        reason[pos[free]] = why[free]
    missing = (status == "unassigned") & (reason == "")
    reason[missing] = DEFAULT_UNPLACED_REASON
    gid = w["group_id"].fillna("").astype(str) if "group_id" in w.columns else pd.Series([""] * n)
    acc = pd.DataFrame(
        {
            "source_row": w["_row"].astype(int).to_numpy(),
            "worker_id": wid,
            "status": status,
            "reason": reason,
            "reason_detail": "",
            "village_code": w["village_code"].astype(str).to_numpy(),
            "township_code": w["township_code"].astype(str).to_numpy(),
            "county_code": w["county_code"].astype(str).to_numpy(),
            "factory_id": w["factory_id"].astype(str).to_numpy(),
            "chain": chain,
            "depart_day": depart_day,
            "planned_arrival": arrival,
            "group_id": gid.to_numpy(),
        }
    )
    rej = rejected_workers
    if rej is not None and len(rej):
        def col(name: str) -> np.ndarray:
            return rej[name].fillna("").astype(str).to_numpy() if name in rej.columns else np.full(len(rej), "")

        vill = col("village_code")
        rj = pd.DataFrame(
            {
                "source_row": rej["_row"].astype(int).to_numpy(),
                "worker_id": col("worker_id"),
                "status": "unassigned",
                "reason": REJECTED_INPUT,
                "reason_detail": col("reason"),
                "village_code": vill,
                "township_code": [v[:9] if len(v) == 12 and v.isdigit() else "" for v in vill],
                "county_code": [v[:6] if len(v) == 12 and v.isdigit() else "" for v in vill],
                "factory_id": col("factory_id"),
                "chain": "",
                "depart_day": "",
                "planned_arrival": "",
                "group_id": col("group_id"),
            }
        )
        acc = pd.concat([acc, rj], ignore_index=True)
    workers = acc.sort_values("source_row", kind="stable")[WORKER_COLUMNS]
    strange = unknown_reasons(workers["reason"])
    if strange:
        msg = (f"workers.csv: 未安排原因 {', '.join(strange)} 未在 planner/vocab.py 中声明 "
               "(unassigned reason not declared in planner.vocab.UNASSIGNED_REASONS)")
        raise PlanFormatError(msg)
    return {"trips": trips, "stops": stops, "legs": legs, "workers": workers}


def build_summary(p: ProblemData, res: SolveResult, tables: dict[str, pd.DataFrame], n_read: int,
                  wall: dict[str, float]) -> dict:
    """summary.json contents: the one place that builds them (add new keys here).

    The writer adds ``format_version`` and ``files`` (sha256 of every plan file)
    when it stages the directory; ``run_plan`` updates ``wall_time_s`` and
    ``peak_memory_mb`` after the checker ran.
    """
    trips, workers, legs = tables["trips"], tables["workers"], tables["legs"]
    sc = p.sc
    un = workers[workers["status"] == "unassigned"]
    pas = passenger_trips(trips)
    coach = pas[pas["mode"] == "coach"]
    direct_ids = direct_coach_ids(trips, tables["stops"])
    km = trips.groupby(["mode", "purpose"])["distance_km"].sum()
    trunk = trunk_trips(trips)
    trunk_legs = legs[legs["trip_id"].isin(set(trunk["trip_id"]))]
    vil = workers.set_index("worker_id")["village_code"]
    vil = vil[~vil.index.duplicated()]
    per_vehicle = trunk_legs.assign(v=trunk_legs["worker_id"].map(vil)).groupby("trip_id")["v"].nunique()
    return {
        "scenario": {"name": sc.name, "path": str(sc.source_path), "checksum": sc.checksum},
        "workers": {
            "read": int(n_read),
            "rejected_input": int((workers["reason"] == REJECTED_INPUT).sum()),
            "eligible": int(len(workers) - un["reason"].isin(sorted(INELIGIBLE_REASONS)).sum()),
            "planned": int((workers["status"] == "planned").sum()),
            "unassigned": int(len(un)),
            "unassigned_by_reason": {str(k): int(v) for k, v in un["reason"].value_counts().sort_index().items()},
            "planned_by_chain": {str(k): int(v) for k, v in workers["chain"][workers["chain"] != ""].value_counts().sort_index().items()},
        },
        "departures": {
            "coach": int(len(coach)),
            "direct_coach": int(coach["trip_id"].isin(direct_ids).sum()),
            "hub_coach": int((~coach["trip_id"].isin(direct_ids)).sum()),
            "train_carriage": int((pas["mode"] == "train").sum()),
            "feeder": int((pas["mode"] == "feeder").sum()),
        },
        "vehicle_km": {
            "coach": round(float(km.get(("coach", "passenger"), 0.0)), 1),
            "coach_empty_return": round(float(km.get(("coach", "empty_return"), 0.0)), 1),
            "feeder": round(float(km.get(("feeder", "passenger"), 0.0)), 1),
        },
        "seats": {
            "used": int(trunk["passengers"].sum()),
            "allowed": int(trunk["seats_allowed"].sum()),
            "fill": round(float(trunk["passengers"].sum() / max(1, trunk["seats_allowed"].sum())), 4),
        },
        "mean_villages_per_vehicle": round(float(per_vehicle.mean()), 3) if len(per_vehicle) else 0.0,
        "lower_bound": res.lower_bound,
        **summary_blocks(p, tables, res.lower_bound, res.throughput),  # throughput_bound, hub_waits, plan_quality (planner.plan_metrics)
        "wall_time_s": {k: round(v, 2) for k, v in wall.items()},
    }


summary = build_summary  # the name callers used before


def _dump(summ: dict) -> str:
    return json.dumps(summ, ensure_ascii=False, indent=2)


@dataclass
class StagedPlan:
    """A complete plan written into a staging directory beside ``out``, not yet visible at ``out``.

    ``path`` can be read and checked like any plan directory. :meth:`commit`
    swaps it in; :meth:`discard` deletes it.
    """

    path: Path
    out: Path
    summary: dict

    def save_summary(self, summ: dict) -> None:
        """Replace summary.json in the staging directory (the file list is kept; it covers the other files)."""
        summ = dict(summ)
        summ["format_version"] = self.summary["format_version"]
        summ["files"] = self.summary["files"]
        write_file_durably(self.path / SUMMARY_FILE, _dump(summ))
        self.summary = summ

    def commit(self) -> bool:
        """Verify the staged directory is complete, then make it the plan at ``out``; True if one was replaced."""
        verify_plan_dir(self.path)
        fsync_path(self.path)
        replaced = swap_in(self.path, self.out)
        kill_point("done")
        return replaced

    def discard(self) -> None:
        """Delete the staging directory (a run that failed leaves the old plan as it was)."""
        shutil.rmtree(self.path, ignore_errors=True)


# what a forked GeoPackage writer inherits (copy-on-write) instead of receiving it pickled
_GPKG_SHARED: tuple[ProblemData, dict[str, pd.DataFrame]] | None = None


def _gpkg_job(path: Path) -> None:
    """Write and fsync the GeoPackage from the inherited problem and tables (a forked process)."""
    p, tables = _GPKG_SHARED
    write_gpkg(path, p, tables)
    fsync_path(path)


def stage_plan(out: Path, p: ProblemData, res: SolveResult, rejected_workers: pd.DataFrame, n_read: int,
               wall: dict[str, float], *, processes: int = 1) -> StagedPlan:
    """Write every file of the plan into a new staging directory beside ``out``, fsync'd, summary last.

    Call with the plan's lock held (:class:`planner.plan_dir.PlanLock`). With ``processes`` > 1
    (and fork available) the GeoPackage is written by a forked process while this one writes
    the CSV tables and builds the summary; the files are the same either way.
    """
    global _GPKG_SHARED
    try:
        tmp = staging_dir(Path(out))
    except OSError as exc:
        msg = f"无法在 {Path(out).parent} 写出计划：{exc.strerror} (cannot write the plan)"
        raise PlanOutputError(msg) from None
    pool = None
    try:
        kill_point("staged")
        tables = plan_tables(p, res, rejected_workers)
        gpkg = None
        if processes > 1 and "fork" in multiprocessing.get_all_start_methods():
            _GPKG_SHARED = (p, tables)
            pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            gpkg = pool.submit(_gpkg_job, tmp / GPKG_FILE)
        for name, frame in tables.items():
            write_table(tmp / f"{name}.csv", name, frame)
            fsync_path(tmp / f"{name}.csv")
            kill_point(name)
        if gpkg is None:
            write_gpkg(tmp / GPKG_FILE, p, tables)
            fsync_path(tmp / GPKG_FILE)
            summ = build_summary(p, res, tables, n_read, wall)
        else:
            summ = build_summary(p, res, tables, n_read, wall)
            gpkg.result()
        kill_point("gpkg")
        summ["format_version"] = FORMAT_VERSION
        summ["files"] = file_manifest(tmp, PLAN_FILES)
        write_file_durably(tmp / SUMMARY_FILE, _dump(summ))
        fsync_path(tmp)
        kill_point("summary")
    except OSError as exc:  # a full disk, a quota: the previous plan is untouched
        _stop(pool)
        shutil.rmtree(tmp, ignore_errors=True)
        msg = f"写出计划失败：{exc.strerror}；原有计划 {out} 未改动 (writing the plan failed; the previous plan is kept)"
        raise PlanOutputError(msg) from None
    except BaseException:
        _stop(pool)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _stop(pool)
        _GPKG_SHARED = None
    return StagedPlan(tmp, Path(out), summ)


def _stop(pool: ProcessPoolExecutor | None) -> None:
    """Wait for the GeoPackage writer, if any (before its directory is removed or swapped in)."""
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def write_plan(out: Path, p: ProblemData, res: SolveResult, rejected_workers: pd.DataFrame, n_read: int,
               wall: dict[str, float]) -> dict:
    """Write the plan directory ``out`` atomically (lock, stage, verify, swap); return the summary.

    ``planner.pipeline.run_plan`` does the same with the checker run on the
    staged directory before the swap.
    """
    out = Path(out)
    check_out_target(out)
    with PlanLock(out):
        recover(out)
        check_out_target(out)
        staged = stage_plan(out, p, res, rejected_workers, n_read, wall)
        try:
            staged.commit()
        except BaseException:
            staged.discard()
            raise
        return staged.summary


#: GeoPackage stamps the writing time into gpkg_contents.last_change; a fixed stamp keeps the
#: plan's files (and so summary.json's checksums) the same for the same input on any run.
GPKG_FIXED_DATE = "2000-01-01T00:00:00.000Z"


def write_gpkg(path: Path, p: ProblemData, tables: dict[str, pd.DataFrame]) -> None:
    """Trips as lines through their stops and places as points, for maps (bytes independent of the clock)."""
    import pyogrio

    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_FIXED_DATE})
    try:
        _write_gpkg_layers(path, p, tables)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})


def _write_gpkg_layers(path: Path, p: ProblemData, tables: dict[str, pd.DataFrame]) -> None:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    stops = tables["stops"]
    xy: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    for frame, key, name_col in (
        (p.villages, "village_code", "village_name"),
        (p.hubs, "hub_id", "name"),
        (p.factories, "factory_id", "name"),
        (p.stations, "station_id", "name"),
    ):
        if frame is None or not len(frame):
            continue
        ids = frame[key].astype(str).to_numpy()
        lon = frame["lon"].to_numpy(float)
        lat = frame["lat"].to_numpy(float)
        nm = frame[name_col].astype(str).to_numpy() if name_col in frame.columns else ids
        for i, pid in enumerate(ids):
            xy[pid] = (lon[i], lat[i])
            names[pid] = nm[i]
    real = stops[stops["place_kind"] != "rest"]
    lines = []
    line_of: dict[str, LineString] = {}
    for tid, g in real.groupby("trip_id", sort=False):
        pts = [xy[pid] for pid in g["place_id"] if pid in xy]
        if len(pts) >= 2:
            line_of[tid] = LineString(pts)
            lines.append((tid, line_of[tid]))
    trips = tables["trips"].set_index("trip_id")
    if lines:
        ids, geoms = zip(*lines)
        tg = gpd.GeoDataFrame(trips.loc[list(ids)].reset_index(), geometry=list(geoms), crs="EPSG:4326")
        tg.to_file(path, layer="trips", driver="GPKG", engine="pyogrio")
    used = real.groupby(["place_id", "place_kind"], as_index=False)[["boarding", "alighting"]].sum()
    used = used[used["place_id"].isin(xy.keys())]
    pg = gpd.GeoDataFrame(
        used.assign(name=used["place_id"].map(names)),
        geometry=[Point(xy[pid]) for pid in used["place_id"]],
        crs="EPSG:4326",
    )
    pg.to_file(path, layer="places", driver="GPKG", engine="pyogrio")
    rests = _rest_points(stops, line_of)
    rests.to_file(path, layer="rest_stops", driver="GPKG", engine="pyogrio")


def _rest_points(stops: pd.DataFrame, line_of: dict) -> object:
    """Rest stops as points placed their share of the trip's road km along the trip's line (approximate).

    The plan knows how far along its road a rest stop lies (``distance_km`` of
    the stops before it), not which service area it is; the point is a map aid.
    """
    import geopandas as gpd
    import shapely

    km = stops["distance_km"].astype(float)
    cum = km.groupby(stops["trip_id"], sort=False).cumsum()
    total = km.groupby(stops["trip_id"], sort=False).transform("sum")
    rest = (stops["place_kind"] == "rest") & stops["trip_id"].isin(line_of.keys())
    r = stops[rest]
    share = (cum[rest] / total[rest].where(total[rest] > 0)).fillna(0.0).clip(0.0, 1.0).to_numpy()
    lines = np.array([line_of[t] for t in r["trip_id"]], dtype=object)
    geoms = shapely.line_interpolate_point(lines, share, normalized=True) if len(r) else []
    frame = pd.DataFrame({"trip_id": r["trip_id"].to_numpy(), "seq": r["seq"].astype(int).to_numpy(),
                          "arrive": r["arrive"].to_numpy(), "depart": r["depart"].to_numpy(),
                          "km_from_origin": cum[rest].round(2).to_numpy()})
    return gpd.GeoDataFrame(frame, geometry=list(geoms), crs="EPSG:4326")
