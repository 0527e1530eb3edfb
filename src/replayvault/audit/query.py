"""Reading the audit log: searching entries (dashboard viewer, API) and a recording's ingest evidence."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from ..db.models import AuditEntry, Chunk
from ..errors import NotFound, ReplayVaultError
from ..runtime import Runtime
from .log import b64, row_entry

__all__ = ["search_entries", "recording_evidence"]


def search_entries(rt: Runtime, *, actor: str | None = None, action: str | None = None, resource: str | None = None,
                   since_ms: int | None = None, until_ms: int | None = None, before: int | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
    """Entries newest first, each its fields plus ``leaf_hash`` (base64).

    Args:
        actor: exact match (``user:u_…``, ``project:<id>``, ``cli``).
        action: part of the action name (``export`` finds requests, decisions and downloads).
        resource: prefix match (``session:400797c2`` finds that session's entries).
        since_ms, until_ms: time bounds, ms since the epoch, inclusive.
        before: only entries with a smaller index (paging backwards).
        limit: at most this many (1-1000).
    """
    q = select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(max(1, min(limit, 1000)))
    if actor:
        q = q.where(AuditEntry.actor == actor)
    if action:
        q = q.where(AuditEntry.action.contains(action, autoescape=True))
    if resource:
        q = q.where(AuditEntry.resource.startswith(resource, autoescape=True))
    if since_ms is not None:
        q = q.where(AuditEntry.time_ms >= since_ms)
    if until_ms is not None:
        q = q.where(AuditEntry.time_ms <= until_ms)
    if before is not None:
        q = q.where(AuditEntry.idx < before)
    with rt.sessions() as db:
        return [{**row_entry(r).as_dict(), "leaf_hash": b64(bytes(r.leaf_hash))} for r in db.scalars(q)]


def recording_evidence(rt: Runtime, session_id: str) -> list[dict[str, Any]]:
    """For each chunk of a session: the SHA-256 the audit log recorded at ingest and the file's now.

    Each item: ``seq``, ``audit_idx`` (the ``chunk.ingested`` entry, None if missing),
    ``audited_sha256``, ``file_sha256`` (None if the file is gone), ``ok``. With an inclusion proof of
    each ``audit_idx`` (``audit proof``) this shows a recording is the one that was ingested.

    Raises:
        NotFound: the session has no chunks.
    """
    with rt.sessions() as db:
        chunks = db.scalars(select(Chunk).where(Chunk.session_id == session_id).order_by(Chunk.seq)).all()
        rows = db.scalars(select(AuditEntry).where(AuditEntry.resource == f"session:{session_id}",
                                                   AuditEntry.action == "chunk.ingested")).all()
    if not chunks:
        raise NotFound("no such session")
    audited = {}
    for r in rows:
        d = json.loads(r.details or "{}")
        audited.setdefault(d.get("seq"), (r.idx, d.get("sha256")))
    out = []
    for ch in chunks:
        idx, digest = audited.get(ch.seq, (None, None))
        try:
            now = hashlib.sha256(rt.blobs.get(ch.blob_key)).hexdigest()
        except (OSError, ReplayVaultError):
            now = None
        out.append({"seq": ch.seq, "audit_idx": idx, "audited_sha256": digest, "file_sha256": now,
                    "ok": digest is not None and now == digest})
    return out
