"""circle.readings: official figures beside computed ones, and cautious bilingual readings."""
from __future__ import annotations

import re

import pytest

import circle
from circle import facts, metrics, readings

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@pytest.fixture(scope="module")
def pairs(index):
    return {c.id: c for c in readings.comparisons(index)}


def test_pairs_cover_the_key_figures(pairs):
    assert {"coverage", "residents", "count_breakfast_shops", "count_markets", "count_commercial_outlets"} <= set(pairs)
    assert pairs["coverage"].figure.id == "street_community_coverage"
    assert pairs["residents"].figure.id == "residents_served"


def test_computed_values_match_the_engine(index, pairs):
    city = metrics.summary(index, "city").iloc[0]
    assert pairs["coverage"].computed_value == pytest.approx(city["share_all_circles"])
    assert pairs["residents"].computed_value == pytest.approx(city["population"] - city["residents_not_all_circles"])
    assert pairs["count_breakfast_shops"].computed_value == (index.facilities["type"] == "breakfast_shop").sum()


def test_readings_are_bilingual_and_cautious(pairs):
    for c in pairs.values():
        assert CJK.search(c.reading_zh) and not CJK.search(c.reading_en), c.id
        assert c.official_tag.kind == "official"
        assert c.computed_tag.kind == "simulated"  # the sample is simulated
    cov = pairs["coverage"]
    assert "街道社区" in cov.reading_zh and "居民" in cov.reading_zh
    assert "street-communities" in cov.reading_en and "residents" in cov.reading_en
    assert "neither confirm nor refute" in cov.reading_en
    assert "by construction" in pairs["count_breakfast_shops"].reading_en


def test_reading_count_cases():
    zh, en = readings.reading_count(428, "exact", 428, simulated=True, from_published=True)
    assert "by construction" in en and "设计使然" in zh
    zh, en = readings.reading_count(428, "exact", 300, simulated=False, from_published=False)
    assert "128 fewer" in en and "少128" in zh
    zh, en = readings.reading_count(428, "exact", 500, simulated=True, from_published=False)
    assert "72 more" in en and "simulated" in en
    zh, en = readings.reading_count(1000, "more_than", 1200, simulated=False, from_published=False)
    assert "matching" in en


def test_reading_coverage_sides():
    _, below = readings.reading_coverage(90, 0.8, 0.7, 70, simulated=False)
    _, above = readings.reading_coverage(90, 0.95, 0.9, 70, simulated=False)
    assert "below" in below and "above" in above
    assert "imported data" in above


def test_comparison_table(index):
    for lang in ("zh", "en"):
        table = readings.comparison_table(index, lang)
        assert list(table.columns) == ["id", "item", "official", "official_source", "computed", "computed_detail",
                                       "computed_source", "reading"]
        assert table["reading"].str.len().gt(20).all()
    assert table.loc[table["id"] == "residents", "official"].item() == facts.figure("residents_served").display("en")


def test_community_coverage(index):
    share, covered, n = readings.community_coverage(index)
    assert 0 < n <= 87 and 0 <= covered <= n
    assert share == pytest.approx(covered / n)


def test_count_notes_say_by_construction_once(pairs):
    notes = readings.count_notes(list(pairs.values()), "en")
    assert len(notes) == 1 and "by construction" in notes[0] and "Breakfast shops" in notes[0]
    assert pairs["count_breakfast_shops"].kind == "by_construction"
    assert readings.count_kind(428, "exact", 400, simulated=False, from_published=False) == "fewer"
