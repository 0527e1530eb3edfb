"""Periodic access reviews: who holds which role, attested or revoked by a second person.

ISO/IEC 27001:2022 Annex A 5.18 ("Access rights") asks that access rights be reviewed at planned
intervals; GDPR Art. 32(1)(d) asks for a process to regularly test and evaluate the technical and
organisational measures, of which access control to recordings is one. Rules:

* **Who.** Reviewers hold ``access_review:manage`` (hr_liaison, compliance_lead). Nobody decides an
  item about their own roles (four-eyes, as for export approvals): the item stays for another reviewer.
* **Opening** (:func:`open_review`, ``access_review.opened``) snapshots every active (not disabled)
  user's roles as items, one per (user, role), sorted by user name then role. One review is open at a
  time. The review is due ``due_days`` after opening (default :data:`DUE_DAYS` = 14, 1 to
  :data:`MAX_DUE_DAYS`): ``due_ms = opened_ms + due_days × 86,400,000``.
* **Deciding** (:func:`decide_item`) an undecided item of an open review: ``attest`` keeps the role
  (``access_review.attested``; refused when the user no longer holds it); ``revoke`` removes it with
  :func:`.accounts.revoke_role`, the function behind ``replayvault users revoke`` (``access_review.revoked``
  plus ``role.revoked`` on ``user:<id>`` when the role was still held). Decisions are final. Refusals
  (own item, not a reviewer) are audited with ``outcome="denied"``.
* **Closing.** The decision of the last undecided item completes the review (``status="completed"``,
  ``access_review.closed``). A reviewer may close an open review earlier (:func:`close_review`,
  optional reason): ``status="closed"``, the undecided items stay listed as undecided.
* **Schedule** (:func:`review_status`, for the compliance checklist): see its docstring. Only a
  *completed* review counts; a review closed with undecided items does not.

Every change and its audit entry commit in one transaction (``rt.audit.lock`` held); times are epoch
milliseconds (UTC).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..audit.entries import clean_text
from ..db.models import AccessReview, AccessReviewItem, User, UserRole
from ..errors import AccessDenied, InvalidInput, NotFound, PermissionDenied
from . import accounts
from .permissions import Permission, permissions_for

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["DAY_MS", "DEFAULT_PERIOD_DAYS", "DUE_DAYS", "MAX_DUE_DAYS", "DECISIONS", "ReviewStatus", "open_review",
           "list_reviews", "get_review", "decide_item", "close_review", "review_status", "schedule"]

DAY_MS = 86_400_000
#: Default period between reviews (quarterly), days; the setting ``REPLAYVAULT_ACCESS_REVIEW_DAYS``.
DEFAULT_PERIOD_DAYS = 90
#: Days a reviewer has to finish a review after opening it; also the schedule's grace period.
DUE_DAYS = 14
MAX_DUE_DAYS = 90
DECISIONS = ("attest", "revoke")
_REASON_MAX = 200


def _now() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class ReviewStatus:
    """Where the periodic schedule stands at ``now_ms`` (see :func:`review_status`); times in epoch ms."""

    last_completed_ms: int | None  # when the newest completed review was completed
    next_due_ms: int | None        # when the next review is due: baseline + period
    deadline_ms: int | None        # next_due_ms + grace; later than this with no completed review: overdue
    overdue: bool                  # the checklist item is amber when True, green otherwise
    open_review_id: str | None
    open_due_ms: int | None        # due date of the open review
    undecided: int                 # undecided items of the open review
    period_days: int
    grace_days: int
    reason: str                    # one sentence saying why it is (or is not) overdue

    def as_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)


# -- the schedule ---------------------------------------------------------------------------------
def review_status(db: Session, now_ms: int, *, period_days: int = DEFAULT_PERIOD_DAYS,
                  grace_days: int = DUE_DAYS) -> ReviewStatus:
    """The periodic schedule at ``now_ms``; the compliance checklist shows amber when ``overdue``.

    Rules, in order:

    1. Baseline: when the newest *completed* review was completed (its ``closed_ms``); with none, when
       the first account was created (no review can be expected before there were accounts); with no
       account at all, nothing is due (not overdue).
    2. ``next_due_ms = baseline + period_days × 86,400,000`` (default 90 days: quarterly);
       ``deadline_ms = next_due_ms + grace_days × 86,400,000`` (grace: the 14 days a review is given).
    3. Overdue when ``now_ms > deadline_ms`` (strictly later), or when a review is open and
       ``now_ms > its due_ms`` (an open review past its own due date is overdue, even early in the period).
    """
    last = db.scalar(select(func.max(AccessReview.closed_ms)).where(AccessReview.status == "completed"))
    base = last if last is not None else db.scalar(select(func.min(User.created_ms)))
    open_row = db.scalars(select(AccessReview).where(AccessReview.status == "open")
                          .order_by(AccessReview.opened_ms.desc())).first()
    undecided = 0
    if open_row is not None:
        undecided = db.scalar(select(func.count()).select_from(AccessReviewItem).where(
            AccessReviewItem.review_id == open_row.id, AccessReviewItem.decision.is_(None))) or 0
    next_due = None if base is None else base + period_days * DAY_MS
    deadline = None if next_due is None else next_due + grace_days * DAY_MS
    late_schedule = deadline is not None and now_ms > deadline
    late_open = open_row is not None and now_ms > open_row.due_ms
    reasons = []
    if late_schedule:
        reasons.append(f"no access review completed within {period_days} days (+{grace_days} days' grace)"
                       + ("" if last is not None else "; none completed yet"))
    if late_open:
        reasons.append(f"review {open_row.id} is past its due date with {undecided} undecided items")  # type: ignore[union-attr]
    if not reasons:
        reasons.append("no accounts yet: nothing to review" if base is None else "within schedule")
    reason = "; ".join(reasons)
    return ReviewStatus(last, next_due, deadline, late_schedule or late_open, open_row.id if open_row else None,
                        open_row.due_ms if open_row else None, undecided, period_days, grace_days, reason)


def schedule(rt: "Runtime", now_ms: int | None = None) -> ReviewStatus:
    """:func:`review_status` with the configured period (``REPLAYVAULT_ACCESS_REVIEW_DAYS``) at ``now_ms`` (default now)."""
    with rt.sessions() as db:
        return review_status(db, _now() if now_ms is None else now_ms, period_days=rt.settings.access_review_days)


# -- reading ---------------------------------------------------------------------------------------
def _counts(db: Session, review_ids: list[str]) -> dict[str, dict[str, int]]:
    out = {rid: {"total": 0, "attested": 0, "revoked": 0, "undecided": 0} for rid in review_ids}
    rows = db.execute(select(AccessReviewItem.review_id, AccessReviewItem.decision, func.count())
                      .where(AccessReviewItem.review_id.in_(review_ids))
                      .group_by(AccessReviewItem.review_id, AccessReviewItem.decision))
    key = {None: "undecided", "attest": "attested", "revoke": "revoked"}
    for rid, decision, n in rows:
        out[rid][key[decision]] += n
        out[rid]["total"] += n
    return out


def _summary(r: AccessReview, counts: dict[str, int], now: int) -> dict[str, Any]:
    return {"id": r.id, "status": r.status, "opened_by": r.opened_by, "opened_ms": r.opened_ms, "due_ms": r.due_ms,
            "closed_by": r.closed_by, "closed_ms": r.closed_ms, "close_reason": r.close_reason, **counts,
            "overdue": r.status == "open" and now > r.due_ms}


def list_reviews(rt: "Runtime", limit: int = 100, now_ms: int | None = None) -> list[dict[str, Any]]:
    """Reviews, newest first: ``id``, ``status``, ``opened_by``, ``opened_ms``, ``due_ms``, ``closed_by``,
    ``closed_ms``, ``close_reason``, item counts ``total``, ``attested``, ``revoked``, ``undecided``, and
    ``overdue`` (open and past ``due_ms``)."""
    now = _now() if now_ms is None else now_ms
    with rt.sessions() as db:
        rows = db.scalars(select(AccessReview).order_by(AccessReview.opened_ms.desc(), AccessReview.id)
                          .limit(limit)).all()
        counts = _counts(db, [r.id for r in rows])
        return [_summary(r, counts[r.id], now) for r in rows]


def _item(i: AccessReviewItem, names: dict[str, str], user: User | None) -> dict[str, Any]:
    return {"id": i.id, "user_id": i.user_id, "username": names.get(i.user_id), "role": i.role,
            "granted_ms": i.granted_ms, "decision": i.decision, "decided_by": i.decided_by, "decided_ms": i.decided_ms,
            "last_login_ms": user.last_login_ms if user else None, "disabled": bool(user and user.disabled)}


def get_review(rt: "Runtime", review_id: str, now_ms: int | None = None) -> dict[str, Any]:
    """One review (as in :func:`list_reviews`) with ``items``: ``id``, ``user_id``, ``username``, ``role``,
    ``granted_ms``, ``decision`` (None, attest, revoke), ``decided_by``, ``decided_ms``, and the user's
    current ``last_login_ms`` and ``disabled`` (to help the reviewer). Raises NotFound."""
    now = _now() if now_ms is None else now_ms
    with rt.sessions() as db:
        r = db.get(AccessReview, review_id)
        if r is None:
            raise NotFound("no such access review")
        items = db.scalars(select(AccessReviewItem).where(AccessReviewItem.review_id == r.id)
                           .order_by(AccessReviewItem.id)).all()
        names = accounts.user_names(db)
        users = {u.id: u for u in db.scalars(select(User).where(User.id.in_({i.user_id for i in items})))}
        out = _summary(r, _counts(db, [r.id])[r.id], now)
        out["items"] = [_item(i, names, users.get(i.user_id)) for i in items]
        return out


# -- changing --------------------------------------------------------------------------------------
def _check_reviewer(db: Session, actor: str, *, named: bool = False) -> None:
    """``actor`` may act on reviews: ``cli`` (operator; not for decisions, ``named``) or an active user holding
    ``access_review:manage``. Raises PermissionDenied."""
    if actor == "cli" and not named:
        return
    user = db.get(User, actor.removeprefix("user:")) if actor.startswith("user:") else None
    if user is None or user.disabled:
        raise PermissionDenied("a decision needs a named reviewer (an active hr_liaison or compliance_lead)")
    if Permission.ACCESS_REVIEW not in permissions_for(accounts.roles_of(db, user.id)):
        raise PermissionDenied("only an hr_liaison or compliance_lead reviews access (access_review:manage)")


def _due_days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DUE_DAYS:
        raise InvalidInput(f"due_days must be a whole number of days from 1 to {MAX_DUE_DAYS}")
    return value


def open_review(rt: "Runtime", actor: str, *, due_days: Any = DUE_DAYS, ip: str | None = None,
                now_ms: int | None = None) -> dict[str, Any]:
    """Open a review of every active user's roles (``access_review.opened``); returns it as :func:`list_reviews`.

    Raises:
        InvalidInput: ``due_days`` not 1 to 90, a review is already open, or no active user holds a role.
        PermissionDenied: ``actor`` is not a reviewer.
    """
    days = _due_days(due_days)
    now = _now() if now_ms is None else now_ms
    with rt.audit.lock, rt.sessions() as db:
        _check_reviewer(db, actor)
        still_open = db.scalar(select(AccessReview.id).where(AccessReview.status == "open"))
        if still_open:
            raise InvalidInput(f"access review {still_open} is still open; decide or close it first")
        held = db.execute(select(UserRole.user_id, UserRole.role, UserRole.granted_ms).join(User, User.id == UserRole.user_id)
                          .where(User.disabled.is_(False)).order_by(User.username, UserRole.role)).all()
        if not held:
            raise InvalidInput("no active user holds a role: nothing to review")
        review = AccessReview(id="ar_" + secrets.token_hex(8), status="open", opened_by=actor, opened_ms=now,
                              due_ms=now + days * DAY_MS)
        db.add(review)
        db.flush()
        db.add_all(AccessReviewItem(review_id=review.id, user_id=uid, role=role, granted_ms=granted)
                   for uid, role, granted in held)
        rt.audit.record(actor=actor, action="access_review.opened", resource=f"access_review:{review.id}", origin_ip=ip,
                        details={"items": len(held), "users": len({h[0] for h in held}), "due_ms": review.due_ms},
                        db=db)
        db.commit()
        counts = {"total": len(held), "attested": 0, "revoked": 0, "undecided": len(held)}
        return _summary(review, counts, now)


def _open_review(db: Session, review_id: str) -> AccessReview:
    review = db.get(AccessReview, review_id)
    if review is None:
        raise NotFound("no such access review")
    if review.status != "open":
        raise InvalidInput(f"access review {review.id} is {review.status}; nothing can be decided or closed")
    return review


def _denied(rt: "Runtime", actor: str, action: str, review_id: str, ip: str | None, exc: Exception,
            details: dict[str, Any]) -> None:
    ours = len(review_id) == 19 and review_id.startswith("ar_") and all(c in "0123456789abcdef" for c in review_id[3:])
    ref = review_id if ours else "unknown"  # an id from the request is logged only when it has our shape
    rt.audit.record(actor=actor, action=action, resource=f"access_review:{ref}", outcome="denied", origin_ip=ip,
                    details={**details, "reason": str(exc)[:200]})


def decide_item(rt: "Runtime", review_id: str, item_id: int, decision: str, actor: str, ip: str | None = None,
                now_ms: int | None = None) -> dict[str, Any]:
    """Attest or revoke one item; the last decision completes the review. Returns ``{"item", "review"}``.

    Raises:
        InvalidInput: unknown decision, review not open, item already decided, or attesting a role the
            user no longer holds.
        NotFound: no such review or item.
        PermissionDenied: ``actor`` is the user under review, or not a reviewer (audited as denied).
    """
    if decision not in DECISIONS:
        raise InvalidInput("decision must be 'attest' or 'revoke'")
    action = "access_review.attested" if decision == "attest" else "access_review.revoked"
    now = _now() if now_ms is None else now_ms
    try:
        with rt.audit.lock, rt.sessions() as db:
            review = _open_review(db, review_id)
            item = db.get(AccessReviewItem, item_id)
            if item is None or item.review_id != review.id:
                raise NotFound("no such item in this access review")
            if actor == f"user:{item.user_id}":
                raise PermissionDenied("nobody reviews their own roles (four-eyes); another reviewer decides this item")
            _check_reviewer(db, actor, named=True)
            if item.decision is not None:
                raise InvalidInput(f"this item was already decided ({item.decision}); decisions are final")
            _apply(rt, db, review, item, decision, actor, ip, now)
            db.commit()
            return {"item": _item(item, accounts.user_names(db), db.get(User, item.user_id)),
                    "review": _summary(review, _counts(db, [review.id])[review.id], now)}
    except AccessDenied as exc:
        _denied(rt, actor, action, review_id, ip, exc, {"item": item_id})
        raise


def _apply(rt: "Runtime", db: Session, review: AccessReview, item: AccessReviewItem, decision: str, actor: str,
           ip: str | None, now: int) -> None:
    """Record one decision and its audit entries in the caller's transaction; complete the review after the last."""
    user = accounts.get_user(db, item.user_id)
    subject = {"item": item.id, "user": f"user:{item.user_id}", "role": item.role}
    if decision == "attest":
        if item.role not in accounts.roles_of(db, user.id):
            raise InvalidInput(f"the user no longer holds {item.role} (changed since the review opened); "
                               "record 'revoke' to confirm the removal")
        rt.audit.record(actor=actor, action="access_review.attested", resource=f"access_review:{review.id}",
                        origin_ip=ip, details=subject, db=db)
    else:
        removed = accounts.revoke_role(db, user, item.role, actor)
        rt.audit.record(actor=actor, action="access_review.revoked", resource=f"access_review:{review.id}",
                        origin_ip=ip, details={**subject, "removed": removed}, db=db)
        if removed:
            rt.audit.record(actor=actor, action="role.revoked", resource=f"user:{user.id}", origin_ip=ip,
                            details={"role": item.role, "access_review": review.id}, db=db)
    item.decision, item.decided_by, item.decided_ms = decision, actor, now
    db.flush()
    counts = _counts(db, [review.id])[review.id]
    if counts["undecided"] == 0:
        _finish(rt, db, review, "completed", actor, None, counts, ip, now)


