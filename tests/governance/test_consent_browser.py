"""The consent ledger end to end: the real tracker in Chromium, the real collector, the real store.

A page on ``http://localhost:<site port>`` loads the tracker from the collector on
``http://127.0.0.1:<api port>`` (two origins, as in production). What the store holds afterwards is
read back: chunks decrypted with the session key, receipts from the ledger, incidents.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from conftest import block_outside, free_port, wait_for

from test_tcf import ES_ISSUE_201, PERL_BITFIELD

from replayvault.db.models import Chunk, ConsentReceipt, IngestIncident, RecordingSession
from replayvault.demo_runner import start_server
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from replayvault.web.app import create_app

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>consent test</title></head>
<body><h1>Statements</h1><input id="q" type="text"><button id="b" style="width:120px;height:40px">Go</button>
<div style="height:1500px"></div>
<script src="{api}/t/replayvault.js" data-endpoint="{api}" data-write-key="{key}"
  data-banner-id="test-banner" data-banner-version="7"></script></body></html>"""

# Records addEventListener/removeEventListener on window and document and MutationObserver use, so a
# test can tell which listeners are still active (top frame only: rrweb also makes a helper iframe).
# rrweb takes MutationObserver from the page when its constructor is native (it is: only observe and
# disconnect are wrapped), so its observers are counted; Playwright's own observer is left out.
LISTENER_PROBE = """(() => {
  if (window !== window.top) return;
  const active = new Map();
  const key = (t, type, fn, opt) => [t === window ? 'window' : 'document', type,
    typeof opt === 'boolean' ? opt : !!(opt && opt.capture)];
  const add = EventTarget.prototype.addEventListener, remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, opt) {
    if (this === window || this === document) {
      const k = key(this, type, fn, opt); let m = active.get(fn); if (!m) active.set(fn, m = new Map());
      m.set(k.join('|'), k);
    }
    return add.call(this, type, fn, opt);
  };
  EventTarget.prototype.removeEventListener = function (type, fn, opt) {
    if ((this === window || this === document) && active.has(fn)) active.get(fn).delete(key(this, type, fn, opt).join('|'));
    return remove.call(this, type, fn, opt);
  };
  const observers = new Set();
  const observe = MutationObserver.prototype.observe, disconnect = MutationObserver.prototype.disconnect;
  MutationObserver.prototype.observe = function (...a) {
    if (!String(new Error().stack).includes('InjectedScript')) observers.add(this); // not Playwright's own
    return observe.apply(this, a);
  };
  MutationObserver.prototype.disconnect = function () { observers.delete(this); return disconnect.call(this); };
  window.__probe = () => ({
    listeners: [...active.values()].flatMap((m) => [...m.keys()]).sort(),
    observers: observers.size,
  });
})();"""

# A CMP stand-in with the IAB TCF v2 __tcfapi interface: 'addEventListener' calls back with tcData
# ('tcloaded', as when the CMP found an earlier decision) and the TC string given.
CMP = """window.__tcfapi = (command, version, callback) => {
  if (command === 'addEventListener' && version === 2)
    setTimeout(() => callback({tcString: %s, eventStatus: 'tcloaded', gdprApplies: true, listenerId: 1}, true), 50);
};"""
GPC_ON = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});"


@pytest.fixture
def live(rt, chromium) -> Iterator[dict[str, Any]]:
    api_port, site_port = free_port(), free_port()
    api, site = f"http://127.0.0.1:{api_port}", f"http://localhost:{site_port}"
    project = ensure_project(rt, "p1", "Consent test", [site])
    page_html = PAGE.format(api=api, key=project.write_key)
    pages = Starlette(routes=[Route("/page.html", lambda r: HTMLResponse(page_html)),
                              Route("/pay/card.html", lambda r: HTMLResponse(page_html))])
    servers = [start_server(create_app(rt), "127.0.0.1", api_port), start_server(pages, "127.0.0.1", site_port)]
    context = chromium.new_context()
    block_outside(context)
    yield {"rt": rt, "site": site, "context": context, "project": project}
    context.close()
    for s in servers:
        s.should_exit = True


