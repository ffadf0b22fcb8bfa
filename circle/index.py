"""The built index: for every H3 cell of Wuhai, walking time to the nearest facility of every type.

``load_index()`` returns a :class:`CityIndex`, loaded from the on-disk cache (``.cache/``, keyed by a
hash of every input file and parameter) or built and cached when missing or stale. The index
answers any point: :meth:`CityIndex.lookup` (one point, a :class:`Profile`) and
:meth:`CityIndex.lookup_many` (a DataFrame, one row per point, in input order).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from circle import access, geo
from circle.h3fast import CellLocator
from circle import grid as gridmod
from circle.sources import CACHE_DIR, REFERENCE_DIR, SAMPLE_DIR, TAXONOMY_DIR
from circle.taxonomy import circles, facility_types

# Bump when the engine's output for the same inputs changes, so old caches are rebuilt.
ENGINE_VERSION = "2"
COUNT_MINUTES = 15.0
PT_CAP_MINUTES = 60.0


@dataclass(frozen=True)
class Dataset:
    """Which facilities and residents an index is built from, and how to describe them."""

    facilities_path: Path
    residences_path: Path
    label_zh: str = "模拟样本数据（默认）"
    label_en: str = "simulated sample (default)"
    simulated: bool = True
    # Types the data set says nothing about (imports): shown as "no data", never as "not covered".
    types_without_data: tuple[str, ...] = ()


DEFAULT_DATASET = Dataset(SAMPLE_DIR / "facilities.csv", SAMPLE_DIR / "residences.csv")


@dataclass(frozen=True)
class Params:
    resolution: int = gridmod.DEFAULT_RESOLUTION
    speed_kmh: float = access.DEFAULT_SPEED_KMH
    circuity: float = access.CIRCUITY
    limit_m: float = access.SEARCH_LIMIT_M


@dataclass
class TypeAccess:
    minutes: float | None
    nearest_id: str | None
    nearest_name: str | None
    nearest_name_en: str | None
    nearest_lat: float | None
    nearest_lng: float | None
    count_15min: int
    threshold_min: int
    within_threshold: bool | None  # None: the data set has no data for this type


@dataclass
class Profile:
    """What one point can reach on foot."""

    inside: bool
    lat: float
    lng: float
    speed_kmh: float
    cell: str | None = None
    district: str | None = None
    district_en: str | None = None
    street: str | None = None
    population_in_cell: int = 0
    types: dict[str, TypeAccess] = field(default_factory=dict)
    circles: dict[str, bool | None] = field(default_factory=dict)  # None: no data for that circle
    circles_covered: int = 0
    pt_minutes: float | None = None
    basic_complete: bool = False
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready data (the CLI's ``--json`` output)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "types"}
        out["circles"] = dict(self.circles)
        out["missing"] = list(self.missing)
        out["types"] = {k: {f.name: getattr(v, f.name) for f in fields(v)} for k, v in self.types.items()}
        return out


class TypesView(Mapping):
    """Type id → :class:`TypeAccess` for one cell, built on first access.

    ``lookup`` answers in a few microseconds because the 37 per-type records are only made when
    somebody reads them (a page, ``to_dict``, the CLI)."""

    def __init__(self, index: "CityIndex", pos: int, minutes: np.ndarray, counts: np.ndarray):
        self._index, self._pos, self._minutes, self._counts = index, pos, minutes, counts
        self._built: dict[str, TypeAccess] | None = None

    def _build(self) -> dict[str, TypeAccess]:
        if self._built is None:
            self._built = {t: self._index._type_access(i, self._pos, self._minutes, self._counts)
                           for i, t in enumerate(self._index.type_ids)}
        return self._built

    def __getitem__(self, type_id: str) -> TypeAccess:
        return self._build()[type_id]

    def __iter__(self):
        return iter(self._index.type_ids)

    def __len__(self) -> int:
        return len(self._index.type_ids)


def _hash_inputs(dataset: Dataset, params: Params) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"engine": ENGINE_VERSION, **asdict(params)}, sort_keys=True).encode())
    files = [dataset.facilities_path, dataset.residences_path, TAXONOMY_DIR / "facility_types.csv",
             TAXONOMY_DIR / "circles.csv"] + sorted(REFERENCE_DIR.glob("*.csv")) + sorted(REFERENCE_DIR.glob("*.geojson"))
    for path in files:
        digest.update(str(Path(path).name).encode())
        digest.update(Path(path).read_bytes())
    digest.update(",".join(dataset.types_without_data).encode())
    return digest.hexdigest()[:20]


def _scalar_latlng(lat, lng) -> tuple[float, float]:
    """Validate one coordinate pair fast (the numpy validator costs ~10 µs on scalars)."""
    try:
        la, ln = float(lat), float(lng)
    except (TypeError, ValueError):
        return tuple(float(v) for v in geo.validate_latlng(lat, lng))  # raises its bilingual message
    if not (math.isfinite(la) and math.isfinite(ln) and -90.0 <= la <= 90.0 and -180.0 <= ln <= 180.0):
        geo.validate_latlng(la, ln)  # raises with the precise bilingual message
    return la, ln


def spread_population(grid: gridmod.CityGrid, positions: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Residents per cell. A compound (小区) covers about ten hectares, so its residents are spread
    evenly over its cell and the passable cells around it (7 cells ≈ 10 ha at resolution 10).
    Compounds outside the city are dropped; the total is otherwise preserved exactly."""
    population = np.zeros(grid.size, dtype=np.float64)
    for pos, count in zip(positions.tolist(), np.asarray(people, dtype=np.float64).tolist()):
        if pos < 0:
            continue
        around = [pos] + [int(n) for n in grid.neighbours[pos] if n >= 0]
        population[around] += count / len(around)
    return population


