"""Dashboard pages (Jinja2): login, sessions, purpose-bound replay, heatmaps, audit log, exports, training, users.

Pages contain no inline script; the replay page loads ``/static/replay.js``, which fetches the
masked events under the page's access grant and starts rrweb-player. rrweb replays into an
``about:blank`` iframe sandboxed without ``allow-scripts``; the page's CSP (see :mod:`.app`)
blocks every third-party request. Every form post carries the login session's CSRF token
(checked in :mod:`.auth`); what each page needs is in ``governance.permissions.ROUTE_RULES``.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from ..audit.query import search_entries
from ..db.models import User
from ..display import duration, when
from ..errors import AccessDenied, AuditUnavailable, InvalidInput, NotAuthenticated, TooManyAttempts
from ..governance import accounts
from ..governance.access import training_status, use_grant
from ..governance.permissions import Permission, permissions_for, purposes_for
from ..governance.reading import ask_export, decide, declare_purpose, download_export, list_exports, viewers
from ..heatmaps import dominant_class
from ..recordings import get_session, session_evidence
from .api_audit import verification_status
from .api_people import add_training, users_overview
from .api_people import training as list_training
from .auth import COOKIE, client_ip, principal

__all__ = ["router", "templates", "error_page", "landing"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


templates.env.filters["when"] = when
templates.env.filters["duration"] = duration
templates.env.filters["urlq"] = lambda s: quote(str(s), safe="")
templates.env.filters["plural"] = lambda n, word: f"{n:,} {word}{'' if n == 1 else 's'}"


def _page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> HTMLResponse:
    p = getattr(request.state, "principal", None)
    perms = {x.value for x in p.permissions} if p else set()
    return templates.TemplateResponse(request, name, {"me": p, "perms": perms, "csrf": p.csrf if p else "", **ctx},
                                      status_code=status)


def error_page(request: Request, exc: Exception) -> HTMLResponse:
    """The dashboard's HTML error page (status of ``exc``), with the menu, for a logged-in person."""
    status = getattr(exc, "status_code", 500)
    title = {403: "Not allowed", 404: "Not found"}.get(status, "Something went wrong")
    return _page(request, "error.html", {"title": title, "message": str(exc), "status": status}, status)


#: Where each permission's holder starts, in order of preference.
_LANDING = ((Permission.SESSIONS_LIST, "/"), (Permission.AUDIT_READ, "/audit"), (Permission.TRAINING_READ, "/training"),
            (Permission.USERS_LIST, "/users"))


def landing(perms: frozenset[Permission]) -> str:
    """The first page a user with ``perms`` may open (``/account`` when none of the usual ones)."""
    return next((path for perm, path in _LANDING if perm in perms), "/account")


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


# -- login -------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """Login form: user name, password, and the TOTP code when the account has one."""
    return _page(request, "login.html", {"next": _safe_next(next), "error": None})


