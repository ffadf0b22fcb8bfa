"""Generated street networks (never downloaded) for the network engine's tests and benchmark.

* :func:`river_town` — a small real-world-shaped town with hand-computable answers: a 4 × 4 grid of
  200 m blocks west of a 400 m-wide river, one diagonal footpath, a dead-end service road, a
  smaller grid on the east bank, and exactly one walkable crossing (a footbridge). A motorway
  bridge, a ``foot=no`` road and an ``access=private`` road also cross the river, and a two-node
  footway lies alone in the north: a correct reader walks none of them.
* :func:`open_grid` — an unobstructed street grid, where the grid and network engines should agree.
* :func:`wuhai_like` — a city-sized synthetic network over the three urban cores of Wuhai
  (``data/reference/urban_extents.csv``), for the benchmark: jittered blocks, shape nodes along the
  ways, some missing links and diagonal footpaths.
* :func:`mini_grid` — a :class:`~circle.grid.CityGrid` of the H3 cells over a small box, so an index
  can be built on a test network in well under a second.

Writers: :func:`write_osm_xml`, :func:`write_geojson`, :func:`write_osm_pbf` (needs ``osmium``).
Coordinates are laid out in local metres east/north of an origin and converted to WGS-84 with the
same equirectangular projection as ``circle.grid.to_local_xy``.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import h3
import numpy as np

from circle import grid as gridmod
from circle.grid import EARTH_RADIUS_M

TOWN_ORIGIN = (39.6600, 106.8000)   # inside Haibowan (海勃湾区)
BLOCK_M = 200.0


@dataclass
class SyntheticNetwork:
    """Nodes (OSM ids → lat/lng) and ways (id, node ids, tags), plus named points in metres."""

    origin: tuple[float, float]
    node_ids: list[int] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    lng: list[float] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict]] = field(default_factory=list)
    _by_xy: dict = field(default_factory=dict)

    def latlng(self, x: float, y: float) -> tuple[float, float]:
        """Local metres (east, north) → WGS-84, the inverse of ``grid.to_local_xy`` about the origin."""
        k = math.pi / 180.0 * EARTH_RADIUS_M
        o_lat, o_lng = self.origin
        gx, gy = gridmod.to_local_xy(o_lat, o_lng)   # the origin in the grid's own projection
        lat = gridmod.ORIGIN_LAT + (float(gy) + y) / k
        lng = gridmod.ORIGIN_LNG + (float(gx) + x) / (k * math.cos(math.radians(gridmod.ORIGIN_LAT)))
        return lat, lng

    def node(self, x: float, y: float) -> int:
        key = (round(x, 3), round(y, 3))
        if key not in self._by_xy:
            lat, lng = self.latlng(x, y)
            nid = 1_000_000 + len(self.node_ids)
            self.node_ids.append(nid)
            self.lat.append(lat)
            self.lng.append(lng)
            self._by_xy[key] = nid
        return self._by_xy[key]

    def way(self, points: list[tuple[float, float]], **tags) -> int:
        wid = 5_000_000 + len(self.ways)
        self.ways.append((wid, [self.node(x, y) for x, y in points], {k: str(v) for k, v in tags.items()}))
        return wid

    def line(self, x0, y0, x1, y1, step: float | None = None, **tags) -> int:
        """A straight way, with shape nodes every ``step`` metres if given."""
        n = 1 if not step else max(1, int(round(math.hypot(x1 - x0, y1 - y0) / step)))
        pts = [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(n + 1)]
        return self.way(pts, **tags)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)


def river_town(with_bridge: bool = True) -> SyntheticNetwork:
    """The test town (see the module docstring). West grid x, y ∈ {0, 200, ..., 800}; river between
    x = 800 and x = 1200; east grid x ∈ {1200, 1400}, y ∈ {0, ..., 800}; footbridge at y = 800."""
    net = SyntheticNetwork(TOWN_ORIGIN)
    b = BLOCK_M
    for j in range(5):                                   # west bank, east–west streets
        net.line(0, j * b, 4 * b, j * b, step=100.0, highway="residential", name=f"西{j}路")
    for i in range(5):                                   # west bank, north–south streets
        if i == 3:   # x = 600 carries a mid-block node at y = 300 for the dead end
            net.way([(3 * b, 0), (3 * b, b), (3 * b, 1.5 * b), (3 * b, 2 * b), (3 * b, 4 * b)],
                    highway="tertiary", name="三号街")
        else:
            net.line(i * b, 0, i * b, 4 * b, step=b, highway="tertiary", name=f"{i}号街")
    net.line(0, 0, b, b, highway="footway", name="斜径")             # diagonal through block (0, 0)
    net.line(3 * b, 1.5 * b, 3.5 * b, 1.5 * b, highway="service")    # dead end into a block
    for j in range(5):                                   # east bank
        net.line(6 * b, j * b, 7 * b, j * b, highway="residential")
    for i in (6, 7):
        net.line(i * b, 0, i * b, 4 * b, step=b, highway="residential")
    if with_bridge:
        net.line(4 * b, 4 * b, 6 * b, 4 * b, highway="footway", bridge="yes", name="人行桥")
    # Crossings no one may walk.
    net.line(4 * b, 0, 6 * b, 0, highway="motorway", bridge="yes", name="高速桥")
    net.line(4 * b, 2 * b, 6 * b, 2 * b, highway="primary", foot="no", bridge="yes")
    net.line(4 * b, 1 * b, 6 * b, 1 * b, highway="service", access="private", bridge="yes")
    net.line(4 * b, 3 * b, 6 * b, 3 * b, highway="construction", bridge="yes")
    # A sliver: a footway alone north of the town (dropped as a tiny component).
    net.line(1.5 * b, 5.5 * b, 1.75 * b, 5.5 * b, highway="footway")
    return net


def open_grid(blocks_x: int = 16, blocks_y: int = 16, block_m: float = 100.0,
              origin: tuple[float, float] = TOWN_ORIGIN) -> SyntheticNetwork:
    """A plain street grid with no barrier (shape nodes every 50 m)."""
    net = SyntheticNetwork(origin)
    for j in range(blocks_y + 1):
        net.line(0, j * block_m, blocks_x * block_m, j * block_m, step=block_m / 2, highway="residential")
    for i in range(blocks_x + 1):
        net.line(i * block_m, 0, i * block_m, blocks_y * block_m, step=block_m / 2, highway="residential")
    return net


def wuhai_like(block_m: float = 80.0, shape_m: float = 25.0, seed: int = 7,
               drop_share: float = 0.06, diagonal_share: float = 0.03) -> SyntheticNetwork:
    """A city-sized synthetic walking network: a jittered street grid over each urban core.

    With the defaults about 70,000 nodes. Deterministic for a seed."""
    import pandas as pd

    from circle.sources import URBAN_EXTENTS

    rng = np.random.default_rng(seed)
    cores = pd.read_csv(URBAN_EXTENTS)
    net = SyntheticNetwork((gridmod.ORIGIN_LAT, gridmod.ORIGIN_LNG))
    for core in cores.itertuples():
        x0, y0 = gridmod.to_local_xy(core.lat_min, core.lon_min)
        x1, y1 = gridmod.to_local_xy(core.lat_max, core.lon_max)
        nx = int((float(x1) - float(x0)) // block_m)
        ny = int((float(y1) - float(y0)) // block_m)
        jitter = rng.normal(0.0, block_m * 0.08, size=(nx + 1, ny + 1, 2))

        def pt(i, j):
            return (float(x0) + i * block_m + jitter[i, j, 0], float(y0) + j * block_m + jitter[i, j, 1])

        def segment(p, q, **tags):
            n = max(1, int(round(math.hypot(q[0] - p[0], q[1] - p[1]) / shape_m)))
            return [(p[0] + (q[0] - p[0]) * s / n, p[1] + (q[1] - p[1]) * s / n) for s in range(n + 1)]

        # East–west and north–south ways, broken where a link is dropped.
        for horizontal in (True, False):
            outer = ny + 1 if horizontal else nx + 1
            inner = nx if horizontal else ny
            for a in range(outer):
                run: list[tuple[float, float]] = []
                kind = "secondary" if a % 8 == 0 else "residential"
                for c in range(inner):
                    p = pt(c, a) if horizontal else pt(a, c)
                    q = pt(c + 1, a) if horizontal else pt(a, c + 1)
                    if rng.random() < drop_share:
                        if len(run) >= 2:
                            net.way(run, highway=kind)
                        run = []
                        continue
                    seg = segment(p, q)
                    run = run + seg[1:] if run else seg
                if len(run) >= 2:
                    net.way(run, highway=kind)
        for i in range(nx):
            for j in range(ny):
                if rng.random() < diagonal_share:
                    net.way(segment(pt(i, j), pt(i + 1, j + 1)), highway="footway")
    return net


# --- writers -------------------------------------------------------------------------------------

def write_osm_xml(net: SyntheticNetwork, path) -> Path:
    path = Path(path)
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="circle.testnet">\n')
        for nid, la, ln in zip(net.node_ids, net.lat, net.lng):
            f.write(f'  <node id="{nid}" lat="{la:.8f}" lon="{ln:.8f}"/>\n')
        for wid, refs, tags in net.ways:
            f.write(f'  <way id="{wid}">\n')
            for r in refs:
                f.write(f'    <nd ref="{r}"/>\n')
            for k, v in tags.items():
                f.write(f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>\n")
            f.write("  </way>\n")
        f.write("</osm>\n")
    return path


def write_geojson(net: SyntheticNetwork, path) -> Path:
    path = Path(path)
    coords = {nid: [round(ln, 8), round(la, 8)] for nid, la, ln in zip(net.node_ids, net.lat, net.lng)}
    features = [{"type": "Feature", "properties": {"id": wid, **tags},
                 "geometry": {"type": "LineString", "coordinates": [coords[r] for r in refs]}}
                for wid, refs, tags in net.ways]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def write_osm_pbf(net: SyntheticNetwork, path) -> Path:
    import osmium

    path = Path(path)
    if path.exists():
        path.unlink()
    writer = osmium.SimpleWriter(str(path))
    try:
        for nid, la, ln in zip(net.node_ids, net.lat, net.lng):
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=osmium.osm.Location(ln, la)))
        for wid, refs, tags in net.ways:
            writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=refs, tags=tags))
    finally:
        writer.close()
    return path


# --- a small grid --------------------------------------------------------------------------------

def mini_grid(lat_min: float, lat_max: float, lng_min: float, lng_max: float,
              resolution: int = gridmod.DEFAULT_RESOLUTION, district: int = 0) -> gridmod.CityGrid:
    """The H3 cells whose centres fall in a box, with the same neighbour table as the city grid
    (no river), all in one district; streets are assigned as in the city grid."""
    ring = [[lng_min, lat_min], [lng_max, lat_min], [lng_max, lat_max], [lng_min, lat_max], [lng_min, lat_min]]
    cells = np.array(sorted(h3.str_to_int(c) for c in h3.geo_to_cells(
        {"type": "Polygon", "coordinates": [ring]}, resolution)), dtype=np.uint64)
    centres = np.array([h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells])
    lat, lng = centres[:, 0].copy(), centres[:, 1].copy()
    x, y = gridmod.to_local_xy(lat, lng)
    dist_code = np.full(len(cells), district, np.int8)
    street = gridmod._assign_streets(x, y, dist_code)
    river = np.zeros(len(cells), bool)
    neighbours, edge = gridmod._neighbour_table(x, y, lat, lng, np.ones(len(cells), bool), resolution)
    return gridmod.CityGrid(resolution, cells, lat, lng, x, y, dist_code, street, river, river.copy(),
                            neighbours, edge)


def box_around(net: SyntheticNetwork, margin_m: float = 300.0) -> tuple[float, float, float, float]:
    """(lat_min, lat_max, lng_min, lng_max) of the network plus a margin."""
    dlat = margin_m / (math.pi / 180.0 * EARTH_RADIUS_M)
    dlng = dlat / math.cos(math.radians(net.origin[0]))
    return min(net.lat) - dlat, max(net.lat) + dlat, min(net.lng) - dlng, max(net.lng) + dlng


# --- small indexes for tests -------------------------------------------------------------------------

def write_dataset(folder, facilities: list[dict], residences: list[dict], label: str = "test"):
    """A :class:`~circle.index.Dataset` from a few facilities (type, lat, lng[, id, name_zh]) and
    residences (lat, lng, population), written as CSV into ``folder``."""
    import pandas as pd

    from circle.index import Dataset

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fac = pd.DataFrame([{"id": f.get("id", f"T{i:04d}"), "type": f["type"],
                         "name_zh": f.get("name_zh", f"测试设施{i}"), "name_en": f.get("name_en", f"Test facility {i}"),
                         "district_code": "150302", "lat": f["lat"], "lng": f["lng"], "status": "test"}
                        for i, f in enumerate(facilities)],
                       columns=["id", "type", "name_zh", "name_en", "district_code", "lat", "lng", "status"])
    res = pd.DataFrame([{"id": f"R{i:04d}", "name_zh": f"测试小区{i}", "name_en": f"Test compound {i}",
                         "community_code": "150302001001", "street_code": "150302001", "district_code": "150302",
                         "lat": r["lat"], "lng": r["lng"], "population": r["population"], "status": "test"}
                        for i, r in enumerate(residences)],
                       columns=["id", "name_zh", "name_en", "community_code", "street_code", "district_code",
                                "lat", "lng", "population", "status"])
    fac.to_csv(folder / "facilities.csv", index=False)
    res.to_csv(folder / "residences.csv", index=False)
    return Dataset(folder / "facilities.csv", folder / "residences.csv", f"测试数据（{label}）", f"test data ({label})",
                   simulated=False)


def grid_index(grid: gridmod.CityGrid, dataset, params=None):
    """A grid-engine :class:`~circle.index.CityIndex` over ``grid`` (no cache, no file writes)."""
    import pandas as pd

    from circle import index as ix
    from circle.taxonomy import facility_types

    params = params or ix.Params()
    raw = pd.read_csv(dataset.facilities_path, dtype={"district_code": str, "id": str})
    residences = pd.read_csv(dataset.residences_path, dtype={"community_code": str, "street_code": str,
                                                             "district_code": str})
    facilities = ix._prepare_facilities(raw, grid)
    dist, nearest, count = ix.compute_access(grid, facilities, params, tuple(t.id for t in facility_types()))
    return ix.CityIndex(grid, facilities, residences, dist, nearest, count, params, dataset, "test-grid")
