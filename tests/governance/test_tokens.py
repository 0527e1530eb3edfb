"""API tokens: scopes bounded by the owner's roles, re-checked on every use, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import time

import pytest
from sqlalchemy import select, update

from govkit import audit_text, csrf_of, login, staff, world  # noqa: F401  (world is a fixture)

from replayvault.audit.query import search_entries
from replayvault.db.models import ApiToken, Base
from replayvault.governance import accounts


def _create(client, who, scopes, **extra):  # type: ignore[no-untyped-def]
    """Create a token the supported way: from a dashboard login session (cookie + CSRF header)."""
    assert login(client, who.username).status_code == 303
    try:
        return client.post("/api/v1/tokens", json={"name": "t", "scopes": scopes, **extra},
                           headers={"X-CSRF-Token": csrf_of(client)})
    finally:
        client.cookies.clear()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("roles,scopes,extra,status,needle", [
    (["ux_analyst"], ["sessions:list"], {}, 200, None),
    (["ux_analyst"], ["recordings:read", "heatmaps:read"], {}, 200, None),
    (["hr_liaison"], ["training:record"], {}, 200, None),
    (["ux_analyst"], ["audit:read"], {}, 403, "'audit:read' is not granted"),
    (["ux_analyst"], ["sessions:list", "exports:approve"], {}, 403, "'exports:approve' is not granted"),
    (["admin"], ["recordings:read"], {}, 403, "'recordings:read' is not granted"),
    (["security_specialist"], ["users:manage"], {}, 403, "'users:manage' is not granted"),
    (["ux_analyst"], ["sessions:delete"], {}, 400, "unknown scope 'sessions:delete'"),
    (["ux_analyst"], [], {}, 400, "at least one scope"),
    (["ux_analyst"], ["sessions:list"], {"days": 0}, 400, "1 to 366 days"),
    (["ux_analyst"], ["sessions:list"], {"days": 367}, 400, "1 to 366 days"),
])
def test_token_scopes_are_bounded_by_the_owners_roles(world, roles, scopes, extra, status, needle) -> None:
    who = staff(world.rt, "owner", roles)
    r = _create(world.client, who, scopes, **extra)
    assert r.status_code == status, r.text
    if needle:
        assert needle in r.json()["error"]
        assert search_entries(world.rt, action="token.created") == []
    else:
        assert r.json()["scopes"] == sorted(scopes)
        assert [e["resource"] for e in search_entries(world.rt, action="token.created")] == [f"token:{r.json()['id']}"]


@pytest.mark.parametrize("path,status", [
    ("/api/v1/sessions", 200),
    ("/api/v1/sessions/{sid}", 200),
    ("/api/v1/heatmaps?url=https://bank.example/statements/overview-7f3a", 403),
    ("/api/v1/pages", 403),
    ("/api/v1/audit/entries", 403),
    ("/api/v1/sessions/{sid}/viewers", 403),
    ("/api/v1/users", 403),
])
def test_a_sessions_list_token_only_lists_sessions(world, path, status) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])  # the owner holds every permission tried here
    secret = _create(world.client, lead, ["sessions:list"]).json()["token"]
    url = path.format(sid=world.sid)
    assert world.client.get(url, headers=lead.headers).status_code == 200  # the owner's full token may
    r = world.client.get(url, headers=_bearer(secret))
    assert r.status_code == status, r.text
    if status == 403:
        denial = search_entries(world.rt, action="access.denied")[0]
        assert denial["actor"] == f"user:{lead.user_id}" and denial["outcome"] == "denied"
        assert denial["resource"].startswith("route:GET /api/v1/")


def test_a_narrow_token_cannot_mint_a_broader_token(world) -> None:
    """A token limited to sessions:list must not be able to create a token with more of the owner's permissions."""
    lead = staff(world.rt, "lead", ["compliance_lead"])
    narrow = _create(world.client, lead, ["sessions:list"]).json()["token"]
    r = world.client.post("/api/v1/tokens", json={"name": "wider", "scopes": ["audit:read", "recordings:read"]},
                          headers=_bearer(narrow))
    assert r.status_code == 403, f"scope escalation: {r.status_code} {r.text}"
    assert "login session" in r.json()["error"]  # tokens never mint tokens (they could outlive them)


