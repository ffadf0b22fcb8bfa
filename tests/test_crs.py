"""Tests for circle.geo: CRS conversions (WGS-84 / GCJ-02 / BD-09), validation, distances."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circle import geo
from circle.geo import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    guess_crs,
    haversine_m,
    to_wgs84,
    transform_geometry,
    validate_latlng,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

REF = Path(__file__).resolve().parent.parent / "data" / "reference"
GCJ_FILE = REF / "wuhai_districts_cnmaps_gcj02.geojson"
WGS_FILE = REF / "wuhai_districts_wgs84.geojson"

ROUND_TRIP_TOL_M = 0.01

wuhai_lat = st.floats(39.1, 39.9, allow_nan=False, allow_infinity=False)
wuhai_lng = st.floats(106.5, 107.1, allow_nan=False, allow_infinity=False)
# Broad mainland China (kept inside the GCJ bounding box, away from its edges).
china_lat = st.floats(18.0, 53.0, allow_nan=False, allow_infinity=False)
china_lng = st.floats(74.0, 134.0, allow_nan=False, allow_infinity=False)


def _flatten(coords):
    """All [lng, lat] positions of a GeoJSON coordinates array, in order."""
    if isinstance(coords[0], (int, float)):
        return [coords]
    out = []
    for c in coords:
        out.extend(_flatten(c))
    return out


def _has_chinese_and_english(msg: str) -> bool:
    has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in msg)
    has_latin = any("a" <= ch.lower() <= "z" for ch in msg)
    return has_cjk and has_latin


# --- the real test vector ----------------------------------------------------------------------


def test_district_file_gcj02_to_wgs84_matches_reference_within_1m():
    gcj = json.loads(GCJ_FILE.read_text(encoding="utf-8"))
    wgs = json.loads(WGS_FILE.read_text(encoding="utf-8"))
    assert len(gcj["features"]) == len(wgs["features"]) == 3
    errors = []
    for fg, fw in zip(gcj["features"], wgs["features"]):
        assert fg["properties"]["adcode"] == fw["properties"]["adcode"]
        converted = transform_geometry(fg["geometry"], gcj02_to_wgs84)
        assert converted["type"] == fw["geometry"]["type"]
        got = np.array(_flatten(converted["coordinates"]))
        want = np.array(_flatten(fw["geometry"]["coordinates"]))
        assert got.shape == want.shape, f"vertex count differs for {fg['properties']['name']}"
        errors.append(haversine_m(got[:, 1], got[:, 0], want[:, 1], want[:, 0]))
        # The government seat shipped with both coordinates is a second check.
        slng, slat = fg["properties"]["seat_gcj02"]
        wlat, wlng = gcj02_to_wgs84(slat, slng)
        elng, elat = fg["properties"]["seat_wgs84"]
        errors.append(np.atleast_1d(haversine_m(wlat, wlng, elat, elng)))
    err = np.concatenate(errors)
    max_err = float(err.max())
    assert max_err < 1.0, f"max error {max_err:.3f} m over {err.size} vertices (mean {err.mean():.3f} m)"


# --- round trips -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.tuples(wuhai_lat, wuhai_lng), st.tuples(china_lat, china_lng)))
def test_round_trip_gcj02(p):
    lat, lng = p
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))
    err = haversine_m(lat, lng, *back)
    assert err < ROUND_TRIP_TOL_M, f"WGS→GCJ→WGS error {err:.6f} m at {p}"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.tuples(wuhai_lat, wuhai_lng), st.tuples(china_lat, china_lng)))
def test_round_trip_bd09(p):
    lat, lng = p
    back = bd09_to_wgs84(*wgs84_to_bd09(lat, lng))
    err = haversine_m(lat, lng, *back)
    assert err < ROUND_TRIP_TOL_M, f"WGS→BD→WGS error {err:.6f} m at {p}"


@settings(max_examples=200, deadline=None)
@given(china_lat, china_lng)
def test_round_trip_gcj_bd(lat, lng):
    back = bd09_to_gcj02(*gcj02_to_bd09(lat, lng))
    assert haversine_m(lat, lng, *back) < ROUND_TRIP_TOL_M


def test_round_trip_max_error_vectorised():
    rng = np.random.default_rng(0)
    lat = np.concatenate([rng.uniform(39.1, 39.9, 5000), rng.uniform(18, 53, 5000)])
    lng = np.concatenate([rng.uniform(106.5, 107.1, 5000), rng.uniform(74, 134, 5000)])
    e_gcj = haversine_m(lat, lng, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))).max()
    e_bd = haversine_m(lat, lng, *bd09_to_wgs84(*wgs84_to_bd09(lat, lng))).max()
    assert e_gcj < ROUND_TRIP_TOL_M, f"max GCJ round-trip error {e_gcj:.2e} m"
    assert e_bd < ROUND_TRIP_TOL_M, f"max BD round-trip error {e_bd:.2e} m"


def test_inverse_is_better_than_one_step_approximation():
    # The naive inverse (wgs ≈ 2·gcj − f(gcj)) is off by decimetres+; ours must be far tighter.
    lat, lng = 39.67, 106.81
    glat, glng = wgs84_to_gcj02(lat, lng)
    flat, flng = wgs84_to_gcj02(glat, glng)
    naive = haversine_m(lat, lng, 2 * glat - flat, 2 * glng - flng)
    exact = haversine_m(lat, lng, *gcj02_to_wgs84(glat, glng))
    assert exact < 0.001 < naive


# --- offsets and the outside-China rule --------------------------------------------------------


def test_gcj_offset_at_wuhai():
    lat, lng = 39.67, 106.81
    glat, glng = wgs84_to_gcj02(lat, lng)
    total = haversine_m(lat, lng, glat, glng)
    east = haversine_m(lat, lng, lat, glng) * math.copysign(1, glng - lng)
    north = haversine_m(lat, lng, glat, lng) * math.copysign(1, glat - lat)
    assert 300 < total < 500, total
    assert 350 < east < 450, east  # ≈ 405 m east
    assert 50 < north < 150, north  # ≈ 100 m north


def test_bd_offset_is_larger_than_gcj_at_wuhai():
    lat, lng = 39.67, 106.81
    d_bd = haversine_m(lat, lng, *wgs84_to_bd09(lat, lng))
    d_gcj = haversine_m(lat, lng, *wgs84_to_gcj02(lat, lng))
    assert d_bd > d_gcj
    assert 500 < d_bd < 2000


@pytest.mark.parametrize(
    "lat,lng",
    [(51.5074, -0.1278), (40.7128, -74.006), (-33.86, 151.21), (35.68, 139.77), (60.0, 100.0)],
)
def test_outside_china_gcj_is_identity(lat, lng):
    assert wgs84_to_gcj02(lat, lng) == (lat, lng)
    assert gcj02_to_wgs84(lat, lng) == (lat, lng)
    # BD-09 still applies its own formula everywhere, and still round-trips.
    assert haversine_m(lat, lng, *bd09_to_wgs84(*wgs84_to_bd09(lat, lng))) < ROUND_TRIP_TOL_M


def test_outside_china_vectorised_mixed():
    lat = np.array([39.67, 51.5074])
    lng = np.array([106.81, -0.1278])
    glat, glng = wgs84_to_gcj02(lat, lng)
    assert glat[1] == lat[1] and glng[1] == lng[1]
    assert glng[0] != lng[0]


# --- CRS dispatch ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,canon",
    [
        ("wgs84", "wgs84"), ("WGS84", "wgs84"), ("wgs-84", "wgs84"), ("EPSG:4326", "wgs84"),
        ("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("bd09", "bd09"), ("BD-09", "bd09"),
    ],
)
def test_to_from_wgs84_dispatch(name, canon):
    lat, lng = 39.67, 106.81
    direct = {"wgs84": (lat, lng), "gcj02": wgs84_to_gcj02(lat, lng), "bd09": wgs84_to_bd09(lat, lng)}
    assert from_wgs84(lat, lng, name) == direct[canon]
    back = to_wgs84(*from_wgs84(lat, lng, name), name)
    assert haversine_m(lat, lng, *back) < ROUND_TRIP_TOL_M


@pytest.mark.parametrize("bad", ["xyz", "", "epsg:3857", None, 4326])
def test_unknown_crs_raises_bilingual(bad):
    with pytest.raises(ValueError) as exc:
        to_wgs84(39.67, 106.81, bad)
    msg = str(exc.value)
    assert "未知坐标系" in msg and "Unknown coordinate system" in msg
    assert msg.index("未知坐标系") < msg.index("Unknown")
    with pytest.raises(ValueError):
        from_wgs84(39.67, 106.81, bad)


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lat,lng",
    [
        (float("nan"), 106.8), (39.6, float("nan")), (float("inf"), 106.8), (39.6, -float("inf")),
        (90.0001, 106.8), (-91, 106.8), (39.6, 180.5), (39.6, -181),
        ("39.6", 106.8), (39.6, None), (True, 106.8), ([39.6, "x"], [106.8, 106.9]),
        (np.array([39.6, np.nan]), np.array([106.8, 106.9])),
        (np.array([39.6, 39.7]), np.array([106.8, 200.0])),
    ],
)
def test_validate_latlng_raises_bilingual(lat, lng):
    with pytest.raises(ValueError) as exc:
        validate_latlng(lat, lng)
    assert _has_chinese_and_english(str(exc.value)), str(exc.value)


def test_validate_latlng_accepts_valid():
    assert validate_latlng(39.67, 106.81) == (39.67, 106.81)
    assert validate_latlng(90, -180) == (90.0, -180.0)
    lat, lng = validate_latlng(np.array([39.6, -10.0]), [106.8, 0])
    assert isinstance(lat, np.ndarray) and lng.tolist() == [106.8, 0.0]


# --- vectorised vs scalar ----------------------------------------------------------------------

FUNCS = [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84]


@pytest.mark.parametrize("func", FUNCS, ids=lambda f: f.__name__)
def test_vectorised_matches_scalar(func):
    rng = np.random.default_rng(1)
    lat = np.concatenate([rng.uniform(39.1, 39.9, 20), rng.uniform(18, 53, 20), [51.5, -33.9]])
    lng = np.concatenate([rng.uniform(106.5, 107.1, 20), rng.uniform(74, 134, 20), [-0.13, 151.2]])
    vlat, vlng = func(lat, lng)
    assert isinstance(vlat, np.ndarray) and vlat.shape == lat.shape
    for i in range(lat.size):
        slat, slng = func(float(lat[i]), float(lng[i]))
        assert isinstance(slat, float) and isinstance(slng, float)
        assert slat == pytest.approx(vlat[i], abs=1e-9)
        assert slng == pytest.approx(vlng[i], abs=1e-9)
    # 2-D input keeps its shape; lists are accepted too.
    mlat, _ = func(lat[:40].reshape(4, 10), lng[:40].reshape(4, 10))
    assert mlat.shape == (4, 10)
    llat, _ = func(list(lat[:3]), list(lng[:3]))
    assert np.allclose(llat, vlat[:3])


def test_haversine_scalar_vector_and_known_distance():
    # One degree of latitude ≈ 111.195 km with R = 6,371,008.8 m.
    assert haversine_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(6_371_008.8 * math.pi / 180, rel=1e-12)
    assert isinstance(haversine_m(39.6, 106.8, 39.7, 106.9), float)
    d = haversine_m(np.array([39.6, 39.6]), np.array([106.8, 106.8]), 39.7, np.array([106.9, 106.8]))
    assert d.shape == (2,)
    assert d[0] == pytest.approx(haversine_m(39.6, 106.8, 39.7, 106.9))
    assert haversine_m(39.6, 106.8, 39.6, 106.8) == 0.0


# --- GeoJSON -----------------------------------------------------------------------------------


def test_transform_geometry_all_types_and_order():
    p = [106.81, 39.67]
    geoms = {
        "Point": p,
        "MultiPoint": [p, [106.82, 39.68]],
        "LineString": [p, [106.82, 39.68]],
        "MultiLineString": [[p, [106.82, 39.68]], [[106.7, 39.5], [106.71, 39.51]]],
        "Polygon": [[p, [106.82, 39.67], [106.82, 39.68], p]],
        "MultiPolygon": [[[p, [106.82, 39.67], [106.82, 39.68], p]]],
    }
    glat, glng = wgs84_to_gcj02(39.67, 106.81)
    for gtype, coords in geoms.items():
        g = {"type": gtype, "coordinates": coords}
        out = transform_geometry(g, wgs84_to_gcj02)
        assert out["type"] == gtype
        assert g["coordinates"] is coords and _flatten(coords)[0] == p  # input untouched
        first = _flatten(out["coordinates"])[0]
        assert first == pytest.approx([glng, glat], abs=1e-12)  # [lng, lat] order kept
        assert len(_flatten(out["coordinates"])) == len(_flatten(coords))


def test_transform_geometry_keeps_altitude_and_collection():
    g = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [106.81, 39.67, 1100.0]}]}
    out = transform_geometry(g, wgs84_to_gcj02)
    assert out["geometries"][0]["coordinates"][2] == 1100.0
    with pytest.raises(ValueError):
        transform_geometry({"type": "Circle", "coordinates": [0, 0]}, wgs84_to_gcj02)


# --- guess_crs ---------------------------------------------------------------------------------


def _urban_box():
    from shapely.geometry import box

    # A small box (~4 km) in Haibowan; offsets of 400–1000 m move many points out of it.
    return box(106.80, 39.64, 106.85, 39.68)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
def test_guess_crs_detects_offsets(crs):
    rng = np.random.default_rng(2)
    lat = rng.uniform(39.64, 39.68, 400)
    lng = rng.uniform(106.80, 106.85, 400)
    plat, plng = from_wgs84(lat, lng, crs)
    guessed, note = guess_crs(plat, plng, _urban_box())
    assert guessed == crs, note
    assert crs in note and _has_chinese_and_english(note)


def test_guess_crs_default_reference_and_empty():
    rng = np.random.default_rng(3)
    lat, lng = rng.uniform(39.3, 39.8, 50), rng.uniform(106.75, 106.9, 50)
    crs, note = guess_crs(lat, lng)  # default: Wuhai city outline
    assert crs in geo.SUPPORTED_CRS and isinstance(note, str)
    crs, note = guess_crs([0.0], [0.0], _urban_box())
    assert crs == "wgs84" and "wgs84" in note
    crs, note = guess_crs([], [], _urban_box())
    assert crs == "wgs84"
