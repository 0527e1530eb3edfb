"""Accountable reads of recording content: each step is written to the audit log first.

Used by the API and the dashboard alike. Order of every read: check (purpose, justification,
training, four-eyes) → append and commit the audit entry → only then decrypt and return data.
When the audit entry cannot be committed the read raises
:class:`~replayvault.errors.AuditUnavailable` and no data leaves the vault. Refusals are audited
too (``outcome="denied"``), which is what the access-policy incident count is built from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from ..db.models import AccessGrant, AuditEntry, ExportRequest, RecordingSession
from ..errors import AccessDenied, InvalidInput, NotFound
from ..recordings import get_session, session_events
from ..runtime import Runtime
from ..types import Event
from .access import decide_export, open_grant, request_export, take_export, use_grant
from .accounts import Principal, user_names
from .permissions import Permission, Purpose
from .retention import is_live

__all__ = ["declare_purpose", "read_events", "record_seek", "viewers", "ask_export", "decide", "download_export",
           "list_exports", "VIEW_ACTIONS"]

#: Audit actions that show a person looked at (or took) a recording's content.
VIEW_ACTIONS = ("recording.access_declared", "recording.view", "recording.seek", "recording.export_requested",
                "recording.export_decided", "recording.exported")


def _denied(rt: Runtime, p: Principal, action: str, sid: str, ip: str | None, exc: Exception,
            purpose: str | None = None) -> None:
    purpose = purpose if purpose in Purpose._value2member_map_ else None  # free text never reaches the log
    details: dict[str, Any] = {"reason": str(exc)[:200]}
    with rt.sessions() as db:
        known = db.get(RecordingSession, sid) is not None
    if not known:  # an id from the request, not from our data: never log it as given (could be anything)
        details["session_sha256"] = hashlib.sha256(sid.encode("utf-8", "replace")).hexdigest()[:32]
    rt.audit.record(actor=p.actor, action=action, resource=f"session:{sid}" if known else "session:unknown",
                    outcome="denied", purpose=purpose, origin_ip=ip, details=details)


def _absent_if_expired(rt: Runtime, sid: str) -> None:
    """Raise NotFound for a session past its retention period (or shredded): it is absent everywhere.
    Unknown ids go on to the usual checks (and their audited refusals)."""
    with rt.sessions() as db:
        known = db.get(RecordingSession, sid) is not None
    if known and not is_live(rt, sid):
        raise NotFound("no such session")


def _export_ref(export_id: str) -> str:
    """An export id as logged: ours look like ``x_`` + 16 hex; anything else is logged as a digest."""
    if len(export_id) == 18 and export_id.startswith("x_") and all(c in "0123456789abcdef" for c in export_id[2:]):
        return export_id
    return "sha256:" + hashlib.sha256(export_id.encode("utf-8", "replace")).hexdigest()[:32]


def declare_purpose(rt: Runtime, p: Principal, sid: str, purpose: str | None, justification: str | None,
                    ip: str | None) -> AccessGrant:
    """Open an access grant for reading ``sid``; the grant and its audit entry commit together.

    Raises:
        NotFound, InvalidInput, PermissionDenied: see :func:`.access.open_grant` (refusals audited).
        AuditUnavailable: the audit entry could not be committed (nothing granted).
    """
    s = rt.settings
    _absent_if_expired(rt, sid)
    try:
        with rt.audit.lock, rt.sessions() as db:
            grant = open_grant(db, p, sid, purpose, justification, max_age_days=s.training_max_age_days,
                               minutes=s.access_grant_minutes)
            rt.audit.record(actor=p.actor, action="recording.access_declared", resource=f"session:{sid}",
                            purpose=grant.purpose, justification=grant.justification, origin_ip=ip,
                            details={"grant": grant.id, "expires_ms": grant.expires_ms}, db=db)
            db.commit()
            return grant
    except (AccessDenied, InvalidInput) as exc:
        _denied(rt, p, "recording.access_declared", sid, ip, exc, purpose)
        raise


def _valid_grant(rt: Runtime, p: Principal, sid: str, grant_id: str | None, ip: str | None, action: str) -> AccessGrant:
    """The caller's usable grant for ``sid``; a refusal is audited as ``action`` denied, then raised."""
    try:
        with rt.sessions() as db:
            grant = use_grant(db, p, grant_id, sid, rt.settings.training_max_age_days)
    except AccessDenied as exc:
        _denied(rt, p, action, sid, ip, exc)
        raise
    _absent_if_expired(rt, sid)  # a grant taken before the session expired opens nothing after
    return grant


