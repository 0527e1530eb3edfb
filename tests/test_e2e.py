"""End to end: real tracker in headless Chromium -> real ingest -> vault -> dashboard.

Visitors of the demo bank type a Luhn-valid card number, an IBAN, an email and passwords. After
ingest, every stored chunk is decrypted and none of these values may appear in any form (with or
without spaces); the raw chunk files and both databases are searched too. Screenshots of the
sessions page, one replay and one heatmap are saved under test-artifacts/.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest
from sqlalchemy import select

from conftest import ARTIFACTS, block_outside, free_port
from staff import add_staff, browser_login, browser_open_replay

pytestmark = pytest.mark.browser

# Values the demo journeys type (checked below to really be in the journeys' source).
SECRETS = {
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "email": "oliver.bennett@example.co.uk",
    "password1": "Tr0ub4dor&3-nwb",
    "password2": "correct-horse-battery-staple",
    "phone": "+44 20 7946 0958",
    "payee echoed on the confirmation": "Jonas Weber",
}
JOURNEY_NAMES = ("transfer_iban", "add_card", "kyc")


def _forms(value: str) -> set[str]:
    """The value as typed, without spaces, and with spaces replaced by dashes; JSON-escaped too."""
    compact = re.sub(r"\s+", "", value)
    out = {value, compact, value.replace(" ", "-")}
    return out | {json.dumps(v)[1:-1] for v in out}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, chromium):
    from replayvault.config import Settings
    from replayvault.demo import JOURNEYS, make_bank_app, run_journeys
    from replayvault.demo_runner import start_server
    from replayvault.projects_setup import ensure_project
    from replayvault.runtime import Runtime
    from replayvault.web.app import create_app

    import replayvault.demo as demo

    source = inspect.getsource(demo)
    for value in SECRETS.values():
        assert value in source, f"the demo journeys no longer type {value!r}; update this test"

    rt = Runtime(Settings(home=tmp_path_factory.mktemp("e2e-home")))
    api_port, bank_port = free_port(), free_port()
    api_url, bank_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bank_port}"
    project = ensure_project(rt, "demo-bank", "Demo bank", [bank_url], rotate=True)
    api = start_server(create_app(rt), "127.0.0.1", api_port)
    bank = start_server(make_bank_app(api_url, project.write_key), "127.0.0.1", bank_port)
    journeys = [j for j in JOURNEYS if j.name in JOURNEY_NAMES]
    results = run_journeys(bank_url, journeys)
    yield rt, api_url, results
    api.should_exit = bank.should_exit = True


def test_every_journey_was_recorded(recorded) -> None:
    from replayvault.recordings import list_sessions

    rt, _api, results = recorded
    assert [r["name"] for r in results] == list(JOURNEY_NAMES)
    assert all(r["flushed"] for r in results), results
    stored = {s.id: s for s in list_sessions(rt)}
    for r in results:
        assert r["session_id"] in stored, r
        s = stored[r["session_id"]]
        assert s.page_views == len(r["pages"]) and s.page_views >= 2
        assert s.clicks >= 2


def test_no_typed_secret_survives_anywhere(recorded) -> None:
    from replayvault.db.models import Chunk
    from replayvault.recordings import session_events

    rt, _api, results = recorded
    decrypted = []
    for r in results:
        events = session_events(rt, r["session_id"])
        assert any(e["type"] == 2 for e in events)
        decrypted.append(json.dumps(events, ensure_ascii=False))
    with rt.sessions() as db:
        n_chunks = len(list(db.scalars(select(Chunk))))
    files = [p for p in rt.settings.data_dir.rglob("*") if p.is_file()]
    assert len([p for p in files if p.suffix == ".rvc"]) == n_chunks > 0
    blobs = {str(p): p.read_bytes() for p in files}  # chunks, sqlite (+wal), duckdb, key file
    assert any(p.endswith(".duckdb") for p in blobs) and any(".sqlite3" in p for p in blobs)
    for name, value in SECRETS.items():
        for form in _forms(value):
            for text in decrypted:
                assert form not in text, f"{name} found in a decrypted chunk"
            for path, data in blobs.items():
                assert form.encode() not in data, f"{name} found in {path}"


def test_screenshots_of_sessions_replay_and_heatmap(recorded, chromium) -> None:
    rt, api, results = recorded
    ARTIFACTS.mkdir(exist_ok=True)
    context = chromium.new_context(viewport={"width": 1400, "height": 900})
    block_outside(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    lead = add_staff(rt, "e2e-lead", ["compliance_lead"])
    browser_login(page, api, lead)
    page.goto(f"{api}/", wait_until="domcontentloaded")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == len(results)
    page.screenshot(path=str(ARTIFACTS / "sessions.png"), full_page=True)

    sid = results[0]["session_id"]
    browser_open_replay(page, api, sid, "compliance_audit", "AUDIT-2026-11")
    page.evaluate("window.replayvaultPlayer.getReplayer().pause(4000)")
    page.wait_for_timeout(800)
    frame = page.query_selector("#player iframe").content_frame()
    assert frame.query_selector("body") is not None
    page.screenshot(path=str(ARTIFACTS / "replay.png"), full_page=True)

    # The view is in the audit log, with purpose and justification, before the replay could start.
    page.goto(f"{api}/audit?action=recording.view", wait_until="domcontentloaded")
    row = page.locator("table.grid tbody tr").first
    assert "recording.view" in row.inner_text() and "AUDIT-2026-11" in row.inner_text()
    assert "Verified" in page.locator(".cards").inner_text()
    page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)

    url = f"{results[0]['pages'][0]}"
    pages = rt.analytics.pages(None)
    transfer = next(p["url"] for p in pages if p["url"].endswith("/index.html"))
    page.goto(f"{api}/heatmaps?url={transfer}&kind=click", wait_until="domcontentloaded")
    img = page.locator("img.heatmap")
    img.wait_for(state="visible")
    for _ in range(600):  # wait_for_function needs eval, which the dashboard's CSP forbids
        if img.evaluate("el => el.complete && el.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert img.evaluate("el => el.naturalWidth") > 300
    page.screenshot(path=str(ARTIFACTS / "heatmap.png"), full_page=True)
    context.close()
    assert url
    assert errors == []
