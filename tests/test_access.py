"""The walking engines (circle.access) on hand-built graphs, random graphs and the real city grid.

Graphs are given as the engine takes them: ``neighbours`` (N, 6) int32 padded with -1 and
``edge_m`` (N, 6) float32 padded with inf. Walking metres = edge metres × CIRCUITY (1.2).
"""
from __future__ import annotations

import h3
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from circle import access, geo
from circle import grid as gridmod

C = access.CIRCUITY
INF = np.inf


def make_graph(n: int, edges) -> tuple[np.ndarray, np.ndarray]:
    """Undirected graph from (a, b, metres) triples, as the engine's fixed-degree table."""
    neighbours = np.full((n, 6), -1, dtype=np.int32)
    edge_m = np.full((n, 6), np.inf, dtype=np.float32)
    degree = np.zeros(n, dtype=int)
    for a, b, w in edges:
        for u, v in ((a, b), (b, a)):
            assert degree[u] < 6, "test graph has a node of degree > 6"
            neighbours[u, degree[u]] = v
            edge_m[u, degree[u]] = w
            degree[u] += 1
    return neighbours, edge_m


def floyd_warshall(n: int, edges, circuity: float = C) -> np.ndarray:
    """All-pairs walking metres by brute force (float64)."""
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0.0)
    for a, b, w in edges:
        m = float(np.float32(w)) * circuity
        d[a, b] = min(d[a, b], m)
        d[b, a] = min(d[b, a], m)
    for k in range(n):
        d = np.minimum(d, d[:, k, None] + d[None, k, :])
    return d


# --- a line of cells 0-1-2-3-4, 100 m apart ------------------------------------------------------

LINE = make_graph(5, [(0, 1, 100.0), (1, 2, 100.0), (2, 3, 100.0), (3, 4, 100.0)])


def test_line_from_one_end():
    dist, owner = access.nearest(*LINE, np.array([0]))
    np.testing.assert_allclose(dist, [0.0, 120.0, 240.0, 360.0, 480.0], rtol=1e-6)
    assert owner.tolist() == [0, 0, 0, 0, 0]
    assert dist.dtype == np.float32 and owner.dtype == np.int32


def test_line_owner_ids_are_the_given_ids():
    dist, owner = access.nearest(*LINE, np.array([3]), np.array([42]))
    np.testing.assert_allclose(dist, [360.0, 240.0, 120.0, 0.0, 120.0], rtol=1e-6)
    assert owner.tolist() == [42] * 5


def test_line_two_sources_each_cell_gets_the_nearer():
    dist, owner = access.nearest(*LINE, np.array([0, 3]), np.array([7, 9]))
    np.testing.assert_allclose(dist, [0.0, 120.0, 120.0, 0.0, 120.0], rtol=1e-6)
    assert owner.tolist() == [7, 7, 9, 9, 9]


@pytest.mark.parametrize("ids, expected_middle", [((10, 20), 10), ((20, 10), 10), ((5, 3), 3)])
def test_line_tie_goes_to_the_smallest_id(ids, expected_middle):
    dist, owner = access.nearest(*LINE, np.array([0, 4]), np.array(ids))
    np.testing.assert_allclose(dist, [0.0, 120.0, 240.0, 120.0, 0.0], rtol=1e-6)
    assert owner[2] == expected_middle
    assert owner[0] == ids[0] and owner[4] == ids[1]
    assert owner[1] == ids[0] and owner[3] == ids[1]


def test_several_facilities_in_one_cell_smallest_id_owns():
    dist, owner = access.nearest(*LINE, np.array([2, 2, 2]), np.array([8, 3, 5]))
    np.testing.assert_allclose(dist, [240.0, 120.0, 0.0, 120.0, 240.0], rtol=1e-6)
    assert owner.tolist() == [3] * 5


def test_line_limit_respected():
    dist, owner = access.nearest(*LINE, np.array([0]), limit_m=250.0)
    np.testing.assert_allclose(dist[:3], [0.0, 120.0, 240.0], rtol=1e-6)
    assert np.isinf(dist[3:]).all()
    assert owner.tolist() == [0, 0, 0, -1, -1]
    # the limit is inclusive: exactly 240 m is within 240 m
    dist, _ = access.nearest(*LINE, np.array([0]), limit_m=240.0)
    assert np.isfinite(dist[:3]).all() and np.isinf(dist[3:]).all()


def test_line_circuity_parameter():
    dist, _ = access.nearest(*LINE, np.array([0]), circuity=1.0)
    np.testing.assert_allclose(dist, [0.0, 100.0, 200.0, 300.0, 400.0], rtol=1e-6)


