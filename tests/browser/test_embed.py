"""Embeds in a real browser: the embed URL shows only the chart, its source line and a link back
(no navigation, no sidebar); the chart page's URL round-trips its state; no request leaves the
machine."""
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import screenshot, wait_for_app


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a Streamlit exception is on screen"
    assert "Traceback" not in page.content()


def test_embed_shows_chart_source_and_link_without_chrome(page, app_url):
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((app_url, "data:", "blob:")) else None)
    page.goto(f"{app_url}/chart?id=district-coverage&embed=true")
    wait_for_app(page, "模拟样本")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _no_error(page)
    # The chart, its title (drawn in the chart) and the source line under it.
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 1
    assert page.get_by_text("数据：模拟样本数据", exact=False).count() >= 1
    assert page.get_by_text("生成于", exact=False).count() >= 1
    # No app chrome: no sidebar, no top or side navigation, no filter widgets.
    for testid in ("stSidebar", "stTopNav", "stSidebarNav", "stSelectbox"):
        assert page.locator(f'[data-testid="{testid}"]').count() == 0, testid
    link = page.get_by_role("link", name="在“乌海一刻钟社区生活圈”中查看", exact=False)
    href = link.first.get_attribute("href")
    assert href and "chart?id=district-coverage" in href and "embed" not in href
    screenshot(page, "embed-district-coverage")
    assert outside == [], f"requests left the machine: {outside[:3]}"


def test_embed_english_map(page, app_url):
    page.goto(f"{app_url}/chart?id=static-coverage-map&lang=en&district=Wuda&embed=true")
    wait_for_app(page, "SIMULATED")
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=120_000)
    _no_error(page)
    assert page.locator('[data-testid="stSidebar"]').count() == 0
    screenshot(page, "embed-static-map-en")


def test_chart_url_round_trips_its_state(page, app_url, browser):
    page.goto(f"{app_url}/chart?id=street-coverage&district=150302")
    wait_for_app(page, "海勃湾区")
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _no_error(page)
    assert parse_qs(urlparse(page.url).query)["district"] == ["海勃湾区"]  # canonicalised
    page.locator('[data-testid="stSelectbox"]').filter(has_text="区").first.click()
    page.get_by_role("option", name="乌达区").click()
    page.wait_for_function("() => decodeURIComponent(location.search).includes('乌达区')", timeout=60_000)
    wait_for_app(page)
    written = page.url
    assert parse_qs(urlparse(written).query)["id"] == ["street-coverage"]
    # A new visitor opening the written URL sees the same view.
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    try:
        other.goto(written)
        wait_for_app(other, "乌达区")
        other.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
        district_box = other.locator('[data-testid="stSelectbox"]').filter(has_text="区").first
        assert district_box.locator("input").first.input_value() == "乌达区"
        screenshot(other, "chart-round-trip")
    finally:
        other.context.close()


def test_bad_embed_id_warns_in_both_languages(page, app_url):
    page.goto(f"{app_url}/chart?id=no-such-chart&embed=true")
    wait_for_app(page, "Invalid link parameter")
    assert page.get_by_text("链接参数无效", exact=False).count() >= 1
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for()
    _no_error(page)
