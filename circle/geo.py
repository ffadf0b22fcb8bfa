"""Coordinates and coordinate reference systems (CRS) for the Wuhai 15-minute life-circle engine.

Chinese web maps do not publish plain WGS-84:

* **GCJ-02** ("Mars coordinates") is used by Amap (高德) and Tencent. It is WGS-84 plus a
  deliberately obfuscating offset; at Wuhai the offset is about 405 m east and 100 m north.
* **BD-09** is used by Baidu: GCJ-02 plus a further rotation/shift of several hundred metres.

This project stores *everything* in WGS-84 (EPSG:4326). Convert on input with :func:`to_wgs84`
and, if a map layer needs it, on output with :func:`from_wgs84`.

Conventions
-----------
* Every function takes ``(lat, lng)`` and returns ``(lat, lng)`` — note that GeoJSON stores
  ``[lng, lat]``; :func:`transform_geometry` takes care of that swap.
* Functions accept Python/numpy scalars or array-likes.  Scalars in → Python ``float`` out;
  arrays in → ``numpy.ndarray`` out (broadcast together).
* GCJ-02 is only defined inside China.  As in the common ``eviltransform`` implementations,
  points outside the rough bounding box 72.004–137.8347 E, 0.8293–55.8271 N are left unchanged
  by the GCJ-02 transform (the BD-09 step, which is a plain formula, applies everywhere).
* The inverse transforms (:func:`gcj02_to_wgs84`, :func:`bd09_to_gcj02`) are exact inverses,
  computed by fixed-point iteration until the correction is below 1e-7 degrees (≈ 1 cm), not the
  one-step approximation (which is off by up to a few metres).

Pure Python + numpy (+ shapely for :func:`guess_crs`); no UI code here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Iterable, Tuple, Union

import numpy as np

__all__ = [
    "CRS_ALIASES",
    "SUPPORTED_CRS",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "normalize_crs",
    "to_wgs84",
    "from_wgs84",
    "validate_latlng",
    "haversine_m",
    "transform_geometry",
    "guess_crs",
]

Number = Union[float, int, np.floating, np.integer]
ArrayLike = Union[Number, Iterable[float], np.ndarray]
LatLng = Tuple[Any, Any]
LatLngFunc = Callable[[Any, Any], LatLng]

# --- constants ---------------------------------------------------------------------------------

#: Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
#: Baidu's magic constant (π·3000/180).
_BD_X_PI = math.pi * 3000.0 / 180.0
#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8

#: Rough bounding box of China used to decide where GCJ-02 applies (lng_min, lng_max, lat_min, lat_max).
CHINA_BBOX = (72.004, 137.8347, 0.8293, 55.8271)

#: Convergence tolerance (degrees) and iteration cap for the exact inverses.
INVERSE_TOL_DEG = 1e-7
INVERSE_MAX_ITER = 50

SUPPORTED_CRS = ("wgs84", "gcj02", "bd09")
CRS_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "wgs_84": "wgs84",
    "epsg:4326": "wgs84",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "gcj_02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd_09": "bd09",
}

_DEFAULT_REFERENCE = (
    Path(__file__).resolve().parent.parent / "data" / "reference" / "wuhai_city_outline_wgs84.geojson"
)


# --- scalar / array plumbing -------------------------------------------------------------------


def _as_arrays(lat: ArrayLike, lng: ArrayLike) -> Tuple[np.ndarray, np.ndarray, bool]:
    """Return float arrays broadcast together, and whether both inputs were scalars."""
    scalar = np.ndim(lat) == 0 and np.ndim(lng) == 0
    la, ln = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lng, dtype=float))
    return la.astype(float, copy=True), ln.astype(float, copy=True), scalar


def _out(lat: np.ndarray, lng: np.ndarray, scalar: bool) -> LatLng:
    if scalar:
        return float(lat), float(lng)
    return lat, lng


# --- GCJ-02 ------------------------------------------------------------------------------------


def out_of_china(lat: ArrayLike, lng: ArrayLike) -> Any:
    """True where the point is outside the rough China bounding box (GCJ-02 is identity there)."""
    la, ln, scalar = _as_arrays(lat, lng)
    lng_min, lng_max, lat_min, lat_max = CHINA_BBOX
    res = (ln < lng_min) | (ln > lng_max) | (la < lat_min) | (la > lat_max)
    return bool(res) if scalar else res


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(lat: np.ndarray, lng: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlat, dlng) in degrees at a WGS-84 point, ignoring the China test."""
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _GCJ_EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_GCJ_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlat, dlng


