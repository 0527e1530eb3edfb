"""Data subject requests: access (GDPR Art. 15) and erasure (Art. 17), answered within one month
(Art. 12(3); tracked as :data:`DEADLINE_DAYS` = 30 days from receipt).

**Linking sessions to a data subject.** A site calls ``replayvault.identify(id)`` with a pseudonymous
customer id; the tracker sends it with each batch as ``subject``. The collector never stores the id:
the session keeps HMAC-SHA-256(subject key, id) as ``subject_digest``, the subject key being a random
32-byte key in the data directory's key file (entry ``_subjects``), so nobody can recover a customer
number from the database, a backup or the audit log by trying candidates. Requests, audit entries,
certificates and tombstones name the subject by this digest only.

**Flow.** :func:`open_request` registers a request (``dsar.requested``; due in 30 days), then

* :func:`export_request` (``dsar.export``, purpose ``dsar``, committed before anything is decrypted)
  returns a zip of JSON: ``manifest.json``, ``sessions/<id>/metadata.json`` and
  ``sessions/<id>/events.json`` (the masked events, exactly what the replay API serves) for each live
  session of the subject, ``consent_receipts.json`` and ``audit_entries.json`` (every audit entry
  about those sessions, oldest first);
* :func:`erase_request` crypto-shreds every session of the subject (also expired ones not yet swept)
  with :func:`.shredding.shred_session` (one ``dsar.session_erased`` entry each), deletes their
  analytics facts, issues a deletion certificate, and leaves a tombstone in the ledger
  (``erasure_tombstones``: subject digest, time, sessions erased, the ``dsar.erasure`` audit entry).
  Sessions under a legal hold are kept (Art. 17(3)(e)) and listed in the tombstone.

Both complete the request.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import time
import zipfile
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..audit.log import row_entry
from ..db.models import AuditEntry, DsarRequest, ErasureTombstone, LegalHold, RecordingSession
from ..errors import InvalidInput, NotFound
from .retention import DAY_MS, live_condition
from .shredding import checkpoint_wal, shred_session

if TYPE_CHECKING:
    from ..runtime import Runtime
    from .accounts import Principal

__all__ = ["DEADLINE_DAYS", "KINDS", "EXPORT_FILES", "check_subject", "subject_digest", "open_request",
           "list_requests", "export_request", "erase_request", "list_tombstones", "subject_sessions"]

#: Days to answer a request (GDPR Art. 12(3): one month of receipt).
DEADLINE_DAYS = 30
KINDS = ("export", "erasure")
#: Files every export zip holds besides ``sessions/<id>/metadata.json`` and ``sessions/<id>/events.json``.
EXPORT_FILES = ("manifest.json", "consent_receipts.json", "audit_entries.json")
_CONSENT_NOTE = ("consent_receipts.json holds every consent receipt of these sessions (grant, refusal, withdrawal), "
                 "oldest first; each receipt's sha256 is in the audit log as a consent.receipt entry")


def _now() -> int:
    return int(time.time() * 1000)


def check_subject(subject: Any) -> str:
    """The subject id if it is a pseudonymous id (1-128 letters, digits, ``.``, ``_``, ``:``, ``-``).

    Raises:
        InvalidInput: anything else (the message never repeats the value).
    """
    from ..ingest.validate import SUBJECT  # the collector's rule (imported here: ingest imports this module)

    if not isinstance(subject, str) or not SUBJECT.match(subject):
        raise InvalidInput("subject must be the pseudonymous id the site passed to replayvault.identify(): "
                           "1-128 letters, digits, '.', '_', ':' or '-'")
    return subject


def subject_digest(rt: "Runtime", subject: str) -> str:
    """HMAC-SHA-256 (hex, 64 characters) of a subject id under the data directory's subject key."""
    key = rt.keys.kek("_subjects", create=True)
    return hmac.new(key, subject.encode("utf-8"), hashlib.sha256).hexdigest()


