"""Prototypes of suggested engine changes — NOT the engine, never counted as its PASS.

They live here so the suggestions in ``bench/README.md`` come with measured figures and an equality
check, without touching ``circle/``. Each reads only what a ``CityIndex`` already holds.

``ProtoLocator`` — exact point → cell position, vectorised:

1. *Affine metric correction.* H3 hexagons are regular in H3's gnomonic face projection, not in
   our local equirectangular plane: at Wuhai the neighbour offsets are ~7% anisotropic there,
   so "nearest centre" differs from H3 for ~2% of points, and a 3 m ambiguity margin misses
   some of them (gaps up to ~6.4 m). A 2×2 metric fitted by least squares to the grid's own
   neighbour offsets (all edges ≈ equal length) removes that: the remaining disagreements have
   gaps < 0.3 m, well inside the 3 m margin.
2. *Bucket table instead of a k-d tree.* Square buckets (80 m) in the corrected plane, each
   listing every centre within 90 + 3 m + half a bucket diagonal of the bucket centre, so the
   nearest centre (when ≤ 90 m) and any runner-up within 3 m of it are always among the
   candidates. A point's answer is then a few vectorised numpy operations.
3. Points more than 90 m from every centre are outside the city (every point of a city cell is
   within ~75 m of its centre): -1 without asking H3. Points with a runner-up within 3 m, or
   whose nearest cell lies on the city edge, are asked of H3 (integer API, no string round trip).
"""
from __future__ import annotations

import math

import numpy as np

FAR_M = 90.0


def fit_metric(grid) -> np.ndarray:
    """2×2 matrix S such that S @ (dx, dy) makes every neighbour offset about the same length."""
    ok = grid.neighbours >= 0
    rows = np.repeat(np.arange(grid.size), grid.neighbours.shape[1]).reshape(grid.neighbours.shape)[ok]
    cols = grid.neighbours[ok]
    dx = grid.x[cols] - grid.x[rows]
    dy = grid.y[cols] - grid.y[rows]
    m, *_ = np.linalg.lstsq(np.column_stack([dx * dx, 2 * dx * dy, dy * dy]), np.ones(len(dx)), rcond=None)
    metric = np.array([[m[0], m[1]], [m[1], m[2]]])
    w, v = np.linalg.eigh(metric)
    s = v @ np.diag(np.sqrt(w)) @ v.T
    mean_len = np.mean(np.hypot(dx, dy))
    return s * mean_len  # keep units ≈ metres


class ProtoLocator:
    def __init__(self, index, bucket_m: float = 80.0, ambiguity_m: float | None = None):
        from h3.api import basic_int as h3i

        from circle.index import AMBIGUITY_M

        grid = index.grid
        self.res = grid.resolution
        self.amb = AMBIGUITY_M if ambiguity_m is None else ambiguity_m
        self.S = fit_metric(grid)
        self.cx, self.cy = self._transform(grid.x, grid.y)
        self.edge = np.asarray(index._edge_cell)
        self.cells = grid.cells
        self._h3 = h3i.latlng_to_cell
        self.b = float(bucket_m)
        reach = FAR_M + self.amb + self.b * np.sqrt(0.5)
        pad = reach + self.b
        self.x0, self.y0 = self.cx.min() - pad, self.cy.min() - pad
        self.nx = int(np.ceil((self.cx.max() + pad - self.x0) / self.b))
        self.ny = int(np.ceil((self.cy.max() + pad - self.y0) / self.b))
        # every (cell, bucket) pair with the bucket centre within ``reach`` of the cell centre
        bi0 = np.floor((self.cx - self.x0) / self.b).astype(np.int64)
        bj0 = np.floor((self.cy - self.y0) / self.b).astype(np.int64)
        w = int(np.ceil(reach / self.b)) + 1
        pairs_b, pairs_c = [], []
        cell_ids = np.arange(grid.size)
        for di in range(-w, w + 1):
            for dj in range(-w, w + 1):
                bi, bj = bi0 + di, bj0 + dj
                bxc = self.x0 + (bi + 0.5) * self.b
                byc = self.y0 + (bj + 0.5) * self.b
                keep = np.hypot(bxc - self.cx, byc - self.cy) <= reach
                pairs_b.append(bi[keep] * self.ny + bj[keep])
                pairs_c.append(cell_ids[keep])
        pb = np.concatenate(pairs_b)
        pc = np.concatenate(pairs_c)
        order = np.argsort(pb, kind="stable")
        pb, pc = pb[order], pc[order]
        buckets, start, counts = np.unique(pb, return_index=True, return_counts=True)
        self.k = int(counts.max())
        table = np.full((len(buckets), self.k), -1, np.int32)
        slot = np.arange(len(pb)) - np.repeat(start, counts)
        table[np.repeat(np.arange(len(buckets)), counts), slot] = pc
        self.table = table
        self.bucket_row = np.full(self.nx * self.ny, -1, np.int32)
        self.bucket_row[buckets] = np.arange(len(buckets), dtype=np.int32)
        # sentinel centre far away for padding slots
        self.cxp = np.append(self.cx, 1e12)
        self.cyp = np.append(self.cy, 1e12)
        self.table[self.table < 0] = grid.size

    @property
    def nbytes(self) -> int:
        return self.table.nbytes + self.bucket_row.nbytes + self.cxp.nbytes + self.cyp.nbytes

    def _transform(self, x, y):
        s = self.S
        return s[0, 0] * x + s[0, 1] * y, s[1, 0] * x + s[1, 1] * y

    def positions(self, lat, lng, chunk: int = 262_144) -> np.ndarray:
        from circle import grid as gridmod

        lat = np.asarray(lat, dtype=np.float64).ravel()
        lng = np.asarray(lng, dtype=np.float64).ravel()
        out = np.full(len(lat), -1, np.int64)
        for a in range(0, len(lat), chunk):
            sl = slice(a, a + chunk)
            px, py = self._transform(*gridmod.to_local_xy(lat[sl], lng[sl]))
            bi = np.floor((px - self.x0) / self.b).astype(np.int64)
            bj = np.floor((py - self.y0) / self.b).astype(np.int64)
            ok = (bi >= 0) & (bi < self.nx) & (bj >= 0) & (bj < self.ny)
            row = np.full(len(px), -1, np.int64)
            row[ok] = self.bucket_row[bi[ok] * self.ny + bj[ok]]
            has = np.flatnonzero(row >= 0)
            if len(has) == 0:
                continue
            cand = self.table[row[has]]                                  # (M, K)
            d2 = (self.cxp[cand] - px[has, None]) ** 2 + (self.cyp[cand] - py[has, None]) ** 2
            two = np.partition(d2, 1, axis=1)[:, :2] if self.k > 1 else np.column_stack([d2[:, 0], np.full(len(d2), np.inf)])
            best = cand[np.arange(len(has)), d2.argmin(axis=1)]
            d0, d1 = np.sqrt(two[:, 0]), np.sqrt(two[:, 1])
            near = d0 <= FAR_M
            res = np.where(near, best, -1).astype(np.int64)
            unsure = near & ((d1 - d0 < self.amb) | self.edge[np.where(near, best, 0)])
            if unsure.any():
                res[unsure] = self._exact(lat[sl][has[unsure]], lng[sl][has[unsure]])
            out[a + has] = res
        return out

    def _exact(self, lat, lng) -> np.ndarray:
        h3, res = self._h3, self.res
        ids = np.fromiter((h3(a, b, res) for a, b in zip(lat.tolist(), lng.tolist())), dtype=np.uint64, count=len(lat))
        pos = np.clip(np.searchsorted(self.cells, ids), 0, len(self.cells) - 1)
        return np.where(self.cells[pos] == ids, pos, -1).astype(np.int64)