def test_no_sources_means_unreachable():
    dist, owner = access.nearest(*LINE, np.array([], dtype=np.int64))
    assert np.isinf(dist).all() and (owner == -1).all()
    assert access.count_within(*LINE, np.array([], dtype=np.int64), 1000.0).tolist() == [0] * 5


def test_line_count_within():
    # two facilities in cell 0, one in cell 4; 250 m reach
    counts = access.count_within(*LINE, np.array([0, 0, 4]), 250.0)
    assert counts.tolist() == [2, 2, 3, 1, 1]
    assert access.count_within(*LINE, np.array([0, 0, 4]), 1000.0).tolist() == [3] * 5
    assert access.count_within(*LINE, np.array([2]), 100.0).tolist() == [0, 0, 1, 0, 0]


def test_line_reach_from():
    cells, metres = access.reach_from(*LINE, 0, 1000.0)
    assert cells.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(metres, [0.0, 120.0, 240.0, 360.0, 480.0], rtol=1e-6)
    cells, metres = access.reach_from(*LINE, 0, 300.0)
    assert cells.tolist() == [0, 1, 2]
    cells, metres = access.reach_from(*LINE, 2, 130.0)
    assert cells[0] == 2 and sorted(cells.tolist()) == [1, 2, 3]
    np.testing.assert_allclose(metres, [0.0, 120.0, 120.0], rtol=1e-6)


def test_reference_dijkstra_on_the_line():
    np.testing.assert_allclose(access.reference_shortest_paths(*LINE, [1, 4]),
                               [120.0, 0.0, 120.0, 120.0, 0.0], rtol=1e-9)


# --- a river with one bridge ------------------------------------------------------------------------
#
#   row 0:  0 - 1 - [2] - 3 - 4        column 2 is the river; cell 2 is the only bridge
#   row 1:  5 - 6    7    8 - 9        (river cells 7 and 12 have no edges at all)
#   row 2: 10 -11   12   13 -14

ROWS, COLS = 3, 5
RIVER_COL, BRIDGE = 2, 2


def river_grid(with_bridge: bool = True):
    def passable(r, c):
        return c != RIVER_COL or (with_bridge and r * COLS + c == BRIDGE)

    edges = []
    for r in range(ROWS):
        for c in range(COLS):
            if not passable(r, c):
                continue
            if c + 1 < COLS and passable(r, c + 1):
                edges.append((r * COLS + c, r * COLS + c + 1, 100.0))
            if r + 1 < ROWS and passable(r + 1, c):
                edges.append((r * COLS + c, (r + 1) * COLS + c, 100.0))
    return make_graph(ROWS * COLS, edges)


def test_barrier_goes_round_by_the_bridge():
    dist, owner = access.nearest(*river_grid(), np.array([10]))  # from the bottom-left corner
    expected = np.array([
        [240, 360, 480, 600, 720],
        [120, 240, INF, 720, 840],
        [0, 120, INF, 840, 960],
    ], dtype=float).ravel()
    np.testing.assert_allclose(dist, expected, rtol=1e-6)
    assert owner[7] == -1 and owner[12] == -1
    # without the river the far corner would be 4 × 120 m; the bridge doubles it
    assert dist[14] == pytest.approx(8 * 120.0)


def test_barrier_without_bridge_is_unreachable():
    dist, owner = access.nearest(*river_grid(with_bridge=False), np.array([14]))  # east bank facility
    west = [0, 1, 5, 6, 10, 11]
    east = [3, 4, 8, 9, 13, 14]
    assert np.isinf(dist[west]).all() and (owner[west] == -1).all()
    assert np.isfinite(dist[east]).all()
    counts = access.count_within(*river_grid(with_bridge=False), np.array([14]), 10_000.0)
    assert counts[west].tolist() == [0] * 6 and counts[east].tolist() == [1] * 6
    cells, _ = access.reach_from(*river_grid(with_bridge=False), 10, 10_000.0)
    assert sorted(cells.tolist()) == sorted(west)


def test_barrier_reach_and_count_through_the_bridge():
    graph = river_grid()
    cells, metres = access.reach_from(*graph, 10, 500.0)
    assert sorted(cells.tolist()) == [0, 1, 2, 5, 6, 10, 11]
    cells, _ = access.reach_from(*graph, 10, 600.0)
    assert 3 in cells.tolist() and 13 not in cells.tolist()
    # from 14 the bridge is 4 × 120 = 480 m, cell 1 600 m, cell 0 720 m, cell 11 840 m
    counts = access.count_within(*graph, np.array([14]), 600.0)
    assert counts[[2, 1, 0, 6, 11]].tolist() == [1, 1, 0, 0, 0]


