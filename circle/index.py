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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import h3
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from circle import access, geo
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
    circles: dict[str, bool] = field(default_factory=dict)
    circles_covered: int = 0
    pt_minutes: float | None = None
    basic_complete: bool = False
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["types"] = {k: {kk: vv for kk, vv in asdict(v).items()} for k, v in self.types.items()}
        return out


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
        self.population = spread_population(grid, self._positions_of_points(
            residences["lat"].to_numpy(), residences["lng"].to_numpy()), residences["population"].to_numpy())
        self._tree = cKDTree(np.column_stack([grid.x, grid.y]))
        self._per_cell_counts = self._facility_counts_per_cell()
        self._cell_table_default = self._cell_table(params.speed_kmh)

    # --- facts per cell ---------------------------------------------------------------------
    def minutes(self, speed_kmh: float | None = None) -> np.ndarray:
        """(T, N) minutes at ``speed_kmh`` (default: the index speed)."""
        return self.dist_m / access.metres_per_minute(speed_kmh or self.params.speed_kmh)

    def _coverage(self, minutes: np.ndarray) -> dict[str, np.ndarray]:
        within = minutes <= self.thresholds[:, None]
        covered = {}
        for c in circles():
            rows = [self.type_pos[t.id] for t in self.types if t.circle == c.id and t.essential]
            rows = [r for r in rows if not self.no_data[r]] or rows
            covered[c.id] = within[rows].all(axis=0)
        basic = [self.type_pos[t.id] for t in self.types if t.mofcom == "basic" and not self.no_data[self.type_pos[t.id]]]
        capped = np.minimum(minutes, PT_CAP_MINUTES)
        category = []
        for c in circles():
            rows = [self.type_pos[t.id] for t in self.types if t.circle == c.id and t.essential]
            category.append(capped[rows].mean(axis=0))
        return {"circles": covered, "basic": within[basic].all(axis=0) if basic else np.zeros(minutes.shape[1], bool),
                "pt": np.mean(category, axis=0)}

    def _cell_table(self, speed_kmh: float) -> pd.DataFrame:
        """One row per cell: where it is, who lives there, what it covers (at ``speed_kmh``)."""
        cov = self._coverage(self.minutes(speed_kmh))
        table = pd.DataFrame({
            "position": np.arange(self.grid.size),
            "district": self.grid.district, "street": self.grid.street,
            "population": self.population, "pt_minutes": cov["pt"].astype(np.float32),
            "basic_complete": cov["basic"],
        })
        for cid, mask in cov["circles"].items():
            table[f"circle_{cid}"] = mask
        table["circles_covered"] = np.sum([m for m in cov["circles"].values()], axis=0).astype(np.int8)
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
        """Grid positions of WGS-84 points (-1 outside the city), exact H3 assignment."""
        lat = np.asarray(lat, dtype=np.float64)
        lng = np.asarray(lng, dtype=np.float64)
        ids = np.fromiter((h3.str_to_int(h3.latlng_to_cell(a, b, self.grid.resolution))
                           for a, b in zip(lat.tolist(), lng.tolist())), dtype=np.uint64, count=len(lat))
        return self.grid.position_of(ids)

    def positions_of(self, lat, lng) -> np.ndarray:
        """Fast exact point → cell position for many points (-1 outside the city).

        Within a hexagonal tiling the cell holding a point is the one with the nearest centre, so a
        k-d tree over cell centres answers almost every point. Points the local projection cannot
        settle (nearly equidistant from two centres, in a cell on the city's edge, or far out)
        are asked of H3 itself, so the answer equals ``h3.latlng_to_cell`` for every point.
        """
        lat = np.asarray(lat, dtype=np.float64).ravel()
        lng = np.asarray(lng, dtype=np.float64).ravel()
        x, y = gridmod.to_local_xy(lat, lng)
        dist, idx = self._tree.query(np.column_stack([x, y]), k=2)
        out = idx[:, 0].astype(np.int64)
        scale = gridmod.resolution_scale(self.grid.resolution)
        unsure = (dist[:, 1] - dist[:, 0] < AMBIGUITY_M * scale) | (dist[:, 0] > 90.0 * scale) | self._edge_cell[out]
        if unsure.any():
            out[unsure] = self._positions_of_points(lat[unsure], lng[unsure])
        return out

    @property
    def _edge_cell(self) -> np.ndarray:
        if not hasattr(self, "_edge_cell_cache"):
            dist, _ = self._tree.query(np.column_stack([self.grid.x, self.grid.y]), k=7,
                                       distance_upper_bound=gridmod.neighbour_bound_m(self.grid.resolution))
            self._edge_cell_cache = ~np.isfinite(dist).all(axis=1)
        return self._edge_cell_cache

    # --- answers -------------------------------------------------------------------------------
    def _check_points(self, lat, lng, crs: str):
        lat, lng = geo.validate_latlng(lat, lng)
        return geo.to_wgs84(lat, lng, crs)

    def lookup(self, lat: float, lng: float, crs: str = "wgs84", speed_kmh: float | None = None) -> Profile:
        """The walking profile of one point. Outside the city: ``inside=False``; impossible
        coordinates (NaN, |lat| > 90, ...) raise ValueError."""
        lat, lng = self._check_points(lat, lng, crs)
        lat, lng = float(lat), float(lng)
        speed = float(speed_kmh or self.params.speed_kmh)
        if not 1.0 <= speed <= 10.0:
            raise ValueError(f"步行速度须在 1–10 km/h 之间 / walking speed must be 1–10 km/h, got {speed}")
        pos = int(self._positions_of_points(np.array([lat]), np.array([lng]))[0])
        if pos < 0:
            return Profile(inside=False, lat=lat, lng=lng, speed_kmh=speed)
        return self.profile_of_cell(pos, speed, lat=lat, lng=lng)

    def profile_of_cell(self, pos: int, speed_kmh: float | None = None, lat: float | None = None,
                        lng: float | None = None) -> Profile:
        speed = float(speed_kmh or self.params.speed_kmh)
        mpm = access.metres_per_minute(speed)
        minutes = self.dist_m[:, pos] / mpm
        if abs(speed - self.params.speed_kmh) < 1e-9:
            counts = self.count15[:, pos].astype(int)
        else:
            counts = self.counts_within(pos, COUNT_MINUTES, speed)
        cov = self._coverage(minutes[:, None])
        district = gridmod.districts()[int(self.grid.district[pos])]
        street = gridmod.streets().iloc[int(self.grid.street[pos])]
        types = {}
        missing = []
        for i, ftype in enumerate(self.types):
            near = int(self.nearest[i, pos])
            row = self.facilities.iloc[near] if near >= 0 else None
            m = float(minutes[i]) if math.isfinite(minutes[i]) else None
            no_data = bool(self.no_data[i])
            within = None if no_data else (m is not None and m <= ftype.threshold_min)
            if within is False:
                missing.append(ftype.id)
            types[ftype.id] = TypeAccess(
                minutes=None if m is None else round(m, 2),
                nearest_id=None if row is None else str(row["id"]),
                nearest_name=None if row is None else str(row["name_zh"]),
                nearest_name_en=None if row is None else str(row["name_en"]),
                nearest_lat=None if row is None else float(row["lat"]),
                nearest_lng=None if row is None else float(row["lng"]),
                count_15min=int(counts[i]), threshold_min=ftype.threshold_min, within_threshold=within)
        circle_flags = {cid: bool(mask[0]) for cid, mask in cov["circles"].items()}
        return Profile(
            inside=True, lat=float(self.grid.lat[pos] if lat is None else lat),
            lng=float(self.grid.lng[pos] if lng is None else lng), speed_kmh=speed,
            cell=h3.int_to_str(int(self.grid.cells[pos])), district=district.name_zh,
            district_en=district.name_en, street=str(street["name"]),
            population_in_cell=int(round(self.population[pos])), types=types, circles=circle_flags,
            circles_covered=int(sum(circle_flags.values())), pt_minutes=round(float(cov["pt"][0]), 2),
            basic_complete=bool(cov["basic"][0]), missing=missing)

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
        pt_minutes and ``minutes_<type>`` for every type (NaN outside or beyond an hour)."""
        lats, lngs = self._check_points(np.asarray(lats, dtype=np.float64), np.asarray(lngs, dtype=np.float64), crs)
        pos = self.positions_of(lats, lngs)
        inside = pos >= 0
        safe = np.where(inside, pos, 0)
        table = self._cell_table_default
        names_d = np.array([d.name_zh for d in gridmod.districts()], dtype=object)
        names_s = gridmod.streets()["name"].to_numpy(dtype=object)
        out = {
            "inside": inside,
            "cell": np.where(inside, self.grid.cells[safe], 0).astype(np.uint64),
            "district": np.where(inside, names_d[self.grid.district[safe]], None),
            "street": np.where(inside, names_s[self.grid.street[safe]], None),
            "circles_covered": np.where(inside, table["circles_covered"].to_numpy()[safe], 0).astype(np.int8),
            "pt_minutes": np.where(inside, table["pt_minutes"].to_numpy()[safe], np.nan).astype(np.float32),
        }
        mpm = access.metres_per_minute(self.params.speed_kmh)
        minutes = self.dist_m[:, safe] / mpm
        for i, type_id in enumerate(self.type_ids):
            col = minutes[i]
            out[f"minutes_{type_id}"] = np.where(inside & np.isfinite(col), col, np.nan).astype(np.float32)
        frame = pd.DataFrame(out)
        frame["cell"] = [h3.int_to_str(int(c)) if ok else None for c, ok in zip(frame["cell"], inside)] \
            if len(frame) <= 10_000 else frame["cell"].map(lambda c: h3.int_to_str(int(c)) if c else None)
        return frame

    def describe(self, lang: str = "zh") -> str:
        return self.dataset.label_zh if lang == "zh" else self.dataset.label_en


AMBIGUITY_M = 3.0


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


def _save(path: Path, grid: gridmod.CityGrid, dist, nearest, count) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, dist=dist, nearest=nearest, count=count, resolution=grid.resolution,
                 **{f"grid_{k}": getattr(grid, k) for k in _GRID_FIELDS})
    os.replace(tmp, path)  # write then rename: a failed build leaves the previous index in place


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
    grid = gridmod.build_grid(params.resolution)
    timings["grid_s"] = time.perf_counter() - t
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


_LOADED: dict[tuple, CityIndex] = {}


def load_index(dataset: Dataset = DEFAULT_DATASET, speed_kmh: float = access.DEFAULT_SPEED_KMH,
               resolution: int = gridmod.DEFAULT_RESOLUTION, *, force: bool = False) -> CityIndex:
    """The index for a data set and parameters, built if the cache is missing or stale.

    Kept in memory per process, so repeated calls are free; pass ``force=True`` to rebuild."""
    params = Params(resolution=resolution, speed_kmh=float(speed_kmh))
    memo = (dataset, params)
    if not force and memo in _LOADED:
        return _LOADED[memo]
    index = build_index(dataset, params, force=force)
    _LOADED[memo] = index
    return index
