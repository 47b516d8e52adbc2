"""Read CVRPLIB files: a ``.vrp`` instance (EUC_2D or EXPLICIT full matrix) and a ``.sol`` solution.

Distances of EUC_2D instances are Euclidean distances rounded to the nearest integer, the
CVRPLIB convention under which best-known costs are published.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from planner.errors import DataError
from planner.routing.engine import VrpProblem

_SECTIONS = ("NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION", "EDGE_WEIGHT_SECTION")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        msg = f"找不到文件 (file not found): {path}"
        raise DataError(msg) from None
    except IsADirectoryError:
        msg = f"这是目录，不是文件 (a folder, not a file): {path}"
        raise DataError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"无法读取文件 (cannot read file) {path}: {exc}"
        raise DataError(msg) from None


def read_cvrplib(path: str | Path) -> VrpProblem:
    """The ``VrpProblem`` of a CVRPLIB ``.vrp`` file (single depot, renumbered to node 0).

    Raises ``DataError`` naming the file and the line for a missing or malformed file.
    """
    path = Path(path)
    text = _read_text(path)
    spec: dict[str, str] = {}
    sections: dict[str, list[tuple[int, list[str]]]] = {}
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        key = line.split()[0].rstrip(":")
        if key in _SECTIONS:
            current = key
            sections[current] = []
            continue
        m = re.match(r"^([A-Z_]+)\s*:\s*(.*)$", line)
        if m and not line[0].isdigit() and not line.startswith("-"):
            spec[m.group(1)] = m.group(2).strip().strip('"')
            current = None
            continue
        if current is None:
            msg = f"{path.name} 第 {lineno} 行无法识别 (line {lineno} not understood): {line[:60]!r}"
            raise DataError(msg)
        sections[current].append((lineno, line.split()))

    def need(key: str) -> str:
        if key not in spec:
            msg = f"{path.name}: 缺少 {key} (missing {key}; not a CVRPLIB .vrp file?)"
            raise DataError(msg)
        return spec[key]

    def as_int(value: str, what: str, lineno: int | None = None) -> int:
        try:
            return int(value)
        except ValueError:
            where = f" 第 {lineno} 行 (line {lineno})" if lineno else ""
            msg = f"{path.name}{where}: {what} {value!r} 不是整数 (not an integer)"
            raise DataError(msg) from None

    name = spec.get("NAME", path.stem)
    n = as_int(need("DIMENSION"), "DIMENSION")
    capacity = as_int(need("CAPACITY"), "CAPACITY")
    ewt = need("EDGE_WEIGHT_TYPE").upper()
    if ewt not in ("EUC_2D", "EXPLICIT"):
        msg = f"{path.name}: 不支持的 EDGE_WEIGHT_TYPE {ewt} (unsupported; use EUC_2D or EXPLICIT)"
        raise DataError(msg)
    if "DEMAND_SECTION" not in sections:
        msg = f"{path.name}: 缺少 DEMAND_SECTION (missing DEMAND_SECTION)"
        raise DataError(msg)

    demand = {}
    for lineno, parts in sections["DEMAND_SECTION"]:
        if len(parts) < 2:
            msg = f"{path.name} 第 {lineno} 行 (line {lineno}): 需求行应为 '编号 需求' (demand line needs id and demand)"
            raise DataError(msg)
        demand[as_int(parts[0], "node id", lineno)] = as_int(parts[1], "demand", lineno)
    depots = [as_int(p[0], "depot", ln) for ln, p in sections.get("DEPOT_SECTION", []) if p[0] != "-1"]
    depot = depots[0] if depots else 1
    if len(depots) > 1:
        msg = f"{path.name}: 只支持一个车场 (only one depot supported), got {depots}"
        raise DataError(msg)
    ids = list(range(1, n + 1))
    if sorted(demand) != ids:
        msg = f"{path.name}: DEMAND_SECTION 有 {len(demand)} 行，DIMENSION 为 {n} (demand rows do not match DIMENSION)"
        raise DataError(msg)
    order = [depot] + [i for i in ids if i != depot]

    coords = None
    distances = None
    if ewt == "EUC_2D":
        xy: dict[int, tuple[float, float]] = {}
        for lineno, parts in sections.get("NODE_COORD_SECTION", []):
            try:
                xy[int(parts[0])] = (float(parts[1]), float(parts[2]))
            except (ValueError, IndexError):
                msg = f"{path.name} 第 {lineno} 行 (line {lineno}): 坐标行应为 '编号 x y' (coordinate line needs id x y)"
                raise DataError(msg) from None
        if sorted(xy) != ids:
            msg = f"{path.name}: NODE_COORD_SECTION 有 {len(xy)} 行，DIMENSION 为 {n} (coordinates do not match DIMENSION)"
            raise DataError(msg)
        coords = tuple(xy[i] for i in order)
    else:
        fmt = spec.get("EDGE_WEIGHT_FORMAT", "FULL_MATRIX").upper()
        values = [float(v) for _, p in sections.get("EDGE_WEIGHT_SECTION", []) for v in p]
        full = np.zeros((n, n))
        if fmt == "FULL_MATRIX" and len(values) == n * n:
            full = np.array(values).reshape(n, n)
        elif fmt == "LOWER_ROW" and len(values) == n * (n - 1) // 2:
            full[np.tril_indices(n, -1)] = values
            full = full + full.T
        else:
            msg = f"{path.name}: EDGE_WEIGHT_FORMAT {fmt} 与 {len(values)} 个数值不符 (unsupported or wrong size)"
            raise DataError(msg)
        pos = [i - 1 for i in order]
        distances = np.rint(full[np.ix_(pos, pos)]).astype(np.int64)
    return VrpProblem(demands=tuple(demand[i] for i in order), capacity=capacity, coords=coords,
                      distances=distances, name=name)


def read_cvrplib_solution(path: str | Path) -> tuple[list[list[int]], int | None]:
    """Routes (client numbers as in the file: 1..n with the depot as 0) and the stated cost of a ``.sol`` file."""
    path = Path(path)
    routes: list[list[int]] = []
    cost = None
    for raw in _read_text(path).splitlines():
        line = raw.strip()
        if line.lower().startswith("route"):
            _, _, rest = line.partition(":")
            routes.append([int(v) for v in rest.split()])
        elif line.lower().startswith("cost"):
            cost = int(float(line.split()[1]))
    if not routes:
        msg = f"{path.name}: 没有找到路线 (no 'Route #k:' lines)"
        raise DataError(msg)
    return routes, cost


def load_best_known(path: str | Path) -> dict[str, int]:
    """Instance name -> best-known cost from a CSV with columns instance,best_known_cost."""
    out: dict[str, int] = {}
    path = Path(path)
    if not path.is_file():
        return out
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split(",")
        if len(parts) >= 2 and parts[1].strip():
            out[parts[0].strip()] = int(parts[1])
    return out
