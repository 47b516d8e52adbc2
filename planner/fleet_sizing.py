"""``planner size-fleet``: per county, the fewest extra vehicles with which the target is moved.

For each origin county (counties are independent: a charter starts in its home
county, so each is searched alone, on its own workers only, in parallel
processes):

1. **What can be reached at all.** The county's workers whose job is confirmed and
   whose proof the destination recognises, and the most of them any plan could
   move with unlimited coaches: the per-county throughput LP of
   :mod:`planner.solve.bounds` with a fleet of one coach per worker. Workers out
   of reach (no recognised proof, proof lapsing before any coach could arrive,
   ready after ``needed_by`` ...) are counted by reason and left out of the
   target: ``--target all`` means every reachable worker, ``--target 0.98`` 98 %
   of them. A target nothing can reach is reported, never searched for.
2. **A bound to jump close.** The fewest extra coaches with which the LP reaches
   the target (bisection on the LP), and the simple bound: a coach makes at most
   ``floor(window days / round-trip days)`` trips of at most ``seats allowed``
   people, the trains carry at most their usable seats. No plan can do with fewer.
3. **The real planner decides.** From the bound, probes with the real planner
   (:mod:`planner.sizing_probe`: the county's variant scenario read and prepared
   once, each probe only changes the fleet and runs the solver in memory) gallop
   up, then bisect, until the fewest extra vehicles that move the target is found
   to ``--tolerance``. Only probes reaching the target are written as plans; the
   answer's plan is checked by the checker. Counties sharing a terminal are
   searched together; several groups run in parallel processes or on a dask
   cluster (``--scheduler``), each county credited with its own stations' trains. ``--vehicle coach`` adds coaches of one type (the county's most common
   one, or ``--type``); ``feeder`` adds feeder buses; ``both`` searches one kind at a
   time: first feeders (with the coaches the bound asks for), then, if feeders alone
   stop gaining before the target, coaches with the fewest feeders that gained most
   (the demo's 30 feeder buses bind long before its coaches do). When the planner
   stops gaining (two probes in a row move no more) before the target, the county
   is reported as not reachable with that kind of vehicle, with what still keeps
   the rest at home.

Outputs in ``--out``: ``curve.csv`` (county, extra vehicles, workers moved,
share), ``sizing.csv`` (per county the answer), ``报告.md`` (Chinese: what the
answer rests on: round-trip days, seats per coach, the rule in force) and
``plans/`` with every probe's plan (the answer's plan is checked).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from planner.errors import PlannerError

VEHICLES = ("coach", "feeder", "both")
# reasons that more vehicles of a kind could change
COACH_REASONS = ("no_coach_free", "no_vehicle_before_needed_by", "no_vehicle_before_proof_expiry")
FEEDER_REASONS = ("no_feeder_in_time",)


class SizingError(PlannerError, ValueError):
    """A sizing request that cannot be carried out (unknown county or type, bad target)."""


@dataclass
class Probe:
    """One real-planner run: the extra vehicles tried and what the plan moved."""

    county: str
    extra_coaches: int
    extra_feeders: int
    moved: int
    reasons: dict[str, int]
    plan_dir: str
    cpu_s: float
    # people one vehicle moved in the window, by kind ("coach", "feeder"): riders over vehicles used
    per_vehicle: dict[str, float] = field(default_factory=dict)
    scenario: str = ""  # the scenario file the plan at plan_dir was made from ("" when none was written)


@dataclass
class CountySizing:
    """The search of one county and its answer."""

    county: str
    coach_type: str
    feeder_type: str
    coaches: int  # of coach_type now
    coaches_all: int  # every coach type now
    feeders: int
    phase: str  # the kind being searched now: "coach" or "feeder"
    fixed: int  # extra vehicles of the other kind, held fixed in this phase
    read: int
    reachable: int  # most workers any plan could move with unlimited coaches
    out_of_reach: dict[str, int]
    target: int
    lp_extra: int  # fewest extra coaches with which the LP bound reaches the target
    simple_extra: int  # the same from trips-per-coach x seats
    round_trip_days: float
    seats_per_coach: int
    trips_per_coach: int
    train_seats: int
    probes: list[Probe] = field(default_factory=list)
    answer: int | None = None  # k of the last phase: extra coaches (phase coach) or feeders (phase feeder)
    reached: bool = False
    note: str = ""
    checked: bool | None = None

    def extra(self, k: int, vehicle: str = "") -> tuple[int, int]:
        """(extra coaches, extra feeders) for search step ``k`` of the current phase."""
        return (k, self.fixed) if self.phase == "coach" else (self.fixed, k)

    @property
    def coach_bound(self) -> int:
        """The fewest extra coaches any plan needs (the larger of the LP and the trips x seats bound)."""
        return max(self.lp_extra, self.simple_extra)


@dataclass
class SizingResult:
    """Every county's sizing, and where the files were written."""

    out: Path
    vehicle: str
    target_label: str
    counties: list[CountySizing]
    seconds: float
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """The per-county answer for the terminal (Chinese)."""
        lines = [f"车队测算 (fleet sizing)：目标 {self.target_label}，增加 {VEHICLE_ZH[self.vehicle]}，用时 {self.seconds:.0f} 秒"]
        for c in self.counties:
            lines.append(_county_line(c, self.vehicle))
        lines += [f"已写出 (written) {p}" for p in self.files]
        return "\n".join(lines)


VEHICLE_ZH = {"coach": "大巴", "feeder": "接驳车", "both": "大巴和接驳车"}


