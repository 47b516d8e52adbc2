"""Run a ``planner`` command with the package as it was at a commit (for before/after timings).

    python bench/run_at_commit.py 9567db0 plan scenarios/demo-wanzhou.toml --out /tmp/demo-before

The ``planner`` directory of that commit is extracted (``git archive``) into a temporary
directory and imported instead of the editable install, with this environment's libraries;
the scenario, geodata and data files are read from wherever the command names them.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    commit, args = sys.argv[1], sys.argv[2:]
    tmp = Path(tempfile.mkdtemp(prefix=f"planner-{commit[:10]}-"))
    archive = subprocess.run(["git", "archive", commit, "planner"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive.stdout, check=True)
    # the editable install's finder would import this checkout's planner first
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    for name in [m for m in sys.modules if m == "planner" or m.startswith("planner.")]:
        del sys.modules[name]
    sys.path.insert(0, str(tmp))
    sys.argv = ["planner", *args]
    runpy.run_module("planner.cli", run_name="__main__")


if __name__ == "__main__":
    main()
