"""Searching the audit log (the dashboard viewer and ``GET /api/v1/audit/entries``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..db.models import AuditEntry
from ..runtime import Runtime
from .log import b64, row_entry

__all__ = ["search_entries"]


def search_entries(rt: Runtime, *, actor: str | None = None, action: str | None = None, resource: str | None = None,
                   since_ms: int | None = None, until_ms: int | None = None, before: int | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
    """Entries newest first, each its fields plus ``leaf_hash`` (base64).

    Args:
        actor, resource: exact match (``user:u_…``, ``session:<id>``).
        action: prefix match (``recording.`` finds views, seeks and exports).
        since_ms, until_ms: time bounds, ms since the epoch, inclusive.
        before: only entries with a smaller index (paging backwards).
        limit: at most this many (1-1000).
    """
    q = select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(max(1, min(limit, 1000)))
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if action:
        q = q.where(AuditEntry.action.startswith(action, autoescape=True))
    if resource:
        q = q.where(AuditEntry.resource == resource)
    if since_ms is not None:
        q = q.where(AuditEntry.time_ms >= since_ms)
    if until_ms is not None:
        q = q.where(AuditEntry.time_ms <= until_ms)
    if before is not None:
        q = q.where(AuditEntry.idx < before)
    with rt.sessions() as db:
        return [{**row_entry(r).as_dict(), "leaf_hash": b64(bytes(r.leaf_hash))} for r in db.scalars(q)]
