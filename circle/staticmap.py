"""Static maps of walking coverage, drawn without a browser (PNG and SVG) for exports and decks.

``render(index, ...)`` returns a :class:`StaticMap`: the H3 cells of the view coloured by a measure
(colour-blind-safe viridis), district boundaries, the Yellow River, district and street names in
Chinese or English, a legend, the title and the source line (data, method, "simulated" where it
is, and the date). ``.png()`` and ``.svg()`` give the bytes; ``.data`` is exactly what is coloured.

Measures (chosen by the filters):

* no circle, no type → **circles covered**: how many of the eight circles each cell covers (0–8);
* ``circle=<id>``     → whether the cell covers that circle (yes / no);
* ``type_id=<id>``    → walking minutes to the nearest facility of that type, in bands.

How it draws: every pixel takes the cell whose centre is nearest (in a hexagonal grid that *is*
the cell holding the pixel), so hexes come out right at any zoom, in well under a second. Cells
where nobody lives are drawn paler. Text uses the CJK font from :mod:`circle.fonts` (no tofu) and
is never interpreted as markup (``parse_math=False``). Nothing here touches the network.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

import numpy as np
import pandas as pd

from circle import grid as gridmod
from circle.i18n import pick
from circle.sources import DISTRICTS, RIVER, read_geojson

VIRIDIS_HEX = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30",
               "#fde725"]
NO_RESIDENT_ALPHA = 0.42
MINUTE_BANDS = (5, 10, 15, 30, 60)          # upper bounds; beyond the last = not reached within an hour
MAX_PIXELS = 900_000
CELL_RADIUS_M = 80.0                          # a little over the H3 res-10 circumradius (~76 m)


@dataclass
class StaticMap:
    """A rendered map: call :meth:`png` / :meth:`svg` for the bytes."""

    title: str
    source_line: str
    data: pd.DataFrame
    measure: str
    legend: list[tuple[str, str]]
    figure: object = field(repr=False)
    simulated: bool = True
    _cache: dict = field(default_factory=dict, repr=False)

    def png(self, dpi: int = 150) -> bytes:
        key = ("png", dpi)
        if key not in self._cache:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="png", dpi=dpi, metadata={"Title": self.title,
                                                                      "Description": self.source_line})
            self._cache[key] = buf.getvalue()
        return self._cache[key]

    def svg(self) -> bytes:
        if "svg" not in self._cache:
            import matplotlib

            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "wuhai-circle"}):
                self.figure.savefig(buf, format="svg", dpi=110,
                                    metadata={"Title": self.title, "Description": self.source_line, "Date": None})
            self._cache["svg"] = buf.getvalue()
        return self._cache["svg"]

    def pdf(self) -> bytes:
        if "pdf" not in self._cache:
            buf = io.BytesIO()
            self.figure.savefig(buf, format="pdf", dpi=150, metadata={"Title": self.title, "Subject": self.source_line})
            self._cache["pdf"] = buf.getvalue()
        return self._cache["pdf"]


# --- reference geometry in local metres ---------------------------------------------------------

@lru_cache(maxsize=1)
def _district_rings() -> list[tuple[str, np.ndarray]]:
    rings = []
    for feature in read_geojson(DISTRICTS)["features"]:
        geom = feature["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                arr = np.asarray(ring, dtype=np.float64)
                x, y = gridmod.to_local_xy(arr[:, 1], arr[:, 0])
                rings.append((str(feature["properties"]["adcode"]), np.column_stack([x, y])))
    return rings


@lru_cache(maxsize=1)
def _river_lines() -> list[np.ndarray]:
    lines = []
    for feature in read_geojson(RIVER)["features"]:
        geom = feature["geometry"]
        parts = geom["coordinates"] if geom["type"] == "MultiLineString" else [geom["coordinates"]]
        for part in parts:
            arr = np.asarray(part, dtype=np.float64)
            x, y = gridmod.to_local_xy(arr[:, 1], arr[:, 0])
            lines.append(np.column_stack([x, y]))
    return lines


@lru_cache(maxsize=1)
def _district_seats() -> dict[str, tuple[float, float]]:
    out = {}
    for feature in read_geojson(DISTRICTS)["features"]:
        lng, lat = feature["properties"]["seat_wgs84"]
        x, y = gridmod.to_local_xy(lat, lng)
        out[str(feature["properties"]["adcode"])] = (float(x), float(y))
    return out


def _tree(index):
    """k-d tree over the cell centres, built once per index."""
    tree = index.memo.get("staticmap_tree")
    if tree is None:
        from scipy.spatial import cKDTree

        tree = cKDTree(np.column_stack([index.grid.x, index.grid.y]))
        index.memo["staticmap_tree"] = tree
    return tree


# --- measures -------------------------------------------------------------------------------

def _measure(index, lang: str, speed_kmh, circle: str | None, type_id: str | None):
    """(class per cell (int, -1 = none), colours per class, legend labels, measure id, value column)."""
    cells = index.cells_at_speed(speed_kmh)
    if type_id:
        from circle.taxonomy import facility_type

        ftype = facility_type(type_id)
        row = index.type_pos[type_id]
        minutes = index.minutes(speed_kmh)[row].astype(np.float64)
        bands = np.searchsorted(np.asarray(MINUTE_BANDS, dtype=np.float64), minutes, side="left")
        bands = np.where(np.isfinite(minutes), bands, len(MINUTE_BANDS))
        colours = [VIRIDIS_HEX[8], VIRIDIS_HEX[6], VIRIDIS_HEX[4], VIRIDIS_HEX[2], VIRIDIS_HEX[1], VIRIDIS_HEX[0]]
        edges = (0,) + MINUTE_BANDS
        labels = [pick(lang, f"{a}–{b} 分钟", f"{a}–{b} min") for a, b in zip(edges[:-1], edges[1:])]
        labels.append(pick(lang, "1小时内不可达", "not within an hour"))
        value = np.where(np.isfinite(minutes), np.round(minutes, 1), np.nan)
        if bool(index.no_data[row]):
            bands[:] = -1
        return bands.astype(np.int64), colours, labels, f"minutes:{type_id}", value, ftype.name(lang)
    if circle:
        from circle.taxonomy import circle_by_id

        c = circle_by_id(circle)
        covered = cells[f"circle_{circle}"].to_numpy().astype(np.int64)
        colours = [VIRIDIS_HEX[1], VIRIDIS_HEX[8]]
        labels = [pick(lang, "未覆盖", "not covered"), pick(lang, "已覆盖", "covered")]
        return covered, colours, labels, f"covered:{circle}", covered.astype(np.float64), c.name(lang)
    count = cells["circles_covered"].to_numpy().astype(np.int64)
    labels = [pick(lang, f"{k} 个圈层", f"{k} circle{'s' if k != 1 else ''}") for k in range(9)]
    return count, list(VIRIDIS_HEX), labels, "circles_covered", count.astype(np.float64), None


def _view_cells(index, district: str | None, street: str | None) -> np.ndarray:
    """Positions of the cells in the view (the whole city, a district or a street)."""
    sel = np.ones(index.grid.size, dtype=bool)
    if district:
        codes = [i for i, d in enumerate(gridmod.districts()) if d.name_zh == district]
        if not codes:
            raise ValueError(f"未知的区：{district} / unknown district: {district}")
        sel &= np.isin(index.grid.district, codes)
    if street:
        names = gridmod.streets()["name"].tolist()
        if street not in names:
            raise ValueError(f"未知的街道：{street} / unknown street: {street}")
        sel &= index.grid.street == names.index(street)
    return np.flatnonzero(sel)


def map_data(index, lang: str = "zh", speed_kmh=None, district=None, street=None, circle=None,
             type_id=None) -> pd.DataFrame:
    """The table behind a map: one row per cell in the view with its district, street, residents
    and the measured value (exactly what the map colours)."""
    positions = _view_cells(index, district, street)
    classes, _, labels, measure, value, _ = _measure(index, lang, speed_kmh, circle, type_id)
    ds = gridmod.districts()
    streets = gridmod.streets()["name"].to_numpy(dtype=object)
    import h3

    from circle.names import english_name

    dist_idx = index.grid.district[positions].astype(int)
    street_idx = index.grid.street[positions].astype(int)
    street_names = streets[street_idx]
    frame = pd.DataFrame({
        "h3": [h3.int_to_str(int(c)) for c in index.grid.cells[positions]],
        "lat": np.round(index.grid.lat[positions], 6), "lng": np.round(index.grid.lng[positions], 6),
        "district": [ds[i].name_zh if lang == "zh" else ds[i].name_en for i in dist_idx],
        "street": street_names if lang == "zh" else [english_name(n) for n in street_names],
        "residents": np.round(index.population[positions], 1),
        "measure": measure,
        "value": value[positions],
        "class": [labels[c] if c >= 0 else pick(lang, "无数据", "no data") for c in classes[positions]],
    })
    return frame


def _extent(index, positions: np.ndarray, pad: float = 0.04) -> tuple[float, float, float, float]:
    x, y = index.grid.x[positions], index.grid.y[positions]
    x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
    px, py = (x1 - x0) * pad + 300, (y1 - y0) * pad + 300
    return x0 - px, x1 + px, y0 - py, y1 + py


def _raster(index, positions: np.ndarray, rgba_per_cell: np.ndarray, extent) -> np.ndarray:
    """An RGBA image of the cells in ``positions``: each pixel takes the nearest cell centre."""
    x0, x1, y0, y1 = extent
    w_m, h_m = x1 - x0, y1 - y0
    pixel = max(math.sqrt(w_m * h_m / MAX_PIXELS), 6.0)
    nx, ny = max(2, int(w_m / pixel)), max(2, int(h_m / pixel))
    xs = x0 + (np.arange(nx) + 0.5) * (w_m / nx)
    ys = y1 - (np.arange(ny) + 0.5) * (h_m / ny)
    gx, gy = np.meshgrid(xs, ys)
    dist, near = _tree(index).query(np.column_stack([gx.ravel(), gy.ravel()]),
                                    distance_upper_bound=CELL_RADIUS_M * gridmod.resolution_scale(index.grid.resolution))
    image = np.zeros((ny * nx, 4), dtype=np.float32)
    ok = np.isfinite(dist)
    inside = np.zeros(index.grid.size, dtype=bool)
    inside[positions] = True
    ok[ok] = inside[near[ok]]
    image[ok] = rgba_per_cell[near[ok]]
    return image.reshape(ny, nx, 4)


def _hex_to_rgb(colour: str) -> tuple[float, float, float]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i:i + 2], 16) / 255.0 for i in (0, 2, 4))


def render(index, lang: str = "zh", speed_kmh: float | None = None, district: str | None = None,
           street: str | None = None, circle: str | None = None, type_id: str | None = None,
           title: str | None = None, source: str | None = None, generated: datetime | None = None,
           width_in: float = 8.0, height_in: float = 9.0) -> StaticMap:
    """Draw the coverage map of the city (or a district / street) and return a :class:`StaticMap`."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from circle.fonts import font_properties as fp

    speed = float(speed_kmh or index.params.speed_kmh)
    positions = _view_cells(index, district, street)
    classes, colours, labels, measure, _, subject = _measure(index, lang, speed_kmh, circle, type_id)
    palette = np.array([_hex_to_rgb(c) + (1.0,) for c in colours] + [(0.78, 0.78, 0.78, 1.0)], dtype=np.float32)
    rgba = palette[np.where(classes >= 0, classes, len(colours))]
    rgba[index.population <= 0, 3] = NO_RESIDENT_ALPHA

    extent = _extent(index, positions)
    image = _raster(index, positions, rgba, extent)
    x0, x1, y0, y1 = extent

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    fig.patch.set_facecolor("white")
    ax = fig.add_axes((0.03, 0.13, 0.68, 0.74))
    ax.imshow(image, extent=(x0, x1, y0, y1), interpolation="nearest", origin="upper", rasterized=True, zorder=1)
    for code, ring in _district_rings():
        ax.plot(ring[:, 0], ring[:, 1], color="#333333", linewidth=0.8, zorder=3)
    for line in _river_lines():
        ax.plot(line[:, 0], line[:, 1], color="#4682c8", linewidth=2.2, alpha=0.85, zorder=2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()

    # Names: districts (whole city) or streets (a district or street view), and the river.
    from circle.names import english_name

    seats = _district_seats()
    if not district and not street:
        for d in gridmod.districts():
            sx, sy = seats[d.code]
            ax.text(sx, sy + 1500, pick(lang, d.name_zh, f"{d.name_en} District"), fontproperties=fp(11, "bold"),
                    ha="center", va="center", color="#111", zorder=5, parse_math=False,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.75))
    else:
        table = gridmod.streets()
        if district:  # only the streets of the district in view
            code = next(d.code for d in gridmod.districts() if d.name_zh == district)
            table = table[table["district_code"].astype(str) == code]
        for row in table.itertuples():
            sx, sy = gridmod.to_local_xy(row.lat, row.lng)
            if not (x0 <= sx <= x1 and y0 <= sy <= y1):
                continue
            ax.text(float(sx), float(sy), pick(lang, row.name, english_name(row.name)), fontproperties=fp(8),
                    ha="center", va="center", color="#111", zorder=5, parse_math=False,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
    river_lines = _river_lines()
    if river_lines:
        pts = np.concatenate(river_lines)
        visible = pts[(pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)]
        if len(visible):
            rx, ry = visible[len(visible) // 2]
            ax.text(rx - 400, ry, pick(lang, "黄河", "Yellow River"), fontproperties=fp(9), color="#2b5d9c",
                    ha="right", va="center", rotation=80, zorder=5, parse_math=False)

    # Scale bar (5 km, or 1 km for small views) and north arrow.
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    bar = 5000.0 if (x1 - x0) > 12000 else 1000.0
    ax.add_artist(AnchoredSizeBar(ax.transData, bar, f"{bar / 1000:g} km", loc="lower right", pad=0.4, sep=4,
                                  frameon=False, size_vertical=(y1 - y0) * 0.004, fontproperties=fp(8)))
    ax.annotate("N", xy=(0.95, 0.97), xytext=(0.95, 0.90), xycoords="axes fraction", ha="center", va="center",
                fontproperties=fp(10, "bold"), arrowprops=dict(arrowstyle="-|>", color="#111", lw=1.2), zorder=6)

    # Legend.
    handles = [Patch(facecolor=c, edgecolor="none", label=label) for c, label in zip(colours, labels)]
    handles.append(Patch(facecolor=colours[-1], alpha=NO_RESIDENT_ALPHA, edgecolor="none",
                         label=pick(lang, "浅色：无居民", "pale: no residents")))
    legend_title = {
        "circles_covered": pick(lang, "覆盖的圈层数", "Circles covered"),
    }.get(measure) or (pick(lang, f"步行到{subject}", f"Walk to {subject}") if type_id else
                       pick(lang, f"{subject}", f"{subject}"))
    leg = fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.72, 0.86), frameon=False,
                     prop=fp(9), title=legend_title, title_fontproperties=fp(10, "bold"))
    leg.set_zorder(7)
    for text in leg.get_texts():
        text.set_parse_math(False)
    leg.get_title().set_parse_math(False)

    # Title, subtitle and source with the date.
    area = None
    if street:
        area = pick(lang, street, english_name(street))
    elif district:
        d = next(d for d in gridmod.districts() if d.name_zh == district)
        area = pick(lang, d.name_zh, d.name_en + " District")
    default_title = {
        "circles_covered": pick(lang, "步行可达：各处覆盖几个圈层", "On foot: how many of the eight circles each place covers"),
    }.get(measure) or (pick(lang, f"步行到最近的{subject}（分钟）", f"Walking minutes to the nearest {subject}") if type_id
                       else pick(lang, f"{subject}覆盖范围", f"Where the {subject} circle is covered"))
    title = title or default_title
    if area and area not in title:
        title = f"{title} · {area}"
    fig.text(0.03, 0.965, title, fontproperties=fp(15, "bold"), ha="left", va="top", parse_math=False, wrap=True)
    subtitle = pick(lang, f"乌海市 · H3 第{index.grid.resolution}级网格（约1.5公顷）· 步行 {speed:g} km/h",
                    f"Wuhai · H3 resolution-{index.grid.resolution} cells (~1.5 ha) · walking {speed:g} km/h")
    fig.text(0.03, 0.915, subtitle, fontproperties=fp(9.5), ha="left", va="top", color="#444", parse_math=False)
    if source is None:
        data = index.describe(lang)
        source = pick(lang, f"数据：{data}；方法：H3网格步行模型，{speed:g} km/h",
                      f"Data: {data}; method: H3 grid walking model, {speed:g} km/h")
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d")
    lines = _wrap(source, 95 if lang == "en" else 52)
    lines.append(pick(lang, f"边界：乌海市行政区划（cnmaps，近似）；黄河为近似河道 · 制图日期 {when}",
                      f"Boundaries: Wuhai districts (cnmaps, approximate); Yellow River approximate · drawn {when}"))
    if index.dataset.simulated:
        lines.insert(0, pick(lang, "注意：设施与居民为模拟数据，不代表真实情况",
                             "Note: facilities and residents are SIMULATED, not the real city"))
    fig.text(0.03, 0.105, "\n".join(lines), fontproperties=fp(8), ha="left", va="top", color="#333",
             parse_math=False, linespacing=1.4)
    return StaticMap(title=title, source_line=source, data=map_data(index, lang, speed_kmh, district, street, circle, type_id),
                     measure=measure, legend=list(zip(labels, colours)), figure=fig,
                     simulated=bool(index.dataset.simulated))


def _wrap(text: str, width: int) -> list[str]:
    """Split a long line at spaces / Chinese punctuation into lines of about ``width`` characters."""
    out, line = [], ""
    for token in _tokens(text):
        if len(line) + len(token) > width and line:
            out.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line:
        out.append(line.rstrip())
    return out


def _tokens(text: str) -> list[str]:
    tokens, current = [], ""
    for ch in text:
        current += ch
        if ch in " ；，、;,":
            tokens.append(current)
            current = ""
    if current:
        tokens.append(current)
    return tokens
