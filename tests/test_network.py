"""The street network engine: readers, snapping, hand-computed walks, the index schema, the comparison.

The test town (``circle.testnet.river_town``, written by the tests as .osm, .geojson and .osm.pbf):
a 4 × 4 grid of 200 m blocks (x, y ∈ {0, 200, ..., 800} m east/north of the origin) with a diagonal
footpath through the block at the origin and a dead-end service road from (600, 300) to (700, 300);
a river between x = 800 and x = 1200 crossed on foot only by a footbridge at y = 800 (a motorway, a
foot=no and a private road also cross it); an east bank grid at x ∈ {1200, 1400}.
"""
from __future__ import annotations

import heapq
import json
import math

import numpy as np
import pytest

from circle import index as ix
from circle import network, testnet
from circle.network import NetworkError, NetworkParams
from circle.taxonomy import facility_types

SQRT2 = math.sqrt(2.0)
B = testnet.BLOCK_M
TYPE_A, TYPE_B, TYPE_C = "supermarket", "primary_school", "park"


def approx_m(expected):
    return pytest.approx(expected, rel=1e-3, abs=0.5)


@pytest.fixture(scope="module")
def town():
    return testnet.river_town()


@pytest.fixture(scope="module")
def files(town, tmp_path_factory):
    folder = tmp_path_factory.mktemp("town")
    out = {"osm": testnet.write_osm_xml(town, folder / "town.osm"),
           "geojson": testnet.write_geojson(town, folder / "town.geojson")}
    if network.osmium_available():
        out["pbf"] = testnet.write_osm_pbf(town, folder / "town.osm.pbf")
    return out


@pytest.fixture(scope="module")
def net(files):
    return network.read_network(files["osm"])


@pytest.fixture(scope="module")
def grid(town):
    return testnet.mini_grid(*testnet.box_around(town, 300.0))


@pytest.fixture(scope="module")
def model(net, grid):
    return network.attach_grid(net, grid)


def walk(model, town, a, b) -> float:
    return model.point_to_point_m(*town.latlng(*a), *town.latlng(*b))


def reference_dijkstra(net, source: int) -> np.ndarray:
    """Plain heapq Dijkstra over the network's edge list (obviously right, slow)."""
    adj = [[] for _ in range(net.n_nodes)]
    for u, v, w in zip(net.u.tolist(), net.v.tolist(), net.length_m.tolist()):
        adj[u].append((v, w))
        adj[v].append((u, w))
    dist = [math.inf] * net.n_nodes
    dist[source] = 0.0
    heap = [(0.0, source)]
    while heap:
        d, v = heapq.heappop(heap)
        if d > dist[v]:
            continue
        for w, length in adj[v]:
            if d + length < dist[w]:
                dist[w] = d + length
                heapq.heappush(heap, (dist[w], w))
    return np.array(dist)


# --- readers ------------------------------------------------------------------------------------

def test_osm_xml_reader_keeps_only_walkable_ways(net):
    skipped = net.stats["skipped"]
    assert skipped == {"motorway": 1, "foot_no": 1, "private": 1, "not_walkable": 1}  # + construction
    assert net.stats["ways_kept"] == 21
    assert net.stats["nodes_dropped_small_components"] == 2  # the lone footway in the north
    # Street length: 5 + 5 west streets of 800 m, the diagonal, the dead end, the east bank
    # (5 × 200 + 2 × 800) and the footbridge (400 m).
    expected_km = (10 * 800 + 200 * SQRT2 + 100 + 5 * 200 + 2 * 800 + 400) / 1000
    assert net.total_km == pytest.approx(expected_km, rel=1e-3)
    assert (net.u < net.v).all() and (net.length_m > 0).all()