class CityIndex:
    """Walking access from every cell of the city to every facility type."""

    def __init__(self, grid: gridmod.CityGrid, facilities: pd.DataFrame, residences: pd.DataFrame,
                 dist_m: np.ndarray, nearest: np.ndarray, count15: np.ndarray, params: Params,
                 dataset: Dataset, key: str, timings: dict[str, float] | None = None):
        self.grid = grid
        self.facilities = facilities
        self.residences = residences
        self.dist_m = dist_m          # (T, N) float32 walking metres, inf beyond the search limit
        self.nearest = nearest        # (T, N) int32 row of self.facilities, -1 if none within limit
        self.count15 = count15        # (T, N) uint16 facilities within 15 minutes at params.speed_kmh
        self.params = params
        self.dataset = dataset
        self.key = key
        self.timings = timings or {}
        self.memo: dict = {}  # derived views (map frames...) computed once per index
        self.types = facility_types()
        self.type_ids = tuple(t.id for t in self.types)
        self.type_pos = {t: i for i, t in enumerate(self.type_ids)}
        self.thresholds = np.array([t.threshold_min for t in self.types], dtype=np.float64)
        self.no_data = np.array([t in dataset.types_without_data for t in self.type_ids])
        self._locator = CellLocator(grid.cells, grid.resolution, grid.lat, grid.lng)
        self.population = spread_population(grid, self.positions_of(
            residences["lat"].to_numpy(), residences["lng"].to_numpy()), residences["population"].to_numpy())
        # Which rows count for each circle: its essential types that the data set has data for.
        # A circle none of whose essential types has data is "no data", never "not covered".
        self._circle_rows = {c.id: [self.type_pos[t.id] for t in self.types
                                    if t.circle == c.id and t.essential and not self.no_data[self.type_pos[t.id]]]
                             for c in circles()}
        self.circles_with_data = tuple(cid for cid, rows in self._circle_rows.items() if rows)
        self._basic_rows = [self.type_pos[t.id] for t in self.types
                            if t.mofcom == "basic" and not self.no_data[self.type_pos[t.id]]]
        # Plain arrays for the per-point answers (DataFrame.iloc per type would cost ~50 µs each).
        self._fac_id = facilities["id"].astype(str).to_numpy(dtype=object)
        self._fac_name_zh = facilities["name_zh"].astype(str).to_numpy(dtype=object)
        self._fac_name_en = facilities["name_en"].astype(str).to_numpy(dtype=object)
        self._fac_lat = facilities["lat"].to_numpy(dtype=np.float64)
        self._fac_lng = facilities["lng"].to_numpy(dtype=np.float64)
        self._street_names = gridmod.streets()["name"].to_numpy(dtype=object)
        self._per_cell_counts = self._facility_counts_per_cell()
        self._cell_table_default = self._cell_table(params.speed_kmh)
        # For one-point answers at the index speed: plain arrays and a dict from H3 id to position.
        self._circle_ids = tuple(c.id for c in circles())
        self._circle_has_data = [cid in self.circles_with_data for cid in self._circle_ids]
        self._type_meta = [(t.id, t.threshold_min, bool(nd)) for t, nd in zip(self.types, self.no_data.tolist())]
        self._circle_flags = np.stack([self._cell_table_default[f"circle_{cid}"].to_numpy() for cid in self._circle_ids])
        self._pt = self._cell_table_default["pt_minutes"].to_numpy()
        self._basic = self._cell_table_default["basic_complete"].to_numpy()
        self._districts = gridmod.districts()
        self._cell_position = dict(zip(grid.cells.tolist(), range(grid.size)))

    # --- facts per cell ---------------------------------------------------------------------
    def minutes(self, speed_kmh: float | None = None) -> np.ndarray:
        """(T, N) minutes at ``speed_kmh`` (default: the index speed)."""
        return self.dist_m / access.metres_per_minute(speed_kmh or self.params.speed_kmh)

    def _coverage(self, minutes: np.ndarray) -> dict[str, np.ndarray]:
        """Circles covered, MOFCOM basic complete and PT for each column of ``minutes`` (T, n).

        Only types the data set has data for count: a circle without any is left out (no data),
        and PT averages the circles that have data."""
        within = minutes <= self.thresholds[:, None]
        capped = np.minimum(minutes, PT_CAP_MINUTES)
        covered, category = {}, []
        for cid in self.circles_with_data:
            rows = self._circle_rows[cid]
            covered[cid] = within[rows].all(axis=0)
            category.append(capped[rows].mean(axis=0))
        n = minutes.shape[1]
        return {"circles": covered,
                "basic": within[self._basic_rows].all(axis=0) if self._basic_rows else np.zeros(n, bool),
                "pt": np.mean(category, axis=0) if category else np.full(n, np.nan)}

    def _cell_table(self, speed_kmh: float) -> pd.DataFrame:
        """One row per cell: where it is, who lives there, what it covers (at ``speed_kmh``)."""
        cov = self._coverage(self.minutes(speed_kmh))
        table = pd.DataFrame({
            "position": np.arange(self.grid.size),
            "district": self.grid.district, "street": self.grid.street,
            "population": self.population, "pt_minutes": cov["pt"].astype(np.float32),
            "basic_complete": cov["basic"],
        })
        for c in circles():  # a circle without data: False here, and NaN in every share (metrics)
            table[f"circle_{c.id}"] = cov["circles"].get(c.id, np.zeros(self.grid.size, bool))
        table["circles_covered"] = np.sum([cov["circles"][cid] for cid in self.circles_with_data]
                                          + [np.zeros(self.grid.size, np.int8)], axis=0).astype(np.int8)
        table["all_circles"] = table["circles_covered"] == len(self.circles_with_data)
        return table

    def cells_at_speed(self, speed_kmh: float | None = None) -> pd.DataFrame:
        """The per-cell table at a walking speed (the index speed returns the cached table)."""
        if speed_kmh is None or abs(float(speed_kmh) - self.params.speed_kmh) < 1e-9:
            return self._cell_table_default
        return self._cell_table(float(speed_kmh))

    def _facility_counts_per_cell(self) -> np.ndarray:
        """(N, T) number of facilities of each type in each cell (for on-demand counts)."""
        counts = np.zeros((self.grid.size, len(self.type_ids)), dtype=np.uint16)
        pos = self.facilities["cell_pos"].to_numpy()
        types = self.facilities["type"].map(self.type_pos).to_numpy()
        ok = pos >= 0
        np.add.at(counts, (pos[ok], types[ok]), 1)
        return counts

    # --- points → cells ----------------------------------------------------------------------
    def _positions_of_points(self, lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
        """Grid positions of WGS-84 points (-1 outside the city) asking h3 point by point (the
        reference that ``positions_of`` is tested against)."""
        lat = np.asarray(lat, dtype=np.float64)
        lng = np.asarray(lng, dtype=np.float64)
        ids = np.fromiter((h3.str_to_int(h3.latlng_to_cell(a, b, self.grid.resolution))
                           for a, b in zip(lat.tolist(), lng.tolist())), dtype=np.uint64, count=len(lat))
        return self.grid.position_of(ids)

    def positions_of(self, lat, lng) -> np.ndarray:
        """Exact point → cell position for many points at once (-1 outside the city).

        ``circle.h3fast`` does H3's own face projection and lattice rounding, compiled, so the
        answer equals ``h3.latlng_to_cell`` for every point at millions of points per second."""
        return self._locator.locate(lat, lng)

    # --- answers -------------------------------------------------------------------------------
    def _check_points(self, lat, lng, crs: str):
        lat, lng = geo.validate_latlng(lat, lng)
        return geo.to_wgs84(lat, lng, crs)

    def lookup(self, lat: float, lng: float, crs: str = "wgs84", speed_kmh: float | None = None) -> Profile:
        """The walking profile of one point. Outside the city: ``inside=False``; impossible
        coordinates (NaN, |lat| > 90, ...) raise ValueError."""
        lat, lng = _scalar_latlng(lat, lng)
        if crs != "wgs84":
            lat, lng = (float(v) for v in geo.to_wgs84(lat, lng, crs))
        speed = float(self.params.speed_kmh if speed_kmh is None else speed_kmh)
        if not 1.0 <= speed <= 10.0:
            raise ValueError(f"步行速度须在 1–10 km/h 之间 / walking speed must be 1–10 km/h, got {speed}")
        pos = self._cell_position.get(h3.str_to_int(h3.latlng_to_cell(lat, lng, self.grid.resolution)), -1)
        if pos < 0:
            return Profile(inside=False, lat=lat, lng=lng, speed_kmh=speed)
        return self.profile_of_cell(pos, speed, lat=lat, lng=lng)

    def profile_of_cell(self, pos: int, speed_kmh: float | None = None, lat: float | None = None,
                        lng: float | None = None) -> Profile:
        """The profile of the cell at grid position ``pos`` (at the index speed, from precomputed
        arrays; at another speed, recomputed exactly, counts included)."""
        speed = float(speed_kmh or self.params.speed_kmh)
        at_index_speed = abs(speed - self.params.speed_kmh) < 1e-9
        if at_index_speed:
            minutes = self._bulk_tables()["minutes"][pos]  # precomputed row; NaN beyond the limit
        else:
            minutes = self.dist_m[:, pos] / access.metres_per_minute(speed)
        if at_index_speed:
            counts = self.count15[:, pos]
            flags = self._circle_flags[:, pos]
            pt, basic = float(self._pt[pos]), bool(self._basic[pos])
        else:
            counts = self.counts_within(pos, COUNT_MINUTES, speed)
            cov = self._coverage(minutes[:, None])
            flags = np.array([cov["circles"][cid][0] if cid in cov["circles"] else False
                              for cid in self._circle_ids])
            pt, basic = float(cov["pt"][0]), bool(cov["basic"][0])
        circle_flags = {cid: (flag if has else None)
                        for cid, flag, has in zip(self._circle_ids, np.asarray(flags).tolist(), self._circle_has_data)}
        # Plain Python on one row is faster than numpy on 37 values; NaN (out of reach) is beyond.
        missing = [type_id for (type_id, threshold, no_data), m in zip(self._type_meta, minutes.tolist())
                   if not no_data and not m <= threshold]
        district = self._districts[int(self.grid.district[pos])]
        return Profile(
            inside=True, lat=float(self.grid.lat[pos] if lat is None else lat),
            lng=float(self.grid.lng[pos] if lng is None else lng), speed_kmh=speed,
            cell=h3.int_to_str(int(self.grid.cells[pos])), district=district.name_zh,
            district_en=district.name_en, street=str(self._street_names[int(self.grid.street[pos])]),
            population_in_cell=int(round(self.population[pos])), types=TypesView(self, pos, minutes, counts),
            circles=circle_flags, circles_covered=sum(1 for v in circle_flags.values() if v),
            pt_minutes=round(pt, 2) if math.isfinite(pt) else None, basic_complete=basic,
            missing=missing)

    def _type_access(self, i: int, pos: int, minutes: np.ndarray, counts: np.ndarray) -> TypeAccess:
        near = int(self.nearest[i, pos])
        m = float(minutes[i]) if math.isfinite(minutes[i]) else None
        has = near >= 0
        return TypeAccess(
            minutes=None if m is None else round(m, 2),
            nearest_id=self._fac_id[near] if has else None,
            nearest_name=self._fac_name_zh[near] if has else None,
            nearest_name_en=self._fac_name_en[near] if has else None,
            nearest_lat=float(self._fac_lat[near]) if has else None,
            nearest_lng=float(self._fac_lng[near]) if has else None,
            count_15min=int(counts[i]), threshold_min=int(self.thresholds[i]),
            within_threshold=None if self.no_data[i] else bool(m is not None and m <= self.thresholds[i]))

    def counts_within(self, pos: int, minutes: float, speed_kmh: float) -> np.ndarray:
        """How many facilities of each type lie within ``minutes`` of cell ``pos`` (exact search)."""
        cells, _ = self.reach(pos, minutes, speed_kmh)
        return self._per_cell_counts[cells].sum(axis=0).astype(int)

    def reach(self, pos: int, minutes: float, speed_kmh: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cells reachable from cell ``pos`` within ``minutes`` (the isochrone) and their minutes."""
        speed = float(speed_kmh or self.params.speed_kmh)
        cells, metres = access.reach_from(self.grid.neighbours, self.grid.edge_m, pos,
                                          access.metres_from_minutes(minutes, speed),
                                          circuity=self.params.circuity)
        return cells, metres / access.metres_per_minute(speed)

    def lookup_many(self, lats, lngs, crs: str = "wgs84") -> pd.DataFrame:
        """One row per point, in input order: inside, cell, district, street, circles_covered,
        pt_minutes and ``minutes_<type>`` for every type (NaN outside the city or beyond the 5 km
        search limit).

        ``cell``, ``district`` and ``street`` are categoricals (their categories are made once per
        index), and the minutes come from a (T, N + 1) table whose last column is NaN for points
        outside: a million points is a few gathers, no per-row string work."""
        lats, lngs = self._check_points(np.asarray(lats, dtype=np.float64), np.asarray(lngs, dtype=np.float64), crs)
        tables = self._bulk_tables()
        pos = self.positions_of(lats, lngs)
        inside = pos >= 0
        padded = np.where(inside, pos, self.grid.size)   # the NaN column for points outside
        clipped = np.where(inside, pos, 0)
        head = pd.DataFrame({
            "inside": inside,
            "cell": pd.Categorical.from_codes(np.where(inside, pos, -1), dtype=tables["cell"]),
            "district": pd.Categorical.from_codes(np.where(inside, self.grid.district[clipped], -1),
                                                  dtype=tables["district"]),
            "street": pd.Categorical.from_codes(np.where(inside, self.grid.street[clipped], -1),
                                                dtype=tables["street"]),
            "circles_covered": tables["circles"][padded],
            "pt_minutes": tables["pt"][padded],
        })
        # One gather of whole cell rows (37 contiguous floats each) beats 37 scattered gathers.
        block = np.take(tables["minutes"], padded, axis=0)
        minutes = pd.DataFrame(block, columns=[f"minutes_{t}" for t in self.type_ids], copy=False)
        return pd.concat([head, minutes], axis=1)

    def _bulk_tables(self) -> dict:
        """What ``lookup_many`` and ``lookup`` read from, built on first use (≈ 19 MB of minutes)."""
        if "bulk" not in self.memo:
            table = self._cell_table_default
            minutes = self.minutes().astype(np.float32)
            minutes[~np.isfinite(minutes)] = np.nan
            self.memo["bulk"] = {
                "cell": pd.CategoricalDtype(self.grid.cell_strings()),
                "district": pd.CategoricalDtype([d.name_zh for d in gridmod.districts()]),
                "street": pd.CategoricalDtype(list(gridmod.streets()["name"])),
                "circles": np.append(table["circles_covered"].to_numpy().astype(np.int8), np.int8(0)),
                "pt": np.append(table["pt_minutes"].to_numpy().astype(np.float32), np.float32(np.nan)),
                # Cell-major (N + 1, T): a cell's minutes are one contiguous row; the last is "outside".
                "minutes": np.ascontiguousarray(np.vstack([minutes.T, np.full((1, len(minutes)), np.nan, np.float32)])),
            }
        return self.memo["bulk"]

    def describe(self, lang: str = "zh") -> str:
        return self.dataset.label_zh if lang == "zh" else self.dataset.label_en


# --- building and caching ----------------------------------------------------------------------

def _prepare_facilities(facilities: pd.DataFrame, grid: gridmod.CityGrid) -> pd.DataFrame:
    table = facilities.reset_index(drop=True).copy()
    ids = np.fromiter((h3.str_to_int(h3.latlng_to_cell(a, b, grid.resolution))
                       for a, b in zip(table["lat"].tolist(), table["lng"].tolist())),
                      dtype=np.uint64, count=len(table))
    pos = grid.position_of(ids)
    # A facility inside the city outline can sit in a boundary cell whose centre lies outside it
    # (not in the grid): it belongs to the adjacent city cell, so no facility is silently dropped.
    out = np.flatnonzero(pos < 0)
    if len(out):
        x, y = gridmod.to_local_xy(table["lat"].to_numpy()[out], table["lng"].to_numpy()[out])
        dist, near = cKDTree(np.column_stack([grid.x, grid.y])).query(
            np.column_stack([x, y]), distance_upper_bound=gridmod.neighbour_bound_m(grid.resolution))
        ok = np.isfinite(dist)
        pos[out[ok]] = near[ok]
    table["cell_pos"] = pos
    return table


def compute_access(grid: gridmod.CityGrid, facilities: pd.DataFrame, params: Params,
                   type_ids: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest distance, nearest facility row and count within 15 minutes, for every type.

    Types run on a thread pool (the numba searches release the GIL)."""
    n = grid.size
    dist = np.full((len(type_ids), n), np.inf, dtype=np.float32)
    nearest = np.full((len(type_ids), n), -1, dtype=np.int32)
    count = np.zeros((len(type_ids), n), dtype=np.uint16)
    count_limit = access.metres_from_minutes(COUNT_MINUTES, params.speed_kmh)
    by_type = {t: g for t, g in facilities[facilities["cell_pos"] >= 0].groupby("type")}

    def one(i: int) -> None:
        rows = by_type.get(type_ids[i])
        if rows is None or len(rows) == 0:
            return
        cells = rows["cell_pos"].to_numpy()
        d, owner = access.nearest(grid.neighbours, grid.edge_m, cells, rows.index.to_numpy(),
                                  circuity=params.circuity, limit_m=params.limit_m)
        dist[i], nearest[i] = d, owner
        count[i] = np.minimum(access.count_within(grid.neighbours, grid.edge_m, cells, count_limit,
                                                  circuity=params.circuity), 65535)

    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        list(pool.map(one, range(len(type_ids))))
    return dist, nearest, count


_GRID_FIELDS = ("cells", "lat", "lng", "x", "y", "district", "street", "river", "bridge", "neighbours", "edge_m")


def _tmp_path(path: Path) -> Path:
    """A temporary name next to ``path``, unique per process and thread (two sessions of the app may
    build the same file at once; each writes its own and the last rename wins, whole)."""
    return path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")


def _save(path: Path, grid: gridmod.CityGrid, dist, nearest, count) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_path(path)
    try:
        # np.savez is byte-stable (zip entries dated 1980-01-01, fixed order): the same inputs give
        # the same file (tests/hardening/test_determinism.py).
        with open(tmp, "wb") as f:
            np.savez(f, dist=dist, nearest=nearest, count=count, resolution=grid.resolution,
                     **{f"grid_{k}": getattr(grid, k) for k in _GRID_FIELDS})
        os.replace(tmp, path)  # write then rename: a failed build leaves the previous index in place
    finally:
        tmp.unlink(missing_ok=True)  # a failed write leaves no partial file behind


def _load(path: Path):
    with np.load(path) as z:
        grid = gridmod.CityGrid(int(z["resolution"]), *(z[f"grid_{k}"] for k in _GRID_FIELDS))
        return grid, z["dist"], z["nearest"], z["count"]


def build_index(dataset: Dataset = DEFAULT_DATASET, params: Params = Params(), *, force: bool = False,
                cache_dir: Path = CACHE_DIR, use_cache: bool = True) -> CityIndex:
    """Load the index from the cache, or build (and cache) it. Timings land in ``index.timings``."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    key = _hash_inputs(dataset, params)
    timings["hash_inputs_s"] = time.perf_counter() - t0
    facilities_raw = pd.read_csv(dataset.facilities_path, dtype={"district_code": str, "id": str})
    residences = pd.read_csv(dataset.residences_path, dtype={"community_code": str, "street_code": str,
                                                             "district_code": str})
    path = cache_dir / f"index-{key}.npz"
    type_ids = tuple(t.id for t in facility_types())
    if use_cache and path.exists() and not force:
        t = time.perf_counter()
        grid, dist, nearest, count = _load(path)
        timings["load_cache_s"] = time.perf_counter() - t
        facilities = _prepare_facilities(facilities_raw, grid)
        return CityIndex(grid, facilities, residences, dist, nearest, count, params, dataset, key, timings)
    t = time.perf_counter()
    grid, grid_cached = _grid(params.resolution, cache_dir if use_cache else None, force)
    timings["load_grid_cache_s" if grid_cached else "grid_s"] = time.perf_counter() - t
    t = time.perf_counter()
    facilities = _prepare_facilities(facilities_raw, grid)
    timings["facilities_to_cells_s"] = time.perf_counter() - t
    t = time.perf_counter()
    dist, nearest, count = compute_access(grid, facilities, params, type_ids)
    timings["access_s"] = time.perf_counter() - t
    if use_cache:
        t = time.perf_counter()
        _save(path, grid, dist, nearest, count)
        timings["save_cache_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    return CityIndex(grid, facilities, residences, dist, nearest, count, params, dataset, key, timings)


def _grid_key(resolution: int) -> str:
    """The grid depends only on the reference data, the resolution and the engine version."""
    digest = hashlib.sha256(f"{ENGINE_VERSION}:{resolution}".encode())
    for path in sorted(REFERENCE_DIR.glob("*.csv")) + sorted(REFERENCE_DIR.glob("*.geojson")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def _grid(resolution: int, cache_dir: Path | None, force: bool) -> tuple[gridmod.CityGrid, bool]:
    """The city grid, from its own cache when the reference data are unchanged (a new set of
    facilities then rebuilds in well under a second); ``force`` rebuilds it too."""
    path = None if cache_dir is None else cache_dir / f"grid-{_grid_key(resolution)}.npz"
    if path is not None and path.exists() and not force:
        with np.load(path) as z:
            return gridmod.CityGrid(int(z["resolution"]), *(z[k] for k in _GRID_FIELDS)), True
    grid = gridmod.build_grid(resolution)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = _tmp_path(path)
        try:
            with open(tmp, "wb") as f:
                np.savez(f, resolution=grid.resolution, **{k: getattr(grid, k) for k in _GRID_FIELDS})
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return grid, False


_LOADED: dict[tuple, CityIndex] = {}


def load_index(dataset: Dataset = DEFAULT_DATASET, speed_kmh: float = access.DEFAULT_SPEED_KMH,
               resolution: int = gridmod.DEFAULT_RESOLUTION, *, force: bool = False,
               cache_dir: Path = CACHE_DIR) -> CityIndex:
    """The index for a data set and parameters, built if the cache is missing or stale.

    Kept in memory per process, so repeated calls are free; pass ``force=True`` to rebuild.
    ``cache_dir``: where the on-disk cache lives (an imported data set uses its workspace's own)."""
    params = Params(resolution=resolution, speed_kmh=float(speed_kmh))
    memo = (dataset, params, Path(cache_dir))
    if not force and memo in _LOADED:
        return _LOADED[memo]
    index = build_index(dataset, params, force=force, cache_dir=Path(cache_dir))
    _LOADED[memo] = index
    return index
