"""Briefing mode (汇报模式): one message per slide in large type, for a meeting room with no internet.

The URL holds the slide (``?slide=N``, 1-based) and the focus (``?district=``); ← / → move between
slides. The deck's content comes from ``circle.briefing`` (the same deck exports to PPTX and PDF).
"""
import streamlit as st

from circle import chart_state, grid, i18n
from ui.chart_views import briefing_deck, built_chart, deck_download, show_chart
from ui.common import ensure_app_navigation, bad_param, lang, md_escape, t

ensure_app_navigation()
st.set_page_config(layout="wide", initial_sidebar_state="collapsed")
L = lang()

# The focus district, from the URL (validated).
raw_district = st.query_params.get("district")
district = chart_state.find_district(raw_district)
if raw_district and district is None:
    bad_param(f"district={raw_district[:40]}：没有这个区", f"district={raw_district[:40]}: no such district")
    del st.query_params["district"]

deck = briefing_deck(L, district)
total = len(deck)

# The slide number, from the URL (validated).
raw_slide = st.query_params.get("slide")
n = 1
if raw_slide is not None:
    try:
        n = int(raw_slide)
    except ValueError:
        n = 0
    if not 1 <= n <= total:
        bad_param(f"slide={raw_slide[:20]}：" + t("brief_bad_slide", total=total),
                  f"slide={raw_slide[:20]}: " + i18n.t("brief_bad_slide", "en", total=total))
        n = 1
        st.query_params["slide"] = "1"


def _go(to: int) -> None:
    st.query_params["slide"] = str(min(max(to, 1), total))


def _focus() -> None:
    chosen = st.session_state.get("brief_district") or ""
    if chosen:
        st.query_params["district"] = chosen
    elif "district" in st.query_params:
        del st.query_params["district"]
    st.query_params["slide"] = "1"


slide = deck.slides[n - 1]
st.markdown(f"## {md_escape(slide.title)}")
left, right = st.columns([2, 3], gap="large")
with left:
    st.markdown(f"# :green[{md_escape(slide.headline)}]")
    st.markdown(f"### {md_escape(slide.headline_label)}")
    for line in slide.lines:
        st.markdown(f"#### • {md_escape(line)}")
with right:
    state = chart_state.ChartState(slide.chart_id, L, district=slide.chart_filters.get("district")).supported()
    show_chart(built_chart(state), image_width=560)
lines = deck.footer_lines(n - 1)
if slide.simulated:
    st.caption(f":red[⚠️ {md_escape(t('brief_simulated'))}]")
st.caption("  \n".join(md_escape(line) for line in lines))

bar = st.columns([1, 1, 1, 2, 1, 1], vertical_alignment="bottom")
with bar[0]:
    st.button(t("brief_prev"), key="brief_prev", icon=":material/arrow_back:", shortcut="Left",
              on_click=_go, args=(n - 1,), disabled=n <= 1, width="stretch")
with bar[1]:
    st.markdown(f"**{t('brief_counter', n=n, total=total)}**")
with bar[2]:
    st.button(t("brief_next"), key="brief_next", icon=":material/arrow_forward:", shortcut="Right",
              on_click=_go, args=(n + 1,), disabled=n >= total, width="stretch")
with bar[3]:
    options = [""] + [d.name_zh for d in grid.districts()]
    if st.session_state.get("brief_district", "") != (district or ""):
        st.session_state["brief_district"] = district or ""
    st.selectbox(t("brief_focus"), options, key="brief_district", on_change=_focus,
                 format_func=lambda d: t("brief_all_city") if not d else
                 (d if L == "zh" else next(x.name_en + " District" for x in grid.districts() if x.name_zh == d)))
with bar[4]:
    deck_download(deck, "pptx", t("brief_download_pptx"), t("brief_download_help"), key="brief_pptx")
with bar[5]:
    deck_download(deck, "pdf", t("brief_download_pdf"), t("brief_download_help"), key="brief_pdf")
st.caption(t("brief_keys"))
with st.expander(t("brief_notes")):
    st.text(slide.notes)
