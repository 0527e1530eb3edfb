"""Integration with SIEM and GRC systems: JSON Lines feeds, Prometheus metrics, and the webhook push loop.

    GET /api/v1/siem/incidents.jsonl?since_index=&since_ms=&limit=   compliance incidents (``audit:read``)
    GET /api/v1/siem/audit.jsonl?since_index=&since_ms=&limit=       audit entries with leaf hashes (``audit:read``)
    GET /metrics                                                      Prometheus text format 0.0.4 (``metrics:read``)

The feeds answer ``application/x-ndjson`` (schema in :mod:`replayvault.compliance.integration`) with
the cursor in headers: ``X-Replayvault-Next-Index`` (pass it as ``since_index`` next time) and
``X-Replayvault-Log-Size`` (entries in the log when read; equal to the next index once caught up).
A bad parameter is a 400 JSON error naming it; a missing or altered entry in the page a 500 JSON error.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from ..compliance import integration, prometheus, webhook
from ..errors import ReplayVaultError
from ..runtime import Runtime

__all__ = ["router", "push_loop"]

router = APIRouter()
log = logging.getLogger("replayvault.siem")

#: Largest cursor value accepted (SQLite and PostgreSQL BIGINT hold 2^63 - 1).
_MAX_INT = 2**62


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


def _jsonl(page: integration.Page) -> Response:
    return Response(integration.jsonl(page.lines), media_type=integration.CONTENT_TYPE,
                    headers={"X-Replayvault-Next-Index": str(page.next_index), "X-Replayvault-Log-Size": str(page.size)})


_SINCE_INDEX = Query(0, ge=0, le=_MAX_INT, description="First audit index to cover (the previous X-Replayvault-Next-Index).")
_SINCE_MS = Query(None, ge=0, le=_MAX_INT, description="Start at the first entry recorded at or after this time (epoch ms).")
_LIMIT = Query(integration.DEFAULT_LIMIT, ge=1, le=integration.MAX_LIMIT, description="Audit entries covered per page.")


@router.get("/api/v1/siem/incidents.jsonl", summary="Compliance incidents as JSON Lines")
def incidents_jsonl(request: Request, since_index: int = _SINCE_INDEX, since_ms: int | None = _SINCE_MS,
                    limit: int = _LIMIT) -> Response:
    """Masking and access-policy incidents of the audit entries ``[since_index, X-Replayvault-Next-Index)``."""
    return _jsonl(integration.incident_page(_rt(request), since_index=since_index, since_ms=since_ms, limit=limit))


@router.get("/api/v1/siem/audit.jsonl", summary="Audit entries as JSON Lines")
def audit_jsonl(request: Request, since_index: int = _SINCE_INDEX, since_ms: int | None = _SINCE_MS,
                limit: int = _LIMIT) -> Response:
    """Canonical audit entries with index and leaf hash, ``[since_index, X-Replayvault-Next-Index)``."""
    return _jsonl(integration.audit_page(_rt(request), since_index=since_index, since_ms=since_ms, limit=limit))


@router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    """Counters and gauges of :mod:`replayvault.compliance.prometheus`, computed on each scrape."""
    return Response(prometheus.metrics_text(_rt(request)), media_type=prometheus.CONTENT_TYPE)


async def push_loop(rt: Runtime) -> None:
    """``serve``'s webhook push: one round (:func:`~replayvault.compliance.webhook.push`) at start and then
    every ``webhook_interval_s`` seconds, doubled per failed round (at most 1 h). Errors are logged by
    kind only (never the secret, the URL or a body); the cursor keeps what was not delivered."""
    while True:
        failures = 0
        try:
            result = await run_in_threadpool(webhook.push, rt)
            if result.lines:
                log.info("webhook: %d lines in %d batches delivered; next index %d", result.lines, result.batches,
                         result.next_index)
            if result.error:
                failures = webhook.load_state(webhook.state_path(rt.settings)).consecutive_failures
        except ReplayVaultError as exc:  # e.g. no secret file, or one with loose permissions
            log.error("webhook push failed: %s", exc)
            failures = 1
        except Exception as exc:  # database trouble: keep serving, try again later (statements are not logged)
            log.error("webhook push failed: %s", type(exc).__name__)
            failures = 1
        await asyncio.sleep(webhook.next_delay(rt.settings.webhook_interval_s, failures))
