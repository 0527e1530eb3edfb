"""Nobody changes their own roles or attests their own training (separation of duties)."""

from __future__ import annotations

from govkit import audit_rows, staff, world  # noqa: F401  (fixture)


def test_an_admin_cannot_grant_themselves_a_reading_role(world) -> None:  # noqa: F811
    admin = staff(world.rt, "root-admin", ["admin"])
    r = world.client.post(f"/api/v1/users/{admin.user_id}/roles", json={"role": "compliance_lead"},
                          headers=admin.headers)
    assert r.status_code == 403 and "own roles" in r.json()["error"]
    me = world.client.get("/api/v1/me", headers=admin.headers).json()
    assert me["roles"] == ["admin"] and "recordings:read" not in me["permissions"]
    # Another admin may, and it is audited.
    other = staff(world.rt, "second-admin", ["admin"])
    ok = world.client.post(f"/api/v1/users/{admin.user_id}/roles", json={"role": "compliance_lead"},
                           headers=other.headers)
    assert ok.status_code == 200 and ok.json()["roles"] == ["admin", "compliance_lead"]
    assert [(e["actor"], e["details"]) for e in audit_rows(world.rt) if e["action"] == "role.granted"] == [
        (f"user:{other.user_id}", {"role": "compliance_lead"})]


def test_an_admin_cannot_revoke_their_own_roles_either(world) -> None:  # noqa: F811
    admin = staff(world.rt, "root-admin", ["admin"])
    r = world.client.delete(f"/api/v1/users/{admin.user_id}/roles/admin", headers=admin.headers)
    assert r.status_code == 403


def test_an_hr_liaison_cannot_attest_their_own_training(world) -> None:  # noqa: F811
    hr = staff(world.rt, "hr-one", ["hr_liaison"], trained=None)
    mine = world.client.post("/api/v1/training", json={"user_id": hr.user_id, "course": "DP", "date": "2026-01-05"},
                             headers=hr.headers)
    assert mine.status_code == 403 and "own training" in mine.json()["error"]
    colleague = staff(world.rt, "hr-two", ["hr_liaison"])
    ok = world.client.post("/api/v1/training", json={"user_id": hr.user_id, "course": "DP", "date": "2026-01-05"},
                           headers=colleague.headers)
    assert ok.status_code == 200 and ok.json()["date"] == "2026-01-05"


def test_each_role_lands_on_a_page_it_may_open_and_refusals_are_html_pages(world) -> None:  # noqa: F811
    from govkit import login

    staff(world.rt, "hr-land", ["hr_liaison"])
    r = login(world.client, "hr-land")
    assert r.status_code == 303 and r.headers["location"] == "/training"
    assert world.client.get("/training").status_code == 200
    home = world.client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/training"
    page = world.client.get(f"/sessions/{world.sid}")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Not allowed" in page.text and "your roles do not grant sessions:list" in page.text
    assert 'href="/training"' in page.text  # the menu is there
    api = world.client.get(f"/api/v1/sessions/{world.sid}")
    assert api.status_code == 403 and api.json()["error"] == "your roles do not grant sessions:list"


def test_a_password_someone_else_chose_must_be_replaced_first(world) -> None:  # noqa: F811
    from govkit import csrf_of, login

    admin = staff(world.rt, "the-admin", ["admin"])
    made = world.client.post("/api/v1/users", json={"username": "newbie", "roles": ["ux_analyst"]}, headers=admin.headers)
    initial = made.json()["password"]
    r = login(world.client, "newbie", initial)
    assert r.status_code == 303
    assert world.client.get("/", follow_redirects=False).headers["location"] == "/account/password"
    me = world.client.get("/api/v1/me")
    assert me.status_code == 403 and "choose your own password" in me.json()["error"]
    page = world.client.get("/account/password")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = world.client.post("/account/password", data={"csrf_token": csrf, "current": "wrong-password-1",
                                                       "new": "a brand new secret", "confirm": "a brand new secret"})
    assert bad.status_code == 400 and "current password is wrong" in bad.text
    ok = world.client.post("/account/password", data={"csrf_token": csrf, "current": initial,
                                                      "new": "a brand new secret", "confirm": "a brand new secret"},
                           follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert world.client.get("/api/v1/me").json()["username"] == "newbie"
    assert [e["actor"] for e in audit_rows(world.rt) if e["action"] == "user.password_changed"] == [
        f"user:{made.json()['id']}"]
    assert csrf_of(world.client)
