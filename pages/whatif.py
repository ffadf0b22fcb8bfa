"""What-if and siting (假设与选址): add or remove a facility and see who gains or loses reach; ask
where the next k facilities of a type should go.

Edits live in this session only (``st.session_state``); the shared index is never changed. The
engine work is in ``circle.whatif`` and ``circle.siting``; this page lays it out.
"""
import streamlit as st

from circle import network, siting, whatif, whatifmap
from circle.maps import context_layers_json, hex_layer, point_layer, serialised_deck
from circle.mycircle import pick_layer
from circle.provenance import computed
from circle.taxonomy import circle_by_id
from ui.common import data_banner, index, lang, md_escape, pct, t, tag_line

L = lang()
idx = index()
st.title(t("wi_title"))
data_banner(idx)
st.markdown(t("wi_intro"))

# Edits belong to one index (data set + speed); a different index starts a fresh scenario.
if st.session_state.get("wi_index_key") != idx.key:
    st.session_state["wi_index_key"] = idx.key
    st.session_state["wi_edits"] = []
edits: list = st.session_state.setdefault("wi_edits", [])
method_zh, method_en = network.method_text(idx)
TAG = computed(idx, method_zh, method_en)

TYPES = {ft.id: ft for ft in idx.types}
# Labels computed now: format_func may be called outside this run, so it must not look anything up.
TYPE_LABELS = {i: f"{ft.name(L)} · {circle_by_id(ft.circle).name(L)} · {ft.threshold_min} {t('minutes')}"
               for i, ft in TYPES.items()}
type_id = st.selectbox(t("wi_type"), list(TYPES), key="wi_type", format_func=TYPE_LABELS.__getitem__)
ftype = TYPES[type_id]
if idx.no_data[idx.type_pos[type_id]]:
    st.info(t("wi_no_data"))


def _say(exc: Exception) -> None:
    """Keep a bilingual message for this run (bad input never shows a traceback)."""
    zh, en = getattr(exc, "zh", str(exc)), getattr(exc, "en", str(exc))
    st.session_state["wi_message"] = (zh, en)


def _map_clicked() -> None:
    state = st.session_state.get("wi_map")
    selection = getattr(state, "selection", None) if state is not None else None
    if selection is None and isinstance(state, dict):
        selection = state.get("selection")
    try:
        edit = whatif.edit_from_click(idx, st.session_state["wi_type"], st.session_state.get("wi_mode", "add"),
                                      dict(selection or {}), st.session_state["wi_edits"])
        st.session_state["wi_edits"] = whatif.apply_click(st.session_state["wi_edits"], edit, idx)
    except (whatif.WhatIfError, ValueError) as exc:
        _say(exc)


def _add_point() -> None:
    try:
        edit = whatif.add(idx, st.session_state["wi_type"], st.session_state["wi_lat"], st.session_state["wi_lng"])
        st.session_state["wi_edits"] = whatif.apply_click(st.session_state["wi_edits"], edit, idx)
    except (whatif.WhatIfError, ValueError) as exc:
        _say(exc)


def _remove_listed() -> None:
    choice = st.session_state.get("wi_remove_pick")
    if choice is None:
        return
    try:
        edit = whatif.remove(idx, int(choice))
        st.session_state["wi_edits"] = whatif.apply_click(st.session_state["wi_edits"], edit, idx)
    except (whatif.WhatIfError, ValueError) as exc:
        _say(exc)


def _undo() -> None:
    st.session_state["wi_edits"] = st.session_state["wi_edits"][:-1]


def _clear() -> None:
    st.session_state["wi_edits"] = []


def _sites_to_whatif() -> None:
    result = st.session_state.get("wi_sites_result")
    if result is None:
        return
    new = list(st.session_state["wi_edits"])
    for r in result.sites.itertuples():
        new.append(whatif.add(idx, result.type_id, r.lat, r.lng))
    st.session_state["wi_edits"] = new


message = st.session_state.pop("wi_message", None)
if message:
    st.warning(md_escape(message[0]) + "\n\n" + md_escape(message[1]), icon="⚠️")