@pytest.mark.parametrize("kind", ["geojson", "pbf"])
def test_other_readers_build_the_same_graph(files, net, kind):
    if kind not in files:
        pytest.skip("osmium not installed: .osm.pbf unsupported here")
    other = network.read_network(files[kind])
    assert (other.n_nodes, other.n_edges) == (net.n_nodes, net.n_edges)
    assert other.total_km == pytest.approx(net.total_km, rel=1e-5)   # .pbf stores 1e-7°
    assert other.stats["skipped"] == net.stats["skipped"]
    # Same node positions (to 1 cm), whatever the order.
    a = np.sort(np.round(np.column_stack([net.lat, net.lng]) * 1e6), axis=0)
    b = np.sort(np.round(np.column_stack([other.lat, other.lng]) * 1e6), axis=0)
    assert np.abs(a - b).max() <= 1


def test_densify_keeps_lengths(files):
    plain = network.read_network(files["osm"], NetworkParams(densify_m=0))
    dense = network.read_network(files["osm"], NetworkParams(densify_m=25))
    assert dense.n_nodes > plain.n_nodes
    assert dense.total_km == pytest.approx(plain.total_km, rel=1e-9)
    assert dense.length_m.max() <= 25.0 + 1.0


@pytest.mark.parametrize("tags, reason", [
    ({"highway": "footway"}, None), ({"highway": "residential"}, None), ({"highway": "steps"}, None),
    ({"highway": "motorway"}, "motorway"), ({"highway": "motorway", "foot": "yes"}, "motorway"),
    ({"highway": "trunk"}, "trunk_or_cycleway"), ({"highway": "trunk", "foot": "yes"}, None),
    ({"highway": "cycleway"}, "not_walkable"), ({"highway": "cycleway", "foot": "designated"}, None),
    ({"highway": "primary", "foot": "no"}, "foot_no"), ({"highway": "service", "access": "private"}, "private"),
    ({"highway": "service", "access": "private", "foot": "yes"}, None), ({"highway": "construction"}, "not_walkable"),
    ({"building": "yes"}, "not_highway"),
])
def test_way_decision(tags, reason):
    assert network.way_decision(tags) == reason


@pytest.mark.parametrize("name, content", [
    ("bad.osm", "<osm><node id='1' lat='39.6' lon='106.8'/><way id='2'><nd ref='1'/"),
    ("notosm.osm", "<html><body>hello</body></html>"),
    ("points.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [106.8, 39.6]}}]})),
    ("swapped.geojson", json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString",
                                                          "coordinates": [[39.6, 106.8], [39.61, 106.8]]}}]})),
    ("broken.geojson", "{not json"),
    ("roads.shp", "whatever"),
    ("empty.osm", "<osm version='0.6'></osm>"),
    ("garbage.osm.pbf", "this is not a pbf"),
])
def test_bad_files_give_a_bilingual_error(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(NetworkError) as err:
        network.read_network(path)
    assert err.value.zh and err.value.en and " / " in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(NetworkError, match="file not found"):
        network.read_network(tmp_path / "nope.osm")


# --- hand-computed walks --------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, expected", [
    ((0, 0), (400, 0), 400.0),                                   # two blocks along a street
    ((0, 0), (0, 800), 800.0),                                   # four blocks
    ((0, 0), (200, 200), 200 * SQRT2),                           # the diagonal footpath
    ((0, 0), (400, 400), 200 * SQRT2 + 400),                     # diagonal, then two blocks
    ((300, 40), (0, 0), 40 + 300),                               # a 40 m snap leg to the street
    ((700, 300), (600, 0), 100 + 300),                           # the end of the dead end
    ((0, 0), (1200, 0), 200 * SQRT2 + 1200 + 400 + 800),         # only the footbridge crosses
    ((1150, 400), (0, 0), 50 + 400 + 400 + 1200 + 200 * SQRT2),  # east bank, 50 m off the street
])
def test_hand_computed_walks(model, town, a, b, expected):
    assert walk(model, town, a, b) == approx_m(expected)
    assert walk(model, town, b, a) == approx_m(expected)  # walking is symmetric


