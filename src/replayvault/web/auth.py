"""Authentication and the one enforcement point of the permission matrix.

:func:`enforce` runs before every route (an app-wide dependency). It looks up the matched route's
rule in :data:`~replayvault.governance.permissions.ROUTE_RULES` — a route without a rule is refused —
then authenticates the caller (login cookie or ``Authorization: Bearer rvt_…``), checks the CSRF
token on state-changing requests made with the cookie (form field ``csrf_token`` or header
``X-CSRF-Token``, compared in constant time), and checks the permission. Denials of a permission are
written to the audit log (``access.denied``) before the 403 is returned.
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from ..errors import CsrfFailed, NotAuthenticated, PasswordChangeRequired, PermissionDenied, ReplayVaultError
from ..governance.accounts import Principal, principal_for_cookie, principal_for_token
from ..governance.permissions import Permission, Rule, rule_for
from ..runtime import Runtime

__all__ = ["COOKIE", "enforce", "principal", "client_ip"]

COOKIE = "rv_session"
#: All a user may do before replacing a password someone else chose.
_WHILE_PASSWORD_UNCHANGED = {("GET", "/account/password"), ("POST", "/account/password"), ("POST", "/logout")}
_SAFE = {"GET", "HEAD", "OPTIONS"}


def client_ip(request: Request) -> str | None:
    """The peer address (``X-Forwarded-For`` is not trusted: no proxy is configured)."""
    return request.client.host if request.client else None


def _authenticate(rt: Runtime, request: Request) -> Principal:
    auth = request.headers.get("authorization", "")
    with rt.sessions() as db:
        if auth.lower().startswith("bearer "):
            p = principal_for_token(db, auth[7:].strip())
        else:
            p = principal_for_cookie(db, request.cookies.get(COOKIE))
        db.commit()  # last-seen / last-used times
    return p


async def _check_csrf(request: Request, p: Principal) -> None:
    if p.via != "session" or request.method in _SAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf_token")  # cached: the endpoint reads the same form
    if not isinstance(sent, str) or not p.csrf or not hmac.compare_digest(sent, p.csrf):
        raise CsrfFailed()


def _audit_denial(rt: Runtime, request: Request, p: Principal, reason: str) -> None:
    rt.audit.record(actor=p.actor, action="access.denied", resource=f"route:{request.method} {request.scope['route'].path}",
                    outcome="denied", origin_ip=client_ip(request), details={"reason": reason})


async def enforce(request: Request) -> None:
    """App-wide dependency: apply the route's rule (see module docstring); sets ``request.state.principal``.

    Raises:
        ReplayVaultError: (500) the route has no rule in ROUTE_RULES.
        NotAuthenticated: (401) login or token needed.
        CsrfFailed: (403) state-changing request without the session's CSRF token.
        PermissionDenied: (403) the caller's roles (or token scopes) lack the permission.
    """
    route = request.scope.get("route")
    rule = rule_for(request.method, getattr(route, "path", ""))
    request.state.principal = None
    if rule is None:
        raise ReplayVaultError("route has no access rule; refused")
    if rule in (Rule.PUBLIC, Rule.WRITE_KEY):
        return
    rt: Runtime = request.app.state.rt
    p = await run_in_threadpool(_authenticate, rt, request)
    await _check_csrf(request, p)
    request.state.principal = p
    if p.must_change_password and (request.method, route.path) not in _WHILE_PASSWORD_UNCHANGED:
        raise PasswordChangeRequired()
    if isinstance(rule, Permission) and not p.can(rule):
        await run_in_threadpool(_audit_denial, rt, request, p, f"missing permission {rule.value}")
        raise PermissionDenied(f"your roles do not grant {rule.value}")


def principal(request: Request) -> Principal:
    """The authenticated caller set by :func:`enforce` (routes with a non-public rule only).

    Raises:
        NotAuthenticated: called on a public route.
    """
    p = getattr(request.state, "principal", None)
    if p is None:
        raise NotAuthenticated()
    return p
