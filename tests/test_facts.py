"""Tests for circle.facts and data/official/: real values, verbatim quotes, allowed codes."""

from __future__ import annotations

import csv
import math

import pandas as pd
import pytest

from circle import facts
from circle.facts import Figure, figure


# --- the published values -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fid", "value_num", "qualifier"),
    [
        ("circles_count", 14, "exact"),
        ("street_community_coverage", 90, "more_than"),
        ("residents_served", 532_100, "exact"),
        ("resident_population", 557_000, "exact"),
        ("urbanisation_rate", 95.88, "exact"),
        ("city_area", 1754, "exact"),
        ("pilot_communities", 5, "exact"),
        ("pilot_population", 160_000, "exact"),
        ("member_units", 15, "exact"),
        ("markets", 37, "exact"),
        ("breakfast_shops", 428, "exact"),
        ("commercial_outlets", 7623, "exact"),
        ("first_store_brands", 30, "more_than"),
        ("chain_share", 33, "exact"),
        ("elderly_institutions", 101, "exact"),
        ("meal_points", 86, "exact"),
        ("childcare_institutions", 19, "exact"),
        ("childcare_places_per_1000", 3.8, "exact"),
        ("green_space_added", 12_000, "exact"),
        ("pocket_parks", 23, "exact"),
        ("key_projects", 11, "exact"),
        ("key_projects_subsidy", 3_000_000, "exact"),
        ("key_projects_private_investment", 11_629_800, "exact"),
        ("government_funds", 81_000_000, "exact"),
        ("private_investment", 600_000_000, "exact"),
        ("tasks_completed", 262, "exact"),
        ("tasks_2024", 222, "exact"),
        ("suggestions", 5000, "more_than"),
        ("red_property_sites", 10, "exact"),
        ("alliance_merchants", 1000, "more_than"),
        ("quality_year_areas", 9, "exact"),
        ("quality_year_tasks", 32, "exact"),
        ("bayanwusu_area", 3.3, "exact"),
        ("bayanwusu_communities", 5, "exact"),
        ("bayanwusu_projects", 43, "exact"),
        ("kiosk_investment_avg", 50_000, "exact"),
        ("tongcheng_compounds", 50, "exact"),
        ("linyin_residents", 50_000, "more_than"),
        ("changqing_households", 4000, "more_than"),
        ("population_2021_haibowan", 341_000, "exact"),
        ("population_2021_wuda", 122_400, "exact"),
        ("population_2021_hainan", 94_700, "exact"),
        ("population_2021_total", 558_100, "exact"),
    ],
)
def test_key_values(fid: str, value_num: float, qualifier: str) -> None:
    f = figure(fid)
    assert f.value_num == pytest.approx(value_num)
    assert f.qualifier == qualifier


def test_printed_values_and_units() -> None:
    assert (figure("residents_served").value, figure("residents_served").unit_zh) == ("53.21", "万人")
    assert (figure("private_investment").value, figure("private_investment").unit_zh) == ("6", "亿元")
    assert figure("key_projects_private_investment").value == "1162.98"
    assert figure("policy_system").value == "1+8+27"
    assert figure("policy_system").value_num is None
    assert figure("chain_share").unit_en == "%"


def test_district_populations_add_up() -> None:
    parts = sum(figure(f"population_2021_{d}").value_num for d in ("haibowan", "wuda", "hainan"))
    assert parts == pytest.approx(figure("population_2021_total").value_num)


def test_value_num_matches_value_times_unit() -> None:
    """value (as printed, in unit_zh) times the 万/亿 multiplier equals value_num."""
    for f in facts.all_figures():
        if f.value_num is None:
            continue
        mult = 1e8 if f.unit_zh.startswith("亿") else 1e4 if f.unit_zh.startswith("万") else 1
        assert float(f.value) * mult == pytest.approx(f.value_num), f.id


