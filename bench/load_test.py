"""Many users at once: N concurrent sessions of the running app, over Streamlit's own protocol.

``python -m bench.load_test [--sessions 50] [--arrival burst|ramp] [--ramp-s 10] [--rounds 2] [--json FILE]``

Each simulated reader is a real websocket client of ``/_stcore/stream`` (the browser's protocol:
``BackMsg`` / ``ForwardMsg`` protobufs from ``streamlit.proto``). It opens a page the way a browser
tab does (a ``rerun_script`` with the page name and query string), receives everything the page
sends and stops at ``script_finished``. Its **page-ready time** runs from opening the websocket to
that message: everything the server does for a new reader. An **error** is a failed connection, a
Python exception shown on the page, a "page not found", a compile error or a time-out.

The benchmark starts its own server on a free loopback port (``--url`` may name one already
running, on loopback only), warms it up (every page of the rotation once in each language, one
after the other, so the index is loaded and each page's per-language caches are filled, as they
are on a server that has been up for a while), then:

1. opens one session and keeps it: server RSS with one reader (``/proc/<pid>/status`` VmRSS);
2. opens the other N − 1 sessions at once (``burst``) or spread over ``--ramp-s`` seconds (``ramp``),
   all kept open: page-ready times, errors, and RSS with N readers;
3. repeats step 2 ``--rounds`` times (new sessions each round, the old ones closed first).

It prints errors, p50/p95/max page-ready time, server CPU per session, RSS and RSS growth per
extra session (the index is shared through ``st.cache_resource``, so an extra reader should cost
only its session), then the same for ``bench/bare_app.py`` (a bare Streamlit page) as a baseline
and the ratio. ``--workers N`` starts N server processes and sends reader k to server k mod N, as
a proxy balancing by reader would; figures are summed over the processes. Bounded:
at most 200 sessions, every page has a time-out and the whole run a deadline; the server it
started is stopped at the end. Nothing leaves the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_SESSIONS = 200
# What readers of an article open: the story, their own circle (different places), the city map,
# progress, a chart embedded in the article, the data page, the briefing.
PLACES = ("长青社区", "新达佳苑社区", "凤凰岭街道", "海南区", "乌达区", "滨河街道")
ROTATION = (
    ("story", {}),
    ("my_circle", {"place": None}),
    ("city_map", {}),
    ("my_circle", {"lat": None, "lng": None}),
    ("progress", {}),
    ("chart", {"id": "district-coverage", "embed": "true"}),
    ("my_circle", {"place": None}),
    ("data_methods", {}),
    ("chart", {"id": "circle-coverage"}),
    ("briefing", {"slide": "2"}),
)

# The default page (story) lives at the root: st.navigation gives a default page the URL path "".
URL_PATH = {"story": "", "bare": ""}
BARE_APP = "bench/bare_app.py"


@dataclass
class Visit:
    page: str
    query: str
    ok: bool = False
    error: str = ""
    ready_s: float = float("nan")
    connect_s: float = float("nan")
    messages: int = 0
    bytes: int = 0
    server: str = ""


@dataclass
class Round:
    arrival: str
    sessions: int
    visits: list[Visit] = field(default_factory=list)
    rss_one_mb: float = float("nan")
    rss_all_mb: float = float("nan")
    wall_s: float = float("nan")
    server_cpu_s: float = float("nan")  # user + system CPU of the server while the N − 1 opened

    @property
    def errors(self) -> int:
        return sum(not v.ok for v in self.visits)

    def ready(self) -> list[float]:
        return sorted(v.ready_s for v in self.visits if v.ok)

    def summary(self) -> dict:
        ready = self.ready()
        growth = (self.rss_all_mb - self.rss_one_mb) / max(1, self.sessions - 1)
        return {"arrival": self.arrival, "sessions": self.sessions, "errors": self.errors,
                "p50_s": percentile(ready, 50), "p95_s": percentile(ready, 95), "max_s": ready[-1] if ready else None,
                "rss_one_session_mb": self.rss_one_mb, "rss_all_sessions_mb": self.rss_all_mb,
                "rss_growth_per_extra_session_mb": growth, "wall_s": self.wall_s,
                "server_cpu_per_session_ms": 1000 * self.server_cpu_s / max(1, self.sessions - 1),
                "error_samples": sorted({v.error for v in self.visits if not v.ok})[:5]}


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    k = (len(values) - 1) * q / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def total(measure, pids) -> float:
    """A per-process figure (rss_mb, cpu_s) summed over the servers (NaN without pids)."""
    return sum(measure(p) for p in pids) if pids else float("nan")


def check_loopback(url: str) -> None:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK and f"[{host}]" not in LOOPBACK:
        raise SystemExit(f"load tests run on loopback only, not {host!r}")


# --- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0, poll_s: float = 0.3) -> None:
    """Until the server at ``url`` answers its health check (RuntimeError if it exits or times out)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(poll_s)
    raise RuntimeError("streamlit did not become healthy in time")


