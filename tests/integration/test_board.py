"""The live stance board in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from redis import Redis

from tests.integration.conftest import MACRO, Gateway
from tests.integration.test_pipeline import run
from tests.integration.wire import headline

CHROMIUM = os.environ.get("STANCEWIRE_CHROMIUM") or shutil.which("chromium")
# Without these, chromium at start reaches for the network this machine does not have.
QUIET = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (make test installs Debian's)")
def test_the_board_shows_a_change_live(gateway: Gateway, redis: Redis, tmp_path: Path) -> None:
    run(gateway.pipeline, [headline(
        "Japan's Treasury holdings could be a card in trade talks, Finance Minister Kato says",
        "2025-05-02T06:00:00+00:00",
    )])  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{gateway.url}/#token={MACRO}")
        page.wait_for_selector("#status.live", timeout=15_000)
        row = page.locator('#board tr[data-key="JP:treasury_holdings"]')
        assert "open" in row.inner_text()
        assert "#token" not in page.url  # the token left the address bar

        run(gateway.pipeline, [headline(
            "Japan has no intention of using its US Treasury holdings as a negotiating weapon, "
            "Finance Minister Kato says",
            "2025-05-04T03:00:00+00:00",
        )])  # fmt: skip
        item = page.locator("#feed li").first
        item.wait_for(timeout=15_000)
        assert "JP / treasury_holdings: open → rules out" in item.inner_text()
        assert "rules out" in row.inner_text()
        page.screenshot(path=str(tmp_path / "board.png"), full_page=True)
        browser.close()
    screenshots = os.environ.get("STANCEWIRE_SCREENSHOTS")
    if screenshots:
        shutil.copy(tmp_path / "board.png", Path(screenshots) / "board.png")
    assert (tmp_path / "board.png").stat().st_size > 10_000
