"""Entry point: navigation, language and the shared sidebar. Pages live in pages/."""
import streamlit as st

from circle import i18n
from ui.common import (FAVICON, bad_param, current_dataset, ensure_app_navigation, lang, md_escape, navigation_pages,
                       settle_language, t)

# A fresh server starts in Streamlit's legacy pages/ mode: leave it first, before any element is
# drawn, so that the one rerun it takes costs nothing (it made cold starts ~0.5 s slower).
ensure_app_navigation()

# The favicon comes with the first message: without one, the browser would fetch the page's
# Material icon from fonts.gstatic.com (outside the machine, blocked inside China).
st.set_page_config(page_title=i18n.t("app_title", "zh") + " · Wuhai 15-minute life circle",
                   page_icon=FAVICON, layout="wide")

# ?embed=true (Streamlit's own flag): a chart-only view for iframes, with no navigation or sidebar.
EMBEDDED = bool(st.context.is_embedded)

# Language lives in the URL (?lang=en); Chinese is the default and is left out of the URL.
if st.session_state.get("lang") not in i18n.LANGS:
    raw_lang = st.query_params.get("lang")
    st.session_state["lang"] = i18n.normalise_lang(raw_lang)
    if raw_lang and raw_lang.strip().lower() not in i18n.LANGS:
        st.session_state["bad_lang_param"] = raw_lang  # pages may say so (the chart page does)
if settle_language() == "en":
    st.query_params["lang"] = "en"
elif "lang" in st.query_params:
    del st.query_params["lang"]

# The URL of a page is its file name (pages/my_circle.py → /my_circle). Streamlit registers the
# files of pages/ by name before st.navigation runs, so any other url_path would flash a
# "Page not found" dialog on deep links.
PAGE_SPECS = (  # (file, title key, Material icon, visible)
    ("story", "nav_story", "auto_stories", True),
    ("my_circle", "nav_my_circle", "directions_walk", True),
    ("city_map", "nav_city_map", "map", True),
    ("progress", "nav_progress", "trending_up", True),
    ("data_methods", "nav_data", "dataset", True),
    ("load_data", "nav_load_data", "upload_file", True),
    ("whatif", "nav_whatif", "explore", True),
    ("gallery", "nav_gallery", "insert_chart", True),
    ("briefing", "nav_briefing", "co_present", True),
    ("chart", "nav_chart", "bar_chart", False),
)
page = st.navigation(navigation_pages(PAGE_SPECS, default="story"), position="hidden" if EMBEDDED else "top")

# A bad ?lang= is said on every page (the chart page says it itself, with its other parameters).
if page.url_path != "chart" and st.session_state.get("bad_lang_param") is not None:
    shown = str(st.session_state.pop("bad_lang_param"))[:40]
    bad_param(f"lang={shown}：语言须为 zh 或 en", f"lang={shown}: the language must be zh or en")

page.run()

# After the page, so its title paints first on a cold start: the language switch (its first
# drawing loads Streamlit's emoji catalogue) and the data label (it needs circle.index). The
# switch's value is in session state before the page runs.
if not EMBEDDED:
    with st.sidebar:
        st.segmented_control(i18n.t("language", "zh"), options=list(i18n.LANGS),
                             format_func=lambda code: "中文" if code == "zh" else "English", key="lang",
                             required=True)
        dataset = current_dataset()
        st.caption(md_escape(t("sidebar_data", label=dataset.label_zh if lang() == "zh" else dataset.label_en)))
