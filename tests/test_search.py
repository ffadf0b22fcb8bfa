"""Tests for circle.search: the gazetteer, forgiving search, and resolve() for ?place= URLs."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circle import search as S
from circle.search import SearchHit, gazetteer, normalise, resolve, search
from circle.sources import SAMPLE_DIR, read_csv

COMMUNITIES = read_csv(SAMPLE_DIR / "communities.csv", dtype={"code": str, "street_code": str})


def top(query: str) -> SearchHit:
    hits = search(query)
    assert hits, f"no hits for {query!r}"
    return hits[0]


# --- gazetteer -------------------------------------------------------------------------------

def test_gazetteer_shape_and_ids():
    g = gazetteer()
    counts = g["kind"].value_counts().to_dict()
    assert counts["community"] == 87
    assert counts["street"] == 22
    assert counts["district"] == 3
    assert 10 <= counts["landmark"] <= 20
    assert g["id"].is_unique
    assert {"community:150302001004", "street:150302001", "district:150302", "district:150303",
            "district:150304"} <= set(g["id"])
    for col in ("id", "kind", "name_zh", "name_en", "district_zh", "street_zh", "lat", "lng",
                "location_quality", "keys_zh", "keys_pinyin", "keys_initials", "keys_english"):
        assert col in g.columns
    assert g["lat"].between(39.0, 40.0).all() and g["lng"].between(106.5, 107.1).all()
    assert set(g["district_zh"]) == {"海勃湾区", "乌达区", "海南区"}


def test_gazetteer_is_a_copy():
    g = gazetteer()
    g.loc[:, "name_zh"] = "x"
    assert (gazetteer()["name_zh"] != "x").all()


def test_landmarks_skip_rivers_lakes_and_duplicates():
    g = gazetteer()
    landmarks = g[g["kind"] == "landmark"]
    assert not landmarks["name_zh"].str.startswith("黄河").any()
    assert not landmarks["name_zh"].str.startswith("乌海湖").any()
    # Communities and townships come from their own tables only: one entry per name.
    assert (g["name_zh"] == "长青社区").sum() == 1
    assert (g["name_zh"] == "凤凰岭街道").sum() == 1
    assert not landmarks["name_zh"].str.contains("GeoNames").any()   # 拉僧庙镇/巴音赛街道 duplicates
    assert {"乌海机场", "乌海西站", "乌海市人民政府"} <= set(landmarks["name_zh"])


def test_keys_of_changqing():
    row = gazetteer().set_index("id").loc["community:150302001004"]
    assert row["name_zh"] == "长青社区" and row["name_en"] == "Changqing Community"
    assert row["street_zh"] == "凤凰岭街道" and row["district_zh"] == "海勃湾区"
    assert row["location_quality"] == "proxy"
    assert {"长青社区居委会", "长青社区", "长青"} <= set(row["keys_zh"])
    assert {"changqingshequ", "changqing"} <= set(row["keys_pinyin"])
    assert {"cqsq", "cq"} <= set(row["keys_initials"])
    assert "changqingcommunity" in row["keys_english"]


def test_generated_english_names():
    g = gazetteer().set_index("name_zh")
    assert g.loc["凤凰岭街道", "name_en"] == "Fenghuangling Subdistrict"
    assert g.loc["千里山镇", "name_en"] == "Qianlishan Town"
    assert g.loc["新地村", "name_en"] == "Xindi Village"
    assert g.loc["海勃湾区", "name_en"] == "Haibowan District"


# --- normalisation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("  Changqing Community ", "changqingcommunity"),
    ("ｃｈａｎｇｑｉｎｇ", "changqing"),            # full-width
    ("Chángqīng", "changqing"),                   # tone marks
    ("长青 社区！", "长青社区"),
    ("<script>alert(1)</script>", "scriptalert1script"),
    ("😀\x00\t", ""),
])
def test_normalise(raw, expected):
    assert normalise(raw) == expected


# --- real queries ----------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "matched_on"), [
    ("长青社区", "exact"),
    ("长青社区居委会", "exact"),
    ("长青", "exact"),
    ("changqing", "pinyin"),
    ("changqingshequ", "pinyin"),
    ("chang qing", "pinyin"),
    ("cqsq", "initials"),
    ("cq", "initials"),
    ("Changqing Community", "english"),
    ("ＣＨＡＮＧＱＩＮＧ", "pinyin"),
])
def test_changqing_found_first(query, matched_on):
    hit = top(query)
    assert hit.id == "community:150302001004"
    assert hit.matched_on == matched_on
    assert hit.street_zh == "凤凰岭街道" and hit.district_zh == "海勃湾区"


def test_exact_chinese_scores_100_and_beats_prefix():
    hits = search("长青")
    assert hits[0].name_zh == "长青社区" and hits[0].score >= 98
    second = next(h for h in hits if h.name_zh == "长青东社区")
    assert second.matched_on == "prefix" and second.score < hits[0].score
    assert search("长青社区")[0].score == 100


@pytest.mark.parametrize("query", ["凤凰岭", "fhl", "fenghuangling", "Fenghuangling Subdistrict"])
def test_fenghuangling_street(query):
    hit = top(query)
    assert (hit.kind, hit.name_zh, hit.district_zh) == ("street", "凤凰岭街道", "海勃湾区")


@pytest.mark.parametrize(("query", "district"), [("haibowan", "海勃湾区"), ("海勃湾", "海勃湾区"),
                                                 ("wuda", "乌达区"), ("Hainan District", "海南区")])
def test_districts(query, district):
    hit = top(query)
    assert (hit.kind, hit.name_zh) == ("district", district)


@pytest.mark.parametrize("query", ["乌海站", "Wuhai railway station"])
def test_railway_station(query):
    hit = top(query)
    assert hit.kind == "landmark" and hit.name_zh.startswith("乌海站")
    assert hit.district_zh == "海勃湾区"
    assert hit.score >= 80


def test_airport():
    hits = search("乌海机场")
    assert hits[0].name_zh == "乌海机场" and hits[0].matched_on == "exact" and hits[0].score == 100
    assert "乌海机场航站楼" in [h.name_zh for h in hits[1:]]


@pytest.mark.parametrize(("query", "expected"), [
    ("changqin", "长青社区"),        # unfinished
    ("chanqing", "长青社区"),        # dropped letter
    ("changqnig", "长青社区"),       # swapped letters
    ("fenghuanglin", "凤凰岭街道"),
    ("fenghaunglin", "凤凰岭街道"),
    ("haibowna", "海勃湾区"),
    ("wdua", "乌达区"),
    ("长清社区", "长青社区"),        # wrong character, same sound
    ("长春社区", "长青社区"),        # wrong character, different sound
])
def test_typos(query, expected):
    hit = top(query)
    assert hit.name_zh == expected
    assert hit.score < 100


def test_pure_typo_is_fuzzy_and_below_exact():
    hit = top("chanqing")
    assert hit.matched_on == "fuzzy"
    assert hit.score < top("changqing").score
    assert hit.score < S.CONFIDENT


def test_polyphonic_reading_alternative():
    # pypinyin reads 民乐 as 'minyue' (folk music); residents may type 'minle'.
    for query in ("minle", "minyue", "minleshequ"):
        hit = top(query)
        assert (hit.name_zh, hit.matched_on) == ("民乐社区", "pinyin") and hit.score >= 80


def test_homophone_typed_in_characters():
    hit = top("长清社区")          # 清 for 青: same pinyin, and pypinyin reads 长清 as 'zhangqing'
    assert (hit.name_zh, hit.matched_on) == ("长青社区", "pinyin")
    assert 80 <= hit.score < 100


def test_duplicate_names_show_street_and_district():
    hits = [h for h in search("幸福社区") if h.name_zh == "幸福社区"]
    assert len(hits) == 2
    assert all(h.score == 100 and h.matched_on == "exact" for h in hits)
    assert {h.street_zh for h in hits} == {"新华街道", "巴音赛街道"}
    assert {h.district_zh for h in hits} == {"海勃湾区", "乌达区"}
    assert hits[0].label != hits[1].label
    assert "新华街道" in hits[0].label + hits[1].label


def test_tuanjie_vs_tuanjie_beilu():
    hits = search("团结社区")
    assert hits[0].name_zh == "团结社区" and hits[0].street_zh == "巴音赛街道"
    beilu = [h for h in hits if h.name_zh == "团结北路社区"]
    assert beilu and beilu[0].score < hits[0].score and beilu[0].street_zh == "滨海街道"
    assert top("团结北路").name_zh == "团结北路社区"


@pytest.mark.parametrize("row", list(COMMUNITIES.itertuples(index=False)), ids=list(COMMUNITIES["code"]))
def test_every_community_found_by_short_name(row):
    hits = search(row.short_name)
    best = hits[0].score
    tied = [h for h in hits if h.score == best]
    assert f"community:{row.code}" in [h.id for h in tied]
    assert all(h.name_zh == row.short_name for h in tied), [h.name_zh for h in tied]
    assert best == 100


def test_hits_are_frozen_and_ranked():
    hits = search("新华")
    assert len(hits) <= 8
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 <= h.score <= 100 for h in hits)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hits[0].score = 0  # type: ignore[misc]
    assert len({h.id for h in hits}) == len(hits)


def test_limit():
    assert len(search("社区", limit=3)) == 3
    assert len(search("社区", limit=50)) > 8
    assert search("社区", limit=0) == []


# --- hostile input ---------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "", " ", "\t\n", "　", "<script>alert('x')</script>", "😀", "🏠📍", "\x00\x01\x1b[31m",
    "'; DROP TABLE places; --", "\ud800", "x" * 101, "长" * 101, "长青社区" * 30, "%00", "../../etc/passwd",
    "\u200b\u200d", "ᄀᄁ", "𠀀𠀁",
])
def test_hostile_queries_do_not_raise(query):
    hits = search(query)
    assert isinstance(hits, list)
    assert resolve(query) is None or isinstance(resolve(query), SearchHit)


@pytest.mark.parametrize("query", ["", "   ", "😀", "<>", "x" * 101, " 长青社区" + "x" * 100])
def test_empty_or_long_queries_return_nothing(query):
    assert search(query) == []
    assert resolve(query) is None


def test_query_of_exactly_max_length_is_searched():
    assert top("长青社区" + "!" * 96).name_zh == "长青社区"        # 100 characters
    assert search("长青社区" + "!" * 97) == []                   # 101 characters


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_search_never_raises(text):
    hits = search(text)
    assert isinstance(hits, list)
    assert all(isinstance(h, SearchHit) and 0 <= h.score <= 100 for h in hits)
    hit = resolve(text)
    assert hit is None or hit.score >= S.CONFIDENT


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=10))
def test_search_never_raises_on_chinese(text):
    assert isinstance(search(text), list)


# --- resolve ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "expected_id"), [
    ("长青社区", "community:150302001004"),
    ("changqing", "community:150302001004"),
    ("community:150302001004", "community:150302001004"),
    ("凤凰岭街道", "street:150302001"),
    ("haibowan", "district:150302"),
    ("团结社区", "community:150304009009"),
])
def test_resolve_confident(query, expected_id):
    hit = resolve(query)
    assert hit is not None and hit.id == expected_id and hit.score >= 80


@pytest.mark.parametrize("query", ["幸福社区",          # two places tie
                                   "社区",              # everything partially
                                   "chanqing",          # typo: shown in search, not auto-resolved
                                   "zzzzqqq", ""])
def test_resolve_refuses_when_unsure(query):
    assert resolve(query) is None


# --- engine rules ----------------------------------------------------------------------------

def test_engine_does_not_import_streamlit():
    code = ("import sys; from circle.search import search; search('长青'); "
            "sys.exit(1 if 'streamlit' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(S.__file__).parent.parent).returncode == 0


def test_gazetteer_is_a_copy():
    # How fast search is lives in the benchmarks (python -m bench search), not here.
    frame = gazetteer()
    assert isinstance(frame, pd.DataFrame)
    frame.loc[:, "name_zh"] = "x"
    assert (gazetteer()["name_zh"] != "x").any()
