"""App timings for residents: cold start to first meaningful paint, and click → profile.

``python -m bench.app_timing`` starts the real app on a loopback port (index cache warm on disk, as
after ``python -m circle build``), opens it in Debian's chromium, and measures:

* **cold start → first meaningful paint**: from launching ``streamlit run`` to the story page's
  title being visible in the browser (goal ≤ 3 s), median of 4 cold starts (each a fresh server and
  a fresh browser context), and from navigation start alone;
* **click → profile, server time**: what the My circle page computes for a new place (lookup,
  15-minute isochrone, tables, the deck JSON), timed in-process, median of 50 places (goal
  ≤ 150 ms); and the whole script run of the page in Streamlit's AppTest after a simulated click;
* **click → profile in the browser**: from a real click on the map to the new place's heading.

Loopback only, bounded in time; it stops the server itself.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.load_test import free_port, wait_healthy
from tests.browser.conftest import CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
ARGS = CHROMIUM_ARGS  # the browser tests' flags (software GL, nothing fetched in the background)


def _launch(port: int) -> subprocess.Popen:
    """``streamlit run streamlit_app.py`` on a loopback port, as a reader's server starts."""
    return subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
                             "true", "--server.address", "127.0.0.1", "--server.port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def server_compute(n: int = 50) -> dict:
    """In-process: everything the My circle page computes after a click, per new place."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from circle import load_index, mycircle
    from circle.maps import serialised_deck

    index = load_index()
    mycircle.pick_layer(index, "zh")  # encoded once per index, then shared (as on the page)
    populated = np.flatnonzero(index.population > 0)
    rng = np.random.default_rng(7)
    times = []
    for pos in rng.choice(populated, n, replace=False):
        lat, lng = float(index.grid.lat[pos]), float(index.grid.lng[pos])
        t = time.perf_counter()
        profile = index.lookup(lat, lng)
        mycircle.types_table(profile, "zh")
        mycircle.missing(profile, "zh")
        layers = mycircle.map_layers(index, mycircle.Location(lat, lng, "", ""), profile, 4.0, "zh")
        serialised_deck(layers, {"latitude": lat, "longitude": lng, "zoom": 14}, tooltip_text="{label}").to_json()
        times.append(time.perf_counter() - t)
    return {"median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * sorted(times)[int(0.95 * len(times))]}


def apptest_rerun(n: int = 10) -> dict:
    """The My circle page's whole script run after a simulated click (Streamlit's AppTest)."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT))
    from circle import mycircle

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.switch_page("pages/my_circle.py")
    at.run()
    times = []
    for k in range(n):
        lat, lng = 39.66 + 0.002 * k, 106.81 + 0.001 * k
        at.session_state["place_state"] = mycircle.Location(lat, lng, f"{lat}", f"{lng}")
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
        assert not at.exception, at.exception
    return {"median_ms": 1000 * statistics.median(times), "min_ms": 1000 * min(times)}


