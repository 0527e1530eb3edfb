"""Command line for periodic access reviews: ``replayvault reviews open|list|decide|close`` (attached in :mod:`.cli`).

Thin layer over :mod:`replayvault.governance.reviews`. Opening and closing are audited with the actor
``cli`` unless ``--reviewer NAME`` names the person; a decision always needs ``--reviewer`` (an
hr_liaison or compliance_lead other than the user under review: four-eyes).
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from .errors import ReplayVaultError

reviews_app = typer.Typer(help="Periodic access reviews (ISO/IEC 27001:2022 A 5.18): attest or revoke every role.",
                          no_args_is_help=True)

__all__ = ["reviews_app"]

_REVIEWER = "User name of the reviewer (hr_liaison or compliance_lead)."


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


def _actor(rt, reviewer: str | None) -> str:  # type: ignore[no-untyped-def]
    """``user:<id>`` of ``reviewer``, or ``cli`` without one. Raises NotFound."""
    from .governance import accounts

    if reviewer is None:
        return "cli"
    with rt.sessions() as db:
        return f"user:{accounts.user_by_name(db, reviewer).id}"


@reviews_app.command("open")
def reviews_open(due_days: int = typer.Option(14, "--due-days", help="Days to finish the review (1-90)."),
                 reviewer: Optional[str] = typer.Option(None, "--reviewer", help=_REVIEWER)) -> None:
    """Open a review: one item per role of every active user.

    Example: replayvault reviews open --due-days 14 --reviewer hana
    """
    from .display import when
    from .governance.reviews import open_review

    c = _cli()
    rt = c._runtime()
    try:
        r = open_review(rt, _actor(rt, reviewer), due_days=due_days)
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"opened access review {r['id']}: {r['total']} items, due {when(r['due_ms'])}")


@reviews_app.command("list")
def reviews_list(review_id: Optional[str] = typer.Argument(None, help="Show this review's items."),
                 as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the schedule and the reviews, or one review's items (with their ids, for ``decide``).

    Example: replayvault reviews list ar_3f9c0e1d2b4a6879
    """
    from .display import when
    from .governance import reviews

    c = _cli()
    rt = c._runtime()
    try:
        data = reviews.get_review(rt, review_id) if review_id else {
            "schedule": reviews.schedule(rt).as_dict(), "reviews": reviews.list_reviews(rt)}
    except ReplayVaultError as exc:
        c._fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(data) + "\n")
        return
    if review_id:
        table = Table("item", "user", "role", "held since", "decision", caption=f"{data['id']}: {data['status']}")
        for i in data["items"]:
            table.add_row(str(i["id"]), i["username"] or i["user_id"], i["role"], when(i["granted_ms"])[:10],
                          i["decision"] or "[yellow]undecided[/]")
        c.out.print(table)
        return
    s = data["schedule"]
    state = "[bold yellow]OVERDUE[/]" if s["overdue"] else "[green]on schedule[/]"
    c.out.print(f"access reviews: {state} ({escape(s['reason'])}); last completed {when(s['last_completed_ms'])}, "
                f"next due {when(s['next_due_ms'])}, overdue after {when(s['deadline_ms'])}")
    table = Table("review", "opened", "due", "status", "items", "attested", "revoked", "undecided")
    for r in data["reviews"]:
        table.add_row(r["id"], when(r["opened_ms"])[:16], when(r["due_ms"])[:16] + (" (overdue)" if r["overdue"] else ""),
                      r["status"], str(r["total"]), str(r["attested"]), str(r["revoked"]), str(r["undecided"]))
    c.out.print(table)


@reviews_app.command("decide")
def reviews_decide(review_id: str, item_id: int = typer.Argument(..., help="Item id (see `reviews list REVIEW_ID`)."),
                   decision: str = typer.Argument(..., help="attest or revoke"),
                   reviewer: str = typer.Option(..., "--reviewer", help=_REVIEWER)) -> None:
    """Attest (keep) or revoke (remove now) one user's role.

    Example: replayvault reviews decide ar_3f9c0e1d2b4a6879 4 revoke --reviewer hana
    """
    from .governance.reviews import decide_item

    c = _cli()
    rt = c._runtime()
    try:
        out = decide_item(rt, review_id, item_id, decision, _actor(rt, reviewer))
    except ReplayVaultError as exc:
        c._fail(exc)
    i, r = out["item"], out["review"]
    verb = "attested" if i["decision"] == "attest" else "revoked"
    c.out.print(f"{verb} {i['role']} of {escape(i['username'] or i['user_id'])}; review {r['id']}: "
                f"{r['undecided']} undecided" + (" — completed" if r["status"] == "completed" else ""))


@reviews_app.command("close")
def reviews_close(review_id: str, reason: Optional[str] = typer.Option(None, help="Why it closes early (optional)."),
                  reviewer: Optional[str] = typer.Option(None, "--reviewer", help=_REVIEWER)) -> None:
    """Close an open review, leaving its undecided items listed (it does not count as completed).

    Example: replayvault reviews close ar_3f9c0e1d2b4a6879 --reason "superseded by Q4 review"
    """
    from .governance.reviews import close_review

    c = _cli()
    rt = c._runtime()
    try:
        r = close_review(rt, review_id, _actor(rt, reviewer), reason)
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"closed access review {r['id']}: {r['attested']} attested, {r['revoked']} revoked, "
                f"{r['undecided']} undecided")
