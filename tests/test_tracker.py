"""Browser tracker (tracker/) and demo bank (replayvault.demo), without the replayvault server.

A stub collector (Starlette in a uvicorn thread on a free loopback port) serves the built tracker
and a small test page, and records every POST it receives. The page is loaded from
``http://localhost:<port>`` and the collector is ``http://127.0.0.1:<port>``: two origins, as in
production, so CORS preflights and the beacon path are exercised for real.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from conftest import wait_for
from consentkit import stub_answer
from replayvault import demo

ROOT = Path(__file__).resolve().parents[1]
TRACKER_DIR = ROOT / "tracker"
STATIC = ROOT / "src" / "replayvault" / "web" / "static"
TRACKER_JS = STATIC / "replayvault.js"
WRITE_KEY = "wk_test_123"
CHROMIUM = "/usr/bin/chromium"

# Values typed or present in the test page that must never reach the collector.
PASSWORD = "S3cret-Passw0rd!"
TYPED_TEXT = "Jane Q Public 4111111111111111"
HIDDEN = "csrf-hidden-token-8c1f"
PREFILLED = "prefilled-DE89370400440532013000"
MASKED_TEXT = "Balance 98765.43"
SECRETS = (PASSWORD, TYPED_TEXT, "4111111111111111", HIDDEN, PREFILLED, "98765.43")


# --------------------------------------------------------------------------- build

@pytest.fixture(scope="session")
def tracker_js() -> Path:
    """The built tracker; builds it (npm ci only if node_modules is missing) when absent."""
    vendor = [STATIC / "vendor" / n for n in ("rrweb.umd.js", "rrweb-player.umd.js", "rrweb-player.css")]
    if not TRACKER_JS.is_file() or not all(p.is_file() for p in vendor):
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed and the tracker is not built")
        if not (TRACKER_DIR / "node_modules").is_dir():
            subprocess.run(["npm", "ci"], cwd=TRACKER_DIR, check=True)
        subprocess.run(["npm", "run", "build"], cwd=TRACKER_DIR, check=True)
    assert TRACKER_JS.stat().st_size > 10_000
    return TRACKER_JS


def test_build_outputs_exist(tracker_js: Path) -> None:
    text = tracker_js.read_text()
    assert text.startswith("/* replayvault tracker")
    assert "window.replayvault" in text or "replayvault=" in text
    for name in ("rrweb.umd.js", "rrweb-player.umd.js", "rrweb-player.css"):
        assert (STATIC / "vendor" / name).stat().st_size > 1000


# --------------------------------------------------------------------------- stub collector

TEST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>tracker test</title></head>
<body>
  <h1>Test page</h1>
  <p class="rr-mask" id="masked">{masked}</p>
  <form id="f">
    <input type="hidden" name="csrf" value="{hidden}">
    <label>Name <input id="name" type="text"></label>
    <label>Prefilled <input id="pre" type="text" value="{prefilled}"></label>
    <label>Password <input id="pw" type="password"></label>
    <button type="button" id="btn" style="width:200px;height:50px">Press</button>
  </form>
  <a id="next" href="/page2.html">next page</a>
  <div style="height:1500px"></div>
  <script src="{collector}/t/replayvault.js" data-endpoint="{collector}" data-write-key="{key}"></script>
</body></html>
"""


