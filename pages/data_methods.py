"""Data and methods (数据与方法): sources, the walking model, what is simulated, the taxonomy, downloads."""
import streamlit as st

from circle import exports
from circle.i18n import pick
from ui.common import data_banner, index, lang, md_escape, t

L = lang()
st.title(t("dm_title"))
st.markdown(t("dm_intro"))
idx = index()
data_banner(idx)

# 1. Every source, with licence and date: our own SOURCES.md files, as written.
st.header(t("dm_sources_h"))
st.markdown(t("dm_sources_intro"))
for doc in exports.source_documents():
    with st.expander(f"{pick(L, doc['title_zh'], doc['title_en'])} · {doc['folder']}/SOURCES.md"):
        st.markdown(doc["text"])

# 2. The walking model and the definitions of the measures.
st.header(t("dm_model_h"))
model = exports.model_facts(idx)
presets = " / ".join(f"{v:.1f}" for v in model["speed_presets_kmh"].values())
st.markdown("\n".join(f"- {line}" for line in (
    t("dm_model_grid", resolution=idx.params.resolution, cells=f"{idx.grid.size:,}", circuity=model["circuity"]),
    t("dm_model_speed", default=f"{model['default_speed_kmh']:.1f}", presets=presets),
    t("dm_model_river", river=f"{model['river_half_width_m']:g}"),
    t("dm_model_search", limit=f"{model['search_limit_m']:,.0f}"),
    t("dm_model_threshold"),
    t("dm_model_population"))))
st.subheader(t("dm_metrics_h"))
st.markdown("\n".join(f"- {line}" for line in (
    t("dm_metric_circle"), t("dm_metric_pt", cap=model["pt_cap_minutes"]),
    t("dm_metric_f15", f15=model["f15_minutes"]))))

# 3. What is simulated, and why.
st.header(t("dm_simulated_h"))
st.markdown(t("dm_simulated"))
with st.expander(t("dm_assumptions")):
    st.markdown(exports.assumptions_text())

# 4. The taxonomy.
st.header(t("dm_taxonomy_h"))
st.markdown(t("dm_taxonomy_intro"))
st.dataframe(exports.taxonomy_arrow(L), hide_index=True, width="stretch", column_config={
    "id": st.column_config.TextColumn(t("dm_col_id")),
    "circle": st.column_config.TextColumn(t("dm_col_circle")),
    "name_zh": st.column_config.TextColumn(t("dm_col_name_zh"), pinned=True),
    "name_en": st.column_config.TextColumn(t("dm_col_name_en")),
    "threshold_min": st.column_config.NumberColumn(t("dm_col_threshold")),
    "essential": st.column_config.CheckboxColumn(t("dm_col_essential")),
    "mofcom": st.column_config.TextColumn(t("dm_col_mofcom")),
    "threshold_basis": st.column_config.TextColumn(t("dm_col_basis"), width="large"),
})

# 5. Downloads: each file is built on click, each with its metadata.
st.header(t("dm_downloads"))
st.markdown(t("dm_downloads_intro"))
st.caption(t("dm_speed_note", speed=f"{idx.params.speed_kmh:.1f}"))
st.markdown("\n".join(f"- **{md_escape(e.title(L))}** ({md_escape(e.file_name)}) — {md_escape(e.description(L))}"
                       for e in exports.EXPORTS.values()))
# One pair of buttons for the chosen file (a pair per file would be 24 elements for every reader).
export_id = st.selectbox(t("dm_choose_file"), list(exports.EXPORTS), format_func=lambda e: exports.EXPORTS[e].title(L),
                         key="dm_export")
export = exports.EXPORTS[export_id]
with st.container(horizontal=True):  # the file and its metadata side by side
    st.download_button(t("dm_download_file", name=md_escape(export.file_name)), icon="⬇️", mime=export.mime,
                       data=lambda: exports.file_bytes(export_id, idx), file_name=export.file_name,
                       on_click="ignore", key="dm_dl_file")
    st.download_button(t("dm_download_meta"), mime="application/json", file_name=export.metadata_name,
                       data=lambda: exports.metadata_bytes(export_id, idx), on_click="ignore", key="dm_dl_meta")
