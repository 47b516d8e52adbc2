"""Write docs/plan-format.md from planner/plan_format.py and planner/vocab.py, so the doc never drifts.

Run: .venv/bin/python tools/gen_plan_format_doc.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.plan_format import (  # noqa: E402
    FORMAT_VERSION, GPKG_FILE, GPKG_LAYERS, PICKUP_KINDS, REPORT_TABLES, REQUIRED_FILES, SUMMARY_KEYS, TABLES,
    TRUNK_MODES,
)
from planner.vocab import OCCUPANCY_RULE_LABELS, RISK_LEVEL_LABELS, UNASSIGNED_REASONS  # noqa: E402

INTRO = f"""# Plan format

`planner plan SCENARIO --out DIR` writes a plan directory. Other tools (the checker,
the documents, the app, a province's own systems) read only these files and the
scenario, never solver internals, so this format is stable: columns are only ever
added, never renamed or removed. Generated from `planner/plan_format.py` (files, columns,
types) and `planner/vocab.py` (reasons, rules, levels) by `tools/gen_plan_format_doc.py`;
the writer formats, and every reader (`read_plan`) types, with the same declarations.
This is format version {FORMAT_VERSION}.

All files are UTF-8 CSV with a header row. Times are ISO 8601 local time with the
offset of Asia/Shanghai, e.g. `2020-02-14T08:00:00+08:00`. Dates are `YYYY-MM-DD`.
Lists inside a cell are `;`-separated. Empty cells mean "not applicable": a missing
value is always an empty cell, never `NaT`, `nan` or `None`.

## What is guaranteed: a plan directory is complete, or it is the previous one
- **Atomic replacement.** The plan is written whole into a hidden staging directory beside
  `DIR` (`.DIR.tmp-<pid>-<random>`), every file fsync'd, `summary.json` last with the sha256
  of every file (`files`). It is read back (every checksum verified) and run through the checker
  (unless `--no-check`)
  there, then exchanged with `DIR` in one
  `rename` (Linux `renameat2(RENAME_EXCHANGE)`), and the parent directory is fsync'd. At every
  instant `DIR` holds either the previous complete plan or the new complete one; a run that is
  killed (even with SIGKILL) or fails leaves the previous plan as it was. The one old copy
  exists only until the exchange is done. (On a file system without the exchange, the old plan
  is renamed aside first; a run killed between the two renames leaves `.DIR.old-<pid>`, which
  the next run on `DIR` puts back before anything else.) Violations the checker finds do not stop
  the swap: the new plan is complete, the report lists them and `planner plan` exits with status 1.
- **One run per directory.** A run holds the lock file `.DIR.lock` beside `DIR` (JSON: `pid`,
  `host`, `started`) for its whole length; a second `planner plan` (or the app) on the same
  `DIR` is refused with a message naming the process that holds it. The lock is an `flock` on
  the open file, which the system releases when the process ends however it ends, so a lock
  file left by a killed run is stale and is taken over by the next run (which says so).
- **The checker's verdict beside the plan.** `planner plan`, `planner check` and the app keep the
  verdict of their last check in `.DIR.check.json` beside `DIR` (JSON: `ok`, `violations`, `text`,
  `checked_at`, `summary_sha256` of the `summary.json` checked, `scenario_checksum` of the scenario
  checked against); the app's first page shows it. It is not part of the plan: a record whose
  `summary_sha256` differs from the plan's, or made against another scenario, is ignored
  (`planner.app.verdict`).
- **Refused targets, before anything is solved.** `--out` naming a file; a non-empty directory
  that is not a plan (no `summary.json` or `trips.csv`); a plan directory holding other files
  (replacing the plan would delete them). Replacing an existing plan is allowed and said so.
- **Readers refuse incomplete or mixed directories.** `read_plan` (documents, app, `planner
  trace`) checks every file listed in `summary.json` against its sha256 and that every required
  file ({", ".join(f"`{f}`" for f in REQUIRED_FILES)}) is listed, and refuses the directory with a
  message naming the file otherwise. `planner check` also reads plans made by other tools without
  a `files` list, and reports that (rule `plan_format`).
- **A plan version has an identity**: `plan_id` (`planner.plan_format.plan_id`) is the first 16 hex
  digits of the sha256 of the `files` list; it changes whenever any plan file changes.
- **Format drift is reported.** The checker reports every cell that does not have its column's type
  (including a literal `NaT` where the format says empty) and every unknown column as
  `plan_format`, and a plan made from another scenario file than the one it is checked against as
  `scenario_mismatch`, before any other finding.

## Place identifiers
| kind | id | example |
|---|---|---|
| village (pick-up point of a feeder or a township-direct coach) | 12-digit village code | `500101105201` |
| hub (county terminal or Chongqing railway station) | `hub_id` of the hubs table | `T500101`, `R-WZB` |
| destination station | `station_id` of the stations table | `S-GZN` |
| factory gate | `factory_id` | `F0042` |
| rest stop at an expressway service area | `REST` (its approximate position is in `plan.gpkg`, layer `rest_stops`) | `REST` |
"""

KIND_NAMES = {"str": "str", "int": "int", "float": "float", "time": "time", "date": "date", "code": "code",
              "place": "place id", "places": "place ids"}


def _kind(col) -> str:
    if col.kind == "enum":
        return ", ".join(f"`{v}`" for v in col.values)
    return KIND_NAMES[col.kind]


def render() -> str:
    """The whole document."""
    out = [INTRO]
    for t in [*TABLES.values(), *REPORT_TABLES.values()]:
        optional = " (optional file)" if t.name in REPORT_TABLES else ""
        out.append(f"## `{t.file}`: {t.title}{optional}")
        out.append(f"Unique key: {' + '.join(f'`{c}`' for c in t.key)}.\n")
        out.append("| column | type | meaning |\n|---|---|---|")
        for c in t.columns:
            meaning = c.meaning + (" (optional: read as empty when absent)" if not c.required else "")
            out.append(f"| `{c.name}` | {_kind(c)} | {meaning.strip()} |")
        if t.note:
            out.append("\n" + t.note)
        out.append("")
    out.append("Reasons for `unassigned` (`planner/vocab.py`):\n")
    out.append("| reason | 中文 | eligible | what the planner can do |\n|---|---|---|---|")
    for r in UNASSIGNED_REASONS.values():
        out.append(f"| `{r.code}` | {r.label} | {'yes' if r.eligible else 'no'} | {r.action} |")
    out.append("\n`eligible`: the worker could travel (proof, job, dates); `summary.json` counts them in "
               "`workers.eligible`.\n")
    out.append("## Occupancy rules and risk levels\n")
    out.append("| `occupancy_rule` | 中文 |\n|---|---|")
    out += [f"| `{k}` | {v} |" for k, v in OCCUPANCY_RULE_LABELS.items()]
    out.append("\n| risk level (strictest last) | 中文 |\n|---|---|")
    out += [f"| `{k}` | {v} |" for k, v in RISK_LEVEL_LABELS.items()]
    out.append("")
    out.append("## Facts derived from a plan\n")
    out.append("Defined once in `planner/plan_format.py` and used by the writer's summary, the documents and the app:\n")
    out.append(f"- **trunk trips** (`trunk_trips`): passenger trips of mode {' or '.join(f'`{m}`' for m in TRUNK_MODES)}"
               " (the inter-provincial vehicles; never feeders or empty returns);")
    out.append(f"- **township-direct coach** (`direct_coach_ids`): a passenger coach trip with people boarding at a stop "
               f"of kind {' or '.join(f'`{k}`' for k in PICKUP_KINDS)}; every other passenger coach is a **hub coach**.\n")
    out.append("## `summary.json`\n")
    out.append("| key | holds |\n|---|---|")
    out += [f"| `{k}` | {v} |" for k, v in SUMMARY_KEYS.items()]
    out.append("")
    out.append(f"## `{GPKG_FILE}`\n")
    out.append("EPSG:4326, for maps.\n")
    out.append("| layer | geometry | attributes |\n|---|---|---|")
    out += [f"| `{g.name}` | {g.geometry} | {g.attributes} |" for g in GPKG_LAYERS]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "plan-format.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