@dataclass
class Captured:
    """One POST received by the stub collector."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stub:
    """The running stub: URLs, captured POSTs and programmable failures."""

    port: int
    posts: list[Captured] = field(default_factory=list)
    fail_ingest: list[int] = field(default_factory=list)  # status codes to answer, one per request
    scope: dict = field(default_factory=lambda: {"allow": [], "deny": []})  # capture scope given with a grant
    token_ttl_ms: int = 900_000
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def collector(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site(self) -> str:
        return f"http://localhost:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.posts.clear()
            self.fail_ingest.clear()
            self.scope = {"allow": [], "deny": []}
            self.token_ttl_ms = 900_000

    def ingest(self) -> list[Captured]:
        with self.lock:
            return [p for p in self.posts if p.path == "/api/v1/ingest"]

    def consent(self) -> list[Captured]:
        with self.lock:
            return [p for p in self.posts if p.path == "/api/v1/consent"]

    def renewals(self) -> list[Captured]:
        with self.lock:
            return [p for p in self.posts if p.path == "/api/v1/consent/renew"]

    def all_bodies(self) -> str:
        with self.lock:
            return "\n".join(p.body for p in self.posts)


def _stub_app(stub: Stub, tracker: Path) -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(TEST_PAGE.format(collector=stub.collector, key=WRITE_KEY, hidden=HIDDEN,
                                             prefilled=PREFILLED, masked=MASKED_TEXT))

    async def script(request: Request) -> Response:
        return FileResponse(tracker, media_type="text/javascript")

    async def post(request: Request) -> Response:
        body = (await request.body()).decode()
        cap = Captured(request.url.path, parse_qs(request.url.query), dict(request.headers), body)
        with stub.lock:
            stub.posts.append(cap)
            status = stub.fail_ingest.pop(0) if stub.fail_ingest and cap.path.endswith("ingest") else 200
        if cap.path.startswith("/api/v1/consent"):  # answered as the collector does (governance.consent)
            return JSONResponse(stub_answer(cap.path, cap.json, scope=stub.scope, ttl_ms=stub.token_ttl_ms))
        return JSONResponse({"ok": status == 200}, status_code=status)

    routes = [Route("/page.html", page), Route("/page2.html", page), Route("/t/replayvault.js", script),
              Route("/api/v1/ingest", post, methods=["POST"]), Route("/api/v1/consent", post, methods=["POST"]),
              Route("/api/v1/consent/renew", post, methods=["POST"])]
    cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["POST"],
                      allow_headers=["content-type", "x-replayvault-key"])
    return Starlette(routes=routes, middleware=[cors])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(app: Any, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "stub server did not start"
        time.sleep(0.05)
    return server


@pytest.fixture(scope="session")
def stub(tracker_js: Path) -> Iterator[Stub]:
    s = Stub(port=_free_port())
    server = _serve(_stub_app(s, tracker_js), s.port)
    yield s
    server.should_exit = True


# --------------------------------------------------------------------------- browser

def _loopback_only(route: Any) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="session")
def browser(chromium: Any) -> Any:
    """The suite's one Playwright Chromium (conftest): two sync Playwrights cannot share a thread."""
    return chromium


@pytest.fixture
def page(browser: Any, stub: Stub) -> Iterator[Any]:
    stub.reset()
    context = browser.new_context()
    context.route("**/*", _loopback_only)
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.goto(f"{stub.site}/page.html", wait_until="domcontentloaded")
    p.wait_for_function("() => window.replayvault && window.replayvault.version")
    yield p
    context.close()
    # Closing an undecided page sends its `skipped` receipt by sendBeacon: let it land now, not in the
    # next test's captures.
    time.sleep(0.5)
    assert not errors, errors


def interact(p: Any) -> None:
    """Type into every field and click, like a visitor."""
    p.locator("#name").press_sequentially(TYPED_TEXT, delay=5)
    p.locator("#pw").press_sequentially(PASSWORD, delay=5)
    p.locator("#pre").press_sequentially("x", delay=5)
    p.locator("#btn").click(position={"x": 30, "y": 10})


def events_of(posts: list[Captured]) -> list[dict]:
    return [e for c in posts for e in c.json["events"]]


def grant(p: Any) -> None:
    """The visitor accepts; returns once rrweb runs (after the collector answered with token and scope)."""
    p.evaluate("() => replayvault.consent.grant()")
    p.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")


def stats(p: Any) -> dict:
    return p.evaluate("() => window.replayvault.stats()")


# --------------------------------------------------------------------------- tests