def test_contracted_graph_gives_full_network_distances(model, net, town):
    """Shape and densified nodes are contracted away for searching; walks between random points
    (many snapping to contracted nodes, some on the same chain) equal the full network's."""
    assert model.stats["contracted_nodes"] > 0 and model.n_core < net.n_nodes
    rng = np.random.default_rng(3)
    pts = rng.uniform([-100, -100], [1500, 900], size=(40, 2))
    pts = np.vstack([pts, [[250, 5], [350, 5]], [[620, 310], [690, 290]]])   # same-chain pairs
    nodes, legs = model.snap_points(*town.latlng(pts[:, 0], pts[:, 1]))
    interior = int((model.chain[nodes[nodes >= 0]] >= 0).sum())
    assert interior >= 10
    for i in range(0, len(pts) - 1, 2):
        got = walk(model, town, tuple(pts[i]), tuple(pts[i + 1]))
        if nodes[i] < 0 or nodes[i + 1] < 0:
            assert math.isinf(got)
            continue
        expected = legs[i] + reference_dijkstra(net, int(nodes[i]))[nodes[i + 1]] + legs[i + 1]
        assert got == approx_m(expected) if math.isfinite(expected) else math.isinf(got)


def test_snap_limit_makes_far_points_unreachable(files, grid, town):
    m = network.attach_grid(network.read_network(files["osm"]), grid)
    assert math.isinf(walk(m, town, (1000, 0), (0, 0)))     # mid-river: 200 m from either bank
    assert math.isinf(walk(m, town, (300, 1100), (0, 0)))   # only the dropped sliver is near
    # 120 m off the street: reachable with a 150 m limit, not with 100 m.
    assert walk(m, town, (-120, 400), (0, 0)) == approx_m(120 + 400)
    strict = network.attach_grid(network.read_network(files["osm"]), grid, NetworkParams(max_snap_m=100))
    assert math.isinf(walk(strict, town, (-120, 400), (0, 0)))


def test_across_the_river_without_a_bridge_is_unreachable(tmp_path, grid):
    town = testnet.river_town(with_bridge=False)
    m = network.attach_grid(network.read_network(testnet.write_osm_xml(town, tmp_path / "nobridge.osm")), grid)
    assert math.isinf(walk(m, town, (0, 0), (1200, 0)))     # straight line 1.2 km, no walkable crossing
    assert math.isinf(walk(m, town, (800, 400), (1200, 400)))  # 400 m apart across the water
    assert walk(m, town, (1200, 0), (1400, 800)) == approx_m(1000)   # the east bank is its own world


# --- the index ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dataset(town, tmp_path_factory):
    facilities = [
        {"type": TYPE_A, "lat": town.latlng(0, 0)[0], "lng": town.latlng(0, 0)[1], "id": "A0"},
        {"type": TYPE_B, "lat": town.latlng(400, 400)[0], "lng": town.latlng(400, 400)[1], "id": "B0"},
        {"type": TYPE_B, "lat": town.latlng(1400, 200)[0], "lng": town.latlng(1400, 200)[1], "id": "B1"},
        {"type": TYPE_B, "lat": town.latlng(630, 300)[0], "lng": town.latlng(630, 300)[1], "id": "B2"},
        {"type": TYPE_C, "lat": town.latlng(1000, 400)[0], "lng": town.latlng(1000, 400)[1], "id": "C0"},  # in the river
    ]
    residences = [{"lat": town.latlng(x, y)[0], "lng": town.latlng(x, y)[1], "population": 500}
                  for x, y in [(100, 100), (500, 700), (1300, 300), (1000, 600)]]
    return testnet.write_dataset(tmp_path_factory.mktemp("town_data"), facilities, residences)


@pytest.fixture(scope="module")
def net_index(net, grid, dataset):
    return network.build_network_index(net, dataset, grid=grid)


@pytest.fixture(scope="module")
def grid_idx(grid, dataset):
    return testnet.grid_index(grid, dataset)


