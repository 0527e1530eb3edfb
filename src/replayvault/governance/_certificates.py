"""Deletion certificates: what a retention sweep or an erasure deleted, tied to a signed audit checkpoint.

A certificate is canonical JSON (sorted keys, compact, UTF-8)::

    {"certificate": "c_…", "reason": "retention" | "erasure", "created_ms": …, "actor": "scheduler",
     "sessions": [{"session_id", "project_id", "created_ms", "expires_ms", "retention_days", "category",
                   "key_destroyed_ms", "chunks", "stored_bytes", "events", "analytics_rows",
                   "page_snapshots", "audit_idx"}, …],
     "totals": {"sessions", "chunks", "stored_bytes", "events", "analytics_rows", "page_snapshots"},
     "kept_under_legal_hold": [session ids], "dsar_request": null | "d_…",
     "checkpoint": {"tree_size", "root_hash", "note"}}

Session ids are pseudonymous (random ids). ``checkpoint`` is signed right after the deletion entries,
so each ``audit_idx`` can be proven against it (``replayvault audit proof IDX --tree-size N``). The
certificate's SHA-256 (of those bytes) is stored beside it and recorded by a ``deletion.certificate``
audit entry.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import select

from ..audit.entries import canonical_json
from ..db.models import DeletionCertificate
from ..errors import NotFound

if TYPE_CHECKING:
    from ..runtime import Runtime
    from .shredding import Shredded

__all__ = ["issue_certificate", "list_certificates", "get_certificate"]

_TOTALS = ("chunks", "stored_bytes", "events", "analytics_rows", "page_snapshots")


def issue_certificate(rt: "Runtime", reason: str, actor: str, shredded: Sequence["Shredded"], held: Sequence[str],
                      dsar_request: str | None = None) -> dict[str, Any]:
    """Sign a checkpoint over the deletion entries, then store and audit the certificate; return it
    with its ``sha256`` added.

    Raises:
        AuditTampered: the checkpoint cannot be signed (stored entries do not extend the last one).
        AuditUnavailable: the certificate's audit entry could not be committed (nothing stored).
    """
    cp = rt.audit.checkpoint()
    items = [s.as_dict() for s in shredded]
    doc = {"certificate": "c_" + secrets.token_hex(8), "reason": reason, "created_ms": int(time.time() * 1000),
           "actor": actor, "sessions": items,
           "totals": {"sessions": len(items), **{k: sum(int(i[k]) for i in items) for k in _TOTALS}},
           "kept_under_legal_hold": sorted(held), "dsar_request": dsar_request,
           "checkpoint": {k: v for k, v in cp.as_dict().items() if k != "created_ms"}}
    body = canonical_json(doc)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    totals = doc["totals"]
    with rt.audit.lock, rt.sessions() as db:
        db.add(DeletionCertificate(id=doc["certificate"], created_ms=doc["created_ms"], reason=reason, actor=actor,
                                   sessions=totals["sessions"], chunks=totals["chunks"],
                                   stored_bytes=totals["stored_bytes"], analytics_rows=totals["analytics_rows"],
                                   checkpoint_size=cp.size, document=body, sha256=digest))
        rt.audit.record(actor=actor, action="deletion.certificate", resource=f"certificate:{doc['certificate']}",
                        details={"sha256": digest, "reason": reason, "sessions": totals["sessions"],
                                 "checkpoint_size": cp.size, "dsar_request": dsar_request}, db=db)
        db.commit()
    return {**doc, "sha256": digest}


def list_certificates(rt: "Runtime", limit: int = 100) -> list[dict[str, Any]]:
    """Certificates, newest first: ``id``, ``created_ms``, ``reason``, ``actor``, ``sessions``, ``chunks``,
    ``stored_bytes`` (bytes), ``analytics_rows``, ``checkpoint_size``, ``sha256``."""
    with rt.sessions() as db:
        rows = db.scalars(select(DeletionCertificate).order_by(DeletionCertificate.created_ms.desc(),
                                                               DeletionCertificate.id).limit(max(1, min(limit, 1000))))
        return [{"id": r.id, "created_ms": r.created_ms, "reason": r.reason, "actor": r.actor, "sessions": r.sessions,
                 "chunks": r.chunks, "stored_bytes": r.stored_bytes, "analytics_rows": r.analytics_rows,
                 "checkpoint_size": r.checkpoint_size, "sha256": r.sha256} for r in rows]


def get_certificate(rt: "Runtime", certificate_id: str) -> tuple[str, str]:
    """``(canonical JSON text, sha256)`` of one certificate.

    Raises:
        NotFound: no such certificate.
    """
    with rt.sessions() as db:
        row = db.get(DeletionCertificate, certificate_id) if len(certificate_id) <= 32 else None
        if row is None:
            raise NotFound("no such deletion certificate")
        return row.document, row.sha256
