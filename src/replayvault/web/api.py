"""REST API, version 1 (``/api/v1``). Every error is JSON ``{"error": message, "status": code}``.

Collector routes (write key, CORS per project):
    POST /api/v1/ingest     rrweb batch + consent token -> 200 {"accepted", "duplicate", "events", "maskings", "dropped"}
    POST /api/v1/consent    consent receipt -> 200 {"receipt", "decision", "consent_token"?, "scope"?}
    POST /api/v1/consent/renew  a new consent token while the session's grant stands
Read routes (login cookie or API token; the permission of each is in governance.permissions):
    GET  /api/v1/sessions, /api/v1/sessions/{id}, /api/v1/pages, /api/v1/heatmaps
    GET  /api/v1/privacy/capture-compliance   stored sessions without a masking incident / stored sessions
    POST /api/v1/sessions/{id}/access   declare purpose + justification -> grant id
    GET  /api/v1/sessions/{id}/events   masked rrweb events under a grant (audited first)
    POST /api/v1/sessions/{id}/seeks    log a jump inside the replay
    GET  /api/v1/sessions/{id}/viewers  who looked at this session (audit entries)
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.requests import ClientDisconnect
from sqlalchemy import select

from ..db.models import Project
from ..errors import BatchTooLarge, MalformedBatch, OriginNotAllowed, ReplayVaultError
from ..ingest.projects import origin_allowed, project_for_key
from ..governance.consent import admit, record_receipt, renew
from ..ingest.service import accept_batch
from ..ingest.validate import decode_body, parse_consent, parse_ingest, parse_renewal
from ..governance.reading import declare_purpose, read_events, record_seek, viewers
from ..recordings import capture_compliance, get_session, list_sessions, session_evidence
from ..runtime import Runtime
from . import heatmaps
from .auth import client_ip, principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")

_ALLOW_HEADERS = "Content-Type, Content-Encoding, X-Replayvault-Key"


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BatchTooLarge(f"request body is larger than {limit} bytes")
    buf = bytearray()
    try:
        async for part in request.stream():
            buf += part
            if len(buf) > limit:
                raise BatchTooLarge(f"request body is larger than {limit} bytes")
    except ClientDisconnect:
        raise MalformedBatch("client disconnected before the body was complete") from None
    return bytes(buf)


def _authorize(rt: Runtime, request: Request) -> Project:
    key = request.headers.get("x-replayvault-key") or request.query_params.get("key")
    origin = request.headers.get("origin")
    with rt.sessions() as db:
        project = project_for_key(db, key)
    if not origin_allowed(project, origin):
        raise OriginNotAllowed()
    return project


def _cors(response: Response, origin: str | None) -> Response:
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    return response


async def _collector(request: Request, handle) -> JSONResponse:  # type: ignore[no-untyped-def]
    rt = _rt(request)
    origin = request.headers.get("origin")
    try:
        project = await run_in_threadpool(_authorize, rt, request)
        raw = await _read_body(request, rt.settings.max_batch_bytes)
        data = decode_body(raw, request.headers.get("content-encoding"), rt.settings.max_batch_bytes)
        payload = await run_in_threadpool(handle, rt, project, data)
    except ReplayVaultError as exc:
        if not isinstance(exc, (OriginNotAllowed,)) and origin:
            exc.cors_origin = origin  # type: ignore[attr-defined]  # let the tracker read the reason
        raise
    return _cors(JSONResponse(payload), origin)  # type: ignore[return-value]


def _ingest(rt: Runtime, project: Project, data: bytes) -> dict:
    req = parse_ingest(data, rt.settings.max_batch_events)
    admission = admit(rt, project, req)  # consent token and granted periods (governance.consent)
    out: dict = {"accepted": True, "duplicate": False, "session_id": req.session_id, "seq": req.seq, "events": 0,
                 "maskings": {}, "dropped": admission.dropped}
    if admission.request.events:
        res = accept_batch(rt, project, admission.request)
        out.update(duplicate=res.duplicate, events=res.events, maskings=res.maskings,
                   dropped=admission.dropped + res.dropped)
    if admission.consent_token:
        out.update(consent_token=admission.consent_token, token_ttl_ms=admission.token_ttl_ms)
    return out


def _consent(rt: Runtime, project: Project, data: bytes) -> dict:
    return record_receipt(rt, project, parse_consent(data))


def _renew(rt: Runtime, project: Project, data: bytes) -> dict:
    sid, token = parse_renewal(data)
    return {"session_id": sid, **renew(rt, project, sid, token)}


@router.post("/ingest", summary="Accept one rrweb batch")
async def ingest(request: Request) -> JSONResponse:
    """Check consent, then validate, mask, seal and store a batch. 401 bad key, 403 origin or no valid consent
    token, 400 malformed, 413 too large, 409 consent withdrawn."""
    return await _collector(request, _ingest)


@router.post("/consent", summary="Record a consent receipt")
async def consent(request: Request) -> JSONResponse:
    """Store a consent receipt (granted, refused, withdrawn, skipped); a grant returns the session's consent
    token and capture scope. GPC, DNT and TCF strings are decided by the collector (governance.consent)."""
    return await _collector(request, _consent)


@router.post("/consent/renew", summary="Renew a session's consent token")
async def consent_renew(request: Request) -> JSONResponse:
    """``{"session_id", "consent_token"}`` -> a new token while the session's grant stands; 409 after a withdrawal."""
    return await _collector(request, _renew)


