"""AppTest: the city map, progress and data pages in both languages, and bad URL parameters.

Each test runs the real app (streamlit_app.py, navigation and all) headless, switched to one page.
AppTest cannot see JavaScript, so the map is checked through the JSON it would send to deck.gl.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from circle import i18n

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
BANNER_ZH = "模拟数据"
BANNER_EN = "simulated"


def run_page(page: str, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def check_common(at: AppTest, title_key: str, lang: str) -> None:
    assert [t.value for t in at.title][0] == i18n.t(title_key, lang)
    warnings = " ".join(w.value for w in at.warning)
    assert BANNER_ZH in warnings and BANNER_EN in warnings  # the simulated banner, in both languages


def deck_spec(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def offline_style(style) -> bool:
    """No online basemap: no style, pydeck's "no style" sentinel, or a style the app serves itself."""
    return style in (None, "", "__MAP_STYLE__") or str(style).startswith("/app/static/")


def bad_param_warnings(at: AppTest) -> list[str]:
    marker_zh = i18n.t("bad_param", "zh", detail="").split("（")[0]
    return [w.value for w in at.warning if marker_zh in w.value]


# --- city map ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_city_map(lang):
    at = run_page("pages/city_map.py", **({"lang": "en"} if lang == "en" else {}))
    check_common(at, "cm_title", lang)
    spec = deck_spec(at)
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert layers["hexes"]["@@type"] == "H3HexagonLayer"
    rows = layers["hexes"]["data"]
    assert 500 < len(rows) <= 6_000
    assert all(isinstance(r["hex"], str) and len(r["hex"]) == 15 for r in rows)
    assert {"river", "districts", "labels"} <= set(layers)
    assert offline_style(spec.get("mapStyle")), spec.get("mapStyle")  # no online basemap
    tooltip = json.loads(at.get("deck_gl_json_chart")[0].proto.tooltip)
    assert set(tooltip) == {"text"}  # never {"html": ...}
    labels = " ".join(r["label"] for r in rows[:50])
    assert ("圈" in labels) == (lang == "zh")
    assert len(at.get("vega_lite_chart")) == 1  # the legend
    assert not bad_param_warnings(at)


def test_city_map_url_and_controls():
    at = run_page("pages/city_map.py", measure="minutes", type="pharmacy", district="海勃湾区", speed="3.6")
    assert at.selectbox(key="cm_measure").value == "minutes"
    assert at.selectbox(key="cm_type").value == "pharmacy"
    assert at.selectbox(key="cm_district").value == "150302"
    assert at.query_params["district"] == ["150302"] or at.query_params["district"] == "150302"
    city_rows = len(deck_spec(at)["layers"][0]["data"])
    labels = [r["label"] for r in deck_spec(at)["layers"][0]["data"]]
    assert any("药店" in label for label in labels)
    # changing a control reruns the map and rewrites the URL
    at.selectbox(key="cm_measure").set_value("gap").run()
    assert not at.exception
    assert "type" not in at.query_params and at.query_params["measure"] in ("gap", ["gap"])
    at.selectbox(key="cm_street").set_value("150302001").run()
    assert len(deck_spec(at)["layers"][0]["data"]) < city_rows
    assert "street" in at.query_params
    # the online basemap is opt-in
    at.checkbox(key="cm_basemap").check().run()
    assert not offline_style(deck_spec(at).get("mapStyle"))


def test_city_map_bad_params():
    at = run_page("pages/city_map.py", measure="nope", district="火星", speed="abc")
    bad = bad_param_warnings(at)
    assert len(bad) == 1 and "measure=nope" in bad[0] and "district=火星" in bad[0] and "speed=abc" in bad[0]
    assert "Invalid link parameter" in bad[0]
    assert at.selectbox(key="cm_measure").value == "circles"
    assert at.selectbox(key="cm_district").value == ""
    assert "measure" not in at.query_params and "district" not in at.query_params
    assert deck_spec(at)["layers"][0]["@@type"] == "H3HexagonLayer"


