"""Story (home): what Wuhai built, the published figures with their sources, and what the data shows."""
import streamlit as st

from ui.common import (data_banner, figure_card, figure_cards, index, lang, md_escape, pct, send_what_is_drawn, t,
                       texts_in_columns)

L = lang()
st.title(t("story_title"))
st.markdown(t("story_lede"))

# The engine and the charts load after the headline, so a cold start paints the story at once.
send_what_is_drawn()
from circle import facts, metrics  # noqa: E402
from circle.i18n import pick  # noqa: E402
from circle.provenance import computed, official  # noqa: E402
from circle.taxonomy import circles  # noqa: E402
from ui.chart_views import page_chart, show_chart  # noqa: E402

# 1. What a life circle is: the eight circles.
st.header(t("story_what_h"))
st.markdown(t("story_what"))
texts_in_columns([f"**{c.order}. {md_escape(c.name(L))}**  \n"
                  f":gray[{md_escape(c.description_en if L == 'en' else c.description_zh)}]" for c in circles()], 4)

# 2. The journey, from the official timeline.
st.header(t("story_journey_h"))
timeline = facts.load_timeline()
st.markdown("\n".join(f"- **{md_escape(row.date)}** — {md_escape(row.event_en if L == 'en' else row.event_zh)}"
                       for row in timeline.itertuples()))
st.caption(md_escape(official(facts.figure("residents_served")).text(L)))
show_chart(page_chart("residents-served", L))

# 3. The published figures, each with its source.
st.header(t("story_figures_h"))
figure_cards([(pick(L, fig.label_zh, fig.label_en), fig.display(L), official(fig)) for fig in facts.key_figures()])

# 4. What the data shows, beside the official figure.
st.header(t("story_data_h"))
idx = index()
data_banner(idx)
st.markdown(t("story_data_note"))
head = metrics.headline(idx)
tag = computed(idx)
left, right = st.columns(2)
with left:
    coverage = facts.figure("street_community_coverage")
    figure_card(pick(L, coverage.label_zh, coverage.label_en), coverage.display(L), official(coverage))
with right:
    figure_card(t("m_all_circles"), pct(head["share_all_circles"]), tag,
                help_text=t("method_coverage", speed=idx.params.speed_kmh))
figure_cards([(t("m_f15"), pct(head["f15"]), tag),
              (t("m_pt"), f"{head['mean_pt_minutes']:.1f} {t('minutes')}", tag),
              (t("m_basic"), pct(head["share_basic_complete"]), tag),
              (t("m_not_covered"), f"{head['residents_not_all_circles']:,.0f}", tag)])
for chart_id in ("circle-coverage", "district-coverage"):
    show_chart(page_chart(chart_id, L))
st.page_link("pages/my_circle.py", label=t("story_next"), icon="🚶")
