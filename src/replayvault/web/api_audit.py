"""REST API, version 1: the audit log (entries, RFC 9162 proofs, checkpoints) and four-eyes exports.

    GET  /api/v1/audit/entries?actor=&action=&resource=&since_ms=&until_ms=&before=&limit=
    GET  /api/v1/audit/entries/{idx}                one entry with its leaf hash
    GET  /api/v1/audit/entries/{idx}/proof?tree_size=   inclusion proof bundle (verify offline)
    GET  /api/v1/audit/consistency?first=&second=   consistency proof bundle between two checkpoints
    GET  /api/v1/audit/checkpoint                   latest signed checkpoint
    POST /api/v1/audit/checkpoints                  sign a checkpoint now
    GET  /api/v1/audit/public-key                   the verifier key (C2SP signed-note format)
    GET  /api/v1/audit/verify                       recompute the log and check every checkpoint
    GET  /api/v1/exports                            export requests (own; all for privacy officers)
    POST /api/v1/sessions/{id}/exports              {"purpose", "justification"} -> pending request
    POST /api/v1/exports/{id}/approve | /reject     privacy officer, never the requester
    GET  /api/v1/exports/{id}/download              requester, once, after approval
"""

from __future__ import annotations

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from ..audit.log import b64
from ..audit.query import search_entries
from ..errors import AuditTampered
from ..governance.reading import ask_export, decide, download_export, list_exports
from ..runtime import Runtime
from .auth import client_ip, principal

__all__ = ["router", "verification_status"]

router = APIRouter(prefix="/api/v1")

#: Largest integer accepted for indexes, sizes and times (SQLite and PostgreSQL BIGINT hold 2^63 - 1).
MAX_INT = 2**62


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


@router.get("/audit/entries", summary="Search the audit log")
def entries(request: Request, actor: str | None = Query(None, max_length=80), action: str | None = Query(None, max_length=64),
            resource: str | None = Query(None, max_length=200), since_ms: int | None = Query(None, ge=0, le=MAX_INT),
            until_ms: int | None = Query(None, ge=0, le=MAX_INT),
            before: int | None = Query(None, ge=0, le=MAX_INT, description="only entries with idx below this (paging)"),
            limit: int = Query(100, ge=1, le=1000)) -> dict:
    """Newest first: ``{"entries": [...], "next_before": idx or null}``. ``action`` matches any part of the
    action name, ``resource`` a prefix, ``actor`` exactly."""
    items = search_entries(_rt(request), actor=actor, action=action, resource=resource, since_ms=since_ms,
                           until_ms=until_ms, before=before, limit=limit)
    return {"entries": items, "next_before": items[-1]["idx"] if len(items) == limit else None}


@router.get("/audit/entries/{idx}", summary="One audit entry")
def entry(request: Request, idx: int = Path(..., ge=0, le=MAX_INT)) -> dict:
    """The entry's fields plus ``leaf_hash`` (base64)."""
    e = _rt(request).audit.entry(idx)
    return {**e.as_dict(), "leaf_hash": b64(e.leaf_hash())}


@router.get("/audit/entries/{idx}/proof", summary="Inclusion proof of an entry (RFC 9162 §2.1.3)")
def proof(request: Request, idx: int = Path(..., ge=0, le=MAX_INT), tree_size: int | None = Query(None, ge=1, le=MAX_INT)) -> dict:
    """A bundle ``replayvault audit verify-proof`` checks offline with only the public key."""
    return _rt(request).audit.inclusion_bundle(idx, tree_size)


@router.get("/audit/consistency", summary="Consistency proof between two checkpoints (RFC 9162 §2.1.4)")
def consistency(request: Request, first: int = Query(..., ge=0, le=MAX_INT),
                second: int | None = Query(None, ge=0, le=MAX_INT)) -> dict:
    """Both checkpoints (signed notes) and the proof; ``second`` defaults to the latest checkpoint."""
    return _rt(request).audit.consistency_bundle(first, second)


@router.get("/audit/checkpoint", summary="Latest signed checkpoint")
def latest(request: Request) -> dict:
    """``{"tree_size", "root_hash", "note", "created_ms"}`` (signed now if none exists yet)."""
    rt = _rt(request)
    cp = rt.audit.latest_checkpoint() or rt.audit.checkpoint()
    return cp.as_dict()


@router.post("/audit/checkpoints", summary="Sign a checkpoint now")
def sign_now(request: Request) -> dict:
    """Signs the current tree (no-op when it did not grow since the last checkpoint)."""
    return _rt(request).audit.checkpoint().as_dict()


@router.get("/audit/public-key", summary="Checkpoint verifier key")
def public_key(request: Request) -> dict:
    """``{"verifier_key", "origin"}``: give these to auditors for offline verification."""
    rt = _rt(request)
    return {"verifier_key": rt.audit.verifier_key, "origin": rt.audit.origin}


def verification_status(rt: Runtime, max_age_s: float = 0.0) -> dict:
    """``audit verify`` as a dict: ``ok``, ``entries``, ``checkpoints``, latest checkpoint, ``problems``,
    and ``verified_at`` (epoch s); a result up to ``max_age_s`` old is reused."""
    result, at = rt.audit.verify_recent(max_age_s)
    if isinstance(result, AuditTampered):
        return {"ok": False, "problems": [str(result)], "first_bad_index": result.index, "verified_at": at}
    return {**result.as_dict(), "verified_at": at}


@router.get("/audit/verify", summary="Verify the whole audit log")
async def verify(request: Request) -> dict:
    """Recompute every leaf hash and check every checkpoint signature and root."""
    return await run_in_threadpool(verification_status, _rt(request))


@router.get("/exports", summary="Export requests")
def exports(request: Request) -> list[dict]:
    """The caller's own requests; privacy officers see every request."""
    return list_exports(_rt(request), principal(request))


@router.post("/sessions/{session_id}/exports", summary="Request an export of a recording")
def request_export(request: Request, session_id: str, purpose: str = Body(..., max_length=32),
                   justification: str = Body(..., max_length=400)) -> dict:
    """``{"purpose", "justification"}`` -> ``{"id", "status": "pending"}``."""
    row = ask_export(_rt(request), principal(request), session_id, purpose, justification, client_ip(request))
    return {"id": row.id, "status": row.status, "session_id": session_id}


@router.post("/exports/{export_id}/approve", summary="Approve an export (four-eyes)")
def approve(request: Request, export_id: str) -> dict:
    """A privacy officer other than the requester approves."""
    row = decide(_rt(request), principal(request), export_id, True, client_ip(request))
    return {"id": row.id, "status": row.status}


@router.post("/exports/{export_id}/reject", summary="Reject an export")
def reject(request: Request, export_id: str) -> dict:
    """A privacy officer other than the requester rejects."""
    row = decide(_rt(request), principal(request), export_id, False, client_ip(request))
    return {"id": row.id, "status": row.status}


@router.get("/exports/{export_id}/download", summary="Download an approved export (once)")
def download(request: Request, export_id: str) -> JSONResponse:
    """JSON attachment ``{"export", "session", "events"}``; audited before the events are decrypted."""
    data = download_export(_rt(request), principal(request), export_id, client_ip(request))
    return JSONResponse(data, headers={"Content-Disposition": f'attachment; filename="replayvault-{export_id}.json"',
                                       "Cache-Control": "no-store"})
