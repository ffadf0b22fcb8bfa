"""Compact frames for the city map: the resolution-10 index aggregated to resolution-9 hexagons.

The index has ~127,000 resolution-10 cells, most of them desert, mountain or river. The map needs
only the places where people live or could walk to, at a size a phone can draw. So:

* every index cell is mapped to its resolution-9 parent (``cell_parents``: the H3 bit layout,
  vectorised with numpy; identical to ``h3.cell_to_parent``);
* a parent is **kept** when any of its children has residents or a facility, or is within
  ``NEAR_RESIDENTS_MIN`` minutes' walk of residents at the fastest preset speed (so the footprint
  does not change with the speed chosen);
* each measure is aggregated over the kept children (``city_hexes``):

  - ``circles``: circles covered (0–8), population-weighted mean over children with residents;
    where a hexagon has no residents, the plain mean over its passable children;
  - ``minutes``: walking minutes to one facility type, weighted the same way; hexagons beyond
    ``MINUTES_GREY`` minutes (or out of reach) are grey;
  - ``population``: residents (sum);
  - ``gap``: residents whose cell does not have all eight circles (sum).

Results are cached per (index key, arguments). Colours come from :func:`circle.maps.colours`
(viridis, colour-blind safe); for minutes the scale is reversed, so near = bright. No streamlit.
"""
from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from functools import lru_cache

import altair as alt
import h3
import numpy as np
import pandas as pd

from circle import access, maps
from circle.charts import FONT
from circle import grid as gridmod
from circle.i18n import pick, t
from circle.names import english_name
from circle.taxonomy import circles, facility_type, facility_types

MEASURES = ("circles", "minutes", "population", "gap")
DEFAULT_MEASURE = "circles"
DEFAULT_TYPE = "convenience_store"
MAP_RESOLUTION = 9
NEAR_RESIDENTS_MIN = 15.0
FOOTPRINT_SPEED_KMH = max(access.SPEED_PRESETS_KMH.values())
MINUTES_SCALE_MAX = 30.0     # the colour scale of minutes stops here (brightest = 0 min)
MINUTES_GREY = 60.0          # beyond an hour (or out of reach): grey
GREY = [200, 200, 200, 120]
EMPTY = [225, 225, 225, 70]  # population / gap measures: a hexagon without residents
MAP_WIDTH_PX, MAP_HEIGHT_PX = 640, 560

_INDEXES: "weakref.WeakValueDictionary[str, object]" = weakref.WeakValueDictionary()


# --- H3 parents, vectorised --------------------------------------------------------------------

_RES_SHIFT = np.uint64(52)
_RES_MASK = np.uint64(0xF) << _RES_SHIFT


def cell_parents(cells: np.ndarray, resolution: int) -> np.ndarray:
    """H3 parents (uint64) of uint64 cells at ``resolution`` (≤ the cells' own resolution).

    Same answer as ``h3.cell_to_parent`` for every cell: set the resolution field and fill the
    digits finer than ``resolution`` with 7 (unused)."""
    cells = np.asarray(cells, dtype=np.uint64)
    if len(cells) == 0:
        return cells.copy()
    own = int((int(cells[0]) >> 52) & 0xF)
    if not 0 <= resolution <= own:
        raise ValueError(f"父级分辨率须在 0–{own} 之间 / parent resolution must be 0–{own}, got {resolution}")
    out = (cells & ~_RES_MASK) | (np.uint64(resolution) << _RES_SHIFT)
    for r in range(resolution + 1, 16):
        out |= np.uint64(7) << np.uint64((15 - r) * 3)
    return out


# --- filters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StreetOption:
    code: str
    position: int          # row of gridmod.streets(), the value stored in grid.street
    name_zh: str
    name_en: str
    district_code: str

    def name(self, lang: str = "zh") -> str:
        return pick(lang, self.name_zh, self.name_en)


@dataclass(frozen=True)
class DistrictOption:
    code: str
    position: int          # index into gridmod.districts(), the value stored in grid.district
    name_zh: str
    name_en: str
    streets: tuple[StreetOption, ...]

    def name(self, lang: str = "zh") -> str:
        return pick(lang, self.name_zh, self.name_en + " District")


@lru_cache(maxsize=1)
def _all_options() -> tuple[DistrictOption, ...]:
    table = gridmod.streets()
    out = []
    for d_pos, d in enumerate(gridmod.districts()):
        streets = tuple(StreetOption(str(row.code), int(i), str(row.name), english_name(str(row.name)), d.code)
                        for i, row in zip(table.index, table.itertuples()) if str(row.district_code) == d.code)
        out.append(DistrictOption(d.code, d_pos, d.name_zh, d.name_en, streets))
    return tuple(out)


