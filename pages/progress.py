"""Progress (进展): coverage by city, district or street; charts; official figures beside computed ones."""
import streamlit as st

from circle import access, exports, i18n, readings
from circle.provenance import computed
from circle.taxonomy import circles
from ui.chart_views import page_chart, show_chart
from ui.common import bad_param, data_banner, figure_cards, index, lang, md_escape, t, tag_line

L = lang()
st.title(t("pg_title"))
st.markdown(t("pg_intro"))
idx = index()
data_banner(idx)

# The grouping and speed live in the URL (?by=street&speed=3.6); bad values → the defaults.
if "pg_by" not in st.session_state:
    by0, speed0, problems = exports.parse_table_params(st.query_params.to_dict())
    if problems:
        bad_param("; ".join(problems))
    st.session_state.update(pg_by=by0, pg_speed=speed0 or access.DEFAULT_SPEED_KMH)

GROUPS = {g: t(f"by_{g}") for g in exports.GROUPINGS}
SPEEDS = {kmh: t(f"cm_speed_{name}") for name, kmh in access.SPEED_PRESETS_KMH.items()}
# width="stretch": a control's buttons wrap on a phone instead of running off the screen
by = st.segmented_control(t("pg_by"), list(GROUPS), format_func=GROUPS.get, key="pg_by", required=True,
                          width="stretch")
speed = float(st.segmented_control(t("pg_speed"), list(SPEEDS), format_func=SPEEDS.get, key="pg_speed",
                                   required=True, width="stretch"))
wanted = {"by": by if by != exports.DEFAULT_GROUPING else None,
          "speed": f"{speed:g}" if abs(speed - access.DEFAULT_SPEED_KMH) > 1e-9 else None}
for key, value in wanted.items():
    if value is None:
        if key in st.query_params:
            del st.query_params[key]
    elif st.query_params.get(key) != value:
        st.query_params[key] = value

tag = computed(idx, f"H3第{idx.params.resolution}级网格步行模型，{speed:.1f} km/h",
               f"H3 resolution-{idx.params.resolution} grid walking model, {speed:.1f} km/h")

# 1. The table.
st.header(t("pg_table_h"))
with st.spinner(t("loading_index")):
    table = exports.progress_arrow(idx, by, speed, L)
percent = {f"share_{c.id}": st.column_config.NumberColumn(c.name(L), format="percent", help=t("pg_help_circle"))
           for c in circles()}
st.dataframe(table, hide_index=True, width="stretch", column_config={
    "name": st.column_config.TextColumn(t("pg_col_name"), pinned=True),
    "district": st.column_config.TextColumn(t("pg_col_district")),
    "population": st.column_config.NumberColumn(t("pg_col_population"), format="localized"),
    **percent,
    "share_all_circles": st.column_config.ProgressColumn(t("pg_col_all"), format="percent", min_value=0.0,
                                                         max_value=1.0, help=t("m_all_circles")),
    "share_basic_complete": st.column_config.NumberColumn(t("pg_col_basic"), format="percent", help=t("m_basic")),
    "f15": st.column_config.NumberColumn(t("pg_col_f15"), format="percent", help=t("pg_help_f15")),
    "mean_pt_minutes": st.column_config.NumberColumn(t("pg_col_pt"), format="%.1f", help=t("pg_help_pt")),
    "gini_pt": st.column_config.NumberColumn(t("pg_col_gini"), format="%.3f", help=t("pg_help_gini")),
})
tag_line(tag)
name = f"wuhai_progress_{by}"
export = exports.table_export(f"{name}.csv", i18n.t("pg_table_h", "zh"), i18n.t("pg_table_h", "en"))
with st.container(horizontal=True):
    st.download_button(t("pg_download_table"), data=lambda: exports.summary_csv(idx, by, speed),
                       file_name=f"{name}.csv", mime="text/csv", on_click="ignore", icon="⬇️", key="pg_dl_table")
    st.download_button(t("pg_download_meta"), file_name=f"{name}_metadata.json", mime="application/json",
                       data=lambda: exports.metadata_json(export, idx, speed, columns=exports.summary_columns()),
                       on_click="ignore", key="pg_dl_table_meta")

# 2. Charts from the registry (each carries its title, source and method).
st.header(t("pg_charts_h"))
cols = st.columns(2)
for i, (chart_id, height) in enumerate((("district-coverage", 200), ("pt-distribution", 260))):
    with cols[i]:
        show_chart(page_chart(chart_id, L, speed, height))
show_chart(page_chart("street-coverage", L, speed, 520))

st.header(t("pg_types_h"))
show_chart(page_chart("type-coverage", L, speed, 760))
tag_line(tag)
st.download_button(t("pg_download_types"), data=lambda: exports.type_coverage_csv(idx, by, speed),
                   file_name=f"wuhai_type_coverage_{by}.csv", mime="text/csv", on_click="ignore", icon="⬇️",
                   key="pg_dl_types")

# 3. Official figures beside computed ones, with a reading of the difference.
st.header(t("pg_official_h"))
st.markdown(t("pg_official_intro"))
pairs = readings.comparisons(idx, speed)
for pair in pairs[:2]:
    figure_cards([(f"{t('pg_official_col')} · {pair.label(L)}", pair.figure.display(L), pair.official_tag),
                  (t("pg_computed_col"), pair.short(L), pair.computed_tag)], columns=2)
    st.markdown(f":small[:gray[{md_escape(pair.computed_text(L))}]]\n\n"
                + t("pg_reading_line", text=md_escape(pair.reading(L))))
st.dataframe(readings.count_comparison_arrow(idx, L, speed), hide_index=True, width="stretch", column_config={
    "item": st.column_config.TextColumn(t("pg_col_item"), pinned=True),
    "official": st.column_config.TextColumn(t("pg_official_col")),
    "computed": st.column_config.TextColumn(t("pg_computed_col")),
})
st.markdown("\n\n".join(t("pg_reading_line", text=md_escape(note)) for note in readings.count_notes(pairs, L)))
count_pairs = [p for p in pairs if p.id.startswith("count_")]
if count_pairs:
    tag_line(count_pairs[0].official_tag, count_pairs[0].computed_tag)
st.download_button(t("pg_download_comparison"), data=lambda: exports.to_csv_bytes(readings.comparison_table(idx, L, speed)),
                   file_name="wuhai_official_vs_computed.csv", mime="text/csv", on_click="ignore", icon="⬇️",
                   key="pg_dl_comparison")