@pytest.mark.browser
def test_nothing_observed_or_sent_before_consent(page: Any, stub: Stub) -> None:
    interact(page)
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(2500)  # longer than one flush interval
    assert stub.posts == []
    assert page.evaluate("() => replayvault.consent.state()") == "pending"
    assert stats(page) == {"recording": False, "paused": False, "consent": "pending", "buffered": 0, "pending": 0,
                           "nextSeq": 0, "identified": False}
    assert page.evaluate("() => [sessionStorage.length, localStorage.length]") == [0, 0]
    assert page.evaluate("() => replayvault.flush()") is True
    assert stub.posts == []


@pytest.mark.browser
def test_grant_sends_batches_with_session_and_increasing_seq(page: Any, stub: Stub) -> None:
    page.evaluate("() => replayvault.identify('cust-4242')")
    grant(page)
    interact(page)
    page.evaluate("() => replayvault.flush()")
    page.locator("#btn").click(position={"x": 150, "y": 40})
    wait_for(page, lambda: len(stub.ingest()) >= 2, what="two ingest batches")  # the 2 s timer sends the second

    consent = wait_for(page, stub.consent, what="consent post")
    assert stub.posts[0].path == "/api/v1/consent"  # the receipt precedes every batch
    assert "cust-4242" not in json.dumps([c.json for c in stub.consent()])  # the receipt carries no subject
    sid = page.evaluate("() => replayvault.sessionId()")
    receipt = consent[0].json
    now = page.evaluate("() => Date.now()")
    # ts: when the receipt was sent (the grant period starts there); decided_ms: the call of grant(), just before.
    assert now - 30_000 < receipt["ts"] <= now and 0 <= receipt["ts"] - receipt["decided_ms"] < 1000
    assert {k: v for k, v in receipt.items() if k not in ("ts", "decided_ms")} == {
        "session_id": sid, "decision": "granted", "method": "banner", "purposes": ["ux_research"],
        "banner_id": "", "banner_version": "", "gpc": False, "dnt": False}
    assert consent[0].headers["x-replayvault-key"] == WRITE_KEY

    batches = stub.ingest()
    bodies = [b.json for b in batches]
    assert {b["session_id"] for b in bodies} == {sid}
    assert [b["seq"] for b in bodies] == list(range(len(bodies)))
    assert all(b["window_id"] and b["events"] for b in bodies)
    assert {b["subject"] for b in bodies} == {"cust-4242"}  # identify(id) goes with every batch
    assert {b["consent_token"] for b in bodies} == {f"tok-{sid}"}  # the token the grant's answer gave
    assert all(b.headers["x-replayvault-key"] == WRITE_KEY for b in batches)
    assert all(b.headers["content-type"] == "application/json" for b in batches)

    events = events_of(batches)
    types = {e["type"] for e in events}
    assert {2, 3, 4} <= types  # FullSnapshot, IncrementalSnapshot, Meta
    custom = [e["data"] for e in events if e["type"] == 5]
    page_ev = [c["payload"] for c in custom if c["tag"] == "rv.page"]
    assert page_ev and page_ev[0]["scrollHeight"] > 1500 and page_ev[0]["scrollWidth"] > 0
    clicks = [c["payload"] for c in custom if c["tag"] == "rv.click"]
    assert len(clicks) == 2
    assert clicks[0]["id"] > 0 and (clicks[0]["w"], clicks[0]["h"]) == (200, 50)
    # Playwright's position is inside the border; the offset is from the border box edge (1-2 px apart).
    assert abs(clicks[0]["x"] - 30) <= 2 and abs(clicks[0]["y"] - 10) <= 2
    assert abs(clicks[1]["x"] - 150) <= 2 and abs(clicks[1]["y"] - 40) <= 2
    # rv.click comes before rrweb's own MouseInteraction Click (source 2, type 2) on the same node.
    i_custom = next(i for i, e in enumerate(events) if e["type"] == 5 and e["data"]["tag"] == "rv.click")
    i_click = next(i for i, e in enumerate(events)
                   if e["type"] == 3 and e["data"].get("source") == 2 and e["data"].get("type") == 2)
    assert i_custom < i_click and events[i_click]["data"]["id"] == clicks[0]["id"]


