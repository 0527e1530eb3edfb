"""REST API of the compliance metrics and checklist (:mod:`replayvault.compliance.metrics`, ``.checklist``).

Both routes need ``compliance:read`` (compliance_lead, privacy_officer, security_specialist). ``from`` and
``to`` are days ``YYYY-MM-DD`` (UTC, ``to`` included) or epoch ms (``to`` excluded); ``project`` a
project id. 400 names a bad parameter.

    GET /api/v1/compliance/metrics?from=&to=&project=     the five metrics with the records behind them
    GET /api/v1/compliance/checklist?from=&to=&project=   the seven checklist items, green/amber/red with evidence
    GET /api/v1/compliance/consent-receipts?from=&to=&project=&session=&limit=&offset=   the consent ledger
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from ..compliance.checklist import checklist as run_checklist
from ..compliance.metrics import compute_metrics, parse_period
from ..governance.consent import MAX_LIST, list_receipts
from .auth import client_ip, principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])

_FROM = Query(None, alias="from", max_length=20)
_TO = Query(None, max_length=20)
_PROJECT = Query(None, max_length=64)


@router.get("/metrics", summary="The five compliance metrics")
async def metrics(request: Request, from_: str | None = _FROM, to: str | None = _TO,
                  project: str | None = _PROJECT) -> dict[str, Any]:
    """``{"period": {"from_ms", "to_ms", "project"}, "metrics": [{"name", "title", "definition", "value",
    "numerator", "denominator", "unit", "period", "detail", "notes", "links": {group: {"kind", "total",
    "ids"}}}]}`` (``kind``: ``session`` ids, ``audit`` indexes, ``record`` ids; at most 100 ids each)."""
    period = parse_period(from_, to, project)
    found = await run_in_threadpool(compute_metrics, request.app.state.rt, period)
    return {"period": period.as_dict(), "metrics": [m.as_dict() for m in found]}


@router.get("/checklist", summary="The compliance checklist")
async def checklist(request: Request, from_: str | None = _FROM, to: str | None = _TO,
                    project: str | None = _PROJECT) -> dict[str, Any]:
    """``{"period", "items": [{"key", "title", "status": "green"|"amber"|"red", "evidence", "facts", "link"}]}``."""
    period = parse_period(from_, to, project)
    items = await run_in_threadpool(run_checklist, request.app.state.rt, period)
    return {"period": period.as_dict(), "items": [i.as_dict() for i in items]}


@router.get("/consent-receipts", summary="The consent ledger: receipts received in a period")
async def consent_receipts(request: Request, from_: str | None = _FROM, to: str | None = _TO,
                           project: str | None = _PROJECT, session: str | None = Query(None, max_length=64),
                           limit: int = Query(100, ge=1, le=MAX_LIST), offset: int = Query(0, ge=0, le=10**9)
                           ) -> dict[str, Any]:
    """``{"period", "total", "receipts": [{"id", "project_id", "session_id", "decision", "method", "banner_id",
    "banner_version", "purposes", "tc_string", "tcf", "gpc", "dnt", "client_ms", "decided_ms", "received_ms",
    "sha256"}]}``, newest first; each ``sha256`` is also in the audit log (``consent.receipt``). The read is
    audited (``consent.ledger_read``)."""
    period = parse_period(from_, to, project)
    rt = request.app.state.rt

    def read() -> dict[str, Any]:
        found = list_receipts(rt, from_ms=period.from_ms, to_ms=period.to_ms, project=period.project,
                              session_id=session, limit=limit, offset=offset)
        # Reads of the ledger are audited like other compliance records (who looked at which receipts).
        rt.audit.record(actor=principal(request).actor, action="consent.ledger_read", resource="consent_receipts",
                        origin_ip=client_ip(request),
                        details={"period": period.as_dict(), "session": session, "returned": len(found["receipts"])})
        return found

    found = await run_in_threadpool(read)
    return {"period": period.as_dict(), **found}
