"""Purpose-bound access to recording content, compliance-training attestations, four-eyes exports.

Reading a recording needs, in this order (each failure is a 403 naming the reason):
  1. the ``recordings:read`` permission (checked by the route's rule);
  2. a declared purpose the user's roles may use (:data:`~.permissions.PURPOSE_ROLES`);
  3. a justification (ticket or case id, 3-200 characters; personal data in it is masked);
  4. a compliance-training attestation no older than ``training_max_age_days``.
A declaration is an :class:`~replayvault.db.models.AccessGrant` for one user and one session,
valid for ``access_grant_minutes``. Exporting a recording additionally needs the approval of a
privacy_officer who is not the requester (four-eyes), and each approval allows one download.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..audit.entries import clean_text
from ..db.models import AccessGrant, ExportRequest, RecordingSession, TrainingAttestation, User
from ..errors import InvalidInput, NotFound, PermissionDenied
from .accounts import Principal
from .permissions import PURPOSE_ROLES, Permission, Purpose

__all__ = ["check_purpose", "training_status", "require_training", "record_training", "open_grant", "use_grant",
           "request_export", "decide_export", "take_export"]


def _now() -> int:
    return int(time.time() * 1000)


def check_purpose(principal: Principal, purpose: str | None) -> Purpose:
    """The declared purpose, if the principal's roles may use it.

    Raises:
        InvalidInput: no purpose or an unknown one.
        PermissionDenied: none of the principal's roles may read recordings for it.
    """
    if not purpose:
        raise InvalidInput(f"declare a purpose: one of {', '.join(p.value for p in Purpose)}")
    try:
        p = Purpose(purpose)
    except ValueError:
        raise InvalidInput(f"unknown purpose; one of {', '.join(p.value for p in Purpose)}") from None
    allowed = {r.value for r in PURPOSE_ROLES[p]}
    if not principal.roles & allowed:
        raise PermissionDenied(f"purpose {p.value} needs one of the roles {', '.join(sorted(allowed))}")
    return p


def _justification(text: str | None) -> str:
    cleaned = clean_text(text) or ""
    if len(cleaned) < 3:
        raise InvalidInput("give a justification: the ticket or case id (3-200 characters)")
    return cleaned


def training_status(db: Session, user_id: str, max_age_days: int, today: dt.date | None = None) -> tuple[bool, str | None]:
    """``(valid, latest completion date)`` of the user's compliance training (ISO dates)."""
    latest = db.scalar(select(TrainingAttestation.completed_on).where(TrainingAttestation.user_id == user_id)
                       .order_by(TrainingAttestation.completed_on.desc()).limit(1))
    if latest is None:
        return False, None
    today = today or dt.datetime.now(dt.UTC).date()
    return (today - dt.date.fromisoformat(latest)).days <= max_age_days, latest


def require_training(db: Session, principal: Principal, max_age_days: int) -> None:
    """Raise :class:`PermissionDenied` unless the principal's training attestation is current."""
    ok, latest = training_status(db, principal.user_id, max_age_days)
    if latest is None:
        raise PermissionDenied("no compliance-training attestation on record; ask your HR liaison")
    if not ok:
        raise PermissionDenied(f"compliance training of {latest} is older than {max_age_days} days; renew it first")


def record_training(db: Session, user: User, course: str, completed_on: str, recorded_by: str) -> TrainingAttestation:
    """Record that ``user`` completed ``course`` on ``completed_on`` (``YYYY-MM-DD``, not in the future).

    ``recorded_by`` is the recorder's audit actor (``user:<id>`` or ``cli``); nobody attests their own training.

    Raises:
        InvalidInput: bad date, a future date, or an empty or over-long course name.
        PermissionDenied: the recorder is the user.
    """
    if recorded_by == f"user:{user.id}":
        raise PermissionDenied("nobody can record their own training; ask another HR liaison")
    try:
        day = dt.date.fromisoformat(completed_on)
    except (TypeError, ValueError):
        raise InvalidInput("date must be YYYY-MM-DD") from None
    if len(completed_on) != 10 or day > dt.datetime.now(dt.UTC).date():
        raise InvalidInput("date must be YYYY-MM-DD and not in the future")
    course = " ".join((course or "").split())
    if not 1 <= len(course) <= 100:
        raise InvalidInput("course name must be 1-100 characters")
    row = TrainingAttestation(user_id=user.id, course=course, completed_on=day.isoformat(), recorded_by=recorded_by,
                              recorded_ms=_now())
    db.add(row)
    db.flush()
    return row


