"""Masking evidence: every masking has a location and says whether the browser had masked it;
personal data the browser should have masked is an incident (counted per session)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from consentkit import post_batch
from ._rr import add, el, full, input_ev, meta, mutation, tx
from replayvault.pipeline import Batch, SessionState, process_batch
from replayvault.privacy.evidence import EvidenceRow, location_of
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app
from staff import add_staff


def _rows(events: list) -> set[tuple[str, str, bool, int]]:
    out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
    return {(r.kind, r.location, r.browser, r.count) for r in out.evidence}


def test_locations_and_who_masked() -> None:
    events = [
        meta("https://bank.example/profile?email=jane@example.com"),
        full(el(10, "input", {"type": "text", "value": "****"}),           # masked by the browser
             el(11, "input", {"type": "email", "value": "jane@example.com"}),  # sent in clear
             el(12, "p", {"title": "IBAN DE89370400440532013000"}),
             el(13, "p", {}, tx(14, "write to jane.doe@example.com")),
             el(15, "script", {}, tx(16, "alert(1)"))),
        input_ev(10, "***"),                                               # browser-masked input
        input_ev(11, "jane@example.org"),                                  # clear input
        mutation(adds=[add(3, el(20, "span", {}, tx(21, "card 4111 1111 1111 1111")))]),
        {"type": 5, "timestamp": 4000, "data": {"tag": "note", "payload": {"who": "jane@example.net"}}},
    ]
    rows = _rows(events)
    assert rows == {
        ("url_query", "url", False, 1),  # the whole query value goes, so no email finding remains
        ("input_value", "attribute", True, 1),
        ("input_value", "attribute", False, 1),
        ("iban", "attribute", False, 1),
        ("email", "snapshot", False, 1),
        ("script", "snapshot", False, 1),
        ("input_value", "input", True, 1),
        ("input_value", "input", False, 1),
        ("card", "mutation", False, 1),
        ("email", "plugin", False, 1),
    }, rows


def test_incidents_exclude_sanitizing_and_browser_masked_kinds() -> None:
    out = process_batch(Batch("p", "s", 0, [
        meta("https://bank.example/search?q=hello"),
        full(el(10, "input", {"type": "text", "value": "****"}), el(11, "a", {"href": "javascript:alert(1)"}),
             el(12, "p", {}, tx(13, "jane@example.com"))),
    ], ""), SessionState())
    by_kind = {(r.kind, r.browser): r.incident for r in out.evidence}
    assert by_kind == {("url_query", False): False, ("input_value", True): False, ("javascript_url", False): False,
                       ("email", False): True}
    assert out.incidents == 1


def test_location_rules() -> None:
    assert location_of("meta:href", "meta") == "url"
    assert location_of("attribute:href", "snapshot") == "url"
    assert location_of("attribute:title", "mutation") == "attribute"
    assert location_of("text", "mutation") == "mutation"
    assert location_of("payload", "plugin") == "plugin"
    assert EvidenceRow("email", "snapshot", True, 2).incident is False


def test_incidents_are_counted_per_session_and_give_the_compliance_rate(rt) -> None:
    project = ensure_project(rt, "p", "P", [])
    client = TestClient(create_app(rt))
    lead = add_staff(rt, "lead", ["compliance_lead"])
    clean, leaky = str(uuid.uuid4()), str(uuid.uuid4())
    bodies = {clean: [meta("https://bank.example/a"), full(el(10, "input", {"value": "****"}))],
              leaky: [meta("https://bank.example/a"), full(el(12, "p", {}, tx(13, "mail jane@example.com or "
                                                                              "joe@example.com")))]}
    for sid, events in bodies.items():
        r = post_batch(client, {"session_id": sid, "seq": 0, "events": events},
                       {"X-Replayvault-Key": project.write_key})
        assert r.status_code == 200, r.text
    detail = client.get(f"/api/v1/sessions/{leaky}", headers=lead.headers).json()
    assert detail["incidents"] == 2
    assert detail["evidence"] == [{"kind": "email", "location": "snapshot", "browser": False, "count": 2,
                                   "incident": True}]
    ok = client.get(f"/api/v1/sessions/{clean}", headers=lead.headers).json()
    assert ok["incidents"] == 0 and ok["evidence"][0]["browser"] is True
    rate = client.get("/api/v1/privacy/capture-compliance", headers=lead.headers).json()
    assert rate == {"sessions": 2, "sessions_with_incidents": 1, "incidents": 2, "rate": 0.5}