# --- property tests on random small graphs ----------------------------------------------------------

weights = st.floats(1.0, 500.0, allow_nan=False, allow_infinity=False, width=32)


@st.composite
def random_graphs(draw, max_n: int = 40):
    """(n, edges): symmetric, positive lengths, degree ≤ 6, connected or not."""
    n = draw(st.integers(1, max_n))
    edges, seen = [], set()
    degree = [0] * n

    def add(a, b, w):
        if a == b or (min(a, b), max(a, b)) in seen or degree[a] >= 6 or degree[b] >= 6:
            return
        seen.add((min(a, b), max(a, b)))
        degree[a] += 1
        degree[b] += 1
        edges.append((a, b, w))

    if draw(st.booleans()):  # a spanning path makes it connected
        order = draw(st.permutations(range(n)))
        for a, b in zip(order, order[1:]):
            add(a, b, draw(weights))
    extra = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), weights),
                          max_size=2 * n))
    for a, b, w in extra:
        add(a, b, w)
    return n, edges


@st.composite
def graphs_with_sources(draw):
    n, edges = draw(random_graphs())
    sources = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=6))
    return n, edges, sources


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(graphs_with_sources())
def test_nearest_equals_dijkstra_and_floyd_warshall(case):
    n, edges, sources = case
    neighbours, edge_m = make_graph(n, edges)
    src = np.array(sources)
    dist, owner = access.nearest(neighbours, edge_m, src, limit_m=np.inf)
    reference = access.reference_shortest_paths(neighbours, edge_m, sources)
    brute = floyd_warshall(n, edges)[src].min(axis=0)
    np.testing.assert_allclose(dist, reference, rtol=1e-5)
    np.testing.assert_allclose(dist, brute, rtol=1e-5)
    # the owner is one of the nearest sources (its own distance is the minimum), -1 when unreachable
    fw = floyd_warshall(n, edges)
    for cell in range(n):
        if np.isinf(brute[cell]):
            assert owner[cell] == -1
        else:
            assert 0 <= owner[cell] < len(sources)
            assert fw[sources[owner[cell]], cell] == pytest.approx(brute[cell], rel=1e-5, abs=1e-6)


@SETTINGS
@given(graphs_with_sources(), st.floats(0.0, 3000.0))
def test_nearest_with_a_limit_equals_brute_force(case, limit):
    n, edges, sources = case
    neighbours, edge_m = make_graph(n, edges)
    dist, owner = access.nearest(neighbours, edge_m, np.array(sources), limit_m=limit)
    brute = floyd_warshall(n, edges)[np.array(sources)].min(axis=0)
    clear_in = brute <= limit * (1 - 1e-6)
    clear_out = brute > limit * (1 + 1e-6)
    np.testing.assert_allclose(dist[clear_in], brute[clear_in], rtol=1e-5)
    assert np.isinf(dist[clear_out]).all()
    assert (owner[clear_out] == -1).all()


@SETTINGS
@given(graphs_with_sources(), st.data())
def test_adding_a_facility_never_increases_any_distance(case, data):
    n, edges, sources = case
    extra = data.draw(st.integers(0, n - 1))
    neighbours, edge_m = make_graph(n, edges)
    before, _ = access.nearest(neighbours, edge_m, np.array(sources), limit_m=np.inf)
    after, _ = access.nearest(neighbours, edge_m, np.array(sources + [extra]), limit_m=np.inf)
    assert (after <= before).all()
    assert after[extra] == 0.0


@SETTINGS
@given(graphs_with_sources(), st.floats(0.0, 3000.0))
def test_count_within_equals_brute_force(case, limit):
    n, edges, sources = case
    neighbours, edge_m = make_graph(n, edges)
    counts = access.count_within(neighbours, edge_m, np.array(sources), limit)
    fw = floyd_warshall(n, edges)[np.array(sources)]  # (sources, cells), repeats counted
    low = (fw <= limit * (1 - 1e-6)).sum(axis=0)
    high = (fw <= limit * (1 + 1e-6)).sum(axis=0)
    assert ((low <= counts) & (counts <= high)).all(), (counts, low, high)


