"""The what-if and siting page in a real browser: it loads in both languages, the map draws, and
the siting tab shows its map and table. (Clicks → edits are covered headless in
tests/test_whatif_siting.py through the callback's own functions.)"""
from __future__ import annotations

import pytest

from tests.browser.conftest import canvas_has_pixels, screenshot, wait_for_app


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, "a Streamlit exception is on screen"
    assert "Traceback" not in page.content()


@pytest.mark.parametrize("lang, title, siting_tab", [("zh", "假设与选址", "选址建议"),
                                                     ("en", "What-if and siting", "Siting")])
def test_whatif_page_loads_and_draws(page, app_url, lang, title, siting_tab):
    page.goto(f"{app_url}/whatif" + ("?lang=en" if lang == "en" else ""))
    wait_for_app(page, title)
    canvas = page.locator("canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)
    share = canvas_has_pixels(page)
    assert share > 0.02, f"the map canvas looks blank ({share:.1%} drawn pixels)"
    _no_error(page)
    screenshot(page, f"whatif-{lang}")
    page.get_by_role("tab", name=siting_tab).click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=60_000)
    _no_error(page)
    screenshot(page, f"whatif-siting-{lang}")
