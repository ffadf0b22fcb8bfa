"""Population-weighted measures of access, by city, district or street.

Definitions (stated once, used everywhere):

* **share within threshold** (per type): residents whose cell reaches the nearest facility of the
  type within the type's threshold (5, 10 or 15 minutes), ÷ all residents of the group;
* **circle covered**: every essential type of the circle is within its threshold;
* **all eight circles**: the share of residents whose cell covers all eight circles;
* **MOFCOM basic complete**: every MOFCOM 基本保障类 format within its threshold;
* **PT** (proximity time, after Sony CSL's 15-minute city): per cell, for each circle the mean
  minutes to the nearest facility of its essential types (capped at 60), averaged over the eight
  circles; **F15** = share of residents whose PT ≤ 15 minutes; **mean PT** is population-weighted;
* **Gini** of PT across residents (0 = everyone equally close, 1 = maximal inequality).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from circle import grid as gridmod
from circle.taxonomy import circles

GROUPINGS = ("city", "district", "street")


def weighted_gini(values: np.ndarray, weights: np.ndarray) -> float:
    """Gini coefficient of ``values`` with population ``weights`` (NaN if nobody is counted)."""
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cum_w = np.cumsum(weights)
    cum_vw = np.cumsum(values * weights)
    total_w, total_vw = cum_w[-1], cum_vw[-1]
    if total_vw == 0:
        return 0.0
    # Area under the Lorenz curve by trapezoids.
    lorenz = cum_vw / total_vw
    prev = np.concatenate([[0.0], lorenz[:-1]])
    area = np.sum((weights / total_w) * (lorenz + prev) / 2.0)
    return float(1.0 - 2.0 * area)


def _share(mask: np.ndarray, pop: np.ndarray) -> float:
    total = pop.sum()
    return float((pop * mask).sum() / total) if total > 0 else float("nan")


def _group_keys(index, by: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Group id per cell and a table describing the groups."""
    if by == "city":
        return np.zeros(index.grid.size, np.int64), pd.DataFrame(
            {"code": ["150300"], "name_zh": ["乌海市"], "name_en": ["Wuhai"], "district_zh": ["乌海市"]})
    if by == "district":
        ds = gridmod.districts()
        return index.grid.district.astype(np.int64), pd.DataFrame(
            {"code": [d.code for d in ds], "name_zh": [d.name_zh for d in ds],
             "name_en": [d.name_en for d in ds], "district_zh": [d.name_zh for d in ds]})
    if by == "street":
        from circle.names import english_name

        st = gridmod.streets()
        dnames = {d.code: d.name_zh for d in gridmod.districts()}
        return index.grid.street.astype(np.int64), pd.DataFrame(
            {"code": st["code"], "name_zh": st["name"], "name_en": [english_name(n) for n in st["name"]],
             "district_zh": [dnames[c] for c in st["district_code"]]})
    raise ValueError(f"分组须为 city、district 或 street / grouping must be city, district or street, got {by!r}")


def memoised(index, key: tuple, compute):
    """``compute()`` once per index and key (every reader's page asks for the same tables); hands out
    copies of frames and lists, so no caller can change what the next one gets."""
    memo = getattr(index, "memo", None)
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    value = memo[key]
    return value.copy() if isinstance(value, (pd.DataFrame, list)) else value

def memoised_arrow(index, key: tuple, frame) -> "pa.Table":
    """``frame()`` as an Arrow table, converted once per index and key. Pages show tables through
    ``st.dataframe``, which sends Arrow: handing it a frame converts it again on every view
    (1–2 ms for a small table, several times that when many readers arrive at once). Arrow
    tables are immutable, so one copy is shared."""
    import pyarrow as pa

    return memoised(index, ("arrow",) + key, lambda: pa.Table.from_pandas(frame(), preserve_index=False))


