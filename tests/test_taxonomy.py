"""The facility taxonomy (data/taxonomy/*.csv, read by circle.taxonomy)."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from circle import taxonomy
from circle.sources import OFFICIAL_DIR, TAXONOMY_DIR

CIRCLE_IDS = ["housing", "shopping", "culture", "education", "elderly", "health", "appearance", "service"]
# MOFCOM 2021 (城市一刻钟便民生活圈建设指南) basic formats named in the standard → our type ids
MOFCOM_BASIC_FORMATS = {
    "convenience store": "convenience_store", "supermarket": "supermarket", "wet market": "wet_market",
    "fresh food": "fresh_food_store", "breakfast": "breakfast_shop", "laundry": "laundry",
    "hair": "hair_beauty", "photo/print": "photo_print", "housekeeping": "housekeeping",
    "repair": "repair_point", "pharmacy": "pharmacy", "parcel": "parcel_point",
}


@pytest.fixture(scope="module")
def types():
    return taxonomy.facility_types()


def test_at_least_25_types(types):
    assert len(types) >= 25
    assert len({t.id for t in types}) == len(types)
    for t in types:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", t.id), t.id
        assert t.name_zh and re.search(r"[\u4e00-\u9fff]", t.name_zh), t.id
        assert t.name_en and re.search(r"[A-Za-z]", t.name_en), t.id
        assert t.threshold_basis, t.id


def test_the_eight_circles():
    got = taxonomy.circles()
    assert [c.id for c in got] == CIRCLE_IDS
    assert [c.order for c in got] == list(range(1, 9))
    assert all(c.name_zh.endswith("圈") for c in got)


@pytest.mark.parametrize("circle_id", CIRCLE_IDS)
def test_every_circle_has_an_essential_type(types, circle_id):
    mine = taxonomy.types_in_circle(circle_id)
    assert len(mine) >= 1
    essential = taxonomy.essential_types(circle_id)
    assert len(essential) >= 1
    assert set(essential) <= set(mine)
    assert all(t.circle == circle_id for t in mine)


def test_every_type_is_in_a_known_circle(types):
    assert {t.circle for t in types} == set(CIRCLE_IDS)


def test_thresholds_and_mofcom_values(types):
    assert {t.threshold_min for t in types} <= {5, 10, 15}
    assert {t.mofcom for t in types} <= {"basic", "quality", "none"}
    assert {"basic", "quality"} <= {t.mofcom for t in types}
    # the raw file, not only what the loader makes of it
    raw = pd.read_csv(TAXONOMY_DIR / "facility_types.csv", dtype=str, keep_default_na=False)
    assert set(raw["threshold_min"]) <= {"5", "10", "15"}
    assert set(raw["mofcom"]) <= {"basic", "quality", "none"}
    assert set(raw["essential"].str.lower()) <= {"yes", "no"}


def test_mofcom_basic_list_contains_the_standard_formats():
    basic = {t.id for t in taxonomy.mofcom_basic_types()}
    missing = {name for name, type_id in MOFCOM_BASIC_FORMATS.items() if type_id not in basic}
    assert not missing, missing
    for type_id in MOFCOM_BASIC_FORMATS.values():
        assert taxonomy.facility_type(type_id).circle == "shopping" or type_id == "pharmacy"


def test_thresholds_follow_the_standards():
    assert taxonomy.facility_type("convenience_store").threshold_min == 5  # MOFCOM 5-minute ring
    assert taxonomy.facility_type("kindergarten").threshold_min == 5  # GB 50180: ≤ 300 m
    assert taxonomy.facility_type("primary_school").threshold_min == 10  # ≤ 500 m
    assert taxonomy.facility_type("junior_middle_school").threshold_min == 15  # ≤ 1,000 m


def test_published_figure_ids_exist():
    figures = pd.read_csv(OFFICIAL_DIR / "figures.csv")
    ids = set(figures["id"])
    linked = [t for t in taxonomy.facility_types() if t.published_figure_id]
    assert len(linked) >= 7
    for t in linked:
        assert t.published_figure_id in ids, (t.id, t.published_figure_id)
        assert figures.set_index("id").loc[t.published_figure_id, "value_num"] > 0


def test_import_mappings_are_well_formed(types):
    for t in types:
        for tag in t.osm_tags:
            assert all(re.fullmatch(r"[a-z_:]+=[A-Za-z0-9_;:]+", part) for part in tag.split("&")), (t.id, tag)
        for code in t.amap_typecodes:
            assert re.fullmatch(r"\d{6}", code), (t.id, code)
    assert sum(1 for t in types if t.osm_tags) >= 25


def test_lookups_by_id():
    assert taxonomy.facility_type("childcare").circle == "education"
    assert taxonomy.circle_by_id("elderly").name_zh == "养老服务圈"
    with pytest.raises(KeyError):
        taxonomy.facility_type("spaceport")
    with pytest.raises(KeyError):
        taxonomy.circle_by_id("moon")