@contextlib.contextmanager
def serve(log_path: Path | None = None, script: str = "streamlit_app.py"):
    """Start the app (or ``script``) on a free loopback port; yield (url, pid); stop it afterwards."""
    port = free_port()
    if script == "streamlit_app.py":
        subprocess.run([sys.executable, "-m", "circle", "build"], cwd=ROOT, check=True, capture_output=True)
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        if log_path:
            log.close()


# --- one reader ------------------------------------------------------------------------------------

def visit_for(i: int) -> tuple[str, str]:
    """The i-th reader's page and query string (places vary, so not every reader asks the same)."""
    page, params = ROTATION[i % len(ROTATION)]
    params = dict(params)
    if "place" in params:
        params["place"] = PLACES[i % len(PLACES)]
    if "lat" in params:  # a point on a small grid around the city centre
        params["lat"] = f"{39.655 + 0.004 * (i % 7):.4f}"
        params["lng"] = f"{106.800 + 0.004 * (i % 5):.4f}"
    if i % 4 == 3:
        params["lang"] = "en"
    return page, urllib.parse.urlencode(params)


async def open_page(base_url: str, page: str, query: str, timeout: float):
    """Open a page like a browser tab; return (Visit, the open websocket or None)."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    visit = Visit(page, query, server=base_url)
    ws_url = base_url.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"
    start = time.perf_counter()
    ws = None
    try:
        async with asyncio.timeout(timeout):
            ws = await websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None,
                                          open_timeout=timeout, ping_interval=None, compression=None)
            visit.connect_s = time.perf_counter() - start
            msg = BackMsg()
            state = msg.rerun_script
            state.query_string = query
            state.page_name = URL_PATH.get(page, page)
            state.page_script_hash = ""
            state.context_info.timezone = "Asia/Shanghai"
            state.context_info.timezone_offset = -480
            state.context_info.locale = "zh-CN"
            state.context_info.url = f"{base_url}/{URL_PATH.get(page, page)}" + (f"?{query}" if query else "")
            state.context_info.is_embedded = "embed=true" in query
            await ws.send(msg.SerializeToString())
            while True:
                raw = await ws.recv()
                visit.messages += 1
                visit.bytes += len(raw)
                fwd = ForwardMsg()
                fwd.ParseFromString(raw)
                kind = fwd.WhichOneof("type")
                if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element" \
                        and fwd.delta.new_element.WhichOneof("type") == "exception":
                    exc = fwd.delta.new_element.exception
                    visit.error = f"exception on {page}: {exc.type}: {exc.message[:120]}"
                elif kind == "page_not_found":
                    visit.error = f"page not found: {page}"
                elif kind == "script_finished":
                    status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                    if status == "FINISHED_EARLY_FOR_RERUN":
                        continue  # the page asked for a rerun (e.g. leaving the legacy pages mode)
                    if status == "FINISHED_WITH_COMPILE_ERROR":
                        visit.error = f"compile error on {page}"
                    break
        visit.ready_s = time.perf_counter() - start
        visit.ok = not visit.error
    except TimeoutError:
        visit.error = f"time-out after {timeout:.0f} s on {page}"
    except Exception as error:  # noqa: BLE001 - every failure is counted, with its kind
        visit.error = f"{type(error).__name__}: {str(error)[:120]}"
    if not visit.ok and ws is not None:
        await ws.close()
        ws = None
    return visit, ws


async def close_all(sockets) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets if ws is not None), return_exceptions=True)


# --- the run -----------------------------------------------------------------------------------------

def warm_up_visits() -> list[tuple[str, str]]:
    """Each page of the rotation in both languages (Chinese first)."""
    visits = []
    for i in range(len(ROTATION)):
        page, query = visit_for(i)
        params = [kv for kv in urllib.parse.parse_qsl(query) if kv[0] != "lang"]
        visits += [(page, urllib.parse.urlencode(params)), (page, urllib.parse.urlencode(params + [("lang", "en")]))]
    return list(dict.fromkeys(visits))


async def warm_up(base_urls: tuple[str, ...], timeout: float) -> list[Visit]:
    """Every page of the rotation in both languages on every server, one after the other (loads
    the index and fills the per-language caches)."""
    visits = []
    for base_url in base_urls:
        for page, query in warm_up_visits():
            visit, ws = await open_page(base_url, page, query, timeout)
            visits.append(visit)
            if ws is not None:
                await ws.close()
    return visits


async def one_round(base_urls: tuple[str, ...], pids: tuple[int, ...], sessions: int, arrival: str, ramp_s: float,
                    timeout: float, offset: int, visits=None) -> Round:
    """Reader k goes to server k mod n (as behind a proxy that balances by reader, e.g. ip_hash)."""
    visits = visits or visit_for
    rnd = Round(arrival, sessions)
    first, first_ws = await open_page(base_urls[0], *visits(offset), timeout)
    rnd.visits.append(first)
    await asyncio.sleep(1.0)
    rnd.rss_one_mb = total(rss_mb, pids)

    async def later(k: int):
        if arrival == "ramp" and sessions > 1:
            await asyncio.sleep(ramp_s * (k - 1) / (sessions - 1))
        return await open_page(base_urls[k % len(base_urls)], *visits(offset + k), timeout)

    start, cpu0 = time.perf_counter(), total(cpu_s, pids)
    results = await asyncio.gather(*(later(k) for k in range(1, sessions)))
    rnd.wall_s = time.perf_counter() - start
    rnd.server_cpu_s = total(cpu_s, pids) - cpu0
    rnd.visits += [v for v, _ in results]
    await asyncio.sleep(1.0)
    rnd.rss_all_mb = total(rss_mb, pids)
    await close_all([first_ws] + [ws for _, ws in results])
    return rnd


async def run(base_urls: tuple[str, ...], pids: tuple[int, ...], sessions: int, arrival: str, ramp_s: float,
              rounds: int, timeout: float, bare: bool = False) -> dict:
    if bare:  # the baseline: every reader opens the bare page
        def visits(i: int) -> tuple[str, str]:
            return "bare", ""
        warm = []
        for base_url in base_urls:
            visit, ws = await open_page(base_url, "bare", "", timeout)
            warm.append(visit)
            if ws is not None:
                await ws.close()
    else:
        visits = visit_for
        warm = await warm_up(base_urls, timeout)
    out = {"warm_up": [asdict(v) for v in warm], "rounds": []}
    for r in range(rounds):
        rnd = await one_round(base_urls, pids, sessions, arrival, ramp_s, timeout, offset=1000 * (r + 1), visits=visits)
        out["rounds"].append({**rnd.summary(), "visits": [asdict(v) for v in rnd.visits]})
        await asyncio.sleep(2.0)
    return out


def env() -> dict:
    load = os.getloadavg()
    return {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "nproc": os.cpu_count(), "loadavg": [round(x, 2) for x in load],
            "python": sys.version.split()[0]}


def load_test(sessions: int = 50, arrival: str = "burst", ramp_s: float = 10.0, rounds: int = 2,
              timeout: float = 120.0, deadline_s: float = 900.0, url: str | None = None, pid=None,
              log_path: Path | None = None, baseline: bool = True, workers: int = 1) -> dict:
    """Run the load test and return its figures (see the module docstring).

    ``workers`` > 1 starts that many server processes and sends reader k to server k mod n, as a
    proxy balancing by reader would (``url`` may list several servers, comma-separated, and
    ``pid`` their process ids)."""
    if not 1 <= sessions <= MAX_SESSIONS:
        raise SystemExit(f"--sessions must be 1–{MAX_SESSIONS}")
    if not 1 <= workers <= 8:
        raise SystemExit("--workers must be 1–8")

    def measure(bases: tuple[str, ...], server_pids: tuple[int, ...], bare: bool = False) -> dict:
        for base in bases:
            check_loopback(base)

        def loop() -> dict:
            return asyncio.run(asyncio.wait_for(
                run(bases, server_pids, sessions, arrival, ramp_s, rounds, timeout, bare), deadline_s))

        # A thread of its own: the caller's thread may already run an event loop (pytest with
        # Playwright's sync API does), and asyncio.run refuses to nest.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(loop).result()

    head = {"env": env(), "sessions": sessions, "arrival": arrival, "ramp_s": ramp_s}
    if url:
        bases = tuple(u.strip().rstrip("/") for u in str(url).split(",") if u.strip())
        pids = (pid,) if isinstance(pid, int) else tuple(pid or ())
        return {**head, "url": ", ".join(bases), "workers": len(bases), **measure(bases, pids)}

    def servers(script: str, log: Path | None):
        stack = contextlib.ExitStack()
        started = [stack.enter_context(serve(log if i == 0 else None, script)) for i in range(workers)]
        return stack, tuple(u for u, _ in started), tuple(p for _, p in started)

    stack, bases, pids = servers("streamlit_app.py", log_path)
    with stack:
        result = {**head, "url": ", ".join(bases), "workers": workers, **measure(bases, pids)}
    if baseline:  # same machine, same Streamlit and settings, the smallest page: the floor
        stack, bases, pids = servers(BARE_APP, None)
        with stack:
            result["baseline"] = {"app": BARE_APP, **measure(bases, pids, bare=True)}
    return result


def _fmt(value, unit: str = "s", digits: int = 2) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f} {unit}"


GOAL_P95_S, GOAL_MB_PER_SESSION = 1.0, 5.0


def _round_line(i: int, rnd: dict) -> str:
    return (f"round {i}: errors {rnd['errors']} · page-ready p50 {_fmt(rnd['p50_s'])}, p95 {_fmt(rnd['p95_s'])}, "
            f"max {_fmt(rnd['max_s'])} · wall {_fmt(rnd['wall_s'])} · server CPU "
            f"{_fmt(rnd.get('server_cpu_per_session_ms'), 'ms', 1)} per session · RSS "
            f"{_fmt(rnd['rss_one_session_mb'], 'MB', 0)} with 1 session → {_fmt(rnd['rss_all_sessions_mb'], 'MB', 0)} "
            f"with {rnd['sessions']} = {_fmt(rnd['rss_growth_per_extra_session_mb'], 'MB', 2)} per extra session")


def _worst(result: dict, key: str) -> float | None:
    values = [r[key] for r in result["rounds"] if r.get(key) is not None and r[key] == r[key]]
    return max(values) if values else None


def report(result: dict) -> str:
    e = result["env"]
    lines = [f"load test — {e['date']} — nproc {e['nproc']} — load average {e['loadavg']} — Python {e['python']}",
             f"{result['sessions']} sessions, arrival {result['arrival']}"
             + (f" over {result['ramp_s']:g} s" if result["arrival"] == "ramp" else "")
             + f", {result.get('workers', 1)} server process(es): {result['url']}"]
    warm = result["warm_up"]
    lines.append("warm-up (one page at a time): " + ", ".join(
        f"{v['page']} {_fmt(v['ready_s'])}" + ("" if v["ok"] else f" ERROR {v['error']}") for v in warm))
    for i, rnd in enumerate(result["rounds"], 1):
        lines.append(_round_line(i, rnd))
        if rnd["error_samples"]:
            lines.append("  errors: " + "; ".join(rnd["error_samples"]))
        by_page: dict[str, list[float]] = {}
        for v in rnd["visits"]:
            if v["ok"]:
                by_page.setdefault(v["page"], []).append(v["ready_s"])
        lines.append("  by page (median): " + ", ".join(f"{p} {statistics.median(t):.2f} s (n={len(t)})"
                                                         for p, t in sorted(by_page.items())))
    base = result.get("baseline")
    if base:
        lines.append(f"baseline — {base['app']} (a title and a paragraph, same Streamlit and settings), same "
                     f"{result['sessions']} sessions, {result['arrival']}:")
        for i, rnd in enumerate(base["rounds"], 1):
            lines.append("  " + _round_line(i, rnd))
    errors = sum(r["errors"] for r in result["rounds"])
    p95, growth = _worst(result, "p95_s"), _worst(result, "rss_growth_per_extra_session_mb")
    lines.append(f"goals: errors {errors} (0) {'PASS' if errors == 0 else 'MISS'} · worst p95 {_fmt(p95)} "
                 f"(≤ {GOAL_P95_S:g} s) {'PASS' if p95 is not None and p95 <= GOAL_P95_S else 'MISS'} · worst growth "
                 f"{_fmt(growth, 'MB', 2)} per session (≤ {GOAL_MB_PER_SESSION:g} MB) "
                 f"{'PASS' if growth is not None and growth <= GOAL_MB_PER_SESSION else 'MISS'}")
    if base:
        base_p95 = _worst(base, "p95_s")
        if p95 and base_p95:
            lines.append(f"ratio: worst p95 ours / bare Streamlit page = {p95 / base_p95:.1f}× "
                         f"({_fmt(p95)} vs {_fmt(base_p95)})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__.split("\n\n")[1])
    parser.add_argument("--sessions", type=int, default=50, help="concurrent sessions (1–200; default 50)")
    parser.add_argument("--arrival", choices=("burst", "ramp"), default="burst",
                        help="burst: all at once; ramp: spread evenly over --ramp-s seconds")
    parser.add_argument("--ramp-s", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds after the warm-up (default 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per page, seconds")
    parser.add_argument("--deadline", type=float, default=900.0, help="the whole run, seconds")
    parser.add_argument("--url", help="an app already running on loopback (default: start one); several, comma-separated")
    parser.add_argument("--pid", type=int, action="append",
                        help="its server process id, for RSS and CPU (with --url; repeat for several)")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes to start (1–8); reader k goes to server k mod n, as behind a proxy")
    parser.add_argument("--json", type=Path, help="also write everything to this file")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the bare-Streamlit-page baseline (run by default when the test starts its own server)")
    args = parser.parse_args(argv)
    result = load_test(args.sessions, args.arrival, args.ramp_s, args.rounds, args.timeout, args.deadline,
                       args.url, args.pid, baseline=not args.no_baseline, workers=args.workers)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str))
    return 1 if any(r["errors"] for r in result["rounds"]) else 0


if __name__ == "__main__":
    sys.exit(main())
