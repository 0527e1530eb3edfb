"""/compliance in headless Chromium on the seeded set of :mod:`test_metrics`: cards, traffic lights, links.

Saves a full-page screenshot to ``test-artifacts/compliance.png`` (and ``$SHOTS_DIR`` when set).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ARTIFACTS, block_outside
from staff import browser_login

from replayvault.config import Settings
from test_metrics import clock, seeded  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No retention sweep at server start: the expired session D must still be there to be shown."""
    return Settings(home=tmp_path / "home", allowed_hosts="127.0.0.1,localhost,testserver", retention_interval_s=0)


def test_compliance_page_in_chromium(seeded, live_server, chromium) -> None:  # noqa: F811
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, live_server, seeded.lead)
    page.goto(f"{live_server}/compliance", wait_until="domcontentloaded")
    assert page.locator("#m-data_capture b.value").inner_text() == "62.5 %"
    assert page.locator("#m-retention .ratio").inner_text().startswith("6 / 7")
    assert page.locator("table.checklist tr.red").count() == 3  # masking, retention, training
    page.locator("#m-retention details.links summary").first.click()
    link = page.locator(f'#m-retention a[href="/sessions/{seeded.ids["D"]}"]')
    assert link.is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    shots = [ARTIFACTS / "compliance.png"] + ([Path(os.environ["SHOTS_DIR"]) / "compliance.png"]
                                              if os.environ.get("SHOTS_DIR") else [])
    for path in shots:
        page.screenshot(path=str(path), full_page=True)
    with page.expect_navigation(wait_until="domcontentloaded"):
        link.click()
    assert f"/sessions/{seeded.ids['D']}" in page.url
    assert errors == []
    context.close()
