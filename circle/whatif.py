"""What if a facility were added or removed? The change in who is within reach, at once.

An :class:`Edit` adds a facility of a type at a point, or removes an existing facility. ``evaluate``
recomputes only the edited types (one multi-source search and the 15-minute counts per type: tens of
milliseconds on the grid engine) on NEW arrays — the shared index, used by every session, is never
written to — and compares before and after:

* the share of residents within the type's threshold (5, 10 or 15 minutes),
* the share covering the type's circle (all its essential types within threshold),
* the share covering all eight circles,

for the city, each district and each street, weighted by residents exactly as ``circle.metrics``
does. Residents gained (newly within) and lost (newly beyond) are counted cell by cell, so a change
that helps one street and hurts another shows both.

Works on either engine: the grid engine (``circle.access``) or the street network engine
(``index.network``, see ``circle.network``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from circle import access, geo
from circle import index as ix
from circle import metrics
from circle.taxonomy import circles

ADDED_ID_PREFIX = "whatif-"


class WhatIfError(ValueError):
    """A what-if request that cannot be done. ``str()`` is bilingual (Chinese first)."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh, self.en = zh, en


@dataclass(frozen=True)
class Edit:
    """One change: ``add`` a facility of ``type_id`` at (lat, lng), or ``remove`` facility ``row``."""

    action: str                     # "add" | "remove"
    type_id: str
    lat: float | None = None
    lng: float | None = None
    row: int | None = None          # remove: row of index.facilities
    facility_id: str | None = None
    label_zh: str = ""
    label_en: str = ""

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" and self.label_en else self.label_zh


def _type_or_error(index, type_id: str):
    if type_id not in index.type_pos:
        raise WhatIfError(f"未知的设施类型：{str(type_id)[:40]}", f"unknown facility type: {str(type_id)[:40]}")
    return index.types[index.type_pos[type_id]]


def add(index, type_id: str, lat, lng, crs: str = "wgs84") -> Edit:
    """An edit adding a facility of ``type_id`` at a point (validated: inside the city)."""
    ftype = _type_or_error(index, type_id)
    try:
        la, ln = geo.validate_latlng(float(lat), float(lng))
        la, ln = geo.to_wgs84(la, ln, geo.normalize_crs(crs))
    except (TypeError, ValueError):
        raise WhatIfError("坐标无效（纬度 −90…90，经度 −180…180）",
                          "invalid coordinates (latitude −90…90, longitude −180…180)") from None
    la, ln = float(la), float(ln)
    if int(index.positions_of([la], [ln])[0]) < 0:
        raise WhatIfError("该位置不在乌海市范围内", "that point is outside Wuhai")
    return Edit("add", type_id, la, ln, label_zh=f"新增{ftype.name_zh}（{la:.5f}, {ln:.5f}）",
                label_en=f"New {ftype.name_en.lower()} ({la:.5f}, {ln:.5f})")


def remove(index, facility) -> Edit:
    """An edit removing an existing facility, given its id (str) or its row in ``index.facilities``."""
    table = index.facilities
    if isinstance(facility, (int, np.integer)) and not isinstance(facility, bool):
        row = int(facility)
        if not 0 <= row < len(table):
            raise WhatIfError("没有这个设施", "no such facility")
    else:
        hits = np.flatnonzero(table["id"].astype(str).to_numpy() == str(facility))
        if len(hits) == 0:
            raise WhatIfError(f"找不到设施：{str(facility)[:40]}", f"facility not found: {str(facility)[:40]}")
        row = int(hits[0])
    rec = table.iloc[row]
    return Edit("remove", str(rec["type"]), float(rec["lat"]), float(rec["lng"]), row=row,
                facility_id=str(rec["id"]), label_zh=f"移除{rec['name_zh']}",
                label_en=f"Remove {rec['name_en'] or rec['name_zh']}")


