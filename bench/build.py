"""Benchmark 1: the whole-city build against a per-origin isochrone baseline.

Ours
    ``circle.index.compute_access(grid, facilities, params, type_ids)``: for every facility type one
    multi-source Dijkstra (nearest facility, every cell at once) plus one bounded search per facility
    cell (how many within 15 minutes), numba-compiled, types on a thread pool. The grid is built
    once beforehand and timed separately; the first call (numba loading / compiling) is timed
    separately from the warm calls.

Also measured, each in a fresh interpreter: the full cold ``build_index(force=True,
use_cache=False)`` (import, grid, facilities → cells, access, CityIndex construction), once with
numba's on-disk cache as it is and once with an empty ``NUMBA_CACHE_DIR`` (true compile cost).

Baseline
    What an OSMnx / networkx user would write: from each origin cell a single-source Dijkstra
    (pure-Python ``heapq``, ``dict`` of distances, like ``networkx.single_source_dijkstra`` with a
    cutoff) over the same neighbour table and edge lengths (pre-converted to Python adjacency
    lists, not timed, so the baseline does not pay numpy scalar access), cut off at
    ``access.SEARCH_LIMIT_M`` walking metres (60 minutes at the fastest preset, the same limit as
    ours). It stops as soon as it has found the nearest facility of every type *and* has passed
    the 15-minute count radius (so it also yields the 15-minute counts ours produces), or at the
    cutoff. Timed on random samples of origins and extrapolated — the output says so.
"""
from __future__ import annotations

import heapq
import math
import tempfile
import time

import numpy as np

from bench.common import (SEED, Report, fmt_s, fmt_x, log, measure, ratio, run_python, verdict)

BUILD_GOAL_S = 2.0
MIN_TYPES = 25
SPEEDUP_GOAL = 100.0
SAMPLE_ORIGINS = 200

_COLD_BUILD_CODE = r"""
import json, time
t0 = time.perf_counter()
from circle import index as ix
t_import = time.perf_counter() - t0
t = time.perf_counter()
idx = ix.build_index(force=True, use_cache=False)
wall = time.perf_counter() - t
warm = []
for _ in range(2):
    t = time.perf_counter()
    ix.compute_access(idx.grid, idx.facilities, idx.params, idx.type_ids)
    warm.append(time.perf_counter() - t)
print(json.dumps({"import_s": t_import, "build_index_wall_s": wall, "timings": idx.timings,
                  "access_warm_s": warm, "cells": int(idx.grid.size), "types": len(idx.type_ids)}))
"""


def _cold_build(fresh_numba_cache: bool) -> dict:
    if not fresh_numba_cache:
        return run_python(_COLD_BUILD_CODE)
    with tempfile.TemporaryDirectory(prefix="bench-numba-") as tmp:
        return run_python(_COLD_BUILD_CODE, {"NUMBA_CACHE_DIR": tmp})


# --- the baseline ------------------------------------------------------------------------------------

def python_graph(grid, circuity: float) -> list[list[tuple[int, float]]]:
    """Adjacency lists ``[(neighbour, walking metres), ...]`` — the same lengths ours uses
    (float32 centre-to-centre metres promoted to float64, times the circuity)."""
    nb = grid.neighbours.tolist()
    em = (grid.edge_m.astype(np.float64) * circuity).tolist()
    return [[(w, l) for w, l in zip(row_n, row_l) if w >= 0] for row_n, row_l in zip(nb, em)]


def facilities_by_cell(facilities, type_ids) -> dict[int, list[tuple[int, int]]]:
    """cell position → [(type index, facility row), ...], rows ascending."""
    type_pos = {t: i for i, t in enumerate(type_ids)}
    out: dict[int, list[tuple[int, int]]] = {}
    for row, cell, ftype in zip(facilities.index.tolist(), facilities["cell_pos"].tolist(),
                                facilities["type"].tolist()):
        if cell >= 0 and ftype in type_pos:
            out.setdefault(int(cell), []).append((type_pos[ftype], int(row)))
    for v in out.values():
        v.sort(key=lambda p: p[1])
    return out


