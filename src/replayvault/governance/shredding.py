"""Crypto-shredding (GDPR Art. 17 erasure, Art. 5(1)(e) storage limitation) and the retention sweep.

:func:`shred_session` deletes one session in this order — the order is what makes copies useless:

1. its wrapped data key and sealed pipeline state are removed, and the deletion's audit entry is
   committed in the same transaction (SQLite with ``secure_delete``): from then on nothing of the
   session can be decrypted, also not copies of its chunk files taken earlier;
2. its chunk files;
3. its analytics facts;
4. in one transaction its chunk, page-snapshot and masking rows; the session row stays as a
   tombstone without data or subject link (``shredded_ms``).

A run interrupted after step 1 is finished by the next sweep (the session is past its expiry and not
yet marked shredded). A session under a legal hold is never shredded (checked again in step 1).

:func:`sweep` shreds every session past its expiry (see :mod:`.retention`) that no legal hold keeps,
then issues a deletion certificate (:mod:`._certificates`) tied to the audit checkpoint signed right
after the deletion entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, or_, select, text, update
from sqlalchemy.orm import Session

from ..db.models import Chunk, Masking, MaskingEvidence, PageSnapshot, RecordingSession
from ..errors import AuditUnavailable
from . import retention
from .retention import ensure_expiry, held_ids, is_held

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["Shredded", "SweepResult", "shred_session", "checkpoint_wal", "sweep"]


def _now() -> int:
    return retention._now()  # one clock for retention, shredding and DSAR


# -- crypto-shredding ---------------------------------------------------------------------------
@dataclass
class Shredded:
    """What :func:`shred_session` deleted: counts (bytes of the sealed chunk files) and its audit entry."""

    session_id: str
    project_id: str
    created_ms: int
    expires_ms: int | None
    retention_days: int | None
    category: str | None
    key_destroyed_ms: int
    chunks: int
    stored_bytes: int
    events: int
    analytics_rows: int = 0
    page_snapshots: int = 0
    audit_idx: int = -1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the certificate's per-session item)."""
        return asdict(self)


def _secure(db: Session) -> None:
    if db.get_bind().dialect.name == "sqlite":  # freed cells are zeroed: the old wrapped key is not left behind
        db.execute(text("PRAGMA secure_delete=ON"))


def shred_session(rt: "Runtime", session_id: str, *, action: str, actor: str, reason: str,
                  extra: dict[str, Any] | None = None, now_ms: int | None = None) -> Shredded | None:
    """Crypto-shred one session in the order of the module docstring; None when it was shredded already.

    ``action`` names the audit entry (``retention.deleted``, ``dsar.session_erased``); ``reason`` goes
    into its details (``retention`` or ``erasure``), with ``extra``. A legal hold is checked again
    inside the transaction that destroys the key: a held session is never shredded (None).

    Raises:
        AuditUnavailable: the deletion could not be logged; nothing was deleted.
    """
    now = _now() if now_ms is None else now_ms
    with rt.session_lock(session_id):
        # 1. destroy the wrapped data key and log the deletion, in one transaction
        with rt.audit.lock, rt.sessions() as db:
            _secure(db)
            sess = db.get(RecordingSession, session_id)
            if sess is None or sess.shredded_ms is not None or is_held(db, session_id):
                return None
            chunks = db.scalars(select(Chunk).where(Chunk.session_id == session_id)).all()
            done = Shredded(session_id, sess.project_id, sess.created_ms, sess.expires_ms, sess.retention_days,
                            sess.retention_category, now, len(chunks), sum(c.stored_bytes for c in chunks),
                            sum(c.event_count for c in chunks))
            blob_keys = [c.blob_key for c in chunks]
            chunk_ids = [c.id for c in chunks]
            sess.wrapped_dek, sess.mask_state, sess.fact_state = None, "{}", "{}"
            sess.expires_ms = min(sess.expires_ms if sess.expires_ms is not None else now, now)
            entry = rt.audit.record(actor=actor, action=action, resource=f"session:{session_id}", details={
                "reason": reason, "project": sess.project_id, "chunks": done.chunks, "stored_bytes": done.stored_bytes,
                "events": done.events, "retention_days": sess.retention_days, "category": sess.retention_category,
                "key_destroyed": True, **(extra or {})}, db=db)
            done.audit_idx = entry.idx
            db.commit()
        # 2. chunk files (unreadable since step 1)
        for key in blob_keys:
            rt.blobs.delete(key)
        # 3. analytics facts
        done.analytics_rows = rt.analytics.delete_session(session_id)
        # 4. control-plane rows; the session row stays as a tombstone without data
        with rt.sessions() as db:
            _secure(db)
            if chunk_ids:
                done.page_snapshots = db.execute(delete(PageSnapshot).where(PageSnapshot.chunk_id.in_(chunk_ids))).rowcount
            db.execute(delete(Chunk).where(Chunk.session_id == session_id))
            db.execute(delete(Masking).where(Masking.session_id == session_id))
            db.execute(delete(MaskingEvidence).where(MaskingEvidence.session_id == session_id))
            db.execute(update(RecordingSession).where(RecordingSession.id == session_id).values(
                chunk_count=0, event_count=0, raw_bytes=0, stored_bytes=0, masked_items=0, incidents=0,
                subject_digest=None, shredded_ms=now))
            db.commit()
    return done


