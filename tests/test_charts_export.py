"""Every chart id builds in both languages and exports PNG, SVG, CSV and metadata; the numbers in
the CSV are the engine's; every export carries its source line; the gallery and the chart page
render every chart, reject bad URLs politely and write their state back into the URL."""
from __future__ import annotations

import html
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import circle
from circle import chart_export, chart_state, charts, facts, fonts, metrics
from circle.taxonomy import circles

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WHEN = datetime(2026, 5, 1, 8, 30, tzinfo=timezone.utc)
REQUIRED = {"residents-served", "published-counts", "circle-coverage", "district-coverage", "street-coverage",
            "type-coverage", "pt-distribution", "circle-district-heatmap", "mofcom-basic", "timeline",
            "worst-streets", "missing-types", "static-coverage-map"}


@pytest.fixture(scope="module")
def index():
    return circle.load_index()


@pytest.fixture(scope="module")
def built_all(index):
    return {(cid, lang): charts.build_chart(cid, index, lang) for cid in charts.REGISTRY for lang in ("zh", "en")}


def _csv(built) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(chart_export.export_csv(built)), encoding="utf-8-sig")


def test_registry_has_every_chart_of_the_app():
    assert REQUIRED <= set(charts.REGISTRY)
    assert charts.REGISTRY["static-coverage-map"].image
    for spec in charts.REGISTRY.values():
        assert spec.title_zh and spec.title_en and spec.kind in ("official", "computed")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("chart_id", sorted(charts.REGISTRY))
def test_every_chart_builds_and_exports(built_all, chart_id, lang):
    built = built_all[(chart_id, lang)]
    assert built.title and built.source_line and len(built.data) > 0
    if charts.REGISTRY[chart_id].kind == "computed":
        assert built.simulated  # the default data set is the simulated sample
        assert ("模拟" in built.source_line) if lang == "zh" else ("SIMULATED" in built.source_line)

    png = chart_export.export_png(built, WHEN, scale=1.0)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 8_000

    svg = chart_export.export_svg(built, WHEN).decode("utf-8")
    assert "<svg" in svg
    # The source line is in the SVG as text (SVG escapes &, <, >; nothing else changes).
    assert html.escape(built.source_line, quote=False) in svg or built.source_line in svg

    table = _csv(built)
    assert list(table.columns) == [str(c) for c in built.data.columns]
    assert len(table) == len(built.data)

    meta = json.loads(chart_export.export_metadata(built, WHEN, query={"id": chart_id}))
    assert meta["chart_id"] == chart_id
    assert meta["source_line"] == built.source_line and meta["sources"]
    assert meta["simulated"] == built.simulated
    assert meta["method"]
    assert meta["generated_utc"] == "2026-05-01T08:30:00Z"
    assert meta["app_version"] == circle.__version__
    assert meta["title_zh"] == charts.REGISTRY[chart_id].title_zh
    assert meta["title_en"] == charts.REGISTRY[chart_id].title_en
    assert meta["rows"] == len(built.data)
    if built.simulated:
        assert "SIMULATED" in meta["note"] and "模拟" in meta["note"]


@pytest.mark.parametrize("chart_id", sorted(set(charts.REGISTRY) - {"static-coverage-map"}))
def test_png_spec_draws_title_source_and_date(built_all, chart_id):
    built = built_all[(chart_id, "zh")]
    spec = chart_export.export_spec(built, WHEN)
    title = spec["title"]
    assert title["text"] == built.title
    assert built.source_line in title["subtitle"]
    assert any("2026-05-01" in line and circle.__version__ in line for line in title["subtitle"])
    assert isinstance(spec["width"], int)
    # Offline: no data or font is loaded from a URL (the $schema string is only a label).
    spec.pop("$schema", None)
    assert "http" not in json.dumps(spec, ensure_ascii=False)


def test_cjk_font_is_found_and_used():
    font = fonts.cjk_font()
    assert font is not None and font.path.is_file()
    assert fonts.register_vl_convert()
    spec_font = chart_export.export_spec(charts.build_chart("residents-served", None, "zh"), WHEN)["config"]["font"]
    assert spec_font.startswith(font.family)


