"""The simulated sample: residential compounds (小区) and facilities for Wuhai.

No open POI or population-grid data for Wuhai exists offline, so the app's default data are
simulated, deterministically (same seed → byte-identical files), from real anchors:

* the 2021 district populations (exact sums), the 87 NBS communities and 22 streets;
* located street offices and communities (``data/reference``), the three urban cores;
* published facility counts where the article gives one (``data/sample/facility_counts.csv``
  says, for every type, whether its count is published, derived from the data or assumed).

Every row written says ``simulated``; names are plainly not real businesses. See
``data/sample/ASSUMPTIONS.md`` for the method and every number assumed.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from circle import grid as gridmod
from circle.sources import (COMMUNITIES, DISTRICTS, PLACES, REFERENCE_DIR, SAMPLE_DIR, URBAN_EXTENTS,
                            district_population, read_csv, read_geojson)
from circle.taxonomy import facility_type

DEFAULT_SEED = 20221
STATUS = "simulated"


@dataclass(frozen=True)
class SampleFiles:
    communities: Path
    residences: Path
    facilities: Path


def sample_files(folder: Path = SAMPLE_DIR) -> SampleFiles:
    return SampleFiles(folder / "communities.csv", folder / "residences.csv", folder / "facilities.csv")


# --- communities -------------------------------------------------------------------------------

def community_kind(name: str) -> str:
    """urban (社区居委会), village (村委会) or industrial (虚拟社区, 工业园/矿区社区)."""
    if "虚拟" in name or "工业园" in name or "矿区" in name:
        return "industrial"
    if "村" in name:
        return "village"
    return "urban"


def short_name(name: str) -> str:
    """'和平社区居委会' → '和平社区'; '羊路井村民委员会' → '羊路井村'."""
    for suffix, repl in (("社区居委会", "社区"), ("村民委员会", "村"), ("村委会", "村"), ("居委会", "")):
        if name.endswith(suffix):
            return name[: -len(suffix)] + repl
    return name


def _located_communities() -> dict[str, tuple[float, float, str, str]]:
    """Community short name → (lat, lng, quality, note) from places.csv."""
    places = read_csv(PLACES)
    out = {}
    for row in places.itertuples():
        if row.kind not in ("community", "community_proxy"):
            continue
        name = row.name_zh.split("(")[0]
        quality = "located" if row.kind == "community" else "proxy"
        out.setdefault(name, (row.lat, row.lon, quality, f"places.csv: {row.name_zh} ({row.confidence})"))
    return out


def _district_shapes() -> dict[str, object]:
    """District polygons in local metres, keyed by adcode."""
    out = {}
    for f in read_geojson(DISTRICTS)["features"]:
        out[str(f["properties"]["adcode"])] = gridmod._project_geometry(f["geometry"])
    return out


def _river_band():
    line = shapely.union_all([gridmod._project_geometry(f["geometry"])
                              for f in read_geojson(gridmod.RIVER)["features"]])
    return line.buffer(gridmod.RIVER_HALF_WIDTH_M + 60.0)


def _in_place(x: float, y: float, district_shape, river) -> bool:
    p = shapely.Point(x, y)
    return district_shape.contains(p) and not river.contains(p)


def _jitter_inside(rng: np.random.Generator, x: float, y: float, sigma: float, district_shape, river,
                   tries: int = 200) -> tuple[float, float]:
    """A point near (x, y) inside the district and out of the river (falls back to the anchor)."""
    for _ in range(tries):
        nx, ny = x + rng.normal(0.0, sigma), y + rng.normal(0.0, sigma)
        if _in_place(nx, ny, district_shape, river):
            return nx, ny
    return x, y


def _from_local(x, y) -> tuple[np.ndarray, np.ndarray]:
    k = np.pi / 180.0 * gridmod.EARTH_RADIUS_M
    lat = np.asarray(y) / k + gridmod.ORIGIN_LAT
    lng = np.asarray(x) / (k * np.cos(np.radians(gridmod.ORIGIN_LAT))) + gridmod.ORIGIN_LNG
    return lat, lng


@lru_cache(maxsize=1)
def _core_boxes() -> tuple[tuple[float, float, float, float], ...]:
    """The urban cores' bounding boxes, read once (reading the CSV per point made generation ~10× slower)."""
    return tuple((float(r.lat_min), float(r.lat_max), float(r.lon_min), float(r.lon_max))
                 for r in read_csv(URBAN_EXTENTS).itertuples())


def _in_core(lat: float, lng: float) -> bool:
    for lat_min, lat_max, lon_min, lon_max in _core_boxes():
        if lat_min <= lat <= lat_max and lon_min <= lng <= lon_max:
            return True
    return False


