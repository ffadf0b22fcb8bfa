"""Map layers (pydeck) that work offline and inside China.

No tile server is needed: district borders, the Yellow River and place names are drawn from our own
reference data (``context_layers``). ``map_provider=None`` keeps deck.gl from asking for any basemap;
an online basemap is opt-in. Tooltips are ``{"text": ...}`` only: deck.gl puts text tooltips in
``innerText``, so names from data files are never interpreted as HTML. Colour scales are
colour-blind safe (viridis / cividis stops) and every layer has a stable ``id``.
"""
from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from circle import grid as gridmod
from circle.i18n import pick
from circle.names import english_name
from circle.sources import DISTRICTS, RIVER, read_geojson

CITY_VIEW = {"latitude": 39.56, "longitude": 106.80, "zoom": 9.4}
# Viridis at 9 stops (colour-blind safe, perceptually even, prints in grey).
VIRIDIS = np.array([
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], dtype=np.float64)
LABEL_FONT = "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
ONLINE_STYLE = "light"


def colours(values, vmin: float, vmax: float, reverse: bool = False, alpha: int = 200) -> np.ndarray:
    """RGBA (uint8) for each value on the viridis scale between vmin and vmax (NaN → light grey)."""
    values = np.asarray(values, dtype=np.float64)
    span = (vmax - vmin) or 1.0
    x = np.clip((values - vmin) / span, 0.0, 1.0)
    if reverse:
        x = 1.0 - x
    pos = x * (len(VIRIDIS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(VIRIDIS) - 1)
    hi = np.minimum(lo + 1, len(VIRIDIS) - 1)
    frac = (pos - lo)[:, None]
    rgb = VIRIDIS[lo] * (1 - frac) + VIRIDIS[hi] * frac
    rgba = np.column_stack([rgb, np.full(len(values), alpha)])
    rgba[~np.isfinite(values)] = [200, 200, 200, 120]
    return rgba.round().astype(np.uint8)


def legend(vmin: float, vmax: float, reverse: bool = False, steps: int = 5) -> list[tuple[float, str]]:
    """(value, '#rrggbb') pairs for a legend of the same scale."""
    values = np.linspace(vmin, vmax, steps)
    return [(float(v), "#%02x%02x%02x" % tuple(c[:3])) for v, c in zip(values, colours(values, vmin, vmax, reverse))]


@lru_cache(maxsize=1)
def _district_paths() -> list[dict]:
    rows = []
    for feature in read_geojson(DISTRICTS)["features"]:
        geom = feature["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for polygon in polygons:
            rows.append({"path": [[round(x, 5), round(y, 5)] for x, y in polygon[0]],
                         "name": feature["properties"]["name"]})
    return rows


@lru_cache(maxsize=1)
def _river_paths() -> list[dict]:
    rows = []
    for feature in read_geojson(RIVER)["features"]:
        geom = feature["geometry"]
        lines = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
        rows += [{"path": [[round(x, 5), round(y, 5)] for x, y in line], "name": "黄河 Yellow River"} for line in lines]
    return rows


def _labels(lang: str, streets: bool) -> list[dict]:
    rows = []
    for d in gridmod.districts():
        seat = [f for f in read_geojson(DISTRICTS)["features"] if str(f["properties"]["adcode"]) == d.code][0]
        lng, lat = seat["properties"]["seat_wgs84"]
        rows.append({"position": [lng, lat + 0.02], "text": pick(lang, d.name_zh, d.name_en + " District"),
                     "size": 18})
    if streets:
        for row in gridmod.streets().itertuples():
            rows.append({"position": [row.lng, row.lat], "text": pick(lang, row.name, english_name(row.name)),
                         "size": 12})
    rows.append({"position": [106.752, 39.60], "text": pick(lang, "黄河", "Yellow River"), "size": 13})
    return rows


def context_layers(lang: str = "zh", street_labels: bool = True) -> list[pdk.Layer]:
    """District borders, the Yellow River and names: the map makes sense with no basemap."""
    labels = _labels(lang, street_labels)
    # An explicit character set: pydeck would turn the string "auto" into an accessor function.
    characters = pdk.types.String("".join(sorted({ch for row in labels for ch in row["text"]})))
    return [
        pdk.Layer("PathLayer", _river_paths(), id="river", get_path="path", get_color=[70, 130, 200, 220],
                  width_min_pixels=3, get_width=120, pickable=False),
        pdk.Layer("PathLayer", _district_paths(), id="districts", get_path="path", get_color=[60, 60, 60, 200],
                  width_min_pixels=1.5, get_width=40, pickable=False),
        pdk.Layer("TextLayer", labels, id="labels", get_position="position",
                  get_text="text", get_size="size", get_color=[30, 30, 30, 230], character_set=characters,
                  font_family=pdk.types.String(LABEL_FONT), get_text_anchor="'middle'", get_alignment_baseline="'center'",
                  outline_width=3, outline_color=[255, 255, 255, 220], font_settings={"sdf": True},
                  pickable=False),
    ]


def hex_layer(layer_id: str, frame: pd.DataFrame | list[dict], pickable: bool = True,
              fill: list[int] | None = None) -> pdk.Layer:
    """An H3 layer from a frame with a string ``hex`` column and an RGBA ``fill`` column (or one
    ``fill`` colour for every hexagon, which keeps it out of the data)."""
    return pdk.Layer("H3HexagonLayer", frame, id=layer_id, get_hexagon="hex",
                     get_fill_color=list(fill) if fill is not None else "fill",
                     stroked=False, filled=True, extruded=False, pickable=pickable, auto_highlight=pickable)


def point_layer(layer_id: str, frame: pd.DataFrame | list[dict], colour=(220, 50, 47, 230), radius_px: int = 6,
                pickable: bool = True) -> pdk.Layer:
    """Points from a frame with ``lat`` and ``lng`` columns."""
    return pdk.Layer("ScatterplotLayer", frame, id=layer_id, get_position=["lng", "lat"],
                     get_fill_color=list(colour), get_line_color=[255, 255, 255, 255], stroked=True,
                     line_width_min_pixels=1, radius_min_pixels=radius_px, radius_max_pixels=radius_px + 4,
                     get_radius=20, pickable=pickable)


def make_deck(layers: list[pdk.Layer], view: dict | None = None, tooltip_text: str | None = None,
              basemap: bool = False) -> pdk.Deck:
    """A deck with our context layers underneath. ``basemap=True`` asks Carto for tiles (online only)."""
    view = view or CITY_VIEW
    # map_provider=None with pydeck's default map_style (its "__MAP_STYLE__" sentinel) means no
    # basemap and no requests; passing map_style=None instead would make Streamlit fetch Carto's.
    basemap_args = {"map_provider": "carto", "map_style": ONLINE_STYLE} if basemap else {"map_provider": None}
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(latitude=view["latitude"], longitude=view["longitude"],
                                         zoom=view["zoom"], pitch=0, bearing=0),
        **basemap_args,
        tooltip={"text": tooltip_text} if tooltip_text else False,
    )


# --- decks serialised once -----------------------------------------------------------------------
#
# Encoding a deck to JSON is most of what a map page costs the server (the clickable grid of My
# circle alone is ~1,500 hexagons). The layers that do not change between readers (borders, river,
# names, the click grid, a map view's hexagons) are encoded once and kept as text; a page only
# encodes its own small layers and joins the pieces.


class LayerJSON(str):
    """One deck.gl layer, already encoded as JSON text."""


def layer_json(layer: pdk.Layer) -> LayerJSON:
    """A layer as compact deck.gl JSON (UTF-8 text, no indentation), as pydeck would encode it."""
    data = getattr(layer, "data", None)
    if isinstance(data, pd.DataFrame):  # pydeck cannot encode a pandas 3 frame itself
        layer.data = data.to_dict(orient="records")
    return LayerJSON(_dumps(layer))


_DATA_SLOT = '"data":[]'


@lru_cache(maxsize=64)
def _layer_template(make, layer_id: str, options: tuple) -> str:
    """The JSON of ``make(layer_id, [], **options)`` with its empty data slot, encoded by pydeck once."""
    text = _dumps(make(layer_id, [], **dict(options)))
    if text.count(_DATA_SLOT) != 1:  # pragma: no cover - another pydeck
        raise RuntimeError("unexpected pydeck layer encoding")
    return text


def records_layer_json(make, layer_id: str, records: list[dict], **options) -> LayerJSON:
    """``make(layer_id, records, **options)`` (``hex_layer`` or ``point_layer``) encoded as pydeck
    would, without building a ``pydeck.Layer`` per request (that costs more than the encoding
    itself). Records hold JSON types only (str, int, float, lists of these)."""
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
    template = _layer_template(make, layer_id, tuple(sorted(options.items())))
    return LayerJSON(template.replace(_DATA_SLOT, '"data":' + _dumps(records), 1))


def _dumps(value) -> str:
    return json.dumps(value, sort_keys=True, default=default_serialize, separators=(",", ":"), ensure_ascii=False)


@lru_cache(maxsize=8)
def context_layers_json(lang: str = "zh", street_labels: bool = True) -> tuple[LayerJSON, ...]:
    """:func:`context_layers`, encoded once per language."""
    return tuple(layer_json(layer) for layer in context_layers(lang, street_labels))


_VIEW_SLOT, _LAYERS_SLOT = "\u0000view\u0000", '"layers":[]'


def _view_state(view: dict) -> pdk.ViewState:
    return pdk.ViewState(latitude=view["latitude"], longitude=view["longitude"], zoom=view["zoom"], pitch=0,
                         bearing=0)


@lru_cache(maxsize=16)
def _deck_template(tooltip_text: str | None, basemap: bool) -> tuple[str, dict | bool]:
    """The encoded deck with slots for the view and the layers (building a pydeck.Deck costs a
    failed import of pydeck's Jupyter widget each time), and its tooltip."""
    shell = make_deck([], CITY_VIEW, tooltip_text, basemap)
    head, view = _dumps(shell), _dumps(_view_state(CITY_VIEW))
    if head.count(view) != 1 or head.count(_LAYERS_SLOT) != 1:  # pragma: no cover - another pydeck
        raise RuntimeError("unexpected pydeck deck encoding")
    return head.replace(view, _VIEW_SLOT), shell._tooltip


class SerialisedDeck:
    """A deck as JSON text, for ``st.pydeck_chart``: what it reads of a ``pydeck.Deck``
    (``to_json()``, ``_tooltip``) without encoding the layers again on every page run."""

    layers = None  # nothing for Streamlit's pandas-3 workaround to convert: the layers are text
    mapbox_key = None
    width = None

    def __init__(self, layers: list, view: dict | None = None, tooltip_text: str | None = None,
                 basemap: bool = False):
        template, self._tooltip = _deck_template(tooltip_text, basemap)
        view = view or CITY_VIEW
        encoded = [piece if isinstance(piece, LayerJSON) else layer_json(piece) for piece in layers]
        self._json = (template.replace(_VIEW_SLOT, _dumps(_view_state(view)), 1)
                      .replace(_LAYERS_SLOT, '"layers":[' + ",".join(encoded) + "]", 1))

    def to_json(self) -> str:
        return self._json


def serialised_deck(layers: list, view: dict | None = None, tooltip_text: str | None = None,
                    basemap: bool = False) -> SerialisedDeck:
    """Like :func:`make_deck`, with layers given as ``pydeck.Layer`` or :class:`LayerJSON`."""
    return SerialisedDeck(layers, view, tooltip_text, basemap)
