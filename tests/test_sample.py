"""Calibration of the shipped simulated sample (data/sample/*.csv) and its generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

from circle import grid as gridmod
from circle import metrics, sample
from circle.sources import (COMMUNITIES, DISTRICTS, OFFICIAL_DIR, PLACES, POPULATION, RIVER,
                            SAMPLE_DIR, read_geojson)
from circle.taxonomy import facility_types

ROOT = Path(__file__).resolve().parent.parent
FILES = ("communities.csv", "residences.csv", "facilities.csv")
DISTRICT_POPULATION_2021 = {"150302": 341_000, "150304": 122_400, "150303": 94_700}  # 海勃湾, 乌达, 海南
PUBLISHED_COUNTS = {"breakfast_shop": 428, "wet_market": 37, "elderly_care": 101, "meal_point": 86,
                    "childcare": 19, "pocket_park": 23, "red_property_site": 10}
SHOPPING_OUTLETS = 7_623


@pytest.fixture(scope="module")
def shipped():
    return sample.load_sample(SAMPLE_DIR)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The sample written three times: twice with the default seed, once with another seed."""
    folders = {}
    for name, seed in (("a", sample.DEFAULT_SEED), ("b", sample.DEFAULT_SEED), ("other", sample.DEFAULT_SEED + 1)):
        folder = tmp_path_factory.mktemp(f"sample_{name}")
        sample.write_sample(folder, seed)
        folders[name] = folder
    return folders


@pytest.fixture(scope="module")
def district_polygons():
    return {str(f["properties"]["adcode"]): shape(f["geometry"]) for f in read_geojson(DISTRICTS)["features"]}


@pytest.fixture(scope="module")
def index():
    import circle

    return circle.load_index()


# --- populations ------------------------------------------------------------------------------

def test_reference_district_populations():
    table = pd.read_csv(POPULATION, dtype={"adcode": str}).set_index("adcode")
    for code, people in DISTRICT_POPULATION_2021.items():
        assert round(table.loc[code, "resident_pop_2021_end_10k"] * 10_000) == people
    assert round(table.loc["150300", "resident_pop_2021_end_10k"] * 10_000) == sum(DISTRICT_POPULATION_2021.values())


def test_residences_sum_exactly_to_district_populations(shipped):
    res = shipped["residences"]
    assert res["population"].dtype.kind == "i"
    assert (res["population"] > 0).all()
    sums = res.groupby("district_code")["population"].sum().to_dict()
    assert sums == DISTRICT_POPULATION_2021
    assert res["population"].sum() == 558_100
    assert res["id"].is_unique


def test_residences_belong_to_their_community_and_street(shipped):
    res, com = shipped["residences"], shipped["communities"]
    by_code = com.set_index("code")
    assert set(res["community_code"]) <= set(com["code"])
    assert (by_code.loc[res["community_code"], "street_code"].to_numpy() == res["street_code"].to_numpy()).all()
    assert (by_code.loc[res["community_code"], "district_code"].to_numpy() == res["district_code"].to_numpy()).all()
    # urban cores are denser: urban communities hold most residents
    kind = by_code.loc[res["community_code"], "kind"].to_numpy()
    assert res["population"][kind == "urban"].sum() > 0.8 * 558_100


# --- where things are ---------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["residences", "facilities", "communities"])
def test_everything_inside_its_district(shipped, district_polygons, table):
    frame = shipped[table]
    assert set(frame["district_code"]) == set(DISTRICT_POPULATION_2021)
    for code, rows in frame.groupby("district_code"):
        inside = shapely.contains_xy(district_polygons[code], rows["lng"].to_numpy(), rows["lat"].to_numpy())
        assert inside.all(), rows.loc[~inside, ["lat", "lng"]].head().to_dict("records")


@pytest.mark.parametrize("table", ["residences", "facilities"])
def test_nothing_in_the_river(shipped, index, table):
    frame = shipped[table]
    line = shapely.union_all([gridmod._project_geometry(f["geometry"]) for f in read_geojson(RIVER)["features"]])
    x, y = gridmod.to_local_xy(frame["lat"].to_numpy(), frame["lng"].to_numpy())
    distance = shapely.distance(shapely.points(x, y), line)
    assert distance.min() > gridmod.RIVER_HALF_WIDTH_M + 50.0  # ASSUMPTIONS.md: at least 210 m away
    # and never in a river cell of the walking grid (it would be cut off from everything)
    pos = index.positions_of(frame["lat"].to_numpy(), frame["lng"].to_numpy())
    assert not index.grid.river[pos[pos >= 0]].any()


def test_residences_are_all_in_city_cells(shipped, index):
    res = shipped["residences"]
    pos = index.positions_of(res["lat"].to_numpy(), res["lng"].to_numpy())
    assert (pos >= 0).all()
    assert index.grid.passable[pos].all()