def _county_line(c: CountySizing, vehicle: str) -> str:
    head = f"区县 {c.county}：可达 {c.reachable:,}/{c.read:,} 人，目标 {c.target:,} 人"
    if c.answer is None:
        best = max(c.probes, key=lambda p: p.moved, default=None)
        got = f"，试算中最多运送 {best.moved:,} 人（增加 {_extra_text(c, best.extra_coaches, best.extra_feeders)}）" if best else ""
        return f"{head}：未能达到目标{got}" + (f"。{c.note}" if c.note else "")
    ec, ef = c.extra(c.answer, vehicle)
    moved = next(p.moved for p in c.probes if (p.extra_coaches, p.extra_feeders) == (ec, ef))
    chk = {True: "，计划校验通过", False: "，计划校验发现问题", None: ""}[c.checked]
    return f"{head}：需增加 {_extra_text(c, ec, ef)}，运送 {moved:,} 人{chk}" + (f"。{c.note}" if c.note else "")


def _extra_text(c: CountySizing, ec: int, ef: int) -> str:
    parts = []
    if ec or not ef:
        parts.append(f"{ec} 辆 {c.coach_type} 大巴")
    if ef:
        parts.append(f"{ef} 辆 {c.feeder_type} 接驳车")
    return " + ".join(parts)


# ------------------------------------------------------------------ per-county data and bounds
def _most_common(fleet: pd.DataFrame, modes: dict[str, str], mode: str, county: str, given: str | None) -> str:
    if given:
        if modes.get(given) != mode and not (mode == "coach" and modes.get(given) == "coach"):
            raise SizingError(f"--type {given}：车型表中没有这种{'大巴' if mode == 'coach' else '接驳车'}车型 "
                              f"(no {mode} type {given})")
        return given
    own = fleet[(fleet["county_code"].astype(str) == county) & fleet["type_id"].astype(str).map(modes).eq(mode)]
    if len(own) and own["count"].sum() > 0:
        return str(own.sort_values(["count", "type_id"], ascending=[False, True]).iloc[0]["type_id"])
    every = fleet[fleet["type_id"].astype(str).map(modes).eq(mode)]
    if len(every):
        g = every.groupby("type_id")["count"].sum().sort_values(ascending=False)
        return str(g.index[0])
    return sorted(t for t, m in modes.items() if m == mode)[0]


def _lp(p, county: str, coach_type: str, extra: int) -> tuple[int, int]:
    """(LP bound, train seats usable) of the county with ``extra`` more coaches of ``coach_type``."""
    from planner.solve.bounds import throughput_bound

    fl = p.fleet.copy()
    hit = (fl["county_code"].astype(str) == county) & (fl["type_id"].astype(str) == coach_type)
    if hit.any():
        fl.loc[hit, "count"] = fl.loc[hit, "count"] + extra
    else:
        fl = pd.concat([fl, pd.DataFrame([{"county_code": county, "type_id": coach_type, "count": extra}])],
                       ignore_index=True)
    b = throughput_bound(dataclasses.replace(p, fleet=fl))
    cb = b.counties.get(county)
    return (cb.bound if cb else 0), b.train_seats_usable


def _lp_extra(p, county: str, coach_type: str, target: int, cap: int, start: int = 1) -> int:
    """The fewest extra coaches with which the LP bound reaches ``target`` (``cap`` if never).

    One LP when the fleet as it is suffices (the usual case where feeders bind); otherwise
    doubling from ``start`` (the trips x seats bound) to a bracket, then bisection: a few LPs
    per county, not one per possible fleet size.
    """
    if _lp(p, county, coach_type, 0)[0] >= target:
        return 0
    lo, hi = 0, min(max(1, start), cap)
    while hi < cap and _lp(p, county, coach_type, hi)[0] < target:
        lo, hi = hi, min(cap, 2 * hi)
    if hi >= cap and _lp(p, county, coach_type, cap)[0] < target:
        return cap
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _lp(p, county, coach_type, mid)[0] >= target:
            hi = mid
        else:
            lo = mid
    return hi


def _county_tables(tables: dict, counties: list[str], by: date | None) -> dict:
    """The validated tables with only the workers and fleet rows of ``counties``, ``needed_by`` capped at ``by``."""
    own = dict(tables)
    w = tables["workers"]
    own["workers"] = w[w["county_code"].astype(str).isin(counties)].reset_index(drop=True)
    if by is not None:
        f = tables["factories"].copy()
        f["needed_by"] = f["needed_by"].where(f["needed_by"] <= pd.Timestamp(by), pd.Timestamp(by))
        own["factories"] = f
    fl = tables["fleet"]
    own["fleet"] = fl[fl["county_code"].astype(str).isin(counties)].reset_index(drop=True)
    return own


def _county_setup(p, fleet_all: pd.DataFrame, county: str, *, target: str | float, vehicle: str,
                  coach_type: str | None, feeder_type: str | None) -> CountySizing:
    """What is reachable in ``county``, the target and the bounds, from its group's problem ``p``."""
    from planner.solve.bounds import MOVABLE_REASONS
    from planner.solve.problem import worker_eligibility

    modes = p.vehicle_modes
    ct = _most_common(fleet_all, modes, "coach", county, coach_type)
    ft = _most_common(fleet_all, modes, "feeder", county, feeder_type)
    fl = p.fleet[p.fleet["county_code"].astype(str) == county]
    cnt = fl.assign(t=fl["type_id"].astype(str))
    coaches = int(cnt.loc[cnt["t"] == ct, "count"].sum())
    coaches_all = int(cnt.loc[cnt["t"].map(modes) == "coach", "count"].sum())
    feeders = int(cnt.loc[cnt["t"] == ft, "count"].sum())
    mine = (p.workers["county_code"].astype(str) == county).to_numpy()
    n = int(mine.sum())
    elig = worker_eligibility(p).loc[mine]
    out_of_reach = {str(k): int(v) for k, v in elig.loc[~elig["reason"].isin(MOVABLE_REASONS), "reason"]
                    .value_counts().items()}
    big = max(1, n)
    reachable, train_seats = _lp(p, county, ct, big)
    movable = int(elig["reason"].isin(MOVABLE_REASONS).sum())
    if movable > reachable:
        out_of_reach["no_possible_day"] = movable - reachable  # proof lapses / needed_by before any vehicle arrives
    if target == "all":
        tgt = reachable
    else:
        tgt = math.ceil(float(target) * reachable - 1e-9)
    # the simple bound: trips per coach x seats, trains at most their usable seats
    rt_days, seats, trips = _round_trip(p, county, ct)
    need_coach = max(0, tgt - train_seats)
    simple = max(0, math.ceil(need_coach / max(1, trips * seats)) - coaches_all) if trips else 0
    lp_extra = 0 if vehicle == "feeder" else _lp_extra(p, county, ct, tgt, big, start=max(1, simple))
    simple = simple if vehicle != "feeder" else 0
    phase = "coach" if vehicle == "coach" else "feeder"
    fixed = max(lp_extra, simple) if vehicle == "both" else 0
    return CountySizing(county, ct, ft, coaches, coaches_all, feeders, phase, fixed, n, reachable, out_of_reach, tgt,
                        lp_extra, simple, rt_days, seats, trips, train_seats)


