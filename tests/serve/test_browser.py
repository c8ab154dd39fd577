"""The search page in a real browser: Debian's Chromium driven by Playwright against the real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CARD_IDS = "cards => cards.map(card => card.dataset.itemId)"
LOADED_IMAGES = "images => images.filter(img => img.complete && img.naturalWidth > 0).length"
ALL_LOADED = "[...document.querySelectorAll('#results .card img')].every(img => img.complete && img.naturalWidth > 0)"


@pytest.mark.slow
def test_page_searches_shows_images_and_a_click_searches_by_that_image(server):
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: the browser test needs Debian's Chromium "
        "(apt-get install -y --no-install-recommends chromium; .ci/run installs it)"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            requested: list[str] = []
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: msg.type == "error" and problems.append(f"console: {msg.text}"))
            page.on("request", lambda request: requested.append(request.url))

            page.goto(server)
            page.wait_for_function("document.getElementById('rerank').options.length === 4")  # filled from /api/health
            page.select_option("#rerank", "constraints")
            page.fill("#q", "red t-shirts")
            page.fill("#k", "8")
            with page.expect_response(lambda r: "/api/search?" in r.url) as first:
                page.click("#search")
            assert first.value.ok, first.value.text()
            page.wait_for_function(
                "() => { const imgs = [...document.querySelectorAll('#results .card img')];"
                " return imgs.length === 8 && imgs.every(img => img.complete); }"
            )
            assert page.eval_on_selector_all("#results .card img", LOADED_IMAGES) == 8  # every image decoded
            before = page.eval_on_selector_all("#results .card", CARD_IDS)
            assert "color: red" in page.inner_text("#constraints")
            assert page.locator("#results .card .chip.match").count() > 0  # matched fields highlighted
            assert "total" in page.inner_text("#timings")

            clicked = before[-1]
            with page.expect_response(lambda r: f"like={clicked}" in r.url) as second:
                page.click(f'#results .card[data-item-id="{clicked}"] img')
            assert second.value.ok, second.value.text()
            page.wait_for_function(f"document.getElementById('query-like').textContent === 'like item {clicked}'")
            after = page.eval_on_selector_all("#results .card", CARD_IDS)
            assert len(after) == 8 and after != before and clicked not in after  # its neighbours, not itself
            page.wait_for_function(ALL_LOADED)
            assert page.is_visible("#query-image") and page.is_visible("#query-like")
            assert page.is_hidden("#error")
            assert not problems, problems
            elsewhere = [url for url in requested if not url.startswith((server, "data:", "blob:"))]
            assert not elsewhere, f"the page fetched from outside the server: {elsewhere}"
        finally:
            browser.close()
