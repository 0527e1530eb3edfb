"""Retention over HTTP, the dashboard, the CLI and `serve`'s scheduler: legal-hold permissions and reasons,
bad input, the retention page, status counts, and the sweep at server start."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentkit import post_batch
from govkit import World, audit_rows, csrf_of, login, world  # noqa: F401  (fixture)
from retention_kit import DAY_MS, NOW, OLD_URL, clock, record  # noqa: F401
from staff import add_staff

from replayvault.db.models import LegalHold, RecordingSession
from replayvault.governance.permissions import Role

OLD = "old-session-31d"
HOLDERS = {Role.PRIVACY_OFFICER, Role.COMPLIANCE_LEAD}


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_only_privacy_officers_and_compliance_leads_place_and_release_holds(world: World, role: Role) -> None:
    s = add_staff(world.rt, f"h-{role.value.replace('_', '-')}", [role.value])
    url = f"/api/v1/sessions/{world.sid}/legal-hold"
    placed = world.client.post(url, json={"reason": "Case 2026-114"}, headers=s.headers)
    listed = world.client.get("/api/v1/legal-holds", headers=s.headers)
    released = world.client.post(url + "/release", json={"reason": "Case closed"}, headers=s.headers)
    if role in HOLDERS:
        assert (placed.status_code, listed.status_code, released.status_code) == (200, 200, 200)
        assert [h["session_id"] for h in listed.json()] == [world.sid]
        assert world.client.get("/api/v1/legal-holds", headers=s.headers).json() == []  # active ones only
        [old] = world.client.get("/api/v1/legal-holds", params={"all": "true"}, headers=s.headers).json()
        assert (old["active"], old["reason"], old["release_reason"], old["placed_by"], old["released_by"]) == (
            False, "Case 2026-114", "Case closed", f"user:{s.user_id}", f"user:{s.user_id}")
        actions = [(e["action"], e["justification"], e["actor"]) for e in audit_rows(world.rt)
                   if e["action"].startswith("legal_hold.")]
        assert actions == [("legal_hold.placed", "Case 2026-114", f"user:{s.user_id}"),
                           ("legal_hold.released", "Case closed", f"user:{s.user_id}")]
    else:
        for r, perm in ((placed, "legal_hold:manage"), (listed, "legal_hold:manage"), (released, "legal_hold:manage")):
            assert (r.status_code, r.json()["error"]) == (403, f"your roles do not grant {perm}")
        with world.rt.sessions() as db:
            assert db.query(LegalHold).count() == 0


@pytest.mark.parametrize("body,status,error", [
    ({}, 400, "invalid request parameters: body.reason"),
    ({"reason": ""}, 400, "give a reason of 3-200 characters (case or matter id)"),
    ({"reason": "  ab \u200b "}, 400, "give a reason of 3-200 characters (case or matter id)"),
    ({"reason": "x" * 201}, 400, "reason is longer than 200 characters"),
    ({"reason": 42}, 400, "invalid request parameters: body.reason"),
])
def test_a_hold_needs_a_reason_of_3_to_200_characters(world: World, body, status, error) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"])
    r = world.client.post(f"/api/v1/sessions/{world.sid}/legal-hold", json=body, headers=po.headers)
    assert (r.status_code, r.json()) == (status, {"error": error, "status": status})


def test_hold_errors_name_the_problem_and_never_echo_ids_or_personal_data(world: World) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"])
    post = lambda path, reason: world.client.post(path, json={"reason": reason}, headers=po.headers)  # noqa: E731
    r = post("/api/v1/sessions/jane.doe@bank.example/legal-hold", "Case 1")
    assert (r.status_code, r.json()["error"]) == (404, "no such session")
    r = post(f"/api/v1/sessions/{world.sid}/legal-hold/release", "Case 1")
    assert (r.status_code, r.json()["error"]) == (400, "this session has no active legal hold")
    assert post(f"/api/v1/sessions/{world.sid}/legal-hold", "Case 1 for jane.doe@bank.example").status_code == 200
    r = post(f"/api/v1/sessions/{world.sid}/legal-hold", "Case 2")
    assert (r.status_code, r.json()["error"]) == (400, "this session is already under a legal hold")
    holds = world.client.get("/api/v1/legal-holds", headers=po.headers).json()
    assert [h["reason"] for h in holds] == ["Case 1 for [email]"]  # personal data in a reason is masked
    assert "jane.doe" not in json.dumps(audit_rows(world.rt))


def test_retention_status_counts(clock, world: World) -> None:
    po = add_staff(world.rt, "olga", ["privacy_officer"])
    record(world.client, world.write_key, OLD, clock, age_days=31, href=OLD_URL)
    record(world.client, world.write_key, "soon-session-25d", clock, age_days=25)
    record(world.client, world.write_key, "held-session-29d", clock, age_days=29.5)
    assert world.client.post("/api/v1/sessions/held-session-29d/legal-hold", json={"reason": "Case 9"},
                             headers=po.headers).status_code == 200
    clock.now += DAY_MS  # the held session is now past its period
    r = world.client.get("/api/v1/retention", headers=po.headers)
    assert r.status_code == 200
    [p] = r.json()["projects"]
    assert {k: p[k] for k in ("project_id", "default_days", "categories", "live", "expiring_7d", "awaiting_sweep",
                              "held", "shredded", "next_expiry_ms")} == {
        "project_id": "p1", "default_days": 30, "categories": [],
        "live": 3,            # the fixture's session (recorded at NOW), soon, held
        "expiring_7d": 1,     # soon: received 26 days before the clock, 4 days left
        "awaiting_sweep": 1,  # OLD
        "held": 1, "shredded": 0,
        "next_expiry_ms": NOW - 25 * DAY_MS + 30 * DAY_MS}
    assert world.client.post("/api/v1/retention/runs", json={"dry_run": True}, headers=po.headers).json()["expired"][0][
        "session_id"] == OLD
    run = world.client.post("/api/v1/retention/runs", headers=po.headers).json()
    assert ([s["session_id"] for s in run["shredded"]], run["held"]) == ([OLD], ["held-session-29d"])
    certs = world.client.get("/api/v1/retention/certificates", headers=po.headers).json()
    assert [c["id"] for c in certs] == [run["certificate"]["id"]] and certs[0]["sessions"] == 1
    one = world.client.get(f"/api/v1/retention/certificates/{certs[0]['id']}", headers=po.headers)
    assert one.headers["x-certificate-sha256"] == certs[0]["sha256"] == run["certificate"]["sha256"]
    assert json.loads(one.text)["sessions"][0]["session_id"] == OLD
    assert world.client.get("/api/v1/retention/certificates/c_0000000000000000",
                            headers=po.headers).json() == {"error": "no such deletion certificate", "status": 404}


def test_the_collector_checks_the_subject_field(world: World) -> None:
    from retention_kit import page_events

    for bad in ("jane@bank.example", "with space", "x" * 129, "", 4242, ["a"]):
        r = post_batch(world.client, {"session_id": "subject-check-1", "seq": 0, "subject": bad,
                                      "events": page_events(OLD_URL)},
                       {"X-Replayvault-Key": world.write_key, "Origin": "http://127.0.0.1:8001"})
        assert (r.status_code, r.json()["error"]) == (
            400, "'subject' must be a pseudonymous id of 1-128 letters, digits, '.', '_', ':' or '-'"), bad
        assert "jane" not in r.text


def test_the_retention_page_shows_settings_holds_and_certificates(clock, world: World) -> None:
    from replayvault.governance.policies import set_policy

    add_staff(world.rt, "olga", ["privacy_officer"])
    set_policy(world.rt, "p1", "retention: {default_days: 30, jurisdiction: 'EU — GDPR Art. 5(1)(e)', categories: "
                               "[{name: complaint_evidence, days: 365, urls: ['/complaints/*'], note: 'one year'}]}",
               "cli")
    record(world.client, world.write_key, OLD, clock, age_days=31)
    assert login(world.client, "olga").status_code == 303
    csrf = csrf_of(world.client)
    page = world.client.get("/retention")
    assert page.status_code == 200
    for text in ("complaint_evidence", "365 days", "/complaints/*", "one year", "EU — GDPR Art. 5(1)(e)",
                 "No legal holds.", "Nothing deleted yet."):
        assert text in page.text, text
    r = world.client.post("/retention/holds", data={"session_id": world.sid, "reason": "Case 5", "csrf_token": csrf},
                          follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/retention")
    r = world.client.post("/retention/holds", data={"session_id": world.sid, "reason": "ab", "csrf_token": csrf})
    assert r.status_code == 400 and "give a reason of 3-200 characters" in r.text
    r = world.client.post("/retention/runs", data={"csrf_token": csrf})
    assert r.status_code == 200 and "1 sessions crypto-shredded, 0 kept under legal hold; certificate c_" in r.text
    assert r.text.count("<b>held</b>") == 1 and "Case 5" in r.text
    r = world.client.post(f"/retention/holds/{world.sid}/release", data={"reason": "done", "csrf_token": csrf},
                          follow_redirects=False)
    assert r.status_code == 303
    assert "<b>held</b>" not in world.client.get("/retention").text
    nav = world.client.get("/retention").text
    assert 'href="/retention" class="on"' in nav and 'href="/dsar"' in nav


def test_ux_analysts_see_no_retention_pages(world: World) -> None:
    add_staff(world.rt, "uma", ["ux_analyst"])
    assert login(world.client, "uma").status_code == 303
    assert world.client.get("/retention").status_code == 403
    assert world.client.get("/dsar").status_code == 403
    assert 'href="/retention"' not in world.client.get("/account").text


def test_serve_sweeps_at_start(clock, world: World, monkeypatch) -> None:
    from replayvault.web.app import create_app

    record(world.client, world.write_key, OLD, clock, age_days=31)
    monkeypatch.setattr(world.rt.settings, "retention_interval_s", 3600)
    with TestClient(create_app(world.rt)):  # runs the lifespan: the scheduler's first sweep
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with world.rt.sessions() as db:
                if db.get(RecordingSession, OLD).shredded_ms is not None:
                    break
            time.sleep(0.05)
    with world.rt.sessions() as db:
        assert db.get(RecordingSession, OLD).shredded_ms == NOW
    assert [e["actor"] for e in audit_rows(world.rt) if e["action"] == "retention.deleted"] == ["scheduler"]


def test_cli_retention(clock, world: World, monkeypatch) -> None:
    from replayvault.cli import app

    monkeypatch.setenv("REPLAYVAULT_HOME", str(world.rt.settings.home))
    record(world.client, world.write_key, OLD, clock, age_days=31)
    runner = CliRunner()
    r = runner.invoke(app, ["retention", "hold", world.sid, "--reason", "ab"])
    assert (r.exit_code, "give a reason of 3-200 characters" in r.output) == (2, True)
    r = runner.invoke(app, ["retention", "hold", OLD, "--reason", "Case 1"])
    assert (r.exit_code, "no such session" in r.output) == (2, True)  # expired: absent, cannot be held any more
    r = runner.invoke(app, ["retention", "hold", world.sid, "--reason", "Case 1"])
    assert r.exit_code == 0 and f"on {world.sid} placed" in r.output
    r = runner.invoke(app, ["retention", "run", "--dry-run", "--json"])
    assert r.exit_code == 0 and [x["session_id"] for x in json.loads(r.output)["expired"]] == [OLD]
    r = runner.invoke(app, ["retention", "run"])
    assert r.exit_code == 0 and "1 sessions crypto-shredded (1 chunks," in r.output
    r = runner.invoke(app, ["retention", "status", "--json"])
    status = json.loads(r.output)
    assert (status["projects"][0]["shredded"], [h["session_id"] for h in status["holds"]]) == (1, [world.sid])
    r = runner.invoke(app, ["retention", "release", world.sid, "--reason", "Case 1 closed"])
    assert r.exit_code == 0 and "released" in r.output
    assert [e["actor"] for e in audit_rows(world.rt) if e["action"].startswith(("legal_hold.", "retention."))] == [
        "cli", "cli", "cli"]
