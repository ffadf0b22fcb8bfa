"""Streamlit glue for the gallery, the embeddable chart page and the briefing: cached chart builds,
download buttons, the source line under a chart, and embed detection."""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from functools import lru_cache

import streamlit as st

from circle import chart_export, chart_state, charts, grid
from circle.index import Dataset
from ui.common import current_dataset, ensure_app_navigation, index, md_escape, t  # noqa: F401 (re-export)

EXPORT_FORMATS = (("png", "PNG"), ("svg", "SVG"), ("csv", "CSV"), ("json", "JSON"))


def is_embedded() -> bool:
    """True when the app is opened with ``?embed=true`` (Streamlit's own embed flag)."""
    try:
        return bool(st.context.is_embedded)
    except Exception:  # noqa: BLE001 - no context (raw mode)
        return False


@st.cache_resource(show_spinner=False, max_entries=128)
def _built(dataset: Dataset | None, state: chart_state.ChartState, height: int | None = None):
    kwargs = state.build_kwargs() | ({"height": height} if height else {})
    built = charts.build_chart(state.chart_id, _index_of(dataset) if dataset is not None else None, **kwargs)
    if built.is_image:  # render the files now, under the cache lock (matplotlib is not thread-safe)
        built.image.png()
        built.image.svg()
    else:
        vega_lite_spec(built.chart)  # converted once here, not by every reader
    return built


def _index_of(dataset: Dataset):
    from ui.common import _shared_index

    return _shared_index(dataset)


def built_chart(state: chart_state.ChartState, height: int | None = None):
    """The chart for ``state`` on the current data set (built once, shared by all sessions).

    Charts of official figures need no index: they are built without loading it (the story's
    first chart paints before the engine is ready on a cold start)."""
    dataset = None if charts.REGISTRY[state.chart_id].kind != "computed" else current_dataset()
    key = (dataset, state, height)
    built = _BUILT.get(key)
    if built is None:
        if dataset is not None:
            index()  # shows the loading spinner the first time
        built = _BUILT[key] = _built(dataset, state, height)
    return built


# Charts already built, looked up without st.cache_resource's argument hashing; weak values, so
# what the resource cache evicts goes from here too.
_BUILT: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


def page_chart(chart_id: str, lang: str, speed_kmh: float | None = None, height: int | None = None):
    """A registry chart for a page, in ``lang`` (at ``speed_kmh`` for computed ones), cached."""
    return built_chart(chart_state.ChartState(chart_id, lang, speed=speed_kmh), height)


# Streamlit converts an Altair chart to Vega-Lite on every call of st.altair_chart: schema
# validation of the whole spec, under one lock shared by all sessions (≈ 30–50 ms a chart here).
# A chart object is immutable once built, so its converted spec is kept and sent with
# st.vega_lite_chart: the same JSON and Arrow datasets st.altair_chart would send.
_SPECS: OrderedDict[int, tuple[object, dict]] = OrderedDict()
_SPECS_LOCK = threading.Lock()
_SPECS_MAX = 256


def vega_lite_spec(chart) -> dict:
    """Streamlit's own Vega-Lite conversion of an Altair chart, made once per chart object."""
    key = id(chart)
    with _SPECS_LOCK:
        hit = _SPECS.get(key)
        if hit is not None and hit[0] is chart:
            _SPECS.move_to_end(key)
            return hit[1]
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    spec = _convert_altair_to_vega_lite_spec(chart)
    with _SPECS_LOCK:
        _SPECS[key] = (chart, spec)  # holding the chart keeps its id from being reused
        while len(_SPECS) > _SPECS_MAX:
            _SPECS.popitem(last=False)
    return spec


def show_altair(chart) -> None:
    """An Altair chart, full width, from its converted spec (see ``vega_lite_spec``)."""
    st.vega_lite_chart(vega_lite_spec(chart), width="stretch")


@lru_cache(maxsize=128)
def _legend_chart(legend):
    from circle import mapdata

    return mapdata.legend_chart(legend)


def show_legend(legend) -> None:
    """A map legend strip (``circle.mapdata.Legend``, immutable), built once per legend."""
    show_altair(_legend_chart(legend))


def show_chart(built, image_width: int | None = None) -> None:
    """The chart itself: Altair, or the rendered picture for image charts (``image_width`` px)."""
    if built.is_image:
        st.image(built.image.png(), width=image_width or "stretch")
    else:
        show_altair(built.chart)


def source_caption(built) -> None:
    """Source, date, method and (where it is) the simulated warning, in the page's language."""
    lang = built.meta.get("lang", "zh")
    lines = [built.source_line, chart_export.date_line(lang)]
    if built.simulated:
        lines.insert(0, t("gallery_simulated_note"))
    st.caption("  \n".join(md_escape(line) for line in lines))


def download_buttons(built, state: chart_state.ChartState, key: str) -> None:
    """PNG, SVG, CSV and metadata JSON; each file is made only when its button is clicked."""
    query = state.to_query()
    stem = chart_export.file_stem(built, query)
    cols = st.columns(len(EXPORT_FORMATS))
    for col, (fmt, label) in zip(cols, EXPORT_FORMATS):
        mime = {"png": "image/png", "svg": "image/svg+xml", "csv": "text/csv", "json": "application/json"}[fmt]
        with col:
            st.download_button(
                f"{label}", data=_deferred(built, fmt, query), file_name=f"{stem}.{fmt}", mime=mime,
                key=f"{key}_{fmt}", on_click="ignore", icon=":material/download:",
                help=t(f"gallery_dl_{fmt}"),
            )


def _deferred(built, fmt: str, query: dict):
    # Runs when the button is clicked, outside the script run: no st.* calls in here.
    def make() -> bytes:
        return chart_export.export(built, fmt, query=query)
    return make


def app_root_url() -> str:
    """The app's root URL as the browser sees it (for embed links), without the page path."""
    try:
        url = st.context.url or ""
    except Exception:  # noqa: BLE001
        url = ""
    if not url:
        return ""
    url = url.split("?", 1)[0].rstrip("/")
    for page in ("gallery", "chart", "briefing"):
        if url.endswith("/" + page):
            return url[: -len(page) - 1]
    return url


@st.cache_resource(show_spinner=False, max_entries=12, ttl=6 * 3600)
def _deck(dataset: Dataset, lang: str, district: str | None):
    from circle import briefing

    return briefing.build_deck(_index_of(dataset), lang, district)


def briefing_deck(lang: str, district: str | None):
    """The briefing deck's content for the current data set (built once per language and focus)."""
    index()
    return _deck(current_dataset(), lang, district)


def deck_download(deck, fmt: str, label: str, help_text: str, key: str) -> None:
    """A download button for the deck as PPTX or PDF, made when clicked."""
    from circle import briefing

    mime = {"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "pdf": "application/pdf"}[fmt]
    focus = "city" if not deck.district else next(
        (d.code for d in grid.districts() if d.name_zh == deck.district), "district")
    st.download_button(label, data=lambda: briefing.export(deck, fmt), file_name=f"wuhai_briefing_{deck.lang}_{focus}.{fmt}",
                       mime=mime, key=key, on_click="ignore", icon=":material/download:", help=help_text)
