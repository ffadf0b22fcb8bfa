"""The real street network engine: walking distances along streets instead of across H3 cells.

The grid engine (``circle.access`` over ``CityGrid``) walks from hexagon to hexagon and multiplies
every step by a circuity factor. This engine reads a walking network (an OpenStreetMap extract as
``.osm`` XML or ``.osm.pbf``, or GeoJSON lines), and measures the real path. It produces the SAME
index schema — ``dist_m`` (T, N) float32 metres, ``nearest`` (T, N) int32 facility rows and
``count15`` (T, N) uint16 over the city's H3 cells — so :class:`circle.index.CityIndex`, the metrics,
maps and pages work unchanged.

How it works:

1. **Read** the ways usable on foot (:data:`WALKABLE`: footway, path, pedestrian, living_street,
   residential, service, unclassified, tertiary, secondary, primary, steps, track, and their links).
   Motorways are never walkable; trunk roads only with an explicit ``foot=yes|designated``; a way
   tagged ``foot=no`` or ``access=private|no`` (without a foot permission) is skipped.
2. **Build** an undirected graph: one node per OSM node (GeoJSON: per distinct vertex), edges with
   great-circle lengths. Long edges are split every ``densify_m`` metres, so a point beside the
   middle of a long block snaps to the street beside it, not to a corner far away. Fragments with
   fewer than ``min_component_nodes`` nodes (mapping slivers) are dropped.
3. **Snap** every H3 cell centre and every facility to its nearest network node, at most
   ``max_snap_m`` away. A point farther from any street is unreachable (``inf``): a facility across
   the river is not "0 m away" just because a straight line is short. The snap legs count as
   walking metres (straight lines from the point to the street).
4. **Search**: each snapped cell is a leaf node hanging off its street node by its snap leg.
   Chains of degree-2 nodes (shape points, densified points) that no cell snaps to are contracted
   into single edges for searching (about 3–4× fewer nodes); a facility on such a chain enters the
   graph at both chain ends with the metres along the chain added, so distances stay exact. For
   every facility type, one multi-source shortest-path search (``scipy.sparse.csgraph.dijkstra``
   from a virtual source joined to each facility's entry nodes by its snap leg) gives every cell
   its nearest facility and walking metres; bounded searches from each facility (numba) count how
   many are within 15 minutes. No circuity factor: the network is the real path.

``build_network_index(path, dataset, params)`` returns a :class:`~circle.index.CityIndex` (with
``index.engine == "network"`` and ``index.network`` the :class:`NetworkModel`); ``compare_engines``
tells how far the grid engine is from the network one.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import math
import os
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from circle import access, geo
from circle import grid as gridmod
from circle import index as ix
from circle.taxonomy import facility_types

# --- what is walkable ------------------------------------------------------------------------------

WALKABLE = frozenset({
    "footway", "path", "pedestrian", "living_street", "residential", "service", "unclassified",
    "tertiary", "secondary", "primary", "steps", "track",
    "tertiary_link", "secondary_link", "primary_link", "road", "corridor",
})
NEVER_ON_FOOT = frozenset({"motorway", "motorway_link"})
FOOT_ONLY_IF_ALLOWED = frozenset({"trunk", "trunk_link", "cycleway", "bridleway"})
FOOT_YES = frozenset({"yes", "designated", "permissive", "official"})
ACCESS_NO = frozenset({"private", "no"})

DEFAULT_MAX_SNAP_M = 150.0
DEFAULT_DENSIFY_M = 50.0
DEFAULT_MIN_COMPONENT_NODES = 10
MIN_EDGE_M = 1e-3  # two distinct nodes at the same spot still need a (tiny) positive edge


class NetworkError(ValueError):
    """A network file that cannot be used. ``str()`` is bilingual (Chinese first)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class NetworkParams:
    max_snap_m: float = DEFAULT_MAX_SNAP_M           # farther from any street → unreachable
    densify_m: float = DEFAULT_DENSIFY_M             # split edges longer than this (0: never)
    min_component_nodes: int = DEFAULT_MIN_COMPONENT_NODES  # drop smaller disconnected fragments


def way_decision(tags: dict) -> str | None:
    """``None`` if a way with these tags is walkable, else the reason it is skipped."""
    highway = tags.get("highway")
    if not highway:
        return "not_highway"
    foot = (tags.get("foot") or "").strip().lower()
    if highway in NEVER_ON_FOOT:
        return "motorway"
    if highway in FOOT_ONLY_IF_ALLOWED:
        if foot not in FOOT_YES:
            return "trunk_or_cycleway" if highway.startswith("trunk") else "not_walkable"
    elif highway not in WALKABLE:
        return "not_walkable"
    if foot == "no":
        return "foot_no"
    if (tags.get("access") or "").strip().lower() in ACCESS_NO and foot not in FOOT_YES:
        return "private"
    return None


# --- the network ----------------------------------------------------------------------------------

@dataclass
class StreetNetwork:
    """An undirected walking graph: nodes in WGS-84 and edges with lengths in metres (u < v)."""

    lat: np.ndarray
    lng: np.ndarray
    u: np.ndarray          # int32
    v: np.ndarray          # int32
    length_m: np.ndarray   # float64
    source: str = ""
    stats: dict = field(default_factory=dict)   # ways read / kept / skipped by reason, nodes, ...

    @property
    def n_nodes(self) -> int:
        return len(self.lat)

    @property
    def n_edges(self) -> int:
        return len(self.u)

    @property
    def total_km(self) -> float:
        return float(self.length_m.sum() / 1000.0)

    def csr(self) -> sp.csr_matrix:
        return _symmetric_csr(self.n_nodes, self.u, self.v, self.length_m)


