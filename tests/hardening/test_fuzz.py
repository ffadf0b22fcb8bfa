"""Fuzzing (hypothesis, bounded): the importers and every function that reads a URL parameter.

The importers may only answer with a RawTable / ImportResult or their own ImportInputError (with a
Chinese and an English message); the URL parsers never raise, always return a valid state, and name
what they dropped. Each property runs a bounded number of examples with a per-example deadline."""
from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import circle
from circle import access, chart_state, exports, importers, mapdata, mycircle
from circle.importers import ImportInputError
from tests.hardening.conftest import assert_bilingual
from tests.hardening.corpus import HTML_PAYLOADS, POINTS, UNICODE_JUNK

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=5), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
FUZZ_FAST = settings(FUZZ, max_examples=300, deadline=timedelta(seconds=2))

@pytest.fixture(scope="module", autouse=True)
def untouched(shipped_hashes, previous_workspace):
    """The fuzzed inputs change nothing on disk: data/** and the loaded workspace hashed around the module."""
    from circle.sources import DATA_DIR
    from tests.hardening.conftest import hash_tree

    before = hash_tree(previous_workspace.folder)
    yield
    assert hash_tree(DATA_DIR) == shipped_hashes
    assert hash_tree(previous_workspace.folder) == before


NAMES = st.sampled_from(["f.csv", "f.tsv", "f.txt", "f.xlsx", "f.json", "f.geojson", "f", "f.xls", "../x.csv",
                         "<script>.csv", "a\x00b.csv"])


def import_once(data: bytes, name: str, crs: str = "auto") -> None:
    """Read and validate; only the importer's own error may come out."""
    try:
        raw = importers.read_bytes(data, name)
        result = importers.validate(raw, None, crs)
    except ImportInputError as error:
        assert_bilingual(error.zh, error.en)
        return
    report = result.report
    assert report.rows_read == report.accepted + report.rejected_count
    json.dumps(report.to_dict(), allow_nan=False, default=str)
    if len(result.facilities):
        assert result.facilities["lat"].between(39.0, 40.5).all()
        assert result.facilities["lng"].between(106.0, 107.5).all()


# --- the importers ----------------------------------------------------------------------------

@FUZZ
@given(data=st.binary(max_size=4096), name=NAMES)
def test_random_bytes(data, name):
    import_once(data, name)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_after_a_zip_header(data):
    import_once(b"PK\x03\x04" + data, "f.xlsx")


CELL = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    st.sampled_from(["", "nan", "inf", "-inf", "1e999", "106.8161", "39.6743", "便利店", "药店", "=1+1", '"', '""',
                     "\r", "\n", ",", ";", "\t", "|", *HTML_PAYLOADS, *UNICODE_JUNK]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=39.3, max_value=39.9).map(lambda v: f"{v:.6f}"),
    st.floats(min_value=106.6, max_value=107.0).map(lambda v: f"{v:.6f}"),
)
HEADER = st.lists(st.sampled_from(["名称", "经度", "纬度", "类型", "name", "lng", "lat", "type", "location", "经纬度",
                                   "typecode", "id", "编号", "地址", "", "名称", "x", "y", *HTML_PAYLOADS[:3]]),
                  min_size=1, max_size=7)


@FUZZ
@given(header=HEADER, rows=st.lists(st.lists(CELL, max_size=8), max_size=25),
       sep=st.sampled_from([",", ";", "\t", "|", " "]), newline=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]), crs=st.sampled_from(["auto", "wgs84", "gcj02", "bd09"]))
def test_csv_like_text(header, rows, sep, newline, encoding, crs):
    text = newline.join([sep.join(header)] + [sep.join(r) for r in rows]) + newline
    data = text.encode(encoding, errors="ignore")
    import_once(data, "fuzz.csv", crs)


JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
                      st.text(max_size=10), st.sampled_from(HTML_PAYLOADS))
JSON_VALUE = st.recursive(JSON_LEAF, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(st.text(max_size=8), children, max_size=5)), max_leaves=30)
COORD = st.one_of(st.floats(min_value=39.3, max_value=39.9), st.floats(min_value=106.6, max_value=107.0),
                  st.floats(allow_nan=True, allow_infinity=True), JSON_LEAF)


def _dump(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=True, default=str).encode("utf-8")


@FUZZ
@given(doc=JSON_VALUE, name=st.sampled_from(["f.json", "f.geojson"]))
def test_random_json(doc, name):
    import_once(_dump(doc), name)


@FUZZ
@given(features=st.lists(st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["Feature", "feature", None, 3]),
    "geometry": st.one_of(JSON_VALUE, st.fixed_dictionaries({
        "type": st.sampled_from(["Point", "MultiPoint", "Polygon", "LineString", "Banana", None]),
        "coordinates": st.one_of(st.lists(COORD, max_size=3), JSON_VALUE)})),
    "properties": st.one_of(JSON_VALUE, st.dictionaries(st.sampled_from(["name", "type", "名称", "类型", "tags", "id"]),
                                                         JSON_VALUE, max_size=4)),
    "id": JSON_LEAF}), max_size=20))
def test_geojson_like(features):
    import_once(_dump({"type": "FeatureCollection", "features": features}), "f.geojson")


@FUZZ
@given(elements=st.lists(st.one_of(JSON_LEAF, st.fixed_dictionaries({}, optional={
    "type": st.one_of(st.sampled_from(["node", "way", "relation"]), JSON_LEAF),
    "id": JSON_LEAF, "lat": COORD, "lon": COORD,
    "center": st.one_of(JSON_VALUE, st.fixed_dictionaries({"lat": COORD, "lon": COORD})),
    "bounds": st.one_of(JSON_VALUE, st.fixed_dictionaries({"minlat": COORD, "maxlat": COORD, "minlon": COORD, "maxlon": COORD})),
    "tags": st.one_of(JSON_VALUE, st.dictionaries(st.sampled_from(["amenity", "shop", "name", "name:zh", "leisure",
                                                                    "healthcare", "isced:level"]),
                                                  st.one_of(st.sampled_from(["pharmacy", "convenience", "school", "park",
                                                                             "1", *HTML_PAYLOADS[:2]]), JSON_LEAF),
                                                  max_size=4))})), max_size=20))