def _round_trip(p, county: str, coach_type: str) -> tuple[float, int, int]:
    """(shortest round trip in days, most seats a coach of the type may sell, most trips one coach can make).

    The round trip is out to the nearest of the county's workers' factories (great-circle km from
    any of the county's villages and hubs, at the fastest speed, with the driver rests:
    :func:`planner.solve.bounds.trip_hours_lower`), the turnaround and the rest after the empty
    return when the factory is in another province, and back. One coach's departures lie at
    least a round trip apart, between the first departure clock of the first day and the last
    departure clock of the last day, so it makes at most ``1 + floor(span / round trip)`` trips.
    """
    from planner.rules.geo import haversine_km
    from planner.solve.bounds import trip_hours_lower
    from planner.solve.problem import LEVELS

    seats = max(p.seats_for(coach_type, p.sc.occupancy.rule_for(lv, d)) for lv in LEVELS[:3] for d in p.days)
    w = p.workers[p.workers["county_code"].astype(str) == county]
    facs = p.factories.loc[p.factories.index.intersection(w["factory_id"].astype(str).unique())]
    places = p.villages.loc[p.villages.index.intersection(w["village_code"].astype(str).unique())]
    hubs = p.hubs[p.hubs["county_code"].astype(str) == county]
    lon = list(places["lon"]) + list(hubs["lon"])
    lat = list(places["lat"]) + list(hubs["lat"])
    if not len(facs) or not lon:
        return 0.0, seats, 0
    fl = p.sc.fleet
    best = float("inf")
    for fid, f in facs.iterrows():
        km = min(float(haversine_km(a, b, float(f["lon"]), float(f["lat"]))) for a, b in zip(lon, lat))
        away = str(f["county_code"])[:2] != county[:2]
        stay = (fl.turnaround_h + fl.rest_after_return_h) if (fl.empty_return and away) else 0.0
        best = min(best, 2 * float(trip_hours_lower([km], p)[0]) + stay)
    first = min(fl.coach_depart_time, fl.direct_first_pickup_time)
    span_h = (len(p.days) - 1) * 24 + (fl.latest_coach_depart_time.hour - first.hour
                                       + (fl.latest_coach_depart_time.minute - first.minute) / 60)
    trips = 1 + int(span_h // best) if best > 0 else len(p.days) * 24
    return round(best / 24, 2), seats, trips


# ------------------------------------------------------------------ probes
def _county_files(sc, own: dict, by: date | None, raw: dict[str, pd.DataFrame] | None = None
                  ) -> dict[str, pd.DataFrame]:
    """The county's rows of the workers and fleet files as written (text), factories' needed_by capped at ``by``.

    Rows are picked by their file row (``_row``) among the validated rows of the county, so the files
    keep their own spelling of every cell. ``raw``: the base tables as text with ``_row``, read once
    for every county (:func:`_raw_tables`).
    """
    raw = raw if raw is not None else _raw_tables(sc, by)
    out = {}
    for name in ("workers", "fleet"):
        t = raw[name]
        out[name] = t[t["_row"].isin(set(own[name]["_row"]))].drop(columns="_row").reset_index(drop=True)
    if by is not None:
        t = raw["factories"].copy()
        late = set(own["factories"].loc[own["factories"]["needed_by"] > pd.Timestamp(by), "_row"])
        t.loc[t["_row"].isin(late), "needed_by"] = by.isoformat()
        out["factories"] = t.drop(columns="_row")
    if "train_services" in own and "train_services" in raw:
        t = raw["train_services"]
        out["train_services"] = t[t["_row"].isin(set(own["train_services"]["_row"]))].drop(columns="_row")
    return out


def own_station_services(tables: dict, counties: list[str]) -> pd.DataFrame:
    """The train services leaving from rail stations of ``counties`` (hubs' ``county_code``).

    Train seats are booked across counties before any county is planned (any worker within
    feeder reach of the station may take them), so sizing counties one by one with every
    service would credit the same seats to each neighbour of a station. With several counties
    every service is credited to one county only, the county of its origin station: a county
    is sized with the trains from its own stations (a bureau's request is then enough even if a
    neighbour's workers take no seat at its stations).
    """
    svc = tables.get("train_services")
    if svc is None or not len(svc):
        return svc
    hubs = tables["hubs"]
    of = dict(zip(hubs["hub_id"].astype(str), hubs["county_code"].astype(str)))
    return svc[svc["origin_station_id"].astype(str).map(of).isin(counties)].reset_index(drop=True)


def _raw_tables(sc, by: date | None) -> dict[str, pd.DataFrame]:
    """The base's workers and fleet (and factories with ``by``) files as text cells with ``_row``."""
    from planner.variant import read_base_table

    names = ("workers", "fleet", "train_services") + (("factories",) if by is not None else ())
    return {name: read_base_table(sc, name, keep_rows=True) for name in names}


def plan_probe(plan, county: str, extra: tuple[int, int], plan_dir: str, cpu_s: float, scenario: str = "") -> Probe:
    """The probe a plan (:class:`planner.plan_format.PlanFiles`, or anything with ``workers``, ``trips`` and
    ``legs`` tables) stands for: the county's workers moved, why the rest stay, and the people one
    coach and one feeder bus moved (riders / vehicles used)."""
    from planner.sizing_probe import probe_counts

    moved, reasons, per = probe_counts({"workers": plan.workers, "trips": plan.trips, "legs": plan.legs}, county)
    return Probe(county, extra[0], extra[1], moved, reasons, plan_dir, cpu_s, per, scenario)


def _newton_below(done: dict[int, Probe], lo: int, target: int) -> int | None:
    """The step where the slope of the two highest probes short of the target reaches it (None without two)."""
    below = sorted(k for k in done if k <= lo and done[k].moved < target)
    if len(below) < 2 or done[below[-1]].moved <= done[below[-2]].moved:
        return None
    a, b = below[-2], below[-1]
    slope = (done[b].moved - done[a].moved) / (b - a)
    return b + math.ceil((target - done[b].moved) / slope)


def _first_jump(c: CountySizing, p0: Probe) -> int | None:
    """Steps to the target from the 0-extra probe: people short / people one vehicle of the kind moved there.

    Only the people short for the kind's own reasons count (``no_feeder_in_time`` for feeders, the
    coach reasons for coaches), at most the people short of the target; the people a vehicle moves
    are the probe's riders of the kind over the vehicles of the kind it used (``Probe.per_vehicle``).
    None when either is unknown or zero. Right for coaches (a coach-bound county has every coach on
    the road all window); for feeder buses it undershoots: on the demo one more feeder adds 25-100
    people where a feeder moved 290 (and 12 per feeder-day, ``per_vehicle["feeder_day"]``, would
    overshoot), which is why the search without a base plan probes two points first and takes the
    slope between them.
    """
    kinds = FEEDER_REASONS if c.phase == "feeder" else COACH_REASONS
    short = min(c.target - p0.moved, sum(p0.reasons.get(k, 0) for k in kinds))
    per = p0.per_vehicle.get(c.phase, 0.0)
    if short <= 0 or per <= 0:
        return None
    return max(1, math.ceil(short / per))


def _next_points(c: CountySizing, slots: int, vehicle: str, tolerance: int, cap: int,
                 gain_tolerance: int = 0) -> list[int]:
    """The search steps to try next for county ``c`` (empty when its search is over).

    Bracketing puts the first point where the slope of the two highest probes short of the target
    reaches it (a Newton step from below) and the next one step lower, so that one round often
    closes the bracket; the rest are spread evenly. ``gain_tolerance`` people: the search stops when
    the bracket's two ends differ by fewer people than that (the answer is the upper end).
    """
    done = _phase_probes(c)
    ok = sorted(k for k, p in done.items() if p.moved >= c.target)
    lb = c.coach_bound if c.phase == "coach" else 0
    fail = [k for k, p in done.items() if p.moved < c.target]
    lo = max([lb - 1, *[k for k in fail if not ok or k < ok[0]]])
    if ok:
        hi = ok[0]
        if hi - lo <= max(1, tolerance):
            return []
        if gain_tolerance and lo in done and done[hi].moved - done[lo].moved < gain_tolerance:
            return []
        pts: list[int] = []
        est = _newton_below(done, lo, c.target)
        if est is not None and lo < est < hi:
            pts = [est, est - 1] if est - 1 > lo else [est, est + 1]
            pts = [k for k in pts if lo < k < hi and k not in done][:slots]
        even = [lo + max(1, round((hi - lo) * i / (slots + 1))) for i in range(1, slots + 1)]
        for k in even:
            if len(pts) < slots and lo < k < hi and k not in done and k not in pts:
                pts.append(k)
        return sorted(pts)
    if not done:
        jump = max(1, math.ceil(0.1 * max(c.coaches_all if c.phase == "coach" else c.feeders, 1)))
        return [lb + i * jump for i in range(slots)]
    ks = sorted(done)
    if len(ks) == 1:
        k1 = _first_jump(c, done[ks[0]])
        if k1 is not None:
            # the estimate and, with a second slot, one step below it: one round can close the bracket
            est = ks[0] + k1
            pts = [k for k in range(est - (slots > 1), est + slots) if k > ks[0]][:slots]
            return sorted({min(cap, max(lb, k)) for k in pts} - set(done))
    if len(ks) >= 2 and lo >= cap:
        return []
    # stop when the planner gains nothing more from two steps up in a row
    gains = [done[b].moved - done[a].moved for a, b in zip(ks, ks[1:])]
    if len(gains) >= 2 and gains[-1] <= 0 and gains[-2] <= 0:
        return []
    # extrapolate the last slope to the target, a quarter beyond (returns diminish)
    top = ks[-1]
    if len(ks) >= 2 and done[ks[-1]].moved > done[ks[-2]].moved:
        slope = (done[ks[-1]].moved - done[ks[-2]].moved) / (ks[-1] - ks[-2])
        guess = top + math.ceil(1.25 * (c.target - done[top].moved) / slope)
    else:
        guess = 2 * top + 1
    guess = min(max(guess, top + 1), cap)
    step = max(1, guess - top)
    return sorted({min(cap, top + step * (i + 1)) for i in range(slots)} - set(done))


def _phase_probes(c: CountySizing) -> dict[int, Probe]:
    """The probes of the current phase (the other kind at ``c.fixed``), by step."""
    if c.phase == "coach":
        return {p.extra_coaches: p for p in c.probes if p.extra_feeders == c.fixed}
    return {p.extra_feeders: p for p in c.probes if p.extra_coaches == c.fixed}


def _step(c: CountySizing, p: Probe, vehicle: str = "") -> int:
    return p.extra_feeders if c.phase == "feeder" else p.extra_coaches


@dataclass
class GroupSpec:
    """Everything one county group's search needs (picklable: it may run in another process or on dask)."""

    key: str
    counties: list[str]
    base: str  # the base scenario file
    folder: str  # where the group's variant scenario is written
    tables: dict[str, pd.DataFrame] | None  # the group's rows of the changed files (text); None: the base as is
    fleet_all: pd.DataFrame  # the base fleet of every county (for the most common type)
    plans: str
    target: str | float
    vehicle: str
    coach_type: str | None
    feeder_type: str | None
    tolerance: int
    gain_tolerance: int
    max_rounds: int
    base_probes: dict[str, Probe] = field(default_factory=dict)


def _hold(c: CountySizing) -> int:
    """The step a county of a group stays at in a probe that searches another county of the group."""
    done = _phase_probes(c)
    if c.answer is not None:
        return c.answer
    ok = [k for k, p in done.items() if p.moved >= c.target]
    if ok:
        return min(ok)
    return max(done, default=0)


def _size_group(spec: GroupSpec, processes: int = 1, say: Callable[[str], None] | None = None,
                validated: tuple | None = None) -> list[CountySizing]:
    """Search one group of counties (one county, or counties sharing a terminal) to its answers.

    The group's data are read and prepared once (:func:`planner.sizing_probe.prepare_group`);
    each round asks every county still searching for its next steps and plans them with the
    real planner, ``processes`` probes at a time in forked processes that inherit the prepared
    problem. A county of a group is probed with the others at their current step (:func:`_hold`),
    so a shared terminal's capacity is shared in every probe. Returns the group's sizings, their
    answers' plans checked.
    """
    from planner import sizing_probe as sp
    from planner.variant import write_variant

    say = say or (lambda _m: None)
    if spec.tables is None:  # the scenario is this one county as it is: no variant, its validation reused
        g = sp.prepare_group(spec.key, spec.counties, spec.base, validated=validated)
    else:
        v = write_variant(spec.base, f"county{spec.key}", {}, folder=spec.folder, tables=spec.tables,
                          overwrite=True)
        g = sp.prepare_group(spec.key, spec.counties, str(v.path))
    g.folder = spec.folder
    sp.PROBLEMS[spec.key] = g
    pool = None
    try:
        sizings = [_county_setup(g.problem, spec.fleet_all, c, target=spec.target, vehicle=spec.vehicle,
                                 coach_type=spec.coach_type, feeder_type=spec.feeder_type) for c in spec.counties]
        for c in sizings:
            if c.target == 0:
                c.note = "没有可达的务工人员，无需车辆 (nobody reachable)"
            if c.county in spec.base_probes:
                c.probes.append(spec.base_probes[c.county])
                say(f"  区县 {c.county} 沿用基准方案 (base plan reused)：运送 {c.probes[-1].moved:,}/{c.target:,}")
        active = [c for c in sizings if c.target > 0]
        if processes > 1:
            import multiprocessing as mp

            pool = ProcessPoolExecutor(processes, mp_context=mp.get_context("fork"))
        for rnd in range(spec.max_rounds):
            live = [c for c in active if c.answer is None and not c.note]
            if not live:
                break
            slots = max(1, processes // len(live))
            asked: dict[str, list[int]] = {}
            for c in live:
                pts: list[int] = []
                while True:
                    cap = max(4 * (c.coaches_all if c.phase == "coach" else c.feeders) + 8, 2 * c.coach_bound + 8)
                    pts = _next_points(c, slots, spec.vehicle, spec.tolerance, cap, spec.gain_tolerance)
                    if pts or not _finish(c, spec.vehicle):
                        break
                if pts:
                    asked[c.county] = pts
            n = max((len(v) for v in asked.values()), default=0)
            if not n:
                break
            jobs = []
            for j in range(n):
                extra = {c.county: c.extra(asked[c.county][j] if j < len(asked.get(c.county, [])) else _hold(c))
                         for c in sizings}
                counts = {c.county: {c.coach_type: c.coaches + extra[c.county][0],
                                     c.feeder_type: c.feeders + extra[c.county][1]} for c in sizings}
                mine = {c.county: c.target for c in sizings if j < len(asked.get(c.county, []))}
                jobs.append((mine, (spec.key, counts, extra, mine, spec.plans)))
            say(f"第 {rnd + 1} 轮试算 (round): " + ", ".join(
                "/".join(f"{c}+{a[2][c][0]}/{a[2][c][1]}" for c in mine) for mine, a in jobs))
            if pool is None:
                results = [sp.run_probe(*a) for _m, a in jobs]
            else:
                results = list(pool.map(_run_probe_star, [a for _m, a in jobs]))
            for (mine, _a), r in zip(jobs, results):
                for c in sizings:
                    if c.county not in mine:
                        continue
                    ec, ef = r.extra[c.county]
                    reached = r.moved[c.county] >= c.target
                    c.probes.append(Probe(c.county, ec, ef, r.moved[c.county], r.reasons[c.county],
                                          r.plan_dir if reached else "", r.cpu_s, r.per_vehicle[c.county],
                                          r.scenario if reached else ""))
                    say(f"  区县 {c.county} +{ec} 大巴 +{ef} 接驳车：运送 {r.moved[c.county]:,}/{c.target:,} "
                        f"({r.cpu_s:.0f} CPU 秒)")
        for c in active:
            if c.answer is None and not c.note:
                _finish(c, spec.vehicle)
    finally:
        if pool is not None:
            pool.shutdown()
        sp.PROBLEMS.pop(spec.key, None)
    _check_answers(sizings, spec.vehicle, say)
    return sizings


def _run_probe_star(args: tuple):
    from planner.sizing_probe import run_probe

    return run_probe(*args)


def _size_group_task(spec: GroupSpec, verbose: bool = False) -> list[CountySizing]:
    """One group searched in a worker process or on a dask worker (its probes one at a time).

    ``verbose``: progress lines on this process's standard error, prefixed with the group.
    """
    def say(m: str) -> None:
        print(f"  … [{spec.key}] {m}", file=sys.stderr, flush=True)

    return _size_group(spec, 1, say if verbose else None)


def size_fleet(scenario: str | Path, out: str | Path, *, target: str | float = "all",
               counties: Sequence[str] | None = None, by: date | None = None, vehicle: str = "coach",
               coach_type: str | None = None, feeder_type: str | None = None, processes: int = 1, tolerance: int = 1, max_rounds: int = 12,
               gain_tolerance: int = 0, base_plan: str | Path | None = None, scheduler: str | None = None,
               progress: Callable[[str], None] | None = None) -> SizingResult:
    """Size the fleet of each county of ``scenario`` (see the module docstring); write the files into ``out``.

    ``base_plan``: a plan directory of ``scenario`` as it is (one county, no ``by``) that stands for the
    0-extra probe instead of planning it again; its scenario checksum must match. ``gain_tolerance``:
    stop bisecting when the bracket's ends differ by fewer people (see :func:`_next_points`).

    Counties are grouped by terminal (:func:`planner.sizing_probe.terminal_groups`). One group: its
    probes run ``processes`` at a time. Several groups: each group is searched whole in one of
    ``processes`` worker processes, or on the dask cluster at ``scheduler`` (the same groups and
    the same answers either way).
    """
    from planner.loader import load_and_validate
    from planner.sizing_probe import terminal_groups

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    if vehicle not in VEHICLES:
        raise SizingError(f"--vehicle {vehicle}：只能是 coach、feeder 或 both")
    if target != "all" and not (0 < float(target) <= 1):
        raise SizingError(f"--target {target}：须为 all 或 0 到 1 之间的比例，如 0.98 (target must be all or a share)")
    sc, val = load_and_validate(scenario, progress=progress)
    val.raise_for_scenario()
    tables = val.tables
    have = sorted(set(tables["workers"]["county_code"].astype(str)))
    wanted = list(counties) if counties else have
    unknown = [c for c in wanted if c not in have]
    if unknown:
        raise SizingError(f"--county：情景中没有这些区县的务工人员 (no workers of county) {', '.join(unknown)}")
    if coach_type or feeder_type:  # a type that is not of its kind is refused before anything is planned
        modes = {str(t): str(m) for t, m in zip(tables["vehicle_types"]["type_id"], tables["vehicle_types"]["mode"])}
        for given, mode in ((coach_type, "coach"), (feeder_type, "feeder")):
            if given:
                _most_common(tables["fleet"], modes, mode, wanted[0], given)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base_path = Path(scenario).resolve()
    base_probes: dict[str, Probe] = {}
    if base_plan is not None:
        base_probes = _reuse_base_plan(Path(base_plan), sc, have, by)
    groups = terminal_groups(tables["hubs"], wanted)
    raw = _raw_tables(sc, by) if len(have) > 1 or by is not None else {}
    specs = []
    for group in groups:
        key = "-".join(group)
        own = _county_tables(tables, group, by)
        if len(have) > 1 and "train_services" in tables:
            own["train_services"] = own_station_services(tables, group)
        folder = out / "counties" / key
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        alone = len(have) == 1 and by is None  # the scenario is this county: planned as it is
        specs.append(GroupSpec(key, group, str(base_path), str(folder), None if alone else _county_files(sc, own, by, raw),
                               tables["fleet"], str(out / "plans" / key), target, vehicle, coach_type, feeder_type,
                               tolerance, gain_tolerance, max_rounds,
                               {c: p for c, p in base_probes.items() if c in group}))
    del raw
    sizings: list[CountySizing] = []
    if scheduler:
        from concurrent.futures import as_completed

        from planner.solve.cluster import dask_executor

        with dask_executor(scheduler) as (executor, _scatter):
            futures = {executor.submit(_size_group_task, s): s for s in specs}
            for fut in as_completed(futures):
                sizings += fut.result()
                say(f"区县组 {futures[fut].key} 完成 (group done)")
    elif len(specs) > 1 and processes > 1:
        import multiprocessing as mp
        from concurrent.futures import as_completed

        with ProcessPoolExecutor(min(processes, len(specs)), mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_size_group_task, s, progress is not None): s for s in specs}
            for fut in as_completed(futures):
                sizings += fut.result()
                say(f"区县组 {futures[fut].key} 完成 (group done)")
    else:
        for s in specs:
            say(f"区县 {s.key}：可达人数与运力下界 (reachable workers and bounds)")
            sizings += _size_group(s, processes, say, validated=(sc, val))
    order = {c: i for i, c in enumerate(wanted)}
    sizings.sort(key=lambda c: order[c.county])
    res = SizingResult(out, vehicle, "全部可达人员" if target == "all" else f"{float(target):.1%}", sizings,
                       time.perf_counter() - t0)
    res.files = write_outputs(res, sc)
    return res


def _reuse_base_plan(path: Path, sc, have: list[str], by: date | None) -> dict[str, Probe]:
    """The already planned base scenario as the 0-extra probe of its one county."""
    from planner.plan_format import read_plan

    if len(have) != 1 or by is not None:
        raise SizingError("--base-plan 只适用于只有一个区县且未给 --by 的情景 (one county, no --by)")
    try:
        plan = read_plan(path)
    except Exception as e:  # noqa: BLE001 - any unreadable plan is a bad request, named
        raise SizingError(f"--base-plan {path}：无法读取方案 (cannot read the plan): {e}") from e
    if plan.summary.get("scenario", {}).get("checksum") != sc.checksum:
        raise SizingError(f"--base-plan {path}：方案不是由此情景文件生成的 (plan of another scenario file)")
    return {have[0]: plan_probe(plan, have[0], (0, 0), str(path), 0.0, str(sc.source_path))}


def _finish(c: CountySizing, vehicle: str) -> bool:
    """Take the answer from the probes of the phase: the fewest steps that reached the target.

    Returns True when the search goes on in another phase (``both``: feeders stopped gaining,
    now coaches, with the fewest feeders that moved the most).
    """
    done = _phase_probes(c)
    ok = sorted(k for k, p in done.items() if p.moved >= c.target)
    if ok:
        c.answer, c.reached = ok[0], True
        return False
    if not done:
        return False
    if vehicle == "both" and c.phase == "feeder":
        top = max(p.moved for p in done.values())
        c.phase, c.fixed = "coach", min(k for k, p in done.items() if p.moved == top)
        return True
    best = max(done.values(), key=lambda p: p.moved)
    short = c.target - best.moved
    kinds = COACH_REASONS if vehicle == "coach" else FEEDER_REASONS if vehicle == "feeder" else ()
    stuck = {k: v for k, v in best.reasons.items() if k not in c.out_of_reach}
    top = "，".join(f"{_reason(k)} {v:,}" for k, v in sorted(stuck.items(), key=lambda kv: -kv[1])[:4])
    hint = ""
    if vehicle == "coach" and best.reasons.get("no_feeder_in_time", 0) > 0:
        hint = "：接驳车不足，可用 --vehicle feeder 或 both 增加接驳车"
    elif kinds and not any(best.reasons.get(k, 0) for k in kinds):
        hint = "：剩余的人不是因缺少此类车辆而未走"
    c.note = f"增加{VEHICLE_ZH[vehicle]}后规划器不再多运，仍差 {short:,} 人（{top}）{hint}"
    return False


def _reason(code: str) -> str:
    from planner.vocab import reason_label

    return "证明失效或用工日期前任何车辆都无法送达" if code == "no_possible_day" else reason_label(code)


def _check_answers(sizings: list[CountySizing], vehicle: str, say: Callable[[str], None]) -> None:
    """Run the checker on each answer's plan (against its own variant scenario)."""
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    for c in sizings:
        if c.answer is None:
            continue
        ec, ef = c.extra(c.answer, vehicle)
        probe = next(p for p in c.probes if (p.extra_coaches, p.extra_feeders) == (ec, ef))
        say(f"区县 {c.county}：校验答案的计划 (checking the answer's plan)")
        c.checked = check_plan_dir(Path(probe.plan_dir), load_scenario(probe.scenario)).ok


# ------------------------------------------------------------------ outputs
def _atomic_csv(df: pd.DataFrame, path: Path) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _atomic_text(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` through a temporary file renamed over it (never half-written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def curve_frame(res: SizingResult) -> pd.DataFrame:
    """One row per probe: county, extra coaches, extra feeders, workers moved, share of the target."""
    rows = [{"county": c.county, "extra_coaches": p.extra_coaches, "extra_feeders": p.extra_feeders,
             "workers_moved": p.moved, "target": c.target, "reachable": c.reachable,
             "share": round(p.moved / c.reachable, 4) if c.reachable else 1.0, "reached": p.moved >= c.target}
            for c in res.counties for p in c.probes]
    df = pd.DataFrame(rows, columns=["county", "extra_coaches", "extra_feeders", "workers_moved", "target",
                                     "reachable", "share", "reached"])
    return df.sort_values(["county", "extra_coaches", "extra_feeders"], kind="stable").reset_index(drop=True)


def sizing_frame(res: SizingResult) -> pd.DataFrame:
    """One row per county: the answer and what it rests on."""
    rows = []
    for c in res.counties:
        ec, ef = c.extra(c.answer, res.vehicle) if c.answer is not None else (None, None)
        moved = next((p.moved for p in c.probes if (p.extra_coaches, p.extra_feeders) == (ec, ef)), None)
        rows.append({"county": c.county, "coach_type": c.coach_type, "coaches_now": c.coaches_all,
                     "feeder_type": c.feeder_type, "feeders_now": c.feeders, "extra_coaches": ec,
                     "extra_feeders": ef, "workers_read": c.read, "reachable": c.reachable, "target": c.target,
                     "workers_moved": moved, "reached": c.reached, "lp_bound_extra_coaches": c.lp_extra,
                     "simple_bound_extra_coaches": c.simple_extra, "round_trip_days": c.round_trip_days,
                     "seats_per_coach": c.seats_per_coach, "trips_per_coach": c.trips_per_coach,
                     "train_seats_usable": c.train_seats, "probes": len(c.probes), "checker_ok": c.checked,
                     "plan_dir": next((p.plan_dir for p in c.probes if (p.extra_coaches, p.extra_feeders) == (ec, ef)),
                                      ""), "note": c.note})
    return pd.DataFrame(rows)


def report_markdown(res: SizingResult, sc) -> str:
    """The Chinese report: the answer per county and what it rests on."""
    from planner.vocab import OCCUPANCY_RULE_LABELS

    occ = sc.occupancy
    rule = f"低风险 {OCCUPANCY_RULE_LABELS[occ.low]}，中风险 {OCCUPANCY_RULE_LABELS[occ.medium]}，高风险 {OCCUPANCY_RULE_LABELS[occ.high]}"
    if occ.low_relaxed_from:
        rule += f"；{occ.low_relaxed_from} 起低风险 {OCCUPANCY_RULE_LABELS[occ.low_relaxed_rule]}"
    lines = [f"# 车队测算报告：{sc.name}", "",
             f"- 规划期：{sc.window.start} 至 {sc.window.end}（{len(sc.window.days)} 天）",
             f"- 目标：{res.target_label}；增加的车辆：{VEHICLE_ZH[res.vehicle]}",
             f"- 载客规则：{rule}；大巴最后 {occ.coach_isolation_rows} 排留观",
             f"- 空驶返回：{'是' if sc.fleet.empty_return else '否'}，目的地周转 {sc.fleet.turnaround_h:g} 小时，"
             f"返回后休息 {sc.fleet.rest_after_return_h:g} 小时",
             f"- 用时 {res.seconds:.0f} 秒", "", "## 各区县结果", ""]
    for c in res.counties:
        lines.append(f"### 区县 {c.county}")
        lines.append("")
        lines.append("- " + _county_line(c, res.vehicle))
        lines.append(f"- 现有车辆：大巴 {c.coaches_all} 辆（增加的车型 {c.coach_type}），接驳车 {c.feeders} 辆（{c.feeder_type}）")
        lines.append(f"- 依据：最短往返 {c.round_trip_days:g} 天（含空驶返回与休息），每辆 {c.coach_type} 最多可售 "
                     f"{c.seats_per_coach} 座，规划期内每辆车最多 {c.trips_per_coach} 趟；专列可用座位 {c.train_seats:,}")
        lines.append(f"- 下界：线性规划运力上界表明至少需增加 {c.lp_extra} 辆大巴；按“趟数×座位”至少需增加 "
                     f"{c.simple_extra} 辆。任何计划都不能少于此数。")
        why = _why_fewest(c)
        if why:
            lines.append(f"- 为何是最少：{why}")
        if c.out_of_reach:
            lines.append("- 不计入目标（任何车辆都无法运送）：" + "，".join(
                f"{_reason(k)} {v:,} 人" for k, v in sorted(c.out_of_reach.items(), key=lambda kv: -kv[1])))
        if c.probes:
            lines.append("- 试算（真实规划器）：" + "；".join(
                f"+{p.extra_coaches} 大巴 +{p.extra_feeders} 接驳车 → {p.moved:,} 人"
                for p in sorted(c.probes, key=lambda p: (p.extra_coaches, p.extra_feeders))))
        lines.append("")
    lines += ["## 说明", "",
              "答案是真实规划器在增加车辆后的计划（见 plans/ 目录，已经校验），不是估算；"
              "各区县独立测算（包车只从本区县出发）。规划器是启发式的，二分查找假定车辆越多运送的人不会越少。", ""]
    return "\n".join(lines)


def _why_fewest(c: CountySizing) -> str:
    """Why the answer cannot be smaller: it equals the bound, or the probe one vehicle fewer fell short."""
    if c.answer is None:
        return ""
    kind = "大巴" if c.phase == "coach" else "接驳车"
    lb = c.coach_bound if c.phase == "coach" else 0
    if c.answer == lb:
        return (f"增加的{kind}数等于下界，任何计划都不能更少" if c.phase == "coach" or lb == 0 and c.answer == 0
                else "")
    fewer = _phase_probes(c).get(c.answer - 1)
    if fewer is not None:
        return f"少一辆{kind}时真实规划器只运送 {fewer.moved:,} 人，未达到目标 {c.target:,} 人"
    below = [k for k, p in _phase_probes(c).items() if k < c.answer and p.moved < c.target]
    if below:
        return f"增加 {max(below)} 辆{kind}时未达到目标；答案精度为 {c.answer - max(below)} 辆（--tolerance）"
    return ""


def write_outputs(res: SizingResult, sc) -> list[Path]:
    """curve.csv, sizing.csv and 报告.md in ``res.out`` (each written atomically)."""
    out = res.out
    files = [_atomic_csv(curve_frame(res), out / "curve.csv"), _atomic_csv(sizing_frame(res), out / "sizing.csv")]
    files.append(_atomic_text(report_markdown(res, sc), out / "报告.md"))
    return files


# ------------------------------------------------------------------ command line
def register_size_fleet(sub: argparse._SubParsersAction) -> None:
    """Add ``planner size-fleet`` to the command's subparsers."""
    s = sub.add_parser("size-fleet", help="测算各区县需增加的车辆 (how many more coaches/feeders each county needs)")
    s.add_argument("scenario", help="情景文件 (.toml)")
    s.add_argument("--out", required=True, help="输出目录：curve.csv、sizing.csv、报告.md、plans/ (output folder)")
    s.add_argument("--target", default="all", help="all（全部可达人员，默认）或比例如 0.98 (all or a share)")
    s.add_argument("--county", action="append", metavar="区县代码", help="只测算这些区县，可重复 (repeatable)")
    s.add_argument("--by", metavar="日期", help="须在此日期前送达 (YYYY-MM-DD; default each factory's needed_by)")
    s.add_argument("--vehicle", choices=VEHICLES, default="coach", help="增加的车辆 (coach, feeder or both)")
    s.add_argument("--type", dest="coach_type", metavar="车型", help="增加的大巴车型（默认本区县最多的车型）")
    s.add_argument("--feeder-type", metavar="车型", help="增加的接驳车车型")
    s.add_argument("--processes", type=int, default=1, help="并行进程数 (worker processes)")
    s.add_argument("--tolerance", type=int, default=1, help="答案的精度（辆），默认 1 即最少车辆数")
    s.add_argument("--gain-tolerance", type=int, default=0, help="两次试算相差不足此人数时停止细分（默认 0 不用）")
    s.add_argument("--base-plan", help="已生成的基准方案目录，作为不加车的试算（仅单区县情景）")
    s.add_argument("--scheduler", default=None,
                   help="dask 调度器地址，各区县在集群上测算 (dask.distributed scheduler address, e.g. tcp://host:8786)")
    s.set_defaults(func=cmd_size_fleet)


def cmd_size_fleet(args: argparse.Namespace) -> int:
    """Handler of ``planner size-fleet``."""
    target: str | float = args.target
    if target != "all":
        try:
            target = float(target)
        except ValueError:
            print(f"错误 (error): --target {args.target!r} 须为 all 或比例如 0.98", file=sys.stderr)
            return 2
    by = None
    if args.by:
        try:
            by = date.fromisoformat(args.by)
        except ValueError:
            print(f"错误 (error): --by {args.by!r} 不是有效日期 YYYY-MM-DD", file=sys.stderr)
            return 2
    if args.processes < 1 or args.tolerance < 1:
        print("错误 (error): --processes 与 --tolerance 须为正整数", file=sys.stderr)
        return 2
    res = size_fleet(args.scenario, args.out, target=target, counties=args.county, by=by, vehicle=args.vehicle,
                     coach_type=args.coach_type, feeder_type=args.feeder_type,
                     processes=args.processes, tolerance=args.tolerance,
                     gain_tolerance=max(0, args.gain_tolerance), base_plan=args.base_plan,
                     scheduler=args.scheduler,
                     progress=lambda m: print(f"  … {m}", file=sys.stderr, flush=True))
    print(res.text())
    return 0 if all(c.reached or c.target == 0 for c in res.counties) else 1
