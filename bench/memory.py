"""Benchmark 4: memory of the loaded index.

Measured in fresh interpreters, so nothing else from the benchmark run inflates the figures:

* RSS (``/proc/self/status`` VmRSS) after importing the engine and its libraries, after numba's
  first compiled call (its LLVM runtime, ~40 MiB, is not the index's), after ``load_index()`` (from the on-disk cache when it is current), and after the first batched and
  single look-ups (which build lazy tables); the peak (VmHWM — ``getrusage``'s ru_maxrss would
  include the parent's peak, since Linux keeps it across exec);
* Python-level allocations of ``load_index()`` with ``tracemalloc`` (current and peak; numpy
  reports its buffers to tracemalloc), in a second interpreter because tracing slows loading;
* the size of everything the index holds (every array, DataFrame and large dict among its
  attributes and its grid's, found by introspection), and of the cache file on disk.
"""
from __future__ import annotations

from bench.common import Report, run_python

_CODE = r"""
import json, os, sys, time
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0

def peak():
    # VmHWM, not getrusage's ru_maxrss: on Linux ru_maxrss survives exec, so a child started by a
    # big benchmark process would report the parent's peak.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0

TRACE = bool(int(sys.argv[1])) if len(sys.argv) > 1 else False
out = {"rss_start_mb": rss()}
import numpy as np, pandas as pd, scipy.spatial, h3, numba
from circle import index as ix
from circle import access
out["rss_after_imports_mb"] = rss()
# numba's runtime (LLVM) loads on the first compiled call: do one on a 1-cell graph first, so the
# index's own share is not confused with it.
access.reach_from(np.full((1, 6), -1, np.int32), np.full((1, 6), np.inf, np.float32), 0, 10.0)
out["rss_after_numba_mb"] = rss()
if TRACE:
    import tracemalloc
    tracemalloc.start()
t = time.perf_counter()
idx = ix.load_index()
out["load_s"] = time.perf_counter() - t
out["source"] = "cache" if "load_cache_s" in idx.timings else "built"
if TRACE:
    cur, pk = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out["tracemalloc_current_mb"] = cur / 2**20
    out["tracemalloc_peak_mb"] = pk / 2**20
    print(json.dumps(out))
    raise SystemExit
out["rss_after_load_mb"] = rss()
out["peak_after_load_mb"] = peak()
g = idx.grid
rng = np.random.default_rng(0)
la = rng.uniform(g.lat.min(), g.lat.max(), 1000); ln = rng.uniform(g.lng.min(), g.lng.max(), 1000)
idx.lookup_many(la, ln)
idx.lookup(float(g.lat[g.size // 2]), float(g.lng[g.size // 2]))
out["rss_after_first_lookups_mb"] = rss()
out["peak_mb"] = peak()

def sizeof(obj, depth=0):
    # Bytes held by one attribute: arrays, frames, big dicts/lists, and (one level down) the
    # arrays of helper objects such as a locator or a k-d tree.
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (pd.DataFrame, pd.Series, pd.Index)):
        usage = obj.memory_usage(deep=True)
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if isinstance(obj, dict) and len(obj) > 1000:
        return sys.getsizeof(obj) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in obj.items())
    if isinstance(obj, (list, tuple)) and len(obj) > 1000:
        return sys.getsizeof(obj) + sum(sys.getsizeof(v) for v in obj)
    if isinstance(obj, scipy.spatial.cKDTree):
        return obj.data.nbytes + obj.indices.nbytes
    if depth == 0 and hasattr(obj, "__dict__") and type(obj).__module__.startswith("circle"):
        return sum(sizeof(v, 1) for v in vars(obj).values())
    return 0

arrays = {}
for name, value in vars(g).items():
    arrays[f"grid.{name}"] = sizeof(value)
for name, value in vars(idx).items():
    if name != "grid":
        arrays[name] = sizeof(value)
arrays = {k: v for k, v in sorted(arrays.items(), key=lambda kv: -kv[1]) if v > 0}
cache = ix.CACHE_DIR / f"index-{idx.key}.npz"
out.update({"arrays_bytes": arrays, "cells": int(g.size), "types": len(idx.type_ids),
            "cache_file_bytes": cache.stat().st_size if cache.exists() else None})
print(json.dumps(out))
"""


def run(quick: bool = False) -> Report:
    from bench.common import log

    rep = Report()
    log("[memory] RSS of a fresh process loading the index ...")
    plain = run_python(_CODE)
    log("[memory] tracemalloc of load_index in another fresh process ...")
    traced = run_python(_CODE.replace("len(sys.argv) > 1", "True").replace("bool(int(sys.argv[1]))", "True"))
    rep.details = {"rss": plain, "tracemalloc": traced}
    mib = 2**20
    arrays = plain["arrays_bytes"]
    core = sum(arrays.get(k, 0) for k in ("dist_m", "nearest", "count15"))
    total = sum(arrays.values())
    big = [(k, v) for k, v in arrays.items() if v >= mib // 2]
    small = total - sum(v for _, v in big)
    load_delta = plain["rss_after_load_mb"] - plain["rss_after_numba_mb"]
    rep.add("memory", "RSS of the loaded index (after load − before)", f"{load_delta:.0f} MiB",
            note=(f"source: {plain['source']} in {plain['load_s']:.2f} s; RSS after imports "
                  f"{plain['rss_after_imports_mb']:.0f} MiB, after numba's first compiled call "
                  f"{plain['rss_after_numba_mb']:.0f} MiB, after load {plain['rss_after_load_mb']:.0f} MiB, "
                  f"after first look-ups {plain['rss_after_first_lookups_mb']:.0f} MiB, peak {plain['peak_mb']:.0f} MiB"))
    rep.add("memory", "tracemalloc of load_index (current / peak)",
            f"{traced['tracemalloc_current_mb']:.0f} / {traced['tracemalloc_peak_mb']:.0f} MiB",
            note="Python-visible allocations during load_index (numpy buffers are traced; C++ internals such as k-d tree nodes are not)")
    rep.add("memory", f"index arrays dist_m/nearest/count15 ({plain['types']}×{plain['cells']:,})",
            f"{core / mib:.1f} MiB", note="float32 / int32 / uint16, type-major (T, N)")
    rep.add("memory", "everything the index holds (arrays, frames, big dicts)", f"{total / mib:.1f} MiB",
            note=("; ".join(f"{k} {v / mib:.1f} MiB" for k, v in big) + f"; the rest {small / mib:.1f} MiB"
                  + (f"; cache file on disk {plain['cache_file_bytes'] / mib:.1f} MiB (npz, uncompressed)"
                     if plain["cache_file_bytes"] else "")))
    return rep