def _open(live: dict[str, Any], *init_scripts: str) -> Any:
    page = live["context"].new_page()
    for script in (LISTENER_PROBE, *init_scripts):
        page.add_init_script(script)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live['site']}/page.html", wait_until="domcontentloaded")
    page.wait_for_function("() => window.replayvault && window.replayvault.version")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _receipts(rt) -> list[ConsentReceipt]:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        return list(db.scalars(select(ConsentReceipt).order_by(ConsentReceipt.audit_idx)))  # arrival order


def _chunks(rt, sid: str) -> int:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        return len(db.scalars(select(Chunk.id).where(Chunk.session_id == sid)).all())


def _stored_events(rt, sid: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return session_events(rt, sid)


def _move(page: Any, n: int = 12) -> None:
    for i in range(n):
        page.mouse.move(100 + 20 * i, 200 + 5 * i)
        page.wait_for_timeout(30)


def test_refuse_then_grant_stores_only_events_after_the_grant(live) -> None:
    rt, page = live["rt"], _open(live)
    page.evaluate("() => replayvault.consent.refuse()")
    _move(page)
    page.locator("#q").press_sequentially("before", delay=5)
    page.wait_for_timeout(2300)  # longer than the tracker's flush interval
    refused = wait_for(page, lambda: _receipts(rt), what="the refusal receipt")
    assert [(r.decision, r.method, r.banner_id, r.banner_version) for r in refused] == [
        ("refused", "banner", "test-banner", "7")]
    assert page.evaluate("() => replayvault.stats().recording") is False

    grant_ms = page.evaluate("() => Date.now()")
    page.evaluate("() => replayvault.consent.grant()")
    page.wait_for_function("() => replayvault.stats().recording")
    _move(page)
    page.locator("#b").click()
    assert page.evaluate("() => replayvault.flush()") is True

    receipts = _receipts(rt)
    assert [r.decision for r in receipts] == ["refused", "granted"]
    sid = page.evaluate("() => replayvault.sessionId()")
    assert {r.session_id for r in receipts} == {sid}  # one session: refused, then granted
    events = _stored_events(rt, sid)
    assert events and min(e["timestamp"] for e in events) >= receipts[1].client_ms >= grant_ms
    assert {e["type"] for e in events} >= {2, 3, 4}  # Meta, full snapshot, incremental
    assert "before" not in str(events)
    with rt.sessions() as db:
        assert db.scalars(select(IngestIncident)).all() == []
    assert page.errors == []


def test_withdraw_stops_every_listener_and_nothing_after_it_is_stored(live) -> None:
    rt, page = live["rt"], _open(live)
    baseline = page.evaluate("() => window.__probe()")
    page.evaluate("() => replayvault.consent.grant()")
    page.wait_for_function("() => replayvault.stats().recording")
    _move(page)
    assert page.evaluate("() => replayvault.flush()") is True
    sid = page.evaluate("() => replayvault.sessionId()")
    recording = page.evaluate("() => window.__probe()")
    assert len(recording["listeners"]) > len(baseline["listeners"]) + 5 and recording["observers"] >= 1
    stored = _chunks(rt, sid)
    assert stored >= 1

    page.evaluate("() => replayvault.consent.revoke()")
    withdrawal = wait_for(page, lambda: [r for r in _receipts(rt) if r.decision == "withdrawn"], what="the withdrawal")[0]
    after = page.evaluate("() => window.__probe()")
    # Every listener the tracker added while recording is gone; the page-lifetime ones (pagehide /
    # pageshow from install) were there before the grant.
    assert after == {"listeners": baseline["listeners"], "observers": 0}
    _move(page, 20)
    page.locator("#q").press_sequentially("after", delay=5)
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(2300)
    assert page.evaluate("() => replayvault.flush()") is True  # nothing to send
    assert _chunks(rt, sid) == stored
    assert max(e["timestamp"] for e in _stored_events(rt, sid)) < withdrawal.client_ms
    assert withdrawal.session_id == sid
    with rt.sessions() as db:
        assert db.get(RecordingSession, sid).consent == "revoked"
    assert page.errors == []


def test_global_privacy_control_means_no_recording_at_all(live) -> None:
    rt, page = live["rt"], _open(live, GPC_ON)
    assert page.evaluate("() => replayvault.consent.state()") == "refused"
    assert page.evaluate("() => replayvault.consent.grant()") is False
    _move(page)
    page.locator("#b").click()
    page.wait_for_timeout(2300)
    assert page.evaluate("() => replayvault.stats()")["recording"] is False
    receipts = wait_for(page, lambda: _receipts(rt), what="the GPC refusal")
    assert [(r.decision, r.method, r.gpc) for r in receipts] == [("refused", "gpc", True)]
    with rt.sessions() as db:
        assert db.scalars(select(Chunk.id)).all() == []
        assert db.scalars(select(RecordingSession.id)).all() == []
    # Nothing of the tracker's is stored on the device either.
    assert page.evaluate("() => [sessionStorage.length, localStorage.length]") == [0, 0]
    assert page.errors == []


@pytest.mark.parametrize(("tc_string", "recorded"), [(ES_ISSUE_201, True), (PERL_BITFIELD, False)])
def test_a_tcf_cmp_decides_recording_through_its_tc_string(live, tc_string, recorded) -> None:
    import json

    rt, page = live["rt"], _open(live, CMP % json.dumps(tc_string))
    receipt = wait_for(page, lambda: _receipts(rt), what="the TCF receipt")[0]
    assert (receipt.method, receipt.tc_string, receipt.decision) == ("tcf", tc_string, "granted" if recorded else "refused")
    if recorded:
        page.wait_for_function("() => replayvault.stats().recording")
        _move(page)
        assert page.evaluate("() => replayvault.flush()") is True
        assert page.evaluate("() => replayvault.sessionId()") == receipt.session_id
        assert _chunks(rt, receipt.session_id) >= 1
    else:
        _move(page)
        page.wait_for_timeout(2300)
        assert page.evaluate("() => [replayvault.stats().recording, replayvault.consent.state()]") == [False, "refused"]
        with rt.sessions() as db:
            assert db.scalars(select(Chunk.id)).all() == []
    assert page.errors == []


def _hrefs(events: list[dict]) -> list[str]:
    """Page URLs in order: Meta events and the tracker's SPA route events."""
    out = []
    for e in events:
        if e["type"] == 4:
            out.append(e["data"]["href"])
        elif e["type"] == 5 and e["data"].get("tag") == "rv.route":
            out.append(e["data"]["payload"]["href"])
    return out


def test_pages_outside_the_capture_scope_are_not_recorded(live) -> None:
    from replayvault.governance.policies import set_policy

    rt, site = live["rt"], live["site"]
    set_policy(rt, "p1", 'capture_scope: {deny: ["/pay/*"]}\n', "test")
    page = _open(live)
    page.evaluate("() => replayvault.consent.grant()")
    page.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")
    _move(page, 4)
    # A single-page app leaves the scope: rrweb stops; what the payment route shows is never sent.
    page.evaluate("() => history.pushState({}, '', '/pay/confirm')")
    page.wait_for_function("() => replayvault.stats().paused")
    page.evaluate("() => { const p = document.createElement('p'); p.id = 'pay'; p.textContent = 'PAYMENT-STEP-VISIBLE';"
                  " document.body.appendChild(p); }")
    _move(page, 4)
    # Back in scope: a new Meta event and full snapshot, then recording goes on.
    page.evaluate("() => { document.getElementById('pay').remove(); history.pushState({}, '', '/page.html?step=2'); }")
    page.wait_for_function("() => !replayvault.stats().paused")
    _move(page, 4)
    assert page.evaluate("() => replayvault.flush()") is True
    sid = page.evaluate("() => replayvault.sessionId()")
    # A page load outside the scope does not start rrweb at all.
    page.goto(f"{site}/pay/card.html", wait_until="domcontentloaded")
    page.wait_for_function("() => window.replayvault && replayvault.stats().recording")
    assert page.evaluate("() => replayvault.stats().paused") is True
    _move(page, 4)
    page.wait_for_timeout(2300)
    assert page.evaluate("() => replayvault.flush()") is True
    assert page.evaluate("() => replayvault.sessionId()") == sid
    # Back to a page in scope by a page load: recorded again (its first event, DomContentLoaded, comes
    # before its Meta event in a window the server has not seen: no scope incident for it).
    page.goto(f"{site}/page.html", wait_until="domcontentloaded")
    page.wait_for_function("() => window.replayvault && replayvault.stats().recording && !replayvault.stats().paused")
    _move(page, 4)
    assert page.evaluate("() => replayvault.flush()") is True

    events = _stored_events(rt, sid)
    assert _hrefs(events) == [f"{site}/page.html", f"{site}/page.html?step=*", f"{site}/page.html"]  # query masked
    assert [e["type"] for e in events].count(2) == 3  # one full snapshot per stretch in scope
    assert "PAYMENT-STEP-VISIBLE" not in str(events) and "/pay/" not in str(events)
    with rt.sessions() as db:
        assert db.scalars(select(IngestIncident)).all() == []  # the tracker sent nothing to drop
    assert page.errors == []


# -- found by the attack review ----------------------------------------------------------------------------
def test_a_withdrawal_survives_the_cmps_stored_string_on_the_next_page(live) -> None:
    import json

    rt, page = live["rt"], _open(live, CMP % json.dumps(ES_ISSUE_201))
    page.wait_for_function("() => replayvault.stats().recording")
    page.evaluate("() => replayvault.consent.revoke()")
    wait_for(page, lambda: any(r.decision == "withdrawn" for r in _receipts(rt)), what="the withdrawal")
    page.reload(wait_until="domcontentloaded")  # the CMP answers 'tcloaded' with its stored string again
    page.wait_for_function("() => window.replayvault && window.replayvault.version")
    page.wait_for_timeout(1000)
    _move(page, 4)
    assert page.evaluate("() => [replayvault.consent.state(), replayvault.stats().recording]") == ["revoked", False]
    assert [r.decision for r in _receipts(rt)] == ["granted", "withdrawn"]
    assert page.errors == []


def test_granting_on_a_page_outside_the_scope_sends_nothing_of_it(live) -> None:
    from replayvault.governance.policies import set_policy

    set_policy(live["rt"], "p1", 'capture_scope: {deny: ["/pay/*"]}\n', "test")
    page = live["context"].new_page()
    bodies: list[str] = []
    page.on("request", lambda req: bodies.append(req.post_data or "") if "/api/v1/ingest" in req.url else None)
    page.goto(f"{live['site']}/pay/card.html", wait_until="domcontentloaded")
    page.wait_for_function("() => window.replayvault && window.replayvault.version")
    page.evaluate("() => replayvault.consent.grant()")
    page.wait_for_function("() => replayvault.stats().recording && replayvault.stats().paused")
    _move(page, 6)
    page.wait_for_timeout(2300)
    assert page.evaluate("() => replayvault.flush()") is True
    assert bodies == []
    with live["rt"].sessions() as db:
        assert db.scalars(select(IngestIncident)).all() == []


def test_a_withdrawal_right_after_a_grant_is_the_last_word_in_the_ledger(live) -> None:
    rt, page = live["rt"], _open(live)
    calls = {"n": 0}

    def slow_first(route) -> None:  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            page.wait_for_timeout(800)  # the grant's request is slow: the withdrawal must not overtake it
        route.continue_()

    page.route("**/api/v1/consent", slow_first)
    page.evaluate("() => { replayvault.consent.grant(); replayvault.consent.revoke(); }")
    wait_for(page, lambda: len(_receipts(rt)) >= 2, what="both receipts")
    page.wait_for_timeout(500)
    assert [r.decision for r in _receipts(rt)] == ["granted", "withdrawn"]
    assert page.evaluate("() => Object.keys(sessionStorage)") == []  # no token kept after the withdrawal
    assert page.evaluate("() => replayvault.stats().recording") is False
    assert page.errors == []