def test_key_figures() -> None:
    keys = {f.id for f in facts.key_figures()}
    expected = {
        "circles_count", "street_community_coverage", "residents_served", "resident_population",
        "city_area", "pilot_communities", "markets", "breakfast_shops", "commercial_outlets",
        "elderly_institutions", "meal_points", "childcare_institutions",
        "childcare_places_per_1000", "pocket_parks", "government_funds", "private_investment",
        "tasks_completed",
    }
    assert keys == expected
    assert all(f.is_official for f in facts.key_figures())


def test_unknown_figure_raises() -> None:
    with pytest.raises(KeyError, match="no_such_figure"):
        figure("no_such_figure")


# --- file integrity ---------------------------------------------------------------------------

def test_figures_header_exact() -> None:
    with open(facts.FIGURES_CSV, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == facts.FIGURE_COLUMNS


def test_timeline_header_exact() -> None:
    with open(facts.TIMELINE_CSV, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    assert tuple(header) == facts.TIMELINE_COLUMNS


def test_ids_unique_and_snake_case() -> None:
    df = facts.load_figures()
    assert df["id"].is_unique
    assert df["id"].str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert len(df) >= 60


def test_allowed_codes() -> None:
    df = facts.load_figures()
    assert set(df["circle"]) <= facts.CIRCLES
    assert set(df["status"]) <= facts.STATUSES
    assert set(df["qualifier"]) <= facts.QUALIFIERS
    with open(facts.FIGURES_CSV, encoding="utf-8", newline="") as fh:
        assert {row["key"] for row in csv.DictReader(fh)} <= {"yes", "no"}


def test_required_text_fields_filled() -> None:
    df = facts.load_figures()
    for col in ("value", "unit_zh", "unit_en", "label_zh", "label_en", "as_of", "publisher_zh",
                "publisher_en", "source"):
        assert (df[col].str.strip() != "").all(), col


def test_as_of_parses() -> None:
    for as_of in facts.load_figures()["as_of"]:
        facts.parse_partial_date(as_of)
    assert figure("population_2021_total").as_of == "2021-12-31"
    assert figure("residents_served").as_of == "2024"


def test_article_copy_is_in_project() -> None:
    text = facts.article_text()
    assert facts.ARTICLE_TXT.parent.name == "official"
    assert "一刻钟社区生活圈 乌海人的幸福坐标" in text
    assert "服务居民53.21万人" in text


def test_article_quotes_verbatim() -> None:
    joined = facts.article_text(joined=True)
    article_rows = [f for f in facts.all_figures() if f.from_article]
    assert len(article_rows) >= 50
    for f in article_rows:
        assert f.quote_zh, f.id
        assert f.quote_zh in joined, f"{f.id}: quote not in article: {f.quote_zh}"


def test_quote_contains_printed_number() -> None:
    """The quoted clause shows the number as printed (Arabic digits), so the quote backs the row."""
    exempt = {"urbanisation_rank_national", "urbanisation_rank_region", "circle_system_circles",
              "build_years", "bayanwusu_build_years", "changqing_surveyed",
              "quality_year_horizon"}  # written in words / as a range in the article
    for f in facts.all_figures():
        if f.from_article and f.id not in exempt:
            assert f.value in f.quote_zh, f.id


def test_non_article_rows() -> None:
    for f in facts.all_figures():
        if not f.from_article:
            assert f.quote_zh == "", f.id
    unverified = {f.id for f in facts.all_figures() if f.status == "unverified"}
    assert unverified == {
        "unverified_communities_in_circles", "unverified_residents_per_circle",
        "unverified_repair_points", "unverified_old_compounds_renovated",
    }
    assert all(not figure(i).key for i in unverified)
    assert figure("population_2021_total").publisher_zh == "乌海市统计局"


# --- timeline ---------------------------------------------------------------------------------

def test_timeline_dates_parse_and_sorted() -> None:
    tl = facts.load_timeline()
    assert len(tl) >= 8
    starts = [facts.parse_partial_date(d) for d in tl["date"]]
    assert starts == sorted(starts)
    assert starts[0].year == 2021 and starts[-1].year == 2024
    assert (tl["date_start"].dt.year == [s.year for s in starts]).all()
    assert pd.api.types.is_datetime64_any_dtype(tl["date_start"])


def test_timeline_precision_matches_date() -> None:
    tl = facts.load_timeline()
    parts = {"year": 1, "month": 2, "day": 3}
    for d, p in zip(tl["date"], tl["date_precision"]):
        assert p in facts.DATE_PRECISIONS
        assert len(d.split("-")) == parts[p], d


def test_timeline_quotes_and_ids() -> None:
    tl = facts.load_timeline()
    joined = facts.article_text(joined=True)
    ids = set(facts.load_figures()["id"])
    for row in tl.itertuples():
        assert row.quote_zh and row.quote_zh in joined, row.quote_zh
        assert row.source == facts.ARTICLE_SOURCE
        assert set(facts.timeline_figure_ids(row.figure_ids)) <= ids, row.figure_ids
    assert "circles_count" in ";".join(tl["figure_ids"])


def test_parse_partial_date_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        facts.parse_partial_date("early 2022")
    assert facts.parse_partial_date("2022-03").month == 3


# --- display ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fid", "zh", "en"),
    [
        ("residents_served", "53.21万人", "532,100 residents"),
        ("street_community_coverage", "90%以上", ">90%"),
        ("suggestions", "5000条以上", ">5,000 suggestions"),
        ("circles_count", "14个", "14 circles"),
        ("urbanisation_rate", "95.88%", "95.88%"),
        ("city_area", "1754平方公里", "1,754 km²"),
        ("private_investment", "6亿元", "600,000,000 yuan"),
        ("childcare_places_per_1000", "3.8个/千人", "3.8 places per 1,000 residents"),
        ("unverified_residents_per_circle", "约4万人", "~40,000 residents"),
        ("policy_system", "1+8+27政策体系", "1+8+27 policy system"),
        ("urbanisation_rank_national", "第4位", "No. 4"),
    ],
)
def test_display(fid: str, zh: str, en: str) -> None:
    f = figure(fid)
    assert f.display("zh") == zh
    assert f.display("en") == en


def test_display_compact_en() -> None:
    assert figure("residents_served").display("en", compact=True) == "532.1 thousand residents"
    assert figure("key_projects_private_investment").display("en", compact=True) == "11.63 million yuan"
    assert figure("private_investment").display("en", compact=True) == "600 million yuan"
    assert figure("commercial_outlets").display("en", compact=True) == "7,623 outlets"
    assert figure("linyin_residents").display("en", compact=True) == ">50 thousand residents"


def test_display_qualifiers_on_synthetic_figure() -> None:
    base = dict(id="x", value="5", value_num=50000.0, unit_zh="万人", unit_en="residents",
                label_zh="x", label_en="x", circle="all", as_of="2024", status="official",
                publisher_zh="", publisher_en="", source="", quote_zh="", key=False)
    assert Figure(qualifier="exact", **base).display("zh") == "5万人"
    assert Figure(qualifier="more_than", **base).display("zh") == "5万人以上"
    assert Figure(qualifier="about", **base).display("zh") == "约5万人"
    assert Figure(qualifier="exact", **base).display("en") == "50,000 residents"
    assert Figure(qualifier="more_than", **base).display("en") == ">50,000 residents"
    assert Figure(qualifier="about", **base).display("en") == "~50,000 residents"
    with pytest.raises(ValueError):
        Figure(qualifier="exact", **base).display("fr")


def test_figure_is_frozen_and_loaders_return_copies() -> None:
    f = figure("breakfast_shops")
    with pytest.raises(AttributeError):
        f.value = "0"  # type: ignore[misc]
    df = facts.load_figures()
    df.loc[:, "value_num"] = 0
    assert figure("breakfast_shops").value_num == 428
    assert facts.load_figures().set_index("id").loc["breakfast_shops", "value_num"] == 428
    assert not math.isnan(facts.load_figures().set_index("id").loc["markets", "value_num"])
    assert figure("breakfast_shops").label("en") == "Breakfast shops"
