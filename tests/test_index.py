"""The public API: circle.load_index(), lookup, lookup_many, positions_of, the cache, metrics."""
from __future__ import annotations

import math
import re
import shutil

import h3
import numpy as np
import pandas as pd
import pytest

import circle
from circle import access, geo, metrics
from circle import index as indexmod
from circle.taxonomy import circles, facility_types

OFFICE = (39.674319, 106.816083)  # 凤凰岭街道 office, 海勃湾区
TYPE_KEYS = {"minutes", "nearest_id", "nearest_name", "nearest_lat", "nearest_lng", "count_15min"}
PROFILE_KEYS = {"inside", "lat", "lng", "cell", "district", "street", "speed_kmh", "types", "circles",
                "circles_covered", "pt_minutes"}
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@pytest.fixture(scope="module")
def bbox(index):
    g = index.grid
    return g.lat.min(), g.lat.max(), g.lng.min(), g.lng.max()


# --- lookup ---------------------------------------------------------------------------------------

def test_load_index_is_memoised(index):
    assert circle.load_index() is index
    assert index.grid.size > 100_000
    assert index.dist_m.shape == (len(facility_types()), index.grid.size)


def test_lookup_real_point(index):
    profile = index.lookup(*OFFICE)
    assert profile.inside is True
    assert profile.district == "海勃湾区"
    assert profile.street == "凤凰岭街道"
    data = profile.to_dict()
    assert PROFILE_KEYS <= set(data)
    assert data["lat"] == pytest.approx(OFFICE[0]) and data["lng"] == pytest.approx(OFFICE[1])
    assert data["speed_kmh"] == 4.0
    assert data["cell"] == h3.latlng_to_cell(*OFFICE, 10)
    assert set(data["types"]) == {t.id for t in facility_types()}
    facilities = index.facilities.set_index("id")
    for type_id, entry in data["types"].items():
        assert TYPE_KEYS <= set(entry), type_id
        if entry["minutes"] is not None:  # the nearest facility is of this type and where it says
            row = facilities.loc[entry["nearest_id"]]
            assert row["type"] == type_id
            assert row["name_zh"] == entry["nearest_name"]
            assert (row["lat"], row["lng"]) == pytest.approx((entry["nearest_lat"], entry["nearest_lng"]))
            assert entry["minutes"] >= 0
    # downtown: the everyday basics are close
    assert data["types"]["convenience_store"]["minutes"] <= 5
    assert data["types"]["convenience_store"]["count_15min"] >= 1
    assert set(data["circles"]) == {c.id for c in circles()} and len(data["circles"]) == 8
    assert data["circles_covered"] == sum(data["circles"].values())
    assert 0 <= data["circles_covered"] <= 8
    assert isinstance(data["pt_minutes"], float) and 0 <= data["pt_minutes"] <= 60


def test_lookup_minutes_are_walking_distance_over_speed(index):
    profile = index.lookup(*OFFICE)
    pos = int(index.grid.position_of(np.array([h3.str_to_int(profile.cell)]))[0])
    for i, type_id in enumerate(index.type_ids):
        metres = float(index.dist_m[i, pos])
        m = profile.types[type_id].minutes
        if math.isfinite(metres):
            assert m == pytest.approx(metres / (4000.0 / 60.0), abs=0.006)
            # and never faster than the straight line (minus a cell radius)
            near = profile.types[type_id]
            straight = geo.haversine_m(OFFICE[0], OFFICE[1], near.nearest_lat, near.nearest_lng)
            assert metres >= straight - 2 * h3.average_hexagon_edge_length(10, unit="m")
        else:
            assert m is None


@pytest.mark.parametrize("point", [(40.5, 106.8), (31.2, 121.5), (39.3, 106.55), (0.0, 0.0)])
def test_lookup_outside_the_city(index, point):
    profile = index.lookup(*point)
    assert profile.inside is False
    data = profile.to_dict()
    assert data["inside"] is False and data["cell"] is None and data["types"] == {}
    assert data["lat"] == pytest.approx(point[0])