def facilities_after(index, type_id: str, edits: list[Edit]) -> pd.DataFrame:
    """The facilities of ``type_id`` once ``edits`` are applied (a new frame; added facilities get
    rows numbered from ``len(index.facilities)`` and ids ``whatif-1``, ``whatif-2``, ...)."""
    table = index.facilities
    removed = {e.row for e in edits if e.action == "remove" and e.type_id == type_id}
    mine = table[(table["type"] == type_id) & ~table.index.isin(list(removed))]
    cols = ["id", "type", "name_zh", "name_en", "lat", "lng", "cell_pos"]
    mine = mine[[c for c in cols if c in mine.columns]]
    adds = [e for e in edits if e.action == "add"]
    rows, records = [], []
    for k, e in enumerate(adds):           # numbered across all types, in edit order
        if e.type_id != type_id:
            continue
        rows.append(len(table) + k)
        records.append({"id": f"{ADDED_ID_PREFIX}{k + 1}", "type": type_id, "name_zh": e.label_zh,
                        "name_en": e.label_en, "lat": e.lat, "lng": e.lng,
                        "cell_pos": int(index.positions_of([e.lat], [e.lng])[0])})
    if records:
        mine = pd.concat([mine, pd.DataFrame(records, index=rows)])
    return mine


def recompute_type(index, facilities: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """dist (N,) float32, nearest (N,) int32 and count (N,) uint16 for one type's facilities, on the
    index's engine, in new arrays."""
    params = index.params
    count_limit = access.metres_from_minutes(ix.COUNT_MINUTES, params.speed_kmh)
    n = index.grid.size
    if getattr(index, "engine", "grid") == "network":
        if len(facilities) == 0:
            return np.full(n, np.inf, np.float32), np.full(n, -1, np.int32), np.zeros(n, np.uint16)
        d, o, c, _ = index.network.type_access(facilities["lat"].to_numpy(), facilities["lng"].to_numpy(),
                                               facilities.index.to_numpy(), params.limit_m, count_limit)
        return d, o, c
    on_grid = facilities[facilities["cell_pos"] >= 0]
    cells = on_grid["cell_pos"].to_numpy()
    grid = index.grid
    d, o = access.nearest(grid.neighbours, grid.edge_m, cells, on_grid.index.to_numpy(),
                          circuity=params.circuity, limit_m=params.limit_m)
    if len(cells):
        c = np.minimum(access.count_within(grid.neighbours, grid.edge_m, cells, count_limit,
                                           circuity=params.circuity), 65535).astype(np.uint16)
    else:
        c = np.zeros(n, np.uint16)
    return d.astype(np.float32), o.astype(np.int32), c


def _within(index, dist_row: np.ndarray, type_pos: int) -> np.ndarray:
    """Within the type's threshold, exactly as ``CityIndex._coverage`` decides it."""
    minutes = dist_row / access.metres_per_minute(index.params.speed_kmh)
    return minutes <= index.thresholds[type_pos]


def circle_rows(index, circle_id: str) -> list[int]:
    """The type rows that decide a circle (its essential types with data; all of them if none has)."""
    rows = [index.type_pos[t.id] for t in index.types if t.circle == circle_id and t.essential]
    return [r for r in rows if not index.no_data[r]] or rows


@dataclass
class WhatIf:
    """Before and after for a set of edits."""

    edits: list[Edit]
    types: list[str]                               # the edited types
    after: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]   # type → (dist, nearest, count)
    facilities: dict[str, pd.DataFrame]            # type → its facilities after the edits
    table: pd.DataFrame                            # tidy: level, group, measure, before, after, ...
    within_before: dict[str, np.ndarray]           # measure → (N,) bool
    within_after: dict[str, np.ndarray]
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def city(self, measure: str) -> pd.Series:
        t = self.table
        return t[(t["level"] == "city") & (t["measure"] == measure)].iloc[0]

    def gained(self, measure: str) -> int:
        return int(self.city(measure)["residents_gained"])

    def lost(self, measure: str) -> int:
        return int(self.city(measure)["residents_lost"])

    def changed_cells(self, measure: str) -> tuple[np.ndarray, np.ndarray]:
        """Cell positions newly within and newly beyond for a measure."""
        b, a = self.within_before[measure], self.within_after[measure]
        return np.flatnonzero(a & ~b), np.flatnonzero(b & ~a)


