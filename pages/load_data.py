"""Load data (导入数据): upload facilities, match the columns, read the validation report, use them.

The work is done by circle.importers (reading, mapping, validation) and circle.workspace (a session
workspace under the system temp folder, with its own index cache). Nothing here writes to data/ or
the shipped .cache. Names and values from the file are shown as text (st.dataframe, st.text,
escaped markdown), never interpreted.
"""
import logging
import shutil

import streamlit as st

from circle import i18n, importers, workspace
from ui.common import current_dataset, index, lang, md_escape, t

L = lang()
PREVIEW_ROWS = 20
REJECTED_SHOWN = 500


def _error(error: Exception) -> None:
    """A bad-input message in both languages, Chinese first."""
    zh = getattr(error, "zh", str(error))
    en = getattr(error, "en", str(error))
    st.error(md_escape(zh) + "\n\n" + md_escape(en), icon="🚫")


def _back_to_sample() -> None:
    st.session_state.pop("dataset", None)
    st.session_state["ld_flash"] = ("ld_back_done", {})


st.title(t("ld_title"))
st.markdown(t("ld_intro", mb=importers.MAX_FILE_MB, rows=f"{importers.MAX_ROWS:,}"))
st.caption(t("ld_privacy"))

flash = st.session_state.pop("ld_flash", None)
if flash:
    st.success(t(flash[0], **{k: md_escape(v) for k, v in flash[1].items()}))

dataset = current_dataset()
st.info(t("ld_current", label=md_escape(dataset.label_en if L == "en" else dataset.label_zh)), icon="📂")
if not dataset.simulated:
    st.button(t("ld_back"), on_click=_back_to_sample, key="ld_back")

# The limit is set three times on purpose: server.maxUploadSize (.streamlit/config.toml), here, and in
# the importer (which says the limit in its message); tests/hardening checks that they agree.
uploaded = st.file_uploader(t("ld_upload"), type=["csv", "xlsx", "geojson", "json"], key="ld_file",
                            max_upload_size=importers.MAX_FILE_MB,
                            help=t("ld_upload_help", mb=importers.MAX_FILE_MB, rows=f"{importers.MAX_ROWS:,}"))
raw = None
if uploaded is not None:
    # Parse once per file: reruns (every widget change) reuse the parsed table.
    cached = st.session_state.get("ld_raw")
    if cached is None or cached[0] != uploaded.file_id:
        try:
            importers.check_size(uploaded.size)
            parsed = importers.read_bytes(uploaded.getvalue(), uploaded.name)
        except importers.ImportInputError as error:
            parsed = error
        st.session_state["ld_raw"] = (uploaded.file_id, parsed)
    parsed = st.session_state["ld_raw"][1]
    if isinstance(parsed, Exception):
        _error(parsed)
    else:
        raw = parsed