@pytest.mark.parametrize("lat, lng", [(float("nan"), 106.8), (39.6, float("nan")), (float("inf"), 106.8),
                                      (39.6, float("-inf")), (95.0, 106.8), (-91.0, 106.8), (39.6, 200.0),
                                      (39.6, -181.0), ("abc", 106.8), (39.6, "x"), (None, 106.8)])
def test_lookup_impossible_coordinates(index, lat, lng):
    with pytest.raises(ValueError) as info:
        index.lookup(lat, lng)
    message = str(info.value)
    assert CJK.search(message) and LATIN.search(message), message


def test_lookup_many_impossible_coordinates(index):
    with pytest.raises(ValueError) as info:
        index.lookup_many([39.6, float("nan")], [106.8, 106.8])
    assert CJK.search(str(info.value)) and LATIN.search(str(info.value))
    with pytest.raises(ValueError):
        index.lookup_many([39.6, 95.0], [106.8, 106.8])


def test_unknown_crs(index):
    with pytest.raises(ValueError) as info:
        index.lookup(*OFFICE, crs="foo")
    assert CJK.search(str(info.value)) and LATIN.search(str(info.value))


@pytest.mark.parametrize("speed", [0.0, -4.0, 50.0])
def test_impossible_speed(index, speed):
    with pytest.raises(ValueError):
        index.lookup(*OFFICE, speed_kmh=speed)


def test_gcj02_and_bd09_input(index):
    wgs = index.lookup(*OFFICE)
    gcj = geo.wgs84_to_gcj02(*OFFICE)
    assert geo.haversine_m(*OFFICE, *gcj) > 200  # the offset is real, so the test means something
    assert index.lookup(*gcj, crs="gcj02").cell == wgs.cell
    assert index.lookup(*gcj).cell != wgs.cell  # read as WGS-84 it is somewhere else
    bd = geo.wgs84_to_bd09(*OFFICE)
    assert index.lookup(*bd, crs="bd09").cell == wgs.cell
    lat, lng = geo.wgs84_to_gcj02(np.array([OFFICE[0]]), np.array([OFFICE[1]]))
    assert index.lookup_many(lat, lng, crs="gcj02")["cell"].iloc[0] == wgs.cell


# --- lookup_many ----------------------------------------------------------------------------------

def _random_points(bbox, n, seed):
    rng = np.random.default_rng(seed)
    lat0, lat1, lng0, lng1 = bbox
    lats = rng.uniform(lat0 - 0.02, lat1 + 0.02, n)
    lngs = rng.uniform(lng0 - 0.02, lng1 + 0.02, n)
    return lats, lngs


def test_lookup_many_columns_and_order(index, bbox):
    lats, lngs = _random_points(bbox, 50, 1)
    frame = index.lookup_many(lats, lngs)
    required = ["inside", "cell", "district", "street", "circles_covered", "pt_minutes"] + \
        [f"minutes_{t.id}" for t in facility_types()]
    assert set(required) <= set(frame.columns)
    assert len(frame) == 50
    reverse = index.lookup_many(lats[::-1], lngs[::-1])
    pd.testing.assert_frame_equal(reverse.iloc[::-1].reset_index(drop=True), frame)
    assert index.lookup_many([], []).shape[0] == 0


def test_lookup_many_agrees_with_lookup(index, bbox):
    lats, lngs = _random_points(bbox, 200, 2)
    lats = np.append(lats, [OFFICE[0], 40.5, 31.2])
    lngs = np.append(lngs, [OFFICE[1], 106.8, 121.5])
    frame = index.lookup_many(lats, lngs)
    assert len(frame) == len(lats)
    assert frame["inside"].sum() > 20 and (~frame["inside"]).sum() > 20  # both kinds are tested
    for i, row in enumerate(frame.itertuples(index=False)):
        profile = index.lookup(lats[i], lngs[i])
        assert row.inside == profile.inside, i
        if not profile.inside:
            assert pd.isna(row.cell) and pd.isna(row.district) and pd.isna(row.street)
            assert np.isnan(row.pt_minutes) and row.circles_covered == 0
            assert all(np.isnan(getattr(row, f"minutes_{t}")) for t in index.type_ids)
            continue
        assert row.cell == profile.cell
        assert row.district == profile.district and row.street == profile.street
        assert row.circles_covered == profile.circles_covered
        assert row.pt_minutes == pytest.approx(profile.pt_minutes, abs=0.006)
        for type_id, access_ in profile.types.items():
            value = getattr(row, f"minutes_{type_id}")
            if access_.minutes is None:
                assert np.isnan(value), (i, type_id)
            else:
                assert value == pytest.approx(access_.minutes, abs=0.006), (i, type_id)


