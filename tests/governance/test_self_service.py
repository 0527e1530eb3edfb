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