@pytest.mark.browser
def test_typed_password_text_hidden_and_masked_values_never_leave(page: Any, stub: Stub) -> None:
    grant(page)
    interact(page)
    page.evaluate("() => replayvault.flush()")
    wait_for(page, stub.ingest, what="ingest")
    page.evaluate("() => replayvault.flush()")
    body = stub.all_bodies()
    for secret in SECRETS:
        assert secret not in body
    events = events_of(stub.ingest())
    inputs = [e["data"] for e in events if e["type"] == 3 and e["data"].get("source") == 5]
    assert inputs and all(set(d["text"]) <= {"*"} for d in inputs)
    # Password and hidden inputs are never captured: no input events, and not even a value length.
    nodes: list[dict] = []
    stack = [e["data"]["node"] for e in events if e["type"] == 2]
    while stack:
        n = stack.pop()
        nodes.append(n)
        stack.extend(n.get("childNodes", []))
    typed = {n.get("attributes", {}).get("type"): n for n in nodes if n.get("tagName") == "input"}
    assert typed["password"]["attributes"].get("value", "") == ""
    assert typed["hidden"]["attributes"].get("value", "") == ""
    assert not [d for d in inputs if d.get("id") == typed["password"]["id"]]


@pytest.mark.browser
def test_revoke_stops_recording_drops_unsent_and_posts_revoked(page: Any, stub: Stub) -> None:
    grant(page)
    interact(page)
    page.evaluate("() => replayvault.flush()")
    wait_for(page, stub.ingest, what="first batch")
    sid = page.evaluate("() => replayvault.sessionId()")
    page.locator("#name").press_sequentially(" more", delay=5)  # buffered, not yet sent
    assert stats(page)["buffered"] > 0
    page.evaluate("() => replayvault.consent.revoke()")
    sent = len(stub.ingest())

    revoked = wait_for(page, lambda: [c for c in stub.consent() if c.json["decision"] == "withdrawn"], what="withdrawal")
    assert {k: revoked[0].json[k] for k in ("session_id", "decision", "method")} == {
        "session_id": sid, "decision": "withdrawn", "method": "banner"}
    assert stats(page)["recording"] is False and stats(page)["buffered"] == 0
    assert page.evaluate("() => replayvault.consent.state()") == "revoked"
    interact(page)
    page.mouse.wheel(0, 300)
    page.evaluate("() => replayvault.flush()")
    page.wait_for_timeout(2500)
    assert len(stub.ingest()) == sent
    assert stats(page)["buffered"] == 0
    # A reload stays unrecorded: the decision is persisted.
    page.reload(wait_until="domcontentloaded")
    interact(page)
    page.wait_for_timeout(300)
    assert stats(page)["recording"] is False and len(stub.ingest()) == sent


@pytest.mark.browser
def test_pagehide_uses_beacon_and_next_page_continues_session(page: Any, stub: Stub) -> None:
    grant(page)
    page.evaluate("() => replayvault.flush()")
    wait_for(page, stub.ingest, what="first batch")
    sid = page.evaluate("() => replayvault.sessionId()")
    page.locator("#name").press_sequentially("abc", delay=5)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#next").click()

    beacon = wait_for(page, lambda: [c for c in stub.ingest() if "key" in c.query], what="beacon")[0]
    assert beacon.query["key"] == [WRITE_KEY]
    assert beacon.headers["content-type"].startswith("text/plain")
    assert "x-replayvault-key" not in beacon.headers
    assert beacon.json["session_id"] == sid and beacon.json["events"]
    assert beacon.json["consent_token"] == f"tok-{sid}"

    # Consent is remembered: page 2 records on its own, same session, seq continues.
    page.wait_for_function("() => replayvault.stats().recording")
    assert page.evaluate("() => replayvault.sessionId()") == sid
    page.evaluate("() => replayvault.flush()")
    wait_for(page, lambda: any(c.json["window_id"] != beacon.json["window_id"] for c in stub.ingest()), what="page 2 batch")
    seqs = [c.json["seq"] for c in stub.ingest()]
    assert seqs == list(range(len(seqs)))
    assert len(stub.consent()) == 1  # consent receipt once per session, not per page


