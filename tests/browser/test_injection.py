"""No script from a data file ever runs: a real browser, a data set of script and event-handler names.

The data set (tests/hardening/payloads.py: names such as ``<script>console.log('XSS-MARKER')…``,
``<img src=x onerror=…>``, ``[点我](javascript:…)``, ``![x](http://127.0.0.1:9/xss.png)``, and a file
name that is itself an ``<img onerror>``) is uploaded on the Load data page like a user would
(the file input, then "使用这些数据 / Use this data"). Then, in the same session: My circle near those
facilities (hover and click every one of them on the map), the city map (hover, click), a chart
(hover), the what-if page (its list of facilities) and the data page. Throughout: no dialog opens,
no console line carries the marker, the markdown image is never fetched, and the names are shown
literally as text.
"""
from __future__ import annotations

import math
import re

import pytest

from tests.browser.conftest import screenshot, wait_for_app
from tests.hardening import payloads

DEAD_IMAGE = "127.0.0.1:9/"


class Watch:
    """Everything that would show a script ran."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda msg: self.console.append(msg.text))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def assert_clean(self, where: str) -> None:
        assert self.dialogs == [], f"{where}: a dialog opened: {self.dialogs}"
        marked = [line for line in self.console + self.errors if payloads.MARKER in line or "XSS" in line]
        assert marked == [], f"{where}: a payload ran: {marked}"
        assert not [u for u in self.requests if DEAD_IMAGE in u], f"{where}: the markdown image was fetched"


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a Streamlit exception is on screen"


def _nav(page, label: str, title: str) -> None:
    """Go to another page inside the app (a new URL would start a new session without the data)."""
    page.get_by_role("link", name=re.compile(label)).first.click()
    wait_for_app(page, title)


def _metres_per_px(lat: float, zoom: float) -> float:
    """deck.gl's Web Mercator scale (512-pixel world at zoom 0)."""
    return 40_075_016.686 * math.cos(math.radians(lat)) / (512 * 2 ** zoom)


def _tooltip_text(page) -> str:
    tip = page.locator(".deck-tooltip")
    if tip.count() == 0 or not tip.first.is_visible():
        return ""
    return tip.first.inner_text()


def _tooltip_has_no_markup(page) -> None:
    tags = page.evaluate("() => Array.from(document.querySelectorAll('.deck-tooltip *')).map(e => e.tagName)")
    assert tags == [], f"the tooltip holds HTML elements: {tags}"


def _hover_payloads(page, canvas_box: dict, zoom: float = 14.0) -> set[str]:
    """Hover each payload facility on the My circle map; return the names whose tooltip showed."""
    lat0, lng0 = payloads.CENTRE
    scale = _metres_per_px(lat0, zoom)
    cx, cy = canvas_box["x"] + canvas_box["width"] / 2, canvas_box["y"] + canvas_box["height"] / 2
    frame = payloads.frame()
    seen: set[str] = set()
    for name, lng, lat in zip(frame["名称"], frame["经度"].astype(float), frame["纬度"].astype(float)):
        dx = (lng - lng0) * 111_320 * math.cos(math.radians(lat0)) / scale
        dy = -(lat - lat0) * 111_320 / scale
        for ox, oy in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (2, 2), (-2, -2), (2, -2), (-2, 2), (3, 0), (0, 3)]:
            page.mouse.move(cx + dx + ox, cy + dy + oy)
            page.wait_for_timeout(120)
            text = _tooltip_text(page)
            if name in text:
                seen.add(name)
                _tooltip_has_no_markup(page)
                page.mouse.click(cx + dx + ox, cy + dy + oy)  # clicking a facility must not run it either
                page.wait_for_timeout(150)
                break
    return seen


def _open_select(page, box) -> None:
    """Open a Streamlit selectbox's list (it opens asynchronously; click again if it did not)."""
    field = box.locator("input").first
    for attempt in range(6):
        try:
            if attempt % 2 == 0:
                field.click(timeout=5_000)
            else:  # something was in the way (a closing list, a rerun): use the keyboard
                field.focus(timeout=5_000)
                page.keyboard.press("ArrowDown")
            page.get_by_role("option").first.wait_for(timeout=3_000)
            return
        except Exception:  # noqa: BLE001 - not open yet
            page.keyboard.press("Escape")
            wait_for_app(page)
    raise AssertionError("the selectbox did not open")


@pytest.fixture()
def page(browser):
    """Wide enough for every page's link in the top navigation (no "more" menu)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    context.close()


@pytest.fixture()
def loaded(page, app_url):
    """The payload data set uploaded and in use, in this page's session."""
    watch = Watch(page)
    page.goto(f"{app_url}/load_data")
    wait_for_app(page, "导入数据")
    # the watch itself works: a console line and a dialog are seen (then forgotten)
    page.evaluate("() => { console.log('probe-console'); window.alert('probe-dialog'); }")
    page.wait_for_timeout(200)
    assert "probe-console" in watch.console and any("probe-dialog" in d for d in watch.dialogs)
    watch.console.clear()
    watch.dialogs.clear()
    page.locator('input[type="file"]').first.set_input_files(
        {"name": payloads.FILE_NAME, "mimeType": "text/csv", "buffer": payloads.csv_bytes()})
    page.get_by_role("button", name="使用这些数据").wait_for(timeout=60_000)
    wait_for_app(page)
    # the uploader shows the file name as text (its title holds it whole)
    chip = page.locator('[data-testid="stFileChipName"]').first
    assert chip.get_attribute("title") == payloads.FILE_NAME
    assert "<img" in chip.inner_text()
    page.get_by_role("button", name="使用这些数据").click()
    page.get_by_text("已启用导入的数据", exact=False).first.wait_for(timeout=180_000)
    wait_for_app(page)
    _no_error(page)
    watch.assert_clean("load data")
    screenshot(page, "injection-load-data")
    return watch