def filter_options(index=None) -> tuple[DistrictOption, ...]:
    """The districts, each with its streets and towns (codes, zh/en names), in code order.

    With an index, only streets that have cells in its grid are listed."""
    options = _all_options()
    if index is None:
        return options
    present = set(np.unique(index.grid.street).tolist())
    return tuple(DistrictOption(d.code, d.position, d.name_zh, d.name_en,
                                tuple(s for s in d.streets if s.position in present)) for d in options)


def _norm(text) -> str:
    return "".join(str(text or "").split()).lower()


SHOWN_CHARS = 40


def shown(value) -> str:
    """A URL value as it may be quoted back in a notice: at most SHOWN_CHARS characters."""
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"


def resolve_district(value) -> DistrictOption | None:
    """A district from its code, Chinese or English name (``None`` for empty); ValueError if unknown."""
    key = _norm(value)
    if not key:
        return None
    for d in _all_options():
        if key in {d.code, _norm(d.name_zh), _norm(d.name_en), _norm(d.name_en + " District"),
                   _norm(d.name_zh.removesuffix("区"))}:
            return d
    raise ValueError(f"district={shown(value)}")


def resolve_street(value, district: DistrictOption | None = None) -> StreetOption | None:
    """A street/town from its code or name, inside ``district`` if given; ValueError if unknown."""
    key = _norm(value)
    if not key:
        return None
    pool = district.streets if district else tuple(s for d in _all_options() for s in d.streets)
    for s in pool:
        if key in {s.code, _norm(s.name_zh), _norm(s.name_en)}:
            return s
    raise ValueError(f"street={shown(value)}")


def district_of(street: StreetOption) -> DistrictOption:
    return next(d for d in _all_options() if d.code == street.district_code)


def speed_presets() -> dict[str, float]:
    return dict(access.SPEED_PRESETS_KMH)


def parse_speed(value) -> float | None:
    """A walking speed from the URL: one of the presets (``None`` for empty); ValueError otherwise."""
    text = str(value or "").strip().lower().removesuffix("kmh").removesuffix("km/h").strip()
    if not text:
        return None
    if text in access.SPEED_PRESETS_KMH:
        return access.SPEED_PRESETS_KMH[text]
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"speed={shown(value)}") from None
    for preset in access.SPEED_PRESETS_KMH.values():
        if abs(speed - preset) < 1e-6:
            return preset
    raise ValueError(f"speed={shown(value)}")


@dataclass(frozen=True)
class MapView:
    """A validated city-map view (what the URL holds)."""

    measure: str = DEFAULT_MEASURE
    type_id: str = DEFAULT_TYPE
    district: str | None = None     # district code
    street: str | None = None       # street code
    speed_kmh: float = access.DEFAULT_SPEED_KMH

    def to_query(self) -> dict[str, str]:
        """URL parameters of this view (defaults left out, so the plain URL is the default view)."""
        out: dict[str, str] = {}
        if self.measure != DEFAULT_MEASURE:
            out["measure"] = self.measure
        if self.measure == "minutes" and self.type_id != DEFAULT_TYPE:
            out["type"] = self.type_id
        if self.district:
            out["district"] = self.district
        if self.street:
            out["street"] = self.street
        if abs(self.speed_kmh - access.DEFAULT_SPEED_KMH) > 1e-9:
            out["speed"] = f"{self.speed_kmh:g}"
        return out


QUERY_KEYS = ("measure", "type", "district", "street", "speed")


def parse_map_params(params) -> tuple[MapView, list[str]]:
    """A :class:`MapView` from URL parameters (a mapping of strings), and the bad ones.

    Every bad value is replaced by its default and reported as ``"name=value"`` for the page's
    bilingual notice; nothing raises."""
    params = {k: (v[-1] if isinstance(v, (list, tuple)) and v else v) for k, v in dict(params).items()}
    bad: list[str] = []
    measure = _norm(params.get("measure")) or DEFAULT_MEASURE
    if measure not in MEASURES:
        bad.append(f"measure={shown(params.get('measure'))}")
        measure = DEFAULT_MEASURE
    type_id = _norm(params.get("type")) or DEFAULT_TYPE
    if type_id not in {ft.id for ft in facility_types()}:
        bad.append(f"type={shown(params.get('type'))}")
        type_id = DEFAULT_TYPE
    try:
        district = resolve_district(params.get("district"))
    except ValueError as exc:
        bad.append(str(exc))
        district = None
    try:
        street = resolve_street(params.get("street"), district)
    except ValueError as exc:
        bad.append(str(exc))
        street = None
    if street is not None and district is None:
        district = district_of(street)
    try:
        speed = parse_speed(params.get("speed")) or access.DEFAULT_SPEED_KMH
    except ValueError as exc:
        bad.append(str(exc))
        speed = access.DEFAULT_SPEED_KMH
    return MapView(measure, type_id, district.code if district else None, street.code if street else None,
                   float(speed)), bad


