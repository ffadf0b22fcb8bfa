"""What the "My circle" page shows, computed headless: where the resident is, what they reach.

``resolve_location`` turns URL parameters (``lat``/``lng``/``place``/``crs``) into a place, with
bilingual warnings instead of exceptions; ``reach_records`` is the 15-minute isochrone as H3 cells;
``types_table`` and ``missing`` describe the profile. The page only lays these out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
import h3
import numpy as np
import pandas as pd
import pyarrow as pa

from circle import access, geo, maps
from circle.i18n import pick
from circle.taxonomy import circle_by_id

DEFAULT_PLACE = "长青社区"   # the article's example community (凤凰岭街道, 海勃湾区)
REACH_MINUTES = 15.0


@dataclass
class Location:
    lat: float
    lng: float
    label_zh: str
    label_en: str
    place_id: str | None = None
    location_quality: str = "located"
    warnings: list[tuple[str, str]] = field(default_factory=list)   # (zh, en) messages

    def label(self, lang: str) -> str:
        return pick(lang, self.label_zh, self.label_en)


def _hit_location(hit) -> Location:
    street = f" · {hit.street_zh}" if getattr(hit, "street_zh", None) and hit.kind == "community" else ""
    return Location(hit.lat, hit.lng, f"{hit.name_zh}{street}", hit.name_en or hit.name_zh, hit.id,
                    hit.location_quality or "located")


def default_location() -> Location:
    from circle.search import resolve

    hit = resolve(DEFAULT_PLACE)
    if hit is None:  # the gazetteer always has it; fall back to the city hall all the same
        return Location(39.654299, 106.789451, "乌海市人民政府", "Wuhai Municipal Government")
    return _hit_location(hit)


def parse_speed(value, default: float = access.DEFAULT_SPEED_KMH) -> tuple[float, tuple[str, str] | None]:
    """A walking speed from a URL value: a preset name or km/h in 1–10 (else default + warning)."""
    if value is None or value == "":
        return default, None
    text = str(value).strip().lower()
    if text in access.SPEED_PRESETS_KMH:
        return access.SPEED_PRESETS_KMH[text], None
    try:
        speed = float(text)
    except ValueError:
        speed = float("nan")
    if math.isfinite(speed) and 1.0 <= speed <= 10.0:
        return speed, None
    shown = str(value)[:40]
    return default, (f"speed={shown}：步行速度须为 1–10 km/h", f"speed={shown}: walking speed must be 1–10 km/h")


def resolve_location(index, lat=None, lng=None, place=None, crs=None) -> Location:
    """The place to show from URL-style parameters; problems become warnings, never exceptions.

    Order: ``lat``+``lng`` (validated, converted from ``crs``, must be inside Wuhai), then
    ``place`` (searched), then the default place."""
    warnings: list[tuple[str, str]] = []
    if lat not in (None, "") or lng not in (None, ""):
        try:
            crs_name = geo.normalize_crs(crs or "wgs84")
        except (ValueError, TypeError):
            shown = str(crs)[:30]
            warnings.append((f"crs={shown}：坐标系须为 wgs84、gcj02 或 bd09",
                             f"crs={shown}: the coordinate system must be wgs84, gcj02 or bd09"))
            location = default_location()
            location.warnings = warnings
            return location
        try:
            la, ln = geo.validate_latlng(float(str(lat)), float(str(lng)))
            la, ln = geo.to_wgs84(la, ln, crs_name)
            if index.lookup(la, ln).inside:
                return Location(float(la), float(ln), f"{la:.5f}, {ln:.5f}", f"{la:.5f}, {ln:.5f}")
            warnings.append((f"坐标 {la:.4f}, {ln:.4f} 不在乌海市范围内", f"coordinates {la:.4f}, {ln:.4f} are outside Wuhai"))
        except (ValueError, TypeError):
            shown = f"lat={str(lat)[:30]}, lng={str(lng)[:30]}"
            warnings.append((f"{shown}：坐标无效", f"{shown}: not valid coordinates"))
    elif place not in (None, ""):
        from circle.search import resolve

        hit = resolve(str(place)[:100])
        if hit is not None:
            return _hit_location(hit)
        warnings.append((f"找不到地点“{str(place)[:40]}”", f"no place called “{str(place)[:40]}”"))
    location = default_location()
    location.warnings = warnings
    return location


def reach_records(index, lat: float, lng: float, speed_kmh: float, minutes: float = REACH_MINUTES,
                  lang: str = "zh") -> list[dict]:
    """Cells reachable on foot within ``minutes``, as map records: ``hex`` (string), ``minutes``,
    ``fill`` (RGBA), ``label``. Plain records, not a frame: this runs on every page view."""
    pos = int(index.positions_of([lat], [lng])[0])
    if pos < 0:
        return []
    cells, mins = index.reach(pos, minutes, speed_kmh)  # ~50 µs: no cache needed
    fill = maps.colours(mins, 0.0, minutes, reverse=True, alpha=150).tolist()
    unit = pick(lang, "分钟", "min")
    return [{"fill": f, "hex": h, "label": f"{m:.0f} {unit}", "minutes": r}
            for h, m, r, f in zip(index.grid.cell_strings(cells), mins.tolist(), np.round(mins, 1).tolist(), fill)]


def types_table(profile, lang: str = "zh") -> pa.Table:
    """One row per facility type: circle, minutes (text, one decimal; "—" without data, "none
    within 1 h" beyond the search), standard, nearest (name), count within 15 min."""
    from circle.taxonomy import facility_type

    rows = []
    for type_id, acc in profile.types.items():
        ftype = facility_type(type_id)
        status = (pick(lang, "无数据", "no data") if acc.within_threshold is None
                  else pick(lang, "✓ 达标", "✓ yes") if acc.within_threshold else pick(lang, "✗ 未达标", "✗ no"))
        rows.append({
            "type": ftype.name(lang),
            "circle": circle_by_id(ftype.circle).name(lang),
            # Text, so a missing value reads as words rather than "None" in the table.
            "minutes": (f"{acc.minutes:.1f}" if acc.minutes is not None
                        else "—" if acc.within_threshold is None
                        else pick(lang, "1 小时内没有", "none within 1 h")),
            "threshold": acc.threshold_min,
            "ok": status,
            "nearest": pick(lang, acc.nearest_name or "", acc.nearest_name_en or "") or "—",
            "count_15min": acc.count_15min,
            "type_id": type_id,
        })
    # An Arrow table: what st.dataframe sends, without a pandas round trip on every view.
    return pa.Table.from_pylist(rows)


def missing(profile, lang: str = "zh") -> list[str]:
    """Plain sentences for each type beyond its standard walking time, worst first."""
    from circle.taxonomy import facility_type

    items = []
    for type_id in profile.missing:
        acc = profile.types[type_id]
        ftype = facility_type(type_id)
        if acc.minutes is None:
            items.append((math.inf, pick(lang, f"{ftype.name_zh}：步行一小时内没有",
                                         f"{ftype.name_en}: none within an hour's walk")))
        else:
            items.append((acc.minutes - acc.threshold_min, pick(
                lang, f"{ftype.name_zh}：最近的要走 {acc.minutes:.0f} 分钟（标准 {acc.threshold_min} 分钟）",
                f"{ftype.name_en}: the nearest is {acc.minutes:.0f} min away (standard {acc.threshold_min} min)")))
    return [text for _, text in sorted(items, key=lambda item: -item[0])]


def nearest_points(profile, lang: str = "zh") -> list[dict]:
    """The nearest facility of each type that lies within 15 minutes, as map records (lat, lng, label)."""
    from circle.taxonomy import facility_type

    return [{"lat": acc.nearest_lat, "lng": acc.nearest_lng,
             "label": f"{facility_type(type_id).name(lang)} · {pick(lang, acc.nearest_name or '', acc.nearest_name_en or '')}"
                      f" · {acc.minutes:.0f} {pick(lang, '分钟', 'min')}"}
            for type_id, acc in profile.types.items()
            if acc.nearest_lat is not None and acc.minutes is not None and acc.minutes <= REACH_MINUTES]


PICK_FILL = [120, 120, 120, 25]  # faint grey: the city is clickable, the map stays readable


PICK_NEAR_M = 1000.0  # beyond 1 km of every facility nothing is within a 15-minute walk


def pick_grid(index, lang: str = "zh") -> pd.DataFrame:
    """A faint clickable layer of resolution-9 hexes where people live or within 1 km of some
    facility (click → a place). Every view sends it, so each hexagon carries only its id and a
    short hint (the page says how to use the map)."""
    memo_key = ("pick_grid", lang)
    if memo_key not in index.memo:
        near = np.nanmin(index.dist_m, axis=0) <= PICK_NEAR_M
        positions = np.flatnonzero(near | (index.population > 0))
        parents = sorted({h3.cell_to_parent(h, 9) for h in index.grid.cell_strings(positions)})
        hint = pick(lang, "点此查看", "Click here")
        index.memo[memo_key] = pd.DataFrame({"hex": parents, "fill": [PICK_FILL] * len(parents),
                                             "label": hint})
    return index.memo[memo_key]


def pick_layer(index, lang: str = "zh"):
    """The clickable grid as the ``pick`` map layer, encoded once per index and language."""
    from circle import maps

    memo_key = ("pick_layer", lang)
    if memo_key not in index.memo:
        grid = pick_grid(index, lang)[["hex", "label"]]  # one colour for all: not repeated per hexagon
        index.memo[memo_key] = maps.layer_json(maps.hex_layer("pick", grid, fill=PICK_FILL))
    return index.memo[memo_key]


def here_point(location: Location, lang: str = "zh") -> list[dict]:
    """The place itself, as one map record."""
    return [{"lat": location.lat, "lng": location.lng, "label": location.label(lang)}]


def map_layers(index, location: Location, profile, speed_kmh: float, lang: str = "zh") -> list:
    """The My circle map, bottom to top: the clickable grid, the 15-minute reach, borders, river
    and names, the nearest facilities, the place itself. Encoded layers (``LayerJSON``) for
    ``maps.serialised_deck``: the grid and context layers once per index and language, the rest
    from plain records on every view."""
    reach = reach_records(index, location.lat, location.lng, speed_kmh, lang=lang)
    return [pick_layer(index, lang), maps.records_layer_json(maps.hex_layer, "reach", reach),
            *maps.context_layers_json(lang),
            maps.records_layer_json(maps.point_layer, "nearest", nearest_points(profile, lang),
                                    colour=(31, 119, 180, 220), radius_px=4),
            maps.records_layer_json(maps.point_layer, "here", here_point(location, lang), colour=(20, 20, 20, 255),
                                    radius_px=7, pickable=False)]


def clicked_hex(event, layers: tuple[str, ...] = ("reach", "pick")) -> str | None:
    """The H3 id of the hex a map selection event points at (None if nothing usable)."""
    try:
        objects = (event["selection"].get("objects") or {}) if event else {}
    except (KeyError, TypeError, AttributeError):
        return None
    for layer_id in layers:
        for obj in objects.get(layer_id, []) or []:
            hex_id = obj.get("hex") if isinstance(obj, dict) else None
            if hex_id and cell_centre(hex_id):
                return str(hex_id)
    return None


def location_of_hex(hex_id: str) -> Location:
    lat, lng = cell_centre(hex_id)
    label = f"{lat:.5f}, {lng:.5f}"
    return Location(lat, lng, label, label)


def cell_centre(hex_id: str) -> tuple[float, float] | None:
    """Centre of a clicked H3 cell (None if the id is not valid)."""
    try:
        if not h3.is_valid_cell(str(hex_id)):
            return None
        lat, lng = h3.cell_to_latlng(str(hex_id))
        return float(lat), float(lng)
    except (ValueError, TypeError):
        return None
