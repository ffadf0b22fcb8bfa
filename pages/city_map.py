"""City map (全市地图): hexagons coloured by a measure, with our own borders, river and names.

The view (measure, type, district, street, speed) lives in the URL, so the address is a permalink.
The controls and the map sit in one fragment: changing a control reruns only the map.
"""
import streamlit as st

from circle import mapdata, maps
from circle.provenance import computed
from circle.taxonomy import facility_types
from ui.chart_views import show_legend
from ui.common import bad_param, data_banner, index, lang, md_escape, t, tag_line

L = lang()
st.title(t("cm_title"))
st.markdown(t("cm_intro"))
idx = index()
data_banner(idx)

# Read and check the URL once, while this page's controls are fresh; bad values → the default view.
if "cm_measure" not in st.session_state:
    start, problems = mapdata.parse_map_params(st.query_params.to_dict())
    if problems:
        bad_param("; ".join(problems))
    st.session_state.update(cm_measure=start.measure, cm_type=start.type_id, cm_district=start.district or "",
                            cm_street=start.street or "", cm_speed=start.speed_kmh)

# Option labels are made here, in the script run (format functions may be called outside it).
MEASURES = {m: t(f"measure_{m}") for m in mapdata.MEASURES}
DISTRICTS = {d.code: d for d in mapdata.filter_options(idx)}
DISTRICT_LABELS = {"": t("cm_all_districts")} | {c: d.name(L) for c, d in DISTRICTS.items()}
TYPES = {ft.id: ft.name(L) for ft in facility_types()}
SPEEDS = {kmh: t(f"cm_speed_{name}") for name, kmh in mapdata.speed_presets().items()}
ALL_STREETS = t("cm_all_streets")


def keep_in_url(view: mapdata.MapView) -> None:
    wanted = view.to_query()
    for key in mapdata.QUERY_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


@st.fragment
def city_map() -> None:
    left, right = st.columns(2)
    with left:
        measure = st.selectbox(t("cm_measure"), list(MEASURES), format_func=MEASURES.get, key="cm_measure")
        district = st.selectbox(t("cm_district"), list(DISTRICT_LABELS), format_func=DISTRICT_LABELS.get,
                                key="cm_district")
    streets = {"": ALL_STREETS} | ({s.code: s.name(L) for s in DISTRICTS[district].streets} if district else {})
    if st.session_state.get("cm_street") not in streets:
        st.session_state["cm_street"] = ""
    with right:
        type_id = st.selectbox(t("cm_type"), list(TYPES), format_func=TYPES.get, key="cm_type",
                               disabled=measure != "minutes")
        street = st.selectbox(t("cm_street"), list(streets), format_func=streets.get, key="cm_street",
                              disabled=not district)
    speed = st.segmented_control(t("cm_speed"), list(SPEEDS), format_func=SPEEDS.get, key="cm_speed",
                                 required=True, width="stretch")  # stretch: wraps on a phone
    basemap = st.checkbox(t("cm_basemap"), key="cm_basemap", help=t("cm_basemap_help"))
    view = mapdata.MapView(measure, type_id, district or None, street or None, float(speed))
    keep_in_url(view)

    with st.spinner(t("cm_loading")):
        hexes = mapdata.city_hexes_layer(idx, view.measure, view.type_id, view.district, view.street,
                                         view.speed_kmh, L)
    layers = [hexes, *maps.context_layers_json(L, street_labels=bool(view.district))]
    deck = maps.serialised_deck(layers, view=mapdata.view_for(idx, view.district, view.street),
                                tooltip_text="{label}", basemap=basemap)
    st.pydeck_chart(deck, key="city_map", height=560, alt=t("cm_map_alt"))
    legend = mapdata.legend_for(view.measure, idx, view.type_id, view.speed_kmh, L)
    st.markdown(f"**{md_escape(legend.title)}** · {md_escape(legend.note)}")
    show_legend(legend)
    st.caption(t("cm_shown", hexes=f"{hexes.rows:,}"))
    tag_line(computed(idx, *mapdata.method_note(view.speed_kmh)))


city_map()
st.caption(t("cm_context"))
st.caption(t("cm_method"))