# --- the kept footprint, per index ---------------------------------------------------------------

@dataclass(frozen=True)
class _Footprint:
    positions: np.ndarray   # index positions of the kept children, grouped by parent (sorted ids)
    parent: np.ndarray      # uint64 parent id of each kept child


def _register(index) -> str:
    _INDEXES[index.key] = index
    return index.key


def _index(key: str):
    try:
        return _INDEXES[key]
    except KeyError:
        raise KeyError(f"index {key} is no longer loaded") from None


@lru_cache(maxsize=8)
def _footprint(key: str, resolution: int) -> _Footprint:
    index = _index(key)
    grid = index.grid
    populated = np.flatnonzero(index.population > 0)
    keep = np.zeros(grid.size, bool)
    keep[populated] = True
    fac = index.facilities["cell_pos"].to_numpy()
    keep[fac[fac >= 0]] = True
    if len(populated):
        dist, _ = access.nearest(grid.neighbours, grid.edge_m, populated, populated,
                                 circuity=index.params.circuity,
                                 limit_m=access.metres_from_minutes(NEAR_RESIDENTS_MIN, FOOTPRINT_SPEED_KMH))
        keep |= np.isfinite(dist)
    parent = cell_parents(grid.cells, resolution)
    kept_parents = np.unique(parent[keep])
    mask = np.isin(parent, kept_parents)
    positions = np.flatnonzero(mask)  # grid cells are sorted, so children of a parent are adjacent
    return _Footprint(positions, parent[positions])


def footprint_size(index, resolution: int = MAP_RESOLUTION) -> tuple[int, int]:
    """(kept parent hexagons, their children in the index) — for tests and benchmarks."""
    fp = _footprint(_register(index), int(resolution))
    return len(np.unique(fp.parent)), len(fp.positions)


def _filtered(index, district: str | None, street: str | None, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    fp = _footprint(_register(index), int(resolution))
    pos, parent = fp.positions, fp.parent
    mask = np.ones(len(pos), bool)
    if district:
        mask &= index.grid.district[pos] == resolve_district(district).position
    if street:
        mask &= index.grid.street[pos] == resolve_street(street).position
    return pos[mask], parent[mask]


# --- scales and legends ------------------------------------------------------------------------

def _nice_ceiling(x: float) -> float:
    """The next 1–2–5 number at or above x (≥ 10)."""
    if not np.isfinite(x) or x <= 10:
        return 10.0
    exp = 10 ** math.floor(math.log10(x))
    for step in (1, 2, 2.5, 5, 10):
        if step * exp >= x:
            return float(step * exp)
    return float(10 * exp)


@lru_cache(maxsize=32)
def _scale_max(key: str, measure: str, speed_kmh: float, resolution: int) -> float:
    """A fixed top of the colour scale for sums (95th percentile of the city's hexagons), so the
    colours mean the same with or without a district or street filter."""
    frame = _aggregate(key, measure, None, None, None, speed_kmh, resolution)
    values = frame["value"].to_numpy()
    values = values[np.isfinite(values) & (values > 0)]
    return _nice_ceiling(float(np.percentile(values, 95))) if len(values) else 10.0


def _scale(key: str, measure: str, speed_kmh: float, resolution: int) -> tuple[float, float, bool]:
    if measure == "circles":
        return 0.0, float(len(circles())), False
    if measure == "minutes":
        return 0.0, MINUTES_SCALE_MAX, True
    return 0.0, _scale_max(key, measure, speed_kmh, resolution), False


@dataclass(frozen=True)
class Legend:
    title: str
    stops: tuple[tuple[float, str, str], ...]    # (value, label, '#rrggbb')
    note: str                                     # what grey means

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"order": i, "value": v, "label": lab, "colour": c}
                             for i, (v, lab, c) in enumerate(self.stops)])


