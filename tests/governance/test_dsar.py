"""Data subject requests: linking by identify(id), export zip contents, erasure (crypto-shred, facts,
tombstone), legal holds during erasure, due dates, audit entries, bad input, permissions, CLI."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from consentkit import post_batch
from govkit import ORIGIN, World, audit_rows, audit_text, csrf_of, login, world  # noqa: F401  (fixture)
from retention_kit import (DAY_MS, NOW, OLD_URL, clock, copy_chunks, database_bytes, opens, page_events,  # noqa: F401
                           record, stored_data_keys)
from staff import add_staff, read_events

from replayvault.db.models import DsarRequest, ErasureTombstone, RecordingSession
from replayvault.governance.dsar import list_requests, open_request
from replayvault.governance.permissions import Role
from replayvault.governance.retention import place_hold

SUBJECT = "cust-4242"
S1, S2, S_OLD, S_OTHER = "dsar-session-1", "dsar-session-2", "dsar-session-old", "other-subject-1"


def _digest(rt, subject: str = SUBJECT) -> str:  # type: ignore[no-untyped-def]
    return hmac.new(rt.keys.kek("_subjects"), subject.encode(), hashlib.sha256).hexdigest()


@pytest.fixture
def subject_world(clock, world: World):  # type: ignore[no-untyped-def]
    """Two live sessions of SUBJECT (5 and 2 days old), one of SUBJECT past its period, one of someone else."""
    record(world.client, world.write_key, S1, clock, age_days=5, subject=SUBJECT)
    record(world.client, world.write_key, S2, clock, age_days=2, subject=SUBJECT, href=OLD_URL)
    record(world.client, world.write_key, S_OLD, clock, age_days=31, subject=SUBJECT)
    record(world.client, world.write_key, S_OTHER, clock, age_days=1, subject="cust-9999")
    return world


def test_sessions_are_linked_by_a_keyed_digest_never_the_id(subject_world: World) -> None:
    rt = subject_world.rt
    with rt.sessions() as db:
        links = dict(db.execute(select(RecordingSession.id, RecordingSession.subject_digest)).all())
    assert links == {subject_world.sid: None, S1: _digest(rt), S2: _digest(rt), S_OLD: _digest(rt),
                     S_OTHER: _digest(rt, "cust-9999")}
    assert _digest(rt) != hashlib.sha256(SUBJECT.encode()).hexdigest()  # keyed: not a plain hash of the id
    assert SUBJECT.encode() not in database_bytes(rt)
    # a session belongs to one data subject
    r = post_batch(subject_world.client, {"session_id": S1, "seq": 1, "subject": "cust-1111",
                                          "events": page_events(OLD_URL)},
                   {"X-Replayvault-Key": subject_world.write_key, "Origin": ORIGIN})
    assert (r.status_code, r.json()["error"]) == (400, "'subject' differs from the data subject this session is "
                                                       "linked to; another subject needs a new session")


def test_export_zip_holds_exactly_the_subjects_live_sessions(subject_world: World) -> None:
    w, rt = subject_world, subject_world.rt
    po = add_staff(rt, "olga", ["privacy_officer"])
    api_events = {sid: read_events(w.client, po, sid).json() for sid in (S1, S2)}  # what the replay API serves
    r = w.client.post("/api/v1/dsar/requests", json={"kind": "export", "subject": SUBJECT}, headers=po.headers)
    assert r.status_code == 200
    req = r.json()
    assert (req["kind"], req["status"], req["subject_digest"], req["due_ms"] - req["created_ms"], req["days_left"]) == (
        "export", "open", _digest(rt), 30 * DAY_MS, 30)
    first = len(audit_rows(rt))

    r = w.client.post(f"/api/v1/dsar/requests/{req['id']}/export", headers=po.headers)

    assert (r.status_code, r.headers["content-type"]) == (200, "application/zip")
    assert r.headers["content-disposition"] == f'attachment; filename="replayvault-{req["id"]}.zip"'
    z = zipfile.ZipFile(io.BytesIO(r.content))
    assert z.namelist() == ["manifest.json", f"sessions/{S1}/metadata.json", f"sessions/{S1}/events.json",
                            f"sessions/{S2}/metadata.json", f"sessions/{S2}/events.json", "consent_receipts.json",
                            "audit_entries.json"]
    read = lambda name: json.loads(z.read(name))  # noqa: E731
    manifest = read("manifest.json")
    assert (manifest["request"], manifest["sessions"], manifest["subject_digest"], manifest["files"]) == (
        req["id"], [S1, S2], _digest(rt), z.namelist())
    for sid in (S1, S2):
        assert read(f"sessions/{sid}/events.json") == api_events[sid]
        meta = read(f"sessions/{sid}/metadata.json")
        api_meta = w.client.get(f"/api/v1/sessions/{sid}", headers=po.headers).json()
        assert {k: meta[k] for k in api_meta} == api_meta
        assert meta["consent"] == "granted" and meta["retention"]["legal_hold"] is False
    assert read(f"sessions/{S1}/metadata.json")["retention"] == {
        "days": 30, "category": None, "expires_ms": NOW - 5 * DAY_MS + 30 * DAY_MS, "legal_hold": False}
    receipts = read("consent_receipts.json")
    # the grant each session's first batch came with (consentkit: method banner, browser time 0), oldest first
    assert [(c["session_id"], c["decision"], c["method"], c["client_ms"]) for c in receipts] == [
        (S1, "granted", "banner", 0), (S2, "granted", "banner", 0)]
    assert any(n.startswith("consent_receipts.json holds every consent receipt of these sessions")
               for n in manifest["notes"])
    entries = read("audit_entries.json")
    # per session: its consent receipt and ingest, the purpose declared and the view above; oldest first
    assert [(e["action"], e["resource"]) for e in entries] == [
        ("consent.receipt", f"session:{S1}"), ("chunk.ingested", f"session:{S1}"),
        ("consent.receipt", f"session:{S2}"), ("chunk.ingested", f"session:{S2}"),
        ("recording.access_declared", f"session:{S1}"), ("recording.view", f"session:{S1}"),
        ("recording.access_declared", f"session:{S2}"), ("recording.view", f"session:{S2}")]
    assert [(e["details"]["receipt"], e["details"]["sha256"]) for e in entries if e["action"] == "consent.receipt"] == [
        (c["id"], c["sha256"]) for c in receipts]
    new = audit_rows(rt)[first:]
    assert [(e["action"], e["resource"], e["purpose"], e["justification"]) for e in new] == [
        ("dsar.export", f"dsar:{req['id']}", "dsar", f"DSAR {req['id']}")]
    assert new[0]["details"] == {"subject_digest": _digest(rt), "sessions": [S1, S2]}
    done = w.client.get("/api/v1/dsar/requests", headers=po.headers).json()
    assert [(d["id"], d["status"], d["sessions"]) for d in done] == [(req["id"], "completed", 2)]
    r = w.client.post(f"/api/v1/dsar/requests/{req['id']}/export", headers=po.headers)
    assert (r.status_code, r.json()["error"]) == (400, f"request {req['id']} was already completed")
    assert SUBJECT not in audit_text(rt)


def test_erasure_shreds_everything_but_held_sessions_and_leaves_a_tombstone(subject_world: World, tmp_path) -> None:
    w, rt = subject_world, subject_world.rt
    cl = add_staff(rt, "carl", ["compliance_lead"])
    place_hold(rt, S2, "Case 2026-7", "cli")
    copies = {sid: copy_chunks(rt, sid, tmp_path / sid) for sid in (S1, S2, S_OLD)}
    req = w.client.post("/api/v1/dsar/requests", json={"kind": "erasure", "subject": SUBJECT},
                        headers=cl.headers).json()
    r = w.client.post(f"/api/v1/dsar/requests/{req['id']}/erasure", json={}, headers=cl.headers)
    assert (r.status_code, r.json()["error"]) == (400, 'confirm the erasure with {"confirm": true}: it cannot be undone')
    first = len(audit_rows(rt))

    r = w.client.post(f"/api/v1/dsar/requests/{req['id']}/erasure", json={"confirm": True}, headers=cl.headers)

    assert r.status_code == 200
    t = r.json()
    new = audit_rows(rt)[first:]
    assert [(e["action"], e["resource"]) for e in new] == [
        ("dsar.session_erased", f"session:{S_OLD}"), ("dsar.session_erased", f"session:{S1}"),  # oldest first
        ("deletion.certificate", f"certificate:{t['certificate']}"), ("dsar.erasure", f"dsar:{req['id']}")]
    assert {k: t[k] for k in ("request", "subject_digest", "sessions", "session_ids", "held_session_ids", "audit_idx")} == {
        "request": req["id"], "subject_digest": _digest(rt), "sessions": 2, "session_ids": [S_OLD, S1],
        "held_session_ids": [S2], "audit_idx": new[3]["idx"]}
    assert new[0]["details"]["reason"] == "erasure" and new[0]["details"]["dsar_request"] == req["id"]
    assert new[3]["details"] == {"subject_digest": _digest(rt), "sessions_erased": [S_OLD, S1],
                                 "kept_under_legal_hold": [S2], "certificate": t["certificate"],
                                 "certificate_sha256": new[2]["details"]["sha256"]}
    with rt.sessions() as db:
        stone = db.scalar(select(ErasureTombstone).where(ErasureTombstone.request_id == req["id"]))
        assert (stone.subject_digest, stone.session_ids, stone.held_session_ids, stone.audit_idx, stone.sessions) == (
            _digest(rt), [S_OLD, S1], [S2], new[3]["idx"], 2)
        assert db.get(DsarRequest, req["id"]).status == "completed"
        rows = {s.id: s for s in db.scalars(select(RecordingSession).where(RecordingSession.id.in_([S1, S2, S_OLD])))}
    # nothing of the erased sessions can be decrypted any more, facts gone; the held one is intact
    keys = stored_data_keys(rt)
    for sid in (S1, S_OLD):
        assert not any(opens(c, sid, k) for c in copies[sid] for k in keys)
        assert (rows[sid].wrapped_dek, rows[sid].subject_digest, rows[sid].chunk_count) == (None, None, 0)
        assert rt.analytics.session(sid) is None and rt.analytics.behaviour_rows("page_views", session_id=sid) == []
    assert any(opens(c, S2, k) for c in copies[S2] for k in keys) and rows[S2].subject_digest == _digest(rt)
    cert = json.loads(w.client.get(f"/api/v1/retention/certificates/{t['certificate']}", headers=cl.headers).text)
    assert (cert["reason"], cert["dsar_request"], [s["session_id"] for s in cert["sessions"]],
            cert["kept_under_legal_hold"]) == ("erasure", req["id"], [S_OLD, S1], [S2])
    ids = [s["id"] for s in w.client.get("/api/v1/sessions", headers=cl.headers).json()]
    assert sorted(ids) == sorted([w.sid, S2, S_OTHER])
    rt.audit.verify()


def test_due_dates_and_overdue_requests(clock, world: World) -> None:
    rt = world.rt
    add_staff(rt, "olga", ["privacy_officer"])
    late = open_request(rt, "export", SUBJECT, "cli", now_ms=NOW - 31 * DAY_MS)
    soon = open_request(rt, "erasure", SUBJECT, "cli", now_ms=NOW - 29 * DAY_MS - DAY_MS // 2)
    rows = {r["id"]: r for r in list_requests(rt)}
    assert (rows[late["id"]]["due_ms"], rows[late["id"]]["overdue"], rows[late["id"]]["days_left"]) == (
        NOW - DAY_MS, True, -1)
    assert (rows[soon["id"]]["overdue"], rows[soon["id"]]["days_left"]) == (False, 1)  # 12 h left: rounded up
    assert [r["id"] for r in list_requests(rt)] == [late["id"], soon["id"]]  # earliest due first
    assert login(world.client, "olga").status_code == 303
    page = world.client.get("/dsar").text
    assert page.count('class="overdue"') == 1 and "overdue by 1 day<" in page and "1 day left" in page


@pytest.mark.parametrize("body,error", [
    ({"kind": "delete", "subject": SUBJECT}, "kind must be 'export' or 'erasure'"),
    ({"kind": "export", "subject": "jane.doe@bank.example"},
     "subject must be the pseudonymous id the site passed to replayvault.identify(): 1-128 letters, digits, '.', "
     "'_', ':' or '-'"),
    ({"kind": "export"}, "invalid request parameters: body.subject"),
    ({"kind": "export", "subject": 12}, "invalid request parameters: body.subject"),
])
def test_bad_requests_name_the_problem(world: World, body, error) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"])
    r = world.client.post("/api/v1/dsar/requests", json=body, headers=po.headers)
    assert (r.status_code, r.json()) == (400, {"error": error, "status": 400})
    assert "jane" not in audit_text(world.rt)


def test_requests_are_answered_only_by_their_kind_and_once(world: World) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"])
    erase = open_request(world.rt, "erasure", SUBJECT, "cli")
    r = world.client.post(f"/api/v1/dsar/requests/{erase['id']}/export", headers=po.headers)
    assert (r.status_code, r.json()["error"]) == (400, f"request {erase['id']} is an erasure request, not export")
    r = world.client.post("/api/v1/dsar/requests/d_0000000000000000/export", headers=po.headers)
    assert (r.status_code, r.json()["error"]) == (404, "no such DSAR request")
    r = world.client.post(f"/api/v1/dsar/requests/{'x' * 300}/erasure", json={"confirm": True}, headers=po.headers)
    assert (r.status_code, r.json()["error"]) == (404, "no such DSAR request")


def test_an_export_needs_a_current_training(world: World) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"], trained=None)
    req = open_request(world.rt, "export", SUBJECT, "cli")
    r = world.client.post(f"/api/v1/dsar/requests/{req['id']}/export", headers=po.headers)
    assert (r.status_code, r.json()["error"]) == (
        403, "no compliance-training attestation on record; ask your HR liaison")
    assert "dsar.export" not in [e["action"] for e in audit_rows(world.rt)]


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.PRIVACY_OFFICER, Role.COMPLIANCE_LEAD)],
                         ids=lambda r: r.value)
def test_other_roles_cannot_touch_dsar(world: World, role: Role) -> None:
    s = add_staff(world.rt, f"d-{role.value.replace('_', '-')}", [role.value])
    req = open_request(world.rt, "export", SUBJECT, "cli")
    for method, path, body in (("GET", "/api/v1/dsar/requests", None),
                               ("POST", "/api/v1/dsar/requests", {"kind": "export", "subject": SUBJECT}),
                               ("POST", f"/api/v1/dsar/requests/{req['id']}/export", None),
                               ("POST", f"/api/v1/dsar/requests/{req['id']}/erasure", {"confirm": True})):
        r = world.client.request(method, path, json=body, headers=s.headers)
        assert (r.status_code, r.json()["error"]) == (403, "your roles do not grant dsar:manage"), path


def test_dashboard_registers_and_answers_requests(subject_world: World) -> None:
    w = subject_world
    add_staff(w.rt, "olga", ["privacy_officer"])
    assert login(w.client, "olga").status_code == 303
    csrf = csrf_of(w.client)
    r = w.client.post("/dsar/requests", data={"kind": "export", "subject": "not an id", "csrf_token": csrf})
    assert r.status_code == 400 and "subject must be the pseudonymous id" in r.text and "not an id" not in r.text
    for kind in ("export", "erasure"):
        r = w.client.post("/dsar/requests", data={"kind": kind, "subject": SUBJECT, "csrf_token": csrf},
                          follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/dsar")
    rows = {r["kind"]: r["id"] for r in list_requests(w.rt)}
    r = w.client.post(f"/dsar/requests/{rows['export']}/export", data={"csrf_token": csrf})
    assert r.headers["content-type"] == "application/zip"
    assert json.loads(zipfile.ZipFile(io.BytesIO(r.content)).read("manifest.json"))["sessions"] == [S1, S2]
    r = w.client.post(f"/dsar/requests/{rows['erasure']}/erasure", data={"csrf_token": csrf})
    assert r.status_code == 400 and "tick the confirmation box" in r.text
    r = w.client.post(f"/dsar/requests/{rows['erasure']}/erasure", data={"confirm": "yes", "csrf_token": csrf})
    assert r.status_code == 200 and "3 sessions erased; certificate c_" in r.text
    assert SUBJECT not in r.text


def test_cli_dsar(clock, subject_world: World, monkeypatch, tmp_path) -> None:
    from replayvault.cli import app

    w = subject_world
    monkeypatch.setenv("REPLAYVAULT_HOME", str(w.rt.settings.home))
    runner = CliRunner()
    out = tmp_path / "export.zip"
    r = runner.invoke(app, ["dsar", "export", "-", "-o", str(out)], input=SUBJECT + "\n")
    assert r.exit_code == 0 and "2 sessions" in r.output and SUBJECT not in r.output
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["sessions"] == [S1, S2]
    r = runner.invoke(app, ["dsar", "erase", SUBJECT])
    assert (r.exit_code, "add --yes to confirm" in r.output) == (2, True)
    r = runner.invoke(app, ["dsar", "erase", "bad id!", "--yes"])
    assert r.exit_code == 2 and "subject must be the pseudonymous id" in r.output
    clock.now += 60_000  # the erasure is received a minute after the export
    r = runner.invoke(app, ["dsar", "erase", SUBJECT, "--yes"])
    assert r.exit_code == 0 and "3 sessions erased, 0 kept under legal hold" in r.output
    r = runner.invoke(app, ["dsar", "list", "--json"])
    rows = [json.loads(line) for line in r.output.splitlines()]
    assert [(x["kind"], x["status"], x["sessions"]) for x in rows] == [("erasure", "completed", 3),
                                                                        ("export", "completed", 2)]
    # export: requested, export; erasure: requested, 3 × session_erased, erasure
    assert [e["action"] for e in audit_rows(w.rt) if e["action"].startswith("dsar.") and e["actor"] == "cli"] == [
        "dsar.requested", "dsar.export", "dsar.requested", "dsar.session_erased", "dsar.session_erased",
        "dsar.session_erased", "dsar.erasure"]