def per_origin(origin: int, adj, fac_by_cell, n_types: int, types_present: int,
               limit_m: float, count_m: float):
    """Bounded Dijkstra from one origin: nearest facility (metres, row) of every type, and how
    many of each lie within ``count_m``. Stops when every type present in the city has been found
    and the search has passed ``count_m``, or when nothing is left within ``limit_m``."""
    inf = math.inf
    best = [inf] * n_types
    best_row = [-1] * n_types
    counts = [0] * n_types
    found = 0
    dist = {origin: 0.0}
    done = set()
    heap = [(0.0, origin)]
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        d, v = pop(heap)
        if v in done:
            continue
        done.add(v)
        if found == types_present and d > count_m:
            break
        here = fac_by_cell.get(v)
        if here is not None:
            for t, row in here:
                if d <= count_m:
                    counts[t] += 1
                if best_row[t] < 0:
                    best[t], best_row[t] = d, row
                    found += 1
                elif d == best[t] and row < best_row[t]:
                    best_row[t] = row
        for w, length in adj[v]:
            nd = d + length
            if nd > limit_m:
                continue
            if nd < dist.get(w, inf):
                dist[w] = nd
                push(heap, (nd, w))
    return best, best_row, counts


def _populated_cells(grid, residences_path) -> np.ndarray:
    """Cells with residents, as the index defines them (``spread_population`` when the engine has it:
    each compound's residents over its cell and the cells around it)."""
    import h3
    import pandas as pd

    from circle import index as ix

    table = pd.read_csv(residences_path)
    ids = np.fromiter((h3.str_to_int(h3.latlng_to_cell(a, b, grid.resolution))
                       for a, b in zip(table["lat"].tolist(), table["lng"].tolist())),
                      dtype=np.uint64, count=len(table))
    pos = grid.position_of(ids)
    people = table["population"].to_numpy()
    if hasattr(ix, "spread_population"):
        pop = ix.spread_population(grid, pos, people)
    else:
        pop = np.bincount(pos[pos >= 0], weights=people[pos >= 0], minlength=grid.size)
    return np.flatnonzero(pop > 0)


# --- the benchmark ----------------------------------------------------------------------------------