def test_same_schema_as_the_grid_engine(net_index, grid_idx):
    for name in ("dist_m", "nearest", "count15"):
        a, b = getattr(net_index, name), getattr(grid_idx, name)
        assert a.shape == b.shape == (len(facility_types()), grid_idx.grid.size), name
        assert a.dtype == b.dtype, name
    assert net_index.engine == "network"
    # Everything built on CityIndex works unchanged.
    from circle import metrics

    assert len(metrics.summary(net_index, "district")) == 3
    profile = net_index.lookup(*testnet.river_town().latlng(420, 380))
    assert profile.inside and profile.types[TYPE_A].minutes is not None
    assert profile.types[TYPE_A].nearest_id == "A0"
    assert set(net_index.timings) >= {"snap_cells_s", "access_s", "total_s"}


def test_cells_equal_snap_leg_plus_reference_path(net_index, net, town):
    """Every cell's metres = its snap leg + the network path to the facility's node (+ its leg 0)."""
    m = net_index.network
    a = net_index.type_pos[TYPE_A]
    node_a, leg_a = m.snap_points(*town.latlng(0, 0))
    assert leg_a[0] == approx_m(0.0)
    ref = reference_dijkstra(net, int(node_a[0]))
    snapped = m.cell_leaf >= 0
    expected = np.where(snapped, m.cell_leg + ref[np.maximum(m.cell_node, 0)], np.inf)
    expected[expected > net_index.params.limit_m] = np.inf
    got = net_index.dist_m[a].astype(np.float64)
    assert np.array_equal(np.isfinite(got), np.isfinite(expected))
    fin = np.isfinite(got)
    assert np.abs(got[fin] - expected[fin]).max() < 0.05   # float32 storage
    assert (net_index.nearest[a][fin] == 0).all() and (net_index.nearest[a][~fin] == -1).all()
    # Unsnapped cells (the river, the far margins) are unreachable, not "near".
    assert np.isinf(got[~snapped]).all() and (~snapped).any()


def test_hand_computed_cells_at_intersections(net_index, town):
    """For cells snapped to a west-bank intersection (i·200, j·200): the walk from the facility at
    the origin is 200√2 + 200(i−1) + 200(j−1) when i, j ≥ 1 (the diagonal first), else 200(i+j)."""
    m = net_index.network
    a = net_index.type_pos[TYPE_A]
    checked = 0
    for i in range(5):
        for j in range(5):
            node, _ = m.snap_points(*town.latlng(i * B, j * B))
            cells = np.flatnonzero(m.cell_node == node[0])
            path = 200 * SQRT2 + B * (i - 1) + B * (j - 1) if i >= 1 and j >= 1 else B * (i + j)
            for c in cells:
                assert float(net_index.dist_m[a, c]) == approx_m(m.cell_leg[c] + path)
                checked += 1
    assert checked >= 5


def test_nearest_and_counts_match_brute_force(net_index, net, town):
    m = net_index.network
    b = net_index.type_pos[TYPE_B]
    fac = net_index.facilities[net_index.facilities["type"] == TYPE_B]
    nodes, legs = m.snap_points(fac["lat"].to_numpy(), fac["lng"].to_numpy())
    assert (nodes >= 0).all()
    per_fac = np.array([legs[k] + reference_dijkstra(net, int(nodes[k]))[np.maximum(m.cell_node, 0)] + m.cell_leg
                        for k in range(len(fac))])            # (F, N) metres cell ← facility
    per_fac[:, m.cell_leaf < 0] = np.inf
    best = per_fac.min(axis=0)
    got = net_index.dist_m[b].astype(np.float64)
    fin = np.isfinite(best)
    assert np.array_equal(np.isfinite(got), fin)
    assert np.abs(got[fin] - best[fin]).max() < 0.05
    # The facility named as nearest is (one of) the nearest.
    chosen = net_index.nearest[b][fin]
    rows = fac.index.to_numpy()
    pick = per_fac[np.searchsorted(rows, chosen), np.flatnonzero(fin)]
    assert np.abs(pick - best[fin]).max() < 0.05
    limit = ix.access.metres_from_minutes(ix.COUNT_MINUTES, net_index.params.speed_kmh)
    assert np.array_equal(net_index.count15[b].astype(int), (per_fac <= limit).sum(axis=0))


