"""Solving on a dask.distributed cluster (optional: ``pip install 'planner[dask]'``).

The solver hands its independent parts to a ``concurrent.futures.Executor``; here that is the
executor of a ``distributed.Client`` connected to the scheduler the user names, unchanged, so
a province that outgrows one machine runs the same code on a cluster. Each worker needs this
package installed (the same version); the problem is sent to every worker once
(``Client.scatter(..., broadcast=True)``), not once per part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Any

from planner.errors import DataError


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, Callable[[Any], Any]]]:
    """(executor, scatter) for the dask scheduler at ``address``; the client closes on exit."""
    try:
        from distributed import Client
    except ImportError as exc:
        msg = ("使用 --scheduler 需要安装 dask.distributed：pip install 'planner[dask]' "
               "(the dask extra is not installed)")
        raise DataError(msg) from exc
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError) as exc:
        msg = f"无法连接 dask 调度器 {address} (cannot reach the dask scheduler): {exc}"
        raise DataError(msg) from exc
    try:
        yield client.get_executor(pure=False), lambda obj: client.scatter(obj, broadcast=True, hash=False)
    finally:
        client.close()
