"""SIEM/GRC integration: the incidents and audit JSON Lines feeds, their API and CLI, and /metrics.

A seeded log with known times (entry ``i`` at ``T0 + i`` seconds) and known tables; every expected
line and metric value below is worked out by hand from the seed (see :func:`seed`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentkit import post_batch
from staff import add_staff

import replayvault.audit.log as audit_log
from replayvault.cli import app as cli_app
from replayvault.compliance import integration, prometheus
from replayvault.db.models import AuditEntry, DsarRequest, LegalHold, MaskingEvidence, RecordingSession
from replayvault.errors import AuditTampered, InvalidInput
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app

#: 2026-11-30 00:00:00 UTC, ms.
T0 = 1_795_996_800_000
ORIGIN = "http://127.0.0.1:8001"
README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


class Clock:
    """The audit log's clock (ms), settable."""

    def __init__(self) -> None:
        self.ms = T0

    def at(self, seconds: float) -> None:
        self.ms = T0 + int(seconds * 1000)


@pytest.fixture
def clock(monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    c = Clock()
    monkeypatch.setattr(audit_log, "time", SimpleNamespace(time=lambda: c.ms / 1000))
    return c


def _session(sid: str, **values) -> RecordingSession:  # type: ignore[no-untyped-def]
    base = dict(id=sid, project_id="p1", created_ms=T0, updated_ms=T0, chunk_count=0, event_count=0, raw_bytes=0,
                stored_bytes=0, masked_items=0, incidents=0)
    return RecordingSession(**{**base, **values})


def seed(rt, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    """Entries 0-8 at T0 + idx s, a checkpoint of size 9 at T0 + 9.5 s, and the rows the metrics read.

    idx 0 project.created          (cli)
    idx 1 chunk.ingested  s-a      incidents 2, stored 1000 bytes
    idx 2 chunk.ingested  s-b      incidents 0, stored 500
    idx 3 access.denied            denied (a route, no session)
    idx 4 chunk.ingested  s-a      incidents 1, stored 700   <- s-a's latest entry with incidents
    idx 5 recording.view  s-b      denied
    idx 6 login                    failed
    idx 7 chunk.ingested  s-c      incidents 3, stored 300   (s-c then crypto-shredded: no evidence left)
    idx 8 retention.deleted s-c
    """
    def rec(at: float, actor: str, action: str, resource: str, outcome: str = "ok", **details) -> None:  # type: ignore[no-untyped-def]
        clock.at(at)
        rt.audit.record(actor=actor, action=action, resource=resource, outcome=outcome, details=details)

    def ingest(at: float, sid: str, seq: int, incidents: int, stored: int) -> None:
        rec(at, "project:p1", "chunk.ingested", f"session:{sid}", seq=seq, incidents=incidents, stored_bytes=stored,
            events=10)

    clock.at(0)
    ensure_project(rt, "p1", "Project 1", [ORIGIN])
    ingest(1, "s-a", 0, 2, 1000)
    ingest(2, "s-b", 0, 0, 500)
    rec(3, "user:u_00000000000000aa", "access.denied", "route:GET /api/v1/audit/entries", "denied",
        reason="missing permission audit:read")
    ingest(4, "s-a", 1, 1, 700)
    rec(5, "user:u_00000000000000aa", "recording.view", "session:s-b", "denied", reason="no valid grant")
    rec(6, "anonymous", "login", "dashboard", "failed", known_user=False)
    ingest(7, "s-c", 0, 3, 300)
    rec(8, "scheduler", "retention.deleted", "session:s-c", reason="retention")
    clock.at(9.5)
    rt.audit.checkpoint()
    with rt.sessions() as db:
        db.add_all([
            _session("s-a", chunk_count=2, incidents=3, expires_ms=T0 + 8_500),      # expired, not held
            _session("s-b", chunk_count=1, expires_ms=T0 + 5_000),                   # expired, held
            _session("s-c", shredded_ms=T0 + 8_000, expires_ms=T0 + 8_000),          # shredded tombstone
            _session("s-d", consent="revoked"),                                      # consent only, no data
        ])
        db.flush()
        db.add_all([
            MaskingEvidence(session_id="s-a", kind="email", location="snapshot", browser=False, count=2),
            MaskingEvidence(session_id="s-a", kind="input_value", location="input", browser=False, count=1),
            MaskingEvidence(session_id="s-a", kind="input_value", location="attribute", browser=True, count=4),
            MaskingEvidence(session_id="s-a", kind="script", location="snapshot", browser=False, count=1),
            MaskingEvidence(session_id="s-b", kind="input_value", location="input", browser=True, count=2),
            LegalHold(id="h1", session_id="s-b", reason="case 1", placed_by="user:u_1", placed_ms=T0),
            LegalHold(id="h2", session_id="s-a", reason="case 2", placed_by="user:u_1", placed_ms=T0,
                      released_by="user:u_1", release_reason="closed", released_ms=T0 + 1),
            DsarRequest(id="d1", kind="export", subject_digest="0" * 64, status="open", requested_by="cli",
                        created_ms=T0 - 40 * 86_400_000, due_ms=T0 + 5_000),
            DsarRequest(id="d2", kind="erasure", subject_digest="1" * 64, status="open", requested_by="cli",
                        created_ms=T0, due_ms=T0 + 30 * 86_400_000),
            DsarRequest(id="d3", kind="export", subject_digest="2" * 64, status="completed", requested_by="cli",
                        created_ms=T0 - 40 * 86_400_000, due_ms=T0 + 1_000),
        ])
        db.commit()


@pytest.fixture
def seeded(rt, clock):  # type: ignore[no-untyped-def]
    seed(rt, clock)
    return rt


def _incident(source: str, kind: str, session: str | None, idx: int, count: int) -> dict:
    return {"type": "incident", "source": source, "kind": kind, "session": session, "time_ms": T0 + idx * 1000,
            "count": count, "audit_index": idx}


ALL_INCIDENTS = [
    _incident("access", "access.denied", None, 3, 1),
    _incident("masking", "email", "s-a", 4, 2),           # cumulative at s-a's latest incident entry (idx 4)
    _incident("masking", "input_value", "s-a", 4, 1),     # the browser-masked attribute values are no incident
    _incident("access", "recording.view", "s-b", 5, 1),
    _incident("masking", "unknown", "s-c", 7, 3),         # breakdown deleted with the session; 3 from idx 7
]


# -- incidents feed ---------------------------------------------------------------------------
def test_incident_feed_from_the_start(seeded) -> None:
    page = integration.incident_page(seeded)
    assert (page.start, page.next_index, page.size, page.complete) == (0, 9, 9, True)
    assert page.lines == ALL_INCIDENTS


@pytest.mark.parametrize("since_index,limit,expected,next_index", [
    (4, 1000, ALL_INCIDENTS[1:], 9),
    (5, 1000, ALL_INCIDENTS[3:], 9),
    (0, 4, ALL_INCIDENTS[:1], 4),     # s-a's entry 1 is not its latest: nothing for it before idx 4
    (4, 2, ALL_INCIDENTS[1:4], 6),
    (8, 1000, [], 9),
    (9, 1000, [], 9),
    (50, 1000, [], 9),                # past the end: caught up
])
def test_incident_feed_cursor(seeded, since_index: int, limit: int, expected: list, next_index: int) -> None:
    page = integration.incident_page(seeded, since_index=since_index, limit=limit)
    assert page.lines == expected
    assert page.next_index == next_index


def test_since_ms_starts_at_the_first_entry_at_or_after_it(seeded) -> None:
    page = integration.incident_page(seeded, since_ms=T0 + 4_500)   # entry 5 is the first at or after
    assert (page.start, page.lines) == (5, ALL_INCIDENTS[3:])
    assert integration.incident_page(seeded, since_ms=T0 + 5_000).start == 5
    assert integration.incident_page(seeded, since_ms=T0 + 60_000).lines == []
    # the later of the two cursors wins
    assert integration.incident_page(seeded, since_index=7, since_ms=T0).start == 7


def test_a_later_batch_with_incidents_sends_the_session_again_with_totals(seeded, clock) -> None:
    clock.at(20)
    seeded.audit.record(actor="project:p1", action="chunk.ingested", resource="session:s-a",
                        details={"seq": 2, "incidents": 1, "stored_bytes": 10, "events": 1})   # idx 9
    with seeded.sessions() as db:
        db.add(MaskingEvidence(session_id="s-a", kind="card", location="mutation", browser=False, count=1))
        db.commit()
    page = integration.incident_page(seeded, since_index=9)
    t = T0 + 20_000
    assert page.lines == [
        {"type": "incident", "source": "masking", "kind": "card", "session": "s-a", "time_ms": t, "count": 1, "audit_index": 9},
        {"type": "incident", "source": "masking", "kind": "email", "session": "s-a", "time_ms": t, "count": 2, "audit_index": 9},
        {"type": "incident", "source": "masking", "kind": "input_value", "session": "s-a", "time_ms": t, "count": 1,
         "audit_index": 9},
    ]
    # from the start, s-a now appears only at idx 9 (its entry 4 is no longer its latest)
    assert [(d["audit_index"], d["kind"]) for d in integration.incident_page(seeded).lines] == [
        (3, "access.denied"), (5, "recording.view"), (7, "unknown"), (9, "card"), (9, "email"), (9, "input_value")]


@pytest.mark.parametrize("kwargs,message", [
    ({"since_index": -1}, "since_index must be 0 or more"),
    ({"since_ms": -5}, "since_ms must be 0 or more"),
    ({"limit": 0}, "limit must be between 1 and 10000"),
    ({"limit": 10_001}, "limit must be between 1 and 10000"),
])
def test_bad_cursors_are_refused(seeded, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        integration.incident_page(seeded, **kwargs)
    with pytest.raises(InvalidInput, match="kind must be 'incidents' or 'audit'"):
        integration.feed(seeded, "sessions")


# -- audit feed -------------------------------------------------------------------------------
def test_audit_feed_lines_carry_the_canonical_entry_and_its_leaf_hash(seeded) -> None:
    page = integration.audit_page(seeded, since_index=3, limit=2)
    assert (page.start, page.next_index, page.size) == (3, 5, 9)
    assert page.lines[0] == {"type": "audit", "index": 3, "entry": {
        "action": "access.denied", "actor": "user:u_00000000000000aa", "details": {"reason": "missing permission audit:read"},
        "idx": 3, "justification": None, "origin_ip": None, "outcome": "denied", "purpose": None,
        "resource": "route:GET /api/v1/audit/entries", "time_ms": T0 + 3000},
        "leaf_hash": page.lines[0]["leaf_hash"]}
    for line in page.lines:  # RFC 9162 §2.1.1: SHA-256(0x00 || canonical entry), and what the proof bundle says
        canonical = json.dumps(line["entry"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert base64.b64decode(line["leaf_hash"]) == hashlib.sha256(b"\x00" + canonical).digest()
        assert line["leaf_hash"] == seeded.audit.inclusion_bundle(line["index"])["leaf_hash"]
        assert seeded.audit.inclusion_bundle(line["index"])["entry"] == canonical.decode()
    assert [line["index"] for line in integration.audit_page(seeded).lines] == list(range(9))


def test_jsonl_is_one_canonical_object_per_line() -> None:
    body = integration.jsonl([{"b": 1, "a": "é"}, {"type": "x"}])
    assert body == '{"a":"é","b":1}\n{"type":"x"}\n'.encode()
    assert integration.jsonl([]) == b""


def test_an_altered_entry_is_not_exported(seeded) -> None:
    with seeded.sessions() as db:
        db.get(AuditEntry, 5).details = '{"reason":"all fine"}'
        db.commit()
    with pytest.raises(AuditTampered, match="audit entry 5 does not match its stored leaf hash"):
        integration.audit_page(seeded)
    with seeded.sessions() as db:
        db.delete(db.get(AuditEntry, 5))
        db.commit()
    with pytest.raises(AuditTampered, match="audit entry 5 is missing"):
        integration.audit_page(seeded, since_index=4)


# -- through the collector --------------------------------------------------------------------
def _el(i: int, tag: str, attrs: dict, *kids: dict) -> dict:
    return {"type": 2, "id": i, "tagName": tag, "attributes": attrs, "childNodes": list(kids)}


def test_incidents_of_real_batches(rt, clock) -> None:
    """Batch 0: an e-mail input value and an e-mail in page text sent in clear (2 incidents) and a script
    (sanitizing); batch 1: a clear Input event (1 incident). Entries: 0 project, 1 the consent receipt
    (``consent.receipt``, sent before the first batch), 2 and 3 the batches."""
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    client = TestClient(create_app(rt))
    sid = str(uuid.uuid4())
    page = _el(2, "html", {}, _el(3, "body", {}, _el(10, "input", {"type": "email", "value": "jane@example.com"}),
                                   _el(13, "p", {}, {"type": 3, "id": 14, "textContent": "write to jane.doe@example.com"}),
                                   _el(15, "script", {}, {"type": 3, "id": 16, "textContent": "alert(1)"})))
    batches = [
        [{"type": 4, "data": {"href": "https://bank.example/kyc", "width": 1280, "height": 800}, "timestamp": 1},
         {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [page]}, "initialOffset": {"top": 0, "left": 0}},
          "timestamp": 2}],
        [{"type": 3, "data": {"source": 5, "id": 10, "text": "joe@example.org", "isChecked": False}, "timestamp": 3}],
    ]
    for seq, events in enumerate(batches):
        clock.at(seq + 1)
        r = post_batch(client, {"session_id": sid, "seq": seq, "events": events},
                       {"X-Replayvault-Key": project.write_key, "Origin": ORIGIN})
        assert r.status_code == 200, r.text
    assert integration.incident_page(rt).lines == [
        {"type": "incident", "source": "masking", "kind": "email", "session": sid, "time_ms": T0 + 2000, "count": 1,
         "audit_index": 3},
        {"type": "incident", "source": "masking", "kind": "input_value", "session": sid, "time_ms": T0 + 2000, "count": 2,
         "audit_index": 3},
    ]
    assert integration.incident_page(rt, since_index=4).lines == []


# -- HTTP API ---------------------------------------------------------------------------------
@pytest.fixture
def api(seeded):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(seeded))
    return SimpleNamespace(client=client, rt=seeded, sec=add_staff(seeded, "sec", ["security_specialist"]),
                           ux=add_staff(seeded, "ux", ["ux_analyst"]), admin=add_staff(seeded, "adm", ["admin"]))


def test_feeds_over_http(api) -> None:
    r = api.client.get("/api/v1/siem/incidents.jsonl", params={"since_index": 4, "limit": 2}, headers=api.sec.headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-ndjson"
    assert (r.headers["x-replayvault-next-index"], r.headers["x-replayvault-log-size"]) == ("6", "9")
    assert [json.loads(line) for line in r.text.splitlines()] == ALL_INCIDENTS[1:4]
    assert r.content == integration.jsonl(ALL_INCIDENTS[1:4])
    r = api.client.get("/api/v1/siem/audit.jsonl", params={"since_ms": T0 + 7_000}, headers=api.admin.headers)
    assert r.status_code == 200 and r.headers["x-replayvault-next-index"] == "9"
    assert [json.loads(line)["index"] for line in r.text.splitlines()] == [7, 8]


@pytest.mark.parametrize("path,params,field", [
    ("/api/v1/siem/incidents.jsonl", {"since_index": -1}, "query.since_index"),
    ("/api/v1/siem/incidents.jsonl", {"since_index": "x"}, "query.since_index"),
    ("/api/v1/siem/audit.jsonl", {"limit": 0}, "query.limit"),
    ("/api/v1/siem/audit.jsonl", {"limit": 10_001}, "query.limit"),
    ("/api/v1/siem/audit.jsonl", {"since_ms": -1}, "query.since_ms"),
])
def test_bad_parameters_are_400_json(api, path: str, params: dict, field: str) -> None:
    r = api.client.get(path, params=params, headers=api.sec.headers)
    assert (r.status_code, r.json()) == (400, {"error": f"invalid request parameters: {field}", "status": 400})


def test_who_may_read_the_feeds_and_the_metrics(api) -> None:
    for path in ("/api/v1/siem/incidents.jsonl", "/api/v1/siem/audit.jsonl", "/metrics"):
        r = api.client.get(path, follow_redirects=False)
        assert (r.status_code, r.json()) == (401, {"error": "login required", "status": 401}), path
    r = api.client.get("/api/v1/siem/audit.jsonl", headers=api.ux.headers)
    assert (r.status_code, r.json()["error"]) == (403, "your roles do not grant audit:read")
    r = api.client.get("/metrics", headers=api.ux.headers)
    assert (r.status_code, r.json()["error"]) == (403, "your roles do not grant metrics:read")
    r = api.client.get("/metrics", headers=api.sec.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "replayvault_audit_entries_total " in r.text


def test_a_metrics_only_token_reads_metrics_and_nothing_else(api) -> None:
    from replayvault.db.models import User
    from replayvault.governance import accounts

    with api.rt.sessions() as db:
        _, token = accounts.create_token(db, db.get(User, api.admin.user_id), "prometheus", ["metrics:read"])
        db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/metrics", headers=headers).status_code == 200
    assert api.client.get("/api/v1/siem/audit.jsonl", headers=headers).status_code == 403


# -- metrics ----------------------------------------------------------------------------------
EXPECTED_METRICS = """\
# HELP replayvault_sessions_total Recording sessions that ever held data (crypto-shredded ones included).
# TYPE replayvault_sessions_total counter
replayvault_sessions_total 3
# HELP replayvault_ingest_batches_total Ingest batches accepted (chunk.ingested audit entries).
# TYPE replayvault_ingest_batches_total counter
replayvault_ingest_batches_total 4
# HELP replayvault_chunks_stored_bytes_total Bytes of sealed chunks stored at ingest (compressed and encrypted), crypto-shredded ones included.
# TYPE replayvault_chunks_stored_bytes_total counter
replayvault_chunks_stored_bytes_total 2500
# HELP replayvault_masking_incidents_total Masking incidents at ingest: personal data the browser should have masked (audit entries).
# TYPE replayvault_masking_incidents_total counter
replayvault_masking_incidents_total 6
# HELP replayvault_masking_incidents Masking incidents per kind in sessions still stored.
# TYPE replayvault_masking_incidents gauge
replayvault_masking_incidents{kind="email"} 2
replayvault_masking_incidents{kind="input_value"} 1
# HELP replayvault_access_denied_total Audit entries with outcome denied, by action.
# TYPE replayvault_access_denied_total counter
replayvault_access_denied_total{action="access.denied"} 1
replayvault_access_denied_total{action="recording.view"} 1
# HELP replayvault_login_failures_total Failed logins (audit entries).
# TYPE replayvault_login_failures_total counter
replayvault_login_failures_total 1
# HELP replayvault_consent_receipts_total Consent receipts stored, by decision (audit entries).
# TYPE replayvault_consent_receipts_total counter
# HELP replayvault_consent_blocked_total Batches the consent check refused or trimmed, by reason (consent.blocked audit entries).
# TYPE replayvault_consent_blocked_total counter
# HELP replayvault_scope_dropped_events_total Events dropped at ingest as outside the project's capture scope (audit entries).
# TYPE replayvault_scope_dropped_events_total counter
replayvault_scope_dropped_events_total 0
# HELP replayvault_audit_entries_total Entries in the audit log (its tree size).
# TYPE replayvault_audit_entries_total counter
replayvault_audit_entries_total 9
# HELP replayvault_audit_last_checkpoint_timestamp_seconds Unix time the latest audit checkpoint was signed (0: none yet).
# TYPE replayvault_audit_last_checkpoint_timestamp_seconds gauge
replayvault_audit_last_checkpoint_timestamp_seconds 1795996809.5
# HELP replayvault_audit_last_checkpoint_tree_size Audit entries covered by the latest signed checkpoint (0: none yet).
# TYPE replayvault_audit_last_checkpoint_tree_size gauge
replayvault_audit_last_checkpoint_tree_size 9
# HELP replayvault_legal_holds_active Legal holds not released.
# TYPE replayvault_legal_holds_active gauge
replayvault_legal_holds_active 1
# HELP replayvault_retention_expired_present Sessions past their retention period, not under a legal hold, not yet crypto-shredded.
# TYPE replayvault_retention_expired_present gauge
replayvault_retention_expired_present 1
# HELP replayvault_dsar_requests_open Data subject requests not yet answered.
# TYPE replayvault_dsar_requests_open gauge
replayvault_dsar_requests_open 2
# HELP replayvault_dsar_requests_overdue Open data subject requests past their due time.
# TYPE replayvault_dsar_requests_overdue gauge
replayvault_dsar_requests_overdue 1
"""


def test_metrics_of_the_seeded_database(seeded) -> None:
    """sessions: s-a, s-b, s-c (s-d never held data); batches 1, 2, 4, 7 with 1000 + 500 + 700 + 300 bytes
    and 2 + 0 + 1 + 3 incidents; stored per kind: s-a's server-masked email 2 and input_value 1 (script is
    sanitizing, the attribute values were masked by the browser); denied 3 and 5, failed login 6; 9 entries,
    checkpoint at T0 + 9.5 s; hold h1 active; s-a expired (s-b held, s-c shredded); d1 and d2 open, d1 due."""
    assert prometheus.metrics_text(seeded, now_ms=T0 + 10_000) == EXPECTED_METRICS


def test_counters_count_only_new_entries_on_the_next_scrape(seeded, clock) -> None:
    assert prometheus.metrics_text(seeded, now_ms=T0 + 10_000) == EXPECTED_METRICS
    clock.at(30)
    seeded.audit.record(actor="project:p1", action="chunk.ingested", resource="session:s-b",
                        details={"seq": 1, "incidents": 2, "stored_bytes": 40, "events": 1})
    for decision in ("granted", "refused", "granted"):
        seeded.audit.record(actor="project:p1", action="consent.receipt", resource="session:s-e",
                            details={"receipt": "r", "decision": decision, "method": "banner", "sha256": "0" * 64})
    seeded.audit.record(actor="project:p1", action="consent.blocked", resource="session:s-f",
                        details={"reason": "no_token", "events": 3})
    seeded.audit.record(actor="project:p1", action="scope.dropped", resource="session:s-g",
                        details={"seq": 0, "events": 4, "rules": {"/pay/*": 4}})
    seeded.audit.record(actor="project:p1", action="chunk.ingested", resource="session:s-g",
                        details={"seq": 1, "incidents": 0, "stored_bytes": 10, "events": 2, "scope_dropped": 5})
    text = prometheus.metrics_text(seeded, now_ms=T0 + 10_000)
    assert "\nreplayvault_ingest_batches_total 6\n" in text
    assert "\nreplayvault_chunks_stored_bytes_total 2550\n" in text
    assert "\nreplayvault_masking_incidents_total 8\n" in text
    assert "\nreplayvault_audit_entries_total 16\n" in text
    assert ('\nreplayvault_consent_receipts_total{decision="granted"} 2\n'
            'replayvault_consent_receipts_total{decision="refused"} 1\n') in text
    assert '\nreplayvault_consent_blocked_total{reason="no_token"} 1\n' in text
    assert "\nreplayvault_scope_dropped_events_total 9\n" in text  # 4 dropped whole + 5 in an accepted batch


def test_webhook_metrics_appear_when_a_webhook_is_set(seeded) -> None:
    from replayvault.compliance.webhook import PushState, _save_state, state_path

    seeded.settings.webhook_url = "https://siem.example/hook"
    _save_state(state_path(seeded.settings), PushState(next_index=7, consecutive_failures=2, last_success_ms=T0 + 1_500))
    tail = prometheus.metrics_text(seeded, now_ms=T0 + 10_000)[len(EXPECTED_METRICS):]
    assert tail == """\
# HELP replayvault_siem_push_next_index Next audit index the webhook push will send.
# TYPE replayvault_siem_push_next_index gauge
replayvault_siem_push_next_index 7
# HELP replayvault_siem_push_consecutive_failures Webhook push rounds failed in a row.
# TYPE replayvault_siem_push_consecutive_failures gauge
replayvault_siem_push_consecutive_failures 2
# HELP replayvault_siem_push_last_success_timestamp_seconds Unix time of the last batch the webhook accepted (0: none yet).
# TYPE replayvault_siem_push_last_success_timestamp_seconds gauge
replayvault_siem_push_last_success_timestamp_seconds 1795996801.5
"""


def test_render_escapes_labels_and_help() -> None:
    fam = prometheus.Family("x_total", "counter", 'a \\ b\nc', [prometheus.Sample((("k", 'q"\\\n'),), 0.25),
                                                                 prometheus.Sample((), 3.0)])
    assert prometheus.render([fam]) == ('# HELP x_total a \\\\ b\\nc\n# TYPE x_total counter\n'
                                        'x_total{k="q\\"\\\\\\n"} 0.25\nx_total 3\n')


def test_an_empty_installation() -> None:
    assert prometheus.render([prometheus.Family("a", "gauge", "h")]) == "# HELP a h\n# TYPE a gauge\n"


# -- command line -----------------------------------------------------------------------------
@pytest.fixture
def cli_env(seeded) -> dict[str, str]:
    return {"REPLAYVAULT_HOME": str(seeded.settings.home), "REPLAYVAULT_ALLOWED_HOSTS": "testserver"}


def test_cli_export_writes_a_private_jsonl_file(seeded, cli_env, tmp_path) -> None:
    out = tmp_path / "incidents.jsonl"
    r = CliRunner().invoke(cli_app, ["siem", "export", "--kind", "incidents", "-o", str(out)], env=cli_env)
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == integration.jsonl(ALL_INCIDENTS)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert "5 incidents lines; next index 9 (--since-index 9)" in r.output


def test_cli_export_from_a_day_and_an_index(seeded, cli_env, tmp_path) -> None:
    r = CliRunner().invoke(cli_app, ["siem", "export", "--kind", "audit", "--since-index", "6", "--limit", "2"], env=cli_env)
    assert r.exit_code == 0, r.output
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    assert [d["index"] for d in lines] == [6, 7]
    r = CliRunner().invoke(cli_app, ["siem", "export", "--kind", "audit", "--since", "2026-12-01"], env=cli_env)
    assert r.exit_code == 0 and "0 audit lines; next index 9" in r.output   # nothing recorded on or after that day
    r = CliRunner().invoke(cli_app, ["siem", "export", "--kind", "audit", "--since", "2026-11-30"], env=cli_env)
    assert len([line for line in r.stdout.splitlines() if line.startswith("{")]) == 9


@pytest.mark.parametrize("args,message", [
    (["--kind", "sessions"], "--kind must be incidents or audit"),
    (["--kind", "audit", "--since", "yesterday"], "--since must be a date like 2026-11-29"),
    (["--kind", "audit", "--since", "2026-11-30T08:00:00"], "--since needs a UTC offset"),
])
def test_cli_export_refuses_bad_options(seeded, cli_env, tmp_path, args: list, message: str) -> None:
    out = tmp_path / "x.jsonl"
    r = CliRunner().invoke(cli_app, ["siem", "export", *args, "-o", str(out)], env=cli_env)
    assert r.exit_code == 2 and message in r.output
    assert not out.exists()


# -- documentation ----------------------------------------------------------------------------
def test_routes_settings_and_permission_are_documented() -> None:
    from replayvault.web import api_integration

    for route in api_integration.router.routes:
        assert f"`{sorted(route.methods)[0]} {route.path}" in README, route.path
    for name in ("REPLAYVAULT_WEBHOOK_URL", "REPLAYVAULT_WEBHOOK_SECRET_FILE", "REPLAYVAULT_WEBHOOK_INTERVAL_S"):
        assert f"`{name}`" in README
    assert "## Integration with SIEM/GRC" in README
    assert "X-Replayvault-Signature" in README and "hmac.compare_digest" in README