def read_events(rt: Runtime, p: Principal, sid: str, grant_id: str | None, ip: str | None) -> list[Event]:
    """The masked events of ``sid`` under the caller's grant; audited (``recording.view``) before decrypting.

    Raises:
        PermissionDenied: no valid grant, or training lapsed (audited as denied).
        AuditUnavailable: the view could not be logged, so nothing is returned.
        NotFound: no such session.
    """
    grant = _valid_grant(rt, p, sid, grant_id, ip, "recording.view")
    summary, _ = get_session(rt, sid)
    rt.audit.record(actor=p.actor, action="recording.view", resource=f"session:{sid}", purpose=grant.purpose,
                    justification=grant.justification, origin_ip=ip,
                    details={"grant": grant.id, "from_ms": summary.start, "to_ms": summary.end,
                             "events": summary.events})
    return session_events(rt, sid)


def record_seek(rt: Runtime, p: Principal, sid: str, grant_id: str | None, from_ms: int, to_ms: int,
                ip: str | None) -> None:
    """Log that the viewer jumped within the replay (``from_ms``/``to_ms``: offsets from the start, ms).

    Raises:
        PermissionDenied: no valid grant.
        InvalidInput: negative offsets or over 30 days.
    """
    if not (0 <= from_ms <= 2_592_000_000 and 0 <= to_ms <= 2_592_000_000):
        raise InvalidInput("seek offsets must be 0 to 2592000000 ms")
    grant = _valid_grant(rt, p, sid, grant_id, ip, "recording.seek")
    rt.audit.record(actor=p.actor, action="recording.seek", resource=f"session:{sid}", purpose=grant.purpose,
                    justification=grant.justification, origin_ip=ip,
                    details={"grant": grant.id, "from_offset_ms": from_ms, "to_offset_ms": to_ms})


def viewers(rt: Runtime, sid: str, limit: int = 200) -> list[dict[str, Any]]:
    """Who looked at ``sid``: audit entries of :data:`VIEW_ACTIONS`, newest first, with user names resolved.

    Each item: ``idx``, ``time_ms``, ``actor``, ``username``, ``action``, ``purpose``,
    ``justification``, ``outcome``, ``decision`` (approved/rejected for export decisions, else None).
    """
    with rt.sessions() as db:
        rows = db.scalars(select(AuditEntry).where(AuditEntry.resource == f"session:{sid}",
                                                   AuditEntry.action.in_(VIEW_ACTIONS))
                          .order_by(AuditEntry.idx.desc()).limit(limit)).all()
        names = user_names(db)
    return [{"idx": r.idx, "time_ms": r.time_ms, "actor": r.actor, "username": names.get(r.actor.removeprefix("user:")),
             "action": r.action, "purpose": r.purpose, "justification": r.justification, "outcome": r.outcome,
             "decision": json.loads(r.details or "{}").get("decision")}
            for r in rows]


def ask_export(rt: Runtime, p: Principal, sid: str, purpose: str | None, justification: str | None,
               ip: str | None) -> ExportRequest:
    """Request an export of ``sid`` (waits for a privacy_officer's approval); audited with the request.

    Raises:
        NotFound, InvalidInput, PermissionDenied: see :func:`.access.request_export` (refusals audited).
    """
    _absent_if_expired(rt, sid)
    try:
        with rt.audit.lock, rt.sessions() as db:
            row = request_export(db, p, sid, purpose, justification, rt.settings.training_max_age_days)
            rt.audit.record(actor=p.actor, action="recording.export_requested", resource=f"session:{sid}",
                            purpose=row.purpose, justification=row.justification, origin_ip=ip,
                            details={"export": row.id}, db=db)
            db.commit()
            return row
    except (AccessDenied, InvalidInput) as exc:
        _denied(rt, p, "recording.export_requested", sid, ip, exc, purpose)
        raise


