"""Charts are sent from Vega-Lite converted once (ui/chart_views.py), the same as st.altair_chart sends."""
from __future__ import annotations

from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

from circle import charts, load_index
from ui import chart_views


def test_spec_is_streamlits_conversion_made_once():
    built = charts.build_chart("district-coverage", load_index(), "en")
    first = chart_views.vega_lite_spec(built.chart)
    assert chart_views.vega_lite_spec(built.chart) is first  # converted once, then reused
    fresh = _convert_altair_to_vega_lite_spec(built.chart)
    assert first.keys() == fresh.keys()
    assert {k: v for k, v in first.items() if k != "datasets"} == {k: v for k, v in fresh.items() if k != "datasets"}
    assert first["datasets"] == fresh["datasets"]  # Arrow bytes of the same data
    other = charts.build_chart("district-coverage", load_index(), "zh")
    assert chart_views.vega_lite_spec(other.chart) is not first
    assert "Coverage" not in str(chart_views.vega_lite_spec(other.chart).get("title", ""))


def test_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(chart_views, "_SPECS_MAX", 2)
    built = [charts.build_chart("residents-served", None, lang) for lang in ("zh", "en", "zh")]
    for b in built:
        chart_views.vega_lite_spec(b.chart)
    assert len(chart_views._SPECS) <= 2