if raw is not None:
    fid = uploaded.file_id
    st.caption(md_escape(t("ld_read_info", rows=f"{len(raw.frame):,}", format=raw.format_label,
                           encoding=raw.encoding or "—")))
    with st.expander(t("ld_preview", n=PREVIEW_ROWS)):
        st.dataframe(raw.frame.head(PREVIEW_ROWS), hide_index=True)

    # Step 1: the columns.
    st.subheader(t("ld_mapping_h"))
    st.caption(t("ld_mapping_help"))
    guess = importers.mapping_for(raw)
    options = [""] + raw.columns
    none = t("ld_none")
    crs_labels = {c: t(f"ld_crs_{c}") for c in importers.CRS_CHOICES}
    mapping = {}
    cols = st.columns(4)
    for i, role in enumerate(("name", "type", "lng", "lat", "location", "typecode", "address", "id")):
        with cols[i % 4]:
            preset = guess.get(role) or ""
            mapping[role] = st.selectbox(
                t(f"ld_role_{role}"), options, index=options.index(preset) if preset in options else 0,
                format_func=lambda c: none if c == "" else c, key=f"ld_map_{role}_{fid}") or None
    crs = st.selectbox(t("ld_crs"), importers.CRS_CHOICES, format_func=crs_labels.get, key=f"ld_crs_{fid}")

    # Step 2: the report.
    st.subheader(t("ld_report_h"))
    key = (fid, tuple(sorted(mapping.items())), crs)
    cached = st.session_state.get("ld_result")
    if cached is None or cached[0] != key:
        try:
            outcome = importers.validate(raw, mapping, crs)
        except importers.ImportInputError as error:
            outcome = error
        st.session_state["ld_result"] = (key, outcome)
    outcome = st.session_state["ld_result"][1]
    if isinstance(outcome, Exception):
        _error(outcome)
    else:
        report = outcome.report
        c1, c2, c3 = st.columns(3)
        c1.metric(t("ld_rows_read"), f"{report.rows_read:,}")
        c2.metric(t("ld_accepted"), f"{report.accepted:,}")
        c3.metric(t("ld_rejected"), f"{report.rejected_count:,}")
        for w_zh, w_en in report.warnings:
            st.warning(md_escape(w_en if L == "en" else w_zh), icon="ℹ️")
        if report.rejected_count:
            st.markdown(f"**{t('ld_reasons_h')}**")
            st.dataframe(report.counts_frame(L)[["reason_text", "rows"]], hide_index=True,
                         column_config={"reason_text": t("ld_col_reason"), "rows": t("ld_col_count")})
            st.markdown(f"**{t('ld_rejected_rows_h', n=REJECTED_SHOWN)}**")
            st.caption(md_escape(report.row_note[1] if L == "en" else report.row_note[0]))
            rejected = report.to_frame(L).head(REJECTED_SHOWN)
            st.dataframe(rejected[["row", "reason_text", "detail", "name", "type", "coordinates"]], hide_index=True,
                         column_config={"row": t("ld_col_row"), "reason_text": t("ld_col_reason"),
                                        "detail": t("ld_col_detail"), "name": t("ld_col_name"),
                                        "type": t("ld_col_type")})
        types = report.types_frame(L)
        st.markdown(f"**{t('ld_types_h')}**")
        st.dataframe(types[types["count"] > 0][["type_text", "count"]], hide_index=True,
                     column_config={"type_text": t("ld_col_type"), "count": t("ld_col_count")})
        absent = types[types["count"] == 0]["type_text"].tolist()
        if absent and report.accepted:
            st.caption(md_escape(t("ld_absent", types="、".join(absent) if L == "zh" else ", ".join(absent))))
        if report.accepted == 0:
            st.error(i18n.t("ld_nothing_valid", "zh") + "\n\n" + i18n.t("ld_nothing_valid", "en"), icon="🚫")

        if st.button(t("ld_use"), type="primary", disabled=report.accepted == 0, key="ld_use"):
            previous = st.session_state.get("dataset")
            folder = None
            try:
                with st.spinner(t("ld_building")):
                    folder = workspace.session_workspace()
                    ws, timings = workspace.save_import(outcome, folder)
                    st.session_state["dataset"] = ws.dataset()
                    idx = index()  # loads the index just built, so every page has it at once
            except Exception as error:  # noqa: BLE001 - whatever failed, the data in use stay as they were
                if previous is None:
                    st.session_state.pop("dataset", None)
                else:
                    st.session_state["dataset"] = previous
                if folder is not None:
                    shutil.rmtree(folder, ignore_errors=True)
                if isinstance(error, (importers.ImportInputError, workspace.WorkspaceError)):
                    _error(error)
                else:  # a server-side failure (disk full, a failed build): said, and logged, not a traceback
                    logging.getLogger(__name__).exception("import failed")
                    st.error(i18n.t("ld_failed", "zh") + "\n\n" + i18n.t("ld_failed", "en"), icon="🚫")
            else:
                seconds = sum(v for k, v in timings.items() if k in ("write_s", "index_build_s", "commit_s"))
                label = ws.dataset().label_en if L == "en" else ws.dataset().label_zh
                st.session_state["ld_flash"] = ("ld_done", {"label": label, "n": f"{len(idx.facilities):,}",
                                                            "seconds": f"{seconds:.1f}"})
                st.rerun()

if not dataset.simulated and st.button(t("ld_go_story"), icon="📖", key="ld_go_story"):
    st.switch_page("pages/story.py")