def _login(rt, username: str, password: str, code: str, ip: str | None) -> tuple[str, frozenset[Permission]]:  # type: ignore[no-untyped-def]
    keys = (f"user:{username.lower()}", f"ip:{ip}")
    rt.login_limiter.attempt(*keys)  # counted before the (slow) password check: no parallel guessing
    with rt.sessions() as db:  # argon2 runs outside the audit lock
        try:
            user = accounts.authenticate(db, username, password, totp_code=code or None,
                                         kek=rt.keys.kek("_totp", create=True))
        except NotAuthenticated:
            db.rollback()
            known = db.scalar(select(User.id).where(User.username == username))
            rt.audit.record(actor=f"user:{known}" if known else "anonymous", action="login", resource="dashboard",
                            outcome="failed", origin_ip=ip, details={"known_user": bool(known)})
            raise
        with rt.audit.lock:
            token, _csrf = accounts.start_login(db, user)
            perms = permissions_for(accounts.roles_of(db, user.id))
            rt.audit.record(actor=f"user:{user.id}", action="login", resource="dashboard", origin_ip=ip,
                            details={"second_factor": bool(user.totp_secret)}, db=db)
            db.commit()
    rt.login_limiter.succeeded(*keys)
    return token, perms


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, username: str = Form(..., max_length=64), password: str = Form(..., max_length=1024),
                code: str = Form("", max_length=10), next: str = Form("/", max_length=2048)) -> Response:
    """Check the credentials (rate-limited, audited); set the HttpOnly SameSite=Strict session cookie.

    A post from another site (``Origin`` not this server) is refused: login CSRF would otherwise
    log the victim into the attacker's account."""
    rt = request.app.state.rt
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        return _page(request, "login.html", {"next": "/", "error": "login from another site refused"}, 403)
    try:
        token, perms = await run_in_threadpool(_login, rt, username.strip().lower(), password, code.strip(),
                                               client_ip(request))
    except TooManyAttempts as exc:
        resp = _page(request, "login.html", {"next": _safe_next(next), "error": str(exc)}, 429)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except NotAuthenticated as exc:
        return _page(request, "login.html", {"next": _safe_next(next), "error": str(exc)}, 401)
    target = _safe_next(next)
    resp = RedirectResponse(landing(perms) if target == "/" else target, status_code=303)
    resp.set_cookie(COOKIE, token, max_age=accounts.LIFETIME_MS // 1000, httponly=True, samesite="strict",
                    secure=rt.settings.cookie_secure or request.url.scheme == "https", path="/")
    return resp


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the login session (audited; ended even when the audit log is unavailable) and clear the cookie."""
    rt, p = request.app.state.rt, principal(request)
    with rt.sessions() as db:
        accounts.end_login(db, request.cookies.get(COOKIE))
        db.commit()
    try:
        rt.audit.record(actor=p.actor, action="logout", resource="dashboard", origin_ip=client_ip(request))
    except AuditUnavailable:
        logging.getLogger("replayvault.audit").error("logout could not be audited; the session was ended")
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/")
    return resp


# -- sessions and replay -----------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
def sessions_page(request: Request) -> HTMLResponse:
    """Sessions list: time, duration, pages, clicks, signals, masked items; search filters, sorting and
    paging (query string: see :func:`.dashboard_behaviour.session_list`)."""
    from .dashboard_behaviour import session_list  # imported here: that module builds on this one

    ctx, status = session_list(request)
    return _page(request, "sessions.html", ctx, status)


def _session_ctx(request: Request, session_id: str, grant_id: str | None, error: str | None = None) -> dict[str, Any]:
    rt, p = request.app.state.rt, principal(request)
    summary, counts = get_session(rt, session_id)
    grant = None
    if grant_id and p.can(Permission.RECORDINGS_READ):
        try:
            with rt.sessions() as db:
                grant = use_grant(db, p, grant_id, session_id, rt.settings.training_max_age_days)
        except AccessDenied as exc:
            error = error or str(exc)
    with rt.sessions() as db:
        trained, latest = training_status(db, p.user_id, rt.settings.training_max_age_days)
    return {"s": summary, "maskings": sorted(counts.items()), "evidence": session_evidence(rt, session_id),
            "nav": "sessions", "grant": grant, "error": error,
            "purposes": [x.value for x in purposes_for(p.roles)], "trained": trained, "trained_on": latest,
            "viewers": viewers(rt, session_id) if p.can(Permission.AUDIT_READ) else None}


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: str, grant: str | None = None) -> HTMLResponse:
    """One session: summary, masking counts; the replay once a purpose is declared; who viewed it."""
    return _page(request, "session.html", _session_ctx(request, session_id, grant))


@router.post("/sessions/{session_id}/access", response_class=HTMLResponse)
def session_access(request: Request, session_id: str, purpose: str = Form("", max_length=32),
                   justification: str = Form("", max_length=400)) -> Response:
    """Declare purpose and justification (audited); then show the replay."""
    rt, p = request.app.state.rt, principal(request)
    try:
        g = declare_purpose(rt, p, session_id, purpose, justification, client_ip(request))
    except (AccessDenied, InvalidInput) as exc:
        return _page(request, "session.html", _session_ctx(request, session_id, None, str(exc)), exc.status_code)
    return RedirectResponse(f"/sessions/{quote(session_id, safe='')}?grant={g.id}", status_code=303)


@router.post("/sessions/{session_id}/exports", response_class=HTMLResponse)
def session_export(request: Request, session_id: str, purpose: str = Form("", max_length=32),
                   justification: str = Form("", max_length=400)) -> Response:
    """Request an export (waits for a privacy officer's approval)."""
    rt, p = request.app.state.rt, principal(request)
    try:
        ask_export(rt, p, session_id, purpose, justification, client_ip(request))
    except (AccessDenied, InvalidInput) as exc:
        return _page(request, "session.html", _session_ctx(request, session_id, None, str(exc)), exc.status_code)
    return RedirectResponse("/exports", status_code=303)


@router.get("/heatmaps", response_class=HTMLResponse)
def heatmaps_page(request: Request, url: str | None = None, kind: str = "click",
                  viewport: str | None = None) -> HTMLResponse:
    """Pages with their page views; with ``url``, that page's click, move or scroll map."""
    rt = request.app.state.rt
    pages = rt.analytics.pages(None)
    if kind not in ("click", "move", "scroll"):
        kind = "click"
    counts = rt.analytics.viewport_counts(url) if url else {}
    if viewport not in ("desktop", "tablet", "mobile"):
        viewport = dominant_class(counts) if url else None
    return _page(request, "heatmaps.html", {
        "pages": pages, "url": url, "kind": kind, "viewport": viewport, "counts": counts, "nav": "heatmaps"})


# -- audit, exports, training, users -----------------------------------------------------------
def _day_ms(day: str | None, end: bool = False) -> int | None:
    try:
        d = dt.datetime.combine(dt.date.fromisoformat(day or ""), dt.time.max if end else dt.time.min, dt.UTC)
    except ValueError:
        return None
    return int(d.timestamp() * 1000)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: str = "", action: str = "", resource: str = "", since: str = "",
               until: str = "", before: int | None = Query(None, ge=0, le=2**62)) -> HTMLResponse:
    """Audit log viewer with filters (user name, action prefix, resource, dates) and verification status."""
    rt = request.app.state.rt
    with rt.sessions() as db:
        names = accounts.user_names(db)
    by_name = {v: k for k, v in names.items()}
    who = user.strip().lower()
    actor = (f"user:{by_name.get(who, '?')}" if not who.startswith(("user:", "project:", "cli")) else who) if who else None
    entries = search_entries(rt, actor=actor, action=action.strip() or None, resource=resource.strip() or None,
                             since_ms=_day_ms(since), until_ms=_day_ms(until, end=True), before=before, limit=100)
    for e in entries:
        e["who"] = names.get(e["actor"].removeprefix("user:"), e["actor"])
        e["about"] = names.get(e["resource"].removeprefix("user:")) if e["resource"].startswith("user:") else None
    return _page(request, "audit.html", {
        "nav": "audit", "entries": entries, "status": verification_status(rt, max_age_s=60), "checkpoint": rt.audit.latest_checkpoint(),
        "verifier_key": rt.audit.verifier_key, "origin": rt.audit.origin,
        "f": {"user": user, "action": action, "resource": resource, "since": since, "until": until},
        "next_before": entries[-1]["idx"] if len(entries) == 100 else None})


