"""The consent ledger through the collector: receipts and their audit digests, GPC and DNT, TCF strings,
granted periods, withdrawal, token expiry and renewal, and the incidents the gate records."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from govkit import ORIGIN, audit_rows, events
from test_tcf import ES_ISSUE_201, PERL_BITFIELD

from replayvault.compliance.integration import incident_page
from replayvault.db.models import Chunk, ConsentReceipt, IngestIncident
from replayvault.governance.consent import issue_token, renew
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from replayvault.web.app import create_app

T0 = 1_700_000_000_000


@pytest.fixture
def env(rt):  # type: ignore[no-untyped-def]
    project = ensure_project(rt, "p1", "Project 1", [ORIGIN])
    client = TestClient(create_app(rt))
    headers = {"X-Replayvault-Key": project.write_key, "Origin": ORIGIN}
    return rt, project, client, headers


def _receipt(client: TestClient, headers: dict, sid: str, **body) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/consent", json={"session_id": sid, **body}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _ingest(client: TestClient, headers: dict, sid: str, token: str | None, evs: list[dict], seq: int = 0):  # type: ignore[no-untyped-def]
    body = {"session_id": sid, "seq": seq, "events": evs, **({"consent_token": token} if token else {})}
    return client.post("/api/v1/ingest", json=body, headers=headers)


def _incidents(rt) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        return [(i.kind, i.reason, i.events) for i in db.scalars(select(IngestIncident).order_by(IngestIncident.id))]


def _rows(rt) -> list[ConsentReceipt]:  # type: ignore[no-untyped-def]
    with rt.sessions() as db:
        return list(db.scalars(select(ConsentReceipt).order_by(ConsentReceipt.received_ms)))


def test_a_grant_is_stored_with_its_digest_in_the_audit_log_and_returns_a_token(env) -> None:
    rt, project, client, headers = env
    sid = str(uuid.uuid4())
    answer = _receipt(client, headers, sid, decision="granted", method="banner", ts=T0, decided_ms=T0 - 5,
                      banner_id="nwb-banner", banner_version="2026-11", purposes=["ux_research"])
    assert set(answer) == {"receipt", "session_id", "decision", "consent_token", "token_ttl_ms", "scope"}
    assert (answer["decision"], answer["token_ttl_ms"], answer["scope"]) == ("granted", 900_000, {"allow": [], "deny": []})
    [row] = _rows(rt)
    assert (row.id, row.decision, row.method, row.banner_id, row.banner_version, row.purposes) == (
        answer["receipt"], "granted", "banner", "nwb-banner", "2026-11", ["ux_research"])
    assert (row.client_ms, row.decided_ms, row.gpc, row.dnt, row.tc_string) == (T0, T0 - 5, False, False, None)
    # The digest is SHA-256 over the canonical JSON of the stored fields, computed here independently.
    canonical = {"id": row.id, "project_id": "p1", "session_id": sid, "decision": "granted", "method": "banner",
                 "banner_id": "nwb-banner", "banner_version": "2026-11", "purposes": ["ux_research"],
                 "tc_string": None, "tcf": None, "gpc": False, "dnt": False, "client_ms": T0, "decided_ms": T0 - 5,
                 "received_ms": row.received_ms}
    digest = hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert row.sha256 == digest
    entry = [e for e in audit_rows(rt) if e["action"] == "consent.receipt"]
    assert len(entry) == 1 and entry[0]["resource"] == f"session:{sid}" and entry[0]["actor"] == "project:p1"
    assert entry[0]["details"] == {"receipt": row.id, "decision": "granted", "method": "banner", "sha256": digest,
                                   "gpc": False, "dnt": False}
    # The token is bound to the session: its batches are accepted.
    r = _ingest(client, headers, sid, answer["consent_token"], events(T0 + 10))
    assert r.status_code == 200 and r.json()["events"] == 3 and r.json()["dropped"] == 0


def test_receipts_are_append_only(env) -> None:
    rt, _project, client, headers = env
    _receipt(client, headers, str(uuid.uuid4()), decision="refused", ts=T0)
    with rt.sessions() as db:
        row = db.scalars(select(ConsentReceipt)).one()
        row.decision = "granted"
        with pytest.raises(RuntimeError, match="append-only"):
            db.commit()
        db.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            db.delete(db.scalars(select(ConsentReceipt)).one())
            db.commit()
    assert [r.decision for r in _rows(rt)] == ["refused"]


@pytest.mark.parametrize(("flags", "reason"), [
    ({"gpc": True}, "Global Privacy Control is on: nothing is recorded"),
    ({"dnt": True}, "Do Not Track is on: nothing is recorded"),
    ({"gpc": True, "dnt": True}, "Global Privacy Control is on: nothing is recorded"),
])
def test_gpc_and_dnt_turn_a_grant_into_a_refusal_without_token(env, flags, reason) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    answer = _receipt(client, headers, sid, decision="granted", ts=T0, **flags)
    assert answer == {"receipt": answer["receipt"], "session_id": sid, "decision": "refused", "reason": reason}
    assert [(r.decision, r.gpc, r.dnt) for r in _rows(rt)] == [("refused", flags.get("gpc", False), flags.get("dnt", False))]
    assert _ingest(client, headers, sid, None, events(T0 + 10)).status_code == 403


def test_tcf_string_with_the_required_purposes_grants(env) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    # iabtcf-es issue 201's string consents to purposes 1-10 (decoded in test_tcf): 1, 8 and 10 are there.
    answer = _receipt(client, headers, sid, method="tcf", tc_string=ES_ISSUE_201, ts=T0)
    assert answer["decision"] == "granted" and answer["consent_token"]
    [row] = _rows(rt)
    assert (row.method, row.tc_string) == ("tcf", ES_ISSUE_201)
    assert row.tcf["allowed"] is True and row.tcf["required_purposes"] == [1, 8, 10]
    assert row.tcf["missing_purposes"] == []


def test_tcf_string_without_purpose_8_refuses(env) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    # The Perl suite's bitfield string consents to purposes 1, 3, 9 and 10 only.
    answer = _receipt(client, headers, sid, method="tcf", tc_string=PERL_BITFIELD, ts=T0, decision="granted")
    assert (answer["decision"], answer["reason"]) == (
        "refused", "the TC string lacks consent for a required purpose or vendor")
    assert "consent_token" not in answer
    [row] = _rows(rt)
    assert row.tcf["allowed"] is False and row.tcf["missing_purposes"] == [8]
    assert row.tcf["consented_purposes"] == [1, 3, 9, 10]


def test_a_tc_string_that_cannot_be_decoded_is_refused_and_nothing_stored(env) -> None:
    rt, _project, client, headers = env
    r = client.post("/api/v1/consent", json={"session_id": str(uuid.uuid4()), "method": "tcf", "ts": T0,
                                             "tc_string": "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == "TC string version 1 is not supported; TCF v2 is required"
    assert _rows(rt) == [] and not [e for e in audit_rows(rt) if e["action"] == "consent.receipt"]


@pytest.mark.parametrize(("body", "message"), [
    ({"decision": "maybe", "ts": T0}, "'decision' must be one of granted, refused, withdrawn, skipped"),
    ({"ts": T0}, "'decision' is required (granted, refused, withdrawn or skipped) unless method is 'tcf'"),
    ({"decision": "granted"}, "'ts' must be milliseconds since the epoch (an integer between 0 and 2^53)"),
    ({"decision": "granted", "ts": T0, "decided_ms": T0 + 1}, "'decided_ms' must not be later than 'ts'"),
    ({"decision": "granted", "ts": T0, "method": "email"}, "'method' must be one of banner, tcf, consent_mode, api, gpc, dnt"),
    ({"decision": "granted", "ts": T0, "gpc": "yes"}, "'gpc' must be true or false"),
    ({"decision": "granted", "ts": T0, "banner_id": "a b"}, "'banner_id' must be up to 64 letters, digits, '.', '_', ':' or '-'"),
    ({"method": "tcf", "ts": T0}, "'tc_string' is required when method is 'tcf'"),
])
def test_bad_receipts_are_refused_with_the_field_named(env, body, message) -> None:
    rt, _project, client, headers = env
    r = client.post("/api/v1/consent", json={"session_id": str(uuid.uuid4()), **body}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (400, message)
    assert _rows(rt) == []


def test_events_between_a_refusal_and_a_later_grant_are_never_stored(env) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    _receipt(client, headers, sid, decision="refused", ts=T0)
    token = _receipt(client, headers, sid, decision="granted", ts=T0 + 5_000)["consent_token"]
    # Meta at T0+1000, snapshot T0+1001, click T0+1400 (refused period); then the same at T0+6000.. (granted).
    batch = events(T0 + 1_000) + events(T0 + 6_000)
    r = _ingest(client, headers, sid, token, batch)
    assert r.status_code == 200 and (r.json()["events"], r.json()["dropped"]) == (3, 3)
    assert [e["timestamp"] for e in session_events(rt, sid)] == [T0 + 6_000, T0 + 6_001, T0 + 6_400]
    assert _incidents(rt) == [("consent", "outside_consent", 3)]
    blocked = [e for e in audit_rows(rt) if e["action"] == "consent.blocked"]
    assert [(e["resource"], e["details"]) for e in blocked] == [(f"session:{sid}", {"reason": "outside_consent", "events": 3})]
    # The SIEM incidents feed carries it at that audit entry.
    lines = [ln for ln in incident_page(rt).lines if ln["source"] == "consent"]
    assert lines == [{"type": "incident", "source": "consent", "kind": "outside_consent", "session": sid,
                      "time_ms": blocked[0]["time_ms"], "count": 3, "audit_index": blocked[0]["idx"]}]


def test_a_batch_entirely_outside_a_granted_period_stores_nothing(env) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    token = _receipt(client, headers, sid, decision="granted", ts=T0 + 10_000)["consent_token"]
    r = _ingest(client, headers, sid, token, events(T0))
    assert r.status_code == 200 and (r.json()["events"], r.json()["dropped"]) == (0, 3)
    with rt.sessions() as db:
        assert db.scalars(select(Chunk.id)).all() == []
    assert _incidents(rt) == [("consent", "outside_consent", 3)]


def test_after_a_withdrawal_batches_are_refused_and_late_events_counted(env) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    token = _receipt(client, headers, sid, decision="granted", ts=T0)["consent_token"]
    assert _ingest(client, headers, sid, token, events(T0 + 10)).status_code == 200
    _receipt(client, headers, sid, decision="withdrawn", ts=T0 + 2_000)
    # Of the three events (T0+1900, T0+1901, T0+2300) one is at or after the withdrawal.
    r = _ingest(client, headers, sid, token, events(T0 + 1_900), seq=1)
    assert (r.status_code, r.json()["error"]) == (409, "consent was withdrawn or refused for this session; batch not accepted")
    assert [e["timestamp"] for e in session_events(rt, sid)] == [T0 + 10, T0 + 11, T0 + 410]
    assert _incidents(rt) == [("consent", "after_withdrawal", 1)]
    r = client.post("/api/v1/consent/renew", json={"session_id": sid, "consent_token": token}, headers=headers)
    assert r.status_code == 409
    # The session is closed for good: a new grant needs a new session (the tracker makes one).
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "granted", "ts": T0 + 3_000}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (409, "consent was withdrawn for this session; a new grant needs a new session")
    assert [r.decision for r in _rows(rt)] == ["granted", "withdrawn"]


def test_tokens_expire_renew_within_the_grace_period_and_are_refreshed_on_ingest(env) -> None:
    rt, project, client, headers = env
    sid = str(uuid.uuid4())
    receipt = _receipt(client, headers, sid, decision="granted", ts=T0)["receipt"]
    now = int(time.time() * 1000)
    expired, _ = issue_token(rt, project.id, sid, receipt, now - 901_000)  # expired 1 s ago
    r = _ingest(client, headers, sid, expired, events(T0 + 10))
    assert (r.status_code, r.json()["error"]) == (
        403, "the consent token has expired; renew it (POST /api/v1/consent/renew)")
    assert _incidents(rt) == [("consent", "expired_token", 3)]
    fresh = renew(rt, project, sid, expired)
    assert fresh["token_ttl_ms"] == 900_000
    r = _ingest(client, headers, sid, fresh["consent_token"], events(T0 + 10))
    assert r.status_code == 200 and "consent_token" not in r.json()  # more than half of its life left
    # Less than half left (600 s of 900 s gone): the answer carries a fresh token.
    aging, _ = issue_token(rt, project.id, sid, receipt, now - 600_000)
    r = _ingest(client, headers, sid, aging, events(T0 + 20_000), seq=1)
    assert r.status_code == 200 and r.json()["token_ttl_ms"] == 900_000
    assert _ingest(client, headers, sid, r.json()["consent_token"], events(T0 + 30_000), seq=2).status_code == 200
    # A day past its expiry a token cannot be renewed any more.
    stale, _ = issue_token(rt, project.id, sid, receipt, now - 901_000 - 24 * 3600 * 1000)
    r = client.post("/api/v1/consent/renew", json={"session_id": sid, "consent_token": stale}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (403, "the consent token expired too long ago; send a new consent receipt")


def _forge(token: str, **changes) -> str:  # type: ignore[no-untyped-def]
    body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(changes)
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + "." + sig


def test_tokens_bound_to_another_session_or_edited_are_refused(env) -> None:
    rt, project, client, headers = env
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    token_a = _receipt(client, headers, a, decision="granted", ts=T0)["consent_token"]
    _receipt(client, headers, b, decision="granted", ts=T0)
    for token in (token_a, _forge(token_a, s=b), _forge(token_a, exp=2**52), "x.y", "not-a-token"):
        r = _ingest(client, headers, b, token, events(T0 + 10))
        assert (r.status_code, r.json()["error"]) == (403, "the consent token is not valid for this session")
    # A token of a refusal's receipt id is no grant.
    refused = _receipt(client, headers, str(uuid.uuid4()), decision="refused", ts=T0)
    tok, _ = issue_token(rt, project.id, refused["session_id"], refused["receipt"], int(time.time() * 1000))
    assert _ingest(client, headers, refused["session_id"], tok, events(T0 + 10)).status_code == 403
    assert _incidents(rt) == [("consent", "invalid_token", 3)] * 6
    with rt.sessions() as db:
        assert db.scalars(select(Chunk.id)).all() == []


def test_a_session_of_another_project_cannot_be_receipted(env, rt) -> None:
    _rt, _project, client, headers = env
    other = ensure_project(rt, "p2", "Project 2", [ORIGIN])
    sid = str(uuid.uuid4())
    _receipt(client, headers, sid, decision="granted", ts=T0)
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "withdrawn", "ts": T0 + 1},
                    headers={**headers, "X-Replayvault-Key": other.write_key})
    assert (r.status_code, r.json()["error"]) == (404, "no such session for this project")
    assert [r.decision for r in _rows(rt)] == ["granted"]


def test_the_project_policy_sets_tcf_purposes_and_whether_dnt_counts(env) -> None:
    from replayvault.governance.policies import set_policy

    rt, _project, client, headers = env
    set_policy(rt, "p1", "consent: {tcf_purposes: [1, 9, 10], honour_dnt: false}\n", "test")
    # The Perl suite's string (purposes 1, 3, 9, 10) now has every required purpose.
    answer = _receipt(client, headers, str(uuid.uuid4()), method="tcf", tc_string=PERL_BITFIELD, ts=T0)
    assert answer["decision"] == "granted"
    assert _rows(rt)[-1].tcf["required_purposes"] == [1, 9, 10]
    # DNT no longer refuses; GPC still does.
    assert _receipt(client, headers, str(uuid.uuid4()), decision="granted", ts=T0, dnt=True)["decision"] == "granted"
    assert _receipt(client, headers, str(uuid.uuid4()), decision="granted", ts=T0, gpc=True)["decision"] == "refused"


def test_the_grant_answer_carries_the_capture_scope_and_ingest_reports_dropped_events(env) -> None:
    from replayvault.governance.policies import set_policy

    rt, _project, client, headers = env
    set_policy(rt, "p1", 'capture_scope: {deny: ["/payments/*"]}\n', "test")
    sid = str(uuid.uuid4())
    answer = _receipt(client, headers, sid, decision="granted", ts=T0)
    assert answer["scope"] == {"allow": [], "deny": ["/payments/*"]}
    batch = events(T0 + 10) + events(T0 + 1_000, href="https://bank.example/payments/card")
    r = _ingest(client, headers, sid, answer["consent_token"], batch)
    assert r.status_code == 200 and (r.json()["events"], r.json()["dropped"]) == (6, 3)
    assert [e["timestamp"] for e in session_events(rt, sid)] == [T0 + 10, T0 + 11, T0 + 410]
    with rt.sessions() as db:
        rows = [(i.kind, i.reason, i.rule, i.events) for i in db.scalars(select(IngestIncident))]
    assert rows == [("scope", "out_of_scope", "/payments/*", 3)]


# -- found by the attack review ----------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "message"), [
    ({"decision": "granted", "method": "gpc"},
     "a receipt with method 'gpc' or 'dnt' records a browser opt-out: its decision must be 'refused'"),
    ({"decision": "granted", "method": "dnt"},
     "a receipt with method 'gpc' or 'dnt' records a browser opt-out: its decision must be 'refused'"),
    ({"decision": "granted", "method": "banner", "tc_string": "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"},
     "'tc_string' is only accepted with method 'tcf'"),
    ({"method": "tcf", "tc_string": "Jonas Weber <jonas.weber@example.com>"},
     "'tc_string' must be a TCF TC string (base64url segments separated by '.', at most 20000 characters)"),
])
def test_receipts_carry_no_free_text_and_opt_out_signals_are_never_grants(env, body, message) -> None:
    rt, _project, client, headers = env
    r = client.post("/api/v1/consent", json={"session_id": str(uuid.uuid4()), "ts": T0, **body}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (400, message)
    assert _rows(rt) == []


def test_a_tc_string_whose_later_segment_is_not_base64url_is_refused(env) -> None:
    rt, _project, client, headers = env
    r = client.post("/api/v1/consent", json={"session_id": str(uuid.uuid4()), "method": "tcf", "ts": T0,
                                             "tc_string": ES_ISSUE_201 + ".jonas.weber@example.com"}, headers=headers)
    assert r.status_code == 400 and _rows(rt) == []


@pytest.mark.parametrize("suffix", ["==", "!!", "$", "=A", "A"])
def test_a_token_has_one_spelling(env, suffix) -> None:
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    token = _receipt(client, headers, sid, decision="granted", ts=T0)["consent_token"]
    r = _ingest(client, headers, sid, token + suffix, events(T0 + 10))
    assert (r.status_code, r.json()["error"]) == (403, "the consent token is not valid for this session")


def test_a_recording_made_without_consent_cannot_be_granted_afterwards(env) -> None:
    from replayvault.compliance.metrics import Period, consent
    from replayvault.ingest.service import accept_batch
    from replayvault.ingest.validate import IngestRequest

    rt, project, client, headers = env
    sid = str(uuid.uuid4())
    accept_batch(rt, project, IngestRequest(session_id=sid, seq=0, events=events(T0)))  # no receipt at all
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": "granted", "ts": T0 + 3_600_000},
                    headers=headers)
    assert (r.status_code, r.json()["error"]) == (
        409, "this session was recorded without a consent receipt; consent cannot be granted afterwards")
    with rt.sessions() as db:
        m = consent(db, Period())
    assert (m.numerator, m.denominator, m.detail["recorded_without_receipt"]) == (0, 1, 1)


def test_a_withdrawal_stamped_before_the_grant_still_ends_it(env) -> None:
    """The browser clock went back 2 s before the visitor withdrew, then they granted again (a session that
    had stored nothing yet): events between the withdrawal and the new grant are dropped."""
    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    token = _receipt(client, headers, sid, decision="granted", ts=T0)["consent_token"]
    _receipt(client, headers, sid, decision="withdrawn", ts=T0 - 2_000)
    token = _receipt(client, headers, sid, decision="granted", ts=T0 + 60_000)["consent_token"]
    r = _ingest(client, headers, sid, token, events(T0 + 30_000) + events(T0 + 61_000))
    assert r.status_code == 200 and (r.json()["events"], r.json()["dropped"]) == (3, 3)
    assert [e["timestamp"] for e in session_events(rt, sid)] == [T0 + 61_000, T0 + 61_001, T0 + 61_400]


def test_reading_the_ledger_is_audited_and_limited_to_compliance_roles(env) -> None:
    from staff import add_staff

    rt, _project, client, headers = env
    sid = str(uuid.uuid4())
    _receipt(client, headers, sid, decision="granted", ts=T0)
    lead, ux = add_staff(rt, "lead", ["compliance_lead"]), add_staff(rt, "ux", ["ux_analyst"])
    r = client.get("/api/v1/compliance/consent-receipts", params={"session": sid}, headers=lead.headers)
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["receipts"][0]["session_id"] == sid
    assert client.get("/api/v1/compliance/consent-receipts", headers=ux.headers).status_code == 403
    assert client.get("/api/v1/compliance/consent-receipts", headers=headers).status_code == 401  # the write key
    reads = [e for e in audit_rows(rt) if e["action"] == "consent.ledger_read"]
    assert len(reads) == 1 and reads[0]["actor"] == f"user:{lead.user_id}"
    assert reads[0]["details"] == {"period": {"from_ms": None, "to_ms": None, "project": None}, "session": sid,
                                   "returned": 1}