def evaluate(index, edits: list[Edit]) -> WhatIf:
    """Apply ``edits`` to copies of the edited types' rows and compare with the shared index."""
    t0 = time.perf_counter()
    edits = list(edits)
    for e in edits:
        _type_or_error(index, e.type_id)
    types = list(dict.fromkeys(e.type_id for e in edits))
    after: dict[str, tuple] = {}
    facilities: dict[str, pd.DataFrame] = {}
    warnings: list[tuple[str, str]] = []
    timings: dict[str, float] = {}
    for type_id in types:
        t = time.perf_counter()
        fac = facilities_after(index, type_id, edits)
        facilities[type_id] = fac
        after[type_id] = recompute_type(index, fac)
        timings[f"recompute_{type_id}_s"] = time.perf_counter() - t
    warnings += _warnings(index, edits)

    # Measures: each edited type, each circle that contains one, and all eight circles.
    cells = index.cells_at_speed()
    within_before: dict[str, np.ndarray] = {}
    within_after: dict[str, np.ndarray] = {}
    for type_id in types:
        p = index.type_pos[type_id]
        within_before[f"type:{type_id}"] = _within(index, index.dist_m[p], p)
        within_after[f"type:{type_id}"] = _within(index, after[type_id][0], p)
    touched_circles = list(dict.fromkeys(index.types[index.type_pos[t]].circle for t in types))
    covered_after_count = cells["circles_covered"].to_numpy().astype(np.int16).copy()
    for cid in touched_circles:
        rows = circle_rows(index, cid)
        before = cells[f"circle_{cid}"].to_numpy()
        now = np.ones(index.grid.size, bool)
        for r in rows:
            tid = index.type_ids[r]
            row = after[tid][0] if tid in after else index.dist_m[r]
            now &= _within(index, row, r)
        within_before[f"circle:{cid}"] = before
        within_after[f"circle:{cid}"] = now
        covered_after_count += now.astype(np.int16) - before.astype(np.int16)
    n_circles = len(circles())
    within_before["all_circles"] = cells["circles_covered"].to_numpy() == n_circles
    within_after["all_circles"] = covered_after_count == n_circles
    table = _tidy(index, within_before, within_after)
    timings["total_s"] = time.perf_counter() - t0
    return WhatIf(edits, types, after, facilities, table, within_before, within_after, timings, warnings)


def _warnings(index, edits: list[Edit]) -> list[tuple[str, str]]:
    out = []
    for e in edits:
        if e.action != "add":
            continue
        if getattr(index, "engine", "grid") == "network":
            node, leg = index.network.snap_points([e.lat], [e.lng])
            if node[0] < 0:
                m = index.network.params.max_snap_m
                out.append((f"{e.label_zh}：距最近道路超过 {m:g} 米，步行到不了，不计入",
                            f"{e.label_en}: more than {m:g} m from any street, so no one can walk to it"))
        else:
            pos = int(index.positions_of([e.lat], [e.lng])[0])
            if pos >= 0 and not bool(index.grid.passable[pos]):
                out.append((f"{e.label_zh}：位于黄河河道带内，步行到不了",
                            f"{e.label_en}: in the Yellow River band, not reachable on foot"))
    return out


MEASURE_ORDER = ("type", "circle", "all_circles")


