"""Regression tests for what the attack review found: parallel guessing, login CSRF, request text in
the log, huge integers, logout while the audit log is down."""

from __future__ import annotations

import threading

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from govkit import audit_rows, csrf_of, login, staff, world  # noqa: F401  (world is a fixture)
from replayvault.errors import TooManyAttempts
from replayvault.governance.accounts import LoginLimiter


def test_parallel_attempts_cannot_pass_the_limit_together() -> None:
    limiter = LoginLimiter(max_failures=5)
    passed, refused = [], []
    start = threading.Barrier(40)

    def guess() -> None:
        start.wait()
        try:
            limiter.attempt("user:x", "ip:1")
            passed.append(1)
        except TooManyAttempts:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(passed), len(refused)) == (5, 35)


def test_a_good_login_gives_back_its_attempt_on_the_address() -> None:
    limiter = LoginLimiter(max_failures=2)
    limiter.attempt("user:a", "ip:1")
    limiter.succeeded("user:a", "ip:1")
    limiter.attempt("user:b", "ip:1")
    limiter.attempt("user:c", "ip:1")  # the address had one attempt left after the good login
    try:
        limiter.attempt("user:d", "ip:1")
    except TooManyAttempts:
        pass
    else:
        raise AssertionError("third attempt from the address was allowed")


def test_login_posted_from_another_site_is_refused(world) -> None:  # noqa: F811
    staff(world.rt, "victim", ["ux_analyst"])
    r = world.client.post("/login", data={"username": "victim", "password": "correct horse battery staple", "next": "/"},
                          headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403 and "rv_session" not in r.headers.get("set-cookie", "")
    ok = world.client.post("/login", data={"username": "victim", "password": "correct horse battery staple", "next": "/"},
                           headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert ok.status_code == 303


def test_an_unknown_session_id_from_a_request_is_logged_as_a_digest(world) -> None:  # noqa: F811
    ux = staff(world.rt, "ux", ["ux_analyst"])
    junk = "x jonas.weber@example.com DE89370400440532013000 +49 170 1234567"
    r = world.client.get(f"/api/v1/sessions/{junk}/events", headers=ux.headers)
    assert r.status_code == 403
    long = world.client.post(f"/api/v1/sessions/{'A' * 5000}/seeks", json={"grant": "g", "from_ms": 0, "to_ms": 1},
                             headers=ux.headers)
    assert long.status_code == 403
    denied = [e for e in audit_rows(world.rt) if e["outcome"] == "denied"]
    assert [e["resource"] for e in denied] == ["session:unknown", "session:unknown"]
    assert all(len(e["details"]["session_sha256"]) == 32 for e in denied)
    text = repr(audit_rows(world.rt))
    assert "jonas" not in text and "DE89" not in text and "A" * 100 not in text


def test_huge_integers_are_a_clear_400(world) -> None:  # noqa: F811
    lead = staff(world.rt, "lead", ["compliance_lead"])
    for url in ("/api/v1/audit/entries?since_ms=" + "9" * 24, "/api/v1/audit/entries?before=" + "9" * 24,
                f"/api/v1/audit/entries/{2**63}", "/api/v1/audit/consistency?first=" + "9" * 20,
                "/audit?before=" + "9" * 25):
        r = world.client.get(url, headers=lead.headers)
        assert r.status_code == 400, (url, r.status_code, r.text[:200])


def test_logout_ends_the_session_even_when_the_audit_log_is_down(world) -> None:  # noqa: F811
    staff(world.rt, "leaver", ["ux_analyst"])
    assert login(world.client, "leaver").status_code == 303
    csrf = csrf_of(world.client)
    engine = world.rt.sessions.kw["bind"]

    def refuse(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"):
            raise OperationalError("audit down", None, Exception())

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        r = world.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert r.status_code == 303
    assert world.client.get("/account", follow_redirects=False).status_code == 303  # logged out