def _as_dict(r: DsarRequest, now: int) -> dict[str, Any]:
    open_ = r.status == "open"
    return {"id": r.id, "kind": r.kind, "subject_digest": r.subject_digest, "status": r.status,
            "requested_by": r.requested_by, "created_ms": r.created_ms, "due_ms": r.due_ms,
            "completed_by": r.completed_by, "completed_ms": r.completed_ms, "sessions": r.sessions,
            "certificate_id": r.certificate_id, "overdue": open_ and now > r.due_ms,
            "days_left": -((now - r.due_ms) // DAY_MS) if open_ else None}


def open_request(rt: "Runtime", kind: str, subject: Any, actor: str, ip: str | None = None,
                 now_ms: int | None = None) -> dict[str, Any]:
    """Register a request of ``kind`` (``export`` or ``erasure``) for ``subject``; due in 30 days.
    Audited ``dsar.requested`` (subject digest, due time, sessions linked now) with the request.

    Raises:
        InvalidInput: unknown kind or a subject that is not a pseudonymous id.
        AuditUnavailable: not logged, nothing registered.
    """
    if kind not in KINDS:
        raise InvalidInput("kind must be 'export' or 'erasure'")
    digest = subject_digest(rt, check_subject(subject))
    now = _now() if now_ms is None else now_ms
    linked = len(subject_sessions(rt, digest, live_only=kind == "export"))
    with rt.audit.lock, rt.sessions() as db:
        row = DsarRequest(id="d_" + secrets.token_hex(8), kind=kind, subject_digest=digest, status="open",
                          requested_by=actor, created_ms=now, due_ms=now + DEADLINE_DAYS * DAY_MS)
        db.add(row)
        rt.audit.record(actor=actor, action="dsar.requested", resource=f"dsar:{row.id}", origin_ip=ip,
                        details={"kind": kind, "subject_digest": digest, "due_ms": row.due_ms, "sessions": linked},
                        db=db)
        db.commit()
        return _as_dict(row, now)


def list_requests(rt: "Runtime", now_ms: int | None = None) -> list[dict[str, Any]]:
    """Requests, open ones first (earliest due first), then completed ones (newest first). Each:
    ``id``, ``kind``, ``subject_digest``, ``status``, ``requested_by``, ``created_ms``, ``due_ms``,
    ``completed_by``, ``completed_ms``, ``sessions``, ``certificate_id``, ``overdue`` (open past its
    due time), ``days_left`` (open: whole days until due, rounded up; negative when overdue)."""
    now = _now() if now_ms is None else now_ms
    with rt.sessions() as db:
        rows = [_as_dict(r, now) for r in db.scalars(select(DsarRequest).order_by(DsarRequest.created_ms.desc()))]
    return sorted(rows, key=lambda r: (r["status"] != "open", r["due_ms"] if r["status"] == "open" else -r["created_ms"]))


def subject_sessions(rt: "Runtime", digest: str, *, live_only: bool) -> list[str]:
    """Ids of the subject's sessions holding data (oldest first): live ones, or with ``live_only`` False
    every one not yet shredded (expired ones waiting for the sweep too)."""
    S = RecordingSession
    q = select(S.id).where(S.subject_digest == digest, S.shredded_ms.is_(None)).order_by(S.created_ms, S.id)
    q = q.where(S.chunk_count > 0, live_condition(rt)) if live_only else q
    with rt.sessions() as db:
        return list(db.scalars(q))


def _open(rt: "Runtime", request_id: str, kind: str) -> DsarRequest:
    with rt.sessions() as db:
        row = db.get(DsarRequest, request_id) if len(request_id) <= 32 else None
    if row is None:
        raise NotFound("no such DSAR request")
    if row.kind != kind:
        raise InvalidInput(f"request {row.id} is an {row.kind} request, not {kind}")
    if row.status != "open":
        raise InvalidInput(f"request {row.id} was already completed")
    return row


def _complete(rt: "Runtime", request_id: str, actor: str, sessions: int, certificate: str | None = None) -> None:
    with rt.sessions() as db:
        row = db.get(DsarRequest, request_id)
        row.status, row.completed_by, row.completed_ms = "completed", actor, _now()
        row.sessions, row.certificate_id = sessions, certificate
        db.commit()


def export_request(rt: "Runtime", request_id: str, actor: str, ip: str | None = None, *,
                   principal: "Principal | None" = None) -> bytes:
    """Answer an export request: the zip described in the module docstring (bytes). The export is audited
    (``dsar.export``, purpose ``dsar``) and committed before any session is decrypted; the request is
    completed once the zip is built. A person (``principal``) needs a current compliance training.

    Raises:
        NotFound: no such request. InvalidInput: not an open export request.
        PermissionDenied: the principal's training lapsed. AuditUnavailable: not logged, nothing decrypted.
    """
    from ..recordings import get_session, session_events, session_evidence
    from .access import require_training

    req = _open(rt, request_id, "export")
    if principal is not None:
        with rt.sessions() as db:
            require_training(db, principal, rt.settings.training_max_age_days)
    sids = subject_sessions(rt, req.subject_digest, live_only=True)
    rt.audit.record(actor=actor, action="dsar.export", resource=f"dsar:{req.id}", purpose="dsar",
                    justification=f"DSAR {req.id}", origin_ip=ip,
                    details={"subject_digest": req.subject_digest, "sessions": sids})
    now = _now()
    files: dict[str, Any] = {}
    with rt.sessions() as db:
        rows = {s.id: s for s in db.scalars(select(RecordingSession).where(RecordingSession.id.in_(sids)))}
        held = set(db.scalars(select(LegalHold.session_id).where(LegalHold.session_id.in_(sids),
                                                                 LegalHold.released_ms.is_(None))))
        entries = [row_entry(e).as_dict() for e in db.scalars(
            select(AuditEntry).where(AuditEntry.resource.in_([f"session:{s}" for s in sids])).order_by(AuditEntry.idx))]
    for sid in sids:
        summary, counts = get_session(rt, sid)
        s = rows[sid]
        files[f"sessions/{sid}/metadata.json"] = {
            **summary.as_dict(), "maskings": counts, "evidence": [e.as_dict() for e in session_evidence(rt, sid)],
            "received_ms": s.created_ms, "retention": {"days": s.retention_days, "category": s.retention_category,
                                                       "expires_ms": s.expires_ms, "legal_hold": sid in held}}
        files[f"sessions/{sid}/events.json"] = session_events(rt, sid)
    from .consent import receipt_dict, receipts_of  # (consent imports the collector, which imports this module)

    with rt.sessions() as db:
        timelines = receipts_of(db, sids)
    files["consent_receipts.json"] = [receipt_dict(r) for sid in sids for r in timelines[sid]]
    files["audit_entries.json"] = entries
    manifest = {"request": req.id, "kind": "export", "legal_basis": "GDPR Art. 15 (right of access)",
                "subject_digest": req.subject_digest, "generated_ms": now, "generated_by": actor,
                "sessions": sids, "files": ["manifest.json", *files], "notes": [
                    _CONSENT_NOTE, "events are the masked rrweb events as stored: personal data was masked in the "
                    "browser and again on the server before anything was stored"]}
    buf = io.BytesIO()
    stamp = time.gmtime(now / 1000)[:6]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, value in [("manifest.json", manifest), *files.items()]:
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp),  # type: ignore[arg-type]
                        json.dumps(value, ensure_ascii=False, indent=1), compress_type=zipfile.ZIP_DEFLATED)
    _complete(rt, req.id, actor, len(sids))
    return buf.getvalue()


