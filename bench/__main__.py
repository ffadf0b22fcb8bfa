"""``python -m bench [build|lookup|batch|single|memory|search ...] [--json FILE] [--quick] [--strict]``

Runs the engine benchmarks (all of them by default), prints a table of goals and measurements with
an honest PASS / MISS, and optionally writes everything to JSON. Not part of CI's pass/fail: the
exit status is 0 whatever the verdicts, unless ``--strict`` is given.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import build, import_rebuild, lookup, memory, network, search
from bench.common import env_info, fmt_s, log, print_table, to_jsonable

BENCHES = {
    "build": build.run,
    "batch": lookup.run_batch,
    "single": lookup.run_single,
    "memory": memory.run,
    "import_rebuild": import_rebuild.run,
    "network": network.run,
    "search": search.run,
}
ALIASES = {"lookup": ("batch", "single")}
ORDER = ("build", "batch", "single", "memory", "search", "import_rebuild", "network")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run: build, lookup (= batch + single), batch, single, memory, search, import_rebuild, network; default all")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write results and details to FILE")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller samples (a smoke run)")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any goal is missed")
    args = parser.parse_args(argv)

    wanted: set[str] = set()
    for name in args.names or ORDER:
        if name in ALIASES:
            wanted.update(ALIASES[name])
        elif name in BENCHES:
            wanted.add(name)
        else:
            parser.error(f"unknown benchmark {name!r} (choose from build, lookup, batch, single, memory, import_rebuild, network)")

    env = env_info()
    print(f"circle benchmarks — {env['date']} — nproc {env['nproc']} ({env['cpu']}) — Python {env['python']}, "
          f"numpy {env['numpy']}, numba {env['numba']}, h3 {env['h3']} — load average at start "
          f"{', '.join(f'{x:.2f}' for x in env['loadavg_at_start'] or [])}")
    if args.quick:
        print("QUICK mode: fewer repeats and smaller samples; do not quote these figures.")
    t0 = time.perf_counter()
    results, details, durations = [], {}, {}
    for name in [n for n in ORDER if n in wanted]:  # a set has no order: run in ORDER
        t = time.perf_counter()
        rep = BENCHES[name](quick=args.quick)
        durations[name] = time.perf_counter() - t
        log(f"[{name}] done in {fmt_s(durations[name])}")
        results += rep.results
        details[name] = rep.details
    total = time.perf_counter() - t0
    load_end = list(os.getloadavg()) if hasattr(os, "getloadavg") else []
    print()
    print_table(results)
    print(f"\ntotal benchmark time {fmt_s(total)} ("
          + ", ".join(f"{k} {fmt_s(v)}" for k, v in durations.items()) + "); load average at end "
          + ", ".join(f"{x:.2f}" for x in load_end) + f" on {env['nproc']} CPUs")
    missed = [r for r in results if r.status == "MISS"]
    print(f"{sum(r.status == 'PASS' for r in results)} PASS, {len(missed)} MISS"
          + (" — missed: " + "; ".join(r.metric for r in missed) if missed else ""))
    if args.json:
        payload = {"env": env, "quick": args.quick, "total_s": total, "durations_s": durations,
                   "loadavg_at_end": load_end,
                   "results": results, "details": details}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_jsonable(payload), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
