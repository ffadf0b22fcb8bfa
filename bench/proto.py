"""Prototypes of suggested engine changes — NOT the engine, never counted as its PASS.

They live here so the suggestions in ``bench/README.md`` come with measured figures and an equality
check against the engine's own output, without touching ``circle/``. Each reads only what a
``CityIndex`` already holds (its public attributes and methods).

* :class:`ProtoLookupMany` — ``lookup_many`` with the same columns and values, built the cheap way.
* :class:`ProtoLookup` — ``lookup`` building every per-type record eagerly from per-index lists, and
  ``minutes_at(lat, lng)``, the lean fast path (one H3 call, one dict look-up, one row of minutes).
* :func:`h3_positions` — the ground truth for point → cell: ``h3.latlng_to_cell`` point by point.
"""
from __future__ import annotations

import math

import numpy as np


def h3_positions(index, lat, lng) -> np.ndarray:
    """``h3.latlng_to_cell`` for every point (integer API), then the grid position (-1 outside)."""
    from h3.api import basic_int as h3i

    res = index.grid.resolution
    ids = np.fromiter((h3i.latlng_to_cell(a, b, res) for a, b in zip(np.asarray(lat).tolist(), np.asarray(lng).tolist())),
                      dtype=np.uint64, count=len(lat))
    return index.grid.position_of(ids)


class ProtoLookupMany:
    """``lookup_many`` with the same columns and values: positions from ``index.positions_of``; cell,
    district and street as categoricals (categories made once per index, so no per-row string
    work: the engine maps every row through ``h3.int_to_str``); the minutes gathered type by type
    from a (T, N + 1) float32 table whose last column is NaN ("outside"), into one (T, M) block that
    becomes the DataFrame without a copy."""

    def __init__(self, index):
        import pandas as pd

        from circle import grid as gridmod

        self.index = index
        self.cell = pd.CategoricalDtype(index.grid.cell_strings())
        self.district = pd.CategoricalDtype([d.name_zh for d in gridmod.districts()])
        self.street = pd.CategoricalDtype(list(gridmod.streets()["name"]))
        table = index.cells_at_speed()
        self.circles = np.append(table["circles_covered"].to_numpy().astype(np.int8), np.int8(0))
        self.pt = np.append(table["pt_minutes"].to_numpy().astype(np.float32), np.float32(np.nan))
        m = index.minutes().astype(np.float32)
        m[~np.isfinite(m)] = np.nan
        self.minutes = np.ascontiguousarray(np.hstack([m, np.full((m.shape[0], 1), np.nan, np.float32)]))
        self.columns = [f"minutes_{t}" for t in index.type_ids]

    @property
    def nbytes(self) -> int:
        return self.minutes.nbytes

    def __call__(self, lats, lngs):
        import pandas as pd

        grid = self.index.grid
        pos = self.index.positions_of(lats, lngs)
        inside = pos >= 0
        safe = np.where(inside, pos, grid.size)      # the NaN column
        clipped = np.where(inside, pos, 0)
        head = pd.DataFrame({
            "inside": inside,
            "cell": pd.Categorical.from_codes(np.where(inside, pos, -1), dtype=self.cell),
            "district": pd.Categorical.from_codes(np.where(inside, grid.district[clipped], -1), dtype=self.district),
            "street": pd.Categorical.from_codes(np.where(inside, grid.street[clipped], -1), dtype=self.street),
            "circles_covered": self.circles[safe],
            "pt_minutes": self.pt[safe],
        })
        block = np.empty((len(self.columns), len(pos)), np.float32)
        for i in range(len(self.columns)):
            np.take(self.minutes[i], safe, out=block[i])
        minutes = pd.DataFrame(block.T, columns=self.columns, copy=False)
        return pd.concat([head, minutes], axis=1)