def test_positions_of_equals_h3(index, bbox):
    """The k-d tree shortcut gives exactly h3.latlng_to_cell, near centres, edges and vertices."""
    rng = np.random.default_rng(3)
    lats, lngs = _random_points(bbox, 10_000, 4)
    g = index.grid
    picks = rng.choice(g.size, 1_700, replace=False)
    near_lat, near_lng = [], []
    for pos in picks:
        s = h3.int_to_str(int(g.cells[pos]))
        boundary = np.array(h3.cell_to_boundary(s))
        for k in range(6):  # at each vertex and at each edge midpoint, a few metres either way
            a, b = boundary[k], boundary[(k + 1) % 6]
            for p in (a, (a + b) / 2):
                near_lat.append(p[0])
                near_lng.append(p[1])
    jitter = rng.normal(0, 2e-5, (2, len(near_lat)))  # ~2 m
    lats = np.concatenate([lats, np.array(near_lat) + jitter[0]])[:20_000]
    lngs = np.concatenate([lngs, np.array(near_lng) + jitter[1]])[:20_000]
    assert len(lats) == 20_000
    got = index.positions_of(lats, lngs)
    exact = g.position_of(np.array([h3.str_to_int(h3.latlng_to_cell(a, b, g.resolution))
                                    for a, b in zip(lats.tolist(), lngs.tolist())], dtype=np.uint64))
    mismatch = np.flatnonzero(got != exact)
    assert len(mismatch) == 0, [(lats[i], lngs[i], got[i], exact[i]) for i in mismatch[:5]]
    assert (exact >= 0).sum() > 5_000 and (exact < 0).sum() > 1_000


# --- speed ----------------------------------------------------------------------------------------

def test_slower_speed_scales_minutes_and_shrinks_counts(index):
    fast = index.lookup(*OFFICE)
    slow = index.lookup(*OFFICE, speed_kmh=3.6)
    assert slow.speed_kmh == 3.6 and slow.cell == fast.cell
    fewer = 0
    for type_id in index.type_ids:
        a, b = fast.types[type_id], slow.types[type_id]
        if a.minutes is None:
            assert b.minutes is None
            continue
        assert b.minutes == pytest.approx(a.minutes * 4.0 / 3.6, abs=0.02)
        assert b.count_15min <= a.count_15min
        fewer += b.count_15min < a.count_15min
    assert fewer >= 1  # 15 minutes at 3.6 km/h is 900 m instead of 1,000 m: some are lost
    assert slow.circles_covered <= fast.circles_covered
    assert slow.pt_minutes >= fast.pt_minutes


def test_on_demand_counts_equal_the_stored_counts(index):
    """count_within (from each facility) and reach_from (from the home) agree."""
    rng = np.random.default_rng(5)
    populated = np.flatnonzero(index.population > 0)
    for pos in rng.choice(populated, 10, replace=False):
        on_demand = index.counts_within(int(pos), 15.0, 4.0)
        np.testing.assert_array_equal(on_demand, index.count15[:, pos].astype(int))


def test_cells_at_speed(index):
    default = index.cells_at_speed()
    slow = index.cells_at_speed(3.6)
    assert len(default) == len(slow) == index.grid.size
    assert (slow["circles_covered"] <= default["circles_covered"]).all()
    assert (slow["circles_covered"] < default["circles_covered"]).any()