@SETTINGS
@given(random_graphs(), st.data(), st.floats(0.0, 3000.0))
def test_reach_from_equals_brute_force(graph, data, limit):
    n, edges = graph
    origin = data.draw(st.integers(0, n - 1))
    neighbours, edge_m = make_graph(n, edges)
    cells, metres = access.reach_from(neighbours, edge_m, origin, limit)
    fw = floyd_warshall(n, edges)[origin]
    assert cells[0] == origin and metres[0] == 0.0
    assert len(set(cells.tolist())) == len(cells)
    assert (np.diff(metres) >= 0).all()  # nearest first
    np.testing.assert_allclose(metres, fw[cells], rtol=1e-5)
    got = set(cells.tolist())
    assert set(np.flatnonzero(fw <= limit * (1 - 1e-6)).tolist()) <= got
    assert got <= set(np.flatnonzero(fw <= limit * (1 + 1e-6)).tolist())


# --- the real city grid ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def city():
    """Built fresh (not from the index cache), so these tests check today's grid code."""
    return gridmod.build_grid()


def test_cached_index_grid_is_todays_grid(city):
    """The cache is keyed by inputs and ENGINE_VERSION: grid code changes must bump the version."""
    import circle

    cached = circle.load_index().grid
    assert cached.resolution == city.resolution
    for name in ("cells", "district", "street", "river", "bridge", "neighbours", "edge_m"):
        np.testing.assert_array_equal(getattr(cached, name), getattr(city, name), err_msg=name)


@pytest.fixture(scope="module")
def passable_positions(city):
    return np.flatnonzero(city.passable)


