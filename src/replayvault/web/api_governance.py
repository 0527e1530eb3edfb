"""REST API for retention, legal holds and data subject requests (``/api/v1``).

Every error is JSON ``{"error": message, "status": code}``; a bad parameter is a 400 naming it.
Times are epoch ms. Permissions (governance.permissions): ``retention:manage``, ``legal_hold:manage``
and ``dsar:manage`` (privacy_officer, compliance_lead); certificates need ``audit:read``.

    GET  /api/v1/retention                                  retention settings and session counts per project
    POST /api/v1/retention/runs                             run the sweep now (``{"dry_run": true}`` to preview)
    GET  /api/v1/retention/certificates[/{certificate_id}]  deletion certificates
    GET  /api/v1/legal-holds                                legal holds (``?all=true``: released ones too)
    POST /api/v1/sessions/{id}/legal-hold[/release]         place / release a hold ``{"reason"}``
    GET  /api/v1/dsar/requests                              data subject requests with their due dates
    POST /api/v1/dsar/requests                              register ``{"kind": "export"|"erasure", "subject"}``
    POST /api/v1/dsar/requests/{request_id}/export          answer an export: the zip
    POST /api/v1/dsar/requests/{request_id}/erasure         answer an erasure ``{"confirm": true}``
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..errors import InvalidInput
from ..governance import dsar, retention, shredding
from ..governance._certificates import get_certificate, list_certificates
from ..runtime import Runtime
from .auth import client_ip, principal

__all__ = ["router", "zip_response"]

router = APIRouter(prefix="/api/v1", tags=["governance"])


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


@router.get("/retention", summary="Retention settings and session counts per project")
def retention_overview(request: Request) -> dict[str, Any]:
    """``{"projects": [{"project_id", "name", "default_days", "jurisdiction", "categories", "sha256", "live",
    "expiring_7d", "awaiting_sweep", "held", "shredded", "next_expiry_ms"}], "interval_s"}``."""
    rt = _rt(request)
    return {"projects": retention.retention_status(rt), "interval_s": rt.settings.retention_interval_s}


@router.post("/retention/runs", summary="Run the retention sweep now")
async def retention_run(request: Request, dry_run: bool = Body(False, embed=True)) -> dict[str, Any]:
    """Crypto-shred every expired session no legal hold keeps (audited, certified); with ``dry_run`` only
    list them. ``{"dry_run", "now_ms", "expired", "held", "shredded", "certificate": {"id", "sha256"}|null}``."""
    rt, p = _rt(request), principal(request)
    result = await run_in_threadpool(shredding.sweep, rt, actor=p.actor, dry_run=dry_run)
    return result.as_dict()


@router.get("/retention/certificates", summary="Deletion certificates")
def certificates(request: Request, limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    """Newest first: ``id``, ``created_ms``, ``reason``, ``actor``, ``sessions``, ``chunks``, ``stored_bytes``,
    ``analytics_rows``, ``checkpoint_size``, ``sha256``."""
    return list_certificates(_rt(request), limit)


@router.get("/retention/certificates/{certificate_id}", summary="One deletion certificate (canonical JSON)")
def certificate(request: Request, certificate_id: str) -> Response:
    """The certificate exactly as stored (its SHA-256 is in ``X-Certificate-SHA256`` and in the audit log)."""
    body, digest = get_certificate(_rt(request), certificate_id)
    return Response(body, media_type="application/json", headers={"X-Certificate-SHA256": digest})


@router.get("/legal-holds", summary="Legal holds")
def holds(request: Request,
          include_released: bool = Query(False, alias="all", description="Also released holds")) -> list[dict[str, Any]]:
    """Newest first: ``id``, ``session_id``, ``reason``, ``placed_by``, ``placed_ms``, ``released_by``,
    ``release_reason``, ``released_ms``, ``active``, ``expires_ms``."""
    return retention.list_holds(_rt(request), include_released=include_released)


@router.post("/sessions/{session_id}/legal-hold", summary="Place a legal hold on a session")
def hold(request: Request, session_id: str, reason: str = Body(..., embed=True, max_length=400)) -> dict[str, Any]:
    """``{"reason"}`` (3-200 characters: case or matter id) -> the hold; 404 for an unknown or expired
    session, 400 when already held."""
    h = retention.place_hold(_rt(request), session_id, reason, principal(request).actor, client_ip(request))
    return {"id": h.id, "session_id": h.session_id, "reason": h.reason, "placed_ms": h.placed_ms, "active": True}


@router.post("/sessions/{session_id}/legal-hold/release", summary="Release a session's legal hold")
def release(request: Request, session_id: str, reason: str = Body(..., embed=True, max_length=400)) -> dict[str, Any]:
    """``{"reason"}`` (3-200 characters) -> the released hold; 400 when the session has no active hold."""
    h = retention.release_hold(_rt(request), session_id, reason, principal(request).actor, client_ip(request))
    return {"id": h.id, "session_id": h.session_id, "reason": h.reason, "released_ms": h.released_ms,
            "release_reason": h.release_reason, "active": False}


@router.get("/dsar/requests", summary="Data subject requests with their due dates")
def dsar_requests(request: Request) -> list[dict[str, Any]]:
    """Open requests first (earliest due first): ``id``, ``kind``, ``subject_digest``, ``status``,
    ``requested_by``, ``created_ms``, ``due_ms`` (received + 30 days, GDPR Art. 12(3)), ``completed_ms``,
    ``sessions``, ``certificate_id``, ``overdue``, ``days_left``."""
    return dsar.list_requests(_rt(request))


@router.post("/dsar/requests", summary="Register a data subject request")
def dsar_open(request: Request, kind: str = Body(..., max_length=16),
              subject: str = Body(..., max_length=200)) -> dict[str, Any]:
    """``{"kind": "export"|"erasure", "subject": "<the id given to replayvault.identify>"}`` -> the request
    (the subject is kept only as its digest)."""
    return dsar.open_request(_rt(request), kind, subject, principal(request).actor, client_ip(request))


def zip_response(data: bytes, request_id: str) -> Response:
    """A zip attachment named after the request."""
    return Response(data, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="replayvault-{request_id}.zip"', "Cache-Control": "no-store"})


@router.post("/dsar/requests/{request_id}/export", summary="Answer an export request (zip of JSON)")
async def dsar_export(request: Request, request_id: str) -> Response:
    """The subject's live sessions as a zip (manifest, metadata, masked events, consent receipts, audit
    entries); audited (purpose ``dsar``) before anything is decrypted. Needs a current training."""
    rt, p = _rt(request), principal(request)
    data = await run_in_threadpool(dsar.export_request, rt, request_id, p.actor, client_ip(request), principal=p)
    return zip_response(data, request_id)


@router.post("/dsar/requests/{request_id}/erasure", summary="Answer an erasure request")
async def dsar_erase(request: Request, request_id: str, confirm: bool = Body(False, embed=True)) -> dict[str, Any]:
    """``{"confirm": true}`` -> the tombstone ``{"request", "subject_digest", "erased_ms", "sessions",
    "session_ids", "held_session_ids", "certificate", "audit_idx"}``."""
    if confirm is not True:
        raise InvalidInput('confirm the erasure with {"confirm": true}: it cannot be undone')
    rt = _rt(request)
    return await run_in_threadpool(dsar.erase_request, rt, request_id, principal(request).actor, client_ip(request))
