"""Chart gallery (图表库): every chart id, rendered, with its downloads and an embed snippet."""
import streamlit as st

from circle import chart_state, charts, grid
from ui.chart_views import app_root_url, built_chart, download_buttons, show_chart, source_caption
from ui.common import ensure_app_navigation, data_banner, index, lang, md_escape, t

ensure_app_navigation()
L = lang()
st.title(t("gallery_title"))
st.markdown(t("gallery_lede"))
data_banner(index())

with st.container(border=True):
    st.caption(t("gallery_filters"))
    left, right = st.columns(2)
    with left:
        districts = [""] + [d.name_zh for d in grid.districts()]
        district = st.selectbox(t("gallery_district"), districts, key="gallery_district",
                                format_func=lambda d: t("gallery_all_city") if not d else
                                charts.filter_labels(L, district=d)[0]) or None
    with right:
        speed = st.segmented_control(t("gallery_speed"), chart_state.SPEED_PRESETS, key="gallery_speed",
                                     default=4.0, format_func=lambda v: f"{v:g}") or 4.0
speed = None if speed == 4.0 else float(speed)
root = app_root_url() or "http://localhost:8501"

for chart_id, spec in charts.REGISTRY.items():
    state = chart_state.ChartState(chart_id, L, district=district, speed=speed).supported()
    with st.container(border=True):
        st.subheader(spec.title(L), anchor=chart_id)
        kind = t("gallery_kind_official") if spec.kind == "official" else t("gallery_kind_computed")
        st.caption(md_escape(t("gallery_id", id=chart_id)) + " · " + md_escape(kind))
        built = built_chart(state)
        show_chart(built)
        source_caption(built)
        download_buttons(built, state, key=f"dl_{chart_id}")
        st.page_link("pages/chart.py", label=t("gallery_open"), icon="🔗", query_params=state.to_query())
        with st.expander(t("gallery_embed")):
            url = chart_state.embed_url(root, state)
            st.code(chart_state.iframe_snippet(url, built.title, chart_state.aspect_ratio(chart_id)), language="html")
            st.caption(t("gallery_embed_help"))