def _finish(rt: "Runtime", db: Session, review: AccessReview, status: str, actor: str, reason: str | None,
            counts: dict[str, int], ip: str | None, now: int) -> None:
    review.status, review.closed_by, review.closed_ms, review.close_reason = status, actor, now, reason
    rt.audit.record(actor=actor, action="access_review.closed", resource=f"access_review:{review.id}", origin_ip=ip,
                    justification=reason, details={"status": status, "attested": counts["attested"],
                                                   "revoked": counts["revoked"], "undecided": counts["undecided"]},
                    db=db)


def close_review(rt: "Runtime", review_id: str, actor: str, reason: str | None = None, ip: str | None = None,
                 now_ms: int | None = None) -> dict[str, Any]:
    """Close an open review before every item is decided (``status="closed"``; the undecided items stay listed).
    ``reason``: optional, at most 200 characters (personal data masked). Returns it as :func:`list_reviews`.

    Raises:
        InvalidInput: reason too long, or the review is not open. NotFound: no such review.
        PermissionDenied: ``actor`` is not a reviewer (audited as denied).
    """
    try:
        why = clean_text(reason, limit=_REASON_MAX) or None
    except InvalidInput:
        raise InvalidInput(f"reason is longer than {_REASON_MAX} characters") from None
    now = _now() if now_ms is None else now_ms
    try:
        with rt.audit.lock, rt.sessions() as db:
            _check_reviewer(db, actor)
            review = _open_review(db, review_id)
            counts = _counts(db, [review.id])[review.id]
            _finish(rt, db, review, "closed" if counts["undecided"] else "completed", actor, why, counts, ip, now)
            db.commit()
            return _summary(review, counts, now)
    except AccessDenied as exc:
        _denied(rt, actor, "access_review.closed", review_id, ip, exc, {})
        raise