class ProtoLookup:
    """``lookup(lat, lng)`` at the index speed, returning the same ``Profile`` with all its per-type
    records built eagerly, from what does not depend on the point prepared once per index: facility
    columns as Python lists, cell-major (N, T) minutes / nearest / counts rows read with one
    ``tolist()`` each, the per-cell coverage table, the H3 integer API and a dict id → position.

    ``minutes_at(lat, lng)`` is the lean fast path: a (T,) float32 row of minutes, or None outside."""

    def __init__(self, index):
        from h3.api import basic_int as h3i

        from circle import grid as gridmod

        self.index = index
        self._h3 = h3i.latlng_to_cell
        self._int_to_str = h3i.int_to_str
        grid = index.grid
        self.res = grid.resolution
        self.pos_of = {c: i for i, c in enumerate(grid.cells.tolist())}
        fac = index.facilities
        self.f_id = [str(v) for v in fac["id"].tolist()]
        self.f_zh = [str(v) for v in fac["name_zh"].tolist()]
        self.f_en = [str(v) for v in fac["name_en"].tolist()]
        self.f_lat = [float(v) for v in fac["lat"].tolist()]
        self.f_lng = [float(v) for v in fac["lng"].tolist()]
        self.minutes = np.ascontiguousarray(index.minutes().T)          # (N, T) float32
        self.nearest = np.ascontiguousarray(index.nearest.T)            # (N, T) int32
        self.count = np.ascontiguousarray(index.count15.T)              # (N, T) uint16
        self.meta = [(t.id, t.threshold_min, bool(nd)) for t, nd in zip(index.types, index.no_data.tolist())]
        table = index.cells_at_speed()
        self.circle_ids = [c[len("circle_"):] for c in table.columns if c.startswith("circle_")]
        with_data = getattr(index, "circles_with_data", tuple(self.circle_ids))
        self.has_data = [cid in with_data for cid in self.circle_ids]
        self.circle_flags = table[[f"circle_{c}" for c in self.circle_ids]].to_numpy()
        self.covered = table["circles_covered"].to_numpy()
        self.pt = table["pt_minutes"].to_numpy()
        self.basic = table["basic_complete"].to_numpy()
        self.district_zh = [d.name_zh for d in gridmod.districts()]
        self.district_en = [d.name_en for d in gridmod.districts()]
        self.street = [str(s) for s in gridmod.streets()["name"].tolist()]
        self.speed = float(index.params.speed_kmh)

    @property
    def nbytes(self) -> int:
        return self.minutes.nbytes + self.nearest.nbytes + self.count.nbytes

    def _pos(self, lat: float, lng: float) -> int:
        if not (math.isfinite(lat) and math.isfinite(lng) and -90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
            raise ValueError(f"bad coordinates {lat!r}, {lng!r}")
        return self.pos_of.get(self._h3(lat, lng, self.res), -1)

    def minutes_at(self, lat: float, lng: float):
        pos = self._pos(lat, lng)
        return None if pos < 0 else self.minutes[pos]

    def lookup(self, lat: float, lng: float):
        from circle.index import Profile, TypeAccess

        lat, lng = float(lat), float(lng)
        pos = self._pos(lat, lng)
        if pos < 0:
            return Profile(inside=False, lat=lat, lng=lng, speed_kmh=self.speed)
        minutes = self.minutes[pos].tolist()
        nearest = self.nearest[pos].tolist()
        counts = self.count[pos].tolist()
        types, missing = {}, []
        f_id, f_zh, f_en, f_lat, f_lng = self.f_id, self.f_zh, self.f_en, self.f_lat, self.f_lng
        for (type_id, threshold, no_data), m, near, cnt in zip(self.meta, minutes, nearest, counts):
            m = m if m != math.inf else None
            within = None if no_data else (m is not None and m <= threshold)
            if within is False:
                missing.append(type_id)
            if near >= 0:
                types[type_id] = TypeAccess(None if m is None else round(m, 2), f_id[near], f_zh[near], f_en[near],
                                            f_lat[near], f_lng[near], cnt, threshold, within)
            else:
                types[type_id] = TypeAccess(None if m is None else round(m, 2), None, None, None, None, None,
                                            cnt, threshold, within)
        grid = self.index.grid
        d = int(grid.district[pos])
        flags = self.circle_flags[pos].tolist()
        circles = {cid: (flag if has else None) for cid, flag, has in zip(self.circle_ids, flags, self.has_data)}
        pt = float(self.pt[pos])
        return Profile(
            inside=True, lat=lat, lng=lng, speed_kmh=self.speed, cell=self._int_to_str(int(grid.cells[pos])),
            district=self.district_zh[d], district_en=self.district_en[d], street=self.street[int(grid.street[pos])],
            population_in_cell=int(round(self.index.population[pos])), types=types, circles=circles,
            circles_covered=int(self.covered[pos]), pt_minutes=round(pt, 2) if math.isfinite(pt) else None,
            basic_complete=bool(self.basic[pos]), missing=missing)

    def lookup_lazy(self, lat: float, lng: float):
        """Like the engine's ``lookup`` (per-type records built lazily by its ``TypesView``), with the
        per-call numpy work replaced: one contiguous (T,) row per array instead of strided columns
        and a division, ``missing`` and the circle flags from Python lists of that row."""
        from circle.index import Profile, TypesView

        lat, lng = float(lat), float(lng)
        pos = self._pos(lat, lng)
        if pos < 0:
            return Profile(inside=False, lat=lat, lng=lng, speed_kmh=self.speed)
        row = self.minutes[pos]
        missing = [type_id for (type_id, threshold, no_data), m in zip(self.meta, row.tolist())
                   if not no_data and not m <= threshold]
        flags = self.circle_flags[pos].tolist()
        circles = {cid: (flag if has else None) for cid, flag, has in zip(self.circle_ids, flags, self.has_data)}
        grid = self.index.grid
        d = int(grid.district[pos])
        pt = float(self.pt[pos])
        return Profile(
            inside=True, lat=lat, lng=lng, speed_kmh=self.speed, cell=self._int_to_str(int(grid.cells[pos])),
            district=self.district_zh[d], district_en=self.district_en[d], street=self.street[int(grid.street[pos])],
            population_in_cell=int(round(self.index.population[pos])),
            types=TypesView(self.index, pos, row, self.count[pos]), circles=circles,
            circles_covered=int(self.covered[pos]), pt_minutes=round(pt, 2) if math.isfinite(pt) else None,
            basic_complete=bool(self.basic[pos]), missing=missing)