tab_whatif, tab_siting = st.tabs([t("wi_tab_whatif"), t("wi_tab_siting")])

# --- what if ----------------------------------------------------------------------------------------
with tab_whatif:
    result = whatif.evaluate(idx, edits) if edits else None
    type_measure = f"type:{type_id}"
    mode_labels = {m: t(f"wi_mode_{m}") for m in ("add", "remove")}
    mode = st.segmented_control(t("wi_mode"), ["add", "remove"], format_func=mode_labels.__getitem__,
                                key="wi_mode", default="add", required=True)
    st.caption(t("wi_click_add") if mode == "add" else t("wi_click_remove"))
    cells = whatifmap.cells_frame(idx, type_id, result, L)
    fac = whatifmap.facilities_frame(idx, type_id, edits, L)
    layers = [pick_layer(idx, L), hex_layer("cells", cells), *context_layers_json(L),
              point_layer("facilities", fac, colour=(20, 20, 20, 230), radius_px=4)]
    added = fac[fac["added"]]
    if len(added):
        layers.append(point_layer("added", added, colour=(33, 102, 172, 255), radius_px=8, pickable=False))
    deck = serialised_deck(layers, whatifmap.view_for(idx, type_id, edits), tooltip_text="{label}")
    st.pydeck_chart(deck, on_select=_map_clicked, selection_mode="single-object", key="wi_map", height=460)
    st.caption(t("wi_legend"))

    with st.expander(t("wi_by_hand")):
        c1, c2, c3 = st.columns([2, 2, 1])
        c1.number_input(t("wi_lat"), value=39.6743, min_value=-90.0, max_value=90.0, format="%.6f", key="wi_lat")
        c2.number_input(t("wi_lng"), value=106.8161, min_value=-180.0, max_value=180.0, format="%.6f", key="wi_lng")
        c3.button(t("wi_add_here"), on_click=_add_point, key="wi_add_btn")
        options = whatifmap.removable(idx, type_id, edits)
        st.selectbox(t("wi_remove_pick"), list(options), index=None, key="wi_remove_pick",
                     format_func=options.__getitem__, placeholder=t("wi_remove_placeholder"))
        st.button(t("wi_remove_btn"), on_click=_remove_listed, key="wi_remove_btn")

    if edits:
        st.subheader(t("wi_edits_h"))
        for e in edits:
            st.markdown(f"- {md_escape(e.label(L))}")
        b1, b2 = st.columns(2)
        b1.button(t("wi_undo"), on_click=_undo, key="wi_undo_btn")
        b2.button(t("wi_clear"), on_click=_clear, key="wi_clear_btn")
        for zh, en in result.warnings:
            st.warning(md_escape(zh if L == "zh" else en))

        st.subheader(t("wi_effect_h"))
        city = whatif.summary_rows(result, "city")
        measures = [m for m in city["measure"] if m == type_measure or not m.startswith("type:")]
        if type_measure not in set(city["measure"]):
            st.caption(t("wi_type_unchanged", type=md_escape(ftype.name(L))))
        cols = st.columns(len(measures))
        for col, m in zip(cols, measures):
            row = city[city["measure"] == m].iloc[0]
            change = row["share_change"]
            col.metric(whatif.measure_label(m, L), pct(row["share_after"]),
                       delta=None if change != change else f"{change * 100:+.2f} pp", delta_color="normal")
            col.caption(t("wi_gained_lost", gained=f"{int(row['residents_gained']):,}",
                          lost=f"{int(row['residents_lost']):,}", before=pct(row["share_before"])))
        tag_line(TAG)
        for level in ("district", "street"):
            st.markdown(f"**{t('wi_level_' + level)}**")
            table = whatifmap.level_table(result, level, type_id, L)
            st.dataframe(table, hide_index=True, width="stretch", column_config={
                "name": t("wi_col_name"), "measure": t("wi_col_measure"),
                "population": st.column_config.NumberColumn(t("wi_col_population"), format="%d"),
                "before": st.column_config.NumberColumn(t("wi_col_before"), format="%.1f%%"),
                "after": st.column_config.NumberColumn(t("wi_col_after"), format="%.1f%%"),
                "change": st.column_config.NumberColumn(t("wi_col_change"), format="%+.2f"),
                "gained": st.column_config.NumberColumn(t("wi_col_gained"), format="%d"),
                "lost": st.column_config.NumberColumn(t("wi_col_lost"), format="%d"),
            })
        tag_line(TAG)
    else:
        st.info(t("wi_no_edits"))

