"""Driver rules on a straight drive: how many drivers, and when the coach arrives.

The timing itself is :func:`planner.rules.route.plan_route`; this module keeps
the one-segment view used for arrival estimates and empty returns.
"""

from __future__ import annotations

from datetime import datetime

from planner.rules.route import RoutePlan, plan_single
from planner.scenario import Drivers


def drivers_needed(distance_km: float, rules: Drivers) -> int:
    """Two drivers when a one-way trip is longer than ``second_driver_km``, else one."""
    return 2 if distance_km > rules.second_driver_km else 1


def plan_drive(depart: datetime, drive_min: float, drivers: int, rules: Drivers) -> RoutePlan:
    """Time a straight drive of ``drive_min`` minutes under the driver rules."""
    return plan_single(depart, drive_min, drivers, rules)