def _tidy(index, before: dict[str, np.ndarray], after: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per (level, group, measure), population-weighted like ``circle.metrics``."""
    people = np.flatnonzero(index.population > 0)   # only cells with residents weigh anything
    pop = index.population[people]
    frames = []
    for level in metrics.GROUPINGS:
        keys, groups = metrics._group_keys(index, level)
        keys = keys[people]
        n_groups = len(groups)
        total = np.bincount(keys, weights=pop, minlength=n_groups)
        for measure in before:
            b, a = before[measure][people], after[measure][people]
            rb = np.bincount(keys, weights=pop * b, minlength=n_groups)
            ra = np.bincount(keys, weights=pop * a, minlength=n_groups)
            gained = np.bincount(keys, weights=pop * (a & ~b), minlength=n_groups)
            lost = np.bincount(keys, weights=pop * (b & ~a), minlength=n_groups)
            with np.errstate(invalid="ignore", divide="ignore"):
                sb = np.where(total > 0, rb / total, np.nan)
                sa = np.where(total > 0, ra / total, np.nan)
            frames.append(pd.DataFrame({
                "level": level, "code": groups["code"].to_numpy(), "name_zh": groups["name_zh"].to_numpy(),
                "name_en": groups["name_en"].to_numpy(), "measure": measure,
                "population": np.round(total).astype(np.int64),
                "share_before": sb, "share_after": sa, "share_change": sa - sb,
                "residents_before": np.round(rb).astype(np.int64), "residents_after": np.round(ra).astype(np.int64),
                "residents_gained": np.round(gained).astype(np.int64), "residents_lost": np.round(lost).astype(np.int64),
            }))
    return pd.concat(frames, ignore_index=True)


def measure_label(measure: str, lang: str = "zh") -> str:
    """'type:park' → '公园 / Park', 'circle:health' → the circle's name, 'all_circles' → 八圈全覆盖."""
    from circle.taxonomy import circle_by_id, facility_types

    kind, _, ident = measure.partition(":")
    if kind == "type":
        ft = {t.id: t for t in facility_types()}[ident]
        return ft.name(lang)
    if kind == "circle":
        return circle_by_id(ident).name(lang)
    return "八圈全覆盖" if lang != "en" else "All eight circles"


def summary_rows(result: WhatIf, level: str = "city") -> pd.DataFrame:
    """The rows of one level (city / district / street) in a fixed measure order."""
    t = result.table[result.table["level"] == level].copy()
    t["_order"] = t["measure"].map(lambda m: MEASURE_ORDER.index(m.partition(":")[0]))
    return t.sort_values(["_order", "measure", "code"]).drop(columns="_order").reset_index(drop=True)


def nearest_facilities(index, type_id: str, edits: list[Edit], lat: float, lng: float, limit: int = 5
                       ) -> pd.DataFrame:
    """The facilities of a type (after edits) nearest to a point in a straight line (for the
    'remove' list and for resolving a map click on a facility)."""
    fac = facilities_after(index, type_id, edits)
    if len(fac) == 0:
        return fac.assign(metres=pd.Series(dtype=float))
    d = geo.haversine_m(lat, lng, fac["lat"].to_numpy(), fac["lng"].to_numpy())
    return fac.assign(metres=np.asarray(d)).nsmallest(limit, "metres")


def edit_from_click(index, type_id: str, mode: str, selection: dict | None, edits: list[Edit]) -> Edit | None:
    """A map click (a pydeck selection dict) → the edit it asks for, or ``None``.

    ``mode == "add"``: a clicked hexagon (layer objects with a ``hex``) adds a facility at its centre.
    ``mode == "remove"``: a clicked facility point (objects with a ``row``) removes that facility.
    """
    objects = ((selection or {}).get("objects") or {}) if isinstance(selection, dict) else {}
    if mode == "remove":
        for obj in objects.get("facilities", []):
            row = obj.get("row")
            if row is None:
                continue
            row = int(row)
            if row < len(index.facilities):
                return remove(index, row)
            # an added (not yet shared) facility: undo that add
            return Edit("undo_add", type_id, obj.get("lat"), obj.get("lng"), row=row)
        return None
    import h3

    for layer in ("pick", "cells", "changes"):
        for obj in objects.get(layer, []):
            hex_id = str(obj.get("hex") or "")
            try:
                if not h3.is_valid_cell(hex_id):
                    continue
                lat, lng = h3.cell_to_latlng(hex_id)
            except (ValueError, TypeError):
                continue
            return add(index, type_id, lat, lng)
    return None


def apply_click(edits: list[Edit], edit: Edit | None, index) -> list[Edit]:
    """The edit list after a click's edit (an ``undo_add`` drops that added facility)."""
    if edit is None:
        return list(edits)
    if edit.action == "undo_add":
        adds = [i for i, e in enumerate(edits) if e.action == "add"]
        k = int(edit.row) - len(index.facilities)
        if 0 <= k < len(adds):
            return [e for i, e in enumerate(edits) if i != adds[k]]
        return list(edits)
    if edit.action == "remove" and any(e.action == "remove" and e.row == edit.row for e in edits):
        return list(edits)
    return list(edits) + [edit]


def fmt_share(value: float) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value * 100:.1f}%"
