"""Walking-distance engines over the cell graph: nearest facility, counts within reach, isochrones.

The graph is given as a fixed-degree neighbour table (``neighbours[i, k]`` = position of the k-th
neighbour of cell i, -1 for none) with edge lengths in metres. Walking metres along the grid are
edge lengths × ``CIRCUITY``; minutes are walking metres ÷ speed. Because every edge scales by the
same factor, the shortest paths do not depend on the speed: we store metres and convert at the end.

Three searches, all Dijkstra with a binary heap, compiled with numba:

* :func:`nearest` — multi-source: from all facilities of a type at once, each cell gets the
  distance to its nearest facility and which one (one pass, whatever the number of facilities);
* :func:`count_within` — a bounded search from each facility cell, adding its facility count to
  every cell reached within the limit (how many are within 15 minutes, not only the nearest);
* :func:`reach_from` — a bounded single-source search (the isochrone of one home).
"""
from __future__ import annotations

import numpy as np
from numba import njit

# Street networks are longer than straight lines: detour indices of 1.2–1.4 are typical for urban
# walking (e.g. Giacomin & Levinson 2015; Boeing 2019). Paths along a hexagonal grid are already
# 0–15% (about 7% on average) longer than the straight line, so 1.2 on every edge gives an
# effective detour of about 1.28.
CIRCUITY = 1.2
SPEED_PRESETS_KMH = {"elderly": 3.6, "default": 4.0, "brisk": 4.5, "fast": 5.0}
DEFAULT_SPEED_KMH = 4.0
# Searches stop at 60 minutes at the fastest preset; anything farther is "more than an hour".
SEARCH_LIMIT_M = 5_000.0


def metres_per_minute(speed_kmh: float) -> float:
    return float(speed_kmh) * 1000.0 / 60.0


def minutes_from_metres(metres, speed_kmh: float):
    return np.asarray(metres, dtype=np.float64) / metres_per_minute(speed_kmh)


def metres_from_minutes(minutes: float, speed_kmh: float) -> float:
    return float(minutes) * metres_per_minute(speed_kmh)


# --- a binary min-heap on parallel arrays (numba has no priority queue of its own) -------------

@njit(cache=True, inline="always")
def _push(heap_d, heap_v, size, d, v):
    i = size
    heap_d[i] = d
    heap_v[i] = v
    while i > 0:
        parent = (i - 1) >> 1
        if heap_d[parent] <= heap_d[i]:
            break
        heap_d[parent], heap_d[i] = heap_d[i], heap_d[parent]
        heap_v[parent], heap_v[i] = heap_v[i], heap_v[parent]
        i = parent
    return size + 1


@njit(cache=True, inline="always")
def _pop(heap_d, heap_v, size):
    d = heap_d[0]
    v = heap_v[0]
    size -= 1
    heap_d[0] = heap_d[size]
    heap_v[0] = heap_v[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and heap_d[left + 1] < heap_d[left]:
            child = left + 1
        if heap_d[i] <= heap_d[child]:
            break
        heap_d[i], heap_d[child] = heap_d[child], heap_d[i]
        heap_v[i], heap_v[child] = heap_v[child], heap_v[i]
        i = child
    return d, v, size


@njit(cache=True, nogil=True)
def _nearest(neighbours, edge_m, source_cells, source_ids, circuity, limit_m):
    n = neighbours.shape[0]
    dist = np.full(n, np.inf)
    owner = np.full(n, -1, np.int32)
    cap = 6 * n + len(source_cells) + 1
    heap_d = np.empty(cap)
    heap_v = np.empty(cap, np.int32)
    size = 0
    for k in range(len(source_cells)):
        c = source_cells[k]
        if owner[c] < 0 or source_ids[k] < owner[c]:
            owner[c] = source_ids[k]  # several in one cell: the smallest id, so results are stable
        if dist[c] > 0.0:
            dist[c] = 0.0
            size = _push(heap_d, heap_v, size, 0.0, c)
    while size > 0:
        d, v, size = _pop(heap_d, heap_v, size)
        if d > dist[v]:
            continue
        for k in range(neighbours.shape[1]):
            w = neighbours[v, k]
            if w < 0:
                continue
            nd = d + edge_m[v, k] * circuity
            if nd > limit_m:
                continue
            if nd < dist[w] or (nd == dist[w] and owner[v] < owner[w]):
                dist[w] = nd
                owner[w] = owner[v]
                size = _push(heap_d, heap_v, size, nd, w)
    return dist, owner


@njit(cache=True, nogil=True)
def _count_within(neighbours, edge_m, source_cells, source_weights, circuity, limit_m):
    n = neighbours.shape[0]
    counts = np.zeros(n, np.int32)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int32)
    cap = 6 * n + 1
    heap_d = np.empty(cap)
    heap_v = np.empty(cap, np.int32)
    for s in range(len(source_cells)):
        origin = source_cells[s]
        n_touched = 0
        dist[origin] = 0.0
        touched[n_touched] = origin
        n_touched += 1
        size = _push(heap_d, heap_v, 0, 0.0, origin)
        while size > 0:
            d, v, size = _pop(heap_d, heap_v, size)
            if d > dist[v]:
                continue
            for k in range(neighbours.shape[1]):
                w = neighbours[v, k]
                if w < 0:
                    continue
                nd = d + edge_m[v, k] * circuity
                if nd <= limit_m and nd < dist[w]:
                    if dist[w] == np.inf:
                        touched[n_touched] = w
                        n_touched += 1
                    dist[w] = nd
                    size = _push(heap_d, heap_v, size, nd, w)
        for t in range(n_touched):
            counts[touched[t]] += source_weights[s]
            dist[touched[t]] = np.inf
    return counts


