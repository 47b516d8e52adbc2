"""Domain rules shared by the solver and the checker: seat patterns, driving, distances.

- :mod:`planner.rules.seats`: seat layouts and the seats each occupancy rule allows;
- :mod:`planner.rules.driving`: drivers needed and the timing of a drive under the
  driver working-time rules (plus an independent re-check of a schedule);
- :mod:`planner.rules.geo`: great-circle distances, distance matrices, road estimates.

These modules define what the rules *mean* (which seats a pattern allows, how far
two places are, when a coach may drive); the solver plans with them and the checker
verifies plans against them, each in its own code.
"""