# --- siting -------------------------------------------------------------------------------------------
with tab_siting:
    st.markdown(t("wi_siting_intro", type=md_escape(ftype.name(L)), minutes=ftype.threshold_min))
    k = st.slider(t("wi_k"), min_value=1, max_value=10, value=3, key="wi_k")
    mine = [e for e in edits if e.type_id == type_id]
    use_edits = bool(mine) and st.checkbox(t("wi_use_edits"), value=True, key="wi_use_edits")
    dist_row = result.after[type_id][0] if (use_edits and result is not None and type_id in result.after) else None
    memo_key = (idx.key, type_id, int(k), tuple(mine) if use_edits else ())
    if st.session_state.get("wi_sites_key") != memo_key:
        try:
            st.session_state["wi_sites_result"] = siting.propose_sites(idx, type_id, int(k), dist_row)
        except siting.SitingError as exc:
            st.session_state["wi_sites_result"] = None
            _say(exc)
        st.session_state["wi_sites_key"] = memo_key
    sites = st.session_state.get("wi_sites_result")
    if sites is not None:
        prob = sites.problem
        st.caption(t("wi_uncovered", residents=f"{int(round(prob.uncovered_residents)):,}",
                     cells=len(prob.uncovered), candidates=len(prob.candidates)))
        if len(sites.sites) == 0:
            st.success(t("wi_nothing_to_site"))
        else:
            if len(sites.sites) < sites.k:
                st.info(t("wi_fewer_sites", n=len(sites.sites)))
            smap = whatifmap.siting_layers(idx, sites, L)
            deck = serialised_deck([*smap, *context_layers_json(L)], whatifmap.view_for_sites(sites),
                                   tooltip_text="{label}")
            st.pydeck_chart(deck, key="wi_sites_map", height=420)
            st.caption(t("wi_sites_legend"))
            shown = whatifmap.sites_table(sites, L)
            st.dataframe(shown, hide_index=True, width="stretch", column_config={
                "rank": t("wi_col_rank"), "district": t("wi_col_district"), "street": t("wi_col_street"),
                "residents_added": st.column_config.NumberColumn(t("wi_col_added"), format="%d"),
                "residents_cumulative": st.column_config.NumberColumn(t("wi_col_cumulative"), format="%d"),
                "share_after": st.column_config.NumberColumn(t("wi_col_share_after"), format="%.1f%%"),
                "lat": st.column_config.NumberColumn(t("wi_lat"), format="%.5f"),
                "lng": st.column_config.NumberColumn(t("wi_lng"), format="%.5f"), "cell": t("wi_col_cell"),
            })
            tag_line(TAG)
            c1, c2 = st.columns(2)
            c1.download_button(t("wi_csv"), siting.to_csv(sites, L), file_name=f"siting_{type_id}_k{sites.k}.csv",
                               mime="text/csv", key="wi_csv_btn")
            c2.button(t("wi_sites_to_whatif"), on_click=_sites_to_whatif, key="wi_sites_to_whatif_btn")
            with st.expander(t("wi_check_h")):
                st.markdown(t("wi_check_intro"))
                if st.button(t("wi_check_btn"), key="wi_check_btn"):
                    _, best, info = siting.optimum(prob, sites.k, method="milp", time_limit_s=20.0)
                    greedy_value = sites.residents_added
                    if info.get("proven") and best > 0:
                        st.markdown(t("wi_check_result", greedy=f"{int(round(greedy_value)):,}",
                                      best=f"{int(round(best)):,}", ratio=f"{greedy_value / best:.3f}"))
                    elif best == 0:
                        st.markdown(t("wi_check_zero"))
                    else:
                        st.markdown(t("wi_check_unproven"))