def _session_exists(db: Session, session_id: str) -> None:
    if db.get(RecordingSession, session_id) is None:
        raise NotFound("no such session")


def open_grant(db: Session, principal: Principal, session_id: str, purpose: str | None, justification: str | None,
               *, max_age_days: int, minutes: int) -> AccessGrant:
    """Declare a purpose for reading one session (steps 2-4 of the module docstring); return the grant.

    Raises:
        NotFound, InvalidInput, PermissionDenied: as described above.
    """
    _session_exists(db, session_id)
    p = check_purpose(principal, purpose)
    why = _justification(justification)
    require_training(db, principal, max_age_days)
    now = _now()
    grant = AccessGrant(id="g_" + secrets.token_hex(8), user_id=principal.user_id, session_id=session_id,
                        purpose=p.value, justification=why, created_ms=now, expires_ms=now + minutes * 60_000)
    db.add(grant)
    db.flush()
    return grant


def use_grant(db: Session, principal: Principal, grant_id: str | None, session_id: str, max_age_days: int) -> AccessGrant:
    """The principal's unexpired grant for ``session_id`` (training re-checked at each use).

    Raises:
        PermissionDenied: no such grant for this user and session, or it expired.
    """
    grant = db.get(AccessGrant, grant_id) if grant_id else None
    if grant is None or grant.user_id != principal.user_id or grant.session_id != session_id:
        raise PermissionDenied("declare a purpose and justification for this recording first")
    if _now() > grant.expires_ms:
        raise PermissionDenied("the declared purpose expired; declare it again")
    check_purpose(principal, grant.purpose)  # roles may have changed since
    require_training(db, principal, max_age_days)
    return grant


def request_export(db: Session, principal: Principal, session_id: str, purpose: str | None,
                   justification: str | None, max_age_days: int) -> ExportRequest:
    """Ask to export one recording; it waits for a privacy_officer's approval.

    Raises:
        NotFound, InvalidInput, PermissionDenied: as for :func:`open_grant`.
    """
    _session_exists(db, session_id)
    p = check_purpose(principal, purpose)
    why = _justification(justification)
    require_training(db, principal, max_age_days)
    row = ExportRequest(id="x_" + secrets.token_hex(8), session_id=session_id, requested_by=principal.user_id,
                        purpose=p.value, justification=why, status="pending", created_ms=_now())
    db.add(row)
    db.flush()
    return row


def decide_export(db: Session, principal: Principal, export_id: str, approve: bool) -> ExportRequest:
    """Approve or reject a pending export request (four-eyes: never one's own).

    Raises:
        NotFound: no such request.
        PermissionDenied: own request, or it is no longer pending.
    """
    row = db.get(ExportRequest, export_id)
    if row is None:
        raise NotFound("no such export request")
    if not principal.can(Permission.EXPORTS_APPROVE):
        raise PermissionDenied("approving exports needs the privacy_officer role")
    if row.requested_by == principal.user_id:
        raise PermissionDenied("four-eyes rule: a second person must approve your own export request")
    if row.status != "pending":
        raise PermissionDenied(f"the request is already {row.status}")
    row.status = "approved" if approve else "rejected"
    row.decided_by, row.decided_ms = principal.user_id, _now()
    db.flush()
    return row


def take_export(db: Session, principal: Principal, export_id: str, max_age_days: int) -> ExportRequest:
    """Mark an approved export as downloaded by its requester (one download per approval).

    Raises:
        NotFound: no such request, or not the requester's.
        PermissionDenied: not approved (pending, rejected or already downloaded), or training lapsed.
    """
    row = db.get(ExportRequest, export_id)
    if row is None or row.requested_by != principal.user_id:
        raise NotFound("no such export request")
    if row.status == "downloaded":
        raise PermissionDenied("this export was already downloaded (one download per approval); request a new export")
    if row.status != "approved":
        raise PermissionDenied(f"the export is {row.status}; it needs a privacy officer's approval")
    check_purpose(principal, row.purpose)
    require_training(db, principal, max_age_days)
    now = _now()
    claimed = db.execute(update(ExportRequest).where(ExportRequest.id == export_id, ExportRequest.status == "approved")
                         .values(status="downloaded", downloaded_ms=now)).rowcount
    if claimed != 1:  # a concurrent download took it first
        raise PermissionDenied("this export was already downloaded (one download per approval); request a new export")
    db.refresh(row)
    return row