@pytest.mark.browser
def test_retries_5xx_with_same_seq_but_not_4xx(page: Any, stub: Stub) -> None:
    stub.fail_ingest.extend([503, 503])
    grant(page)
    assert page.evaluate("() => replayvault.flush()") is False
    wait_for(page, lambda: len(stub.ingest()) >= 3, timeout=8, what="two retries")  # backoff 1 s, 2 s
    assert [c.json["seq"] for c in stub.ingest()[:3]] == [0, 0, 0]
    assert stats(page)["pending"] == 0

    n = len(stub.ingest())
    stub.fail_ingest.append(400)
    page.locator("#name").press_sequentially("x", delay=5)
    assert page.evaluate("() => replayvault.flush()") is False
    page.wait_for_timeout(1500)
    assert len(stub.ingest()) == n + 1 and stats(page)["pending"] == 0


# --------------------------------------------------------------------------- demo bank

def test_bank_app_substitutes_placeholders_and_sets_csp() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette suggests httpx2, not installed here
        from starlette.testclient import TestClient

    client = TestClient(demo.make_bank_app("http://127.0.0.1:9000/", 'wk_"<x>'))
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/login.html"
    for name in ("login.html", "index.html", "transfer.html", "card.html", "crypto.html", "kyc.html"):
        r = client.get(f"/{name}")
        assert r.status_code == 200, name
        assert "{{" not in r.text
        assert ('<script src="http://127.0.0.1:9000/t/replayvault.js" data-endpoint="http://127.0.0.1:9000" '
                'data-write-key="wk_&quot;&lt;x&gt;"\n    data-banner-id="nwb-recording-banner" '
                'data-banner-version="2026-11" data-purposes="ux_research"></script>') in r.text
        assert 'id="consent-accept"' in r.text and 'id="consent-decline"' in r.text
        assert "connect-src 'self' http://127.0.0.1:9000" in r.headers["content-security-policy"]
    assert client.get("/bank.css").headers["content-type"].startswith("text/css")
    assert client.get("/../pyproject.toml").status_code == 404
    assert client.get("/nope.html").status_code == 404


def test_bank_app_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        demo.make_bank_app("127.0.0.1:9000", "k")
    with pytest.raises(ValueError):
        demo.make_bank_app("http://127.0.0.1:9000", "")


def test_journeys_are_declared() -> None:
    names = [j.name for j in demo.JOURNEYS]
    assert len(names) >= 5 and len(set(names)) == len(names)
    assert {j.consent for j in demo.JOURNEYS} == {"grant", "decline"}


@pytest.mark.browser
def test_run_journeys_records_granted_sessions_only(stub: Stub, browser: Any) -> None:
    stub.reset()
    bank_port = _free_port()
    server = _serve(demo.make_bank_app(stub.collector, WRITE_KEY), bank_port)
    seen: list[tuple[int, int, str]] = []
    try:
        results = demo.run_journeys(f"http://127.0.0.1:{bank_port}",
                                    progress=lambda done, total, r: seen.append((done, total, r["name"])))
    finally:
        server.should_exit = True
    assert [s[2] for s in seen] == [j.name for j in demo.JOURNEYS]
    by_name = {r["name"]: r for r in results}
    granted = {r["session_id"] for r in results if r["consent"] == "grant"}
    assert None not in granted and len(granted) == len(results) - 1
    assert by_name["browse_declined"]["session_id"] is None
    assert all(r["flushed"] for r in results if r["consent"] == "grant")
    assert by_name["transfer_iban"]["pages"][:3] == ["/login.html", "/index.html", "/transfer.html"]

    ingested = {c.json["session_id"] for c in stub.ingest()}
    assert ingested == granted  # the visitor who declined sent no events
    states = {(c.json["session_id"], c.json["decision"]) for c in stub.consent()}
    assert all((sid, "granted") in states for sid in granted)
    assert sum(1 for _, s in states if s == "refused") == 1  # the visitor who declined
    assert not [s for _, s in states if s not in ("granted", "refused")]
    body = stub.all_bodies()
    for secret in ("Tr0ub4dor&3-nwb", "4111 1111 1111 1111", "5555 5555 5555 4444",
                   "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "oliver.bennett@example.co.uk",
                   "GB82 WEST", "+44 20 7946 0958", "nwb-csrf-7f3a9c2e51d84b06", "EUR 4,218.37"):
        assert secret not in body, secret


