"""Store test helpers: a store URL per backend (SQLite file, or a throwaway PostgreSQL cluster), plan edits.

PostgreSQL: when Debian's server binaries are installed (``postgresql``
package: /usr/lib/postgresql/<v>/bin) and the tests run as root, a cluster is
made in a temporary directory and started on a free port as the ``postgres``
user for the session (``.ci/run`` needs only ``apt-get install -y -qq
postgresql``); each test gets its own database. Otherwise the PostgreSQL
cases are skipped, saying why.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest

from planner.plan_format import PLAN_FILES, SUMMARY_FILE, file_manifest


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return str(Path(found[-1]).parent) if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A PostgreSQL cluster in a temp dir, run as the ``postgres`` user; ``url(db)`` for a database."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="planner-pg-"))
        self.port = _free_port()

    def _as_postgres(self, *cmd: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        self._as_postgres(f"{self.bin}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._as_postgres(f"{self.bin}/pg_ctl", "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o",
                          f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        try:
            self._as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{db}"

    def new_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def pg_skip_reason() -> str | None:
    if _pg_bin() is None:
        return "PostgreSQL server binaries not installed (apt-get install postgresql)"
    if os.geteuid() != 0:
        return "PostgreSQL test cluster needs root to run initdb as the postgres user"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg not installed (pip install 'psycopg[binary]')"
    return None


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    reason = pg_skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = PgCluster()
    try:
        cluster.start()
    except (subprocess.SubprocessError, OSError, KeyError) as exc:
        pytest.skip(f"PostgreSQL test cluster could not start: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh, empty store: a SQLite file, or a new database on the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


# ------------------------------------------------------------------ plans edited by hand
def edited_plan(src: Path, dst: Path, edit: Callable[[dict[str, pd.DataFrame]], None]) -> Path:
    """A copy of plan ``src`` at ``dst`` with its CSV tables changed by ``edit`` (in place), checksums renewed."""
    shutil.copytree(src, dst)
    tables = {n: pd.read_csv(dst / f"{n}.csv", dtype=str, keep_default_na=False)
              for n in ("trips", "stops", "legs", "workers")}
    edit(tables)
    for n, df in tables.items():
        df.to_csv(dst / f"{n}.csv", index=False, encoding="utf-8")
    summary = json.loads((dst / SUMMARY_FILE).read_text(encoding="utf-8"))
    summary["files"] = file_manifest(dst, PLAN_FILES)
    (dst / SUMMARY_FILE).write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return dst


def take_off(tables: dict[str, pd.DataFrame], worker_id: str, reason: str = "fever_at_boarding") -> None:
    """What a replan does to a person taken off: no legs, unassigned, fewer people on their trips (nothing else)."""
    legs = tables["legs"]
    mine = legs[legs["worker_id"] == worker_id]
    trips, stops = tables["trips"], tables["stops"]
    for r in mine.itertuples(index=False):
        t = trips["trip_id"] == r.trip_id
        trips.loc[t, "passengers"] = (trips.loc[t, "passengers"].astype(int) - 1).astype(str)
        if (trips.loc[t, "leader_worker_id"] == worker_id).any():
            trips.loc[t, "leader_worker_id"] = ""
        for place, col in ((r.board_place_id, "boarding"), (r.alight_place_id, "alighting")):
            s = (stops["trip_id"] == r.trip_id) & (stops["place_id"] == place)
            first = stops.index[s][:1]
            stops.loc[first, col] = (stops.loc[first, col].astype(int) - 1).astype(str)
    tables["legs"] = legs[legs["worker_id"] != worker_id].reset_index(drop=True)
    w = tables["workers"]
    for col, val in (("status", "unassigned"), ("reason", reason), ("chain", ""), ("depart_day", ""),
                     ("planned_arrival", "")):
        w.loc[w["worker_id"] == worker_id, col] = val


def wait_for(cond: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return False
