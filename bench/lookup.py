"""Benchmarks 2 and 3: answering points from the built index.

Batched (benchmark 2)
    1,000,000 points uniform in the city's bounding box (fixed seed; about 60% fall outside the
    city, which is what a bounding box of Wuhai looks like). Ours: ``index.lookup_many(lats, lngs)``
    (the full DataFrame: cell, district, street, circles, minutes for every type) and, separately,
    its cell-assignment core ``index.positions_of``. Baseline: a brute-force straight-line scan —
    for each point, the nearest facility of every type by straight-line distance (numpy
    broadcasting over all facilities of the type), timed on 2,000 of the points and extrapolated.
    Correctness: ``positions_of`` is compared with ``h3.latlng_to_cell`` on every one of the points.

Single (benchmark 3)
    2,000 random points inside the city: ``index.lookup(lat, lng)``; the same plus reading every
    per-type record (``lookup`` builds them lazily, on first access — ``to_dict()`` is what the CLI
    and pages pay); ``index.lookup_many`` with one point; and the brute-force scan for one point.
    Per-call latency, median and min; a cProfile breakdown of ``lookup`` + ``to_dict``.

Prototypes (labelled PROTO, never counted as the engine's PASS; see ``bench/proto.py``): a lean
``lookup_many``, an eager ``lookup`` and a ``minutes_at(lat, lng)`` fast path, each checked against
the engine's own output, to show what a suggested change would buy.
"""
from __future__ import annotations

import cProfile
import io
import math
import pstats
import time

import numpy as np

from bench.common import (SEED, Report, fmt_rate, fmt_s, fmt_x, log, measure, measure_each, ratio, verdict)

BATCH_POINTS = 1_000_000
BATCH_BASELINE_SAMPLE = 2_000
BATCH_GOAL_PER_S = 2_000_000
SINGLE_POINTS = 2_000
SINGLE_GOAL_S = 20e-6

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
    got, k = 0, 0
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


# --- benchmark 2 -----------------------------------------------------------------------------------

def _frames_equal(a, b, rows: np.ndarray) -> tuple[bool, list[str]]:
    """Same columns, same values on ``rows`` (floats compared as float32, NaN = NaN, missing = missing)."""
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

    log("[batch] warming up (compiled kernels, lazy tables) ...")
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

    log("[batch] prototype: lean lookup_many ...")
    lean = proto.ProtoLookupMany(index)
    lean_ok, lean_bad = _frames_equal(lean(lat, lng), frame, np.flatnonzero(pos == truth))
    del frame
    t_lean = measure(lambda: lean(lat, lng), repeat=repeat, warmup=0)
    t_lean.last = None
    # where lookup_many's time goes beyond positions_of (one profiled run)
    prof = cProfile.Profile()
    prof.enable()
    index.lookup_many(lat, lng)
    prof.disable()
    top = _top_functions(prof, 4)

    rate_pos = BATCH_POINTS / t_pos.median
    rate_many = BATCH_POINTS / t_many.median
    reaches = [name for name, r in (("lookup_many", rate_many), ("positions_of", rate_pos)) if r >= BATCH_GOAL_PER_S]
    rep.details.update({
        "points": BATCH_POINTS, "seed": SEED, "inside_fraction": inside, "positions_of": t_pos.as_dict(),
        "lookup_many": t_many.as_dict(), "brute_force_sample": t_brute.as_dict(),
        "brute_force_extrapolated_s": brute_full_s, "rate_positions_of": rate_pos, "rate_lookup_many": rate_many,
        "positions_of_vs_h3_mismatches": wrong, "h3_truth_s": truth_s,
        "lookup_many_profile_top_tottime": top,
        "proto_lookup_many": {**t_lean.as_dict(), "equal_to_engine": lean_ok, "differing_columns": lean_bad,
                              "rows_compared": int((pos == truth).sum())},
        "goal_reached_by": reaches,
    })
    goal = f"≥ {BATCH_GOAL_PER_S / 1e6:g} M/s"
    rep.add("batch", f"lookup_many, {BATCH_POINTS:,} bbox points", f"{fmt_rate(rate_many)} ({t_many})", goal,
            verdict(rate_many >= BATCH_GOAL_PER_S), rate_many, "points/s",
            note=(f"{inside:.1%} of the points are inside the city; ratio vs brute force "
                  f"{fmt_x(ratio(brute_full_s, t_many.median))}; biggest self-times in one profiled run: "
                  + "; ".join(f"{name} {fmt_s(s)}" for name, s in top)))
    rep.add("batch", f"positions_of, {BATCH_POINTS:,} bbox points", f"{fmt_rate(rate_pos)} ({t_pos})", goal,
            verdict(rate_pos >= BATCH_GOAL_PER_S), rate_pos, "points/s",
            note=f"ratio vs brute force {fmt_x(ratio(brute_full_s, t_pos.median))}")
    rep.add("batch", "positions_of equals h3.latlng_to_cell", f"{wrong:,} of {BATCH_POINTS:,} differ",
            "0 differ", verdict(wrong == 0), wrong, "points",
            note=f"ground truth from h3 (integer API) point by point, {fmt_s(truth_s)}")
    rep.add("batch", "brute-force straight-line scan (baseline)",
            f"{fmt_rate(BATCH_POINTS / brute_full_s)} ({fmt_s(brute_full_s)} for 1 M, EXTRAPOLATED)",
            note=(f"timed on {BATCH_BASELINE_SAMPLE:,} of the points ({t_brute}), × {BATCH_POINTS // BATCH_BASELINE_SAMPLE}; "
                  f"nearest by straight line over {len(index.facilities):,} facilities, {len(index.type_ids)} types"))
    rep.add("batch", "speed-up vs brute force (lookup_many / positions_of)",
            f"{fmt_x(ratio(brute_full_s, t_many.median))} / {fmt_x(ratio(brute_full_s, t_pos.median))}")
    rep.add("batch", "goal ≥ 2 M/s reached by", ", ".join(reaches) if reaches else "neither engine function")
    rep.add("batch", "PROTO lean lookup_many", f"{fmt_rate(BATCH_POINTS / t_lean.median)} ({t_lean})", goal, "PROTO",
            BATCH_POINTS / t_lean.median, "points/s",
            note=(f"not the engine: bench/proto.py ProtoLookupMany (categorical cell/district/street, minutes "
                  f"gathered into one block); same values as lookup_many on all {int((pos == truth).sum()):,} "
                  f"rows where positions_of = H3: {lean_ok}" + (f" (differs in {', '.join(lean_bad)})" if lean_bad else "")))
    return rep


