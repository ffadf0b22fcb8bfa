"""One chart on its own (hidden page, url_path "chart"): the URL is the state.

``?id=<chart id>&lang=&district=&street=&circle=&type=&speed=``; every value is validated (a bad
one gets a bilingual notice and the default). With ``?embed=true`` only the chart, its title, the
source line and a link back are shown; otherwise filters let the reader change the view, and each
change is written back into the URL.
"""
import streamlit as st

from circle import chart_export, chart_state, charts
from circle.taxonomy import circles, facility_types
from ui.chart_views import app_root_url, built_chart, is_embedded, show_chart, source_caption
from ui.common import ensure_app_navigation, bad_param, lang, md_escape, t

ensure_app_navigation()
L = lang()
embedded = is_embedded()
url_state, problems = chart_state.parse(st.query_params)
url_state = chart_state.ChartState(**{**url_state.__dict__, "lang": L}).supported()
for problem in problems:
    if problem.param != "lang":  # the language is the app's (set from the URL in streamlit_app.py)
        bad_param(problem.zh, problem.en)
if st.session_state.pop("bad_lang_param", None) is not None:
    bad_param("lang 须为 zh 或 en", "lang must be zh or en")

state = url_state
if not embedded:
    # Seed the widgets from the URL whenever the URL changed outside this page's own widgets.
    current = dict(url_state.to_query())
    external = st.session_state.get("cp_last_query") != current
    streets = chart_state.street_table()
    seeds = {"cp_id": url_state.chart_id, "cp_district": url_state.district or "", "cp_street": url_state.street or "",
             "cp_circle": url_state.circle or "", "cp_type": url_state.type_id or "",
             "cp_speed": url_state.speed if url_state.speed is not None else 0.0}
    for key, value in seeds.items():
        if external or key not in st.session_state:
            st.session_state[key] = value

    ids = list(charts.REGISTRY)
    chart_id = st.selectbox(t("chart_page_chart"), ids, key="cp_id",
                            format_func=lambda i: f"{charts.REGISTRY[i].title(L)} ({i})")
    filters = charts.REGISTRY[chart_id].filters
    shown = [f for f in ("district", "street", "circle", "type", "speed") if f in filters]
    slots = dict(zip(shown, st.columns(max(len(shown), 1)))) if shown else {}
    district = street = circle = type_id = None
    speed = None
    if "district" in filters:
        with slots["district"]:
            options = [""] + [d for d in chart_state.district_choices().values() if d]
            options = list(dict.fromkeys(options))
            district = st.selectbox(t("gallery_district"), options, key="cp_district",
                                    format_func=lambda d: t("gallery_all_city") if not d else
                                    charts.filter_labels(L, district=d)[0]) or None
    if "street" in filters:
        with slots["street"]:
            options = [""] + [s[0] for s in streets if not district or s[3] == district]
            if st.session_state.get("cp_street") not in options:
                st.session_state["cp_street"] = ""
            street = st.selectbox(t("chart_page_street"), options, key="cp_street",
                                  format_func=lambda s: t("chart_page_any") if not s else
                                  charts.filter_labels(L, street=s)[0]) or None
    if "circle" in filters:
        with slots["circle"]:
            options = [""] + [c.id for c in circles()]
            circle = st.selectbox(t("chart_page_circle"), options, key="cp_circle",
                                  format_func=lambda c: t("chart_page_any") if not c else
                                  charts.filter_labels(L, circle=c)[0]) or None
    if "type" in filters:
        with slots["type"]:
            options = [""] + [f.id for f in facility_types()]
            type_id = st.selectbox(t("chart_page_type"), options, key="cp_type",
                                   format_func=lambda f: t("chart_page_any") if not f else
                                   charts.filter_labels(L, type_id=f)[0]) or None
    if "speed" in filters:
        with slots["speed"]:
            options = sorted({0.0, *chart_state.SPEED_PRESETS, float(st.session_state.get("cp_speed") or 0.0)})
            speed = st.selectbox(t("gallery_speed"), options, key="cp_speed",
                                 format_func=lambda v: "4 (默认 / default)" if not v else f"{v:g}") or None
    state = chart_state.ChartState(chart_id, L, district, street, circle, type_id, speed).supported()
    query = state.to_query()
    st.session_state["cp_last_query"] = query
    wanted = {**query, **({"lang": "en"} if L == "en" else {})}
    if dict(st.query_params.to_dict()) != wanted:
        st.query_params.from_dict(wanted)

built = built_chart(state)
show_chart(built)
source_caption(built)
if built.meta.get("kind") == "computed":
    st.caption(md_escape(chart_export.method(built)))
root = app_root_url()
full_link = chart_state.embed_url(root or ".", state, embed=False)
if embedded:
    st.markdown(f"[{md_escape(t('chart_page_back'))}]({full_link})")
else:
    st.page_link("pages/gallery.py", label=t("chart_page_gallery"), icon="🖼️")
