"""The street network engine on a city-sized synthetic network, against the grid engine, same run.

``python -m bench.network [--quick] [--json FILE]`` (or ``python -m bench network``).

1. Generate a walking network over Wuhai's three urban cores (``circle.testnet.wuhai_like``: ≈ 57k
   nodes, ≈ 1,700 km of ways) and write it as .osm XML and .osm.pbf (not timed as engine work).
2. Grid engine: ``build_grid`` and ``compute_access`` (warm median) on the shipped sample.
3. Network engine: read (.osm, .pbf), snap the city's cells, ``compute_network_access`` (warm
   median), and the whole ``build_network_index`` from the .osm file. Ratios network ÷ grid.
4. How far the grid engine is from the network one (``compare_engines``) on populated cells that
   both reach.
5. What-if recompute (one type, both engines) and siting k = 5 (greedy), with greedy ÷ optimum (HiGHS
   ILP) for every type at k = 1, 3, 5, 10 on the city index.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Report, fmt_s, fmt_x, log, measure, print_table, ratio, to_jsonable, verdict

GOAL_NETWORK_BUILD_S = 15.0     # whole build_network_index from an .osm file, city-sized network
GOAL_WHATIF_S = 0.5             # "immediately"
GOAL_SITING_S = 2.0
WHATIF_TYPES = ("supermarket", "convenience_store", "park", "primary_school")


def run(quick: bool = False) -> Report:
    import pandas as pd

    import circle
    from circle import grid as gridmod
    from circle import index as ix
    from circle import network, siting, testnet, whatif
    from circle.taxonomy import facility_types

    rep = Report()
    repeat = 2 if quick else 3
    type_ids = tuple(t.id for t in facility_types())

    # 1. The synthetic network.
    log("[network] generating the synthetic Wuhai-like network ...")
    t = time.perf_counter()
    synth = testnet.wuhai_like(block_m=160.0 if quick else 80.0)
    gen_s = time.perf_counter() - t
    tmp = tempfile.TemporaryDirectory(prefix="bench-network-")
    folder = Path(tmp.name)
    osm_path = testnet.write_osm_xml(synth, folder / "wuhai_like.osm")
    pbf_path = testnet.write_osm_pbf(synth, folder / "wuhai_like.osm.pbf") if network.osmium_available() else None
    rep.details["synthetic"] = {"nodes": synth.n_nodes, "ways": len(synth.ways), "generate_s": gen_s,
                                "osm_mb": osm_path.stat().st_size / 2**20,
                                "pbf_mb": pbf_path.stat().st_size / 2**20 if pbf_path else None}

    # 2. Grid engine, same process.
    log("[network] grid engine: build_grid + compute_access ...")
    index = circle.load_index()
    params = index.params
    t = time.perf_counter()
    grid = gridmod.build_grid(params.resolution)
    grid_build_s = time.perf_counter() - t
    facilities = index.facilities
    ix.compute_access(grid, facilities, params, type_ids)          # warm-up (numba cache load)
    grid_access = measure(lambda: ix.compute_access(grid, facilities, params, type_ids), repeat=repeat, warmup=0)

    # 3. Network engine.
    log("[network] network engine: read, snap, access ...")
    read_osm = measure(lambda: network.read_network(osm_path), repeat=repeat, warmup=0)
    read_pbf = measure(lambda: network.read_network(pbf_path), repeat=repeat, warmup=0) if pbf_path else None
    net = network.read_network(osm_path)
    snap = measure(lambda: network.attach_grid(net, grid), repeat=repeat, warmup=0)
    model = network.attach_grid(net, grid)
    network.compute_network_access(model, facilities, params, type_ids)   # warm-up (numba)
    net_access = measure(lambda: network.compute_network_access(model, facilities, params, type_ids),
                         repeat=repeat, warmup=0)
    t = time.perf_counter()
    net_index = network.build_network_index(osm_path, index.dataset, params, grid=grid)
    full_s = time.perf_counter() - t
    info = net_index.network_info
    grid_full_s = grid_build_s + grid_access.median
    r_access = ratio(net_access.median, grid_access.median)
    r_full = ratio(full_s, grid_full_s)
    rep.details.update({
        "grid_build_s": grid_build_s, "grid_access": grid_access.as_dict(), "read_osm": read_osm.as_dict(),
        "read_pbf": read_pbf.as_dict() if read_pbf else None, "snap_cells": snap.as_dict(),
        "network_access": net_access.as_dict(), "network_full_build_s": full_s,
        "network_timings": net_index.timings, "network_stats": net.stats,
        "cells_snapped": info["cells_snapped"], "facilities_not_snapped": info["facilities_not_snapped"],
    })
    nodes = f"{net.n_nodes:,} nodes, {net.n_edges:,} edges, {net.total_km:,.0f} km"
    rep.add("network", "synthetic network (3 urban cores)", nodes,
            note=f"generated in {fmt_s(gen_s)} (not engine time); .osm {rep.details['synthetic']['osm_mb']:.1f} MB")
    rep.add("network", "read .osm XML (iterparse)", str(read_osm), note=f"{len(synth.ways):,} ways")
    if read_pbf:
        rep.add("network", "read .osm.pbf (osmium)", str(read_pbf), note=f"{fmt_x(ratio(read_osm.median, read_pbf.median))} faster than XML")
    rep.add("network", "snap city cells to the network", str(snap),
            note=f"{info['cells_snapped']:,} of {grid.size:,} cells within {model.params.max_snap_m:g} m of a street")
    rep.add("network", "grid engine compute_access (37 types)", str(grid_access),
            note=f"same run; build_grid {fmt_s(grid_build_s)}")
    rep.add("network", "network engine access (37 types)", str(net_access),
            note=f"{len(facilities):,} facilities, {info['facilities_not_snapped']:,} beyond the snap limit "
                 f"(outside the synthetic cores)")
    rep.add("network", "ratio network ÷ grid, access", fmt_x(r_access), value=r_access, unit="x",
            note="> 1 means the network engine is slower")
    rep.add("network", "build_network_index from .osm (read+snap+access+index)", fmt_s(full_s),
            f"≤ {GOAL_NETWORK_BUILD_S:g} s", verdict(full_s <= GOAL_NETWORK_BUILD_S), full_s, "s",
            note=f"vs grid build_grid + compute_access {fmt_s(grid_full_s)}: ratio {fmt_x(r_full)}")

    # 4. Grid vs network.
    table = network.compare_engines(index, net_index, populated_only=True)
    every = table.set_index("type").loc["ALL"]
    rep.details["compare_engines_populated"] = table.to_dict("records")
    rep.add("network", "grid vs network, populated cells both reach",
            f"|Δ| median {every['median_abs_diff_min']:.2f} min, p90 {every['p90_abs_diff_min']:.2f} min; "
            f"rel median {every['median_rel_diff'] * 100:.0f}%",
            note=f"mean signed (grid − network) {every['mean_signed_diff_min']:+.2f} min; 'within threshold' "
                 f"disagrees on {every['share_cells_disagree'] * 100:.1f}% of cells, "
                 f"{every['share_residents_disagree'] * 100:.1f}% of residents; {int(every['cells_compared']):,} "
                 f"(cell, type) pairs; synthetic network, simulated facilities")

    # 5. What-if and siting.
    log("[network] what-if and siting ...")
    populated = np.flatnonzero(index.population > 0)
    rng = np.random.default_rng(20240601)
    spots = rng.choice(populated, size=len(WHATIF_TYPES), replace=False)
    whatif_rows = {}
    for engine_name, idx in (("grid", index), ("network", net_index)):
        for type_id, pos in zip(WHATIF_TYPES, spots.tolist()):
            edit = whatif.add(idx, type_id, float(idx.grid.lat[pos]), float(idx.grid.lng[pos]))
            timing = measure(lambda: whatif.evaluate(idx, [edit]), repeat=3 if quick else 5, warmup=1)
            whatif_rows[f"{engine_name}:{type_id}"] = timing.as_dict()
    worst_grid = max(v["median_s"] for k, v in whatif_rows.items() if k.startswith("grid:"))
    worst_net = max(v["median_s"] for k, v in whatif_rows.items() if k.startswith("network:"))
    rep.details["whatif"] = whatif_rows
    rep.add("network", "what-if add one facility, grid engine (worst of 4 types)", fmt_s(worst_grid),
            f"≤ {GOAL_WHATIF_S:g} s", verdict(worst_grid <= GOAL_WHATIF_S), worst_grid, "s",
            note="recompute the type (nearest + 15-min counts) + circle, all-eight, city/district/street tables; "
                 + ", ".join(f"{k.split(':')[1]} {fmt_s(v['median_s'])}" for k, v in whatif_rows.items() if k.startswith("grid:")))
    rep.add("network", "what-if add one facility, network engine (worst of 4 types)", fmt_s(worst_net),
            f"≤ {GOAL_WHATIF_S:g} s", verdict(worst_net <= GOAL_WHATIF_S), worst_net, "s",
            note=", ".join(f"{k.split(':')[1]} {fmt_s(v['median_s'])}" for k, v in whatif_rows.items() if k.startswith("network:")))
    siting_rows = {}
    for type_id in WHATIF_TYPES:
        timing = measure(lambda: siting.propose_sites(index, type_id, 5), repeat=3 if quick else 5, warmup=1)
        siting_rows[type_id] = timing.as_dict()
    worst_siting = max(v["median_s"] for v in siting_rows.values())
    rep.details["siting_k5"] = siting_rows
    rep.add("network", "siting k=5 (greedy), grid engine (worst of 4 types)", fmt_s(worst_siting),
            f"≤ {GOAL_SITING_S:g} s", verdict(worst_siting <= GOAL_SITING_S), worst_siting, "s",
            note=", ".join(f"{k} {fmt_s(v['median_s'])}" for k, v in siting_rows.items()))
    ks = (1, 5) if quick else (1, 3, 5, 10)
    types = WHATIF_TYPES if quick else type_ids
    frames = []
    for type_id in types:
        frames.append(siting.compare_with_optimum(index, type_id, ks=ks, time_limit_s=60))
    gaps = pd.concat(frames, ignore_index=True)
    rep.details["greedy_vs_optimum"] = gaps.to_dict("records")
    solved = gaps[gaps["proven"] & (gaps["optimum"] > 0)]
    rep.add("network", f"greedy ÷ optimum (ILP), {len(types)} types × k∈{list(ks)}",
            f"min {solved['ratio'].min():.4f}, mean {solved['ratio'].mean():.4f}, "
            f"{(solved['ratio'] >= 1 - 1e-9).mean() * 100:.0f}% exactly optimal",
            "≥ 0.632 (1 − 1/e)", verdict(bool((solved["ratio"] >= 1 - 1 / np.e).all())),
            float(solved["ratio"].min()), "ratio",
            note=f"{len(solved)} proven optima of {len(gaps)} cases (others: nobody left to cover or not proven); "
                 f"ILP solve median {fmt_s(float(gaps['optimum_s'].median()))}, max {fmt_s(float(gaps['optimum_s'].max()))}")
    tmp.cleanup()
    return rep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller network and fewer repeats (smoke run)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write results and details to FILE")
    args = parser.parse_args(argv)
    rep = run(quick=args.quick)
    print_table(rep.results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_jsonable({"results": rep.results, "details": rep.details}),
                                        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
