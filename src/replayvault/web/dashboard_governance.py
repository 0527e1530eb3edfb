"""Dashboard pages for retention and data subject requests.

* ``/retention``: retention settings per project (from each project's policy), session counts
  (live, expiring within 7 days, awaiting the sweep, held, shredded), legal holds with the forms to
  place and release them, deletion certificates, and a button that runs the sweep now.
* ``/dsar``: data subject requests with their due dates (received + 30 days, GDPR Art. 12(3);
  overdue ones highlighted), the form to register one, and the buttons that answer them (an export
  downloads the zip; an erasure needs a ticked confirmation), plus the erasure tombstones.

Form posts carry the login session's CSRF token (checked in :mod:`.auth`); refusals come back as the
page with the error and its status code.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import AccessDenied, InvalidInput, NotFound
from ..governance import accounts, dsar, retention, shredding
from ..governance._certificates import get_certificate, list_certificates
from .api_governance import zip_response
from .auth import client_ip, principal
from .dashboard import _page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _names(request: Request) -> dict[str, str]:
    with request.app.state.rt.sessions() as db:
        return accounts.user_names(db)


def _who(names: dict[str, str], actor: str | None) -> str:
    if not actor:
        return "–"
    return names.get(actor.removeprefix("user:"), actor)


def _retention_ctx(request: Request, error: str | None = None, notice: str | None = None) -> dict[str, Any]:
    rt = request.app.state.rt
    names = _names(request)
    holds = retention.list_holds(rt, include_released=True, limit=200)
    for h in holds:
        h["placed_by_name"], h["released_by_name"] = _who(names, h["placed_by"]), _who(names, h["released_by"])
    return {"nav": "retention", "projects": retention.retention_status(rt), "holds": holds,
            "certificates": list_certificates(rt, 50), "interval_s": rt.settings.retention_interval_s,
            "error": error, "notice": notice}


@router.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request) -> HTMLResponse:
    """Retention settings per project, legal holds, deletion certificates."""
    return _page(request, "retention.html", _retention_ctx(request))


@router.post("/retention/runs", response_class=HTMLResponse)
def retention_run(request: Request) -> Response:
    """Run the sweep now; the page then says what was deleted."""
    result = shredding.sweep(request.app.state.rt, actor=principal(request).actor)
    cert = result.certificate
    notice = (f"{len(result.shredded)} sessions crypto-shredded, {len(result.held)} kept under legal hold"
              + (f"; certificate {cert['certificate']}" if cert else ""))
    return _page(request, "retention.html", _retention_ctx(request, notice=notice))


def _hold_action(request: Request, do, session_id: str, reason: str) -> Response:  # type: ignore[no-untyped-def]
    try:
        do(request.app.state.rt, session_id.strip(), reason, principal(request).actor, client_ip(request))
    except (InvalidInput, NotFound, AccessDenied) as exc:
        return _page(request, "retention.html", _retention_ctx(request, error=str(exc)), exc.status_code)
    return RedirectResponse("/retention", status_code=303)


@router.post("/retention/holds", response_class=HTMLResponse)
def hold_place(request: Request, session_id: str = Form("", max_length=64),
               reason: str = Form("", max_length=400)) -> Response:
    """Place a legal hold (session id and a 3-200 character reason)."""
    return _hold_action(request, retention.place_hold, session_id, reason)


@router.post("/retention/holds/{session_id}/release", response_class=HTMLResponse)
def hold_release(request: Request, session_id: str, reason: str = Form("", max_length=400)) -> Response:
    """Release a legal hold (with a reason)."""
    return _hold_action(request, retention.release_hold, session_id, reason)


@router.get("/retention/certificates/{certificate_id}")
def certificate_download(request: Request, certificate_id: str) -> Response:
    """A deletion certificate as a JSON attachment (exact stored bytes)."""
    body, digest = get_certificate(request.app.state.rt, certificate_id)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="deletion-certificate-{certificate_id}.json"',
        "X-Certificate-SHA256": digest})


def _dsar_ctx(request: Request, error: str | None = None, notice: str | None = None) -> dict[str, Any]:
    rt = request.app.state.rt
    names = _names(request)
    rows = dsar.list_requests(rt)
    for r in rows:
        r["requested_by_name"], r["completed_by_name"] = _who(names, r["requested_by"]), _who(names, r["completed_by"])
    return {"nav": "dsar", "rows": rows, "tombstones": dsar.list_tombstones(rt, 50), "deadline": dsar.DEADLINE_DAYS,
            "error": error, "notice": notice}


@router.get("/dsar", response_class=HTMLResponse)
def dsar_page(request: Request) -> HTMLResponse:
    """Data subject requests with due dates, the registration form, erasure tombstones."""
    return _page(request, "dsar.html", _dsar_ctx(request))


def _dsar_error(request: Request, exc: InvalidInput | NotFound | AccessDenied) -> HTMLResponse:
    return _page(request, "dsar.html", _dsar_ctx(request, error=str(exc)), exc.status_code)


@router.post("/dsar/requests", response_class=HTMLResponse)
def dsar_open(request: Request, kind: str = Form("", max_length=16), subject: str = Form("", max_length=200)) -> Response:
    """Register a request (the subject id is kept only as its digest)."""
    try:
        dsar.open_request(request.app.state.rt, kind, subject, principal(request).actor, client_ip(request))
    except InvalidInput as exc:
        return _dsar_error(request, exc)
    return RedirectResponse("/dsar", status_code=303)


@router.post("/dsar/requests/{request_id}/export")
def dsar_export(request: Request, request_id: str) -> Response:
    """Answer an export request: the zip as an attachment (audited first)."""
    p = principal(request)
    try:
        data = dsar.export_request(request.app.state.rt, request_id, p.actor, client_ip(request), principal=p)
    except (InvalidInput, NotFound, AccessDenied) as exc:
        return _dsar_error(request, exc)
    return zip_response(data, request_id)


@router.post("/dsar/requests/{request_id}/erasure", response_class=HTMLResponse)
def dsar_erase(request: Request, request_id: str, confirm: str = Form("", max_length=8)) -> Response:
    """Answer an erasure request (needs the confirmation box ticked)."""
    if confirm != "yes":
        return _dsar_error(request, InvalidInput("tick the confirmation box: an erasure cannot be undone"))
    try:
        t = dsar.erase_request(request.app.state.rt, request_id, principal(request).actor, client_ip(request))
    except (InvalidInput, NotFound, AccessDenied) as exc:
        return _dsar_error(request, exc)
    notice = (f"request {t['request']}: {t['sessions']} sessions erased"
              + (f", {len(t['held_session_ids'])} kept under legal hold" if t["held_session_ids"] else "")
              + (f"; certificate {t['certificate']}" if t["certificate"] else ""))
    return _page(request, "dsar.html", _dsar_ctx(request, notice=notice))
