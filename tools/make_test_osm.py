"""Write the tiny road networks of the road tests (fictitious roads near 万州, 108.38E 30.80N).

Run: .venv/bin/python tools/make_test_osm.py
Writes tests/data/roads/tiny.osm and tests/data/roads/tiny_no_bridge.osm (the same without the
bridge). The output is deterministic: same script, same bytes. tests/test_roads.py checks that
the committed files equal what this writes.

Layout (W-E primary road through the hub, villages north, south and across a river)::

                     112 (village 1)
                      |  tertiary
                     111
                      |  tertiary                  bridge=yes
    101 ---primary--- 102 (hub) ---primary--- 103 ---primary--- 104 --tertiary-- 131 ==== 132 --- 133 --- 134 (village 3)
     |                 \\----- track (parallel) ---/                          river |        residential
    121   tertiary
     |
    122 (village 2)

- 102-103 is linked twice: by the primary road and by a parallel track between the same two
  nodes (duplicate parallel edges; the faster one must count).
- 131-132 is the only link to village 3's area; ``tiny_no_bridge.osm`` omits it.
- ``place=village`` nodes and the bus station node lie off the roads, as in real OSM data, and a
  river way has nodes of its own: none of them may become a road node.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

OUT_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "roads"

# id: (lon, lat, tags)
NODES: dict[int, tuple[float, float, dict[str, str]]] = {
    101: (108.360, 30.800, {}),
    102: (108.380, 30.800, {}),
    103: (108.400, 30.800, {}),
    104: (108.420, 30.800, {}),
    111: (108.400, 30.815, {}),
    112: (108.405, 30.825, {}),
    121: (108.360, 30.785, {}),
    122: (108.355, 30.775, {}),
    131: (108.425, 30.800, {}),
    132: (108.435, 30.800, {}),
    133: (108.445, 30.805, {}),
    134: (108.450, 30.810, {}),
    # river nodes (not roads)
    201: (108.430, 30.780, {}),
    202: (108.430, 30.800, {}),
    203: (108.430, 30.820, {}),
    # points of interest off the roads (not roads)
    301: (108.3801, 30.8003, {"amenity": "bus_station", "name": "测试汽车站"}),
    302: (108.4052, 30.8254, {"place": "village", "name": "一村"}),
    303: (108.3548, 30.7748, {"place": "village", "name": "二村"}),
    304: (108.4505, 30.8102, {"place": "village", "name": "三村"}),
}

BRIDGE_WAY = 1005

# id: (node ids, tags)
WAYS: dict[int, tuple[list[int], dict[str, str]]] = {
    1001: ([101, 102, 103, 104], {"highway": "primary", "name": "测试大道", "ref": "G318"}),
    1002: ([102, 103], {"highway": "track", "name": "平行便道"}),
    1003: ([103, 111, 112], {"highway": "tertiary", "name": "一村路"}),
    1004: ([101, 121, 122], {"highway": "tertiary", "name": "二村路"}),
    1006: ([104, 131], {"highway": "tertiary", "name": "三村路"}),
    BRIDGE_WAY: ([131, 132], {"highway": "tertiary", "bridge": "yes", "layer": "1", "name": "三村桥"}),
    1007: ([132, 133, 134], {"highway": "residential", "name": "三村路"}),
    1101: ([201, 202, 203], {"waterway": "river", "name": "测试河"}),
}


def osm_xml(*, with_bridge: bool) -> str:
    """The OSM XML text of the tiny network, with or without the bridge way."""
    lons = [lon for lon, _, _ in NODES.values()]
    lats = [lat for _, lat, _ in NODES.values()]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="return-to-work-planner tools/make_test_osm.py">',
        f'  <bounds minlat="{min(lats):.7f}" minlon="{min(lons):.7f}" maxlat="{max(lats):.7f}" maxlon="{max(lons):.7f}"/>',
    ]
    for nid, (lon, lat, tags) in NODES.items():
        head = f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"'
        if not tags:
            lines.append(head + "/>")
            continue
        lines.append(head + ">")
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </node>")
    for wid, (refs, tags) in WAYS.items():
        if wid == BRIDGE_WAY and not with_bridge:
            continue
        lines.append(f'  <way id="{wid}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, with_bridge in (("tiny.osm", True), ("tiny_no_bridge.osm", False)):
        path = OUT_DIR / name
        path.write_text(osm_xml(with_bridge=with_bridge), encoding="utf-8", newline="\n")
        print(path)


if __name__ == "__main__":
    main()