def erase_request(rt: "Runtime", request_id: str, actor: str, ip: str | None = None) -> dict[str, Any]:
    """Answer an erasure request (module docstring); returns the tombstone: ``request``,
    ``subject_digest``, ``erased_ms``, ``sessions`` (count erased), ``session_ids``,
    ``held_session_ids``, ``certificate`` (id or None when nothing was erased), ``audit_idx``.

    Raises:
        NotFound: no such request. InvalidInput: not an open erasure request.
        AuditUnavailable: a deletion could not be logged (sessions erased before it stay erased; the
            request stays open and can be run again).
    """
    from ._certificates import issue_certificate

    req = _open(rt, request_id, "erasure")
    sids = subject_sessions(rt, req.subject_digest, live_only=False)
    with rt.sessions() as db:
        held = sorted(set(db.scalars(select(LegalHold.session_id).where(LegalHold.session_id.in_(sids),
                                                                          LegalHold.released_ms.is_(None)))))
    shredded = []
    for sid in sids:
        if sid in held:
            continue
        done = shred_session(rt, sid, action="dsar.session_erased", actor=actor, reason="erasure",
                             extra={"dsar_request": req.id})
        if done is not None:
            shredded.append(done)
        else:  # a hold placed meanwhile
            held.append(sid)
    cert = None
    if shredded:
        checkpoint_wal(rt)
        cert = issue_certificate(rt, "erasure", actor, shredded, held, dsar_request=req.id)
    erased = [s.session_id for s in shredded]
    now = _now()
    with rt.audit.lock, rt.sessions() as db:
        entry = rt.audit.record(actor=actor, action="dsar.erasure", resource=f"dsar:{req.id}", origin_ip=ip, details={
            "subject_digest": req.subject_digest, "sessions_erased": erased, "kept_under_legal_hold": sorted(held),
            "certificate": cert and cert["certificate"], "certificate_sha256": cert and cert["sha256"]}, db=db)
        db.add(ErasureTombstone(request_id=req.id, subject_digest=req.subject_digest, erased_ms=now,
                                sessions=len(erased), session_ids=erased, held_session_ids=sorted(held),
                                certificate_id=cert and cert["certificate"], audit_idx=entry.idx))
        row = db.get(DsarRequest, req.id)
        row.status, row.completed_by, row.completed_ms = "completed", actor, now
        row.sessions, row.certificate_id = len(erased), cert and cert["certificate"]
        db.commit()
    return {"request": req.id, "subject_digest": req.subject_digest, "erased_ms": now, "sessions": len(erased),
            "session_ids": erased, "held_session_ids": sorted(held), "certificate": cert and cert["certificate"],
            "audit_idx": entry.idx}


def list_tombstones(rt: "Runtime", limit: int = 200) -> list[dict[str, Any]]:
    """Erasure tombstones, newest first (fields as returned by :func:`erase_request`)."""
    with rt.sessions() as db:
        rows = db.scalars(select(ErasureTombstone).order_by(ErasureTombstone.erased_ms.desc()).limit(limit))
        return [{"request": t.request_id, "subject_digest": t.subject_digest, "erased_ms": t.erased_ms,
                 "sessions": t.sessions, "session_ids": t.session_ids, "held_session_ids": t.held_session_ids,
                 "certificate": t.certificate_id, "audit_idx": t.audit_idx} for t in rows]