def _cell_point(cell: int, u: float, vertex: int) -> tuple[float, float]:
    """A point inside H3 cell ``cell``: fraction ``u`` of the way from its centre to a vertex."""
    s = h3.int_to_str(int(cell))
    lat0, lng0 = h3.cell_to_latlng(s)
    vlat, vlng = h3.cell_to_boundary(s)[vertex % 6]
    return lat0 + u * (vlat - lat0), lng0 + u * (vlng - lng0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_minutes_never_beat_the_straight_line(city, passable_positions, data):
    """Walking minutes ≥ straight-line distance ÷ speed − one cell radius, from every cell."""
    res = city.resolution
    radius = h3.average_hexagon_edge_length(res, unit="m")  # ≈ 76 m at resolution 10
    k = data.draw(st.integers(1, 4), label="facilities")
    picks = data.draw(st.lists(st.integers(0, len(passable_positions) - 1), min_size=k, max_size=k))
    f_lat, f_lng, f_pos = [], [], []
    for p in picks:
        cell = city.cells[passable_positions[p]]
        lat, lng = _cell_point(cell, data.draw(st.floats(0.0, 0.98)), data.draw(st.integers(0, 5)))
        pos = int(city.position_of(np.array([h3.str_to_int(h3.latlng_to_cell(lat, lng, res))]))[0])
        assume(pos >= 0 and city.passable[pos])
        assert geo.haversine_m(lat, lng, city.lat[pos], city.lng[pos]) <= radius
        f_lat.append(lat)
        f_lng.append(lng)
        f_pos.append(pos)
    speed = data.draw(st.sampled_from(sorted(access.SPEED_PRESETS_KMH.values())), label="speed")
    metres, _ = access.nearest(city.neighbours, city.edge_m, np.array(f_pos))
    reached = np.flatnonzero(np.isfinite(metres))
    assert len(reached) >= len(set(f_pos))
    straight = np.min([geo.haversine_m(city.lat[reached], city.lng[reached], a, b)
                       for a, b in zip(f_lat, f_lng)], axis=0)
    minutes = access.minutes_from_metres(metres[reached], speed)
    bound = (straight - radius) / access.metres_per_minute(speed)
    worst = int(np.argmin(minutes - bound))
    assert (minutes >= bound - 1e-6).all(), (reached[worst], minutes[worst], bound[worst])


def test_adding_a_facility_on_the_city_grid(city, passable_positions):
    rng = np.random.default_rng(7)
    for _ in range(5):
        sources = passable_positions[rng.choice(len(passable_positions), 3, replace=False)]
        extra = passable_positions[rng.integers(len(passable_positions))]
        before, _ = access.nearest(city.neighbours, city.edge_m, sources)
        after, _ = access.nearest(city.neighbours, city.edge_m, np.append(sources, extra))
        assert (after <= before).all()
        assert (after < before).any()


def test_neighbour_table_matches_h3_grid_ring(city, passable_positions):
    rng = np.random.default_rng(2024)
    sample = passable_positions[rng.choice(len(passable_positions), 400, replace=False)]
    for pos in sample:
        ring = [h3.str_to_int(c) for c in h3.grid_ring(h3.int_to_str(int(city.cells[pos])), 1)]
        ring_pos = city.position_of(np.array(ring, dtype=np.uint64))
        expected = {int(p) for p in ring_pos if p >= 0 and city.passable[p]}
        row = city.neighbours[pos]
        got = [int(p) for p in row if p >= 0]
        assert len(got) == len(set(got))
        assert set(got) == expected, int(city.cells[pos])
        for k in np.flatnonzero(row >= 0):
            w = row[k]
            assert city.edge_m[pos, k] == pytest.approx(
                geo.haversine_m(city.lat[pos], city.lng[pos], city.lat[w], city.lng[w]), rel=1e-5)
            assert 100.0 < city.edge_m[pos, k] < 140.0
        assert np.isinf(city.edge_m[pos][row < 0]).all()


def test_neighbour_table_is_symmetric(city):
    rows, ks = np.nonzero(city.neighbours >= 0)
    targets = city.neighbours[rows, ks]
    back = (city.neighbours[targets] == rows[:, None]).any(axis=1)
    assert back.all()
    # and the reverse edge has the same length
    k_back = np.argmax(city.neighbours[targets] == rows[:, None], axis=1)
    np.testing.assert_array_equal(city.edge_m[targets, k_back], city.edge_m[rows, ks])


def test_river_cells_have_no_edges_except_bridges(city):
    assert city.river.sum() > 500  # the band crosses the whole city
    assert not (city.bridge & ~city.river).any()  # a bridge cell is a river cell made passable
    blocked = city.river & ~city.bridge
    assert (city.neighbours[blocked] == -1).all()
    assert np.isinf(city.edge_m[blocked]).all()
    linked = city.neighbours[city.neighbours >= 0]
    assert not blocked[linked].any()  # nobody steps into the river
    bridges = np.flatnonzero(city.bridge)
    assert len(bridges) >= 2
    assert ((city.neighbours[bridges] >= 0).sum(axis=1) >= 1).all()
    assert np.allclose(city.lat[bridges], 39.50, atol=0.005)


def _pos(city, lat, lng):
    return int(city.position_of(np.array([h3.str_to_int(h3.latlng_to_cell(lat, lng, city.resolution))]))[0])


def _without_bridges(grid):
    neighbours = grid.neighbours.copy()
    bridges = np.flatnonzero(grid.bridge)
    neighbours[bridges] = -1
    neighbours[np.isin(neighbours, bridges)] = -1
    return neighbours


def test_bridge_joins_the_two_banks(city):
    west, east = _pos(city, 39.50, 106.735), _pos(city, 39.50, 106.76)
    assert west >= 0 and east >= 0
    assert not city.river[west] and not city.river[east]
    cells, metres = access.reach_from(city.neighbours, city.edge_m, west, 1e9)
    reached = dict(zip(cells.tolist(), metres.tolist()))
    assert east in reached
    straight = geo.haversine_m(city.lat[west], city.lng[west], city.lat[east], city.lng[east])
    assert reached[east] >= straight * C * 0.999
    # the path crosses a bridge cell: the bridge is reached before the east bank
    assert min(reached[b] for b in np.flatnonzero(city.bridge).tolist() if b in reached) < reached[east]
    # without the bridge cells the east bank is out of reach
    cells, _ = access.reach_from(_without_bridges(city), city.edge_m, west, 1e9)
    assert east not in set(cells.tolist())
    assert len(cells) > 1000  # the west bank (乌达区) itself is still walkable


def test_other_resolutions_have_a_walking_graph():
    """Resolution is configurable: at 9 the cells still link to their six H3 neighbours and the
    river still only opens at the bridge."""
    g9 = gridmod.build_grid(9)
    assert g9.resolution == 9 and 10_000 < g9.size < 30_000
    passable = np.flatnonzero(g9.passable)
    rng = np.random.default_rng(9)
    for pos in passable[rng.choice(len(passable), 100, replace=False)]:
        ring = [h3.str_to_int(c) for c in h3.grid_ring(h3.int_to_str(int(g9.cells[pos])), 1)]
        ring_pos = g9.position_of(np.array(ring, dtype=np.uint64))
        assert {int(p) for p in g9.neighbours[pos] if p >= 0} == {int(p) for p in ring_pos
                                                                  if p >= 0 and g9.passable[p]}
    west, east = _pos(g9, 39.50, 106.73), _pos(g9, 39.50, 106.765)
    cells, _ = access.reach_from(g9.neighbours, g9.edge_m, west, 1e9)
    assert east in set(cells.tolist())
    cells, _ = access.reach_from(_without_bridges(g9), g9.edge_m, west, 1e9)
    assert east not in set(cells.tolist())