def make_communities(rng: np.random.Generator) -> pd.DataFrame:
    """The 87 communities with a searchable location: real where located, else near the street office."""
    table = read_csv(COMMUNITIES, dtype=str)
    streets = gridmod.streets().set_index("code")
    located = _located_communities()
    shapes = _district_shapes()
    river = _river_band()
    rows = []
    for row in table.sort_values("code").itertuples():
        street = streets.loc[row.streetCode]
        kind = community_kind(row.name)
        name = short_name(row.name)
        if name in located and street.district_code == row.areaCode:
            lat, lng, quality, note = located[name]
        else:
            sx, sy = gridmod.to_local_xy(street.lat, street.lng)
            # Urban communities ring their street office; villages spread farther into the town.
            sigma = {"urban": 700.0, "village": 2500.0, "industrial": 1500.0}[kind]
            x, y = _jitter_inside(rng, float(sx), float(sy), sigma, shapes[row.areaCode], river)
            lat, lng = (float(v) for v in _from_local(x, y))
            quality = "approximate"
            note = f"APPROXIMATE: simulated position near the office of {street['name']} ({street.location_quality})"
        rows.append({
            "code": row.code, "name": row.name, "short_name": name, "kind": kind,
            "street_code": row.streetCode, "street_name": street["name"], "district_code": row.areaCode,
            "lat": round(float(lat), 6), "lng": round(float(lng), 6),
            "location_quality": quality, "in_urban_core": _in_core(lat, lng), "note": note,
        })
    return pd.DataFrame(rows)


# --- residences ----------------------------------------------------------------------------------

KIND_WEIGHT = {"urban": 1.0, "village": 0.18, "industrial": 0.03}
CORE_WEIGHT = 1.6  # communities inside the three dense cores hold more people


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    raw = total * weights / weights.sum()
    out = np.floor(raw).astype(np.int64)
    short = total - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:short]] += 1
    return out


def make_residences(rng: np.random.Generator, communities: pd.DataFrame) -> pd.DataFrame:
    """Compounds whose populations sum exactly to the 2021 district populations."""
    population = district_population()
    codes = {d.name_zh: d.code for d in gridmod.districts()}
    shapes = _district_shapes()
    river = _river_band()
    rows = []
    for district_name, total in sorted(population.items(), key=lambda kv: codes[kv[0]]):
        code = codes[district_name]
        mine = communities[communities["district_code"] == code].reset_index(drop=True)
        weights = np.array([KIND_WEIGHT[k] * (CORE_WEIGHT if core else 1.0) * rng.uniform(0.7, 1.3)
                            for k, core in zip(mine["kind"], mine["in_urban_core"])])
        shares = _largest_remainder(total, weights)
        for community, people in zip(mine.itertuples(), shares):
            kind = community.kind
            size = {"urban": 2200, "village": 700, "industrial": 400}[kind]
            n = max(1, int(round(people / size)))
            sizes = _largest_remainder(int(people), rng.uniform(0.5, 1.5, n))
            cx, cy = gridmod.to_local_xy(community.lat, community.lng)
            sigma = {"urban": 380.0, "village": 900.0, "industrial": 600.0}[kind]
            for k, people_here in enumerate(sizes):
                x, y = _jitter_inside(rng, float(cx), float(cy), sigma, shapes[code], river)
                lat, lng = (float(v) for v in _from_local(x, y))
                label = "居民点" if kind == "village" else "小区"
                rows.append({
                    "id": f"R{len(rows) + 1:05d}",
                    "name_zh": f"模拟{label}·{community.short_name}{k + 1}号",
                    "name_en": f"Simulated compound {community.code[-6:]}-{k + 1}",
                    "community_code": community.code, "street_code": community.street_code,
                    "district_code": code, "lat": round(lat, 6), "lng": round(lng, 6),
                    "population": int(people_here), "status": STATUS,
                })
    return pd.DataFrame(rows)


# --- facilities ----------------------------------------------------------------------------------

def _anchor_weights(residences: pd.DataFrame, placement: str) -> np.ndarray:
    pop = residences["population"].to_numpy(dtype=np.float64)
    if placement == "core":
        core = np.array([_in_core(a, b) for a, b in zip(residences["lat"], residences["lng"])])
        return pop * np.where(core, 1.0, 0.0) + 1e-9
    return pop


# A planner's reach: the threshold in straight-line metres at 4 km/h, shrunk for the walking detour.
PLANNING_DETOUR = 1.7
MIN_GAIN_PEOPLE = 100


