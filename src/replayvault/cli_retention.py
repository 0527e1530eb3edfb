"""Command line for retention and data subject requests: ``retention`` and ``dsar`` (attached in :mod:`.cli`).

Thin layer over :mod:`replayvault.governance.retention` and :mod:`replayvault.governance.dsar`;
actions are audited with the actor ``cli``. A subject id given as ``-`` is read from standard input,
so it stays out of the shell history; it is never printed, only its digest.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import ReplayVaultError

retention_app = typer.Typer(help="Retention periods, legal holds and the crypto-shredding sweep.", no_args_is_help=True)
dsar_app = typer.Typer(help="Data subject requests: export (GDPR Art. 15) and erasure (Art. 17).", no_args_is_help=True)

__all__ = ["retention_app", "dsar_app"]


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


@retention_app.command("run")
def retention_run(dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be deleted."),
                  as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Crypto-shred every session past its retention period that no legal hold keeps.

    Deletes each session's wrapped data key first, then its chunk files, analytics facts and rows;
    one audit entry per session and a deletion certificate for the run.

    Example: replayvault retention run --dry-run
    """
    from .governance.shredding import sweep

    c = _cli()
    rt = c._runtime()
    try:
        with Progress(TextColumn("crypto-shredding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=c.err, transient=True) as bar:
            task = bar.add_task("sweep", total=None)
            result = sweep(rt, actor="cli", dry_run=dry_run,
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    except ReplayVaultError as exc:
        c._fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict()) + "\n")
        return
    if dry_run:
        c.out.print(f"dry run: {len(result.expired)} sessions past their retention period would be deleted, "
                    f"{len(result.held)} kept under legal hold")
        for item in result.expired:
            c.out.print(f"  {item['session_id']}  project {escape(item['project_id'])}  "
                        f"{item['retention_days']} days ({escape(item['category'] or 'default')})")
        return
    cert = result.certificate
    c.out.print(f"{len(result.shredded)} sessions crypto-shredded ({sum(s.chunks for s in result.shredded)} chunks, "
                f"{sum(s.stored_bytes for s in result.shredded):,} bytes), {len(result.held)} kept under legal hold"
                + (f"; deletion certificate {cert['certificate']} (sha256 {cert['sha256'][:16]}…)" if cert else ""))


@retention_app.command("status")
def retention_status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Retention settings and session counts per project, and the active legal holds.

    Example: replayvault retention status
    """
    from .display import when
    from .governance.retention import list_holds
    from .governance.retention import retention_status as status

    c = _cli()
    rt = c._runtime()
    rows, holds = status(rt), list_holds(rt)
    if as_json:
        sys.stdout.write(json.dumps({"projects": rows, "holds": holds}) + "\n")
        return
    table = Table("project", "default", "categories", "jurisdiction", "live", "≤ 7 days", "awaiting sweep", "held",
                  "shredded", "next expiry (UTC)")
    for p in rows:
        cats = ", ".join(f"{x['name']} {x['days']} d" for x in p["categories"]) or "–"
        table.add_row(escape(p["project_id"]), f"{p['default_days']} d", escape(cats), escape(p["jurisdiction"] or "–"),
                      str(p["live"]), str(p["expiring_7d"]), str(p["awaiting_sweep"]), str(p["held"]),
                      str(p["shredded"]), when(p["next_expiry_ms"])[:16])
    c.out.print(table)
    if holds:
        t2 = Table("session", "held since (UTC)", "by", "reason", title="legal holds")
        for h in holds:
            t2.add_row(h["session_id"], when(h["placed_ms"])[:16], escape(h["placed_by"]), escape(h["reason"]))
        c.out.print(t2)


def _hold(session_id: str, reason: str, place: bool) -> None:
    from .governance.retention import place_hold, release_hold

    c = _cli()
    try:
        h = (place_hold if place else release_hold)(c._runtime(), session_id, reason, "cli")
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"legal hold {h.id} on {h.session_id} {'placed' if place else 'released'}")


@retention_app.command("hold")
def retention_hold(session_id: str,
                   reason: str = typer.Option(..., "--reason", help="Case or matter id, 3-200 characters.")) -> None:
    """Place a legal hold: the session is never deleted until released.

    Example: replayvault retention hold 400797c2-c21b-530c-87af-590028706580 --reason "Case 2026-114"
    """
    _hold(session_id, reason, True)


@retention_app.command("release")
def retention_release(session_id: str,
                      reason: str = typer.Option(..., "--reason", help="Why the hold ends, 3-200 characters.")) -> None:
    """Release a legal hold (a session past its period is then deleted by the next sweep).

    Example: replayvault retention release 400797c2-c21b-530c-87af-590028706580 --reason "Case 2026-114 closed"
    """
    _hold(session_id, reason, False)


def _subject(value: str) -> str:
    return sys.stdin.readline().strip() if value == "-" else value


@dsar_app.command("export")
def dsar_export(subject: str = typer.Argument(..., help="The id given to replayvault.identify(); '-' reads it from stdin."),
                output: Path = typer.Option(..., "-o", "--output", help="Zip file to write.")) -> None:
    """Register and answer an access request: a zip of the subject's masked events, session metadata,
    consent receipts and the audit entries about those sessions (audited as dsar.export).

    Example: replayvault dsar export cust-4242 -o cust-4242.zip
    """
    from .governance.dsar import export_request, open_request

    c = _cli()
    rt = c._runtime()
    try:
        req = open_request(rt, "export", _subject(subject), "cli")
        data = export_request(rt, req["id"], "cli")
        output.write_bytes(data)
    except (ReplayVaultError, OSError) as exc:
        c._fail(exc)
    n = len(json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))["sessions"])
    c.out.print(f"request {req['id']} answered: {n} sessions, wrote {output} ({len(data):,} bytes)")


@dsar_app.command("erase")
def dsar_erase(subject: str = typer.Argument(..., help="The id given to replayvault.identify(); '-' reads it from stdin."),
               yes: bool = typer.Option(False, "--yes", help="Confirm: erasure cannot be undone.")) -> None:
    """Register and answer an erasure request: crypto-shred every session of the subject (except those under a
    legal hold), delete their analytics facts, and leave a tombstone in the ledger (audited as dsar.erasure).

    Example: replayvault dsar erase cust-4242 --yes
    """
    from .governance.dsar import erase_request, open_request

    c = _cli()
    if not yes:
        c.err.print("[bold red]error:[/] erasure cannot be undone; add --yes to confirm")
        raise typer.Exit(code=2)
    rt = c._runtime()
    try:
        req = open_request(rt, "erasure", _subject(subject), "cli")
        t = erase_request(rt, req["id"], "cli")
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"request {t['request']} answered: {t['sessions']} sessions erased, "
                f"{len(t['held_session_ids'])} kept under legal hold; tombstone at audit entry {t['audit_idx']}"
                + (f", certificate {t['certificate']}" if t["certificate"] else ""))


@dsar_app.command("list")
def dsar_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """List data subject requests with their due dates (received + 30 days), open ones first.

    Example: replayvault dsar list
    """
    from .display import when
    from .governance.dsar import list_requests

    c = _cli()
    rows = list_requests(c._runtime())
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r) + "\n")
        return
    table = Table("request", "kind", "subject digest", "received (UTC)", "due (UTC)", "status", "sessions")
    for r in rows:
        state = r["status"] if r["status"] != "open" else (
            f"[bold red]overdue {-r['days_left']} d[/]" if r["overdue"] else f"open, {r['days_left']} d left")
        table.add_row(r["id"], r["kind"], r["subject_digest"][:12] + "…", when(r["created_ms"])[:16],
                      when(r["due_ms"])[:16], state, "–" if r["sessions"] is None else str(r["sessions"]))
    c.out.print(table)

