"""Purpose-bound reading: role x purpose, justification masking, training, grants, audit-before-read, denials."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, update
from sqlalchemy.exc import OperationalError

from govkit import HREF, audit_rows, audit_text, days_ago, ingest, last_idx, staff, world  # noqa: F401  (world is a fixture)

from replayvault.db.models import AccessGrant, TrainingAttestation
from replayvault.governance import accounts
from replayvault.governance.permissions import PURPOSE_ROLES, Purpose, Role
from replayvault.recordings import session_events

NO_READ = {Role.ADMIN, Role.HR_LIAISON}  # roles without recordings:read: refused by the route rule


def _declare(world, who, purpose="compliance_audit", why="CASE-1", sid=None):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/v1/sessions/{sid or world.sid}/access",
                              json={"purpose": purpose, "justification": why}, headers=who.headers)


def _events(world, who, grant, sid=None):  # type: ignore[no-untyped-def]
    params = {"grant": grant} if grant else {}
    return world.client.get(f"/api/v1/sessions/{sid or world.sid}/events", params=params, headers=who.headers)


def _expected(role: Role, purpose: Purpose) -> int:
    if role in NO_READ:
        return 403
    return 200 if role in PURPOSE_ROLES[purpose] else 403


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_role_purpose_matrix(world, role) -> None:
    who = staff(world.rt, "reader", [role.value])
    got, want = {}, {}
    for purpose in Purpose:
        r = _declare(world, who, purpose.value)
        got[purpose.value], want[purpose.value] = r.status_code, _expected(role, purpose)
        if r.status_code == 403:
            needed = ", ".join(sorted(x.value for x in PURPOSE_ROLES[purpose]))
            reason = "recordings:read" if role in NO_READ else f"purpose {purpose.value} needs one of the roles {needed}"
            assert reason in r.json()["error"], r.text
    assert got == want


def test_ux_analyst_may_research_but_not_investigate_fraud(world) -> None:
    ux = staff(world.rt, "ux", ["ux_analyst"])
    ok = _declare(world, ux, "ux_research", "UX-42")
    assert ok.status_code == 200 and ok.json()["purpose"] == "ux_research" and ok.json()["grant"].startswith("g_")
    no = _declare(world, ux, "fraud_investigation", "FR-1")
    assert no.status_code == 403 and "security_specialist" in no.json()["error"]


@pytest.mark.parametrize("body,status", [
    ({"purpose": "compliance_audit"}, 400),                     # no justification
    ({"purpose": "compliance_audit", "justification": ""}, 400),
    ({"purpose": "compliance_audit", "justification": " ab "}, 400),
    ({"purpose": "compliance_audit", "justification": "x" * 201}, 400),
    ({"justification": "CASE-1"}, 400),                         # no purpose
    ({"purpose": "curiosity", "justification": "CASE-1"}, 400),  # unknown purpose
    ({"purpose": "compliance_audit", "justification": "abc"}, 200),
])
def test_purpose_and_justification_are_required(world, body, status) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    r = world.client.post(f"/api/v1/sessions/{world.sid}/access", json=body, headers=lead.headers)
    assert r.status_code == status, r.text


def test_personal_data_in_a_justification_is_masked_in_the_audit_log(world) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    r = _declare(world, lead, why="case 12 jane.doe@example.com DE89370400440532013000")
    assert r.status_code == 200, r.text
    entry = [e for e in audit_rows(world.rt) if e["action"] == "recording.access_declared"][-1]
    assert entry["justification"] == "case 12 [email] [iban]"
    with world.rt.sessions() as db:
        assert db.get(AccessGrant, r.json()["grant"]).justification == "case 12 [email] [iban]"
    dumped = audit_text(world.rt)
    assert "jane.doe@example.com" not in dumped and "DE89370400440532013000" not in dumped


def test_personal_data_in_an_unknown_purpose_is_not_written_to_the_audit_log(world) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    r = _declare(world, lead, purpose="jane.doe@example.com")
    assert r.status_code == 400
    denied = [e for e in audit_rows(world.rt) if e["action"] == "recording.access_declared"]
    assert [e["outcome"] for e in denied] == ["denied"]
    leaked = "jane.doe@example.com" in audit_text(world.rt)
    assert not leaked, f"the audit entry's purpose column holds the raw text {denied[0]['purpose']!r}"


@pytest.mark.parametrize("trained,status,needle", [
    (None, 403, "no compliance-training attestation"),
    (days_ago(400), 403, "older than 365 days"),
    (days_ago(366), 403, "older than 365 days"),
    (days_ago(365), 200, None),
    (days_ago(10), 200, None),
])
def test_training_must_be_current(world, trained, status, needle) -> None:
    ux = staff(world.rt, "ux", ["ux_analyst"], trained=trained)
    r = _declare(world, ux, "ux_research")
    assert r.status_code == status, r.text
    if needle:
        assert needle in r.json()["error"] and "training" in r.json()["error"]


@pytest.mark.parametrize("recorder,date,status", [
    ("hr_liaison", days_ago(3), 200),
    ("ux_analyst", days_ago(3), 403),
    ("hr_liaison", days_ago(-1), 400),   # tomorrow
    ("hr_liaison", "2026/01/02", 400),
])
def test_training_is_recorded_by_hr_and_audited(world, recorder, date, status) -> None:
    ux = staff(world.rt, "ux", ["ux_analyst"], trained=None)
    by = staff(world.rt, "recorder", [recorder], trained=None)
    r = world.client.post("/api/v1/training", json={"user_id": ux.user_id, "course": "GDPR basics", "date": date},
                          headers=by.headers)
    assert r.status_code == status, r.text
    recorded = [e for e in audit_rows(world.rt) if e["action"] == "training.recorded"]
    if status == 200:
        assert r.json() == {"user_id": ux.user_id, "course": "GDPR basics", "date": date}
        assert [(e["actor"], e["resource"], e["details"]) for e in recorded] == [
            (f"user:{by.user_id}", f"user:{ux.user_id}", {"course": "GDPR basics", "date": date})]
        assert _declare(world, ux, "ux_research").status_code == 200
    else:
        assert recorded == []
        assert _declare(world, ux, "ux_research").status_code == 403


def test_events_need_the_callers_own_grant_for_this_session(world) -> None:
    lead, ux = staff(world.rt, "lead", ["compliance_lead"]), staff(world.rt, "ux", ["ux_analyst"])
    other_sid = ingest(world.client, world.write_key)
    ux_grant = _declare(world, ux, "ux_research", "UX-7").json()["grant"]
    lead_other = _declare(world, lead, sid=other_sid).json()["grant"]
    assert _events(world, lead, None).status_code == 403
    assert _events(world, lead, "g_0000000000000000").status_code == 403
    assert _events(world, lead, ux_grant).status_code == 403          # another user's grant
    assert _events(world, lead, lead_other).status_code == 403        # a grant for another session
    own = _declare(world, lead, "compliance_audit", "AUD-9").json()["grant"]
    r = _events(world, lead, own)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == session_events(world.rt, world.sid) and len(r.json()) == 3
    view = audit_rows(world.rt)[-1]  # the view is the last entry: appended before the events were sent
    assert (view["action"], view["actor"], view["purpose"], view["justification"], view["outcome"]) == (
        "recording.view", f"user:{lead.user_id}", "compliance_audit", "AUD-9", "ok")
    assert view["idx"] == last_idx(world.rt) and view["details"]["grant"] == own


@pytest.mark.parametrize("change", ["expired", "training lapsed", "role lost"])
def test_a_grant_stops_working_when_its_conditions_lapse(world, change) -> None:
    ux = staff(world.rt, "ux", ["ux_analyst", "hr_liaison"])
    grant = _declare(world, ux, "ux_research").json()["grant"]
    assert _events(world, ux, grant).status_code == 200
    with world.rt.sessions() as db:
        if change == "expired":
            db.execute(update(AccessGrant).values(expires_ms=int(time.time() * 1000) - 1))
        elif change == "training lapsed":
            db.execute(update(TrainingAttestation).values(completed_on=days_ago(400)))
        else:
            accounts.revoke_role(db, accounts.get_user(db, ux.user_id), "ux_analyst")
        db.commit()
    r = _events(world, ux, grant)
    assert r.status_code == 403 and HREF not in r.text


def test_no_events_leave_when_the_view_cannot_be_audited(world) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    grant = _declare(world, lead).json()["grant"]
    engine = world.rt.sessions.kw["bind"]

    def refuse_view_entries(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "audit_entries" in statement and statement.lstrip().upper().startswith("INSERT") \
                and "recording.view" in repr(parameters):
            raise OperationalError("x", None, Exception())

    event.listen(engine, "before_cursor_execute", refuse_view_entries)
    try:
        r = _events(world, lead, grant)
    finally:
        event.remove(engine, "before_cursor_execute", refuse_view_entries)
    assert r.status_code == 503, r.text[:300]
    assert r.json()["status"] == 503 and "audit log unavailable" in r.json()["error"]
    assert HREF not in r.text and "Download statement" not in r.text
    assert not any(e["action"] == "recording.view" for e in audit_rows(world.rt))
    ok = _events(world, lead, grant)  # the log works again: the same grant reads, and is audited
    assert ok.status_code == 200 and HREF in ok.text
    assert audit_rows(world.rt)[-1]["action"] == "recording.view"


def test_refusals_are_audited_as_denied(world) -> None:
    ux = staff(world.rt, "ux", ["ux_analyst"])
    stale = staff(world.rt, "stale", ["compliance_lead"], trained=days_ago(400))
    admin = staff(world.rt, "root", ["admin"])
    attempts = [
        (lambda: _declare(world, ux, "fraud_investigation"), ux, "recording.access_declared", "fraud_investigation"),
        (lambda: _declare(world, stale), stale, "recording.access_declared", "compliance_audit"),
        (lambda: _events(world, ux, None), ux, "recording.view", None),
        (lambda: _declare(world, admin), admin, "access.denied", None),
    ]
    for call, who, action, purpose in attempts:
        assert call().status_code == 403
        e = audit_rows(world.rt)[-1]
        assert (e["action"], e["actor"], e["outcome"], e["purpose"]) == (action, f"user:{who.user_id}", "denied", purpose)
        assert e["details"]["reason"]


def test_viewers_lists_who_read_with_which_purpose(world) -> None:
    ux, lead = staff(world.rt, "ux", ["ux_analyst"]), staff(world.rt, "lead", ["compliance_lead"])
    assert _events(world, ux, _declare(world, ux, "ux_research", "UX-3").json()["grant"]).status_code == 200
    assert world.client.get(f"/api/v1/sessions/{world.sid}/viewers", headers=ux.headers).status_code == 403
    r = world.client.get(f"/api/v1/sessions/{world.sid}/viewers", headers=lead.headers)
    assert r.status_code == 200
    got = [(v["action"], v["username"], v["actor"], v["purpose"], v["justification"], v["outcome"]) for v in r.json()]
    assert got == [("recording.view", "ux", f"user:{ux.user_id}", "ux_research", "UX-3", "ok"),
                   ("recording.access_declared", "ux", f"user:{ux.user_id}", "ux_research", "UX-3", "ok")]