@pytest.mark.parametrize("how", ["api", "accounts"])
def test_a_token_loses_what_its_owner_loses(world, how) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead", "ux_analyst"])
    admin = staff(world.rt, "root", ["admin"])
    secret = _create(world.client, lead, ["audit:read", "sessions:list"]).json()["token"]
    assert world.client.get("/api/v1/audit/entries", headers=_bearer(secret)).status_code == 200
    if how == "api":
        r = world.client.delete(f"/api/v1/users/{lead.user_id}/roles/compliance_lead", headers=admin.headers)
        assert r.status_code == 200 and r.json()["roles"] == ["ux_analyst"]
        assert search_entries(world.rt, action="role.revoked")[0]["details"] == {"role": "compliance_lead"}
    else:
        with world.rt.sessions() as db:
            assert accounts.revoke_role(db, accounts.get_user(db, lead.user_id), "compliance_lead")
            db.commit()
    assert world.client.get("/api/v1/audit/entries", headers=_bearer(secret)).status_code == 403
    assert world.client.get("/api/v1/sessions", headers=_bearer(secret)).status_code == 200  # ux_analyst keeps it
    me = world.client.get("/api/v1/me", headers=_bearer(secret)).json()
    assert me["permissions"] == ["sessions:list"] and me["via"] == "token"


def test_only_the_sha256_of_a_token_is_stored(world) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    r = _create(world.client, lead, ["sessions:list"])
    secret, token_id = r.json()["token"], r.json()["id"]
    assert secret.startswith("rvt_") and len(secret) >= 40
    with world.rt.sessions() as db:
        row = db.get(ApiToken, token_id)
        assert row.token_sha256 == hashlib.sha256(secret.encode()).hexdigest()
        for table in Base.metadata.sorted_tables:  # the secret is in no column of any table
            for values in db.execute(select(table)).all():
                assert not any(secret in str(v) for v in values), table.name
    listed = world.client.get("/api/v1/tokens", headers=lead.headers)
    assert listed.status_code == 200 and secret not in listed.text
    assert token_id in [t["id"] for t in listed.json()]
    assert secret not in audit_text(world.rt)


def test_revoked_or_expired_tokens_are_refused(world) -> None:
    lead = staff(world.rt, "lead", ["compliance_lead"])
    other = staff(world.rt, "other", ["ux_analyst"])
    made = [_create(world.client, lead, ["sessions:list"]).json() for _ in range(2)]
    assert world.client.delete(f"/api/v1/tokens/{made[0]['id']}", headers=other.headers).status_code == 404
    assert world.client.get("/api/v1/sessions", headers=_bearer(made[0]["token"])).status_code == 200
    r = world.client.delete(f"/api/v1/tokens/{made[0]['id']}", headers=lead.headers)
    assert r.status_code == 200 and r.json() == {"revoked": made[0]["id"]}
    refused = world.client.get("/api/v1/sessions", headers=_bearer(made[0]["token"]))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid API token"
    with world.rt.sessions() as db:
        db.execute(update(ApiToken).where(ApiToken.id == made[1]["id"]).values(expires_ms=int(time.time() * 1000) - 1))
        db.commit()
    expired = world.client.get("/api/v1/sessions", headers=_bearer(made[1]["token"]))
    assert expired.status_code == 401 and expired.json()["error"] == "API token expired"


@pytest.mark.parametrize("where", ["bearer", "header", "query"])
@pytest.mark.parametrize("path", ["/api/v1/sessions", "/api/v1/sessions/{sid}", "/api/v1/sessions/{sid}/events",
                                  "/api/v1/audit/entries"])
def test_the_project_write_key_reads_nothing(world, where, path) -> None:
    key = world.write_key
    headers = {"bearer": {"Authorization": f"Bearer {key}"}, "header": {"X-Replayvault-Key": key},
               "query": {}}[where]
    params = {"key": key} if where == "query" else {}
    r = world.client.get(path.format(sid=world.sid), headers=headers, params=params)
    assert r.status_code == 401, r.text
    assert world.sid not in r.text and "statements/overview" not in r.text