def summary(index, by: str = "city", speed_kmh: float | None = None) -> pd.DataFrame:
    """One row per group: residents, share covered per circle, all eight, MOFCOM basic, F15, PT, Gini."""
    speed = None if speed_kmh is None else float(speed_kmh)
    return memoised(index, ("summary", by, speed), lambda: _summary(index, by, speed))


def type_coverage(index, by: str = "city", speed_kmh: float | None = None) -> pd.DataFrame:
    """Long table: one row per group and facility type with the share of residents within threshold,
    residents beyond it, and the population-weighted mean minutes (capped at 60)."""
    speed = None if speed_kmh is None else float(speed_kmh)
    return memoised(index, ("type_coverage", by, speed), lambda: _type_coverage(index, by, speed))


def _summary(index, by: str, speed_kmh: float | None) -> pd.DataFrame:
    keys, groups = _group_keys(index, by)
    cells = index.cells_at_speed(speed_kmh)
    pop = cells["population"].to_numpy()
    pt = cells["pt_minutes"].to_numpy()
    rows = []
    for g, info in groups.iterrows():
        sel = keys == g
        p = pop[sel]
        row = {"code": info["code"], "name_zh": info["name_zh"], "name_en": info["name_en"],
               "district_zh": info["district_zh"], "population": int(round(p.sum())),
               "cells_populated": int((p > 0).sum())}
        for c in circles():  # a circle the data set has no data for is NaN, not "not covered"
            row[f"share_{c.id}"] = (_share(cells[f"circle_{c.id}"].to_numpy()[sel], p)
                                    if c.id in index.circles_with_data else float("nan"))
        all_circles = cells["all_circles"].to_numpy()[sel]
        row["share_all_circles"] = _share(all_circles, p)
        row["residents_not_all_circles"] = int(round(p.sum() - (p * all_circles).sum()))
        row["share_basic_complete"] = _share(cells["basic_complete"].to_numpy()[sel], p)
        row["f15"] = _share(pt[sel] <= 15.0, p)
        row["mean_pt_minutes"] = float((pt[sel] * p).sum() / p.sum()) if p.sum() > 0 else float("nan")
        row["gini_pt"] = weighted_gini(pt[sel], p)
        rows.append(row)
    return pd.DataFrame(rows)


def _type_coverage(index, by: str, speed_kmh: float | None) -> pd.DataFrame:
    keys, groups = _group_keys(index, by)
    cells = index.cells_at_speed(speed_kmh)
    pop = cells["population"].to_numpy()
    minutes = index.minutes(speed_kmh)
    rows = []
    for i, ftype in enumerate(index.types):
        within = minutes[i] <= ftype.threshold_min
        capped = np.minimum(minutes[i], 60.0)
        for g, info in groups.iterrows():
            sel = keys == g
            p = pop[sel]
            total = p.sum()
            rows.append({
                "code": info["code"], "name_zh": info["name_zh"], "name_en": info["name_en"],
                "type": ftype.id, "type_zh": ftype.name_zh, "type_en": ftype.name_en, "circle": ftype.circle,
                "mofcom": ftype.mofcom, "threshold_min": ftype.threshold_min, "population": int(round(total)),
                "share_within": float("nan") if bool(index.no_data[i]) else _share(within[sel], p),
                "residents_beyond": None if bool(index.no_data[i]) else int(round(total - (p * within[sel]).sum())),
                "mean_minutes": float((capped[sel] * p).sum() / total) if total > 0 else float("nan"),
                "no_data": bool(index.no_data[i]),
            })
    return pd.DataFrame(rows)


def headline(index, speed_kmh: float | None = None) -> dict[str, float]:
    """The city's key computed numbers, for cards and the briefing."""
    city = summary(index, "city", speed_kmh).iloc[0]
    return {"population": float(city["population"]), "share_all_circles": float(city["share_all_circles"]),
            "f15": float(city["f15"]), "mean_pt_minutes": float(city["mean_pt_minutes"]),
            "gini_pt": float(city["gini_pt"]), "share_basic_complete": float(city["share_basic_complete"]),
            "residents_not_all_circles": float(city["residents_not_all_circles"])}