def _hex(rgba) -> str:
    return "#%02x%02x%02x" % tuple(int(c) for c in rgba[:3])


def legend_for(measure: str, index=None, type_id: str | None = None, speed_kmh: float | None = None,
               lang: str = "zh", resolution: int = MAP_RESOLUTION) -> Legend:
    """Title and colour stops of a measure's scale (the same colours as :func:`city_hexes`)."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    speed = float(speed_kmh or access.DEFAULT_SPEED_KMH)
    if measure == "circles":
        values = [0.0, 2.0, 4.0, 6.0, 8.0]
        labels = [f"{v:g}" for v in values]
        title = t("cm_legend_circles", lang)
        note = t("cm_legend_grey_river", lang)
        vmin, vmax, rev = 0.0, 8.0, False
    elif measure == "minutes":
        ftype = facility_type(type_id or DEFAULT_TYPE)
        values = [0.0, 5.0, 10.0, 15.0, 20.0, MINUTES_SCALE_MAX]
        labels = [f"{v:g}" for v in values[:-1]] + [f"≥{MINUTES_SCALE_MAX:g}"]
        title = t("cm_legend_minutes", lang, type=ftype.name(lang), speed=f"{speed:.1f}")
        note = t("cm_legend_grey_far", lang, minutes=f"{MINUTES_GREY:g}")
        vmin, vmax, rev = 0.0, MINUTES_SCALE_MAX, True
    else:
        if index is None:
            raise ValueError("population and gap legends need the index (their scale depends on it)")
        vmin, vmax, rev = _scale(_register(index), measure, speed, int(resolution))
        values = list(np.linspace(vmin, vmax, 5))
        labels = [f"{v:,.0f}" for v in values[:-1]] + [f"≥{vmax:,.0f}"]
        title = t("cm_legend_population" if measure == "population" else "cm_legend_gap", lang)
        note = t("cm_legend_grey_empty", lang)
    rgba = maps.colours(values, vmin, vmax, reverse=rev)
    return Legend(title, tuple((float(v), lab, _hex(c)) for v, lab, c in zip(values, labels, rgba)), note)


def legend_chart(legend: Legend) -> alt.Chart:
    """The legend as a small Altair strip (no HTML): one swatch per stop, its value underneath.
    The chart has no title; show ``legend.title`` and ``legend.note`` beside it as text."""
    data = legend.frame()
    base = alt.Chart(data).encode(x=alt.X("order:O", axis=None, title=None))
    swatches = base.mark_rect(stroke="#666", strokeWidth=0.5).encode(
        y=alt.value(0), y2=alt.value(20),
        color=alt.Color("label:N", scale=alt.Scale(domain=list(data["label"]), range=list(data["colour"])),
                        legend=None),
        tooltip=[alt.Tooltip("label:N", title=legend.title)])
    labels = base.mark_text(fontSize=12, baseline="top").encode(text="label:N", y=alt.value(25))
    # No chart title: Streamlit sizes the chart to its plot height and would clip it; the page
    # writes ``legend.title`` and ``legend.note`` as text above the strip instead.
    return (swatches + labels).properties(
        height=42,
    ).configure_view(stroke=None).configure(font=FONT)


# --- the frames ----------------------------------------------------------------------------------

@lru_cache(maxsize=64)
def _aggregate(key: str, measure: str, type_id: str | None, district: str | None, street: str | None,
               speed_kmh: float, resolution: int) -> pd.DataFrame:
    """hex_id (uint64), value, population, first child position — one row per kept parent."""
    index = _index(key)
    pos, parent = _filtered(index, district, street, resolution)
    if len(pos) == 0:
        return pd.DataFrame({"hex_id": np.array([], np.uint64), "value": [], "population": [],
                             "first": np.array([], np.int64)})
    # Children of one parent are adjacent (grid ids sorted), so parent ids are sorted too.
    starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
    group = np.cumsum(np.r_[True, parent[1:] != parent[:-1]]) - 1
    n = len(starts)
    pop = index.population[pos]
    pop_sum = np.bincount(group, pop, minlength=n)
    has_pop = pop_sum > 0
    passable = index.grid.passable[pos].astype(np.float64)
    cells = index.cells_at_speed(speed_kmh)

    def weighted_mean(values: np.ndarray) -> np.ndarray:
        """Population-weighted over children with residents, else the plain mean over passable
        children with a finite value (inf if none)."""
        finite = np.isfinite(values)
        safe = np.where(finite, values, 0.0)
        w_sum = np.bincount(group, np.where(pop > 0, safe * pop, 0.0), minlength=n)
        w_bad = np.bincount(group, (pop > 0) & ~finite, minlength=n) > 0
        weighted = np.where(w_bad, np.inf, w_sum / np.where(has_pop, pop_sum, 1.0))
        ok = passable * finite
        plain_n = np.bincount(group, ok, minlength=n)
        plain = np.where(plain_n > 0, np.bincount(group, safe * ok, minlength=n) / np.maximum(plain_n, 1), np.inf)
        return np.where(has_pop, weighted, plain)

    covered = cells["circles_covered"].to_numpy()[pos].astype(np.float64)
    if measure == "circles":
        value = weighted_mean(covered)
        value[~np.isfinite(value)] = np.nan
    elif measure == "minutes":
        row = index.type_pos[type_id]
        minutes = index.dist_m[row, pos].astype(np.float64) / access.metres_per_minute(speed_kmh)
        value = weighted_mean(minutes)
        if bool(index.no_data[row]):
            value[:] = np.inf
    elif measure == "population":
        value = pop_sum
    elif measure == "gap":
        value = np.bincount(group, pop * (covered < len(circles())), minlength=n)
    else:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    return pd.DataFrame({"hex_id": parent[starts], "value": value, "population": pop_sum, "first": pos[starts]})


def _labels(frame: pd.DataFrame, index, measure: str, type_id: str | None, lang: str) -> list[str]:
    table = gridmod.streets()
    names = [pick(lang, n, english_name(n)) for n in table["name"]]
    street = [names[s] for s in index.grid.street[frame["first"].to_numpy()].tolist()]
    values = frame["value"].to_numpy()
    pops = frame["population"].to_numpy()
    if measure == "circles":
        return [t("cm_tip_circles", lang, place=s, value="—" if not np.isfinite(v) else f"{v:.1f}", pop=f"{p:,.0f}")
                for s, v, p in zip(street, values, pops)]
    if measure == "minutes":
        tname = facility_type(type_id).name(lang)
        if bool(index.no_data[index.type_pos[type_id]]):  # an imported data set without this type
            return [t("cm_tip_no_data", lang, place=s, type=tname, pop=f"{p:,.0f}") for s, p in zip(street, pops)]
        out = []
        for s, v, p in zip(street, values, pops):
            if np.isfinite(v) and v <= MINUTES_GREY:
                out.append(t("cm_tip_minutes", lang, place=s, type=tname, value=f"{v:.1f}", pop=f"{p:,.0f}"))
            else:
                out.append(t("cm_tip_minutes_far", lang, place=s, type=tname, minutes=f"{MINUTES_GREY:g}",
                             pop=f"{p:,.0f}"))
        return out
    if measure == "population":
        return [t("cm_tip_population", lang, place=s, pop=f"{p:,.0f}") for s, p in zip(street, pops)]
    return [t("cm_tip_gap", lang, place=s, value=f"{v:,.0f}", pop=f"{p:,.0f}") for s, v, p in zip(street, values, pops)]


@lru_cache(maxsize=64)
def _city_hexes(key: str, measure: str, type_id: str | None, district: str | None, street: str | None,
                speed_kmh: float, lang: str, resolution: int) -> pd.DataFrame:
    index = _index(key)
    agg = _aggregate(key, measure, type_id, district, street, speed_kmh, resolution)
    vmin, vmax, rev = _scale(key, measure, speed_kmh, resolution)
    values = agg["value"].to_numpy(dtype=np.float64)
    shown = values.copy()
    if measure == "minutes":
        shown[~(values <= MINUTES_GREY)] = np.nan
    finite = np.isfinite(shown)
    fill = maps.colours(np.where(finite, shown, vmin), vmin, vmax, reverse=rev).tolist()
    fill = [f if ok else list(GREY) for ok, f in zip(finite.tolist(), fill)]
    if measure in ("population", "gap"):
        empty = agg["population"].to_numpy() <= 0
        fill = [list(EMPTY) if e else f for e, f in zip(empty, fill)]
    out = pd.DataFrame({
        "hex": [h3.int_to_str(int(c)) for c in agg["hex_id"].tolist()],
        "value": np.where(np.isfinite(values), values, np.nan),
        "fill": fill,
        "label": _labels(agg, index, measure, type_id, lang),
    })
    return out


def city_hexes(index, measure: str = DEFAULT_MEASURE, type_id: str | None = None, district: str | None = None,
               street: str | None = None, speed_kmh: float | None = None, lang: str = "zh",
               resolution: int = MAP_RESOLUTION) -> pd.DataFrame:
    """One row per resolution-9 hexagon of the kept footprint: ``hex`` (H3 id string), ``value``,
    ``fill`` (RGBA list) and ``label`` (tooltip text in ``lang``).

    ``district`` and ``street`` take a code or a name; unknown ones raise ValueError. Cached per
    (index.key, arguments); the frame returned is a copy."""
    frame = _city_hexes(*_view_key(index, measure, type_id, district, street, speed_kmh, lang, resolution))
    return frame.copy()


def city_hexes_layer(index, measure: str = DEFAULT_MEASURE, type_id: str | None = None,
                     district: str | None = None, street: str | None = None, speed_kmh: float | None = None,
                     lang: str = "zh", resolution: int = MAP_RESOLUTION) -> maps.LayerJSON:
    """:func:`city_hexes` as the map's ``hexes`` layer, encoded once per view and shared by every
    reader (``.rows`` = the number of hexagons). Same arguments and errors as ``city_hexes``."""
    return _city_hexes_layer(*_view_key(index, measure, type_id, district, street, speed_kmh, lang, resolution))


def _view_key(index, measure, type_id, district, street, speed_kmh, lang, resolution) -> tuple:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    type_id = (type_id or DEFAULT_TYPE) if measure == "minutes" else None
    if type_id is not None and type_id not in index.type_pos:
        raise ValueError(f"unknown facility type {type_id!r}")
    d = resolve_district(district)
    s = resolve_street(street, d)
    speed = float(speed_kmh or index.params.speed_kmh)
    if not 1.0 <= speed <= 10.0:
        raise ValueError(f"walking speed must be 1–10 km/h, got {speed}")
    return (_register(index), measure, type_id, d.code if d else None, s.code if s else None, speed,
            "en" if lang == "en" else "zh", int(resolution))


@lru_cache(maxsize=64)
def _city_hexes_layer(*key) -> maps.LayerJSON:
    frame = _city_hexes(*key)
    encoded = maps.layer_json(maps.hex_layer("hexes", map_frame(frame)))
    encoded.rows = len(frame)
    return encoded


def view_for(index, district: str | None = None, street: str | None = None,
             resolution: int = MAP_RESOLUTION) -> dict:
    """Centre and zoom that fit the kept hexagons of a district or street (or the whole city)."""
    d = resolve_district(district)
    s = resolve_street(street, d)
    return _view_for(_register(index), d.code if d else None, s.code if s else None, int(resolution))


@lru_cache(maxsize=64)
def _view_for(key: str, district: str | None, street: str | None, resolution: int) -> dict:
    index = _index(key)
    pos, _ = _filtered(index, district, street, resolution)
    if len(pos) == 0:
        return dict(maps.CITY_VIEW)
    lat, lng = index.grid.lat[pos], index.grid.lng[pos]
    lat0, lat1 = float(lat.min()), float(lat.max())
    lng0, lng1 = float(lng.min()), float(lng.max())
    pad = 0.004
    lat0, lat1, lng0, lng1 = lat0 - pad, lat1 + pad, lng0 - pad, lng1 + pad

    def merc(y):
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(y) / 2)))

    zoom_x = math.log2(MAP_WIDTH_PX * 360.0 / (512.0 * (lng1 - lng0)))
    zoom_y = math.log2(MAP_HEIGHT_PX * 360.0 / (512.0 * (merc(lat1) - merc(lat0))))
    zoom = max(8.0, min(15.0, min(zoom_x, zoom_y) - 0.15))
    return {"latitude": round((lat0 + lat1) / 2, 5), "longitude": round((lng0 + lng1) / 2, 5),
            "zoom": round(zoom, 2)}


def map_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Only what the browser needs from :func:`city_hexes` (id, colour, tooltip text)."""
    return frame[["hex", "fill", "label"]]


def method_note(speed_kmh: float, resolution: int = MAP_RESOLUTION) -> tuple[str, str]:
    """The (zh, en) method text of the map, for its provenance tag."""
    return (f"H3第10级网格步行模型，{speed_kmh:.1f} km/h，聚合到第{resolution}级六边形（人口加权）",
            f"H3 resolution-10 grid walking model, {speed_kmh:.1f} km/h, aggregated to resolution-{resolution} "
            f"hexagons (population-weighted)")


def clear_caches() -> None:
    for fn in (_footprint, _scale_max, _aggregate, _city_hexes, _city_hexes_layer, _view_for):
        fn.cache_clear()