def _wgs_to_gcj_arr(lat: np.ndarray, lng: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    dlat, dlng = _gcj_delta(lat, lng)
    outside = out_of_china(lat, lng)
    return np.where(outside, lat, lat + dlat), np.where(outside, lng, lng + dlng)


def wgs84_to_gcj02(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """WGS-84 → GCJ-02 (identity outside China)."""
    la, ln, scalar = _as_arrays(lat, lng)
    return _out(*_wgs_to_gcj_arr(la, ln), scalar)


def _fixed_point_inverse(
    forward: Callable[[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]],
    lat: np.ndarray,
    lng: np.ndarray,
    active: np.ndarray,
    start: Tuple[np.ndarray, np.ndarray] | None = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Solve forward(w) = (lat, lng) for w where ``active``, starting from ``start`` (default the target).

    Iterates w ← w − (forward(w) − target) until the correction is below INVERSE_TOL_DEG
    (the forward offsets vary slowly, so this contracts quickly: ~3–5 iterations).
    """
    wlat, wlng = (lat.copy(), lng.copy()) if start is None else (start[0].copy(), start[1].copy())
    todo = active.copy()
    for _ in range(INVERSE_MAX_ITER):
        if not todo.any():
            break
        flat, flng = forward(wlat[todo], wlng[todo])
        elat, elng = flat - lat[todo], flng - lng[todo]
        wlat[todo] -= elat
        wlng[todo] -= elng
        done = (np.abs(elat) < INVERSE_TOL_DEG) & (np.abs(elng) < INVERSE_TOL_DEG)
        idx = np.flatnonzero(todo)
        todo[idx[done]] = False
    return wlat, wlng


def gcj02_to_wgs84(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """GCJ-02 → WGS-84, exact inverse of :func:`wgs84_to_gcj02` (fixed-point, < 1e-7°)."""
    la, ln, scalar = _as_arrays(lat, lng)
    shape = la.shape
    la, ln = la.ravel(), ln.ravel()
    inside = ~out_of_china(la, ln) & np.isfinite(la) & np.isfinite(ln)

    def forward(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        # No China test inside the iteration, so points near the bbox edge cannot oscillate.
        dlat, dlng = _gcj_delta(a, b)
        return a + dlat, b + dlng

    wlat, wlng = _fixed_point_inverse(forward, la, ln, inside)
    return _out(wlat.reshape(shape), wlng.reshape(shape), scalar)


# --- BD-09 -------------------------------------------------------------------------------------


def _gcj_to_bd_arr(lat: np.ndarray, lng: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _BD_X_PI)
    return z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065


def gcj02_to_bd09(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """GCJ-02 → BD-09 (Baidu)."""
    la, ln, scalar = _as_arrays(lat, lng)
    return _out(*_gcj_to_bd_arr(la, ln), scalar)


def _bd_to_gcj_approx(lat: np.ndarray, lng: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    x, y = lng - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return z * np.sin(theta), z * np.cos(theta)


def bd09_to_gcj02(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """BD-09 → GCJ-02, exact inverse of :func:`gcj02_to_bd09`.

    Starts from Baidu's usual one-step formula and refines by fixed-point iteration (< 1e-7°).
    """
    la, ln, scalar = _as_arrays(lat, lng)
    shape = la.shape
    la, ln = la.ravel(), ln.ravel()
    alat, alng = _bd_to_gcj_approx(la, ln)
    active = np.isfinite(la) & np.isfinite(ln)
    glat, glng = _fixed_point_inverse(_gcj_to_bd_arr, la, ln, active, start=(alat, alng))
    return _out(glat.reshape(shape), glng.reshape(shape), scalar)


def wgs84_to_bd09(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """WGS-84 → BD-09 (via GCJ-02)."""
    la, ln, scalar = _as_arrays(lat, lng)
    g = _wgs_to_gcj_arr(la, ln)
    return _out(*_gcj_to_bd_arr(*g), scalar)


def bd09_to_wgs84(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    """BD-09 → WGS-84 (via GCJ-02, both steps exact inverses)."""
    la, ln, scalar = _as_arrays(lat, lng)
    g = bd09_to_gcj02(la, ln)
    return _out(*gcj02_to_wgs84(*g), scalar)


# --- CRS dispatch ------------------------------------------------------------------------------


def _unknown_crs(crs: Any) -> ValueError:
    return ValueError(
        f"未知坐标系 {crs!r}：请使用 wgs84、gcj02 或 bd09 / "
        f"Unknown coordinate system {crs!r}: use wgs84, gcj02 or bd09"
    )


def normalize_crs(crs: str) -> str:
    """Canonical CRS name ('wgs84', 'gcj02' or 'bd09'); ValueError (bilingual) otherwise."""
    if not isinstance(crs, str):
        raise _unknown_crs(crs)
    key = crs.strip().lower()
    if key not in CRS_ALIASES:
        raise _unknown_crs(crs)
    return CRS_ALIASES[key]


_TO_WGS: dict = {"wgs84": None, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS: dict = {"wgs84": None, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _identity(lat: ArrayLike, lng: ArrayLike) -> LatLng:
    la, ln, scalar = _as_arrays(lat, lng)
    return _out(la, ln, scalar)


def to_wgs84(lat: ArrayLike, lng: ArrayLike, crs: str) -> LatLng:
    """Convert from ``crs`` ('wgs84' / 'gcj02' / 'bd09', aliases accepted) to WGS-84."""
    func = _TO_WGS[normalize_crs(crs)] or _identity
    return func(lat, lng)


def from_wgs84(lat: ArrayLike, lng: ArrayLike, crs: str) -> LatLng:
    """Convert from WGS-84 to ``crs`` ('wgs84' / 'gcj02' / 'bd09', aliases accepted)."""
    func = _FROM_WGS[normalize_crs(crs)] or _identity
    return func(lat, lng)


# --- validation and distance -------------------------------------------------------------------


def validate_latlng(lat: Any, lng: Any) -> LatLng:
    """Check coordinates are possible; return them as floats / float arrays.

    Raises ValueError (message in Chinese, then English) for non-numeric values, NaN,
    infinities, |lat| > 90 or |lng| > 180.
    """

    def numeric(v: Any, name_zh: str, name_en: str) -> np.ndarray:
        bad = isinstance(v, (str, bytes, bool, np.bool_)) or v is None
        if not bad:
            try:
                arr = np.asarray(v)
                bad = arr.dtype.kind not in "iuf"
                if not bad:
                    return arr.astype(float)
            except (TypeError, ValueError):
                bad = True
        raise ValueError(f"{name_zh}不是数字：{v!r} / {name_en} is not numeric: {v!r}")

    la = numeric(lat, "纬度", "Latitude")
    ln = numeric(lng, "经度", "Longitude")
    try:
        la_b, ln_b = np.broadcast_arrays(la, ln)
    except ValueError:
        raise ValueError(
            "纬度和经度的数量不一致 / latitude and longitude have incompatible shapes"
        ) from None

    if np.isnan(la_b).any() or np.isnan(ln_b).any():
        raise ValueError("坐标包含空值（NaN）/ Coordinates contain NaN")
    if np.isinf(la_b).any() or np.isinf(ln_b).any():
        raise ValueError("坐标包含无穷大 / Coordinates contain infinity")
    if (np.abs(la_b) > 90).any():
        bad = la_b[np.abs(la_b) > 90].flat[0]
        raise ValueError(
            f"纬度超出范围（−90 到 90）：{bad} / Latitude out of range (−90 to 90): {bad}"
        )
    if (np.abs(ln_b) > 180).any():
        bad = ln_b[np.abs(ln_b) > 180].flat[0]
        raise ValueError(
            f"经度超出范围（−180 到 180）：{bad} / Longitude out of range (−180 to 180): {bad}"
        )
    scalar = np.ndim(lat) == 0 and np.ndim(lng) == 0
    return _out(la_b.astype(float), ln_b.astype(float), scalar)


def haversine_m(lat1: ArrayLike, lng1: ArrayLike, lat2: ArrayLike, lng2: ArrayLike) -> Any:
    """Great-circle distance in metres (R = 6,371,008.8 m); broadcasts over arrays."""
    p1, p2 = np.radians(np.asarray(lat1, dtype=float)), np.radians(np.asarray(lat2, dtype=float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lng2, dtype=float) - np.asarray(lng1, dtype=float))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    d = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    if all(np.ndim(v) == 0 for v in (lat1, lng1, lat2, lng2)):
        return float(d)
    return d


# --- GeoJSON -----------------------------------------------------------------------------------


def _is_position(c: Any) -> bool:
    return (
        isinstance(c, (list, tuple))
        and len(c) >= 2
        and all(isinstance(v, (int, float, np.integer, np.floating)) for v in c[:2])
    )


def _map_coords(c: Any, func: LatLngFunc) -> Any:
    if _is_position(c):
        lat, lng = func(float(c[1]), float(c[0]))
        return [float(lng), float(lat), *c[2:]]
    if isinstance(c, (list, tuple)) and c and all(_is_position(p) for p in c):
        # A ring / line / list of points: convert in one vectorised call.
        lngs = np.array([p[0] for p in c], dtype=float)
        lats = np.array([p[1] for p in c], dtype=float)
        nlat, nlng = func(lats, lngs)
        nlat, nlng = np.atleast_1d(nlat), np.atleast_1d(nlng)
        return [[float(x), float(y), *p[2:]] for x, y, p in zip(nlng, nlat, c)]
    if isinstance(c, (list, tuple)):
        return [_map_coords(sub, func) for sub in c]
    return c


def transform_geometry(geojson_geometry: dict, func: LatLngFunc) -> dict:
    """Apply a ``(lat, lng) -> (lat, lng)`` conversion to every coordinate of a GeoJSON geometry.

    Handles Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon and
    GeometryCollection (GeoJSON positions are ``[lng, lat(, alt)]``; extra dimensions are kept).
    Returns a new dict; the input is not modified. A ``bbox`` member, now stale, is dropped.
    """
    if not isinstance(geojson_geometry, dict) or "type" not in geojson_geometry:
        raise ValueError("不是 GeoJSON 几何对象 / Not a GeoJSON geometry")
    out = {k: v for k, v in geojson_geometry.items() if k not in ("coordinates", "geometries", "bbox")}
    gtype = geojson_geometry["type"]
    if gtype == "GeometryCollection":
        out["geometries"] = [transform_geometry(g, func) for g in geojson_geometry.get("geometries", [])]
    elif gtype in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"):
        out["coordinates"] = _map_coords(geojson_geometry.get("coordinates", []), func)
    else:
        raise ValueError(f"不支持的几何类型 {gtype!r} / Unsupported geometry type {gtype!r}")
    return out


# --- CRS detection -----------------------------------------------------------------------------


def _load_reference(reference_polygon: Any) -> Any:
    """Accept a shapely geometry, a GeoJSON geometry/Feature/FeatureCollection dict, or a path."""
    from shapely.geometry import shape
    from shapely.ops import unary_union

    ref = _DEFAULT_REFERENCE if reference_polygon is None else reference_polygon
    if isinstance(ref, (str, Path)):
        ref = json.loads(Path(ref).read_text(encoding="utf-8"))
    if isinstance(ref, dict):
        if ref.get("type") == "FeatureCollection":
            return unary_union([shape(f["geometry"]) for f in ref["features"]])
        if ref.get("type") == "Feature":
            return shape(ref["geometry"])
        return shape(ref)
    return ref  # assume a shapely geometry


def guess_crs(lats: ArrayLike, lngs: ArrayLike, reference_polygon: Any = None) -> Tuple[str, str]:
    """Guess which CRS points are in, given that they should fall inside a known WGS-84 area.

    For each candidate ('wgs84', 'gcj02', 'bd09') the points are converted to WGS-84 and the share
    falling inside ``reference_polygon`` is measured; the candidate with the largest share wins
    (ties go to wgs84, then gcj02).  ``reference_polygon`` is a shapely geometry, GeoJSON dict or
    file path; by default the Wuhai city outline in ``data/reference``.

    The offsets are only a few hundred metres, so the signal comes from points near the
    polygon's edge: use a tight reference (e.g. urban cores, a street outline) for a clearer
    answer.  The note says how clear the answer was; importers use it to warn, not to decide.
    Returns ``(crs, note)``.
    """
    import shapely

    la, ln, _ = _as_arrays(lats, lngs)
    la, ln = la.ravel(), ln.ravel()
    ok = np.isfinite(la) & np.isfinite(ln)
    la, ln = la[ok], ln[ok]
    if la.size == 0:
        return "wgs84", "没有可用的坐标，默认 wgs84 / No usable coordinates; assuming wgs84"
    poly = _load_reference(reference_polygon)

    shares = {}
    for crs in SUPPORTED_CRS:
        wlat, wlng = to_wgs84(la, ln, crs)
        shares[crs] = float(np.mean(shapely.contains_xy(poly, wlng, wlat)))
    best = max(SUPPORTED_CRS, key=lambda c: shares[c])  # max keeps the first on ties
    runner_up = max(shares[c] for c in SUPPORTED_CRS if c != best)
    margin = shares[best] - runner_up
    detail = ", ".join(f"{c} {shares[c]:.0%}" for c in SUPPORTED_CRS)
    n = la.size

    if shares[best] == 0.0:
        note = (
            f"没有点落在参考区域内（{n} 个点），无法判断，默认 wgs84 / "
            f"None of {n} points fall inside the reference area; cannot tell, assuming wgs84"
        )
        return "wgs84", note
    if margin == 0.0:
        level_zh, level_en = "无法区分", "indistinguishable"
    elif margin < 0.05:
        level_zh, level_en = "把握低", "low confidence"
    elif margin < 0.2:
        level_zh, level_en = "把握中等", "medium confidence"
    else:
        level_zh, level_en = "把握高", "high confidence"
    note = (
        f"推测为 {best}（{level_zh}；区域内比例：{detail}；{n} 个点）/ "
        f"Guessed {best} ({level_en}; share inside reference: {detail}; {n} points)"
    )
    return best, note