def checkpoint_wal(rt: "Runtime") -> None:
    """Fold SQLite's write-ahead log into the database file, so the removed keys leave no copy in it
    (best effort: readers in other processes can keep old pages until they finish)."""
    with rt.sessions() as db:
        if db.get_bind().dialect.name == "sqlite":
            db.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


# -- the sweep ----------------------------------------------------------------------------------
@dataclass
class SweepResult:
    """A sweep: ``expired`` sessions due (id, project, expires_ms, days, category), ``held`` ids kept under a
    legal hold although past their period, what was ``shredded``, and the ``certificate`` (None on a dry
    run or when nothing was deleted)."""

    dry_run: bool
    now_ms: int
    expired: list[dict[str, Any]] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    shredded: list[Shredded] = field(default_factory=list)
    certificate: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"dry_run": self.dry_run, "now_ms": self.now_ms, "expired": self.expired, "held": self.held,
                "shredded": [s.as_dict() for s in self.shredded],
                "certificate": None if self.certificate is None else {
                    "id": self.certificate["certificate"], "sha256": self.certificate["sha256"]}}


def sweep(rt: "Runtime", *, actor: str = "scheduler", dry_run: bool = False, now_ms: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """Crypto-shred every session past its expiry that no legal hold keeps; issue a deletion certificate.

    ``progress(done, total)`` is called after each session. With ``dry_run`` nothing changes and
    nothing is logged: the result lists what would be deleted.

    Raises:
        AuditUnavailable: a deletion could not be logged: that session keeps its key and the run stops
            there, after certifying the sessions shredded before it (the next run continues).
        AuditTampered: the checkpoint after the deletions could not be signed (the deletions stand, each
            with its audit entry; no certificate).
    """
    from ._certificates import issue_certificate

    now = _now() if now_ms is None else now_ms
    ensure_expiry(rt, now)
    S = RecordingSession
    with rt.sessions() as db:
        due = db.execute(select(S.id, S.project_id, S.expires_ms, S.retention_days, S.retention_category)
                         .where(S.shredded_ms.is_(None), S.expires_ms <= now,
                                or_(S.chunk_count > 0, S.wrapped_dek.is_not(None)))
                         .order_by(S.expires_ms, S.id)).all()
        held = set(db.scalars(held_ids()))
    result = SweepResult(dry_run, now)
    for sid, pid, exp, days, cat in due:
        if sid in held:
            result.held.append(sid)
        else:
            result.expired.append({"session_id": sid, "project_id": pid, "expires_ms": exp, "retention_days": days,
                                   "category": cat})
    if dry_run:
        return result
    failed: AuditUnavailable | None = None
    for i, item in enumerate(result.expired, 1):
        try:
            done = shred_session(rt, item["session_id"], action="retention.deleted", actor=actor, reason="retention",
                                 extra={"expires_ms": item["expires_ms"]}, now_ms=now)
        except AuditUnavailable as exc:  # this one keeps its key; stop, certify what was deleted
            failed = exc
            break
        if done is not None:
            result.shredded.append(done)
        if progress:
            progress(i, len(result.expired))
    if result.shredded:
        checkpoint_wal(rt)
        result.certificate = issue_certificate(rt, "retention", actor, result.shredded, result.held)
    if failed is not None:
        raise failed
    return result