@router.post("/audit/checkpoints")
def audit_checkpoint(request: Request) -> Response:
    """Sign a checkpoint now, then back to the audit page."""
    request.app.state.rt.audit.checkpoint()
    return RedirectResponse("/audit", status_code=303)


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request) -> HTMLResponse:
    """Export requests: the caller's own; privacy officers see all and approve or reject."""
    return _page(request, "exports.html", {"nav": "exports",
                                           "rows": list_exports(request.app.state.rt, principal(request))})


def _decide(request: Request, export_id: str, approve: bool) -> Response:
    try:
        decide(request.app.state.rt, principal(request), export_id, approve, client_ip(request))
    except AccessDenied as exc:
        return _page(request, "exports.html", {"nav": "exports", "error": str(exc),
                                               "rows": list_exports(request.app.state.rt, principal(request))},
                     exc.status_code)
    return RedirectResponse("/exports", status_code=303)


@router.post("/exports/{export_id}/approve")
def export_approve(request: Request, export_id: str) -> Response:
    """Approve (four-eyes: never one's own request)."""
    return _decide(request, export_id, True)


@router.post("/exports/{export_id}/reject")
def export_reject(request: Request, export_id: str) -> Response:
    """Reject."""
    return _decide(request, export_id, False)


@router.get("/exports/{export_id}/download")
def export_download(request: Request, export_id: str) -> Response:
    """The approved export as a JSON attachment, once (audited before decrypting)."""
    data = download_export(request.app.state.rt, principal(request), export_id, client_ip(request))
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="replayvault-{export_id}.json"'})