@njit(cache=True, nogil=True)
def _reach_from(neighbours, edge_m, origin, circuity, limit_m):
    n = neighbours.shape[0]
    dist = np.full(n, np.inf)
    order = np.empty(n, np.int32)
    n_done = 0
    cap = 6 * n + 1
    heap_d = np.empty(cap)
    heap_v = np.empty(cap, np.int32)
    dist[origin] = 0.0
    size = _push(heap_d, heap_v, 0, 0.0, origin)
    while size > 0:
        d, v, size = _pop(heap_d, heap_v, size)
        if d > dist[v]:
            continue
        order[n_done] = v
        n_done += 1
        for k in range(neighbours.shape[1]):
            w = neighbours[v, k]
            if w < 0:
                continue
            nd = d + edge_m[v, k] * circuity
            if nd <= limit_m and nd < dist[w]:
                dist[w] = nd
                size = _push(heap_d, heap_v, size, nd, w)
    cells = order[:n_done].copy()
    return cells, dist[cells]


def nearest(neighbours: np.ndarray, edge_m: np.ndarray, source_cells: np.ndarray,
            source_ids: np.ndarray | None = None, *, circuity: float = CIRCUITY,
            limit_m: float = SEARCH_LIMIT_M) -> tuple[np.ndarray, np.ndarray]:
    """Walking metres from every cell to the nearest source, and that source's id (-1 if none).

    ``source_cells`` are cell positions (repeats allowed: several facilities in one cell);
    ``source_ids`` default to the source's index. Beyond ``limit_m`` the distance is ``inf``.
    """
    source_cells = np.ascontiguousarray(source_cells, dtype=np.int64)
    if source_ids is None:
        source_ids = np.arange(len(source_cells), dtype=np.int32)
    source_ids = np.ascontiguousarray(source_ids, dtype=np.int32)
    if len(source_cells) == 0:
        n = neighbours.shape[0]
        return np.full(n, np.inf, np.float32), np.full(n, -1, np.int32)
    dist, owner = _nearest(neighbours, edge_m, source_cells, source_ids, float(circuity), float(limit_m))
    return dist.astype(np.float32), owner


def count_within(neighbours: np.ndarray, edge_m: np.ndarray, source_cells: np.ndarray,
                 limit_m: float, *, circuity: float = CIRCUITY) -> np.ndarray:
    """For every cell, how many sources lie within ``limit_m`` walking metres."""
    cells, weights = np.unique(np.asarray(source_cells, dtype=np.int64), return_counts=True)
    if len(cells) == 0:
        return np.zeros(neighbours.shape[0], np.int32)
    return _count_within(neighbours, edge_m, cells, weights.astype(np.int32), float(circuity), float(limit_m))


def reach_from(neighbours: np.ndarray, edge_m: np.ndarray, origin: int, limit_m: float,
               *, circuity: float = CIRCUITY) -> tuple[np.ndarray, np.ndarray]:
    """Cells reachable from ``origin`` within ``limit_m`` walking metres, nearest first, with metres."""
    return _reach_from(neighbours, edge_m, int(origin), float(circuity), float(limit_m))


def reference_shortest_paths(neighbours: np.ndarray, edge_m: np.ndarray, source_cells,
                             circuity: float = CIRCUITY) -> np.ndarray:
    """Plain-Python Dijkstra (heapq), for tests and the benchmark baseline; slow but obviously right."""
    import heapq

    n = neighbours.shape[0]
    dist = [float("inf")] * n
    heap = []
    for c in source_cells:
        dist[int(c)] = 0.0
        heap.append((0.0, int(c)))
    heapq.heapify(heap)
    while heap:
        d, v = heapq.heappop(heap)
        if d > dist[v]:
            continue
        for k in range(neighbours.shape[1]):
            w = int(neighbours[v, k])
            if w < 0:
                continue
            nd = d + float(edge_m[v, k]) * circuity
            if nd < dist[w]:
                dist[w] = nd
                heapq.heappush(heap, (nd, w))
    return np.array(dist)