def test_facility_beyond_the_snap_limit_serves_no_one(net_index):
    c = net_index.type_pos[TYPE_C]
    assert np.isinf(net_index.dist_m[c]).all()
    assert net_index.network_info["per_type"][TYPE_C] == {"facilities": 1, "snapped": 0, "not_snapped": 1}


def test_reach_cell_agrees_with_type_access(net_index, town):
    """The isochrone of a facility placed at a cell centre = that facility's distances."""
    m = net_index.network
    pos = int(np.flatnonzero(m.cell_leaf >= 0)[17])
    lat, lng = float(m.grid.lat[pos]), float(m.grid.lng[pos])
    d, _, _, _ = m.type_access([lat], [lng], [0], 5000.0, 1000.0)
    cells, metres = m.reach_cell(pos, 1000.0)
    within = np.flatnonzero(d <= 1000.0)
    assert set(cells.tolist()) == set(within.tolist())
    assert np.allclose(np.sort(metres), np.sort(d[within].astype(np.float64)), atol=0.05)


# --- grid vs network ------------------------------------------------------------------------------

def test_compare_engines_identity(net_index):
    table = network.compare_engines(net_index, net_index)
    assert list(table["type"])[-1] == "ALL"
    rows = table[table["cells_compared"] > 0]
    assert (rows["mean_abs_diff_min"] == 0).all() and (rows["share_cells_disagree"] == 0).all()
    assert (table["cells_only_grid"] == 0).all() and (table["cells_only_network"] == 0).all()


def test_compare_engines_sees_the_river(net_index, grid_idx):
    """The mini grid has no river, so the grid engine walks straight across; the network cannot."""
    table = network.compare_engines(grid_idx, net_index).set_index("type")
    assert table.loc[TYPE_A, "cells_only_grid"] > 0
    assert table.loc[TYPE_A, "mean_signed_diff_min"] < 0     # the grid is optimistic here


def test_grid_and_network_agree_on_an_open_grid(tmp_path):
    """On an unobstructed 100 m street grid the two engines agree within the stated tolerance:
    median |Δ| ≤ 1.5 min, median relative |Δ| ≤ 20%, 90th percentile |Δ| ≤ 3.5 min, and "within
    threshold" agrees on ≥ 75% of cells. (Measured: ≈ 0.9 min, 13%, 2.2 min, 88%.) The grid's
    circuity factor (1.2 on hex steps, ≈ 1.28 overall) matches a Manhattan grid's mean detour (4/π ≈
    1.27) on average, but not cell by cell."""
    town = testnet.open_grid(16, 16, 100.0)
    grid = testnet.mini_grid(*testnet.box_around(town, 150.0))
    rng = np.random.default_rng(11)
    types = [t.id for t in facility_types()][:6]
    facilities = []
    for k in range(36):
        la, ln = town.latlng(*rng.uniform(0, 1600, 2))
        facilities.append({"type": types[k % len(types)], "lat": la, "lng": ln})
    residences = [dict(zip(("lat", "lng"), town.latlng(*rng.uniform(0, 1600, 2))), population=800) for _ in range(40)]
    ds = testnet.write_dataset(tmp_path, facilities, residences)
    gi = testnet.grid_index(grid, ds)
    ni = network.build_network_index(testnet.write_osm_xml(town, tmp_path / "open.osm"), ds, grid=grid)
    table = network.compare_engines(gi, ni)
    every = table.set_index("type").loc["ALL"]
    assert every["median_abs_diff_min"] <= 1.5
    assert every["median_rel_diff"] <= 0.20
    assert every["p90_abs_diff_min"] <= 3.5
    assert every["share_cells_disagree"] <= 0.25
    assert every["cells_only_network"] == 0
    populated = network.compare_engines(gi, ni, populated_only=True).set_index("type").loc["ALL"]
    assert populated["cells_compared"] <= every["cells_compared"]


def test_compare_engines_needs_the_same_grid(net_index):
    other = ix.CityIndex.__new__(ix.CityIndex)
    other.dist_m = np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError):
        network.compare_engines(net_index, other)
