"""Benchmark 4: memory of the loaded index.

Measured in fresh interpreters, so nothing else from the benchmark run inflates the figures:

* RSS (``/proc/self/status`` VmRSS) after importing the engine and its libraries, after
  ``load_index()`` (from the on-disk cache when it is current), and after the first batched and
  single look-ups (which build lazy tables); the peak (VmHWM — ``getrusage``'s ru_maxrss would
  include the parent's peak, since Linux keeps it across exec);
* Python-level allocations of ``load_index()`` with ``tracemalloc`` (current and peak; numpy
  reports its buffers to tracemalloc), in a second interpreter because tracing slows loading;
* the size of every array the index holds, and of the cache file on disk.
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
out["rss_after_imports_mb"] = rss()
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

def frame_bytes(df):
    return int(df.memory_usage(deep=True).sum())

arrays = {
    "dist_m (T×N float32)": idx.dist_m.nbytes,
    "nearest (T×N int32)": idx.nearest.nbytes,
    "count15 (T×N uint16)": idx.count15.nbytes,
    "grid.neighbours (N×6 int32)": g.neighbours.nbytes,
    "grid.edge_m (N×6 float32)": g.edge_m.nbytes,
    "grid: cells/lat/lng/x/y/district/street/river/bridge": sum(getattr(g, k).nbytes for k in
        ("cells", "lat", "lng", "x", "y", "district", "street", "river", "bridge")),
    "population (N float64)": idx.population.nbytes,
    "per-cell facility counts (N×T uint16)": idx._per_cell_counts.nbytes,
    "k-d tree data + indices": idx._tree.data.nbytes + idx._tree.indices.nbytes,
    "edge-cell mask": idx._edge_cell.nbytes,
    "cell table (DataFrame, deep)": frame_bytes(idx._cell_table_default),
    "facilities (DataFrame, deep)": frame_bytes(idx.facilities),
    "residences (DataFrame, deep)": frame_bytes(idx.residences),
}
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
    core = arrays["dist_m (T×N float32)"] + arrays["nearest (T×N int32)"] + arrays["count15 (T×N uint16)"]
    total = sum(arrays.values())
    load_delta = plain["rss_after_load_mb"] - plain["rss_after_imports_mb"]
    rep.add("memory", "RSS of the loaded index (after load − after imports)", f"{load_delta:.0f} MiB",
            note=(f"source: {plain['source']} in {plain['load_s']:.2f} s; RSS after imports "
                  f"{plain['rss_after_imports_mb']:.0f} MiB, after load {plain['rss_after_load_mb']:.0f} MiB, "
                  f"after first look-ups {plain['rss_after_first_lookups_mb']:.0f} MiB, peak {plain['peak_mb']:.0f} MiB"))
    rep.add("memory", "tracemalloc of load_index (current / peak)",
            f"{traced['tracemalloc_current_mb']:.0f} / {traced['tracemalloc_peak_mb']:.0f} MiB",
            note="Python-visible allocations only (numpy buffers included; the k-d tree's C++ nodes are not)")
    rep.add("memory", f"index arrays dist/nearest/count15 ({plain['types']}×{plain['cells']:,})",
            f"{core / mib:.1f} MiB", note="; ".join(f"{k} {v / mib:.1f} MiB" for k, v in arrays.items()))
    rep.add("memory", "everything the index holds (listed arrays + frames)", f"{total / mib:.1f} MiB",
            note=f"cache file on disk {plain['cache_file_bytes'] / mib:.1f} MiB (npz, uncompressed)"
            if plain["cache_file_bytes"] else "cache file not found")
    return rep
