"""Dashboard pages for periodic access reviews (rules in :mod:`replayvault.governance.reviews`).

* ``/reviews``: the schedule (last completed, next due, amber once overdue), the reviews with their
  counts, and the form that opens a new one.
* ``/reviews/{review_id}``: one review's items with Attest and Revoke buttons; an item about the
  viewer's own roles has no buttons (the server refuses such a decision with 403 anyway), and a form
  closes the review with items left undecided.

Form posts carry the login session's CSRF token (checked in :mod:`.auth`); refusals come back as the
page with the error and its status code.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import AccessDenied, InvalidInput, NotFound
from ..governance import accounts, reviews
from .auth import client_ip, principal
from .dashboard import _page

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _named(request: Request) -> Any:
    """A function turning an actor (``user:u_…``, ``cli``) into a user name for display."""
    with request.app.state.rt.sessions() as db:
        names = accounts.user_names(db)
    return lambda actor: "–" if not actor else names.get(actor.removeprefix("user:"), actor)


def _list_ctx(request: Request, error: str | None = None) -> dict[str, Any]:
    rt = request.app.state.rt
    return {"nav": "reviews", "schedule": reviews.schedule(rt), "reviews": reviews.list_reviews(rt),
            "who": _named(request), "due_days": reviews.DUE_DAYS, "max_due_days": reviews.MAX_DUE_DAYS,
            "error": error}


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request) -> HTMLResponse:
    """The schedule, the reviews, and the form that opens one."""
    return _page(request, "reviews.html", _list_ctx(request))


@router.post("/reviews", response_class=HTMLResponse)
def review_open(request: Request, due_days: str = Form(str(reviews.DUE_DAYS), max_length=8)) -> Response:
    """Open a review (due in ``due_days``, 1-90); then show it."""
    try:
        days: Any = int(due_days) if due_days.strip().isdigit() else due_days
        r = reviews.open_review(request.app.state.rt, principal(request).actor, due_days=days, ip=client_ip(request))
    except (InvalidInput, AccessDenied) as exc:
        return _page(request, "reviews.html", _list_ctx(request, str(exc)), exc.status_code)
    return RedirectResponse(f"/reviews/{r['id']}", status_code=303)


def _review_page(request: Request, review_id: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    rt = request.app.state.rt
    ctx = {"nav": "reviews", "review": reviews.get_review(rt, review_id), "who": _named(request), "error": error}
    return _page(request, "review.html", ctx, status)


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, review_id: str) -> HTMLResponse:
    """One review's items with the decision buttons."""
    return _review_page(request, review_id)


def _act(request: Request, review_id: str, do) -> Response:  # type: ignore[no-untyped-def]
    try:
        do()
    except NotFound as exc:
        return _page(request, "reviews.html", _list_ctx(request, str(exc)), exc.status_code)
    except (InvalidInput, AccessDenied) as exc:
        return _review_page(request, review_id, str(exc), exc.status_code)
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


@router.post("/reviews/{review_id}/items/{item_id}", response_class=HTMLResponse)
def review_decide(request: Request, review_id: str, item_id: int,
                  decision: str = Form("", max_length=16)) -> Response:
    """Attest or revoke one item (``decision``); 403 for an item about one's own roles."""
    rt, actor, ip = request.app.state.rt, principal(request).actor, client_ip(request)
    return _act(request, review_id, lambda: reviews.decide_item(rt, review_id, item_id, decision, actor, ip))


@router.post("/reviews/{review_id}/close", response_class=HTMLResponse)
def review_close(request: Request, review_id: str, reason: str = Form("", max_length=400)) -> Response:
    """Close the review with its undecided items left listed (optional reason)."""
    rt, actor, ip = request.app.state.rt, principal(request).actor, client_ip(request)
    return _act(request, review_id, lambda: reviews.close_review(rt, review_id, actor, reason.strip() or None, ip))
