"""My circle (我的生活圈): what a resident reaches on foot from home, and what is missing.

A place comes from the search box, a click on the map, or the URL (?lat=..&lng=.. or ?place=..);
the URL always holds the current view, so it is a permalink.
"""
import streamlit as st

from circle import access, mycircle, search
from circle.i18n import pick
from circle.names import english_name
from circle.maps import serialised_deck
from circle.provenance import computed
from circle.taxonomy import circles
from ui.common import bad_param, data_banner, index, lang, md_escape, t, tag_line

L = lang()
idx = index()
st.title(t("mc_title"))
data_banner(idx)
st.markdown(t("mc_intro"))

# --- where: URL first, then what the user does on this page ---------------------------------
params = st.query_params
speed, speed_warning = mycircle.parse_speed(params.get("speed"))
if speed_warning:
    bad_param(*speed_warning)
# A new URL (typed, shared, or from another page) wins over what this session last showed.
url_place = (params.get("lat"), params.get("lng"), params.get("place"), params.get("crs"))
if "place_state" not in st.session_state or url_place != st.session_state.get("place_url"):
    st.session_state["place_state"] = mycircle.resolve_location(idx, *url_place)
location = st.session_state["place_state"]
for zh, en in location.warnings:
    bad_param(zh, en)
location.warnings = []



def _choose_hit() -> None:
    """Search result picked: that place becomes the view."""
    choice = st.session_state.get("mc_pick")
    hits = st.session_state.get("mc_hits", [])
    if choice is not None and choice < len(hits):
        st.session_state["place_state"] = mycircle._hit_location(hits[choice])


query = st.text_input(t("mc_search"), placeholder=t("mc_search_placeholder"), max_chars=100, key="mc_query")
if query.strip():
    hits = search.search(query, limit=8)
    st.session_state["mc_hits"] = hits
    if not hits:
        st.info(t("mc_no_match", query=md_escape(query[:40])))
    else:
        def _place(name: str) -> str:  # district and street names in the reader's language
            return pick(L, name, english_name(name)) if name else ""

        labels = [f"{pick(L, h.name_zh, h.name_en)} · {_place(h.district_zh)}"
                  f"{' · ' + _place(h.street_zh) if h.street_zh and h.kind == 'community' else ''}" for h in hits]
        st.radio(t("mc_results"), range(len(hits)), format_func=lambda i: labels[i], key="mc_pick",
                 index=None, on_change=_choose_hit)
location = st.session_state["place_state"]

presets = access.SPEED_PRESETS_KMH
speed_names = {v: k for k, v in presets.items()}
speed_key = st.segmented_control(t("mc_speed"), list(presets), default=speed_names.get(speed, "default"),
                                 format_func=lambda k: t(f"speed_{k}"), key="mc_speed", required=True,
                                 width="stretch")  # stretch: the four speeds wrap on a phone
speed = presets[speed_key]

# --- the profile -------------------------------------------------------------------------------
profile = idx.lookup(location.lat, location.lng, speed_kmh=speed)
if not profile.inside:
    st.warning(t("mc_outside"))
    location = mycircle.default_location()
    st.session_state["place_state"] = location
    profile = idx.lookup(location.lat, location.lng, speed_kmh=speed)

# Keep the URL a permalink to exactly this view (one message to the browser, none if it already is).
permalink = {"lat": f"{location.lat:.6f}", "lng": f"{location.lng:.6f}", "speed": f"{speed:g}"}
if any(k in st.query_params for k in ("place", "crs")):
    st.query_params.from_dict({**{k: v for k, v in st.query_params.items() if k not in ("place", "crs")},
                               **permalink})
elif any(st.query_params.get(k) != v for k, v in permalink.items()):
    st.query_params.update(permalink)
st.session_state["place_url"] = (f"{location.lat:.6f}", f"{location.lng:.6f}", None, None)

st.subheader(location.label(L))
if location.location_quality not in ("located", None):
    st.caption(t("mc_approx_location", quality=md_escape(location.location_quality)))
st.caption(t("mc_here", district=md_escape(pick(L, profile.district, profile.district_en)),
             street=md_escape(pick(L, profile.street, english_name(profile.street)))))

left, right = st.columns([3, 2])
with left:
    layers = mycircle.map_layers(idx, location, profile, speed, L)
    deck = serialised_deck(layers, {"latitude": location.lat, "longitude": location.lng, "zoom": 14},
                           tooltip_text="{label}")
    event = st.pydeck_chart(deck, on_select="rerun", selection_mode="single-object", key="mc_map", height=480)
    # A click selects a hex; its centre becomes the place (once: the selection stays set afterwards).
    clicked = mycircle.clicked_hex(event)
    if clicked and clicked != st.session_state.get("mc_last_click"):
        st.session_state["mc_last_click"] = clicked
        st.session_state["place_state"] = mycircle.location_of_hex(clicked)
        st.rerun()
    st.caption(t("mc_reach_legend"))

with right:
    st.metric(t("mc_circles_h"), f"{profile.circles_covered}/8", help=t("mc_covered", n=profile.circles_covered))
    st.metric("PT", f"{profile.pt_minutes:.1f} {t('minutes')}")
    tag_line(computed(idx))  # both numbers above
    st.markdown("  \n".join(
        f"{':material/check_circle:' if profile.circles[c.id] else ':material/radio_button_unchecked:'} "
        f"{md_escape(c.name(L))} — {t('covered') if profile.circles[c.id] else t('not_covered')}"
        for c in circles()))

st.subheader(t("mc_missing_h"))
gaps = mycircle.missing(profile, L)
if gaps:
    st.markdown("\n".join(f"- {md_escape(line)}" for line in gaps))
else:
    st.success(t("mc_nothing_missing"))

st.subheader(t("mc_types_h"))
table = mycircle.types_table(profile, L)
st.dataframe(
    table.drop_columns(["type_id"]), hide_index=True, width="stretch",
    column_config={
        "type": t("col_type"), "circle": t("col_circle"),
        "minutes": st.column_config.TextColumn(t("col_minutes")),
        "threshold": t("col_threshold"), "ok": t("col_ok"), "nearest": t("col_nearest"),
        "count_15min": t("col_count15"),
    })
tag_line(computed(idx))
st.caption(t("mc_permalink") + f": ?lat={location.lat:.6f}&lng={location.lng:.6f}&speed={speed:g}"
           + ("&lang=en" if L == "en" else ""))
