"""Browser tests: the real app on a loopback port, driven by Playwright in Debian's Chromium.

Never `playwright install`: we launch /usr/bin/chromium (installed by .ci/run with apt). Outside CI,
a machine without chromium skips these tests with a message; in CI (CI=true) that is an error.
Screenshots go to artifacts/screenshots/ for review.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian chromium is required in CI (.ci/run installs it)")
        pytest.skip("Debian chromium not installed (apt-get install chromium); browser tests skipped")
    return path


@pytest.fixture(scope="session")
def app_url(chromium_executable):
    """Start the app once for the whole session on a free loopback port (index cache built first),
    the way the load test does; its log goes to artifacts/streamlit-browser-tests.log."""
    from bench.load_test import serve

    (ROOT / "artifacts").mkdir(exist_ok=True)
    with serve(ROOT / "artifacts" / "streamlit-browser-tests.log") as (url, _pid):
        yield url


@pytest.fixture(scope="session")
def browser(chromium_executable):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    context.close()


@pytest.fixture()
def phone_page(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(45_000)
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def wait_for_app(page, text: str | None = None, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the script (and ``text`` is visible): no
    "Running…"/"Stop" status and no loading skeletons left."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    if text:
        page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    page.wait_for_function(
        """() => {
            const status = document.querySelector('[data-testid="stStatusWidget"]');
            const busy = status && /Running|Stop/.test(status.innerText);
            const skeleton = document.querySelector('[data-testid="stSkeleton"]');
            return !busy && !skeleton;
        }""",
        timeout=timeout)


def canvas_has_pixels(page) -> float:
    """Share of drawn (non-white, non-transparent) pixels in the largest map canvas, from a real
    screenshot of the element (WebGL buffers can't be read back reliably)."""
    import io

    from PIL import Image

    canvases = page.locator("canvas")
    best, area = None, 0
    for i in range(canvases.count()):
        box = canvases.nth(i).bounding_box()
        if box and box["width"] * box["height"] > area:
            best, area = canvases.nth(i), box["width"] * box["height"]
    if best is None:
        return 0.0
    image = Image.open(io.BytesIO(best.screenshot())).convert("RGB")
    pixels = list(image.get_flattened_data() if hasattr(image, "get_flattened_data") else image.getdata())[::7]
    drawn = sum(1 for r, g, b in pixels if not (r > 242 and g > 242 and b > 242))
    return drawn / max(1, len(pixels))