def h3_positions(index, lat, lng) -> np.ndarray:
    """The ground truth: ``h3.latlng_to_cell`` for every point (integer API), then the grid position."""
    from h3.api import basic_int as h3i

    res = index.grid.resolution
    ids = np.fromiter((h3i.latlng_to_cell(a, b, res) for a, b in zip(np.asarray(lat).tolist(), np.asarray(lng).tolist())),
                      dtype=np.uint64, count=len(lat))
    return index.grid.position_of(ids)


class ProtoLookupMany:
    """``lookup_many`` with the same columns and values, built the cheap way: ProtoLocator positions;
    cell, district and street as categoricals (their categories made once per index); the minutes
    gathered type by type from a (T, N + 1) float32 table with a NaN column for "outside", into one
    (T, M) block that becomes the DataFrame without a copy."""

    def __init__(self, index, locator: ProtoLocator):
        import pandas as pd

        from circle import grid as gridmod

        self.index = index
        self.locator = locator
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

    def __call__(self, lats, lngs):
        import pandas as pd

        grid = self.index.grid
        pos = self.locator.positions(lats, lngs)
        inside = pos >= 0
        codes = np.where(inside, pos, -1)
        safe = np.where(inside, pos, grid.size)      # the NaN column
        clipped = np.where(inside, pos, 0)
        head = pd.DataFrame({
            "inside": inside,
            "cell": pd.Categorical.from_codes(codes, dtype=self.cell),
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
    """``lookup(lat, lng)`` at the index speed, returning the same ``Profile``, with everything that
    does not depend on the point prepared once per index: facility columns as Python lists (no
    ``DataFrame.iloc`` per type), cell-major minutes / nearest / counts, the per-cell coverage
    table the index already holds, the H3 integer API and a dict from cell id to position.

    Also ``minutes_at(lat, lng)``: the lean fast path (a (T,) float32 row of minutes, or None)."""

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
        return Profile(
            inside=True, lat=lat, lng=lng, speed_kmh=self.speed, cell=self._int_to_str(int(grid.cells[pos])),
            district=self.district_zh[d], district_en=self.district_en[d], street=self.street[int(grid.street[pos])],
            population_in_cell=int(round(self.index.population[pos])), types=types,
            circles=dict(zip(self.circle_ids, self.circle_flags[pos].tolist())),
            circles_covered=int(self.covered[pos]), pt_minutes=round(float(self.pt[pos]), 2),
            basic_complete=bool(self.basic[pos]), missing=missing)
