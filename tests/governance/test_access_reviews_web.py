"""Access reviews over HTTP and the command line: /api/v1/access-reviews, the /reviews pages (CSRF, no
buttons for one's own roles, amber when overdue), and ``replayvault reviews``."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from typer.testing import CliRunner

from govkit import audit_rows, csrf_of, login
from staff import Staff, add_staff

from replayvault.db.models import User
from replayvault.governance import accounts, reviews
from replayvault.web.app import create_app

from test_access_reviews import clock, ms  # noqa: F401  (clock is a fixture)


@pytest.fixture
def team(rt) -> dict[str, Staff]:  # type: ignore[no-untyped-def]
    """hana (hr_liaison), cleo (compliance_lead, ux_analyst), uma (security_specialist, ux_analyst): 5 roles."""
    people = {"hana": ["hr_liaison"], "cleo": ["compliance_lead", "ux_analyst"],
              "uma": ["security_specialist", "ux_analyst"]}
    team = {name: add_staff(rt, name, roles) for name, roles in people.items()}
    with rt.sessions() as db:
        db.execute(update(User).values(created_ms=ms("2026-06-01T00:00")))
        db.commit()
    return team


@pytest.fixture
def client(rt) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(rt))


def item_ids(body: dict) -> dict[tuple[str, str], int]:
    return {(i["username"], i["role"]): i["id"] for i in body["items"]}


def test_api_open_list_decide_close(rt, team, client, clock) -> None:
    h = team["hana"].headers
    r = client.post("/api/v1/access-reviews", json={"due_days": 10}, headers=h)
    assert r.status_code == 200, r.text
    rid = r.json()["id"]
    assert (r.json()["total"], r.json()["due_ms"]) == (5, ms("2026-09-11T09:00"))
    r = client.post("/api/v1/access-reviews", json={}, headers=team["cleo"].headers)
    assert (r.status_code, r.json()["error"]) == (400, f"access review {rid} is still open; decide or close it first")
    body = client.get(f"/api/v1/access-reviews/{rid}", headers=h).json()
    ids = item_ids(body)
    assert sorted(ids) == [("cleo", "compliance_lead"), ("cleo", "ux_analyst"), ("hana", "hr_liaison"),
                           ("uma", "security_specialist"), ("uma", "ux_analyst")]
    r = client.post(f"/api/v1/access-reviews/{rid}/items/{ids[('uma', 'ux_analyst')]}", json={"decision": "revoke"},
                    headers=h)
    assert r.status_code == 200 and r.json()["review"]["revoked"] == 1
    assert client.get("/api/v1/me", headers=team["uma"].headers).json()["roles"] == ["security_specialist"]
    r = client.post(f"/api/v1/access-reviews/{rid}/items/{ids[('hana', 'hr_liaison')]}", json={"decision": "attest"},
                    headers=h)
    assert (r.status_code, r.json()["error"]) == (
        403, "nobody reviews their own roles (four-eyes); another reviewer decides this item")
    listing = client.get("/api/v1/access-reviews", headers=h).json()
    assert listing["schedule"]["open_review_id"] == rid and listing["schedule"]["undecided"] == 4
    assert [(x["id"], x["status"], x["revoked"], x["undecided"]) for x in listing["reviews"]] == [(rid, "open", 1, 4)]
    r = client.post(f"/api/v1/access-reviews/{rid}/close", json={"reason": "team reorganised"}, headers=h)
    assert (r.status_code, r.json()["status"], r.json()["undecided"]) == (200, "closed", 4)


@pytest.mark.parametrize("path,body,status,message", [
    ("", {"due_days": 0}, 400, "due_days must be a whole number of days from 1 to 90"),
    ("", {"due_days": "14"}, 400, "due_days must be a whole number of days from 1 to 90"),
    ("", {"due_days": True}, 400, "due_days must be a whole number of days from 1 to 90"),
    ("/ar_0000000000000000/close", {}, 404, "no such access review"),
    ("/{rid}/items/1", {}, 400, "invalid request parameters: body.decision"),
    ("/{rid}/items/1", {"decision": ["attest"]}, 400, "decision must be 'attest' or 'revoke'"),
    ("/{rid}/items/abc", {"decision": "attest"}, 400, "invalid request parameters: path.item_id"),
    ("/{rid}/items/99999", {"decision": "attest"}, 404, "no such item in this access review"),
    ("/{rid}/close", {"reason": 5}, 400, "reason must be text (at most 200 characters)"),
])
def test_api_bad_input_is_a_4xx_naming_the_problem(rt, team, client, clock, path, body, status, message) -> None:  # type: ignore[no-untyped-def]
    rid = reviews.open_review(rt, "cli")["id"] if "{rid}" in path else ""
    r = client.post("/api/v1/access-reviews" + path.format(rid=rid), json=body, headers=team["cleo"].headers)
    assert (r.status_code, r.json()["error"]) == (status, message)


@pytest.mark.parametrize("who", ["uma"])
def test_api_wrong_role_refused(rt, team, client, clock, who) -> None:  # type: ignore[no-untyped-def]
    rid = reviews.open_review(rt, "cli")["id"]
    for method, path in (("GET", ""), ("POST", ""), ("GET", f"/{rid}"), ("POST", f"/{rid}/items/1"), ("POST", f"/{rid}/close")):
        r = client.request(method, "/api/v1/access-reviews" + path, json={"decision": "attest"}, headers=team[who].headers)
        assert (r.status_code, r.json()["error"]) == (403, "your roles do not grant access_review:manage"), path
    assert reviews.get_review(rt, rid)["undecided"] == 5


def _dashboard(client: TestClient, s: Staff) -> str:
    assert login(client, s.username).status_code == 303
    return csrf_of(client)


def test_dashboard_pages_forms_and_four_eyes(rt, team, client, clock) -> None:
    csrf = _dashboard(client, team["hana"])
    page = client.get("/reviews").text
    assert "review-schedule green" in page and "On schedule" in page and "No access reviews yet." in page
    assert 'href="/reviews" class="on">Access reviews</a>' in page
    r = client.post("/reviews", data={"due_days": "14"}, follow_redirects=False)
    assert (r.status_code, "CSRF" in r.text) == (403, True)
    r = client.post("/reviews", data={"due_days": "0", "csrf_token": csrf})
    assert r.status_code == 400 and "due_days must be a whole number of days from 1 to 90" in r.text
    r = client.post("/reviews", data={"due_days": "14", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    rid = r.headers["location"].removeprefix("/reviews/")
    page = client.get(f"/reviews/{rid}").text
    forms = re.findall(rf'action="/reviews/{rid}/items/(\d+)"', page)
    ids = item_ids(reviews.get_review(rt, rid))
    assert sorted(map(int, forms)) == sorted(v for k, v in ids.items() if k[0] != "hana")  # 4 of 5: not her own
    assert page.count("your own roles: another reviewer decides") == 1
    r = client.post(f"/reviews/{rid}/items/{ids[('hana', 'hr_liaison')]}", data={"decision": "attest", "csrf_token": csrf})
    assert r.status_code == 403 and "nobody reviews their own roles (four-eyes)" in r.text
    r = client.post(f"/reviews/{rid}/items/{ids[('cleo', 'ux_analyst')]}", data={"decision": "revoke", "csrf_token": csrf},
                    follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, f"/reviews/{rid}")
    with rt.sessions() as db:
        assert accounts.roles_of(db, team["cleo"].user_id) == {"compliance_lead"}
    page = client.get(f"/reviews/{rid}").text
    assert '<b class="d-revoke">revoked</b> <span class="dim small">by hana, 2026-09-01 09:00:00 UTC</span>' in page
    r = client.post(f"/reviews/{rid}/close", data={"reason": "", "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert reviews.get_review(rt, rid)["status"] == "closed"
    actions = [(e["action"], e["outcome"]) for e in audit_rows(rt) if e["action"].startswith("access_review.")]
    assert actions == [("access_review.opened", "ok"), ("access_review.attested", "denied"),
                       ("access_review.revoked", "ok"), ("access_review.closed", "ok")]


def test_dashboard_turns_amber_when_overdue(rt, team, client, clock) -> None:
    _dashboard(client, team["cleo"])
    clock.now = ms("2026-09-13T00:00") + 1  # first account 2026-06-01 + 90 + 14 days, and 1 ms
    page = client.get("/reviews").text
    assert "review-schedule amber" in page and "<b class=\"state\">Overdue</b>" in page
    assert "2026-08-30 00:00:00 UTC" in page and "2026-09-13 00:00:00 UTC" in page
    clock.now = ms("2026-09-14T00:00")
    rid = reviews.open_review(rt, "cli", due_days=1)["id"]
    clock.now = ms("2026-09-15T00:00") + 1
    page = client.get("/reviews").text
    assert f'<tr class="overdue"><td><a href="/reviews/{rid}">' in page and '<span class="pill overdue">overdue</span>' in page


def test_pages_refuse_other_roles(rt, team, client, clock) -> None:
    _dashboard(client, team["uma"])
    assert "Access reviews" not in client.get("/account").text
    r = client.get("/reviews")
    assert r.status_code == 403 and "your roles do not grant access_review:manage" in r.text


def test_cli_open_list_decide_close(rt, team, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from replayvault.cli import app

    monkeypatch.setenv("REPLAYVAULT_HOME", str(rt.settings.home))
    runner = CliRunner()
    r = runner.invoke(app, ["reviews", "open", "--due-days", "7", "--reviewer", "hana"])
    assert r.exit_code == 0 and "items, due 2026-09-08 09:00:00 UTC" in r.output and ": 5 items" in r.output, r.output
    rid = json.loads(runner.invoke(app, ["reviews", "list", "--json"]).output)["reviews"][0]["id"]
    ids = item_ids(json.loads(runner.invoke(app, ["reviews", "list", rid, "--json"]).output))
    r = runner.invoke(app, ["reviews", "decide", rid, str(ids[("hana", "hr_liaison")]), "attest", "--reviewer", "hana"])
    assert (r.exit_code, "nobody reviews their own roles" in r.output) == (2, True)
    r = runner.invoke(app, ["reviews", "decide", rid, str(ids[("cleo", "ux_analyst")]), "revoke", "--reviewer", "uma"])
    assert (r.exit_code, "only an hr_liaison or compliance_lead" in r.output) == (2, True), r.output
    r = runner.invoke(app, ["reviews", "decide", rid, str(ids[("uma", "ux_analyst")]), "revoke", "--reviewer", "cleo"])
    assert r.exit_code == 0 and "revoked ux_analyst of uma; review" in r.output and "4 undecided" in r.output
    r = runner.invoke(app, ["reviews", "close", rid, "--reason", "audit cut-off"])
    assert r.exit_code == 0 and "0 attested, 1 revoked, 4 undecided" in r.output
    r = runner.invoke(app, ["reviews", "list"])
    assert r.exit_code == 0 and "closed" in r.output
    rows = [e for e in audit_rows(rt) if e["action"].startswith(("access_review.", "role."))]
    assert [(e["action"], e["outcome"], e["actor"]) for e in rows] == [
        ("access_review.opened", "ok", f"user:{team['hana'].user_id}"),
        ("access_review.attested", "denied", f"user:{team['hana'].user_id}"),
        ("access_review.revoked", "denied", f"user:{team['uma'].user_id}"),
        ("access_review.revoked", "ok", f"user:{team['cleo'].user_id}"),
        ("role.revoked", "ok", f"user:{team['cleo'].user_id}"),
        ("access_review.closed", "ok", "cli")]