def decide(rt: Runtime, p: Principal, export_id: str, approve: bool, ip: str | None) -> ExportRequest:
    """Approve or reject someone else's export request; audited with the decision.

    Raises:
        NotFound: no such request. PermissionDenied: own request or not pending (audited as denied).
    """
    try:
        with rt.audit.lock, rt.sessions() as db:
            row = decide_export(db, p, export_id, approve)
            rt.audit.record(actor=p.actor, action="recording.export_decided", resource=f"session:{row.session_id}",
                            purpose=row.purpose, origin_ip=ip,
                            details={"export": row.id, "decision": row.status, "requested_by": f"user:{row.requested_by}"},
                            db=db)
            db.commit()
            return row
    except AccessDenied as exc:
        rt.audit.record(actor=p.actor, action="recording.export_decided", resource=f"export:{_export_ref(export_id)}",
                        outcome="denied", origin_ip=ip, details={"reason": str(exc)[:200]})
        raise


def download_export(rt: Runtime, p: Principal, export_id: str, ip: str | None) -> dict[str, Any]:
    """The approved export (metadata and masked events) for its requester, once; audited before decrypting.

    The request is claimed (approved -> downloaded) in the transaction that commits the audit
    entry, so two concurrent downloads cannot both succeed; if decrypting then fails, the claim is
    released and the export can be downloaded again.

    Returns ``{"export": {...}, "session": {...}, "events": [...]}``.

    Raises:
        NotFound: no such request of this user. PermissionDenied: not approved or already downloaded
            (both audited as denied).
        AuditUnavailable: not logged, so nothing is returned.
    """
    try:
        with rt.audit.lock, rt.sessions() as db:
            row = take_export(db, p, export_id, rt.settings.training_max_age_days)
            rt.audit.record(actor=p.actor, action="recording.exported", resource=f"session:{row.session_id}",
                            purpose=row.purpose, justification=row.justification, origin_ip=ip,
                            details={"export": row.id, "approved_by": f"user:{row.decided_by}"}, db=db)
            db.commit()
            meta = {"id": row.id, "purpose": row.purpose, "justification": row.justification,
                    "requested_by": f"user:{row.requested_by}", "approved_by": f"user:{row.decided_by}",
                    "downloaded_ms": row.downloaded_ms}
            sid = row.session_id
    except (AccessDenied, NotFound) as exc:
        rt.audit.record(actor=p.actor, action="recording.exported", resource=f"export:{_export_ref(export_id)}",
                        outcome="denied", origin_ip=ip, details={"reason": str(exc)[:200]})
        raise
    try:
        summary, counts = get_session(rt, sid)
        return {"export": meta, "session": {**summary.as_dict(), "maskings": counts}, "events": session_events(rt, sid)}
    except BaseException:
        with rt.sessions() as db:  # nothing left the vault: the approval stays usable
            row = db.get(ExportRequest, export_id)
            row.status, row.downloaded_ms = "approved", None
            db.commit()
        raise


def list_exports(rt: Runtime, p: Principal) -> list[dict[str, Any]]:
    """Export requests the caller may see: their own, plus every request for privacy officers. Newest first."""
    with rt.sessions() as db:
        q = select(ExportRequest).order_by(ExportRequest.created_ms.desc()).limit(500)
        if not p.can(Permission.EXPORTS_APPROVE):
            q = q.where(ExportRequest.requested_by == p.user_id)
        names = user_names(db)
        return [{"id": r.id, "session_id": r.session_id, "purpose": r.purpose, "justification": r.justification,
                 "status": r.status, "requested_by": names.get(r.requested_by), "mine": r.requested_by == p.user_id,
                 "decided_by": names.get(r.decided_by or ""), "created_ms": r.created_ms, "decided_ms": r.decided_ms,
                 "downloaded_ms": r.downloaded_ms}
                for r in db.scalars(q)]