def run(quick: bool = False) -> Report:
    import pandas as pd

    from circle import access
    from circle import grid as gridmod
    from circle import index as ix

    rep = Report()
    rng = np.random.default_rng(SEED)

    # 1. Full cold builds, each in a fresh interpreter.
    log("[build] cold build_index(force=True, use_cache=False) in a fresh interpreter ...")
    cold = _cold_build(fresh_numba_cache=False)
    log("[build] ... and again with an empty NUMBA_CACHE_DIR (includes numba compilation) ...")
    cold_compile = None if quick else _cold_build(fresh_numba_cache=True)
    rep.details["cold_build_numba_cache_warm"] = cold
    rep.details["cold_build_numba_cache_empty"] = cold_compile

    # 2. In-process: grid once, then ours.
    params = ix.Params()
    log("[build] building the grid once (in-process) ...")
    t = time.perf_counter()
    grid = gridmod.build_grid(params.resolution)
    grid_s = time.perf_counter() - t
    raw = pd.read_csv(ix.DEFAULT_DATASET.facilities_path, dtype={"district_code": str, "id": str})
    t = time.perf_counter()
    facilities = ix._prepare_facilities(raw, grid)
    prep_s = time.perf_counter() - t
    type_ids = tuple(t.id for t in ix.facility_types())
    on_grid = facilities[(facilities["cell_pos"] >= 0) & facilities["type"].isin(type_ids)]
    types_with_data = int(on_grid["type"].nunique())
    n = grid.size

    def ours():
        return ix.compute_access(grid, facilities, params, type_ids)

    log("[build] compute_access: first call in this process, then warm repeats ...")
    t = time.perf_counter()
    dist, nearest, count = ours()
    first_s = time.perf_counter() - t
    warm = measure(ours, repeat=3 if quick else 5, warmup=0)
    rep.details.update({"grid_s": grid_s, "facilities_to_cells_s": prep_s, "first_call_s": first_s,
                        "warm": warm.as_dict(), "cells": n, "types": len(type_ids),
                        "types_with_facilities": types_with_data, "facilities_on_grid": len(on_grid)})

    # 3. Baseline: per-origin bounded Dijkstra on samples.
    log("[build] baseline: preparing Python adjacency lists (not timed in the baseline) ...")
    t = time.perf_counter()
    adj = python_graph(grid, params.circuity)
    fac_by_cell = facilities_by_cell(facilities, type_ids)
    graph_prep_s = time.perf_counter() - t
    types_present = len({t for v in fac_by_cell.values() for t, _ in v})
    count_m = access.metres_from_minutes(ix.COUNT_MINUTES, params.speed_kmh)
    populated = _populated_cells(grid, ix.DEFAULT_DATASET.residences_path)
    k = 60 if quick else SAMPLE_ORIGINS
    samples = {
        "populated": rng.choice(populated, size=min(k, len(populated)), replace=False),
        "all": rng.choice(n, size=k, replace=False),
    }
    mpm = access.metres_per_minute(params.speed_kmh)
    per_origin_s = {}
    check = {"max_abs_diff_min": 0.0, "finite_mismatch": 0, "count_mismatch": 0, "nearest_same": 0,
             "nearest_total": 0, "pairs_compared": 0}
    for name, origins in samples.items():
        log(f"[build] baseline: {len(origins)} origins sampled from {name} cells ...")
        times = []
        for o in origins.tolist():
            t = time.perf_counter()
            best, best_row, counts = per_origin(o, adj, fac_by_cell, len(type_ids), types_present,
                                                params.limit_m, count_m)
            times.append(time.perf_counter() - t)
            ours_min = dist[:, o].astype(np.float64) / mpm
            base_min = np.array(best) / mpm
            fin_o, fin_b = np.isfinite(ours_min), np.isfinite(base_min)
            check["finite_mismatch"] += int((fin_o != fin_b).sum())
            both = fin_o & fin_b
            if both.any():
                check["max_abs_diff_min"] = max(check["max_abs_diff_min"],
                                                float(np.abs(ours_min[both] - base_min[both]).max()))
            check["pairs_compared"] += int(both.sum())
            check["count_mismatch"] += int((np.array(counts) != count[:, o].astype(int)).sum())
            check["nearest_same"] += int((np.array(best_row) == nearest[:, o]).sum())
            check["nearest_total"] += len(type_ids)
        per_origin_s[name] = float(np.mean(times))
        rep.details[f"baseline_{name}"] = {"origins": len(origins), "sum_s": float(np.sum(times)),
                                           "mean_per_origin_s": per_origin_s[name],
                                           "median_per_origin_s": float(np.median(times))}

    base_populated_s = per_origin_s["populated"] * len(populated)
    base_city_s = per_origin_s["all"] * n
    ours_s = warm.median
    r_city = ratio(base_city_s, ours_s)
    r_pop = ratio(base_populated_s, ours_s)
    rep.details.update({"graph_prep_s": graph_prep_s, "populated_cells": int(len(populated)),
                        "baseline_populated_extrapolated_s": base_populated_s,
                        "baseline_city_extrapolated_s": base_city_s,
                        "ratio_whole_city": r_city, "ratio_populated_only": r_pop, "equality": check})

    # 4. Rows.
    rep.add("build", "grid construction (build_grid, once)", fmt_s(grid_s),
            note=f"{n:,} H3 res-{params.resolution} cells; facilities → cells {fmt_s(prep_s)}")
    rep.add("build", f"compute_access, warm ({len(type_ids)} types, {types_with_data} with data)",
            str(warm), f"≤ {BUILD_GOAL_S:g} s with ≥ {MIN_TYPES} types",
            verdict(ours_s <= BUILD_GOAL_S and types_with_data >= MIN_TYPES), ours_s, "s",
            note=f"{len(on_grid):,} facilities; median of {len(warm.times)} warm runs after one warm-up call")
    rep.add("build", "compute_access, first call in process", fmt_s(first_s),
            note=f"numba on-disk cache as found; first − warm median = {fmt_s(first_s - ours_s)}")
    tm = cold["timings"]
    rep.add("build", "cold build_index(force, no cache), fresh process", fmt_s(cold["build_index_wall_s"]),
            note=(f"import circle.index {fmt_s(cold['import_s'])} (not included); grid "
                  f"{fmt_s(tm.get('grid_s', float('nan')))}, facilities→cells "
                  f"{fmt_s(tm.get('facilities_to_cells_s', float('nan')))}, access (1st call) "
                  f"{fmt_s(tm.get('access_s', float('nan')))}, rest (CityIndex construction) "
                  f"{fmt_s(cold['build_index_wall_s'] - tm.get('total_s', float('nan')))}; numba on-disk cache warm"))
    if cold_compile is not None:
        tc = cold_compile["timings"]
        compile_s = tc.get("access_s", float("nan")) - min(cold_compile["access_warm_s"])
        rep.add("build", "numba compile cost (empty NUMBA_CACHE_DIR)", fmt_s(compile_s),
                note=(f"first compute_access {fmt_s(tc.get('access_s', float('nan')))} vs warm {fmt_s(min(cold_compile['access_warm_s']))}"
                      f" in the same fresh process; cold build_index there took {fmt_s(cold_compile['build_index_wall_s'])}"))
    rep.add("build", "baseline per origin (populated cells)", fmt_s(per_origin_s["populated"]),
            note=(f"pure-Python heapq Dijkstra, cutoff {params.limit_m:,.0f} m, mean over "
                  f"{len(samples['populated'])} of {len(populated)} populated cells; adjacency-list prep "
                  f"{fmt_s(graph_prep_s)} not counted"))
    rep.add("build", "baseline per origin (any cell)", fmt_s(per_origin_s["all"]),
            note=f"mean over {len(samples['all'])} cells drawn uniformly from all {n:,}")
    rep.add("build", "speed-up, whole city (headline)",
            f"{fmt_x(r_city)} ({fmt_s(base_city_s)} extrapolated vs {fmt_s(ours_s)})",
            f"≥ {SPEEDUP_GOAL:g}×", verdict(r_city >= SPEEDUP_GOAL), r_city, "x",
            note=(f"same output (every cell): baseline mean per origin × {n:,} cells (EXTRAPOLATED from "
                  f"{len(samples['all'])} sampled origins) vs ours warm median; per cell "
                  f"{fmt_s(per_origin_s['all'])} vs {fmt_s(ours_s / n)}"))
    rep.add("build", "speed-up, populated cells only",
            f"{fmt_x(r_pop)} ({fmt_s(base_populated_s)} extrapolated vs {fmt_s(ours_s)})",
            f"≥ {SPEEDUP_GOAL:g}×", verdict(r_pop >= SPEEDUP_GOAL), r_pop, "x",
            note=(f"baseline answers only the {len(populated)} populated cells (EXTRAPOLATED from "
                  f"{len(samples['populated'])}) while ours still computes all {n:,}; ours per populated "
                  f"cell would be {fmt_s(ours_s / len(populated))}"))
    eq_ok = check["max_abs_diff_min"] < 1e-3 and check["finite_mismatch"] == 0 and check["count_mismatch"] == 0
    rep.add("build", "equality on sampled origins (minutes)",
            f"max |Δ| {check['max_abs_diff_min']:.2e} min", "≤ 1e-3 min, same reachability & counts",
            verdict(eq_ok), check["max_abs_diff_min"], "min",
            note=(f"{check['pairs_compared']:,} (origin, type) pairs; reachability mismatches "
                  f"{check['finite_mismatch']}; 15-min count mismatches {check['count_mismatch']}; same nearest "
                  f"facility in {check['nearest_same']}/{check['nearest_total']} (any other = a tie: equal distance within the max |Δ|)"))
    return rep
