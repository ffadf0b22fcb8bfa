"""Point → H3 cell for millions of points at once, exactly, with numpy.

H3 places cell centres on a regular hexagonal lattice in the gnomonic projection of each
icosahedron face ("hex2d" coordinates), so the cell holding a point is the lattice point nearest to
its hex2d position. This module does H3's own projection (``_geoToHex2d``, same constants and
formulas) vectorised, then a nearest-lattice-point rounding, then looks the lattice key up among
the city's cells. Points on another face than the city's (none at Wuhai) go to ``h3`` itself.
Tests check that the answer equals ``h3.latlng_to_cell`` point for point.
"""
from __future__ import annotations

import math

import h3
import numpy as np
from numba import njit

# Constants of the H3 reference implementation (h3/src/h3lib/lib/faceijk.c, constants.h).
RES0_U_GNOMONIC = 0.38196601125010500003
SQRT7 = 2.6457513110645905905016157536392604257102
AP7_ROT_RADS = 0.333473172251832115336090755351601070065900389
SQRT3_2 = 0.8660254037844386467637231707529361834714
FACE_CENTRE_GEO = np.array([
    (0.803582649718989942, 1.248397419617396099), (1.307747883455638156, 2.536945009877921159),
    (1.054751253523952054, -1.347517358900396623), (0.600191595538186799, -0.450603909469755746),
    (0.491715428198773866, 0.401988202911306943), (0.172745327415618701, 1.678146885280433686),
    (0.605929321571350690, 2.953923329812411617), (0.427370518328979641, -1.888876200336285401),
    (-0.079066118549212831, -0.733429513380867741), (-0.230961644455383637, 0.506495587332349035),
    (0.079066118549212831, 2.408163140208925497), (0.230961644455383637, -2.635097066257444203),
    (-0.172745327415618701, -1.463445768309359553), (-0.605929321571350690, -0.187669323777381622),
    (-0.427370518328979641, 1.252716453253507838), (-0.600191595538186799, 2.690988744120037492),
    (-0.491715428198773866, -2.739604450678486295), (-0.803582649718989942, -1.893195233972397139),
    (-1.307747883455638156, -0.604647643711872080), (-1.054751253523952054, 1.794075294689396615),
])
FACE_AXIS_AZ = np.array([
    5.619958268523939882, 5.760339081714187279, 0.780213654393430055, 0.430469363979999913,
    6.130269123335111400, 2.692877706530642877, 2.982963003477243874, 3.532912002790141181,
    3.494305004259568154, 3.003214169499538391, 5.930472956509811562, 0.138378484090254847,
    0.448714947059150361, 0.158629650112549365, 5.891865957979238535, 2.711123289609793325,
    3.294508837434268316, 3.804819692245439833, 3.664438879055192436, 2.361378999196363184,
])
_FACE_XYZ = np.column_stack([np.cos(FACE_CENTRE_GEO[:, 0]) * np.cos(FACE_CENTRE_GEO[:, 1]),
                             np.cos(FACE_CENTRE_GEO[:, 0]) * np.sin(FACE_CENTRE_GEO[:, 1]),
                             np.sin(FACE_CENTRE_GEO[:, 0])])
_KEY_OFFSET = 1 << 30
MAX_TABLE_ENTRIES = 16_000_000  # 64 MB of int32


def _pos_angle(a: np.ndarray) -> np.ndarray:
    return np.where(a < 0, a + 2 * math.pi, np.where(a >= 2 * math.pi, a - 2 * math.pi, a))


def _unit_vectors(lat_rad: np.ndarray, lng_rad: np.ndarray) -> np.ndarray:
    cos_lat = np.cos(lat_rad)
    return np.column_stack([cos_lat * np.cos(lng_rad), cos_lat * np.sin(lng_rad), np.sin(lat_rad)])


def closest_face(lat_rad: np.ndarray, lng_rad: np.ndarray) -> np.ndarray:
    """The icosahedron face whose centre is nearest (largest dot product = smallest chord, as H3)."""
    return (_unit_vectors(lat_rad, lng_rad) @ _FACE_XYZ.T).argmax(axis=1)


