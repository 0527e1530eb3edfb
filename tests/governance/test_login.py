"""Dashboard login: redirects, cookie flags, open-redirect guard, rate limit, audit, CSRF, TOTP, disabling, idle timeout."""

from __future__ import annotations

import hashlib
import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, update

from govkit import audit_text, csrf_of, login, staff, world  # noqa: F401  (world is a fixture)

from replayvault.audit.query import search_entries
from replayvault.db.models import LoginSession
from replayvault.governance import accounts

NAME = "zelda.quartermain"  # distinctive, so "appears nowhere" checks are meaningful
ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


@pytest.fixture
def user(world):  # type: ignore[no-untyped-def]
    return staff(world.rt, NAME, ["compliance_lead"])


@pytest.mark.parametrize("path,status,location", [
    ("/", 303, "/login?next=/"),
    ("/heatmaps", 303, "/login?next=/heatmaps"),
    ("/api/v1/sessions", 401, None),
    ("/api/v1/me", 401, None),
])
def test_anonymous_pages_redirect_and_api_answers_401_json(world, path, status, location) -> None:
    r = world.client.get(path, follow_redirects=False)
    assert r.status_code == status
    if location:
        assert r.headers["location"] == location
    else:
        assert r.json() == {"error": "login required", "status": 401}


@pytest.mark.parametrize("next_,target", [
    ("/heatmaps", "/heatmaps"),
    ("/sessions/abc?x=1", "/sessions/abc?x=1"),
    ("//evil.example", "/"),
    ("https://evil.example", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("", "/"),
])
def test_login_sets_strict_httponly_cookie_and_only_local_redirects(world, user, next_, target) -> None:
    r = login(world.client, NAME, next=next_)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == target
    cookies = [c for c in r.headers.get_list("set-cookie") if c.startswith("rv_session=")]
    assert len(cookies) == 1
    attrs = {a.strip().split("=")[0].lower(): a.strip() for a in cookies[0].split(";")[1:]}
    assert "httponly" in attrs
    assert attrs["samesite"].lower() == "samesite=strict"
    assert attrs["path"] == "Path=/"
    token = cookies[0].split(";")[0].split("=", 1)[1]
    with world.rt.sessions() as db:  # only the cookie's SHA-256 is stored
        stored = db.scalars(select(LoginSession.token_sha256)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert world.client.get("/api/v1/me").json()["user_id"] == user.user_id


def test_wrong_password_and_unknown_user_get_the_same_generic_401(world, user) -> None:
    wrong_pw = login(world.client, NAME, "not the password at all")
    unknown = login(world.client, "no.such.person", "not the password at all")
    assert wrong_pw.status_code == unknown.status_code == 401
    assert "rv_session" not in world.client.cookies
    msgs = [ERROR.search(r.text).group(1).strip() for r in (wrong_pw, unknown)]
    assert msgs[0] == msgs[1] == "invalid user name, password or code"


def test_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(world, user) -> None:
    from replayvault.governance.accounts import LoginLimiter

    world.rt.login_limiter = LoginLimiter(clock=lambda: 5_000.0)  # a frozen clock: all attempts at t=5000 s
    for _ in range(5):
        assert login(world.client, NAME, "wrong password 123").status_code == 401
    r = login(world.client, NAME)
    assert r.status_code == 429
    assert r.headers["retry-after"] == str(15 * 60)  # the whole window: the oldest attempt was just now
    assert "rv_session" not in world.client.cookies
    outcomes = [e["outcome"] for e in search_entries(world.rt, action="login")]
    assert outcomes == ["failed"] * 5  # the refused 6th attempt did not log in


def test_each_login_is_audited_with_a_pseudonymous_actor_never_the_name(world, user) -> None:
    login(world.client, NAME, "wrong password 123")
    login(world.client, "no.such.person", "wrong password 123")
    assert login(world.client, NAME).status_code == 303
    got = [(e["actor"], e["outcome"], e["resource"]) for e in reversed(search_entries(world.rt, action="login"))]
    assert got == [(f"user:{user.user_id}", "failed", "dashboard"), ("anonymous", "failed", "dashboard"),
                   (f"user:{user.user_id}", "ok", "dashboard")]
    dumped = audit_text(world.rt)
    assert NAME not in dumped and "no.such.person" not in dumped


# -- CSRF ----------------------------------------------------------------------------------------
def test_logout_needs_the_csrf_token(world, user) -> None:
    login(world.client, NAME)
    bad = world.client.post("/logout", data={}, follow_redirects=False)
    wrong = world.client.post("/logout", data={"csrf_token": "x" * 43}, follow_redirects=False)
    for r in (bad, wrong):
        assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert world.client.get("/api/v1/me").status_code == 200  # still logged in
    ok = world.client.post("/logout", data={"csrf_token": csrf_of(world.client)}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/login"
    world.client.cookies.clear()
    assert [e["outcome"] for e in search_entries(world.rt, action="logout")] == ["ok"]
    with world.rt.sessions() as db:
        assert db.scalars(select(LoginSession)).all() == []


def test_form_post_of_a_purpose_needs_the_csrf_token(world, user) -> None:
    login(world.client, NAME)
    form = {"purpose": "compliance_audit", "justification": "CASE-77"}
    r = world.client.post(f"/sessions/{world.sid}/access", data=form, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert search_entries(world.rt, action="recording.access_declared") == []
    r = world.client.post(f"/sessions/{world.sid}/access", data={**form, "csrf_token": csrf_of(world.client)},
                          follow_redirects=False)
    assert r.status_code == 303
    loc = urlparse(r.headers["location"])
    assert loc.path == f"/sessions/{world.sid}" and parse_qs(loc.query)["grant"][0].startswith("g_")


def test_cookie_authenticated_json_write_needs_the_csrf_header(world, user) -> None:
    login(world.client, NAME)
    body = {"name": "ci", "scopes": ["sessions:list"]}
    assert world.client.post("/api/v1/tokens", json=body).status_code == 403
    r = world.client.post("/api/v1/tokens", json=body, headers={"X-CSRF-Token": csrf_of(world.client)})
    assert r.status_code == 200, r.text
    assert r.json()["scopes"] == ["sessions:list"] and r.json()["token"].startswith("rvt_")


# -- second factor, disabling, timeouts ------------------------------------------------------------
def test_totp_second_factor_is_required_once_enabled(world, user) -> None:
    with world.rt.sessions() as db:
        uri = accounts.enable_totp(db, accounts.get_user(db, user.user_id), world.rt.keys.kek("_totp", create=True))
        db.commit()
    totp = pyotp.parse_uri(uri)
    assert login(world.client, NAME).status_code == 401
    wrong = str((int(totp.now()) + 500_000) % 1_000_000).zfill(6)
    assert login(world.client, NAME, code=wrong).status_code == 401
    ok = login(world.client, NAME, code=totp.now())
    assert ok.status_code == 303, ok.text
    last = search_entries(world.rt, action="login")[0]
    assert last["outcome"] == "ok" and last["details"] == {"second_factor": True}


def test_a_totp_code_is_accepted_only_once(world, user) -> None:
    """RFC 6238 §5.2: the verifier MUST NOT accept the second attempt of the same OTP after a successful one."""
    with world.rt.sessions() as db:
        uri = accounts.enable_totp(db, accounts.get_user(db, user.user_id), world.rt.keys.kek("_totp", create=True))
        db.commit()
    code = pyotp.parse_uri(uri).now()
    assert login(world.client, NAME, code=code).status_code == 303
    world.client.cookies.clear()
    replay = login(world.client, NAME, code=code)
    assert replay.status_code == 401, "the same TOTP code logged in twice"


def test_disabled_user_cannot_log_in_and_loses_token_and_session(world, user) -> None:
    login(world.client, NAME)
    assert world.client.get("/api/v1/me").status_code == 200
    assert world.client.get("/api/v1/sessions", headers=user.headers).status_code == 200
    with world.rt.sessions() as db:
        accounts.set_disabled(db, accounts.get_user(db, user.user_id))
        db.commit()
    assert world.client.get("/api/v1/me").status_code == 401  # the login session ended
    world.client.cookies.clear()
    assert world.client.get("/api/v1/sessions", headers=user.headers).status_code == 401
    assert login(world.client, NAME).status_code == 401


@pytest.mark.parametrize("idle_min,expires_in_min,ok", [
    (29, 60, True),
    (31, 60, False),          # idle timeout: 30 min
    (0, -1, False),           # absolute lifetime over
])
def test_login_session_idle_timeout_and_lifetime(world, user, idle_min, expires_in_min, ok) -> None:
    login(world.client, NAME)
    now = int(time.time() * 1000)
    with world.rt.sessions() as db:
        db.execute(update(LoginSession).values(last_seen_ms=now - idle_min * 60_000,
                                               expires_ms=now + expires_in_min * 60_000))
        db.commit()
    api = world.client.get("/api/v1/me")
    page = world.client.get("/", follow_redirects=False)
    if ok:
        assert api.status_code == 200 and page.status_code == 200
    else:
        assert api.status_code == 401 and api.json()["error"] == "login expired; log in again"
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
