"""REST API for periodic access reviews (``/api/v1/access-reviews``; rules in :mod:`replayvault.governance.reviews`).

Every route needs ``access_review:manage`` (hr_liaison, compliance_lead). Errors are JSON
``{"error": message, "status": code}``: 400 names the bad parameter or the broken rule, 403 a decision
about one's own roles, 404 an unknown review or item. Times are epoch ms.

    GET  /api/v1/access-reviews                                   the schedule and the reviews, newest first
    POST /api/v1/access-reviews                                   open one ``{"due_days": 14}``
    GET  /api/v1/access-reviews/{review_id}                       one review with its items
    POST /api/v1/access-reviews/{review_id}/items/{item_id}       decide ``{"decision": "attest"|"revoke"}``
    POST /api/v1/access-reviews/{review_id}/close                 close early ``{"reason"}`` (optional)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request

from ..errors import InvalidInput
from ..governance import reviews
from ..runtime import Runtime
from .auth import client_ip, principal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/access-reviews", tags=["governance"])


def _rt(request: Request) -> Runtime:
    return request.app.state.rt


@router.get("", summary="The access-review schedule and the reviews")
def overview(request: Request, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    """``{"schedule": {"last_completed_ms", "next_due_ms", "deadline_ms", "overdue", "open_review_id",
    "open_due_ms", "undecided", "period_days", "grace_days", "reason"}, "reviews": [{"id", "status",
    "opened_by", "opened_ms", "due_ms", "closed_by", "closed_ms", "close_reason", "total", "attested",
    "revoked", "undecided", "overdue"}]}``."""
    rt = _rt(request)
    return {"schedule": reviews.schedule(rt).as_dict(), "reviews": reviews.list_reviews(rt, limit)}


@router.post("", summary="Open an access review of every active user's roles")
def open_review(request: Request, due_days: Any = Body(reviews.DUE_DAYS, embed=True)) -> dict[str, Any]:
    """``{"due_days"}`` (1-90, default 14) -> the review; 400 when one is still open."""
    return reviews.open_review(_rt(request), principal(request).actor, due_days=due_days, ip=client_ip(request))


@router.get("/{review_id}", summary="One access review with its items")
def review(request: Request, review_id: str) -> dict[str, Any]:
    """The review (as listed) plus ``items``: ``id``, ``user_id``, ``username``, ``role``, ``granted_ms``,
    ``decision`` (null, attest, revoke), ``decided_by``, ``decided_ms``, ``last_login_ms``, ``disabled``."""
    return reviews.get_review(_rt(request), review_id)


@router.post("/{review_id}/items/{item_id}", summary="Attest or revoke one user's role")
def decide(request: Request, review_id: str, item_id: int,
           decision: Any = Body(..., embed=True)) -> dict[str, Any]:
    """``{"decision": "attest"|"revoke"}`` -> ``{"item", "review"}``; revoke removes the role at once.
    403 for an item about the caller's own roles."""
    return reviews.decide_item(_rt(request), review_id, item_id, decision if isinstance(decision, str) else "",
                               principal(request).actor, client_ip(request))


@router.post("/{review_id}/close", summary="Close a review with items left undecided")
def close(request: Request, review_id: str, reason: Any = Body(None, embed=True)) -> dict[str, Any]:
    """``{"reason"}`` (optional, at most 200 characters) -> the review, ``status`` ``closed``."""
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("reason must be text (at most 200 characters)")
    return reviews.close_review(_rt(request), review_id, principal(request).actor, reason, client_ip(request))