def hex2d(lat_deg, lng_deg, face: int, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """H3's ``_geoToHex2d`` on ``face`` (the caller makes sure the points belong to it)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lng = np.radians(np.asarray(lng_deg, dtype=np.float64))
    return _hex2d_rad(lat, lng, _unit_vectors(lat, lng), face, resolution)


def _hex2d_rad(lat, lng, xyz, face: int, resolution: int):
    c_lat, c_lng = FACE_CENTRE_GEO[face]
    sqd = ((xyz - _FACE_XYZ[face]) ** 2).sum(axis=1)
    r = np.arccos(1.0 - sqd / 2.0)
    cos_lat = np.cos(lat)
    d_lng = lng - c_lng
    azimuth = np.arctan2(cos_lat * np.sin(d_lng),
                         math.cos(c_lat) * xyz[:, 2] - math.sin(c_lat) * cos_lat * np.cos(d_lng))
    theta = _pos_angle(FACE_AXIS_AZ[face] - _pos_angle(azimuth))
    if resolution % 2 == 1:  # Class III resolutions are rotated
        theta = _pos_angle(theta - AP7_ROT_RADS)
    r = np.tan(r) * (SQRT7 ** resolution / RES0_U_GNOMONIC)
    return r * np.cos(theta), r * np.sin(theta)


def lattice_keys(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Key of the nearest hex-lattice point (lattice: i·(1, 0) + j·(½, √3/2)).

    The rhombus spanned by those two vectors is two equilateral triangles, so the nearest lattice
    point is one of its four corners."""
    j = y / SQRT3_2
    i = x - 0.5 * j
    i0, j0 = np.floor(i), np.floor(j)
    best_d = np.full(len(x), np.inf)
    best_i, best_j = i0.copy(), j0.copy()
    for di in (0.0, 1.0):
        for dj in (0.0, 1.0):
            ci, cj = i0 + di, j0 + dj
            dx = x - (ci + 0.5 * cj)
            dy = y - cj * SQRT3_2
            d = dx * dx + dy * dy
            better = d < best_d
            best_d = np.where(better, d, best_d)
            best_i = np.where(better, ci, best_i)
            best_j = np.where(better, cj, best_j)
    return (best_i.astype(np.int64) + _KEY_OFFSET) * (1 << 31) + (best_j.astype(np.int64) + _KEY_OFFSET)


# --- the compiled kernel: one pass per point, no temporary arrays -------------------------------
#
# The gnomonic projection needs no trigonometry beyond the point's own unit vector p. With c the
# face centre, H3 computes r = angle(p, c), the azimuth az of p seen from c and θ = A − az (A the
# face's axis azimuth, minus the aperture-7 rotation in Class III), then x = s·tan r·cos θ,
# y = s·tan r·sin θ. Writing the azimuth's east/north components as linear forms of p gives
# tan r·cos θ = (e·p) / (c·p) and tan r·sin θ = (n·p) / (c·p) for two fixed vectors e and n, so each
# point costs three dot products. It is the same projection as H3's, equal to the last bits of
# floating point (the tests compare with h3.latlng_to_cell point for point).


def projection_vectors(face: int, resolution: int) -> np.ndarray:
    """Rows c, e, n (scaled by the resolution): hex2d x = (e·p)/(c·p), y = (n·p)/(c·p)."""
    c_lat, c_lng = FACE_CENTRE_GEO[face]
    axis = FACE_AXIS_AZ[face] - (AP7_ROT_RADS if resolution % 2 == 1 else 0.0)
    scale = SQRT7 ** resolution / RES0_U_GNOMONIC
    # Azimuth components of p seen from c:  east = p·a,  north = p·b.
    a = np.array([-math.sin(c_lng), math.cos(c_lng), 0.0])
    b = np.array([-math.sin(c_lat) * math.cos(c_lng), -math.sin(c_lat) * math.sin(c_lng), math.cos(c_lat)])
    # θ = axis − az:  cos θ = cos(axis)·north + sin(axis)·east (over |…|), sin θ = sin(axis)·north − cos(axis)·east.
    e = scale * (math.cos(axis) * b + math.sin(axis) * a)
    n = scale * (math.sin(axis) * b - math.cos(axis) * a)
    return np.vstack([_FACE_XYZ[face], e, n])


@njit(cache=True, nogil=True)
def _locate_kernel(lat_deg, lng_deg, face_xyz, face, proj, i_min, j_min, table, keys, positions):
    n = lat_deg.shape[0]
    out = np.full(n, -1, np.int64)
    off_face = np.zeros(n, np.bool_)
    n_i, n_j = table.shape
    for p in range(n):
        lat = math.radians(lat_deg[p])
        lng = math.radians(lng_deg[p])
        cl = math.cos(lat)
        x0, y0, z0 = cl * math.cos(lng), cl * math.sin(lng), math.sin(lat)
        # H3's closest face: the largest dot product (first one on a tie, as H3's strict "<").
        best, best_f = -2.0, -1
        for f in range(face_xyz.shape[0]):
            d = x0 * face_xyz[f, 0] + y0 * face_xyz[f, 1] + z0 * face_xyz[f, 2]
            if d > best:
                best, best_f = d, f
        if best_f != face:
            off_face[p] = True
            continue
        cp = x0 * proj[0, 0] + y0 * proj[0, 1] + z0 * proj[0, 2]
        x = (x0 * proj[1, 0] + y0 * proj[1, 1] + z0 * proj[1, 2]) / cp
        y = (x0 * proj[2, 0] + y0 * proj[2, 1] + z0 * proj[2, 2]) / cp
        # Nearest lattice point: one of the four corners of the rhombus holding (x, y).
        jf = y / SQRT3_2
        i_f = x - 0.5 * jf
        i0, j0 = math.floor(i_f), math.floor(jf)
        bd, bi, bj = 1e300, i0, j0
        for di in range(2):
            for dj in range(2):
                ci, cj = i0 + di, j0 + dj
                ex = x - (ci + 0.5 * cj)
                ey = y - cj * SQRT3_2
                d = ex * ex + ey * ey
                if d < bd:
                    bd, bi, bj = d, ci, cj
        if n_i > 0:
            ti, tj = np.int64(bi) - i_min, np.int64(bj) - j_min
            if 0 <= ti < n_i and 0 <= tj < n_j:
                out[p] = table[ti, tj]
            continue
        key = (np.int64(bi) + _KEY_OFFSET) * (1 << 31) + (np.int64(bj) + _KEY_OFFSET)
        lo, hi = 0, keys.shape[0]
        while lo < hi:
            mid = (lo + hi) >> 1
            if keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < keys.shape[0] and keys[lo] == key:
            out[p] = positions[lo]
    return out, off_face


def _boundary_box(cells: np.ndarray) -> tuple[float, float, float, float] | None:
    """South, west, north, east of the cells' boundaries, widened by half a cell (the edges are
    straight in the gnomonic plane, not in latitude/longitude); None for no cells."""
    if len(cells) == 0:
        return None
    vertices = np.array([v for c in cells.tolist() for v in h3.cell_to_boundary(h3.int_to_str(c))])
    lat, lng = vertices[:, 0], vertices[:, 1]
    margin = np.degrees(h3.average_hexagon_edge_length(h3.get_resolution(h3.int_to_str(int(cells[0]))), "km")
                        / 6371.0088)
    if lng.max() - lng.min() > 180:  # across the antimeridian: do not try to be clever
        return (-90.0, -180.0, 90.0, 180.0)
    margin_lng = margin / max(math.cos(math.radians(min(89.0, float(np.abs(lat).max()) + margin))), 0.01)
    return (lat.min() - margin, lng.min() - margin_lng, lat.max() + margin, lng.max() + margin_lng)


class CellLocator:
    """Exact, vectorised point → position among a fixed set of H3 cells (-1 if not among them)."""

    def __init__(self, cells: np.ndarray, resolution: int, lat=None, lng=None):
        """``cells`` sorted H3 ids; ``lat``/``lng`` their centres if known (else asked of h3)."""
        self.resolution = resolution
        self.cells = np.asarray(cells, dtype=np.uint64)
        if lat is None or lng is None:
            centres = np.array([h3.cell_to_latlng(h3.int_to_str(c)) for c in self.cells.tolist()])
            lat, lng = centres[:, 0], centres[:, 1]
        lat, lng = np.asarray(lat, dtype=np.float64), np.asarray(lng, dtype=np.float64)
        faces = closest_face(np.radians(lat), np.radians(lng))
        self.face = int(np.bincount(faces).argmax())
        on_face = faces == self.face
        x, y = hex2d(lat[on_face], lng[on_face], self.face, resolution)
        keys = lattice_keys(x, y)
        positions = np.flatnonzero(on_face)
        order = np.argsort(keys)
        self._keys = keys[order]
        self._positions = positions[order]
        # The compiled path reads a dense (i, j) lattice table over the cells' extent rather than
        # searching the sorted keys (≈ 0.5 M entries, 2 MB, for Wuhai at resolution 10); a set too
        # sparse for a table (a fine resolution over a wide area) keeps the search.
        lattice_i = (keys >> 31) - _KEY_OFFSET
        lattice_j = (keys & ((1 << 31) - 1)) - _KEY_OFFSET
        self._i_min = int(lattice_i.min()) if len(keys) else 0
        self._j_min = int(lattice_j.min()) if len(keys) else 0
        shape = ((int(lattice_i.max()) - self._i_min + 1, int(lattice_j.max()) - self._j_min + 1)
                 if len(keys) else (0, 0))
        if shape[0] * shape[1] > MAX_TABLE_ENTRIES:
            shape = (0, 0)
        self._table = np.full(shape, -1, dtype=np.int32)
        if shape[0]:
            self._table[lattice_i - self._i_min, lattice_j - self._j_min] = positions
        self._projection = projection_vectors(self.face, resolution)
        # Cells of the set whose centre sits on another face can only be found through h3; a
        # point on our face can still fall in one of them (a cell straddling the face edge), so a
        # miss inside their bounding box is asked of h3 as well.
        self._off_face_cells = self.cells[~on_face]
        self._off_face_box = _boundary_box(self._off_face_cells)

    def locate_numpy(self, lat, lng) -> np.ndarray:
        """The same answer as :meth:`locate`, in plain numpy (kept as a readable reference)."""
        lat = np.asarray(lat, dtype=np.float64).ravel()
        lng = np.asarray(lng, dtype=np.float64).ravel()
        out = np.full(len(lat), -1, dtype=np.int64)
        if len(lat) == 0:
            return out
        lat_r, lng_r = np.radians(lat), np.radians(lng)
        xyz = _unit_vectors(lat_r, lng_r)
        mine = (xyz @ _FACE_XYZ.T).argmax(axis=1) == self.face
        if mine.any():
            x, y = _hex2d_rad(lat_r[mine], lng_r[mine], xyz[mine], self.face, self.resolution)
            keys = lattice_keys(x, y)
            idx = np.searchsorted(self._keys, keys).clip(0, len(self._keys) - 1)
            found = self._keys[idx] == keys
            out[np.flatnonzero(mine)] = np.where(found, self._positions[idx], -1)
        self._fill_off_face(lat, lng, np.flatnonzero(~mine | self._near_off_face_cells(lat, lng, out)), out)
        return out

    def _fill_off_face(self, lat, lng, which, out) -> None:
        for k in which.tolist():  # another face than the city's: rare, exact through h3
            cell = h3.str_to_int(h3.latlng_to_cell(lat[k], lng[k], self.resolution))
            pos = np.searchsorted(self.cells, np.uint64(cell))
            out[k] = pos if pos < len(self.cells) and self.cells[pos] == cell else -1

    def locate(self, lat, lng) -> np.ndarray:
        """Positions of WGS-84 points among the cells (-1 where the point's cell is not one of them)."""
        lat = np.ascontiguousarray(np.asarray(lat, dtype=np.float64).ravel())
        lng = np.ascontiguousarray(np.asarray(lng, dtype=np.float64).ravel())
        out, off_face = _locate_kernel(lat, lng, _FACE_XYZ, self.face, self._projection,
                                       self._i_min, self._j_min, self._table, self._keys, self._positions)
        self._fill_off_face(lat, lng, np.flatnonzero(off_face | self._near_off_face_cells(lat, lng, out)), out)
        return out

    def _near_off_face_cells(self, lat, lng, out) -> np.ndarray:
        if self._off_face_box is None:
            return np.zeros(len(lat), dtype=bool)
        s, w, n, e = self._off_face_box
        return (out < 0) & (lat >= s) & (lat <= n) & (lng >= w) & (lng <= e)