def test_static_map_png_and_svg(built_all):
    built = built_all[("static-coverage-map", "zh")]
    assert built.is_image
    png = chart_export.export_png(built)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 50_000
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        assert im.width > 800 and im.height > 800
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # a drawn map, not a blank page
    svg = chart_export.export_svg(built).decode("utf-8")
    assert "乌海" in svg and built.source_line in svg


# --- the numbers in the CSV are the engine's ---------------------------------------------------

def test_district_coverage_csv_equals_metrics(index, built_all):
    table = _csv(built_all[("district-coverage", "zh")]).set_index("name_zh")
    engine = metrics.summary(index, "district").set_index("name_zh")
    for name, row in engine.iterrows():
        assert table.loc[name, "share_all_circles"] == pytest.approx(row["share_all_circles"], abs=1e-12)
        assert table.loc[name, "population"] == row["population"]


def test_heatmap_csv_equals_metrics(index, built_all):
    table = _csv(built_all[("circle-district-heatmap", "en")])
    engine = pd.concat([metrics.summary(index, "city"), metrics.summary(index, "district")]).set_index("name_zh")
    assert len(table) == len(engine) * len(circles())
    for row in table.itertuples():
        assert row.share == pytest.approx(engine.loc[row.area_zh, f"share_{row.circle}"], abs=1e-12)


def test_mofcom_basic_csv_equals_metrics(index):
    built = charts.build_chart("mofcom-basic", index, "zh", district="乌达区")
    table = _csv(built).set_index("type")
    engine = metrics.type_coverage(index, "district")
    engine = engine[(engine["name_zh"] == "乌达区") & (engine["mofcom"] == "basic")].set_index("type")
    assert set(table.index) == set(engine.index)
    for type_id, row in engine.iterrows():
        assert table.loc[type_id, "share_within"] == pytest.approx(row["share_within"], abs=1e-12)


def test_worst_streets_and_missing_types_csv_equal_metrics(index, built_all):
    streets = _csv(built_all[("worst-streets", "zh")]).set_index("code")
    engine = metrics.summary(index, "street").set_index("code")
    for code, row in streets.iterrows():
        assert row["residents_not_all_circles"] == engine.loc[str(code), "residents_not_all_circles"]
    types = _csv(built_all[("missing-types", "zh")])
    engine_t = metrics.type_coverage(index, "city").set_index("type")
    for row in types.itertuples():
        assert row.residents_beyond == engine_t.loc[row.type, "residents_beyond"]


def test_timeline_csv_equals_official_timeline(built_all):
    table = _csv(built_all[("timeline", "zh")])
    official = facts.load_timeline()
    assert list(table["event_zh"]) == list(official["event_zh"])
    assert list(table["date"].astype(str)) == list(official["date"].astype(str))


def test_static_map_csv_equals_cells(index, built_all):
    table = built_all[("static-coverage-map", "zh")].data
    cells = index.cells_at_speed()
    assert len(table) == index.grid.size
    np.testing.assert_array_equal(table["value"].to_numpy(), cells["circles_covered"].to_numpy().astype(float))


# --- URL state ---------------------------------------------------------------------------------

def test_state_parses_aliases_and_round_trips():
    state, problems = chart_state.parse({"id": "static-coverage-map", "lang": "en", "district": "Wuda",
                                         "street": "150304003", "circle": "health", "type": "breakfast_shop",
                                         "speed": "4.5"})
    assert not problems, problems
    assert state.district == "乌达区" and state.circle == "health" and state.speed == 4.5
    again, problems = chart_state.parse(state.to_query())
    assert again == state and not problems


@pytest.mark.parametrize("params,param", [
    ({"id": "no-such-chart"}, "id"), ({"id": "street-coverage", "district": "Atlantis"}, "district"),
    ({"id": "district-coverage", "speed": "fast"}, "speed"), ({"id": "district-coverage", "speed": "nan"}, "speed"),
    ({"id": "district-coverage", "speed": "99"}, "speed"), ({"id": "type-coverage", "circle": "<b>x</b>"}, "circle"),
    ({"id": "static-coverage-map", "type": "x" * 500}, "type"), ({"id": "district-coverage", "lang": "fr"}, "lang"),
])
def test_bad_values_become_problems_and_defaults(params, param):
    state, problems = chart_state.parse(params)
    assert [p.param for p in problems] == [param]
    assert problems[0].zh and problems[0].en
    assert state.chart_id in charts.REGISTRY