@pytest.mark.browser
def test_duplicated_tab_starts_its_own_session(page: Any, stub: Stub, browser: Any) -> None:
    grant(page)
    interact(page)
    page.evaluate("() => replayvault.flush()")
    wait_for(page, lambda: len(stub.ingest()) >= 1, what="a batch from the first tab")
    first = page.evaluate("() => replayvault.sessionId()")
    # "Duplicate tab": a new document that starts with a copy of this tab's storage.
    storage = page.evaluate("() => JSON.stringify([Object.entries(sessionStorage), Object.entries(localStorage)])")
    twin = page.context.new_page()
    # Init scripts also run in rrweb's helper iframe (same origin): copy once, in the top frame only.
    twin.add_init_script(f"""(() => {{ if (window !== window.top || sessionStorage.getItem('copied')) return;
        const [s, l] = {storage}; sessionStorage.setItem('copied', '1');
        for (const [k, v] of s) sessionStorage.setItem(k, v); for (const [k, v] of l) localStorage.setItem(k, v); }})()""")
    twin.goto(page.url, wait_until="domcontentloaded")
    wait_for(twin, lambda: twin.evaluate("() => !!(window.replayvault && replayvault.stats().recording)"), what="twin recording")
    second = twin.evaluate("() => replayvault.sessionId()")
    assert second and second != first
    twin.evaluate("() => replayvault.flush()")
    wait_for(twin, lambda: any(c.json["session_id"] == second for c in stub.ingest()), what="a batch from the twin")
    assert [c.json["seq"] for c in stub.ingest() if c.json["session_id"] == second][0] == 0
    # A plain navigation in the first tab keeps its session.
    page.goto(page.url, wait_until="domcontentloaded")
    wait_for(page, lambda: page.evaluate("() => !!(window.replayvault && replayvault.stats().recording)"), what="reload recording")
    assert page.evaluate("() => replayvault.sessionId()") == first
    twin.close()


@pytest.mark.browser
def test_leaving_without_a_decision_sends_one_skipped_receipt_and_stores_nothing(page: Any, stub: Stub) -> None:
    interact(page)
    with page.expect_navigation(wait_until="domcontentloaded"):
        page.locator("#next").click()
    skipped = wait_for(page, stub.consent, what="the skipped receipt")
    assert len(skipped) == 1 and skipped[0].query["key"] == [WRITE_KEY]  # sendBeacon: key in the query
    body = skipped[0].json
    assert {k: body[k] for k in ("decision", "method", "gpc", "dnt")} == {
        "decision": "skipped", "method": "banner", "gpc": False, "dnt": False}
    # The random id of that page load was never stored; nothing is stored on the device.
    assert page.evaluate("() => [sessionStorage.length, localStorage.length]") == [0, 0]
    assert stub.ingest() == []


@pytest.mark.browser
def test_a_token_about_to_expire_is_renewed_before_batches_are_sent(page: Any, stub: Stub) -> None:
    stub.token_ttl_ms = 30_000  # less than the minute before expiry at which the tracker renews
    grant(page)
    interact(page)
    assert page.evaluate("() => replayvault.flush()") is True
    sid = page.evaluate("() => replayvault.sessionId()")
    renewals = wait_for(page, stub.renewals, what="a renewal")
    assert renewals[0].json == {"session_id": sid, "consent_token": f"tok-{sid}"}
    assert len(stub.consent()) == 1  # renewed, not a new receipt
    assert {b.json["consent_token"] for b in stub.ingest()} == {f"tok-{sid}"}