def _symmetric_csr(n: int, u, v, w) -> sp.csr_matrix:
    """CSR with both directions of every edge; built by hand so zero weights stay edges."""
    rows = np.concatenate([u, v]).astype(np.int64)
    cols = np.concatenate([v, u]).astype(np.int32)
    data = np.concatenate([w, w]).astype(np.float64)
    order = np.lexsort((cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_matrix((data, cols, indptr.astype(np.int32 if indptr[-1] < 2**31 else np.int64)),
                         shape=(n, n))


def _assemble(node_lat: np.ndarray, node_lng: np.ndarray, polylines: list[np.ndarray],
              params: NetworkParams, source: str, stats: dict) -> StreetNetwork:
    """Nodes + polylines (arrays of node positions) → a compact, densified, deduplicated network."""
    if not polylines:
        raise NetworkError("文件中没有可步行的道路", "the file holds no walkable ways")
    a = np.concatenate([p[:-1] for p in polylines])
    b = np.concatenate([p[1:] for p in polylines])
    keep = a != b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        raise NetworkError("可步行道路没有有效路段", "the walkable ways have no usable segments")
    # Keep only the nodes the edges use.
    used, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    lat, lng = node_lat[used].astype(np.float64), node_lng[used].astype(np.float64)
    a, b = inverse[: len(a)], inverse[len(a):]
    length = np.asarray(geo.haversine_m(lat[a], lng[a], lat[b], lng[b]), dtype=np.float64)
    # Undirected, no duplicates: (min, max) pairs, the shortest length wins.
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((length, hi, lo))
    lo, hi, length = lo[order], hi[order], length[order]
    first = np.ones(len(lo), bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, length = lo[first], hi[first], length[first]
    # Densify long edges: ceil(L / densify) pieces, new nodes linearly along the segment.
    if params.densify_m and params.densify_m > 0:
        # (a metre of slack: coordinates rounded to 1e-7° must not add a piece to a 100.00 m edge)
        pieces = np.maximum(1, np.ceil((length - 1.0) / params.densify_m).astype(np.int64))
        long = np.flatnonzero(pieces > 1)
        if len(long):
            k = pieces[long]
            total_new = int((k - 1).sum())
            owner = np.repeat(long, k - 1)
            step = np.arange(total_new) - np.repeat(np.cumsum(k - 1) - (k - 1), k - 1) + 1
            frac = step / np.repeat(k, k - 1)
            new_lat = lat[lo[owner]] + (lat[hi[owner]] - lat[lo[owner]]) * frac
            new_lng = lng[lo[owner]] + (lng[hi[owner]] - lng[lo[owner]]) * frac
            new_ids = len(lat) + np.arange(total_new)
            # Chains: lo → n1 → ... → n(k-1) → hi, each piece L / k.
            chain_start = np.cumsum(k - 1) - (k - 1)   # index of the first new node of each long edge
            seg_u, seg_v, seg_w = [], [], []
            first_new = new_ids[chain_start]
            last_new = new_ids[chain_start + (k - 2)]
            piece = length[long] / k
            seg_u += [lo[long], last_new]
            seg_v += [first_new, hi[long]]
            seg_w += [piece, piece]
            inner = np.flatnonzero(step < np.repeat(k - 1, k - 1))  # new node followed by another new node
            seg_u.append(new_ids[inner])
            seg_v.append(new_ids[inner] + 1)
            seg_w.append(np.repeat(piece, k - 1)[inner])
            short = pieces == 1
            lo = np.concatenate([lo[short]] + seg_u)
            hi = np.concatenate([hi[short]] + seg_v)
            length = np.concatenate([length[short]] + seg_w)
            lat = np.concatenate([lat, new_lat])
            lng = np.concatenate([lng, new_lng])
            stats["nodes_added_by_densify"] = total_new
    length = np.maximum(length, MIN_EDGE_M)
    n = len(lat)
    # Drop mapping slivers: components with too few nodes.
    if params.min_component_nodes and params.min_component_nodes > 1:
        _, label = connected_components(_symmetric_csr(n, lo, hi, length), directed=False)
        sizes = np.bincount(label)
        ok_node = sizes[label] >= params.min_component_nodes
        stats["components"] = int(len(sizes))
        stats["nodes_dropped_small_components"] = int((~ok_node).sum())
        if not ok_node.all():
            if not ok_node.any():
                raise NetworkError("路网只有零碎的小片段（每片少于 {} 个节点）".format(params.min_component_nodes),
                                   f"the network is only small fragments (< {params.min_component_nodes} nodes each)")
            keep_e = ok_node[lo]
            remap = np.cumsum(ok_node) - 1
            lo, hi, length = remap[lo[keep_e]], remap[hi[keep_e]], length[keep_e]
            lat, lng = lat[ok_node], lng[ok_node]
    stats.update(nodes=int(len(lat)), edges=int(len(lo)), total_km=round(float(length.sum()) / 1000.0, 3))
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return StreetNetwork(lat, lng, lo.astype(np.int32), hi.astype(np.int32), length.astype(np.float64),
                         source, stats)


# --- readers --------------------------------------------------------------------------------------

def _open_maybe_compressed(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def _polylines_from_ways(node_ids: np.ndarray, node_lat: np.ndarray, node_lng: np.ndarray,
                         ways: list[np.ndarray], stats: dict) -> list[np.ndarray]:
    """Way node-id lists → arrays of node positions; a way is cut where a node is missing."""
    order = np.argsort(node_ids, kind="stable")
    sorted_ids = node_ids[order]
    out = []
    missing = 0
    for refs in ways:
        pos = np.searchsorted(sorted_ids, refs)
        pos = np.clip(pos, 0, max(len(sorted_ids) - 1, 0))
        found = (sorted_ids[pos] == refs) if len(sorted_ids) else np.zeros(len(refs), bool)
        idx = np.where(found, order[pos] if len(sorted_ids) else 0, -1)
        if found.all():
            out.append(idx)
            continue
        missing += int((~found).sum())
        # Split at missing nodes; keep runs of two or more.
        breaks = np.flatnonzero(~found)
        start = 0
        for br in list(breaks) + [len(idx)]:
            if br - start >= 2:
                out.append(idx[start:br])
            start = br + 1
    stats["missing_node_refs"] = missing
    return out


def read_osm_xml(path, params: NetworkParams = NetworkParams()) -> StreetNetwork:
    """Walkable ways from an OSM XML file (``.osm``, also ``.osm.gz`` / ``.osm.bz2``), streamed."""
    path = Path(path)
    ids, lats, lngs = [], [], []
    ways: list[np.ndarray] = []
    stats: dict = {"format": "osm-xml", "ways_read": 0, "ways_kept": 0, "skipped": {}}
    skipped = stats["skipped"]
    try:
        with _open_maybe_compressed(path) as f:
            context = ET.iterparse(f, events=("start", "end"))
            root = None
            for event, elem in context:
                if event == "start":
                    if root is None:
                        root = elem
                        if elem.tag != "osm":
                            raise NetworkError(f"不是 OSM XML 文件（根元素是 <{elem.tag[:30]}>）",
                                               f"not an OSM XML file (root element is <{elem.tag[:30]}>)")
                    continue
                tag = elem.tag
                if tag == "node":
                    try:
                        ids.append(int(elem.get("id")))
                        lats.append(float(elem.get("lat")))
                        lngs.append(float(elem.get("lon")))
                    except (TypeError, ValueError):
                        skipped["bad_node"] = skipped.get("bad_node", 0) + 1
                    root.clear()
                elif tag == "way":
                    stats["ways_read"] += 1
                    tags = {t.get("k"): t.get("v") for t in elem.iter("tag")}
                    reason = way_decision(tags)
                    if reason is None:
                        try:
                            refs = np.array([int(nd.get("ref")) for nd in elem.iter("nd")], dtype=np.int64)
                        except (TypeError, ValueError):
                            refs = np.zeros(0, np.int64)
                            reason = "bad_way"
                        if reason is None and len(refs) >= 2:
                            ways.append(refs)
                            stats["ways_kept"] += 1
                        elif reason is None:
                            reason = "too_short"
                    if reason is not None:
                        skipped[reason] = skipped.get(reason, 0) + 1
                    root.clear()
                elif tag == "relation":
                    root.clear()
    except ET.ParseError as exc:
        raise NetworkError(f"OSM XML 文件无法解析：{exc}", f"the OSM XML file cannot be parsed: {exc}") from None
    except OSError as exc:
        raise NetworkError(f"无法读取文件：{exc}", f"cannot read the file: {exc}") from None
    node_ids = np.array(ids, dtype=np.int64)
    node_lat, node_lng = np.array(lats, dtype=np.float64), np.array(lngs, dtype=np.float64)
    _check_coordinates(node_lat, node_lng)
    polylines = _polylines_from_ways(node_ids, node_lat, node_lng, ways, stats)
    return _assemble(node_lat, node_lng, polylines, params, str(path), stats)


def osmium_available() -> bool:
    try:
        import osmium  # noqa: F401
    except ImportError:
        return False
    return True


def read_osm_pbf(path, params: NetworkParams = NetworkParams()) -> StreetNetwork:
    """Walkable ways from an OSM PBF file, through the ``osmium`` package (pyosmium)."""
    path = Path(path)
    try:
        import osmium
    except ImportError:
        raise NetworkError("不支持 .osm.pbf：本环境未安装 osmium 包；请改用 .osm XML 或 GeoJSON",
                           ".osm.pbf is unsupported here (the osmium package is not installed); "
                           "use .osm XML or GeoJSON") from None
    stats: dict = {"format": "osm-pbf", "ways_read": 0, "ways_kept": 0, "skipped": {}}
    skipped = stats["skipped"]
    key_of: dict[int, int] = {}
    lats, lngs = [], []
    polylines: list[np.ndarray] = []
    try:
        processor = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
        for obj in processor:
            if not obj.is_way():
                continue
            stats["ways_read"] += 1
            tags = {t.k: t.v for t in obj.tags}
            reason = way_decision(tags)
            if reason is None:
                line = []
                for nd in obj.nodes:
                    loc = nd.location
                    if not loc.valid():
                        if len(line) >= 2:
                            polylines.append(np.array(line, dtype=np.int64))
                        line = []
                        skipped["missing_node_refs"] = skipped.get("missing_node_refs", 0) + 1
                        continue
                    k = key_of.get(nd.ref)
                    if k is None:
                        k = key_of[nd.ref] = len(lats)
                        lats.append(loc.lat)
                        lngs.append(loc.lon)
                    line.append(k)
                if len(line) >= 2:
                    polylines.append(np.array(line, dtype=np.int64))
                    stats["ways_kept"] += 1
                else:
                    skipped["too_short"] = skipped.get("too_short", 0) + 1
            else:
                skipped[reason] = skipped.get(reason, 0) + 1
    except NetworkError:
        raise
    except Exception as exc:  # osmium raises RuntimeError and friends on bad files
        raise NetworkError(f"无法读取 .osm.pbf 文件：{exc}", f"cannot read the .osm.pbf file: {exc}") from None
    node_lat, node_lng = np.array(lats, dtype=np.float64), np.array(lngs, dtype=np.float64)
    _check_coordinates(node_lat, node_lng)
    return _assemble(node_lat, node_lng, polylines, params, str(path), stats)


def read_geojson_lines(path_or_data, params: NetworkParams = NetworkParams()) -> StreetNetwork:
    """Walkable lines from GeoJSON (LineString / MultiLineString, WGS-84). Lines join where they
    share a vertex (to 1e-7°, about 1 cm). A feature with a ``highway`` property is filtered like
    an OSM way; one without is taken as walkable."""
    if isinstance(path_or_data, dict):
        data, source = path_or_data, "<geojson>"
    else:
        source = str(path_or_data)
        try:
            with open(path_or_data, encoding="utf-8-sig") as f:
                data = json.load(f)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise NetworkError(f"GeoJSON 文件无法读取：{exc}", f"the GeoJSON file cannot be read: {exc}") from None
    stats: dict = {"format": "geojson", "ways_read": 0, "ways_kept": 0, "skipped": {}}
    skipped = stats["skipped"]
    if not isinstance(data, dict):
        raise NetworkError("GeoJSON 顶层必须是对象", "GeoJSON must be an object at the top level")
    if data.get("type") == "FeatureCollection":
        features = data.get("features") or []
    elif data.get("type") == "Feature":
        features = [data]
    elif "coordinates" in data or data.get("type") == "GeometryCollection":
        features = [{"type": "Feature", "properties": {}, "geometry": data}]
    else:
        raise NetworkError("不是 GeoJSON（缺少 FeatureCollection / Feature）",
                           "not GeoJSON (no FeatureCollection / Feature)")
    lines: list[list] = []

    def collect(geometry, props) -> None:
        if not isinstance(geometry, dict):
            skipped["no_geometry"] = skipped.get("no_geometry", 0) + 1
            return
        kind = geometry.get("type")
        if kind == "GeometryCollection":
            for g in geometry.get("geometries") or []:
                collect(g, props)
            return
        if kind not in ("LineString", "MultiLineString"):
            skipped["not_a_line"] = skipped.get("not_a_line", 0) + 1
            return
        stats["ways_read"] += 1
        if "highway" in props:
            reason = way_decision({k: (None if v is None else str(v)) for k, v in props.items()})
            if reason is not None:
                skipped[reason] = skipped.get(reason, 0) + 1
                return
        parts = [geometry.get("coordinates")] if kind == "LineString" else geometry.get("coordinates") or []
        kept = False
        for part in parts:
            try:
                coords = [(float(c[1]), float(c[0])) for c in part]
            except (TypeError, ValueError, IndexError):
                skipped["bad_coordinates"] = skipped.get("bad_coordinates", 0) + 1
                continue
            if len(coords) >= 2:
                lines.append(coords)
                kept = True
        stats["ways_kept"] += int(kept)

    for feature in features:
        if not isinstance(feature, dict):
            continue
        collect(feature.get("geometry"), feature.get("properties") or {})
    if not lines:
        raise NetworkError("GeoJSON 中没有可步行的线（LineString / MultiLineString）",
                           "the GeoJSON holds no walkable lines (LineString / MultiLineString)")
    flat = np.array([c for line in lines for c in line], dtype=np.float64)
    _check_coordinates(flat[:, 0], flat[:, 1])
    keys = np.round(flat * 1e7).astype(np.int64)
    _, first, inverse = np.unique(keys[:, 0] * 4_000_000_000 + keys[:, 1], return_index=True, return_inverse=True)
    node_lat, node_lng = flat[first, 0], flat[first, 1]
    bounds = np.cumsum([0] + [len(line) for line in lines])
    polylines = [inverse[bounds[i]:bounds[i + 1]] for i in range(len(lines))]
    return _assemble(node_lat, node_lng, polylines, params, source, stats)


def _check_coordinates(lat: np.ndarray, lng: np.ndarray) -> None:
    if len(lat) == 0:
        raise NetworkError("文件中没有节点坐标", "the file holds no node coordinates")
    if not (np.isfinite(lat).all() and np.isfinite(lng).all()) or np.abs(lat).max() > 90 or np.abs(lng).max() > 180:
        raise NetworkError("坐标超出范围（纬度须在 ±90 之内，经度须在 ±180 之内；GeoJSON 为 [经度, 纬度]）",
                           "coordinates out of range (|lat| ≤ 90, |lng| ≤ 180; GeoJSON is [lng, lat])")


def read_network(path, params: NetworkParams = NetworkParams()) -> StreetNetwork:
    """Read a walking network, choosing the reader by the file name."""
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise NetworkError(f"找不到文件：{path.name}", f"file not found: {path.name}")
    if name.endswith((".osm.pbf", ".pbf")):
        return read_osm_pbf(path, params)
    if name.endswith((".osm", ".osm.xml", ".xml", ".osm.gz", ".osm.bz2")):
        return read_osm_xml(path, params)
    if name.endswith((".geojson", ".json")):
        return read_geojson_lines(path, params)
    raise NetworkError("不支持的路网格式（可用 .osm、.osm.pbf、.geojson）",
                       "unsupported network format (use .osm, .osm.pbf or .geojson)")


# --- snapping -------------------------------------------------------------------------------------

def snap(net_tree: cKDTree, net: StreetNetwork, lat, lng, max_snap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Nearest network node of each point and the straight-line metres to it (-1 / inf beyond
    ``max_snap_m``)."""
    lat = np.asarray(lat, dtype=np.float64).ravel()
    lng = np.asarray(lng, dtype=np.float64).ravel()
    if len(lat) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    x, y = gridmod.to_local_xy(lat, lng)
    # The local projection is good to ~0.5% here; ask a little farther, then measure exactly.
    d, node = net_tree.query(np.column_stack([x, y]), distance_upper_bound=max_snap_m * 1.02 + 1.0)
    ok = np.isfinite(d)
    node = np.where(ok, node, -1).astype(np.int64)
    leg = np.full(len(lat), np.inf)
    if ok.any():
        leg[ok] = geo.haversine_m(lat[ok], lng[ok], net.lat[node[ok]], net.lng[node[ok]])
    far = leg > max_snap_m
    node[far] = -1
    leg[far] = np.inf
    return node, leg


# --- numba kernels over CSR ---------------------------------------------------------------------

@njit(cache=True)
def _contract(indptr, indices, weights, keep):
    """Replace every chain of degree-2 nodes between kept nodes by one edge.

    Returns the chain edges (kept → kept, old ids, total metres) and, for every node inside a chain,
    its two ends, its metres to each end and the chain's number (-1 for kept nodes and for nodes on
    rings with no kept node, which no cell can reach)."""
    n = len(keep)
    end_a = np.full(n, -1, np.int64)
    end_b = np.full(n, -1, np.int64)
    off_a = np.zeros(n)
    off_b = np.zeros(n)
    chain = np.full(n, -1, np.int64)
    cap = len(indices) + 1
    ea = np.empty(cap, np.int64)
    eb = np.empty(cap, np.int64)
    ew = np.empty(cap)
    buf_n = np.empty(n + 1, np.int64)
    buf_o = np.empty(n + 1)
    m = 0
    for k in range(n):
        if not keep[k]:
            continue
        for e in range(indptr[k], indptr[k + 1]):
            prev = k
            cur = indices[e]
            total = weights[e]
            cnt = 0
            while not keep[cur]:
                buf_n[cnt] = cur
                buf_o[cnt] = total
                cnt += 1
                p = indptr[cur]
                if indices[p] == prev:
                    nxt = indices[p + 1]
                    w = weights[p + 1]
                else:
                    nxt = indices[p]
                    w = weights[p]
                prev = cur
                cur = nxt
                total += w
            end = cur
            # Each chain is walked from both ends: emit it once (a loop back to k: once too).
            if k < end or (k == end and cnt > 0 and buf_n[0] < buf_n[cnt - 1]):
                ea[m] = k
                eb[m] = end
                ew[m] = total
                for i in range(cnt):
                    v = buf_n[i]
                    end_a[v] = k
                    end_b[v] = end
                    off_a[v] = buf_o[i]
                    off_b[v] = total - buf_o[i]
                    chain[v] = m
                m += 1
    return ea[:m], eb[:m], ew[:m], end_a, end_b, off_a, off_b, chain


@njit(cache=True, nogil=True)
def _count_multi(indptr, indices, weights, grp_ptr, src_nodes, src_offsets, grp_counts, limit_m, n):
    """For each source group (one facility: one or two graph nodes with starting metres), add its
    count to every node reached within ``limit_m``."""
    counts = np.zeros(n, np.int32)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int32)
    cap = len(indices) + len(src_nodes) + 2
    heap_d = np.empty(cap)
    heap_v = np.empty(cap, np.int32)
    for s in range(len(grp_ptr) - 1):
        n_touched = 0
        size = 0
        for j in range(grp_ptr[s], grp_ptr[s + 1]):
            o = src_nodes[j]
            d0 = src_offsets[j]
            if d0 <= limit_m and d0 < dist[o]:
                if dist[o] == np.inf:
                    touched[n_touched] = o
                    n_touched += 1
                dist[o] = d0
                size = access._push(heap_d, heap_v, size, d0, o)
        while size > 0:
            d, v, size = access._pop(heap_d, heap_v, size)
            if d > dist[v]:
                continue
            for e in range(indptr[v], indptr[v + 1]):
                w = indices[e]
                nd = d + weights[e]
                if nd <= limit_m and nd < dist[w]:
                    if dist[w] == np.inf:
                        touched[n_touched] = w
                        n_touched += 1
                    dist[w] = nd
                    size = access._push(heap_d, heap_v, size, nd, w)
        for t in range(n_touched):
            counts[touched[t]] += grp_counts[s]
            dist[touched[t]] = np.inf
    return counts


@njit(cache=True, nogil=True)
def _reach_multi(indptr, indices, weights, src_nodes, src_offsets, limit_m, n):
    dist = np.full(n, np.inf)
    order = np.empty(n, np.int32)
    n_done = 0
    cap = len(indices) + len(src_nodes) + 2
    heap_d = np.empty(cap)
    heap_v = np.empty(cap, np.int32)
    size = 0
    for j in range(len(src_nodes)):
        o = src_nodes[j]
        if src_offsets[j] <= limit_m and src_offsets[j] < dist[o]:
            dist[o] = src_offsets[j]
            size = access._push(heap_d, heap_v, size, src_offsets[j], o)
    while size > 0:
        d, v, size = access._pop(heap_d, heap_v, size)
        if d > dist[v]:
            continue
        order[n_done] = v
        n_done += 1
        for e in range(indptr[v], indptr[v + 1]):
            w = indices[e]
            nd = d + weights[e]
            if nd <= limit_m and nd < dist[w]:
                dist[w] = nd
                size = access._push(heap_d, heap_v, size, nd, w)
    nodes = order[:n_done].copy()
    return nodes, dist[nodes]


# --- the model: network + the city's cells ---------------------------------------------------------

@dataclass
class NetworkModel:
    """A street network prepared for searches, with the city's H3 cells attached as leaves.

    The search graph is the street network with chains of degree-2 nodes (shape nodes, densified
    points) contracted into single edges, except nodes a cell snaps to: graph nodes
    ``0 .. n_core-1`` are the kept street nodes, ``n_core + j`` is the leaf of the j-th snapped cell
    (``leaf_cell[j]`` is its grid position; ``cell_leaf[pos]`` the graph node of a cell's leaf, -1 if
    the cell is farther than ``max_snap_m`` from every street). A point that snaps to a contracted
    node enters the graph at both ends of its chain, with the metres along the chain added, so every
    distance is exactly the one on the full network.
    """

    net: StreetNetwork
    grid: gridmod.CityGrid
    params: NetworkParams
    tree: cKDTree            # over all street nodes (local metres)
    cell_node: np.ndarray    # (N,) street node (full network id) of each cell, -1 if not snapped
    cell_leg: np.ndarray     # (N,) metres from the cell centre to that node, inf if not snapped
    cell_leaf: np.ndarray    # (N,) graph node of the cell's leaf, -1 if not snapped
    leaf_cell: np.ndarray    # (L,) grid position of each leaf
    graph: sp.csr_matrix     # contracted street edges + leaf edges, both directions
    kept_id: np.ndarray      # (n_street,) graph node of a kept street node, -1 if contracted
    end_a: np.ndarray        # (n_street,) for a contracted node: graph node at one end of its chain
    end_b: np.ndarray
    off_a: np.ndarray        # metres along the chain to end_a / end_b
    off_b: np.ndarray
    chain: np.ndarray        # chain number of a contracted node (-1 if kept or unreachable)
    n_core: int
    timings: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def n_street(self) -> int:
        return self.net.n_nodes

    @property
    def n_graph(self) -> int:
        return self.graph.shape[0]

    @property
    def snapped_share(self) -> float:
        return float((self.cell_leaf >= 0).mean()) if len(self.cell_leaf) else 0.0

    def snap_points(self, lat, lng) -> tuple[np.ndarray, np.ndarray]:
        """Nearest street node (full network id) and snap metres of each point (-1 / inf beyond
        ``max_snap_m``)."""
        return snap(self.tree, self.net, lat, lng, self.params.max_snap_m)

    def entries(self, node: np.ndarray, leg: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Where snapped points enter the search graph: (point index, graph node, starting metres),
        one row for a kept node, two (both chain ends) for a contracted one, none if not snapped."""
        node = np.asarray(node, dtype=np.int64)
        leg = np.asarray(leg, dtype=np.float64)
        idx = np.arange(len(node))
        ok = node >= 0
        safe = np.where(ok, node, 0)
        kept = ok & (self.kept_id[safe] >= 0)
        inner = ok & ~kept & (self.end_a[safe] >= 0)
        ki, ii = idx[kept], idx[inner]
        pts = np.concatenate([ki, ii, ii])
        nodes = np.concatenate([self.kept_id[node[ki]], self.end_a[node[ii]], self.end_b[node[ii]]])
        offs = np.concatenate([leg[ki], leg[ii] + self.off_a[node[ii]], leg[ii] + self.off_b[node[ii]]])
        order = np.argsort(pts, kind="stable")
        return pts[order], nodes[order], offs[order]

    def _csr_arrays(self):
        if not hasattr(self, "_arrays"):
            g = self.graph
            self._arrays = (g.indptr.astype(np.int64), g.indices.astype(np.int32), g.data.astype(np.float64))
        return self._arrays

    # --- one facility type -------------------------------------------------------------------
    def type_access(self, lat, lng, rows, limit_m: float, count_limit_m: float
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
        """Walking metres from every cell to the nearest of these facilities, that facility's row,
        and how many lie within ``count_limit_m`` — plus diagnostics (facilities not snapped)."""
        n_cells = self.grid.size
        dist = np.full(n_cells, np.inf, np.float32)
        nearest = np.full(n_cells, -1, np.int32)
        count = np.zeros(n_cells, np.uint16)
        rows = np.asarray(rows, dtype=np.int64)
        node, leg = self.snap_points(lat, lng)
        ok = node >= 0
        info = {"facilities": int(len(rows)), "snapped": int(ok.sum()), "not_snapped": int((~ok).sum())}
        pts, gnode, off = self.entries(node, leg)
        if len(pts) == 0:
            return dist, nearest, count, info
        indptr, indices, data = self._csr_arrays()
        n = self.graph.shape[0]
        # Nearest: one virtual source S = n, joined to each entry node by the smallest starting
        # metres there (ties: the smallest facility row), then one shortest-path search from S.
        prow = rows[pts]
        order = np.lexsort((prow, off, gnode))
        g_s, o_s, r_s = gnode[order], off[order], prow[order]
        first = np.ones(len(g_s), bool)
        first[1:] = g_s[1:] != g_s[:-1]
        top_node, top_off, top_row = g_s[first], o_s[first], r_s[first]
        aug = sp.csr_matrix((np.concatenate([data, top_off]),
                             np.concatenate([indices, top_node.astype(np.int32)]),
                             np.concatenate([indptr, [indptr[-1] + len(top_node)]])), shape=(n + 1, n + 1))
        d, pred = dijkstra(aug, directed=True, indices=n, return_predecessors=True, limit=float(limit_m))
        # Which facility: follow predecessors up to the node joined to S (pointer jumping).
        anc = pred.astype(np.int64)
        anc[anc < 0] = -1
        is_top = anc == n
        anc[is_top] = np.flatnonzero(is_top)
        anc[n] = -1
        for _ in range(64):
            ok_a = anc >= 0
            nxt = anc.copy()
            nxt[ok_a] = anc[anc[ok_a]]
            if np.array_equal(nxt, anc):
                break
            anc = nxt
        row_of_top = np.full(n + 1, -1, np.int64)
        row_of_top[top_node] = top_row
        cells = np.flatnonzero(self.cell_leaf >= 0)
        leaf_nodes = self.cell_leaf[cells]
        dl = d[leaf_nodes]
        reached = np.isfinite(dl)
        dist[cells[reached]] = dl[reached].astype(np.float32)
        owner = np.where(anc[leaf_nodes] >= 0, row_of_top[np.maximum(anc[leaf_nodes], 0)], -1)
        nearest[cells[reached]] = owner[reached].astype(np.int32)
        # Counts within count_limit_m: one bounded search per distinct facility position (node, leg).
        keys = np.column_stack([node[ok].astype(np.float64), np.round(leg[ok], 6)])
        uniq, first_of, weight = np.unique(keys, axis=0, return_index=True, return_counts=True)
        rep = np.flatnonzero(ok)[first_of]                      # one facility per distinct position
        g_pts, g_nodes, g_offs = self.entries(node[rep], leg[rep])
        grp_ptr = np.searchsorted(g_pts, np.arange(len(rep) + 1))
        c = _count_multi(indptr, indices, data, grp_ptr.astype(np.int64), g_nodes.astype(np.int64),
                         g_offs.astype(np.float64), weight.astype(np.int32), float(count_limit_m), n)
        count[cells] = np.minimum(c[leaf_nodes], 65535).astype(np.uint16)
        return dist, nearest, count, info

    def reach_cell(self, pos: int, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Cells within ``limit_m`` of a facility placed at cell ``pos``'s centre (snapped like the
        cell), nearest first, with metres. Empty if the cell is not on the network."""
        node = int(self.cell_node[pos])
        if node < 0:
            return np.zeros(0, np.int64), np.zeros(0)
        return self.reach_from_node(node, float(self.cell_leg[pos]), limit_m)

    def reach_from_node(self, node: int, offset_m: float, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Cells within ``limit_m`` of street node ``node`` (full network id) entered with
        ``offset_m`` metres already walked."""
        _, g_nodes, g_offs = self.entries(np.array([node]), np.array([offset_m]))
        if len(g_nodes) == 0:
            return np.zeros(0, np.int64), np.zeros(0)
        indptr, indices, data = self._csr_arrays()
        nodes, metres = _reach_multi(indptr, indices, data, g_nodes.astype(np.int64), g_offs.astype(np.float64),
                                     float(limit_m), self.graph.shape[0])
        is_leaf = nodes >= self.n_core
        return self.leaf_cell[nodes[is_leaf] - self.n_core].astype(np.int64), metres[is_leaf]

    def point_to_point_m(self, lat1, lng1, lat2, lng2) -> float:
        """Walking metres between two points along the network, snap legs included (inf if either
        point is beyond the snapping distance or no path joins them)."""
        nodes, legs = self.snap_points([lat1, lat2], [lng1, lng2])
        if (nodes < 0).any():
            return math.inf
        a, b = int(nodes[0]), int(nodes[1])
        best = math.inf
        if a == b:
            best = float(legs[0] + legs[1])
        elif self.chain[a] >= 0 and self.chain[a] == self.chain[b]:   # along their own chain
            best = float(legs[0] + abs(self.off_a[a] - self.off_a[b]) + legs[1])
        p1, n1, o1 = self.entries(nodes[:1], legs[:1])
        p2, n2, o2 = self.entries(nodes[1:], legs[1:])
        if len(n1) and len(n2):
            d = dijkstra(self.graph, directed=False, indices=n1)
            d = np.atleast_2d(d)
            for i in range(len(n1)):
                for j in range(len(n2)):
                    best = min(best, float(o1[i] + d[i, n2[j]] + o2[j]))
        return best


def attach_grid(net: StreetNetwork, grid: gridmod.CityGrid, params: NetworkParams = NetworkParams()) -> NetworkModel:
    """Snap every cell centre of ``grid`` to ``net`` and build the search graph (chains contracted,
    cell leaves attached)."""
    t = time.perf_counter()
    x, y = gridmod.to_local_xy(net.lat, net.lng)
    tree = cKDTree(np.column_stack([x, y]))
    cell_node, cell_leg = snap(tree, net, grid.lat, grid.lng, params.max_snap_m)
    t_snap = time.perf_counter() - t
    t = time.perf_counter()
    n_street = net.n_nodes
    full = _symmetric_csr(n_street, net.u, net.v, net.length_m)
    degree = np.diff(full.indptr)
    keep = degree != 2
    keep[cell_node[cell_node >= 0]] = True
    ea, eb, ew, end_a, end_b, off_a, off_b, chain = _contract(
        full.indptr.astype(np.int64), full.indices.astype(np.int64), full.data.astype(np.float64), keep)
    kept_id = np.full(n_street, -1, np.int64)
    kept_id[keep] = np.arange(int(keep.sum()))
    n_core = int(keep.sum())
    # Parallel chains between the same two nodes: the shortest one.
    lo, hi = kept_id[np.minimum(ea, eb)], kept_id[np.maximum(ea, eb)]
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    loop = lo == hi                                 # a chain back to its own node never shortens a walk
    lo, hi, ew = lo[~loop], hi[~loop], ew[~loop]
    order = np.lexsort((ew, hi, lo))
    lo, hi, ew = lo[order], hi[order], ew[order]
    first = np.ones(len(lo), bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    lo, hi, ew = lo[first], hi[first], ew[first]
    snapped = np.flatnonzero(cell_node >= 0)
    leaf = n_core + np.arange(len(snapped))
    cell_leaf = np.full(grid.size, -1, np.int64)
    cell_leaf[snapped] = leaf
    u = np.concatenate([lo, kept_id[cell_node[snapped]]])
    v = np.concatenate([hi, leaf])
    w = np.concatenate([ew, cell_leg[snapped]])
    graph = _symmetric_csr(n_core + len(snapped), u, v, w)
    ends_a = np.where(end_a >= 0, kept_id[np.maximum(end_a, 0)], -1)
    ends_b = np.where(end_b >= 0, kept_id[np.maximum(end_b, 0)], -1)
    stats = {"street_nodes": n_street, "search_nodes": n_core, "contracted_nodes": int(n_street - n_core),
             "unreachable_ring_nodes": int(((~keep) & (end_a < 0)).sum()), "cells_snapped": int(len(snapped))}
    return NetworkModel(net, grid, params, tree, cell_node, cell_leg, cell_leaf, snapped.astype(np.int64),
                        graph, kept_id, ends_a, ends_b, off_a, off_b, chain, n_core,
                        {"snap_cells_s": t_snap, "contract_s": time.perf_counter() - t}, stats)


# --- the index --------------------------------------------------------------------------------------

def compute_network_access(model: NetworkModel, facilities: pd.DataFrame, params: ix.Params,
                           type_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The three index arrays for every type on the network (types run on a thread pool)."""
    n = model.grid.size
    dist = np.full((len(type_ids), n), np.inf, dtype=np.float32)
    nearest = np.full((len(type_ids), n), -1, dtype=np.int32)
    count = np.zeros((len(type_ids), n), dtype=np.uint16)
    count_limit = access.metres_from_minutes(ix.COUNT_MINUTES, params.speed_kmh)
    by_type = {t: g for t, g in facilities.groupby("type")}
    info: dict[str, dict] = {}

    def one(i: int) -> None:
        rows = by_type.get(type_ids[i])
        if rows is None or len(rows) == 0:
            return
        d, o, c, inf = model.type_access(rows["lat"].to_numpy(), rows["lng"].to_numpy(), rows.index.to_numpy(),
                                         params.limit_m, count_limit)
        dist[i], nearest[i], count[i] = d, o, c
        info[type_ids[i]] = inf

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        list(pool.map(one, range(len(type_ids))))
    return dist, nearest, count, info


def _network_key(net: StreetNetwork, dataset: ix.Dataset, params: ix.Params, net_params: NetworkParams) -> str:
    digest = hashlib.sha256()
    digest.update(ix._hash_inputs(dataset, params).encode())
    digest.update(json.dumps(net_params.__dict__, sort_keys=True).encode())
    for arr in (net.lat, net.lng, net.u, net.v, net.length_m):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return "net-" + digest.hexdigest()[:16]


def build_network_index(network, dataset: ix.Dataset = ix.DEFAULT_DATASET, params: ix.Params = ix.Params(),
                        *, grid: gridmod.CityGrid | None = None,
                        net_params: NetworkParams = NetworkParams()) -> ix.CityIndex:
    """A :class:`CityIndex` whose distances are measured along a street network.

    ``network`` is a file path (``.osm``, ``.osm.pbf``, ``.geojson``) or a :class:`StreetNetwork`.
    ``grid`` defaults to the city grid at ``params.resolution`` (pass one to reuse it). The index
    gets ``engine = "network"``, ``network`` (the :class:`NetworkModel`) and ``timings`` with every
    stage. ``params.circuity`` is not used: walking metres are real path metres.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    if isinstance(network, StreetNetwork):
        net = network
    else:
        t = time.perf_counter()
        net = read_network(network, net_params)
        timings["read_network_s"] = time.perf_counter() - t
    if grid is None:
        t = time.perf_counter()
        grid = gridmod.build_grid(params.resolution)
        timings["grid_s"] = time.perf_counter() - t
    t = time.perf_counter()
    model = attach_grid(net, grid, net_params)
    timings["attach_grid_s"] = time.perf_counter() - t
    timings.update(model.timings)
    facilities_raw = pd.read_csv(dataset.facilities_path, dtype={"district_code": str, "id": str})
    residences = pd.read_csv(dataset.residences_path, dtype={"community_code": str, "street_code": str,
                                                             "district_code": str})
    t = time.perf_counter()
    facilities = ix._prepare_facilities(facilities_raw, grid)
    timings["facilities_to_cells_s"] = time.perf_counter() - t
    type_ids = tuple(ft.id for ft in facility_types())
    t = time.perf_counter()
    dist, nearest, count, info = compute_network_access(model, facilities, params, type_ids)
    timings["access_s"] = time.perf_counter() - t
    key = _network_key(net, dataset, params, net_params)
    timings["total_s"] = time.perf_counter() - t0
    index = ix.CityIndex(grid, facilities, residences, dist, nearest, count, params, dataset, key, timings)
    index.engine = "network"
    index.network = model
    index.network_info = {"network": dict(net.stats), "source": net.source,
                          "cells_snapped": int((model.cell_leaf >= 0).sum()), "cells": int(grid.size),
                          "facilities_not_snapped": int(sum(v["not_snapped"] for v in info.values())),
                          "per_type": info, "params": net_params.__dict__, "search_graph": model.stats}
    return index


def method_text(index) -> tuple[str, str]:
    """How an index measured walking (for provenance tags)."""
    if getattr(index, "engine", "grid") == "network":
        p = index.network.params
        return (f"街道路网步行模型（最大吸附 {p.max_snap_m:g} 米），{index.params.speed_kmh:g} km/h",
                f"street-network walking model (max snap {p.max_snap_m:g} m), {index.params.speed_kmh:g} km/h")
    return ("", "")


# --- how far is the grid engine from the network? ------------------------------------------------

def compare_engines(grid_index: ix.CityIndex, network_index: ix.CityIndex, *, populated_only: bool = False
                    ) -> pd.DataFrame:
    """One row per facility type (and a last row ``ALL``): how the grid engine's minutes differ
    from the network engine's on the same cells.

    Columns: cells compared (finite in both), mean / median / p90 of |grid − network| minutes and of
    the relative difference |grid − network| ÷ network, the mean signed difference (grid − network:
    > 0 means the grid is pessimistic), cells reachable in only one engine, the share of cells
    (reachable in either) where "within the type's threshold" disagrees, and the same share
    weighted by residents. ``populated_only`` restricts to cells with residents.
    """
    if grid_index.dist_m.shape != network_index.dist_m.shape:
        raise ValueError("两个索引的网格不同 / the two indexes are not on the same grid")
    gm, nm = grid_index.minutes(), network_index.minutes()
    pop = network_index.population
    scope = pop > 0 if populated_only else np.ones(gm.shape[1], bool)
    rows = []
    all_abs, all_rel, all_signed = [], [], []
    tot = {"either": 0, "disagree": 0, "pop_either": 0.0, "pop_disagree": 0.0, "only_grid": 0, "only_network": 0}
    for i, ftype in enumerate(grid_index.types):
        g, n = gm[i][scope].astype(np.float64), nm[i][scope].astype(np.float64)
        p = pop[scope]
        fg, fn = np.isfinite(g), np.isfinite(n)
        both = fg & fn
        either = fg | fn
        diff = g[both] - n[both]
        absd = np.abs(diff)
        rel = absd / np.maximum(n[both], 0.5)   # half a minute floor: no blow-up at the facility itself
        thr = ftype.threshold_min
        disagree = ((g <= thr) != (n <= thr)) & either
        row = {"type": ftype.id, "type_zh": ftype.name_zh, "type_en": ftype.name_en, "threshold_min": thr,
               "cells_compared": int(both.sum()),
               "cells_only_grid": int((fg & ~fn).sum()), "cells_only_network": int((fn & ~fg).sum())}
        row.update(_stats(absd, rel, diff))
        row["share_cells_disagree"] = float(disagree.sum() / either.sum()) if either.any() else float("nan")
        pe = p[either].sum()
        row["share_residents_disagree"] = float(p[disagree].sum() / pe) if pe > 0 else float("nan")
        rows.append(row)
        all_abs.append(absd)
        all_rel.append(rel)
        all_signed.append(diff)
        tot["either"] += int(either.sum())
        tot["disagree"] += int(disagree.sum())
        tot["pop_either"] += float(pe)
        tot["pop_disagree"] += float(p[disagree].sum())
        tot["only_grid"] += row["cells_only_grid"]
        tot["only_network"] += row["cells_only_network"]
    absd, rel, diff = np.concatenate(all_abs), np.concatenate(all_rel), np.concatenate(all_signed)
    row = {"type": "ALL", "type_zh": "全部类型", "type_en": "all types", "threshold_min": np.nan,
           "cells_compared": int(len(absd)), "cells_only_grid": tot["only_grid"],
           "cells_only_network": tot["only_network"]}
    row.update(_stats(absd, rel, diff))
    row["share_cells_disagree"] = tot["disagree"] / tot["either"] if tot["either"] else float("nan")
    row["share_residents_disagree"] = tot["pop_disagree"] / tot["pop_either"] if tot["pop_either"] > 0 else float("nan")
    rows.append(row)
    return pd.DataFrame(rows)


def _stats(absd: np.ndarray, rel: np.ndarray, diff: np.ndarray) -> dict:
    if len(absd) == 0:
        nan = float("nan")
        return {"mean_abs_diff_min": nan, "median_abs_diff_min": nan, "p90_abs_diff_min": nan,
                "mean_rel_diff": nan, "median_rel_diff": nan, "p90_rel_diff": nan, "mean_signed_diff_min": nan}
    return {"mean_abs_diff_min": float(absd.mean()), "median_abs_diff_min": float(np.median(absd)),
            "p90_abs_diff_min": float(np.percentile(absd, 90)), "mean_rel_diff": float(rel.mean()),
            "median_rel_diff": float(np.median(rel)), "p90_rel_diff": float(np.percentile(rel, 90)),
            "mean_signed_diff_min": float(diff.mean())}