def test_unsupported_filters_are_dropped():
    state, problems = chart_state.parse({"id": "timeline", "district": "海南区", "speed": "5"})
    assert not problems and state.district is None and state.speed is None
    assert state.to_query() == {"id": "timeline"}


def test_iframe_snippet_is_responsive_with_fallback_and_escaped():
    state = chart_state.ChartState("street-coverage", "en", district="海勃湾区")
    url = chart_state.embed_url("https://example.org/app", state)
    assert url.startswith("https://example.org/app/chart?id=street-coverage") and "embed=true" in url
    snippet = chart_state.iframe_snippet(url, 'A "quoted" <title>', 0.9)
    assert 'padding-bottom:90.0%' in snippet and 'height="480"' in snippet
    assert "&lt;title&gt;" in snippet and "&quot;quoted&quot;" in snippet and "<title>" not in snippet


# --- AppTest: the gallery and the chart page ----------------------------------------------------

def _app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)


def test_gallery_renders_every_chart_with_downloads_and_embed_code():
    at = _app()
    at.switch_page("pages/gallery.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = len(at.get("vega_lite_chart")) + len(at.get("image"))
    assert shown == len(charts.REGISTRY)
    assert len(at.get("download_button")) == 4 * len(charts.REGISTRY)
    snippets = [c.value for c in at.code]
    assert len(snippets) == len(charts.REGISTRY)
    assert all("embed=true" in s and 'height="480"' in s for s in snippets)
    headers = [h.value for h in at.subheader]
    assert all(spec.title_zh in headers for spec in charts.REGISTRY.values())


@pytest.mark.parametrize("chart_id", sorted(charts.REGISTRY))
def test_chart_page_renders_each_id(chart_id):
    at = _app()
    at.query_params["id"] = chart_id
    at.switch_page("pages/chart.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning
    assert len(at.get("vega_lite_chart")) + len(at.get("image")) == 1
    assert any("数据" in c.value or "来源" in c.value for c in at.caption)  # the source line


def test_chart_page_bad_id_warns_and_shows_default():
    at = _app()
    at.query_params["id"] = "no-such-chart"
    at.query_params["district"] = "<script>alert(1)</script>"
    at.switch_page("pages/chart.py")
    at.run()
    assert not at.exception
    texts = " ".join(w.value for w in at.warning)
    assert "Invalid link parameter" in texts and "链接参数无效" in texts
    assert len(at.get("vega_lite_chart")) == 1
    assert at.query_params["id"] == chart_state.DEFAULT_CHART
    assert "district" not in at.query_params


def test_chart_page_writes_its_state_back_into_the_url():
    at = _app()
    at.query_params["id"] = "street-coverage"
    at.query_params["district"] = "150302"          # a code: canonicalised to the Chinese name
    at.switch_page("pages/chart.py")
    at.run()
    assert not at.exception
    assert at.query_params["district"] == "海勃湾区"
    at.selectbox(key="cp_district").select("乌达区").run()
    assert at.query_params["district"] == "乌达区"
    at.selectbox(key="cp_speed").select(5.0).run()
    assert at.query_params["speed"] == "5"
    at.selectbox(key="cp_id").select("mofcom-basic").run()
    assert at.query_params["id"] == "mofcom-basic" and at.query_params["district"] == "乌达区"
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    assert "乌达区" in json.dumps(spec, ensure_ascii=False)
    # The URL reproduces the view: a fresh session on the written URL shows the same state.
    fresh = _app()
    for key, value in dict(at.query_params).items():
        fresh.query_params[key] = value
    fresh.switch_page("pages/chart.py")
    fresh.run()
    assert fresh.selectbox(key="cp_district").value == "乌达区"
    assert fresh.selectbox(key="cp_speed").value == 5.0


def test_chart_page_embedded_shows_only_the_chart():
    at = _app()
    at.context = {"is_embedded": True}
    at.query_params["id"] = "district-coverage"
    at.query_params["lang"] = "en"
    at.switch_page("pages/chart.py")
    at.run()
    assert not at.exception
    assert len(at.sidebar) == 0 and len(at.selectbox) == 0
    assert len(at.get("vega_lite_chart")) == 1
    assert any("SIMULATED" in c.value for c in at.caption)
    assert any("chart?id=district-coverage" in m.value for m in at.markdown)  # the link back