def test_payload_names_never_run(page, app_url, loaded):
    watch = loaded
    # 1. My circle, at the place the payload facilities surround (the default place, 长青社区)
    _nav(page, "我的生活圈", "我的生活圈")
    page.get_by_text(payloads.FILE_NAME, exact=False).first.wait_for(timeout=30_000)  # the banner, literal
    canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    seen = _hover_payloads(page, canvas.bounding_box())
    screenshot(page, "injection-my-circle-hover")
    assert len(seen) >= len(payloads.PAYLOADS) // 2, f"tooltips of only {len(seen)} payloads seen: {seen}"
    assert any("<script>" in name for name in seen) or any("<img" in name for name in seen), seen
    wait_for_app(page)
    _no_error(page)
    watch.assert_clean("my circle")
    # the profile table: the nearest convenience store is the <script> name, as a cell's text
    page.locator('[data-testid="stDataFrame"]').last.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    cells = page.evaluate("""() => {
        const grid = Array.from(document.querySelectorAll('[data-testid="stDataFrame"]')).pop();
        return Array.from(grid.querySelectorAll('td, [role="gridcell"]')).map(c => [c.textContent, c.children.length]);
    }""")
    texts = [text for text, _ in cells]
    assert payloads.PAYLOADS[0] in texts and payloads.PAYLOADS[1] in texts, texts[:40]
    assert all(children == 0 for text, children in cells if "<" in text)  # text, not elements
    screenshot(page, "injection-my-circle-table")

    # 2. the city map: hover and click across it
    _nav(page, "全市地图", "全市地图")
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    box = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.bounding_box()
    for fx, fy in ((0.5, 0.5), (0.45, 0.4), (0.55, 0.6), (0.5, 0.3)):
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.wait_for_timeout(150)
        _tooltip_has_no_markup(page)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_timeout(500)
    wait_for_app(page)
    _no_error(page)
    watch.assert_clean("city map")

    # 3. a chart (its source line names the data set, i.e. the file name): hover over it
    _nav(page, "图表库", "图表库")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=90_000)
    page.get_by_text("onerror=alert('XSS')>.csv", exact=False).first.wait_for(timeout=30_000)
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(2)
    chart.scroll_into_view_if_needed()
    cbox = chart.bounding_box()
    for fx in (0.3, 0.5, 0.7):
        page.mouse.move(cbox["x"] + cbox["width"] * fx, cbox["y"] + cbox["height"] * 0.5)
        page.wait_for_timeout(150)
    screenshot(page, "injection-gallery")
    _no_error(page)
    watch.assert_clean("chart gallery")

    # 4. what-if: the convenience stores' list holds the <script> name, shown as an option's text
    _nav(page, "假设与选址", "假设与选址")
    page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(timeout=60_000)
    type_box = page.locator('[data-testid="stSelectbox"]').first
    _open_select(page, type_box)
    page.keyboard.type("便利店")
    page.get_by_role("option").filter(has_text="便利店 · ").first.click()
    wait_for_app(page)
    page.get_by_text("按坐标新增，或从列表中撤掉", exact=False).first.click()
    remove_box = page.locator('[data-testid="stSelectbox"]').filter(has_text="撤掉哪一处").last
    remove_box.wait_for(timeout=30_000)
    option = page.get_by_role("option").filter(has_text=payloads.PAYLOADS[0])
    for attempt in range(3):  # a rerun still arriving on a busy machine can close the open list
        wait_for_app(page)
        _open_select(page, remove_box)
        page.keyboard.type("XSS-MARKER")
        page.wait_for_timeout(500)
        screenshot(page, "injection-whatif-list")
        try:
            option.first.wait_for(timeout=10_000)
            break
        except Exception:  # noqa: BLE001 - list closed under us: open it again
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    assert payloads.PAYLOADS[0] in option.first.inner_text()  # the name, literally, as text
    page.keyboard.press("Escape")
    _no_error(page)
    watch.assert_clean("what-if")

    # 5. data and methods (downloads are built on click; the facilities file holds the names)
    _nav(page, "数据与方法", "数据与方法")
    page.get_by_text(payloads.FILE_NAME, exact=False).first.wait_for(timeout=30_000)
    _no_error(page)
    watch.assert_clean("data and methods")
    # the names were shown as text, never as elements: no injected element exists anywhere
    injected = page.evaluate("""() => ({
        scripts: Array.from(document.scripts).filter(s => (s.textContent || '').includes('XSS')).length,
        imgs: Array.from(document.images).filter(i => (i.getAttribute('src') || '') === 'x'
                                                   || (i.getAttribute('src') || '').includes('127.0.0.1:9')).length,
        handlers: Array.from(document.querySelectorAll('[onerror],[onload],[ontoggle]')).length,
        jsLinks: Array.from(document.querySelectorAll('a[href^="javascript:"]')).length,
        iframes: Array.from(document.querySelectorAll('iframe[src^="javascript:"]')).length,
    })""")
    assert injected == {"scripts": 0, "imgs": 0, "handlers": 0, "jsLinks": 0, "iframes": 0}, injected
    watch.assert_clean("the end")
