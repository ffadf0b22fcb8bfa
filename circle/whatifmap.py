"""Frames and layers for the what-if and siting page, computed headless (the page only lays them out).

Every label is plain text for pydeck's ``{"text": ...}`` tooltips; colours are colour-blind safe
(blue = newly within reach, orange = newly beyond, green = within before and after, grey = beyond).
"""
from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pydeck as pdk

from circle import access, whatif
from circle import grid as gridmod
from circle.i18n import pick
from circle.maps import CITY_VIEW, LABEL_FONT, hex_layer, point_layer
from circle.names import english_name

COLOUR = {
    "within": [53, 183, 121, 150],
    "gained": [33, 102, 172, 230],
    "lost": [230, 97, 1, 230],
    "beyond": [150, 150, 150, 170],
}
STATE_TEXT = {
    "within": ("步行可达", "within reach"),
    "gained": ("新增可达", "newly within reach"),
    "lost": ("不再可达", "no longer within reach"),
    "beyond": ("不可达", "beyond reach"),
}


def _populated(index) -> tuple[np.ndarray, list[str]]:
    """Positions and H3 strings of the cells with residents (memoised on the index: read-only)."""
    key = ("whatif_populated",)
    if key not in index.memo:
        pos = np.flatnonzero(index.population > 0)
        index.memo[key] = (pos, index.grid.cell_strings(pos))
    return index.memo[key]


def _street_names(index, positions: np.ndarray, lang: str) -> np.ndarray:
    names = gridmod.streets()["name"].to_numpy(dtype=object)
    if lang == "en":
        names = np.array([english_name(n) for n in names], dtype=object)
    return names[index.grid.street[positions]]


def cells_frame(index, type_id: str, result: whatif.WhatIf | None, lang: str = "zh") -> pd.DataFrame:
    """Populated cells coloured by whether they reach the type (before → after the edits)."""
    pos, hexes = _populated(index)
    p = index.type_pos[type_id]
    mpm = access.metres_per_minute(index.params.speed_kmh)
    before_m = index.dist_m[p][pos] / mpm
    after_m = before_m if result is None or type_id not in result.after else result.after[type_id][0][pos] / mpm
    thr = index.thresholds[p]
    b, a = before_m <= thr, after_m <= thr
    state = np.where(b & a, "within", np.where(a & ~b, "gained", np.where(b & ~a, "lost", "beyond")))
    streets = _street_names(index, pos, lang)
    unit = "分钟" if lang != "en" else "min"
    people = "人" if lang != "en" else "residents"

    def fmt(m):
        return "—" if not np.isfinite(m) else f"{m:.1f}"

    labels = []
    for s, st_name, pop, mb, ma in zip(state.tolist(), streets.tolist(), index.population[pos].tolist(),
                                       before_m.tolist(), after_m.tolist()):
        change = f"{fmt(mb)} {unit}" if mb == ma or (not np.isfinite(mb) and not np.isfinite(ma)) \
            else f"{fmt(mb)} → {fmt(ma)} {unit}"
        labels.append(f"{st_name} · {round(pop):,} {people} · {change} · {pick(lang, *STATE_TEXT[s])}")
    return pd.DataFrame({"hex": hexes, "fill": [COLOUR[s] for s in state.tolist()], "label": labels,
                         "state": state})


def facilities_frame(index, type_id: str, edits: list, lang: str = "zh") -> pd.DataFrame:
    """The type's facilities after the edits: lat, lng, row, label (text), added (bool)."""
    fac = whatif.facilities_after(index, type_id, edits)
    names = fac["name_en"] if lang == "en" else fac["name_zh"]
    labels = [str(n) if str(n) not in ("", "nan") else str(z) for n, z in zip(names, fac["name_zh"])]
    return pd.DataFrame({"lat": fac["lat"].to_numpy(dtype=float), "lng": fac["lng"].to_numpy(dtype=float),
                         "row": fac.index.to_numpy(dtype=np.int64), "label": labels,
                         "added": fac.index.to_numpy() >= len(index.facilities)})


def removable(index, type_id: str, edits: list) -> dict[int, str]:
    """Row → 'name (id)' for the facilities of a type that are still there (shared ones only)."""
    fac = whatif.facilities_after(index, type_id, edits)
    fac = fac[fac.index < len(index.facilities)]
    return {int(r): f"{z} ({i})" for r, z, i in zip(fac.index, fac["name_zh"], fac["id"])}


def view_for(index, type_id: str, edits: list) -> dict:
    """Centre on the last edit of this type, else the city."""
    mine = [e for e in edits if e.type_id == type_id and e.lat is not None]
    if mine:
        return {"latitude": float(mine[-1].lat), "longitude": float(mine[-1].lng), "zoom": 13}
    return dict(CITY_VIEW)