# --- benchmark 3 -----------------------------------------------------------------------------------

def _top_functions(prof: cProfile.Profile, n: int) -> list[tuple[str, float]]:
    stats = pstats.Stats(prof).stats
    rows = sorted(((tt, f"{fn.rsplit('/', 1)[-1]}:{line}({func})") for (fn, line, func), (_, _, tt, _, _) in stats.items()),
                  reverse=True)[:n]
    return [(name, tt) for tt, name in rows]


def _profile(fn, points, n_calls: int = 300) -> tuple[str, dict]:
    prof = cProfile.Profile()
    prof.enable()
    for la, ln in points[:n_calls]:
        fn(la, ln)
    prof.disable()
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values())
    groups: dict[str, float] = {}
    for (filename, _line, func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        if "pandas" in filename:
            key = "pandas"
        elif "/h3/" in filename:
            key = "h3"
        elif "numpy" in filename or "numpy" in func:
            key = "numpy"
        elif "circle" in filename:
            key = f"{filename.rsplit('/', 1)[-1]}:{func}"
        else:
            key = f"builtins: {func}" if func.startswith("<") else f"{filename.rsplit('/', 1)[-1]}:{func}"
        groups[key] = groups.get(key, 0.0) + tt
    share = {k: v / total for k, v in sorted(groups.items(), key=lambda kv: -kv[1])}
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    return out.getvalue(), {"calls": n_calls, "profiled_total_s": total, "share_by_area": share}


def run_single(quick: bool = False) -> Report:
    from bench import proto

    rep = Report()
    index = get_index()
    n = 500 if quick else SINGLE_POINTS
    lat, lng = city_points(index, n, SEED + 1)
    points = list(zip(lat.tolist(), lng.tolist()))

    log(f"[single] lookup × {n} ...")
    t_lookup = measure_each(index.lookup, points)
    log(f"[single] lookup + to_dict() × {n} ...")
    t_full = measure_each(lambda a, b: index.lookup(a, b).to_dict(), points)
    log(f"[single] lookup_many with one point × {n} ...")
    t_many1 = measure_each(lambda a, b: index.lookup_many([a], [b]), points)
    log(f"[single] brute-force scan for one point × {n} ...")
    brute = BruteForce(index)
    t_brute = measure_each(brute.one, points)

    log(f"[single] prototypes: eager lookup and minutes_at × {n} ...")
    lean = proto.ProtoLookup(index)
    t_lazy = measure_each(lean.lookup_lazy, points, warmup=50)
    t_lean = measure_each(lambda a, b: lean.lookup(a, b).to_dict(), points, warmup=50)
    t_min = measure_each(lean.minutes_at, points, warmup=50)
    truth = proto.h3_positions(index, lat, lng)
    engine_minutes = index.minutes()
    min_ok = all(np.array_equal(lean.minutes_at(a, b), engine_minutes[:, p]) for (a, b), p in zip(points, truth.tolist()))
    engine_dicts = [index.lookup(a, b).to_dict() for a, b in points]
    lean_ok = all(lean.lookup(a, b).to_dict() == d for (a, b), d in zip(points, engine_dicts))
    lazy_ok = all(lean.lookup_lazy(a, b).to_dict() == d for (a, b), d in zip(points, engine_dicts))

    # one stage that is public: the cell's profile from its position, lazily built records and all
    t_cell = measure_each(lambda p: index.profile_of_cell(p), [(p,) for p in truth[:500].tolist()])
    lookup_text, lookup_summary = _profile(index.lookup, points, n_calls=1000)
    profile_text, profile_summary = _profile(lambda a, b: index.lookup(a, b).to_dict(), points)

    rep.details.update({
        "points": n, "lookup": t_lookup.as_dict(), "lookup_to_dict": t_full.as_dict(),
        "lookup_many_1": t_many1.as_dict(), "brute_force_1": t_brute.as_dict(),
        "profile_of_cell": t_cell.as_dict(),
        "proto_lookup_to_dict": t_lean.as_dict(), "proto_lookup_equal": lean_ok,
        "proto_lookup_lazy": t_lazy.as_dict(), "proto_lookup_lazy_equal": lazy_ok,
        "proto_minutes_at": t_min.as_dict(), "proto_minutes_at_equal": min_ok, "proto_extra_bytes": lean.nbytes,
        "lookup_profile": lookup_summary, "lookup_profile_text": lookup_text,
        "lookup_to_dict_profile": profile_summary, "lookup_to_dict_profile_text": profile_text,
    })
    goal = f"≤ {SINGLE_GOAL_S * 1e6:g} µs"
    top = list(profile_summary["share_by_area"].items())[:4]
    rep.add("single", "lookup(lat, lng) per call", str(t_lookup), goal, verdict(t_lookup.median <= SINGLE_GOAL_S),
            t_lookup.median * 1e6, "µs",
            note=(f"per-type records are built lazily on first read; ratio vs brute force "
                  f"{fmt_x(ratio(t_brute.median, t_lookup.median))}; profile_of_cell(pos) alone {t_cell}; "
                  f"cProfile over {lookup_summary['calls']} calls (self time): "
                  + ", ".join(f"{k} {v:.0%}" for k, v in list(lookup_summary["share_by_area"].items())[:4])))
    rep.add("single", "lookup + to_dict() (all 37 types read)", str(t_full), goal,
            verdict(t_full.median <= SINGLE_GOAL_S), t_full.median * 1e6, "µs",
            note=(f"what the CLI / a page reading every type pays; cProfile over {profile_summary['calls']} calls: "
                  + ", ".join(f"{k} {v:.0%}" for k, v in top)))
    rep.add("single", "lookup_many with one point", str(t_many1), goal, verdict(t_many1.median <= SINGLE_GOAL_S),
            t_many1.median * 1e6, "µs",
            note=f"builds a 43-column DataFrame for one row; ratio vs brute force {fmt_x(ratio(t_brute.median, t_many1.median))}")
    rep.add("single", "brute-force scan, one point (baseline)", str(t_brute),
            note=f"{len(index.type_ids)} numpy argmins over the facilities of each type")
    rep.add("single", "PROTO lookup, cell-major rows", str(t_lazy), goal, "PROTO", t_lazy.median * 1e6, "µs",
            note=(f"not the engine: bench/proto.py ProtoLookup.lookup_lazy — the engine's lazy Profile, but one "
                  f"contiguous (T,) row per cell from (N, T) copies instead of 37 strided reads + a division, "
                  f"missing/circles from Python lists; to_dict() identical to the engine's on all {n:,} points: {lazy_ok}"))
    rep.add("single", "PROTO eager lookup + to_dict()", str(t_lean), goal, "PROTO", t_lean.median * 1e6, "µs",
            note=(f"not the engine: bench/proto.py ProtoLookup — every record built from per-index lists and one "
                  f"tolist() per cell row; to_dict() identical to the engine's on all {n:,} points: {lean_ok}; "
                  f"{lean.nbytes / 2**20:.0f} MiB of cell-major copies"))
    rep.add("single", "PROTO minutes_at(lat, lng)", str(t_min), goal, "PROTO", t_min.median * 1e6, "µs",
            note=(f"not the engine: validate + one H3 call + dict + one (T,) row of cell-major minutes; equals the "
                  f"engine's minutes on all {n:,} points: {min_ok}; ratio vs brute force "
                  f"{fmt_x(ratio(t_brute.median, t_min.median))}"))
    return rep


def run(quick: bool = False) -> Report:
    rep = run_batch(quick)
    single = run_single(quick)
    rep.results += single.results
    rep.details = {"batch": rep.details, "single": single.details}
    return rep
