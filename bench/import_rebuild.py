"""Benchmark: import + rebuild of 10,000 POIs, against the grid engine's full build in the same run.

Ours
    A generated CSV of 10,000 facilities (Chinese headers, GCJ-02 coordinates declared, types given
    by Chinese type name, with some left to name keywords, a few bad rows): ``importers.import_file``
    (read, decode, map, convert, type, validate, de-duplicate) and then ``workspace.save_import``
    (write the workspace and build its index from scratch into the workspace's own cache).

Baseline
    The grid engine's full build of the shipped sample, ``build_index(DEFAULT_DATASET,
    force=True, use_cache=False)`` (grid, facilities → cells, access for every type), timed in the
    same process after one warm-up build, so numba is loaded for both. The ratio says how much an
    import costs on top of a plain rebuild: ``baseline / (import + rebuild)`` (≈ 1 means the import
    itself is almost free).

``python -m bench import_rebuild`` or ``python -m bench.import_rebuild [--quick] [--rows N]``.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import SEED, Report, fmt_s, fmt_x, log, print_table, ratio, verdict

N_ROWS = 10_000
GOAL_S = 15.0  # "the whole app recomputes from it in seconds"


def make_pois(path: Path, n: int = N_ROWS, seed: int = SEED) -> dict:
    """Write ``n`` generated POIs inside Wuhai's urban cores as a GCJ-02 CSV; returns what it wrote."""
    import pandas as pd

    from circle import geo
    from circle.sources import URBAN_EXTENTS
    from circle.taxonomy import facility_types

    rng = np.random.default_rng(seed)
    cores = pd.read_csv(URBAN_EXTENTS)
    weights = np.array([0.7, 0.2, 0.1])[: len(cores)]
    core = rng.choice(len(cores), size=n, p=weights / weights.sum())
    c = cores.iloc[core]
    lat = rng.uniform(c["lat_min"].to_numpy(), c["lat_max"].to_numpy())
    lng = rng.uniform(c["lon_min"].to_numpy(), c["lon_max"].to_numpy())
    glat, glng = geo.from_wgs84(lat, lng, "gcj02")
    types = facility_types()
    pick = rng.integers(0, len(types), size=n)
    names, kinds = [], []
    for i, k in enumerate(pick.tolist()):
        ftype = types[k]
        keyword = ftype.name_keywords_zh[0] if ftype.name_keywords_zh else ftype.name_zh
        names.append(f"测试{keyword}{i:05d}")
        kinds.append("" if i % 10 == 0 else ftype.name_zh)  # one in ten: typed from the name
    lng_text = [f"{v:.6f}" for v in glng]
    for i in rng.choice(n, size=n // 200, replace=False).tolist():  # 0.5% without coordinates
        lng_text[i] = ""
    frame = pd.DataFrame({"编号": [f"P{i:05d}" for i in range(n)], "名称": names, "类型": kinds,
                          "经度": lng_text, "纬度": [f"{v:.6f}" for v in glat], "地址": "乌海市"})
    frame.to_csv(path, index=False, encoding="utf-8")
    return {"rows": n, "bytes": path.stat().st_size}


def run(quick: bool = False, rows: int = N_ROWS) -> Report:
    from circle import importers
    from circle import index as ix
    from circle import workspace

    rep = Report()
    repeat = 1 if quick else 3
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        pois = tmp / "pois_10k.csv"
        made = make_pois(pois, rows)
        log(f"[import_rebuild] wrote {made['rows']:,} POIs ({made['bytes'] / 1e6:.2f} MB) ...")

        log("[import_rebuild] warm-up: one full build of the shipped sample (loads numba) ...")
        ix.build_index(ix.DEFAULT_DATASET, force=True, use_cache=False)
        base = []
        for _ in range(repeat):
            t = time.perf_counter()
            idx = ix.build_index(ix.DEFAULT_DATASET, force=True, use_cache=False)
            base.append(time.perf_counter() - t)
        base_s = float(np.median(base))
        log(f"[import_rebuild] baseline full build: {fmt_s(base_s)} ({len(idx.facilities):,} facilities)")

        imports, rebuilds, totals, loads, runs = [], [], [], [], []
        result = ws = None
        for k in range(repeat):
            t = time.perf_counter()
            result = importers.import_file(pois, crs="gcj02")
            imports.append(time.perf_counter() - t)
            t = time.perf_counter()
            ws, timings = workspace.save_import(result, tmp / f"ws{k}", force=True)
            rebuilds.append(time.perf_counter() - t)
            totals.append(imports[-1] + rebuilds[-1])
            runs.append(timings)
            t = time.perf_counter()  # what the app then does: load the index from the workspace cache
            ix.build_index(ws.dataset(), cache_dir=ws.cache_dir)
            loads.append(time.perf_counter() - t)
            log(f"[import_rebuild] run {k + 1}: import {fmt_s(imports[-1])}, rebuild {fmt_s(rebuilds[-1])} "
                f"(grid {fmt_s(timings.get('index_grid_s', float('nan')))}, access "
                f"{fmt_s(timings.get('index_access_s', float('nan')))})")
        import_s, rebuild_s, total_s, load_s = (float(np.median(x)) for x in (imports, rebuilds, totals, loads))
        timings = runs[int(np.argsort(totals)[len(totals) // 2])]  # the median run's breakdown
        report = result.report
        rep.details.update({"rows": rows, "file_bytes": made["bytes"], "accepted": report.accepted,
                            "rejected": report.reason_counts(), "import_s": imports, "rebuild_s": rebuilds,
                            "load_s": loads, "baseline_full_build_s": base, "median_run_timings": timings})

        rep.add("import_rebuild", f"import {rows:,} POIs (read, map, GCJ-02→WGS-84, type, validate)",
                fmt_s(import_s), note=(f"{report.accepted:,} accepted, rejected {report.reason_counts()}; "
                                       f"median of {repeat}; {rows / import_s:,.0f} rows/s"))
        rep.add("import_rebuild", "rebuild (write workspace + full index build)", fmt_s(rebuild_s),
                note=f"median run: grid {fmt_s(timings.get('index_grid_s', float('nan')))}, access "
                     f"{fmt_s(timings.get('index_access_s', float('nan')))}, cache write "
                     f"{fmt_s(timings.get('index_save_cache_s', float('nan')))}")
        rep.add("import_rebuild", "import + rebuild", fmt_s(total_s), f"≤ {GOAL_S:g} s",
                verdict(total_s <= GOAL_S), total_s, "s")
        rep.add("import_rebuild", "then loading the new index (what the app does next)", fmt_s(load_s),
                note="build_index from the workspace cache: read the index, population, k-d tree, cell table")
        rep.add("import_rebuild", "baseline: full build of the shipped sample", fmt_s(base_s),
                note=f"build_index(force, no cache), median of {repeat} after a warm-up, same process")
        rep.add("import_rebuild", "ratio baseline / (import + rebuild)", fmt_x(ratio(base_s, total_s)),
                value=ratio(base_s, total_s), unit="x",
                note="1× = an import costs no more than a plain rebuild; below 1× is the import's own cost")
        return rep
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_rebuild", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat instead of three")
    parser.add_argument("--rows", type=int, default=N_ROWS, help=f"POIs to generate (default {N_ROWS:,})")
    args = parser.parse_args(argv)
    rep = run(quick=args.quick, rows=args.rows)
    print_table(rep.results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
