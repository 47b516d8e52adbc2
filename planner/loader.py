"""From a scenario path to validated tables, generating synthetic data on first use.

Scenarios whose personal data cannot be shipped (the full municipality) carry a
``[synth]`` section instead of worker files; the files are generated from the
seed into a cache folder outside git the first time the scenario is used.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from planner.errors import ScenarioError
from planner.scenario import SYNTH_TABLES, Scenario, load_scenario

log = logging.getLogger(__name__)

Progress = Callable[[str], None] | None


def ensure_synth_data(sc: Scenario, *, progress: Progress = None) -> None:
    """Generate the scenario's synthetic tables into its cache folder if missing."""
    if sc.synth is None:
        return
    specs = sc.file_specs()
    missing = [n for n in SYNTH_TABLES if n in specs and not Path(specs[n].path).exists()]
    needed = [n for n in missing if getattr(sc.data, n) is None]
    if not needed:
        return
    from planner.synth import load_inputs, synthesize

    s = sc.synth
    if progress:
        progress(f"首次使用：按种子 {s.seed} 生成 {s.total_workers:,} 名虚构务工人员 (generating synthetic data)")
    inputs = load_inputs(sc.resolve(s.geodata_dir))
    data = synthesize(
        *inputs,
        seed=s.seed,
        total_workers=s.total_workers,
        counties=s.counties,
        window_start=sc.window.start,
        window_end=sc.window.end,
        n_factories=s.n_factories,
        workers_per_coach=s.workers_per_coach,
        workers_per_feeder=s.workers_per_feeder,
        progress=progress,
    )
    out = sc.synth_dir()
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    data.write(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.replace(out)  # appear whole or not at all: a stopped run leaves no half cache
    log.info("synthetic data written to %s", out)


def load_and_validate(scenario_path: str | Path, *, progress: Progress = None,
                      data_root: str | Path | Sequence[str | Path] | None = None):
    """Load a scenario, make sure its data exists, validate every table.

    With ``data_root`` every data path must resolve inside it (see
    :func:`planner.scenario.confine_paths`), checked before anything is read.
    Returns the scenario and the :class:`planner.validate.ValidationResult`.
    """
    from planner.validate import validate_scenario

    sc = load_scenario(scenario_path, data_root=data_root)
    if sc.roads.network is not None and not sc.resolve(sc.roads.network).is_file():
        msg = (f"{sc.source_path}: [roads] network 指向的路网文件不存在 "
               f"(road network file not found): {sc.resolve(sc.roads.network)}")
        raise ScenarioError(msg)
    ensure_synth_data(sc, progress=progress)
    if progress:
        progress("读取并检查数据 (reading and validating data)")
    return sc, validate_scenario(sc, progress=progress)
