"""The five compliance metrics on a seeded data set; every expected value is worked out by hand below.

The seed (clock NOW = 2026-11-30 00:00 UTC; retention: the built-in 30-day default; ``age`` = days
before NOW the session's first batch or consent call arrived):

====  =======  ====  ====================================================  =========
id    project  age   what                                                  incidents
====  =======  ====  ====================================================  =========
A     p1       1     clean; read by the lead under a grant                 0
B     p1       2     two e-mail addresses in clear; exported (four-eyes)   2
C     p1       3     clean                                                 0
D     p1       40    two e-mails in clear; expired (40 > 30), not swept    2
E     p1       45    clean; expired but under a legal hold                 0
F     p1       1     clean; consent revoked after recording                0
G     p1       1     consent revoked, nothing recorded                     –
H     p1       1     consent granted, nothing recorded                     –
R     p1       1     a grant under Global Privacy Control (a refusal)      –
Q     p1       1     left without deciding (a ``skipped`` receipt)         –
X     p1       1     a batch without a consent token (403, an incident)    –
S     p1       50    two e-mails in clear; crypto-shredded since           2 (audit)
K     p2       1     clean; read by the lead under a grant                 0
====  =======  ====  ====================================================  =========

Every recorded session got its grant receipt (method ``banner``) when its batch arrived.

Audit-only facts: two refusals (a ux_analyst declaring fraud_investigation on A; an untrained lead
declaring on B), one grant row written without its audit entry (a read the log missed), one
``recording.view`` entry citing a grant that does not exist.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

import replayvault.audit.log as audit_log
import replayvault.governance.access as access
import replayvault.governance.consent as consent
import replayvault.governance.accounts as accounts
import replayvault.governance.dsar as dsar
import replayvault.governance.retention as retention
import replayvault.governance.reviews as reviews
import replayvault.governance.shredding as shredding
import replayvault.ingest.service as service
from replayvault.compliance import metrics as M
from replayvault.db.models import AccessGrant
from replayvault.governance.shredding import shred_session
from replayvault.projects_setup import ensure_project
from replayvault.web.app import create_app
from consentkit import post_batch
from staff import add_staff, grant

DAY_MS = 86_400_000
NOW = 1_795_996_800_000  # 2026-11-30 00:00:00 UTC


class Clock:
    def __init__(self) -> None:
        self.ms = NOW

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def clock(monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    c = Clock()
    for mod, name in ((service, "_now_ms"), (retention, "_now"), (shredding, "_now"), (access, "_now"),
                      (accounts, "_now"), (reviews, "_now"), (dsar, "_now"), (consent, "_now")):
        monkeypatch.setattr(mod, name, c)
    monkeypatch.setattr(audit_log, "time", SimpleNamespace(time=lambda: c.ms / 1000))
    return c


def _events(leak: bool) -> list[dict]:
    text = "mail jane@example.com or joe@example.com" if leak else "Download statement"
    node = {"type": 0, "id": 1, "childNodes": [{"type": 2, "id": 2, "tagName": "html", "attributes": {}, "childNodes": [
        {"type": 2, "id": 3, "tagName": "body", "attributes": {}, "childNodes": [
            {"type": 2, "id": 4, "tagName": "p", "attributes": {}, "childNodes": [
                {"type": 3, "id": 5, "textContent": text}]}]}]}]}
    ts = 1_700_000_000_000
    return [{"type": 4, "data": {"href": "https://bank.example/a", "width": 1280, "height": 800}, "timestamp": ts},
            {"type": 2, "data": {"node": node, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1}]


def _at(clock: Clock, age_days: float):  # type: ignore[no-untyped-def]
    clock.ms = NOW - int(age_days * DAY_MS)


def _ingest(client: TestClient, key: str, clock: Clock, age: float, leak: bool = False) -> str:
    sid = str(uuid.uuid4())
    _at(clock, age)
    r = post_batch(client, {"session_id": sid, "seq": 0, "events": _events(leak)}, {"X-Replayvault-Key": key})
    clock.ms = NOW
    assert r.status_code == 200, r.text
    return sid


def _consent(client: TestClient, key: str, clock: Clock, sid: str, decision: str, age: float = 1,
             expect: str | None = None, **fields) -> None:  # type: ignore[no-untyped-def]
    """A consent receipt sent ``age`` days before NOW (browser time then: after every seeded event)."""
    _at(clock, age)
    clock.ms += 1000  # after that day's batches (whose grants arrive at the same ms)
    r = client.post("/api/v1/consent", json={"session_id": sid, "decision": decision, "ts": clock.ms, **fields},
                    headers={"X-Replayvault-Key": key})
    clock.ms = NOW
    assert r.status_code == 200, r.text
    assert r.json()["decision"] == (expect or decision)


@pytest.fixture
def seeded(rt, clock):  # type: ignore[no-untyped-def]
    p1 = ensure_project(rt, "p1", "P1", [])
    p2 = ensure_project(rt, "p2", "P2", [])
    client = TestClient(create_app(rt))
    k1, k2 = p1.write_key, p2.write_key
    ids = {"A": _ingest(client, k1, clock, 1), "B": _ingest(client, k1, clock, 2, leak=True),
           "C": _ingest(client, k1, clock, 3), "D": _ingest(client, k1, clock, 40, leak=True),
           "F": _ingest(client, k1, clock, 1), "S": _ingest(client, k1, clock, 50, leak=True),
           "K": _ingest(client, k2, clock, 1)}
    # E: recorded 45 days ago and put under a legal hold while it was live
    ids["E"] = _ingest(client, k1, clock, 45)
    _at(clock, 45)
    retention.place_hold(rt, ids["E"], "CASE-7 litigation", "user:test")
    clock.ms = NOW
    _consent(client, k1, clock, ids["F"], "withdrawn")
    ids["G"], ids["H"] = str(uuid.uuid4()), str(uuid.uuid4())
    _consent(client, k1, clock, ids["G"], "withdrawn")
    _consent(client, k1, clock, ids["H"], "granted")
    ids["R"], ids["Q"], ids["X"] = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    _consent(client, k1, clock, ids["R"], "granted", gpc=True, expect="refused")
    _consent(client, k1, clock, ids["Q"], "skipped")
    _at(clock, 1)
    r = client.post("/api/v1/ingest", json={"session_id": ids["X"], "seq": 0, "events": _events(False)},
                    headers={"X-Replayvault-Key": k1})
    clock.ms = NOW
    assert r.status_code == 403
    assert shred_session(rt, ids["S"], action="retention.deleted", actor="test", reason="retention") is not None

    lead = add_staff(rt, "lead", ["compliance_lead"])
    dpo = add_staff(rt, "dpo", ["privacy_officer"])
    ux = add_staff(rt, "ux", ["ux_analyst"])
    lazy = add_staff(rt, "lazy", ["compliance_lead"], trained=None)
    add_staff(rt, "hr", ["hr_liaison"], trained=None)  # cannot read recordings: not counted as staff to train
    # reads: grants on A and K (A also viewed), an export of B downloaded
    g = grant(client, lead, ids["A"])
    assert client.get(f"/api/v1/sessions/{ids['A']}/events", params={"grant": g}, headers=lead.headers).status_code == 200
    grant(client, lead, ids["K"])
    x = client.post(f"/api/v1/sessions/{ids['B']}/exports", json={"purpose": "compliance_audit", "justification": "CASE-2"},
                    headers=lead.headers).json()["id"]
    assert client.post(f"/api/v1/exports/{x}/approve", headers=dpo.headers).status_code == 200
    assert client.get(f"/api/v1/exports/{x}/download", headers=lead.headers).status_code == 200
    # two refusals (access-policy incidents)
    assert client.post(f"/api/v1/sessions/{ids['A']}/access", json={"purpose": "fraud_investigation",
                       "justification": "CASE-3"}, headers=ux.headers).status_code == 403
    assert client.post(f"/api/v1/sessions/{ids['B']}/access", json={"purpose": "compliance_audit",
                       "justification": "CASE-4"}, headers=lazy.headers).status_code == 403
    # a read the log missed, and a view entry citing no grant
    with rt.sessions() as db:
        db.add(AccessGrant(id="g_missing", user_id=lead.user_id, session_id=ids["C"], purpose="compliance_audit",
                           justification="CASE-5", created_ms=NOW, expires_ms=NOW + 3_600_000))
        db.commit()
    bogus = rt.audit.record(actor=f"user:{lead.user_id}", action="recording.view", resource=f"session:{ids['C']}",
                            purpose="compliance_audit", details={"grant": "g_bogus"})
    return SimpleNamespace(rt=rt, client=client, ids=ids, lead=lead, bogus=bogus.idx, x=x, ux=ux)


def _by_name(rt, period=None) -> dict[str, M.Metric]:  # type: ignore[no-untyped-def]
    return {m.name: m for m in M.compute_metrics(rt, period, NOW)}


def test_data_capture_rate(seeded) -> None:
    ids = seeded.ids
    m = _by_name(seeded.rt)["data_capture"]
    # recorded: A B C D E F K S = 8; with incidents: B, D, S (S's 2 come from its chunk.ingested entry) = 3
    # rate = (8 - 3) / 8 = 0.625
    assert (m.numerator, m.denominator, m.value) == (5, 8, 0.625)
    assert m.detail["incidents"] == 6 and m.detail["shredded_sessions"] == 1
    assert set(m.links["sessions_with_incidents"]["ids"]) == {ids["B"], ids["D"], ids["S"]}
    # project p1: A B C D E F S = 7, clean A C E F = 4
    p1 = _by_name(seeded.rt, M.Period(project="p1"))["data_capture"]
    assert (p1.numerator, p1.denominator) == (4, 7)
    # last 10 days (from 2026-11-20): recorded A B C F K = 5, B leaky -> 4/5
    recent = _by_name(seeded.rt, M.parse_period("2026-11-20", None))["data_capture"]
    assert (recent.numerator, recent.denominator, recent.value) == (4, 5, 0.8)


def test_consent_rate(seeded) -> None:
    ids = seeded.ids
    m = _by_name(seeded.rt)["consent"]
    # the tracker ran (a receipt): A B C D E F G H K S R Q = 12 (X sent a batch but no receipt: not counted;
    # no recorded session lacks a receipt). Recorded under a grant receipt: A B C D E F K S = 8 (F withdrew
    # after recording: the recording stays lawful, GDPR Art. 7(3)).
    assert (m.numerator, m.denominator, m.value) == (8, 12, 8 / 12)
    assert m.detail == {"recorded_with_consent": 8, "refusals": 1, "refusals_gpc": 1, "refusals_dnt": 0,
                        "refusals_tcf": 0, "skipped": 1, "refused_then_granted": 0, "withdrawn_after_recording": 1,
                        "withdrawn_before_recording": 1, "granted_not_recorded": 1, "recorded_without_receipt": 0,
                        "imported": 0, "by_method": {"banner": 11}}  # Q's only receipt is "skipped": no decision
    assert m.links["withdrawn_after_recording"]["ids"] == [ids["F"]]
    assert (m.links["refusals"], m.links["skipped"]) == ({"kind": "receipt", "total": 1, "ids": [ids["R"]]},
                                                       {"kind": "receipt", "total": 1, "ids": [ids["Q"]]})
    assert sorted(m.links["recorded_with_consent"]["ids"]) == sorted(ids[k] for k in "ABCDEFKS")
    # last 10 days: first receipts of A B C F G H K R Q = 9; recorded with consent A B C F K = 5
    recent = _by_name(seeded.rt, M.parse_period("2026-11-20", "2026-11-30"))["consent"]
    assert (recent.numerator, recent.denominator) == (5, 9)


def test_access_log_completeness(seeded) -> None:
    m = _by_name(seeded.rt)["access_log"]
    # reads: grants on A, K (logged) and g_missing (not logged) + 1 export download (logged) = 4; matched 3
    assert (m.numerator, m.denominator, m.value) == (3, 4, 0.75)
    assert m.links["missing"]["ids"] == ["grant:g_missing"]
    # views: the real view of A and the bogus one; the bogus one cites no grant
    assert (m.detail["views_logged"], m.detail["views_without_grant"]) == (2, 1)
    assert m.links["views_without_grant"]["ids"] == [seeded.bogus]
    assert m.detail["audit"]["ok"] is True and m.detail["audit"]["checkpoint_size"] is None
    # p2: only the grant on K -> 1/1
    p2 = _by_name(seeded.rt, M.Period(project="p2"))["access_log"]
    assert (p2.numerator, p2.denominator, p2.value) == (1, 1, 1.0)


def test_incident_rate(seeded) -> None:
    m = _by_name(seeded.rt)["incident_rate"]
    # 8 recorded sessions; masking 2 + 2 + 2 = 6 -> 750 per 1,000; access refusals 2 -> 250; X's batch without
    # a token: 1 consent incident (its 2 events) -> 125; total 9 -> 1,125
    assert m.detail["counts"] == {"masking": 6, "scope": 0, "consent": 1, "access_policy": 2}
    assert m.detail["per_1000"] == {"masking": 750.0, "scope": 0.0, "consent": 125.0, "access_policy": 250.0}
    assert (m.detail["reasons"], m.detail["events_dropped"]) == ({"scope": {}, "consent": {"no_token": 1}},
                                                                 {"scope": 0, "consent": 2})
    assert (m.numerator, m.denominator, m.value) == (9, 8, 1125.0)
    assert m.links["access_policy"]["total"] == 2
    assert m.links["consent"] == {"kind": "session", "total": 1, "ids": [seeded.ids["X"]]}
    # p2: 1 recorded session (K), no masking incident, no refusal about K -> 0 per 1,000
    assert _by_name(seeded.rt, M.Period(project="p2"))["incident_rate"].value == 0.0


def test_retention_compliance(seeded) -> None:
    ids = seeded.ids
    m = _by_name(seeded.rt)["retention"]
    # stored (not shredded, with data): A B C D E F K = 7; D expired 10 days ago without a hold;
    # E expired 15 days ago but is held -> inside: 6 of 7
    assert (m.numerator, m.denominator) == (6, 7)
    assert m.value == pytest.approx(6 / 7)
    assert m.detail["expired_but_present"] == 1 and m.links["expired_but_present"]["ids"] == [ids["D"]]
    assert m.links["held_past_expiry"]["ids"] == [ids["E"]]
    # after the sweep D is shredded: 6/6 and nothing expired is present
    shredding.sweep(seeded.rt, actor="test")
    after = _by_name(seeded.rt)["retention"]
    assert (after.numerator, after.denominator, after.detail["expired_but_present"]) == (6, 6, 0)
    # the sweep does not improve capture compliance: D's incidents now come from the audit log
    assert _by_name(seeded.rt)["data_capture"].value == 0.625


def test_empty_installation_has_no_values(rt) -> None:
    found = M.compute_metrics(rt, None, NOW)
    assert [m.name for m in found] == list(M.METRICS)
    assert all(m.value is None and m.denominator == 0 for m in found)


def test_periods_parse_and_reject() -> None:
    p = M.parse_period("2026-11-29", "2026-11-29", "p1")
    assert (p.from_ms, p.to_ms, p.project) == (NOW - DAY_MS, NOW, "p1")
    assert M.parse_period(str(NOW), None).from_ms == NOW
    with pytest.raises(Exception, match="YYYY-MM-DD"):
        M.parse_period("yesterday", None)
    with pytest.raises(Exception, match="after"):
        M.parse_period("2026-11-30", "2026-11-01")


def test_api_metrics_and_links(seeded) -> None:
    c, lead = seeded.client, seeded.lead
    r = c.get("/api/v1/compliance/metrics", params={"project": "p1"}, headers=lead.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == {"from_ms": None, "to_ms": None, "project": "p1"}
    got = {m["name"]: m for m in body["metrics"]}
    assert list(got) == list(M.METRICS)
    assert (got["data_capture"]["numerator"], got["data_capture"]["denominator"]) == (4, 7)
    assert (got["consent"]["numerator"], got["consent"]["denominator"]) == (7, 11)  # p1: the 12 but K
    assert c.get("/api/v1/compliance/metrics", params={"from": "nope"}, headers=lead.headers).status_code == 400
    assert c.get("/api/v1/compliance/metrics", headers=seeded.ux.headers).status_code == 403


def test_dashboard_page_links_sessions_and_audit_entries(seeded) -> None:
    from govkit import login

    c = TestClient(create_app(seeded.rt))
    login(c, "lead")
    page = c.get("/compliance")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Data capture compliance rate" in html and "62.5 %" in html and "5 / 8" in html
    assert f'href="/sessions/{seeded.ids["D"]}"' in html
    assert f'href="/audit?before={seeded.bogus + 1}"' in html
    assert 'class="light red"' in html and 'class="light amber"' in html
    assert c.get("/compliance", params={"from": "bad"}).status_code == 400
