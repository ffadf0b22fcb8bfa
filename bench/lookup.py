"""Benchmarks 2 and 3: answering points from the built index.

Batched (benchmark 2)
    1,000,000 points uniform in the city's bounding box (fixed seed; about 60% fall outside the
    city, which is what a bounding box of Wuhai looks like). Ours: ``index.lookup_many(lats, lngs)``
    (the full DataFrame: cell, district, street, circles, minutes for every type) and, separately,
    its cell-assignment core ``index.positions_of``. Baseline: a brute-force straight-line scan —
    for each point, the nearest facility of every type by straight-line distance (numpy
    broadcasting over all facilities of the type), timed on 2,000 of the points and extrapolated.

Single (benchmark 3)
    2,000 random points inside the city: ``index.lookup(lat, lng)`` (a full ``Profile`` with every
    type), ``index.lookup_many`` with one point, and the brute-force scan for one point; per-call
    latency, median and min. If ``lookup`` misses the goal, a cProfile breakdown says where the
    time goes.

Correctness: ``positions_of`` is compared with ``h3.latlng_to_cell`` on every one of the 1 M points.

Prototypes (labelled PROTO, never counted as the engine's PASS; see ``bench/proto.py``): the k-d
tree query bounded at ~100 m (points farther than 90 m from every centre are outside the city and
need no H3 call); a bucket-table locator in an affine-corrected plane; a lean ``lookup_many``; and
a lean single-point ``minutes_at(lat, lng)``. Each is checked against H3 / the engine's own output
and shows what a suggested engine change would buy.
"""
from __future__ import annotations

import cProfile
import io
import math
import pstats
import time

import numpy as np

from bench.common import (SEED, Report, fmt_rate, fmt_s, fmt_x, log, measure, measure_each,
                          ratio, verdict)

BATCH_POINTS = 1_000_000
BATCH_BASELINE_SAMPLE = 2_000
BATCH_GOAL_PER_S = 2_000_000
SINGLE_POINTS = 2_000
SINGLE_GOAL_S = 20e-6
FAR_M = 90.0          # positions_of treats a point this far from every centre as "far out"

_INDEX = None


def get_index():
    global _INDEX
    if _INDEX is None:
        from circle import index as ix

        log("[lookup] loading the index (load_index: cache, or build if stale) ...")
        t = time.perf_counter()
        _INDEX = ix.load_index()
        log(f"[lookup] ... {fmt_s(time.perf_counter() - t)} ({'cache' if 'load_cache_s' in _INDEX.timings else 'built'})")
    return _INDEX


def bbox_points(grid, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.uniform(grid.lat.min(), grid.lat.max(), n), rng.uniform(grid.lng.min(), grid.lng.max(), n))


