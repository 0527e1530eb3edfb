"""The replay timeline in headless Chromium: signal markers under the player, a click seeks the replay.

Uses session ``s2`` of :mod:`test_dashboard_behaviour` (rage click 4.1 s after its start).
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from consentkit import post_batch
from conftest import block_outside
from staff import add_staff, browser_login, browser_open_replay
from test_dashboard_behaviour import ORIGIN, _s2

from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app

pytestmark = pytest.mark.browser


def test_markers_are_drawn_and_a_click_seeks_the_replay(rt, live_server, chromium) -> None:
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    sid = str(uuid.uuid4())
    r = post_batch(TestClient(create_app(rt)), {"session_id": sid, "seq": 0, "events": _s2()},
                   {"X-Replayvault-Key": project.write_key, "Origin": ORIGIN})
    assert r.status_code == 200, r.text
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_login(page, live_server, add_staff(rt, "timeline-ux", ["ux_analyst"]))
    browser_open_replay(page, live_server, sid, "ux_research", "UX-9")
    page.wait_for_selector("#signal-strip[data-ready='1']", timeout=15_000)
    marker = page.locator("#signal-strip .marker")
    assert marker.count() == 1
    assert marker.get_attribute("title") == "rage click (3 clicks) at 0:04"
    assert marker.get_attribute("class") == "marker k-rage_click"
    assert "rage click 1" in page.locator("#signal-strip .legend").inner_text()
    left = float(marker.evaluate("el => parseFloat(el.style.left)"))
    assert 85 < left < 92  # 4.1 s of a 4.6 s replay
    marker.click()
    page.wait_for_timeout(300)
    now = page.evaluate("() => window.replayvaultPlayer.getReplayer().getCurrentTime()")
    assert 3000 <= now <= 4600, now  # plays from 1 s before the signal
    context.close()
    assert errors == []