# --- progress ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_progress(lang):
    params = {"lang": "en", "by": "street"} if lang == "en" else {}
    at = run_page("pages/progress.py", **params)
    check_common(at, "pg_title", lang)
    assert len(at.get("vega_lite_chart")) >= 4
    assert len(at.dataframe) >= 2
    table = at.dataframe[0].value
    assert len(table) == (22 if lang == "en" else 3)
    assert table["share_all_circles"].between(0, 1).all()
    assert len(at.get("download_button")) >= 3
    text = " ".join(m.value for m in at.markdown)
    assert i18n.t("pg_reading", lang) in text
    assert ("模拟" in text) if lang == "zh" else ("simulated" in text)
    assert not bad_param_warnings(at)


def test_progress_bad_params():
    at = run_page("pages/progress.py", by="planet", speed="abc")
    bad = bad_param_warnings(at)
    assert len(bad) == 1 and "by=planet" in bad[0]
    assert len(at.dataframe[0].value) == 3  # the default grouping: districts
    assert "by" not in at.query_params


# --- data and methods -------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh", "en"])
def test_data_methods(lang):
    at = run_page("pages/data_methods.py", **({"lang": "en"} if lang == "en" else {}))
    check_common(at, "dm_title", lang)
    from circle import exports

    text = " ".join(m.value for m in at.markdown)
    for export in exports.EXPORTS.values():  # every file listed, with its description
        assert export.title(lang).replace("(", "\\(")[:6] in text or export.title(lang)[:6] in text
    # One file at a time: choosing it gives its own download and its metadata.
    for export_id, export in exports.EXPORTS.items():
        at.selectbox(key="dm_export").set_value(export_id).run()
        assert not at.exception
        buttons = at.get("download_button")
        assert len(buttons) == 2
        assert export.file_name.replace(".", "") in buttons[0].proto.label.replace("\\", "").replace(".", "")
        assert ("说明" if lang == "zh" else "Metadata") in buttons[1].proto.label
    assert len(at.dataframe) >= 1 and len(at.dataframe[0].value) >= 30  # the taxonomy
    assert len(at.expander) >= 5  # four SOURCES.md and the assumptions
    text = " ".join(m.value for m in at.markdown)
    assert "1.2" in text and "H3" in text


def test_language_switch_changes_every_text_of_the_run():
    """The sidebar switch reruns the page in the other language (each run settles its language
    once, so nothing of the previous run's language may remain)."""
    at = run_page("pages/progress.py")
    check_common(at, "pg_title", "zh")
    switch = at.sidebar.button_group[0]
    switch.set_value("en").run()
    assert not at.exception
    check_common(at, "pg_title", "en")
    assert at.query_params["lang"] in ("en", ["en"])
    assert i18n.t("pg_table_h", "en") in [h.value for h in at.header]
    at.sidebar.button_group[0].set_value("zh").run()
    check_common(at, "pg_title", "zh")
    assert "lang" not in at.query_params
    assert i18n.t("pg_table_h", "zh") in [h.value for h in at.header]


def test_language_is_remembered_only_within_its_run(monkeypatch):
    from ui import common

    marker, state = [object()], ["zh"]
    monkeypatch.setattr(common, "_run_marker", lambda: marker[0])
    monkeypatch.setattr(common, "_language_from_state", lambda: state[0])
    assert common.settle_language() == "zh"
    state[0] = "en"
    assert common.lang() == "zh"  # the same run keeps the language it settled
    marker[0] = object()          # a later run in the same thread
    assert common.lang() == "en"  # reads the state again
    marker[0] = None              # outside a script run
    assert common.lang() == "en"


@pytest.mark.parametrize("n,parts,sizes", [(8, 4, [2, 2, 2, 2]), (17, 4, [5, 4, 4, 4]), (2, 4, [1, 1, 0, 0]),
                                           (0, 2, [0, 0])])
def test_chunks_keep_the_order_in_even_runs(n, parts, sizes):
    from ui.common import chunks

    runs = chunks(range(n), parts)
    assert [len(r) for r in runs] == sizes
    assert [x for r in runs for x in r] == list(range(n))