def _any_project_allows(rt: Runtime, origin: str) -> bool:
    with rt.sessions() as db:
        return any(origin_allowed(p, origin) for p in db.scalars(select(Project)))


@router.options("/ingest", include_in_schema=False)
@router.options("/consent", include_in_schema=False)
@router.options("/consent/renew", include_in_schema=False)
async def preflight(request: Request) -> Response:
    """CORS preflight: allowed only for origins some project lists (the POST then checks its own project)."""
    origin = request.headers.get("origin")
    if not origin or not await run_in_threadpool(_any_project_allows, _rt(request), origin):
        return JSONResponse({"error": "origin is not allowed", "status": 403}, status_code=403)
    resp = Response(status_code=204)
    resp.headers["Access-Control-Allow-Methods"] = "POST"
    resp.headers["Access-Control-Allow-Headers"] = _ALLOW_HEADERS
    resp.headers["Access-Control-Max-Age"] = "600"
    return _cors(resp, origin)


@router.get("/sessions", summary="List recorded sessions")
def sessions(request: Request, project: str | None = None) -> list[dict]:
    """Sessions newest first: id, start/end (ms epoch), duration_ms, page_views, clicks, masked_items..."""
    return [s.as_dict() for s in list_sessions(_rt(request), project)]


@router.get("/sessions/{session_id}", summary="One session with its masking counts and evidence")
def session(request: Request, session_id: str) -> dict:
    """Summary of one session plus ``maskings`` (kind -> count) and ``evidence``: one row per kind,
    location and who masked it (``browser``), with ``incident`` true for personal data the browser
    should have masked."""
    summary, counts = get_session(_rt(request), session_id)
    return {**summary.as_dict(), "maskings": counts,
            "evidence": [r.as_dict() for r in session_evidence(_rt(request), session_id)]}


@router.get("/privacy/capture-compliance", summary="Masking incidents over the recordings stored now")
def capture(request: Request, project: str | None = Query(None, max_length=64)) -> dict:
    """Stored sessions without a masking incident / stored sessions, now: ``{"sessions",
    "sessions_with_incidents", "incidents", "rate"}`` (the sessions list's banner). The compliance metric
    ``data_capture`` (``/api/v1/compliance/metrics``) answers for a period and keeps counting recordings
    deleted since (their incidents come from the audit log), so the two differ once sessions are deleted."""
    return capture_compliance(_rt(request), project)


@router.post("/sessions/{session_id}/access", summary="Declare a purpose for reading one recording")
def access(request: Request, session_id: str, purpose: str = Body(..., max_length=32),
           justification: str = Body(..., max_length=400)) -> dict:
    """JSON ``{"purpose", "justification"}`` -> ``{"grant", "expires_ms", "purpose"}``; 403 names the reason."""
    g = declare_purpose(_rt(request), principal(request), session_id, purpose, justification, client_ip(request))
    return {"grant": g.id, "expires_ms": g.expires_ms, "purpose": g.purpose, "session_id": session_id}


@router.get("/sessions/{session_id}/events", summary="Masked rrweb events of a session (purpose-bound)")
def events(request: Request, session_id: str, grant: str | None = Query(None, max_length=40)) -> JSONResponse:
    """The decrypted, masked rrweb events under ``grant`` (from ``POST .../access``); the view is
    audited before the events are sent, and refused (503) when the audit log cannot be written."""
    data = read_events(_rt(request), principal(request), session_id, grant, client_ip(request))
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


@router.post("/sessions/{session_id}/seeks", summary="Log a jump inside a replay")
def seeks(request: Request, session_id: str, grant: str = Body(..., max_length=40),
          from_ms: int = Body(..., ge=0, le=2**62), to_ms: int = Body(..., ge=0, le=2**62)) -> dict:
    """JSON ``{"grant", "from_ms", "to_ms"}`` (offsets from the recording's start, ms) -> ``{"logged": true}``."""
    record_seek(_rt(request), principal(request), session_id, grant, from_ms, to_ms, client_ip(request))
    return {"logged": True}


@router.get("/sessions/{session_id}/viewers", summary="Who viewed a session")
def session_viewers(request: Request, session_id: str) -> list[dict]:
    """Audit entries of views, declarations and exports of this session, newest first."""
    return viewers(_rt(request), session_id)


@router.get("/pages", summary="Recorded pages (URL without query) with page views and clicks")
def pages(request: Request, project: str | None = None) -> list[dict]:
    """One row per URL: ``url``, ``page_views``, ``clicks``."""
    return _rt(request).analytics.pages(project)


@router.get("/heatmaps", summary="Click, move or scroll heatmap of a page")
def heatmap(
    request: Request,
    url: str = Query(..., max_length=2048, description="Page URL; query string and fragment are ignored"),
    kind: Literal["click", "move", "scroll"] = "click",
    viewport: Literal["desktop", "tablet", "mobile"] | None = None,
    format: Literal["json", "png"] = "json",
    project: str | None = None,
    since_ms: int | None = Query(None, ge=0, le=2**53, description="From (epoch ms, inclusive)"),
    until_ms: int | None = Query(None, ge=0, le=2**53, description="To (epoch ms, exclusive)"),
) -> Response:
    """JSON grid (``format=json``) or a PNG image drawn over the page backdrop (``format=png``)."""
    return heatmaps.respond(_rt(request), url=url, kind=kind, viewport=viewport, fmt=format, project=project,
                            since_ms=since_ms, until_ms=until_ms)