def level_table(result: whatif.WhatIf, level: str, type_id: str, lang: str = "zh") -> pd.DataFrame:
    """District or street rows for the shown measures, changed groups first; shares in percent."""
    rows = whatif.summary_rows(result, level)
    keep = rows["measure"].map(lambda m: m == f"type:{type_id}" or not m.startswith("type:"))
    rows = rows[keep & (rows["population"] > 0)]
    out = pd.DataFrame({
        "name": rows["name_en"] if lang == "en" else rows["name_zh"],
        "measure": rows["measure"].map(lambda m: whatif.measure_label(m, lang)),
        "population": rows["population"],
        "before": rows["share_before"] * 100.0, "after": rows["share_after"] * 100.0,
        "change": rows["share_change"] * 100.0,
        "gained": rows["residents_gained"], "lost": rows["residents_lost"],
    })
    changed = (out["gained"] > 0) | (out["lost"] > 0)
    out = out.assign(_c=~changed).sort_values(["_c", "measure", "change"], ascending=[True, True, False])
    return out.drop(columns="_c").reset_index(drop=True)


def sites_table(result, lang: str = "zh") -> pd.DataFrame:
    s = result.sites
    return pd.DataFrame({
        "rank": s["rank"], "district": s["district_en"] if lang == "en" else s["district_zh"],
        "street": s["street_en"] if lang == "en" else s["street_zh"],
        "residents_added": s["residents_added"], "residents_cumulative": s["residents_cumulative"],
        "share_after": s["share_within_after"] * 100.0, "lat": s["lat"], "lng": s["lng"], "cell": s["cell"],
    })


def siting_layers(index, result, lang: str = "zh") -> list[pdk.Layer]:
    """Uncovered residents (orange), the cells each site would bring within reach (blue) and the
    numbered sites."""
    prob = result.problem
    hexes_u = index.grid.cell_strings(prob.uncovered) if len(prob.uncovered) else []
    people = "人" if lang != "en" else "residents"
    beyond = pick(lang, "超出阈值", "beyond the threshold")
    uncovered = pd.DataFrame({"hex": hexes_u, "fill": [COLOUR["lost"]] * len(hexes_u),
                              "label": [f"{beyond} · {round(w):,} {people}" for w in prob.weight.tolist()]})
    covered_rows = []
    chosen = np.searchsorted(prob.candidates, result.sites["position"].to_numpy())
    cover = prob.cover.tocsr()
    taken = np.zeros(len(prob.uncovered), bool)
    for rank, c in zip(result.sites["rank"].tolist(), chosen.tolist()):
        cols = cover.indices[cover.indptr[c]:cover.indptr[c + 1]]
        cols = cols[~taken[cols]]
        taken[cols] = True
        label = pick(lang, f"第 {rank} 号选址新增覆盖", f"brought within reach by site {rank}")
        for u in cols.tolist():
            covered_rows.append({"hex": hexes_u[u], "fill": COLOUR["gained"], "label": label})
    covered = pd.DataFrame(covered_rows, columns=["hex", "fill", "label"])
    s = result.sites
    site_label = [pick(lang, f"第 {r} 号选址 · {st} · 新增 {a:,} 人", f"Site {r} · {en} · +{a:,} residents")
                  for r, st, en, a in zip(s["rank"], s["street_zh"], s["street_en"], s["residents_added"])]
    points = pd.DataFrame({"lat": s["lat"], "lng": s["lng"], "label": site_label,
                           "text": [str(r) for r in s["rank"]]})
    return [
        hex_layer("uncovered", uncovered, pickable=True),
        hex_layer("covered", covered, pickable=True),
        point_layer("sites", points, colour=(20, 20, 20, 240), radius_px=9),
        pdk.Layer("TextLayer", points, id="site_numbers", get_position=["lng", "lat"], get_text="text",
                  get_size=13, get_color=[255, 255, 255, 255], font_family=pdk.types.String(LABEL_FONT),
                  get_text_anchor="'middle'", get_alignment_baseline="'center'", pickable=False),
    ]


def view_for_sites(result) -> dict:
    s = result.sites
    if len(s) == 0:
        return dict(CITY_VIEW)
    spread = max(float(s["lat"].max() - s["lat"].min()), float(s["lng"].max() - s["lng"].min()))
    zoom = 13 if spread < 0.02 else 11.5 if spread < 0.08 else 10.2 if spread < 0.2 else 9.4
    return {"latitude": float(s["lat"].mean()), "longitude": float(s["lng"].mean()), "zoom": zoom}


def hex_of(lat: float, lng: float, resolution: int = 10) -> str:
    return h3.latlng_to_cell(lat, lng, resolution)