@router.get("/training", response_class=HTMLResponse)
def training_page(request: Request, error: str | None = None) -> HTMLResponse:
    """Each user's training status and the form to record an attestation."""
    rt = request.app.state.rt
    return _page(request, "training.html", {"nav": "training", "users": users_overview(rt),
                                            "rows": list_training(request), "error": error,
                                            "max_age": rt.settings.training_max_age_days,
                                            "today": dt.datetime.now(dt.UTC).date().isoformat()})


@router.post("/training", response_class=HTMLResponse)
def training_record(request: Request, user_id: str = Form(..., max_length=32), course: str = Form(..., max_length=100),
                    date: str = Form(..., max_length=10)) -> Response:
    """Record an attestation (audited)."""
    try:
        add_training(request, user_id, course, date)
    except InvalidInput as exc:
        resp = training_page(request, str(exc))
        resp.status_code = 400
        return resp
    return RedirectResponse("/training", status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request) -> HTMLResponse:
    """Accounts, roles, second factor, training status."""
    return _page(request, "users.html", {"nav": "users", "users": users_overview(request.app.state.rt)})


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, error: str | None = None) -> HTMLResponse:
    """Form to choose one's own password (required after an initial or reset password)."""
    return _page(request, "password.html", {"nav": "account", "error": error, "min": accounts.MIN_PASSWORD})


@router.post("/account/password", response_class=HTMLResponse)
def password_change(request: Request, current: str = Form(..., max_length=1024), new: str = Form(..., max_length=1024),
                    confirm: str = Form(..., max_length=1024)) -> Response:
    """Check the current password, set the new one (audited), then go to the user's start page."""
    rt, p = request.app.state.rt, principal(request)
    if new != confirm:
        resp = password_page(request, "the two new passwords differ")
        resp.status_code = 400
        return resp
    try:
        with rt.audit.lock, rt.sessions() as db:
            accounts.change_password(db, accounts.get_user(db, p.user_id), current, new)
            rt.audit.record(actor=p.actor, action="user.password_changed", resource=f"user:{p.user_id}",
                            origin_ip=client_ip(request), db=db)
            db.commit()
    except (NotAuthenticated, InvalidInput) as exc:
        resp = password_page(request, str(exc))
        resp.status_code = 400
        return resp
    return RedirectResponse(landing(p.permissions), status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> HTMLResponse:
    """The caller's roles, permissions, purposes and training status."""
    rt, p = request.app.state.rt, principal(request)
    with rt.sessions() as db:
        trained, latest = training_status(db, p.user_id, rt.settings.training_max_age_days)
    return _page(request, "account.html", {"nav": "account", "purposes": [x.value for x in purposes_for(p.roles)],
                                           "trained": trained, "trained_on": latest})