def city_points(index, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform over the city (rejection sampling from the bounding box)."""
    lats, lngs = [], []
    got = 0
    k = 0
    while got < n:
        la, ln = bbox_points(index.grid, 4 * n, seed + k)
        inside = index.positions_of(la, ln) >= 0
        lats.append(la[inside])
        lngs.append(ln[inside])
        got += int(inside.sum())
        k += 1
    return np.concatenate(lats)[:n], np.concatenate(lngs)[:n]


# --- the brute-force baseline ------------------------------------------------------------------------

class BruteForce:
    """Nearest facility of every type by straight-line distance, scanning all facilities."""

    def __init__(self, index):
        from circle import grid as gridmod

        self._xy = gridmod.to_local_xy
        fac = index.facilities
        self.types = []
        for type_id in index.type_ids:
            rows = fac[fac["type"] == type_id]
            x, y = gridmod.to_local_xy(rows["lat"].to_numpy(), rows["lng"].to_numpy())
            self.types.append((x, y, rows.index.to_numpy()))

    def many(self, lat, lng) -> tuple[np.ndarray, np.ndarray]:
        px, py = self._xy(lat, lng)
        dist = np.full((len(self.types), len(px)), np.inf)
        row = np.full((len(self.types), len(px)), -1)
        for t, (fx, fy, ids) in enumerate(self.types):
            if len(fx) == 0:
                continue
            d2 = (px[:, None] - fx[None, :]) ** 2 + (py[:, None] - fy[None, :]) ** 2
            k = d2.argmin(axis=1)
            dist[t] = np.sqrt(d2[np.arange(len(px)), k])
            row[t] = ids[k]
        return dist, row

    def one(self, lat: float, lng: float):
        px, py = self._xy(lat, lng)
        out = []
        for fx, fy, ids in self.types:
            if len(fx) == 0:
                out.append((math.inf, -1))
                continue
            d2 = (fx - px) ** 2 + (fy - py) ** 2
            k = int(d2.argmin())
            out.append((math.sqrt(d2[k]), int(ids[k])))
        return out


# --- prototypes of suggested engine changes (NOT the engine) -----------------------------------------

def proto_positions_bounded(index, lat, lng, workers: int = 1) -> np.ndarray:
    """``positions_of`` with the k-d tree query bounded at 100 m and far points answered -1
    without asking H3 (every point of a city cell lies within ~75 m of its centre)."""
    from circle import grid as gridmod
    from circle.index import AMBIGUITY_M

    lat = np.asarray(lat, dtype=np.float64).ravel()
    lng = np.asarray(lng, dtype=np.float64).ravel()
    x, y = gridmod.to_local_xy(lat, lng)
    dist, idx = index._tree.query(np.column_stack([x, y]), k=2, distance_upper_bound=FAR_M + AMBIGUITY_M + 1.0,
                                  workers=workers)
    near = dist[:, 0] <= FAR_M
    out = np.full(len(lat), -1, np.int64)
    cand = idx[near, 0]
    out[near] = cand
    unsure = np.zeros(len(lat), bool)
    unsure[near] = (dist[near, 1] - dist[near, 0] < AMBIGUITY_M) | index._edge_cell[cand]
    if unsure.any():
        out[unsure] = index._positions_of_points(lat[unsure], lng[unsure])
    return out


# --- benchmark 2 -----------------------------------------------------------------------------------

def _frames_equal(a, b, rows: np.ndarray) -> tuple[bool, list[str]]:
    """Same columns, same values on ``rows`` (floats to float32, NaN = NaN; missing = missing)."""
    import pandas as pd

    if list(a.columns) != list(b.columns):
        return False, ["columns differ"]
    bad = []
    for col in a.columns:
        x, y = a[col].to_numpy()[rows], b[col].to_numpy()[rows]
        if x.dtype.kind in "fc" or y.dtype.kind in "fc":
            same = np.array_equal(np.asarray(x, np.float32), np.asarray(y, np.float32), equal_nan=True)
        else:
            xs, ys = pd.Series(x, dtype=object), pd.Series(y, dtype=object)
            same = bool(((xs == ys) | (xs.isna() & ys.isna())).all())
        if not same:
            bad.append(col)
    return not bad, bad


def run_batch(quick: bool = False) -> Report:
    from bench import proto

    rep = Report()
    index = get_index()
    lat, lng = bbox_points(index.grid, BATCH_POINTS, SEED)
    repeat = 1 if quick else 3

    log("[batch] warming up (first call builds the edge-cell table) ...")
    index.positions_of(lat[:1000], lng[:1000])
    index.lookup_many(lat[:1000], lng[:1000])

    log(f"[batch] positions_of on {BATCH_POINTS:,} points × {repeat} ...")
    t_pos = measure(lambda: index.positions_of(lat, lng), repeat=repeat, warmup=0)
    log(f"[batch] lookup_many on {BATCH_POINTS:,} points × {repeat} ...")
    t_many = measure(lambda: index.lookup_many(lat, lng), repeat=repeat, warmup=0)
    pos, frame = t_pos.last, t_many.last
    t_pos.last = t_many.last = None
    inside = float((pos >= 0).mean())

    log("[batch] ground truth: h3.latlng_to_cell for every point ...")
    t = time.perf_counter()
    truth = proto.h3_positions(index, lat, lng)
    truth_s = time.perf_counter() - t
    wrong = int((pos != truth).sum())

    log(f"[batch] brute-force straight-line baseline on {BATCH_BASELINE_SAMPLE:,} of the points ...")
    brute = BruteForce(index)
    bl, bn = lat[:BATCH_BASELINE_SAMPLE], lng[:BATCH_BASELINE_SAMPLE]
    t_brute = measure(lambda: brute.many(bl, bn), repeat=repeat, warmup=1)
    brute_full_s = t_brute.median * BATCH_POINTS / BATCH_BASELINE_SAMPLE

    # Where positions_of spends its time (one run each).
    from circle import grid as gridmod
    from circle.index import AMBIGUITY_M
    x, y = gridmod.to_local_xy(lat, lng)
    t = time.perf_counter()
    dist, idx = index._tree.query(np.column_stack([x, y]), k=2)
    kd_s = time.perf_counter() - t
    far = dist[:, 0] > FAR_M
    unsure = (dist[:, 1] - dist[:, 0] < AMBIGUITY_M) | far | index._edge_cell[idx[:, 0]]
    t = time.perf_counter()
    index._positions_of_points(lat[unsure], lng[unsure])
    h3_s = time.perf_counter() - t

    log("[batch] prototypes: bounded k-d query; bucket locator; lean lookup_many ...")
    bounded_ok = bool(np.array_equal(proto_positions_bounded(index, lat, lng), truth))
    t_bounded = measure(lambda: proto_positions_bounded(index, lat, lng), repeat=repeat, warmup=0)
    t = time.perf_counter()
    locator = proto.ProtoLocator(index, ambiguity_m=3.0)
    locator_build_s = time.perf_counter() - t
    locator_ok = bool(np.array_equal(locator.positions(lat, lng), truth))
    t_locator = measure(lambda: locator.positions(lat, lng), repeat=repeat, warmup=0)
    lean = proto.ProtoLookupMany(index, locator)
    lean_frame = lean(lat, lng)
    agree = pos == truth
    lean_ok, lean_bad = _frames_equal(lean_frame, frame, np.flatnonzero(agree))
    del lean_frame, frame
    t_lean = measure(lambda: lean(lat, lng), repeat=repeat, warmup=0)

    rate_pos = BATCH_POINTS / t_pos.median
    rate_many = BATCH_POINTS / t_many.median
    reaches = [name for name, r in (("lookup_many", rate_many), ("positions_of", rate_pos)) if r >= BATCH_GOAL_PER_S]
    rep.details.update({
        "points": BATCH_POINTS, "seed": SEED, "inside_fraction": inside, "positions_of": t_pos.as_dict(),
        "lookup_many": t_many.as_dict(), "brute_force_sample": t_brute.as_dict(),
        "brute_force_extrapolated_s": brute_full_s, "rate_positions_of": rate_pos, "rate_lookup_many": rate_many,
        "positions_of_vs_h3_mismatches": wrong, "h3_truth_s": truth_s, "ambiguity_m": AMBIGUITY_M,
        "positions_of_breakdown": {"kdtree_query_unbounded_s": kd_s, "unsure_fraction": float(unsure.mean()),
                                   "far_fraction": float(far.mean()), "h3_fallback_s": h3_s},
        "proto_bounded_kd": {**t_bounded.as_dict(), "equal_to_h3": bounded_ok},
        "proto_locator": {**t_locator.as_dict(), "equal_to_h3": locator_ok, "build_s": locator_build_s,
                          "bytes": locator.nbytes, "candidates_per_bucket": locator.k,
                          "metric": locator.S.tolist()},
        "proto_lookup_many": {**t_lean.as_dict(), "equal_to_engine": lean_ok, "differing_columns": lean_bad,
                              "rows_compared": int(agree.sum())},
        "goal_reached_by": reaches,
    })
    goal = f"≥ {BATCH_GOAL_PER_S / 1e6:g} M/s"
    rep.add("batch", f"lookup_many, {BATCH_POINTS:,} bbox points", f"{fmt_rate(rate_many)} ({t_many})", goal,
            verdict(rate_many >= BATCH_GOAL_PER_S), rate_many, "points/s",
            note=(f"{inside:.1%} of the points are inside the city; ratio vs brute force "
                  f"{fmt_x(ratio(brute_full_s, t_many.median))}"))
    rep.add("batch", f"positions_of, {BATCH_POINTS:,} bbox points", f"{fmt_rate(rate_pos)} ({t_pos})", goal,
            verdict(rate_pos >= BATCH_GOAL_PER_S), rate_pos, "points/s",
            note=(f"ratio vs brute force {fmt_x(ratio(brute_full_s, t_pos.median))}; unbounded k-d tree query "
                  f"{fmt_s(kd_s)}; {unsure.mean():.1%} of points sent to H3 one by one ({fmt_s(h3_s)}), "
                  f"{far.mean():.1%} only because they are > {FAR_M:g} m from every centre, i.e. outside the "
                  f"city; AMBIGUITY_M = {AMBIGUITY_M:g} m"))
    rep.add("batch", "positions_of equals h3.latlng_to_cell", f"{wrong:,} of {BATCH_POINTS:,} differ",
            "0 differ", verdict(wrong == 0), wrong, "points",
            note=f"ground truth from h3 (integer API) for every point, {fmt_s(truth_s)}")
    rep.add("batch", "brute-force straight-line scan (baseline)",
            f"{fmt_rate(BATCH_POINTS / brute_full_s)} ({fmt_s(brute_full_s)} for 1 M, EXTRAPOLATED)",
            note=(f"timed on {BATCH_BASELINE_SAMPLE:,} of the points ({t_brute}), × {BATCH_POINTS // BATCH_BASELINE_SAMPLE}; "
                  f"nearest by straight line over {len(index.facilities):,} facilities, {len(index.type_ids)} types"))
    rep.add("batch", "speed-up vs brute force (lookup_many / positions_of)",
            f"{fmt_x(ratio(brute_full_s, t_many.median))} / {fmt_x(ratio(brute_full_s, t_pos.median))}")
    rep.add("batch", "goal ≥ 2 M/s reached by", ", ".join(reaches) if reaches else "neither engine function")
    rep.add("batch", "PROTO positions_of, k-d query bounded at 100 m",
            f"{fmt_rate(BATCH_POINTS / t_bounded.median)} ({t_bounded})", goal, "PROTO",
            BATCH_POINTS / t_bounded.median, "points/s",
            note=f"not the engine: the one-line change; equal to H3 on all {BATCH_POINTS:,} points: {bounded_ok}")
    rep.add("batch", "PROTO bucket locator (affine-corrected)",
            f"{fmt_rate(BATCH_POINTS / t_locator.median)} ({t_locator})", goal, "PROTO",
            BATCH_POINTS / t_locator.median, "points/s",
            note=(f"not the engine: bench/proto.py ProtoLocator; equal to H3 on all {BATCH_POINTS:,} points: "
                  f"{locator_ok}; built in {fmt_s(locator_build_s)}, {locator.nbytes / 2**20:.1f} MiB, "
                  f"≤ {locator.k} candidates per 80 m bucket, 3 m margin"))
    rep.add("batch", "PROTO lean lookup_many",
            f"{fmt_rate(BATCH_POINTS / t_lean.median)} ({t_lean})", goal, "PROTO",
            BATCH_POINTS / t_lean.median, "points/s",
            note=(f"not the engine: ProtoLocator + cell strings cached per index + categorical district/street; "
                  f"same values as lookup_many on the {int(agree.sum()):,} rows where positions_of = H3: {lean_ok}"
                  + (f" (differs in {', '.join(lean_bad)})" if lean_bad else "")))
    return rep


# --- benchmark 3 -----------------------------------------------------------------------------------

def _profile_lookup(index, points, n_calls: int = 300) -> tuple[str, dict]:
    prof = cProfile.Profile()
    prof.enable()
    for la, ln in points[:n_calls]:
        index.lookup(la, ln)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())  # tottime over all functions
    groups: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        if "pandas" in filename:
            key = "pandas (DataFrame.iloc rows, Series[...] access)"
        elif "/h3/" in filename:
            key = "h3"
        elif "numpy" in filename or func.startswith("<built-in method numpy") or "numpy" in func:
            key = "numpy"
        elif "dataclasses" in filename or func in ("<built-in method builtins.round>",):
            key = "dataclasses / builtins"
        elif "circle" in filename:
            key = f"circle: {filename.rsplit('/', 1)[-1]}:{func}"
        else:
            key = "other builtins"
        groups[key] = groups.get(key, 0.0) + tt
    share = {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue(), {"calls": n_calls, "profiled_total_s": total, "share_by_area": share}


def run_single(quick: bool = False) -> Report:
    rep = Report()
    index = get_index()
    n = 500 if quick else SINGLE_POINTS
    lat, lng = city_points(index, n, SEED + 1)
    points = list(zip(lat.tolist(), lng.tolist()))

    log(f"[single] lookup × {n} ...")
    t_lookup = measure_each(index.lookup, points)
    log(f"[single] lookup_many with one point × {n} ...")
    t_many1 = measure_each(lambda a, b: index.lookup_many([a], [b]), points)
    log(f"[single] brute-force scan for one point × {n} ...")
    brute = BruteForce(index)
    t_brute = measure_each(brute.one, points)
    log(f"[single] prototypes: lean lookup (same Profile) and minutes_at × {n} ...")
    from bench import proto
    lean = proto.ProtoLookup(index)
    t_lean = measure_each(lean.lookup, points, warmup=50)
    t_proto = measure_each(lean.minutes_at, points, warmup=50)
    # the prototypes must agree with the engine
    pos = index._positions_of_points(lat, lng)   # exact H3, what lookup() uses
    engine_minutes = index.minutes()
    proto_ok = all(np.array_equal(lean.minutes_at(a, b), engine_minutes[:, p])
                   for (a, b), p in zip(points, pos.tolist()))
    lean_ok = all(lean.lookup(a, b).to_dict() == index.lookup(a, b).to_dict() for a, b in points)

    # stages of lookup (each timed per call)
    stages = {
        "_check_points (validate + CRS)": measure_each(lambda a, b: index._check_points(a, b, "wgs84"), points[:500]),
        "_positions_of_points (H3, 1 point)": measure_each(
            lambda a, b: index._positions_of_points(np.array([a]), np.array([b])), points[:500]),
        "profile_of_cell (build Profile)": measure_each(lambda p: index.profile_of_cell(p), [(p,) for p in pos[:500].tolist()]),
    }
    profile_text, profile_summary = _profile_lookup(index, points)

    rep.details.update({
        "points": n, "lookup": t_lookup.as_dict(), "lookup_many_1": t_many1.as_dict(),
        "brute_force_1": t_brute.as_dict(), "proto_minutes_at": t_proto.as_dict(), "proto_minutes_at_equal": proto_ok,
        "proto_lookup": t_lean.as_dict(), "proto_lookup_equal": lean_ok, "proto_extra_bytes": lean.nbytes,
        "lookup_stages_median_s": {k: v.median for k, v in stages.items()},
        "lookup_profile": profile_summary, "lookup_profile_text": profile_text,
    })
    goal = f"≤ {SINGLE_GOAL_S * 1e6:g} µs"
    stage_txt = "; ".join(f"{k} {fmt_s(v.median)}" for k, v in stages.items())
    top = list(profile_summary["share_by_area"].items())[:3]
    rep.add("single", "lookup(lat, lng) per call", str(t_lookup), goal, verdict(t_lookup.median <= SINGLE_GOAL_S),
            t_lookup.median * 1e6, "µs",
            note=(f"ratio vs brute force {fmt_x(ratio(t_brute.median, t_lookup.median))}; stages: {stage_txt}; "
                  f"cProfile over {profile_summary['calls']} calls: "
                  + ", ".join(f"{k} {v:.0%}" for k, v in top)))
    rep.add("single", "lookup_many with one point", str(t_many1), goal, verdict(t_many1.median <= SINGLE_GOAL_S),
            t_many1.median * 1e6, "µs",
            note=f"builds a 43-column DataFrame for one row; ratio vs brute force {fmt_x(ratio(t_brute.median, t_many1.median))}")
    rep.add("single", "brute-force scan, one point (baseline)", str(t_brute),
            note=f"{len(index.type_ids)} numpy argmins over the facilities of each type")
    rep.add("single", "PROTO lean lookup (same Profile)", str(t_lean), goal, "PROTO", t_lean.median * 1e6, "µs",
            note=(f"not the engine: bench/proto.py ProtoLookup — per-index lists/arrays instead of DataFrame.iloc, "
                  f"per-cell coverage table, H3 integer API + dict; Profile.to_dict() identical to lookup's on all "
                  f"{n:,} points: {lean_ok}; {lean.nbytes / 2**20:.0f} MiB of cell-major copies"))
    rep.add("single", "PROTO minutes_at(lat, lng)", str(t_proto), goal, "PROTO", t_proto.median * 1e6, "µs",
            note=(f"not the engine: validate + one H3 call + dict + one (T,) row of cell-major minutes; equals "
                  f"the engine's minutes on all {n:,} points: {proto_ok}; ratio vs brute force "
                  f"{fmt_x(ratio(t_brute.median, t_proto.median))}"))
    return rep


def run(quick: bool = False) -> Report:
    rep = run_batch(quick)
    single = run_single(quick)
    rep.results += single.results
    rep.details = {"batch": rep.details, "single": single.details}
    return rep


