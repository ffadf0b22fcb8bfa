"""The app in a real browser: pages load, maps draw, search and clicks give a profile, phones work."""
from __future__ import annotations

import re
import time

import pytest

from tests.browser.conftest import canvas_has_pixels, screenshot, wait_for_app

PAGES = [("", "一刻钟社区生活圈 乌海人的幸福坐标"), ("my_circle", "我的生活圈"), ("city_map", "全市地图"),
         ("progress", "进展"), ("data_methods", "数据与方法")]


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a Streamlit exception is on screen"
    assert "Traceback" not in page.content()
    assert page.get_by_text("Page not found").count() == 0, "Streamlit says the page does not exist"


@pytest.mark.parametrize("path,title", PAGES)
def test_each_page_loads(page, app_url, path, title):
    page.goto(f"{app_url}/{path}")
    wait_for_app(page, title)
    _no_error(page)
    screenshot(page, f"page-{path or 'story'}-zh")


def test_english_from_url(page, app_url):
    page.goto(f"{app_url}/?lang=en")
    wait_for_app(page, "The 15-minute life circle")
    _no_error(page)
    assert "lang=en" in page.url
    screenshot(page, "page-story-en")


def test_my_circle_map_draws(page, app_url):
    page.goto(f"{app_url}/my_circle?place=长青社区")
    wait_for_app(page, "长青社区")
    page.wait_for_selector("canvas", timeout=60_000)
    page.wait_for_timeout(2500)  # deck.gl draws after the hexes stream in
    share = canvas_has_pixels(page)
    screenshot(page, "my-circle-map")
    assert share > 0.05, f"the map canvas looks blank ({share:.1%} drawn pixels)"
    _no_error(page)
    assert re.search(r"lat=39\.67\d+", page.url), "the URL should be a permalink with lat/lng"


def test_search_gives_profile(page, app_url):
    page.goto(f"{app_url}/my_circle")
    wait_for_app(page, "我的生活圈")
    box = page.get_by_label("搜索地点")
    box.fill("xinda")
    box.press("Enter")
    wait_for_app(page)
    page.get_by_text("新达佳苑社区", exact=False).first.click()
    wait_for_app(page)
    page.get_by_role("heading", name=re.compile("新达佳苑社区")).wait_for(timeout=30_000)
    assert page.get_by_text(re.compile(r"^[0-8]/8$")).count() >= 1, "the circles-covered figure is missing"
    _no_error(page)
    screenshot(page, "my-circle-search")


def test_click_map_gives_profile(page, app_url):
    page.goto(f"{app_url}/my_circle?place=长青社区")
    wait_for_app(page, "长青社区")
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for(timeout=60_000)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(2500)
    box = chart.bounding_box()
    before = page.url
    # Click north-east of the centre: inside the 15-minute reach, a different cell.
    x, y = box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.40
    page.mouse.move(x, y)  # deck.gl picks on hover first, as a person's pointer would
    page.wait_for_timeout(800)
    page.mouse.click(x, y)
    deadline = time.time() + 30
    while time.time() < deadline and page.url == before:
        page.wait_for_timeout(300)
    wait_for_app(page)
    assert page.url != before, "clicking the map should move the view (and the permalink)"
    page.get_by_role("heading", name=re.compile(r"39\.\d{5}, 106\.\d{5}")).wait_for(timeout=30_000)
    _no_error(page)
    screenshot(page, "my-circle-click")


# Controls and text that reach past the right edge of the screen (a control cut off on a phone
# cannot be used; the page itself does not scroll sideways, so the document width alone misses it).
CUT_OFF = """() => [...document.querySelectorAll(
    '[data-testid="stMainBlockContainer"] :is(button, input, p, h1, h2, h3, [data-testid="stMetric"])')]
  .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
                 && r.right > window.innerWidth + 2 && !e.closest('table, [data-testid="stExpander"]'); })
  .map(e => (e.innerText || e.tagName).slice(0, 30) + ' → ' + Math.round(e.getBoundingClientRect().right) + 'px')"""


@pytest.mark.parametrize("path,text", [("my_circle?place=长青社区", "长青社区"), ("", "一刻钟社区生活圈"),
                                       ("progress", "进展"), ("city_map", "全市地图"), ("data_methods", "数据与方法")])
def test_phone_360px(phone_page, app_url, path, text):
    phone_page.goto(f"{app_url}/{path}")
    wait_for_app(phone_page, text)
    phone_page.wait_for_timeout(2000)
    overflow = phone_page.evaluate("() => document.documentElement.scrollWidth")
    screenshot(phone_page, f"phone-{(path.split('?')[0] or 'story').replace('_', '-')}")
    assert overflow <= 370, f"page is wider than a 360 px phone ({overflow}px)"
    assert phone_page.evaluate(CUT_OFF) == [], "cut off on a 360 px phone"
    _no_error(phone_page)


def test_bad_url_parameters_are_friendly(page, app_url):
    page.goto(f"{app_url}/my_circle?lat=abc&lng=106&speed=99")
    wait_for_app(page, "链接参数无效")
    assert page.get_by_text("Invalid link parameter", exact=False).count() >= 1
    _no_error(page)


@pytest.mark.parametrize("path", ["", "my_circle?place=长青社区", "city_map", "progress", "data_methods"])
def test_no_request_leaves_the_machine(page, app_url, path):
    """Works offline and inside China: every request the page makes goes to the app itself."""
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
    page.goto(f"{app_url}/{path}")
    wait_for_app(page)
    page.wait_for_timeout(3000)
    assert outside == [], f"requests left the machine: {outside[:5]}"


def test_deep_link_on_a_fresh_server_runs_the_whole_app(browser, chromium_executable, tmp_path):
    """The first request a server gets may be a shared link to a page: it must still show the
    navigation and the language switch (Streamlit's legacy pages/ mode must not take over)."""
    import subprocess
    import sys

    from bench.load_test import free_port, wait_healthy
    from tests.browser.conftest import ROOT

    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
                             "true", "--server.address", "127.0.0.1", "--server.port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/my_circle?place=长青社区&lang=en")
        wait_for_app(page, "Changqing Community")
        assert page.get_by_text("Page not found").count() == 0
        assert page.get_by_text("English", exact=True).count() >= 1, "language switch missing"
        assert page.get_by_text("City map").count() >= 1, "top navigation missing"
        screenshot(page, "fresh-server-deep-link")
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def test_city_map_draws_without_a_tile_server(page, app_url):
    page.goto(f"{app_url}/city_map")
    wait_for_app(page, "全市地图")
    chart = page.locator('[data-testid="stDeckGlJsonChart"]').first
    chart.wait_for(timeout=90_000)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(3000)
    share = canvas_has_pixels(page)
    screenshot(page, "city-map-drawn")
    assert share > 0.02, f"the city map looks blank ({share:.1%} drawn pixels)"
    _no_error(page)
