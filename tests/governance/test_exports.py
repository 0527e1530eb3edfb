"""Four-eyes exports: request, approval by a second privacy officer, one download by the requester, all audited."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from govkit import HREF, audit_rows, days_ago, staff, world  # noqa: F401  (world is a fixture)
from staff import Staff

from replayvault.db.models import ExportRequest
from replayvault.recordings import session_events


@dataclass
class Team:
    sec: Staff
    po1: Staff
    po2: Staff
    ux: Staff


@pytest.fixture
def team(world) -> Team:  # type: ignore[no-untyped-def]
    return Team(staff(world.rt, "sec", ["security_specialist"]), staff(world.rt, "po1", ["privacy_officer"]),
                staff(world.rt, "po2", ["privacy_officer"]), staff(world.rt, "ux", ["ux_analyst"]))


def _request(world, who, purpose="fraud_investigation", why="FR-2024-7"):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/v1/sessions/{world.sid}/exports", json={"purpose": purpose, "justification": why},
                             headers=who.headers)


def _decide(world, who, export_id, verb="approve"):  # type: ignore[no-untyped-def]
    return world.client.post(f"/api/v1/exports/{export_id}/{verb}", headers=who.headers)


def _download(world, who, export_id, client=None):  # type: ignore[no-untyped-def]
    return (client or world.client).get(f"/api/v1/exports/{export_id}/download", headers=who.headers)


def _status(world, export_id) -> str:  # type: ignore[no-untyped-def]
    with world.rt.sessions() as db:
        return db.get(ExportRequest, export_id).status


def test_four_eyes_export_from_request_to_single_download(world, team) -> None:
    r = _request(world, team.sec)
    assert r.status_code == 200, r.text
    xid = r.json()["id"]
    assert r.json() == {"id": xid, "status": "pending", "session_id": world.sid}

    own = _decide(world, team.sec, xid)  # the requester lacks exports:approve: refused by the route rule
    assert own.status_code == 403 and "exports:approve" in own.json()["error"]
    assert _download(world, team.sec, xid).status_code == 403  # still pending
    assert _status(world, xid) == "pending"

    ok = _decide(world, team.po1, xid)
    assert ok.status_code == 200 and ok.json() == {"id": xid, "status": "approved"}
    again = _decide(world, team.po2, xid)
    assert again.status_code == 403 and "already approved" in again.json()["error"]

    assert _download(world, team.po2, xid).status_code == 404  # not the requester
    got = _download(world, team.sec, xid)
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == f'attachment; filename="replayvault-{xid}.json"'
    assert got.headers["cache-control"] == "no-store"
    body = got.json()
    assert body["events"] == session_events(world.rt, world.sid) and HREF in got.text
    assert body["session"]["id"] == world.sid
    assert {k: body["export"][k] for k in ("id", "purpose", "justification", "requested_by", "approved_by")} == {
        "id": xid, "purpose": "fraud_investigation", "justification": "FR-2024-7",
        "requested_by": f"user:{team.sec.user_id}", "approved_by": f"user:{team.po1.user_id}"}

    second = _download(world, team.sec, xid)
    assert second.status_code == 403 and "downloaded" in second.json()["error"] and HREF not in second.text
    assert _status(world, xid) == "downloaded"

    steps = [(e["action"], e["actor"], e["outcome"], e["purpose"], e["details"]) for e in audit_rows(world.rt)
             if e["action"].startswith("recording.export") and e["outcome"] == "ok"]
    assert steps == [
        ("recording.export_requested", f"user:{team.sec.user_id}", "ok", "fraud_investigation", {"export": xid}),
        ("recording.export_decided", f"user:{team.po1.user_id}", "ok", "fraud_investigation",
         {"export": xid, "decision": "approved", "requested_by": f"user:{team.sec.user_id}"}),
        ("recording.exported", f"user:{team.sec.user_id}", "ok", "fraud_investigation",
         {"export": xid, "approved_by": f"user:{team.po1.user_id}"}),
    ]
    assert all(e["resource"] == f"session:{world.sid}" for e in audit_rows(world.rt)
               if e["action"] in ("recording.export_requested", "recording.exported") and e["outcome"] == "ok")
    # The refused downloads (while pending, by another user, the second one) are in the log too.
    assert [(e["actor"], e["resource"]) for e in audit_rows(world.rt)
            if e["action"] == "recording.exported" and e["outcome"] == "denied"] == [
        (f"user:{team.sec.user_id}", f"export:{xid}"), (f"user:{team.po2.user_id}", f"export:{xid}"),
        (f"user:{team.sec.user_id}", f"export:{xid}")]


def test_a_privacy_officer_cannot_approve_their_own_request(world, team) -> None:
    xid = _request(world, team.po1, "dsar", "DSAR-311").json()["id"]
    own = _decide(world, team.po1, xid)
    assert own.status_code == 403 and "four-eyes" in own.json()["error"]
    assert _status(world, xid) == "pending"
    denied = audit_rows(world.rt)[-1]
    assert (denied["action"], denied["actor"], denied["outcome"], denied["resource"]) == (
        "recording.export_decided", f"user:{team.po1.user_id}", "denied", f"export:{xid}")
    assert _decide(world, team.po2, xid).json()["status"] == "approved"
    assert _download(world, team.po1, xid).status_code == 200


def test_a_rejected_request_cannot_be_downloaded_or_approved_later(world, team) -> None:
    xid = _request(world, team.sec).json()["id"]
    r = _decide(world, team.po1, xid, "reject")
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    dl = _download(world, team.sec, xid)
    assert dl.status_code == 403 and "rejected" in dl.json()["error"] and HREF not in dl.text
    assert _decide(world, team.po2, xid).status_code == 403
    assert _status(world, xid) == "rejected"
    decided = [e["details"]["decision"] for e in audit_rows(world.rt) if e["action"] == "recording.export_decided"
               and e["outcome"] == "ok"]
    assert decided == ["rejected"]
    assert not any(e["action"] == "recording.exported" and e["outcome"] == "ok" for e in audit_rows(world.rt))


def test_refused_downloads_are_audited_as_denied(world, team) -> None:
    """reading.py: "Refusals are audited too (outcome=denied)" -- also for downloads."""
    xid = _request(world, team.sec).json()["id"]
    assert _download(world, team.sec, xid).status_code == 403   # pending
    assert _download(world, team.po2, xid).status_code == 404   # not the requester
    denied = [(e["actor"], e["outcome"]) for e in audit_rows(world.rt) if e["action"] == "recording.exported"]
    assert denied == [(f"user:{team.sec.user_id}", "denied"), (f"user:{team.po2.user_id}", "denied")]


@pytest.mark.parametrize("who,purpose,trained,status", [
    ("sec", "fraud_investigation", "today", 200),
    ("sec", "dsar", "today", 403),                      # security_specialist may not use dsar
    ("po1", "dsar", "today", 200),
    ("po1", "ux_research", "today", 403),
    ("ux", "ux_research", "today", 403),                # ux_analyst lacks exports:request
    ("sec", "fraud_investigation", "stale", 403),       # training older than 365 days
    ("sec", "fraud_investigation", None, 403),          # no training
    ("sec", "", "today", 400),
])
def test_who_may_request_an_export(world, who, purpose, trained, status) -> None:
    roles = {"sec": ["security_specialist"], "po1": ["privacy_officer"], "ux": ["ux_analyst"]}[who]
    person = staff(world.rt, who, roles, trained=days_ago(400) if trained == "stale" else trained)
    r = _request(world, person, purpose)
    assert r.status_code == status, r.text
    requested = [e["outcome"] for e in audit_rows(world.rt) if e["action"] == "recording.export_requested"]
    assert requested == (["ok"] if status == 200 else [] if who == "ux" else ["denied"])


def test_export_lists_show_own_requests_and_all_to_privacy_officers(world, team) -> None:
    mine = _request(world, team.sec).json()["id"]
    theirs = _request(world, team.po1, "dsar", "DSAR-1").json()["id"]
    sec_view = world.client.get("/api/v1/exports", headers=team.sec.headers).json()
    po_view = world.client.get("/api/v1/exports", headers=team.po2.headers).json()
    assert [x["id"] for x in sec_view] == [mine]
    assert sorted(x["id"] for x in po_view) == sorted([mine, theirs])
    assert {x["id"]: x["requested_by"] for x in po_view} == {mine: "sec", theirs: "po1"}


def test_no_export_leaves_when_the_download_cannot_be_audited(world, team) -> None:
    xid = _request(world, team.sec).json()["id"]
    _decide(world, team.po1, xid)
    engine = world.rt.sessions.kw["bind"]

    def refuse(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT") and "audit_entries" in statement \
                and "recording.exported" in repr(parameters):
            raise OperationalError("x", None, Exception())

    client = TestClient(world.client.app, raise_server_exceptions=False)
    event.listen(engine, "before_cursor_execute", refuse)
    try:
        r = _download(world, team.sec, xid, client)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert HREF not in r.text and "Download statement" not in r.text
    assert _status(world, xid) == "approved"  # the one download is not used up
    assert r.status_code == 503, f"{r.status_code} {r.text[:200]}"
    assert r.json()["error"].startswith("audit log unavailable")
    assert _download(world, team.sec, xid).status_code == 200