def test_overpass_like(elements):
    import_once(_dump({"version": 0.6, "elements": elements}), "f.json")


# --- URL parameters ---------------------------------------------------------------------------

URL_TEXT = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "0", "-1", "3.6", "4", "5.0",
                     "elderly", "default", "海勃湾区", "150302", "凤凰岭街道", "minutes", "gap", "street", "city",
                     "district-coverage", "wgs84", "gcj02", "BD09", "长青社区", *HTML_PAYLOADS, *UNICODE_JUNK]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
    st.text(min_size=5000, max_size=10_000).filter(lambda s: len(s) >= 5000),
)


@FUZZ_FAST
@given(value=st.one_of(URL_TEXT, st.none()))
def test_mycircle_parse_speed(value):
    speed, warning = mycircle.parse_speed(value)
    assert math.isfinite(speed) and 1.0 <= speed <= 10.0
    if warning is not None:
        assert speed == access.DEFAULT_SPEED_KMH
        assert_bilingual(*warning)
        assert len(warning[0]) < 200 and len(warning[1]) < 200


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@FUZZ
@given(lat=st.one_of(st.none(), URL_TEXT, st.floats(min_value=39.4, max_value=39.8).map(str)),
       lng=st.one_of(st.none(), URL_TEXT, st.floats(min_value=106.7, max_value=106.95).map(str)),
       place=st.one_of(st.none(), URL_TEXT), crs=st.one_of(st.none(), URL_TEXT))
def test_mycircle_resolve_location(index, lat, lng, place, crs):
    location = mycircle.resolve_location(index, lat, lng, place, crs)
    assert math.isfinite(location.lat) and math.isfinite(location.lng)
    assert index.lookup(location.lat, location.lng).inside  # always a place in Wuhai
    for zh, en in location.warnings:
        assert_bilingual(zh, en)
        assert len(zh) < 300 and len(en) < 300
    bad = any(v not in (None, "") for v in (lat, lng, place))
    assert location.warnings or not bad or location.label_zh  # a dropped value is said


@FUZZ_FAST
@given(params=st.dictionaries(st.sampled_from(list(mapdata.QUERY_KEYS) + ["lang", "x"]),
                              st.one_of(URL_TEXT, st.lists(URL_TEXT, max_size=3)), max_size=6))
def test_mapdata_parse_map_params(params):
    view, bad = mapdata.parse_map_params(params)
    assert view.measure in mapdata.MEASURES
    assert view.type_id in {t.id for t in circle.taxonomy.facility_types()}
    assert view.speed_kmh in access.SPEED_PRESETS_KMH.values()
    if view.district:
        assert mapdata.resolve_district(view.district).code == view.district
    if view.street:
        street = mapdata.resolve_street(view.street)
        assert mapdata.district_of(street).code == view.district
    for item in bad:
        assert len(item) < 80 and "=" in item
    again, bad_again = mapdata.parse_map_params(view.to_query())  # the canonical URL round-trips
    assert again == view and bad_again == []


@FUZZ_FAST
@given(value=st.one_of(URL_TEXT, st.none()))
def test_mapdata_parse_speed(value):
    try:
        speed = mapdata.parse_speed(value)
    except ValueError as error:
        assert str(error).startswith("speed=") and len(str(error)) < 80
        return
    assert speed is None or speed in access.SPEED_PRESETS_KMH.values()


@FUZZ_FAST
@given(params=st.dictionaries(st.sampled_from(["by", "speed", "lang", "x"]),
                              st.one_of(URL_TEXT, st.lists(URL_TEXT, max_size=3)), max_size=4))
def test_exports_parse_table_params(params):
    by, speed, bad = exports.parse_table_params(params)
    assert by in exports.GROUPINGS
    assert speed is None or speed in access.SPEED_PRESETS_KMH.values()
    assert all(len(item) < 80 for item in bad)


@FUZZ_FAST
@given(params=st.dictionaries(st.sampled_from(list(chart_state.PARAMS) + ["embed", "x"]),
                              st.one_of(URL_TEXT, st.lists(URL_TEXT, max_size=3)), max_size=8))
def test_chart_state_parse(params):
    from circle.charts import REGISTRY

    state, problems = chart_state.parse(params)
    assert state.chart_id in REGISTRY and state.lang in ("zh", "en")
    assert state.speed is None or (math.isfinite(state.speed) and 1.0 <= state.speed <= 10.0)
    assert state == state.supported()
    for problem in problems:
        assert_bilingual(problem.zh, problem.en)
        assert len(problem.zh) < 200 and len(problem.en) < 200
    again, problems_again = chart_state.parse(state.to_query())  # the canonical URL round-trips
    assert again == state and problems_again == []


@FUZZ_FAST
@given(crs=st.one_of(URL_TEXT, st.none()), point=st.sampled_from(POINTS))
def test_resolve_location_crs(index, crs, point):
    location = mycircle.resolve_location(index, str(point[0]), str(point[1]), None, crs)
    assert index.lookup(location.lat, location.lng).inside
    if crs not in (None, "") and crs.strip().lower() not in ("wgs84", "gcj02", "bd09", "wgs-84", "gcj-02", "bd-09"):
        assert location.warnings or crs.strip().lower() in circle.geo.CRS_ALIASES
