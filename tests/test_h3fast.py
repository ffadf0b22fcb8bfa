"""The compiled point → cell path (circle.h3fast) against h3 itself, away from Wuhai too."""
from __future__ import annotations

import h3
import numpy as np
import pytest

from circle import h3fast


def _h3_positions(cells: np.ndarray, lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    ids = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, res)) for a, b in zip(lat.tolist(), lng.tolist())],
                   dtype=np.uint64)
    pos = np.searchsorted(cells, ids).clip(0, len(cells) - 1)
    return np.where(cells[pos] == ids, pos, -1)


def _region_cells(lat: float, lng: float, res: int, k: int) -> np.ndarray:
    return np.array(sorted(h3.str_to_int(c) for c in h3.grid_disk(h3.latlng_to_cell(lat, lng, res), k)),
                    dtype=np.uint64)


def _face_edge_point() -> tuple[float, float]:
    """A point where two icosahedron faces meet (found by bisection between two faces)."""
    a, b = np.array([39.6, 106.8]), np.array([39.6, 130.0])
    fa = h3fast.closest_face(*np.radians(a[:, None]))[0]
    assert h3fast.closest_face(*np.radians(b[:, None]))[0] != fa
    for _ in range(60):
        mid = (a + b) / 2
        if h3fast.closest_face(*np.radians(mid[:, None]))[0] == fa:
            a = mid
        else:
            b = mid
    return float(a[0]), float(a[1])


@pytest.mark.parametrize("table", [True, False], ids=["lattice-table", "sorted-key-search"])
@pytest.mark.parametrize("where", ["wuhai", "face-edge"])
def test_locate_equals_h3(monkeypatch, table, where):
    res = 9
    lat0, lng0 = (39.65, 106.82) if where == "wuhai" else _face_edge_point()
    cells = _region_cells(lat0, lng0, res, 30)
    if not table:
        monkeypatch.setattr(h3fast, "MAX_TABLE_ENTRIES", 0)
    locator = h3fast.CellLocator(cells, res)
    assert (locator._table.size > 0) == table
    rng = np.random.default_rng(11)
    lat = lat0 + rng.uniform(-0.15, 0.15, 20_000)
    lng = lng0 + rng.uniform(-0.2, 0.2, 20_000)
    want = _h3_positions(cells, lat, lng, res)
    got = locator.locate(lat, lng)
    assert np.array_equal(got, want), np.flatnonzero(got != want)[:5]
    assert np.array_equal(locator.locate_numpy(lat, lng), want)
    assert (want >= 0).sum() > 2_000 and (want < 0).sum() > 2_000
    if where == "face-edge":  # both faces are really exercised
        faces = h3fast.closest_face(np.radians(lat), np.radians(lng))
        assert len(set(faces[want >= 0].tolist())) == 2


def test_linear_projection_equals_h3_trigonometry():
    """(e·p)/(c·p), (n·p)/(c·p) is H3's _geoToHex2d (r, azimuth, θ, tan) to rounding."""
    rng = np.random.default_rng(2)
    for res in (9, 10):  # Class III and Class II
        lat = rng.uniform(35, 45, 5_000)
        lng = rng.uniform(100, 112, 5_000)
        face = int(np.bincount(h3fast.closest_face(np.radians(lat), np.radians(lng))).argmax())
        keep = h3fast.closest_face(np.radians(lat), np.radians(lng)) == face
        x, y = h3fast.hex2d(lat[keep], lng[keep], face, res)
        c, e, n = h3fast.projection_vectors(face, res)
        p = h3fast._unit_vectors(np.radians(lat[keep]), np.radians(lng[keep]))
        assert np.allclose(p @ e / (p @ c), x, rtol=0, atol=1e-7)
        assert np.allclose(p @ n / (p @ c), y, rtol=0, atol=1e-7)
