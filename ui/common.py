"""Helpers every page uses: the current language, the shared index, honest banners and tags."""
from __future__ import annotations

import base64
import copy
import gc
import re
import threading
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from circle import i18n
from circle.provenance import Tag

if TYPE_CHECKING:  # the engine (numpy, numba, pandas...) loads on first use, after the page title
    from circle.index import Dataset

# The favicon as a data: URL, read once: a file path would be read and registered with Streamlit's
# media store on every page run of every reader; a data: URL is sent as it is (and stays offline).
FAVICON = "data:image/png;base64," + base64.b64encode((Path(__file__).with_name("icon.png")).read_bytes()).decode()

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def ensure_app_navigation() -> None:
    """Run every page inside streamlit_app.py (navigation, language, embed handling).

    Streamlit keeps a legacy mode for projects with a ``pages/`` folder: until some session has
    called ``st.navigation``, a fresh server runs a deep link (``/my_circle?...``) as a bare page
    script, with a sidebar of file names and without ``streamlit_app.py``. Leave that mode and
    rerun (``lang()`` calls this, and every page asks for the language first)."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


_PAGES: dict[tuple, list] = {}


def navigation_pages(specs: tuple[tuple[str, str, str, bool], ...], default: str) -> list:
    """The ``st.Page`` objects of this run, from ``(file stem, title key, Material icon, visible)``.

    Building a page resolves its file on disk: a few system calls per page, each handing the GIL
    over, for every reader. The pages are built once per language and copied on every run
    (``st.navigation`` marks the copy it returns as the one to run)."""
    ctx = get_script_run_ctx()
    key = (lang(), specs, default, str(ctx.pages_manager.main_script_parent) if ctx else None)
    if key not in _PAGES:
        _PAGES[key] = [st.Page(f"pages/{stem}.py", title=t(title_key), icon=f":material/{icon}:", url_path=stem,
                               default=(stem == default), visibility="visible" if visible else "hidden")
                       for stem, title_key, icon, visible in specs]
    return [copy.copy(page) for page in _PAGES[key]]


# The language of the script run in this thread, and the run it belongs to (see settle_language).
_RUN = threading.local()


def _run_marker():
    """An object that is new for every script run (Streamlit resets a run's cursors each time)."""
    ctx = get_script_run_ctx()
    return getattr(ctx, "cursors", None) if ctx is not None else None


def settle_language() -> str:
    """streamlit_app.py decides the run's language first; this remembers it for the rest of the
    run, so the ~40 ``t()`` calls of a page do not each go through session state."""
    value = _language_from_state()
    _RUN.marker, _RUN.lang = _run_marker(), value
    return value


def lang() -> str:
    """'zh' or 'en', from the language switch (bound to the ``lang`` URL parameter)."""
    marker = _run_marker()
    if marker is not None and getattr(_RUN, "marker", None) is marker:
        return _RUN.lang
    return _language_from_state()


def _language_from_state() -> str:
    ensure_app_navigation()
    value = st.session_state.get("lang")
    if value is None:
        value = st.query_params.get("lang")
    return i18n.normalise_lang(value)


def t(key: str, **values) -> str:
    return i18n.t(key, lang(), **values)


def md_escape(text: object) -> str:
    """Text from data files, safe inside st.markdown (no links, images, HTML or emphasis)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def current_dataset() -> "Dataset":
    """The data set this session shows: the simulated sample unless the user loaded their own."""
    dataset = st.session_state.get("dataset")
    if dataset is None:
        from circle.index import DEFAULT_DATASET

        dataset = DEFAULT_DATASET
    return dataset


@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_index(dataset: "Dataset"):
    # One copy per data set for all sessions: the arrays are read-only after the build.
    from circle.index import load_index

    if dataset.simulated:
        return load_index(dataset)
    # An imported data set is cached on disk in its own workspace, never in the shipped .cache, and
    # in memory only here (this cache evicts; load_index's per-process memo would keep every upload).
    from circle.index import build_index
    from circle.workspace import cache_dir_for

    return build_index(dataset, cache_dir=cache_dir_for(dataset))


# Indexes already loaded, by data set: a reader's page then skips the spinner (a timer thread)
# and st.cache_resource's argument hashing (≈ 0.5 ms a call, several calls a page). Weak values:
# when the resource cache evicts an index, it goes from here too.
_LOADED: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()


_FIRST_PAINT_DONE = False


def send_what_is_drawn() -> None:
    """On a fresh server, let what the page has drawn reach the browser before slow first-time work.

    Importing pandas and the engine and loading the index hold the interpreter in long calls that
    leave Streamlit's event loop no turn: the story's headline reached the browser only once they
    were done. A pause, once per process, gives the loop its turns (cold start to a visible
    headline, median of 6: 2.8 s with 0.05 s, 2.5 s with 0.3 s). Free afterwards."""
    global _FIRST_PAINT_DONE
    if not _FIRST_PAINT_DONE and not _LOADED:
        _FIRST_PAINT_DONE = True
        time.sleep(0.3)


def index():
    """The walking-access index of the current data set (built once, shared by all sessions)."""
    dataset = current_dataset()
    loaded = _LOADED.get(dataset)
    if loaded is not None:
        return loaded
    send_what_is_drawn()
    with st.spinner(t("loading_index")):
        loaded = _shared_index(dataset)
    _LOADED[dataset] = loaded
    # The index and all that is loaded by now live as long as the process: take them out of the
    # cyclic garbage collector's reach. Otherwise every full collection walks them all: ~0.2 s
    # holding the GIL, about one every 10 s in the load test, and whoever is being served waits.
    # Refcounting still frees what dies.
    gc.freeze()
    return loaded


def data_banner(idx) -> None:
    """Say plainly, in both languages, when a view is built on simulated data."""
    if idx.dataset.simulated:
        st.warning(i18n.t("simulated_banner", "zh") + "\n\n" + i18n.t("simulated_banner", "en"), icon="⚠️")
    else:
        st.info(t("imported_banner", label=md_escape(idx.describe(lang()))), icon="📂")


def tag_line(*tags: Tag) -> None:
    """The provenance line under a number: official / computed / simulated, with its source (one
    line per tag, in one caption)."""
    st.caption("  \n".join(md_escape(tag.text(lang())) for tag in tags))


def figure_card(label: str, value: str, tag: Tag, help_text: str | None = None) -> None:
    """A metric with its provenance line underneath."""
    st.metric(label, value, help=help_text)
    tag_line(tag)


def chunks(items, parts: int) -> list:
    """``items`` in ``parts`` consecutive runs, as even as possible (the first ones longer)."""
    items = list(items)
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def texts_in_columns(texts: list[str], columns: int) -> None:
    """Markdown texts in ``columns`` columns, one element per column (every element costs each
    reader's session) holding consecutive texts, so a phone, which stacks columns, keeps the order."""
    for col, part in zip(st.columns(columns), chunks(texts, columns)):
        col.markdown("\n\n".join(part))


def figure_cards(cards: list[tuple[str, str, Tag]], columns: int = 4) -> None:
    """Figures as cards in ``columns`` columns: label, value, provenance line (a metric and its
    caption would be two elements per figure). Labels and tags come from data files and are
    escaped."""
    language = lang()
    texts_in_columns([f":small[{md_escape(label)}]\n### {md_escape(value)}\n"
                      f":small[:gray[{md_escape(tag.text(language))}]]" for label, value, tag in cards], columns)


BAD_PARAM_CHARS = 300


def _cap(text: object) -> str:
    text = str(text)
    return text if len(text) <= BAD_PARAM_CHARS else text[:BAD_PARAM_CHARS] + "…"


def bad_param(detail_zh: str, detail_en: str | None = None) -> None:
    """A friendly bilingual notice for a bad URL parameter (the page then shows its default). The
    detail is escaped and capped: a URL can carry 10,000 characters of anything."""
    zh = i18n.t("bad_param", "zh", detail=md_escape(_cap(detail_zh)))
    en = i18n.t("bad_param", "en", detail=md_escape(_cap(detail_en or detail_zh)))
    st.warning(zh + "\n\n" + en, icon="🔗")


def pct(value: float, digits: int = 1) -> str:
    return "—" if value != value else f"{value * 100:.{digits}f}%"