# --- cache ----------------------------------------------------------------------------------------

PARAMS9 = indexmod.Params(resolution=9)  # a coarse grid: the cache logic, built in a second


def test_cache_build_load_force(tmp_path):
    first = indexmod.build_index(indexmod.DEFAULT_DATASET, PARAMS9, cache_dir=tmp_path)
    files = list(tmp_path.glob("index-*.npz"))
    assert [f.name for f in files] == [f"index-{first.key}.npz"]
    assert "load_cache_s" not in first.timings and "grid_s" in first.timings
    second = indexmod.build_index(indexmod.DEFAULT_DATASET, PARAMS9, cache_dir=tmp_path)
    assert "load_cache_s" in second.timings and "grid_s" not in second.timings
    assert second.key == first.key
    np.testing.assert_array_equal(second.dist_m, first.dist_m)
    np.testing.assert_array_equal(second.nearest, first.nearest)
    np.testing.assert_array_equal(second.grid.neighbours, first.grid.neighbours)
    mtime = files[0].stat().st_mtime_ns
    third = indexmod.build_index(indexmod.DEFAULT_DATASET, PARAMS9, cache_dir=tmp_path, force=True)
    assert "load_cache_s" not in third.timings and "grid_s" in third.timings
    assert files[0].stat().st_mtime_ns >= mtime
    np.testing.assert_array_equal(third.dist_m, first.dist_m)
    # the coarse index works: the office has a profile and a walking graph around it
    profile = second.lookup(*OFFICE)
    assert profile.inside and profile.types["convenience_store"].minutes is not None
    assert np.isfinite(second.dist_m).mean() > 0.3


def test_parameters_change_the_key():
    base = indexmod._hash_inputs(indexmod.DEFAULT_DATASET, indexmod.Params())
    assert base == indexmod._hash_inputs(indexmod.DEFAULT_DATASET, indexmod.Params())
    others = {indexmod._hash_inputs(indexmod.DEFAULT_DATASET, p) for p in (
        indexmod.Params(speed_kmh=3.6), indexmod.Params(resolution=9), indexmod.Params(circuity=1.3),
        indexmod.Params(limit_m=4000.0))}
    assert base not in others and len(others) == 4


def test_modified_data_makes_the_cache_stale(tmp_path, index):
    facilities = tmp_path / "facilities.csv"
    shutil.copy(indexmod.DEFAULT_DATASET.facilities_path, facilities)
    dataset = indexmod.Dataset(facilities, indexmod.DEFAULT_DATASET.residences_path)
    assert indexmod._hash_inputs(dataset, indexmod.Params()) == index.key  # same bytes, same key
    table = pd.read_csv(facilities, dtype=str)
    table[table["type"] != "childcare"].to_csv(facilities, index=False)
    stale_key = indexmod._hash_inputs(dataset, indexmod.Params())
    assert stale_key != index.key
    rebuilt = indexmod.build_index(dataset, PARAMS9, cache_dir=tmp_path)
    assert "load_cache_s" not in rebuilt.timings
    assert np.isinf(rebuilt.dist_m[rebuilt.type_pos["childcare"]]).all()
    assert rebuilt.lookup(*OFFICE).types["childcare"].nearest_id is None


# --- metrics --------------------------------------------------------------------------------------

def test_gini_hand_cases():
    assert metrics.weighted_gini([1, 1, 1], [1, 1, 1]) == pytest.approx(0.0)
    assert metrics.weighted_gini([5, 5], [3, 10]) == pytest.approx(0.0)
    # [0, 0, 1]: Lorenz points (1/3, 0), (2/3, 0), (1, 1); area = 1/3 × 1/2 = 1/6; G = 1 − 2/6
    assert metrics.weighted_gini([0, 0, 1], [1, 1, 1]) == pytest.approx(2 / 3)
    assert metrics.weighted_gini([1, 0, 0], [1, 1, 1]) == pytest.approx(2 / 3)  # order does not matter
    # [1, 3]: Lorenz (1/2, 1/4), (1, 1); area = 1/2·1/8 + 1/2·5/8 = 3/8; G = 1/4
    assert metrics.weighted_gini([1, 3], [1, 1]) == pytest.approx(0.25)
    assert metrics.weighted_gini([0, 0], [1, 1]) == 0.0
    assert math.isnan(metrics.weighted_gini([1, 2], [0, 0]))
    assert metrics.weighted_gini([1, 2, 100], [1, 1, 0]) == pytest.approx(metrics.weighted_gini([1, 2], [1, 1]))