def test_every_facility_is_used_by_the_index(index):
    """Facilities in a boundary cell whose centre is outside the city still count (adjacent cell)."""
    assert (index.facilities["cell_pos"] >= 0).all()
    assert index.grid.passable[index.facilities["cell_pos"].to_numpy()].all()


# --- counts -----------------------------------------------------------------------------------

def test_facility_counts_match_the_counts_file(shipped):
    counts = pd.read_csv(SAMPLE_DIR / "facility_counts.csv").set_index("type")["count"].to_dict()
    got = shipped["facilities"]["type"].value_counts().to_dict()
    assert got == counts
    assert set(counts) == {t.id for t in facility_types()}  # facilities of every type
    assert shipped["facilities"]["id"].is_unique


def test_published_counts(shipped):
    got = shipped["facilities"]["type"].value_counts()
    for type_id, count in PUBLISHED_COUNTS.items():
        assert got[type_id] == count, type_id
    shopping = [t.id for t in facility_types() if t.circle == "shopping"]
    assert got[shopping].sum() == SHOPPING_OUTLETS


def test_published_counts_equal_the_figures_file(shipped):
    figures = pd.read_csv(OFFICIAL_DIR / "figures.csv").set_index("id")
    got = shipped["facilities"]["type"].value_counts()
    linked = [t for t in facility_types() if t.published_figure_id]
    assert {t.id for t in linked} >= set(PUBLISHED_COUNTS)
    for t in linked:
        assert got[t.id] == figures.loc[t.published_figure_id, "value_num"], t.id
    assert figures.loc["commercial_outlets", "value_num"] == SHOPPING_OUTLETS


# --- labelling --------------------------------------------------------------------------------

@pytest.mark.parametrize("table", ["residences", "facilities"])
def test_rows_say_simulated(shipped, table):
    frame = shipped[table]
    assert (frame["status"] == "simulated").all()
    assert frame["name_zh"].str.startswith("模拟").all()
    assert frame["name_en"].str.startswith("Simulated").all()


def test_all_87_communities_have_a_location(shipped):
    com = shipped["communities"]
    reference = pd.read_csv(COMMUNITIES, dtype=str)
    assert len(com) == 87 and com["code"].is_unique
    assert set(com["code"]) == set(reference["code"])
    assert com[["lat", "lng"]].notna().all().all()
    assert set(com["location_quality"]) <= {"located", "proxy", "approximate"}
    assert (com["location_quality"] == "located").sum() >= 5
    approximate = com["location_quality"] == "approximate"
    assert com.loc[approximate, "note"].str.contains("APPROXIMATE").all()


def test_located_communities_use_the_real_points(shipped):
    places = pd.read_csv(PLACES)
    places = places[places["kind"].isin(["community", "community_proxy"])]
    points = {(round(a, 6), round(b, 6)) for a, b in zip(places["lat"], places["lon"])}
    com = shipped["communities"]
    real = com[com["location_quality"].isin(["located", "proxy"])]
    assert len(real) > 0
    for row in real.itertuples():
        assert (round(row.lat, 6), round(row.lng, 6)) in points, row.short_name


# --- determinism ------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(regenerated):
    for name in FILES:
        assert (regenerated["a"] / name).read_bytes() == (regenerated["b"] / name).read_bytes(), name


def test_shipped_files_equal_a_regeneration(regenerated):
    for name in FILES:
        assert (SAMPLE_DIR / name).read_bytes() == (regenerated["a"] / name).read_bytes(), \
            f"{name} is stale: run `python -m circle sample`"


def test_another_seed_gives_other_files(regenerated):
    for name in ("residences.csv", "facilities.csv"):
        assert (regenerated["other"] / name).read_bytes() != (regenerated["a"] / name).read_bytes(), name
    other = pd.read_csv(regenerated["other"] / "residences.csv", dtype={"district_code": str})
    # but the calibration holds for any seed
    assert other.groupby("district_code")["population"].sum().to_dict() == DISTRICT_POPULATION_2021


def test_generate_returns_what_is_written(regenerated):
    frames = sample.generate(sample.DEFAULT_SEED)
    for name in ("communities", "residences", "facilities"):
        assert sample._csv_bytes(frames[name]) == (regenerated["a"] / f"{name}.csv").read_bytes()


# --- realistic coverage -------------------------------------------------------------------------

def test_city_coverage_is_high_but_not_total(index):
    city = metrics.summary(index, "city").iloc[0]
    assert city["population"] == 558_100
    assert 0.80 <= city["share_all_circles"] <= 0.95


def test_some_types_have_visible_gaps(index):
    types = metrics.type_coverage(index, "city").set_index("type")["share_within"]
    assert types["childcare"] < 0.8
    assert types["meal_point"] < 0.8
    assert types["convenience_store"] > 0.9  # the dense basics are nearly everywhere


def test_some_streets_lag_behind(index):
    streets = metrics.summary(index, "street")
    populated = streets[streets["population"] > 0]
    assert (populated["share_all_circles"] < 0.7).any()
    assert (populated["share_all_circles"] > 0.85).any()
