"""Entry point: navigation, language and the shared sidebar. Pages live in pages/."""
import streamlit as st

from circle import i18n
from ui.common import current_dataset, lang, md_escape, t

st.set_page_config(page_title=i18n.t("app_title", "zh") + " · Wuhai 15-minute life circle",
                   page_icon="🏘️", layout="wide")

# Language lives in the URL (?lang=en); Chinese is the default and is left out of the URL.
if st.session_state.get("lang") not in i18n.LANGS:
    st.session_state["lang"] = i18n.normalise_lang(st.query_params.get("lang"))
with st.sidebar:
    st.segmented_control(i18n.t("language", "zh"), options=list(i18n.LANGS),
                         format_func=lambda code: "中文" if code == "zh" else "English", key="lang",
                         required=True)
if lang() == "en":
    st.query_params["lang"] = "en"
elif "lang" in st.query_params:
    del st.query_params["lang"]

PAGES = [
    st.Page("pages/story.py", title=t("nav_story"), icon="📖", url_path="story", default=True),
    st.Page("pages/my_circle.py", title=t("nav_my_circle"), icon="🚶", url_path="my-circle"),
    st.Page("pages/city_map.py", title=t("nav_city_map"), icon="🗺️", url_path="city-map"),
    st.Page("pages/progress.py", title=t("nav_progress"), icon="📈", url_path="progress"),
    st.Page("pages/data_methods.py", title=t("nav_data"), icon="🗂️", url_path="data"),
]
page = st.navigation(PAGES, position="top")

with st.sidebar:
    dataset = current_dataset()
    st.caption(md_escape(t("sidebar_data", label=dataset.label_zh if lang() == "zh" else dataset.label_en)))

page.run()