def browser_timings() -> dict:
    from playwright.sync_api import sync_playwright

    subprocess.run([sys.executable, "-m", "circle", "build"], cwd=ROOT, check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    out: dict = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        t_launch = time.perf_counter()
        proc = _launch(port)
        try:
            wait_healthy(url, proc, timeout=60, poll_s=0.05)
            out["server_healthy_s"] = time.perf_counter() - t_launch
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            t_nav = time.perf_counter()
            page.goto(url + "/")
            page.get_by_role("heading", name="一刻钟社区生活圈 乌海人的幸福坐标").wait_for(timeout=60_000)
            now = time.perf_counter()
            out["cold_start_to_title_s"] = now - t_launch
            out["navigation_to_title_s"] = now - t_nav
            # Warm page loads (a reader opening a shared link once the server runs).
            warm = []
            for _ in range(3):
                t = time.perf_counter()
                page.goto(url + "/")
                page.get_by_role("heading", name="一刻钟社区生活圈 乌海人的幸福坐标").wait_for(timeout=60_000)
                warm.append(time.perf_counter() - t)
            out["warm_navigation_to_title_s"] = statistics.median(warm)
            # A new reader (empty browser cache) on the now-running server.
            fresh = []
            for _ in range(3):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                new_page = context.new_page()
                t = time.perf_counter()
                new_page.goto(url + "/")
                new_page.get_by_role("heading", name="一刻钟社区生活圈 乌海人的幸福坐标").wait_for(timeout=60_000)
                fresh.append(time.perf_counter() - t)
                context.close()
            out["new_reader_navigation_to_title_s"] = statistics.median(fresh)
            page.goto(url + "/my_circle?place=长青社区")
            page.get_by_role("heading", name="长青社区 · 凤凰岭街道").wait_for(timeout=60_000)
            chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(3000)
            box = chart.bounding_box()
            x, y = box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.40
            page.mouse.move(x, y)
            page.wait_for_timeout(800)
            t = time.perf_counter()
            page.mouse.click(x, y)
            page.get_by_role("heading", name="39.").first.wait_for(timeout=60_000)
            out["browser_click_to_new_heading_s"] = time.perf_counter() - t
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            browser.close()
    return out


def cold_starts(n: int = 3) -> list[dict]:
    """``n`` more cold starts, each a fresh server and a fresh browser context: launch → title."""
    from playwright.sync_api import sync_playwright

    runs = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        try:
            for _ in range(n):
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                t_launch = time.perf_counter()
                proc = _launch(port)
                try:
                    wait_healthy(url, proc, timeout=60, poll_s=0.05)
                    healthy = time.perf_counter() - t_launch
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    page.goto(url + "/")
                    page.get_by_role("heading", name="一刻钟社区生活圈 乌海人的幸福坐标").wait_for(timeout=60_000)
                    runs.append({"server_healthy_s": healthy, "cold_start_to_title_s": time.perf_counter() - t_launch})
                    context.close()
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
        finally:
            browser.close()
    return runs


def main() -> int:
    load = os.getloadavg()
    results = {"loadavg_at_start": load, "browser": browser_timings(), "cold_starts": cold_starts(3),
               "server_compute_per_click": server_compute(), "apptest_page_rerun_after_click": apptest_rerun()}
    b, s, a = results["browser"], results["server_compute_per_click"], results["apptest_page_rerun_after_click"]
    print(f"app timings (load average at start {load[0]:.2f}, {os.cpu_count()} CPUs)")
    colds = [b["cold_start_to_title_s"]] + [r["cold_start_to_title_s"] for r in results["cold_starts"]]
    cold = statistics.median(colds)
    print(f"  cold start → story title visible: median {cold:.2f} s of {len(colds)} "
          f"({', '.join(f'{c:.2f}' for c in colds)} s)  (goal ≤ 3 s; first run: "
          f"server healthy after {b['server_healthy_s']:.2f} s, navigation → title {b['navigation_to_title_s']:.2f} s, "
          f"warm navigation → title {b['warm_navigation_to_title_s']:.2f} s, new reader on a running server "
          f"{b['new_reader_navigation_to_title_s']:.2f} s)  "
          f"{'PASS' if cold <= 3 else 'MISS'}")
    print(f"  click → profile, server compute: median {s['median_ms']:.1f} ms, p95 {s['p95_ms']:.1f} ms  (goal ≤ 150 ms)  "
          f"{'PASS' if s['median_ms'] <= 150 else 'MISS'}")
    print(f"  click → profile, whole page script (AppTest rerun): median {a['median_ms']:.0f} ms, min {a['min_ms']:.0f} ms")
    print(f"  click → new heading in the browser (end to end): {b['browser_click_to_new_heading_s']:.2f} s")
    if len(sys.argv) > 2 and sys.argv[1] == "--json":
        Path(sys.argv[2]).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