def _planned_sites(residences: pd.DataFrame, rx: np.ndarray, ry: np.ndarray,
                   existing: list[tuple[float, float, str]], budget: int,
                   threshold_min: int) -> list[tuple[float, float, str]]:
    """Greedy siting, as a planner would: put each new facility at the compound that brings the
    most not-yet-served residents within reach; stop when no site adds ``MIN_GAIN_PEOPLE``."""
    if budget <= 0:
        return []
    reach = threshold_min * 4000.0 / 60.0 / PLANNING_DETOUR
    pop = residences["population"].to_numpy(dtype=np.float64)
    d2 = (rx[:, None] - rx[None, :]) ** 2 + (ry[:, None] - ry[None, :]) ** 2
    covers = d2 <= reach * reach                      # covers[site, compound]
    served = np.zeros(len(pop), bool)
    for x, y, _ in existing:
        served |= (rx - x) ** 2 + (ry - y) ** 2 <= reach * reach
    picked = []
    for _ in range(budget):
        gain = covers @ np.where(served, 0.0, pop)
        best = int(np.argmax(gain))
        if gain[best] < MIN_GAIN_PEOPLE:
            break
        served |= covers[best]
        picked.append((float(rx[best]), float(ry[best]), residences["district_code"].iat[best]))
    return picked


def make_facilities(rng: np.random.Generator, communities: pd.DataFrame,
                    residences: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Facilities of every type; counts from ``facility_counts.csv``."""
    shapes = _district_shapes()
    river = _river_band()
    streets = gridmod.streets()
    rx, ry = gridmod.to_local_xy(residences["lat"].to_numpy(), residences["lng"].to_numpy())
    urban = communities[communities["kind"] == "urban"].reset_index(drop=True)
    rows = []
    for spec in counts.itertuples():
        ftype = facility_type(spec.type)
        anchors: list[tuple[float, float, str]] = []  # (x, y, district_code)
        if spec.placement == "street_office":
            sx, sy = gridmod.to_local_xy(streets["lat"].to_numpy(), streets["lng"].to_numpy())
            anchors += [(float(a), float(b), d) for a, b, d in zip(sx, sy, streets["district_code"])]
        if spec.placement == "per_community":
            picks = urban if len(urban) <= spec.count else urban.iloc[
                np.sort(rng.choice(len(urban), spec.count, replace=False))]
            cx, cy = gridmod.to_local_xy(picks["lat"].to_numpy(), picks["lng"].to_numpy())
            anchors += [(float(a), float(b), d) for a, b, d in zip(cx, cy, picks["district_code"])]
        anchors = anchors[: spec.count]
        if spec.placement == "planned" or (spec.placement == "per_community" and ftype.essential):
            anchors += _planned_sites(residences, rx, ry, anchors, spec.count - len(anchors),
                                      ftype.threshold_min)
        rest = spec.count - len(anchors)
        if rest > 0:
            weights = _anchor_weights(residences, "core" if spec.placement == "core" else "population")
            chosen = rng.choice(len(residences), rest, p=weights / weights.sum())
            anchors += [(float(rx[i]), float(ry[i]), residences["district_code"].iat[i]) for i in chosen]
        for k, (x, y, district) in enumerate(anchors):
            fx, fy = _jitter_inside(rng, x, y, float(spec.spread_m), shapes[district], river)
            lat, lng = (float(v) for v in _from_local(fx, fy))
            rows.append({
                "id": f"{ftype.id}-{k + 1:04d}", "type": ftype.id,
                "name_zh": f"模拟{ftype.name_zh}{k + 1:04d}号",
                "name_en": f"Simulated {ftype.name_en.lower()} #{k + 1:04d}",
                "district_code": district, "lat": round(lat, 6), "lng": round(lng, 6), "status": STATUS,
            })
    return pd.DataFrame(rows)


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n", float_format="%.6f")
    return buffer.getvalue().encode("utf-8")


def generate(seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Generate communities, residences and facilities (in memory)."""
    rng = np.random.default_rng(seed)
    communities = make_communities(rng)
    residences = make_residences(rng, communities)
    counts = read_csv(SAMPLE_DIR / "facility_counts.csv")
    facilities = make_facilities(rng, communities, residences, counts)
    return {"communities": communities, "residences": residences, "facilities": facilities}


def write_sample(folder: Path = SAMPLE_DIR, seed: int = DEFAULT_SEED) -> SampleFiles:
    """Generate and write the three CSVs (write-then-rename, so a failure leaves the old files)."""
    frames = generate(seed)
    files = sample_files(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in (("communities", files.communities), ("residences", files.residences),
                       ("facilities", files.facilities)):
        tmp = path.with_suffix(".csv.tmp")
        tmp.write_bytes(_csv_bytes(frames[name]))
        tmp.replace(path)
    return files


def load_sample(folder: Path = SAMPLE_DIR) -> dict[str, pd.DataFrame]:
    files = sample_files(folder)
    return {
        "communities": read_csv(files.communities, dtype={"code": str, "street_code": str, "district_code": str}),
        "residences": read_csv(files.residences, dtype={"community_code": str, "street_code": str,
                                                        "district_code": str}),
        "facilities": read_csv(files.facilities, dtype={"district_code": str}),
    }
