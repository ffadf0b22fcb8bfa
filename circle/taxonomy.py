"""The facility taxonomy: facility types and the eight circles (八位一体).

One home for the concept: ``data/taxonomy/facility_types.csv`` and ``circles.csv``, editable by
non-programmers. This module reads them, checks them, and answers questions about them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from circle.sources import TAXONOMY_DIR, read_csv

ALLOWED_THRESHOLDS = (5, 10, 15)
ALLOWED_MOFCOM = ("basic", "quality", "none")


@dataclass(frozen=True)
class FacilityType:
    id: str
    circle: str
    name_zh: str
    name_en: str
    mofcom: str
    threshold_min: int
    essential: bool
    threshold_basis: str
    osm_tags: tuple[str, ...]
    amap_typecodes: tuple[str, ...]
    name_keywords_zh: tuple[str, ...]
    published_figure_id: str | None

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Circle:
    id: str
    order: int
    name_zh: str
    name_en: str
    short_zh: str
    short_en: str
    description_zh: str
    description_en: str

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


def _split(cell) -> tuple[str, ...]:
    if not isinstance(cell, str) or not cell.strip():
        return ()
    return tuple(part.strip() for part in cell.split(";") if part.strip())


@lru_cache(maxsize=1)
def circles() -> tuple[Circle, ...]:
    """The eight circles in their official order."""
    table = read_csv(TAXONOMY_DIR / "circles.csv").sort_values("order")
    return tuple(Circle(**{k: (int(v) if k == "order" else str(v)) for k, v in row.items()})
                 for row in table.to_dict("records"))


@lru_cache(maxsize=1)
def facility_types() -> tuple[FacilityType, ...]:
    """All facility types, in file order, validated."""
    table = read_csv(TAXONOMY_DIR / "facility_types.csv", dtype=str, keep_default_na=False)
    circle_ids = {c.id for c in circles()}
    out = []
    for row in table.to_dict("records"):
        ftype = FacilityType(
            id=row["id"].strip(),
            circle=row["circle"].strip(),
            name_zh=row["name_zh"].strip(),
            name_en=row["name_en"].strip(),
            mofcom=row["mofcom"].strip(),
            threshold_min=int(row["threshold_min"]),
            essential=row["essential"].strip().lower() == "yes",
            threshold_basis=row["threshold_basis"].strip(),
            osm_tags=_split(row["osm_tags"]),
            amap_typecodes=_split(row["amap_typecodes"]),
            name_keywords_zh=_split(row["name_keywords_zh"]),
            published_figure_id=row["published_figure_id"].strip() or None,
        )
        if ftype.circle not in circle_ids:
            raise ValueError(f"facility type {ftype.id}: unknown circle {ftype.circle!r}")
        if ftype.threshold_min not in ALLOWED_THRESHOLDS:
            raise ValueError(f"facility type {ftype.id}: threshold must be one of {ALLOWED_THRESHOLDS}")
        if ftype.mofcom not in ALLOWED_MOFCOM:
            raise ValueError(f"facility type {ftype.id}: mofcom must be one of {ALLOWED_MOFCOM}")
        out.append(ftype)
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        raise ValueError("facility type ids must be unique")
    return tuple(out)


def type_ids() -> tuple[str, ...]:
    return tuple(t.id for t in facility_types())


@lru_cache(maxsize=None)
def facility_type(type_id: str) -> FacilityType:
    for t in facility_types():
        if t.id == type_id:
            return t
    raise KeyError(f"未知设施类型 {type_id!r} / unknown facility type {type_id!r}")


def circle_by_id(circle_id: str) -> Circle:
    for c in circles():
        if c.id == circle_id:
            return c
    raise KeyError(f"未知圈层 {circle_id!r} / unknown circle {circle_id!r}")


def types_in_circle(circle_id: str) -> tuple[FacilityType, ...]:
    return tuple(t for t in facility_types() if t.circle == circle_id)


def essential_types(circle_id: str) -> tuple[FacilityType, ...]:
    """The types that must all be within their threshold for the circle to count as covered."""
    return tuple(t for t in types_in_circle(circle_id) if t.essential)


def mofcom_basic_types() -> tuple[FacilityType, ...]:
    """MOFCOM 基本保障类业态: all must be within threshold for 'basic formats complete'."""
    return tuple(t for t in facility_types() if t.mofcom == "basic")
