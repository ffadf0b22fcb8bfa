"""Timing, reporting and environment helpers shared by the benchmarks.

Every timing is wall-clock (``time.perf_counter``), repeated N times; we report the median and the
minimum, and, as a hint when the machine is busy, the median process CPU time (all threads of this
process, so a multi-threaded call can show more CPU than wall time). Verdicts use the wall median. A ratio is always ``baseline / ours`` with both measured in the same run. Progress goes to
stderr, the final table to stdout.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SEED = 20_240_601


# --- timing ----------------------------------------------------------------------------------------

@dataclass
class Timing:
    times: list[float]                                              # wall clock, seconds
    last: object = field(default=None, repr=False, compare=False)  # what the last timed call returned
    cpu: list[float] = field(default_factory=list)                  # process CPU time (all threads), seconds

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def min(self) -> float:
        return min(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.min, "mean_s": self.mean, "n": len(self.times),
                "cpu_median_s": self.cpu_median, "times_s": self.times if len(self.times) <= 20 else None}

    def __str__(self) -> str:
        cpu = f", CPU {fmt_s(self.cpu_median)}" if self.cpu else ""
        return f"median {fmt_s(self.median)}, min {fmt_s(self.min)} (n={len(self.times)}{cpu})"


def measure(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> Timing:
    """Run ``fn`` ``warmup`` times untimed, then ``repeat`` times timed (keeps the last result)."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    result = None
    for _ in range(repeat):
        result = None  # free the previous result before the next call
        c = time.process_time()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return Timing(times, result, cpu)


def measure_each(fn: Callable, args: list, warmup: int = 20) -> Timing:
    """Time ``fn(*a)`` once per element of ``args`` (per-call latency distribution)."""
    for a in args[:warmup]:
        fn(*a)
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    times, cpu = [], []
    for a in args:
        c = cpu_clock()
        t = clock()
        fn(*a)
        times.append((clock() - t) * 1e-9)
        cpu.append((cpu_clock() - c) * 1e-9)
    return Timing(times, None, cpu)


def ratio(baseline_s: float, ours_s: float) -> float:
    return baseline_s / ours_s if ours_s > 0 else float("inf")


# --- formatting ------------------------------------------------------------------------------------

def fmt_s(seconds: float) -> str:
    if seconds != seconds:
        return "n/a"
    if seconds >= 100:
        return f"{seconds:,.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.1f} µs"


def fmt_rate(per_s: float) -> str:
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f} M/s"
    if per_s >= 1e3:
        return f"{per_s / 1e3:.1f} k/s"
    return f"{per_s:.0f} /s"


def fmt_x(x: float) -> str:
    return f"{x:,.0f}×" if x >= 10 else f"{x:.2f}×"


def log(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


# --- results -----------------------------------------------------------------------------------------

@dataclass
class Result:
    bench: str
    metric: str
    measured: str                 # human-readable
    goal: str = ""
    status: str = "INFO"          # PASS / MISS / INFO
    value: float | None = None    # the number the status was judged on, in ``unit``
    unit: str = ""
    note: str = ""


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(results: list[Result], file=sys.stdout) -> None:
    headers = ("bench", "metric", "measured", "goal", "status")
    rows = [(r.bench, r.metric, r.measured, r.goal or "-", r.status) for r in results]
    widths = [max(_width(h), *(_width(row[i]) for row in rows)) if rows else _width(h)
              for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    print(line, file=file)
    print("  ".join(_pad(h, w) for h, w in zip(headers, widths)), file=file)
    print(line, file=file)
    for row in rows:
        print("  ".join(_pad(c, w) for c, w in zip(row, widths)), file=file)
    print(line, file=file)
    notes = [(r.metric, r.note) for r in results if r.note]
    if notes:
        print("notes:", file=file)
        for metric, note in notes:
            print(f"  * {metric}: {note}", file=file)


def _width(text: str) -> int:
    # CJK and the like take two columns in a terminal; keep the table aligned.
    return sum(2 if "\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" else 1 for ch in str(text))


def _pad(text: str, width: int) -> str:
    return str(text) + " " * (width - _width(text))


# --- environment ---------------------------------------------------------------------------------

def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def env_info() -> dict:
    import h3
    import numba
    import numpy
    import pandas
    import scipy

    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--", "circle", "data"))
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": nproc(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__, "numba": numba.__version__, "scipy": scipy.__version__,
        "pandas": pandas.__version__, "h3": h3.__version__,
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": commit, "circle_or_data_uncommitted_changes": dirty,
    }


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc; falls back to the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 2**20


def run_python(code: str, env_extra: dict | None = None, timeout: float = 300.0) -> dict:
    """Run ``code`` in a fresh interpreter (project root on the path); it must print one JSON line last."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def to_jsonable(value):
    if isinstance(value, Result):
        return asdict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return to_jsonable(value.item())
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value


@dataclass
class Report:
    """What one benchmark hands back: rows for the table, plus details for --json."""

    results: list[Result] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def add(self, *args, **kwargs) -> Result:
        r = Result(*args, **kwargs)
        self.results.append(r)
        return r
