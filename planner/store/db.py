"""Opening a store and writing to it safely: SQLite (default) or PostgreSQL, one transaction per write.

:func:`open_store` takes a URL (``sqlite:///path``, ``postgresql://…``) or a
plain file path. SQLite runs in WAL mode with a busy timeout, and every
transaction starts with ``BEGIN IMMEDIATE`` (the write lock is taken at the
start, so two processes recording at once queue instead of failing halfway);
a write that still meets a locked database is retried whole
(:meth:`Store.write`). The schema is brought to :data:`SCHEMA_VERSION` on
opening (:mod:`planner.store.schema`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from planner.errors import PlannerError
from planner.store import schema
from planner.store.schema import MIGRATIONS, SCHEMA_VERSION, store_meta

log = logging.getLogger(__name__)

#: the store's file name when none is given: beside the plan directories
DEFAULT_STORE_NAME = "planner-store.sqlite"
BUSY_TIMEOUT_MS = 30_000
WRITE_ATTEMPTS = 8

T = TypeVar("T")


class StoreError(PlannerError):
    """The store cannot be opened or refuses a write (a conflict with what is already published, bad input)."""


def now_iso() -> str:
    """The time a record is made (UTC, ISO 8601 with offset): records say when, plans never depend on it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_store_url(plan_dir: Path) -> str:
    """The default store of a plan: ``planner-store.sqlite`` in the folder holding the plan directory."""
    return f"sqlite:///{(Path(plan_dir).resolve().parent / DEFAULT_STORE_NAME)}"


def store_url(db: str | None, plan_dir: Path | None = None) -> str:
    """``--db`` as a SQLAlchemy URL: a URL as given, a file path as SQLite, None as the plan's default store."""
    if not db:
        if plan_dir is None:
            msg = "请用 --db 指定数据库 (no --db given and no plan to put the store beside)"
            raise StoreError(msg)
        return default_store_url(plan_dir)
    if "://" in db:
        # a plain postgresql:// URL uses psycopg (3), the driver the planner installs, unless psycopg2 is there
        if db.startswith(("postgresql://", "postgres://")) and not _has_module("psycopg2"):
            return "postgresql+psycopg://" + db.split("://", 1)[1]
        return db
    return f"sqlite:///{Path(db).resolve()}"


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:  # noqa: ANN001 - DBAPI objects
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (pysqlite's own handling defers it)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # writes take the lock at the start (no deadlock when two writers upgrade at once); reads do not
        conn.exec_driver_sql("BEGIN" if conn.info.get("read_only") else "BEGIN IMMEDIATE")


class Store:
    """An open store: an engine plus the transaction helpers every module writes through."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def describe(self) -> str:
        """The store's location for messages, without any password of a server URL."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (a transaction that is rolled back at the end)."""
        with self.engine.connect() as conn:
            conn.info["read_only"] = True
            try:
                yield conn
            finally:
                conn.info["read_only"] = False

    def write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one transaction: all of it is committed, or none of it.

        A transaction that meets a locked database (another process writing) is
        retried whole after a short wait, up to :data:`WRITE_ATTEMPTS` times.
        """
        delay = 0.05
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return work(conn)
            except OperationalError as exc:
                text = str(exc.orig).lower()
                if attempt == WRITE_ATTEMPTS or ("locked" not in text and "busy" not in text):
                    raise
                log.debug("store busy, retrying (attempt %d)", attempt)
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        raise AssertionError("unreachable")

    def schema_version(self) -> int:
        with self.read() as conn:
            return _version(conn)

    def dispose(self) -> None:
        self.engine.dispose()


def _version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, store_meta.name):
        return 0
    row = conn.execute(select(store_meta.c.value).where(store_meta.c.key == "schema_version")).first()
    return int(row[0]) if row else 0


def migrate(store: Store, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations missing up to ``target``, each in its own transaction; return the version reached."""
    version = store.schema_version()
    if version > SCHEMA_VERSION:
        msg = (f"数据库 {store.describe()} 的结构版本为 {version}，高于本程序支持的 {SCHEMA_VERSION}；请升级 planner "
               "(store schema is newer than this planner)")
        raise StoreError(msg)
    while version < target:
        step = MIGRATIONS[version]
        new = version + 1

        def apply(conn: Connection, step=step, new=new) -> None:
            if _version(conn) >= new:  # another process migrated meanwhile
                return
            step(conn)
            t = schema.store_meta
            if conn.execute(select(t.c.key).where(t.c.key == "schema_version")).first():
                conn.execute(t.update().where(t.c.key == "schema_version").values(value=str(new)))
            else:
                conn.execute(t.insert().values(key="schema_version", value=str(new)))

        store.write(apply)
        version = new
    return version


def open_store(url: str, *, upgrade_to: int = SCHEMA_VERSION) -> Store:
    """Open (creating if needed) the store at ``url`` and bring its schema up to date.

    ``url`` may be a SQLAlchemy URL or a file path (SQLite). Errors (no such
    server, a file that is not a database, a directory that cannot be
    written) become :class:`StoreError` with the location, never a traceback.
    """
    url = store_url(url)
    try:
        if url.startswith("sqlite"):
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
            _sqlite_setup(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        store = Store(engine, url)
        migrate(store, upgrade_to)
    except StoreError:
        raise
    except (DBAPIError, OSError, ValueError, ImportError) as exc:
        shown = url.split("@")[-1] if "@" in url else url
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        msg = f"无法打开数据库 {shown}：{first} (cannot open the store)"
        raise StoreError(msg) from None
    return store