def test_gini_weights_are_repetition():
    rng = np.random.default_rng(11)
    for _ in range(20):
        values = rng.uniform(0, 60, 8).round(1)
        weights = rng.integers(1, 6, 8)
        repeated = np.repeat(values, weights)
        assert metrics.weighted_gini(values, weights) == pytest.approx(
            metrics.weighted_gini(repeated, np.ones(len(repeated))), abs=1e-12)
        # scaling all weights changes nothing
        assert metrics.weighted_gini(values, weights * 7.5) == pytest.approx(
            metrics.weighted_gini(values, weights), abs=1e-12)


@pytest.mark.parametrize("by, rows", [("city", 1), ("district", 3), ("street", 22)])
def test_summary(index, by, rows):
    table = metrics.summary(index, by)
    assert len(table) == rows
    assert table["population"].sum() == 558_100
    shares = [c for c in table.columns if c.startswith("share_")] + ["f15"]
    assert len(shares) >= 11
    populated = table[table["population"] > 0]
    values = populated[shares].to_numpy(dtype=float)
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1).all()
    assert ((populated["gini_pt"] >= 0) & (populated["gini_pt"] <= 1)).all()
    assert (populated["mean_pt_minutes"] > 0).all()
    if by == "district":
        assert set(table["name_zh"]) == {"海勃湾区", "乌达区", "海南区"}
        assert dict(zip(table["name_zh"], table["population"])) == {"海勃湾区": 341_000, "乌达区": 122_400,
                                                                    "海南区": 94_700}


def test_summary_is_consistent_across_groupings(index):
    city = metrics.summary(index, "city").iloc[0]
    for by in ("district", "street"):
        table = metrics.summary(index, by)
        weighted = (table["share_all_circles"].fillna(0) * table["population"]).sum() / table["population"].sum()
        # group populations are rounded to whole residents (residents are spread over cells)
        assert weighted == pytest.approx(city["share_all_circles"], abs=1e-6)
        assert table["residents_not_all_circles"].sum() == pytest.approx(city["residents_not_all_circles"], abs=30)


def test_summary_at_a_slower_speed(index):
    fast = metrics.summary(index, "city").iloc[0]
    slow = metrics.summary(index, "city", speed_kmh=3.6).iloc[0]
    assert slow["share_all_circles"] <= fast["share_all_circles"]
    assert slow["mean_pt_minutes"] > fast["mean_pt_minutes"]


def test_summary_bad_grouping(index):
    with pytest.raises(ValueError):
        metrics.summary(index, "planet")


@pytest.mark.parametrize("by, groups", [("city", 1), ("district", 3), ("street", 22)])
def test_type_coverage(index, by, groups):
    table = metrics.type_coverage(index, by)
    assert len(table) == len(facility_types()) * groups
    assert set(table["type"]) == {t.id for t in facility_types()}
    shares = table.loc[table["population"] > 0, "share_within"]
    assert ((shares >= 0) & (shares <= 1)).all()
    assert table.groupby("type")["population"].sum().eq(558_100).all()


def test_type_coverage_matches_lookups(index):
    """The city share within threshold equals the population-weighted per-cell facts."""
    table = metrics.type_coverage(index, "city").set_index("type")
    pop = index.population
    minutes = index.minutes()
    for i, t in enumerate(index.types):
        share = (pop * (minutes[i] <= t.threshold_min)).sum() / pop.sum()
        assert table.loc[t.id, "share_within"] == pytest.approx(share)
