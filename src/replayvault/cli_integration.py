"""Command line for SIEM/GRC integration: ``siem export``, ``siem push``, ``siem status`` (attached in :mod:`.cli`).

Thin layer over :mod:`replayvault.compliance.integration` (the JSON Lines feeds) and
:mod:`replayvault.compliance.webhook` (the signed push). Nothing here prints the webhook secret.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import IO, ContextManager, Optional

import typer
from rich.markup import escape

from .errors import ReplayVaultError

siem_app = typer.Typer(help="Incidents and audit entries for a SIEM or GRC system: JSON Lines and a signed webhook.",
                       no_args_is_help=True)

__all__ = ["siem_app"]


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


def _since_ms(value: str | None) -> int | None:
    """Epoch ms of a ``YYYY-MM-DD`` day (00:00 UTC) or of an ISO 8601 time with an offset; None for None."""
    if value is None:
        return None
    try:
        when = (dt.datetime.fromisoformat(value) if "T" in value
                else dt.datetime.combine(dt.date.fromisoformat(value), dt.time.min, dt.UTC))
    except ValueError:
        raise ReplayVaultError("--since must be a date like 2026-11-29 or a time like 2026-11-29T08:00:00+00:00") from None
    if when.tzinfo is None:
        raise ReplayVaultError("--since needs a UTC offset when it has a time (e.g. 2026-11-29T08:00:00Z)")
    return int(when.timestamp() * 1000)


def _open_output(output: Path) -> ContextManager[IO[bytes]]:
    if str(output) == "-":
        return contextlib.nullcontext(sys.stdout.buffer)
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # audit data: owner only
    return os.fdopen(fd, "wb")


@siem_app.command("export")
def siem_export(kind: str = typer.Option(..., "--kind", help="incidents or audit."),
                since: Optional[str] = typer.Option(None, "--since", help="Start at this day (YYYY-MM-DD, UTC) or ISO time."),
                since_index: int = typer.Option(0, "--since-index", min=0, help="Start at this audit index."),
                output: Path = typer.Option(Path("-"), "-o", "--output", help="File to write (mode 0600); - for stdout."),
                limit: int = typer.Option(0, min=0, help="Cover at most this many audit entries (0: up to the end).")) -> None:
    """Write incidents or audit entries as JSON Lines, from a cursor to the end of the log.

    Prints the next index on standard error: pass it as --since-index next time.

    Example: replayvault siem export --kind incidents --since 2026-11-01 -o incidents.jsonl
    """
    from .compliance.integration import FEEDS, MAX_LIMIT, feed, jsonl

    c = _cli()
    written = covered = 0
    try:
        if kind not in FEEDS:
            raise ReplayVaultError("--kind must be incidents or audit")
        start_ms, cursor = _since_ms(since), since_index
        rt = c._runtime()
        with _open_output(output) as fh:
            while True:
                step = MAX_LIMIT if not limit else min(MAX_LIMIT, limit - covered)
                page = feed(rt, kind, since_index=cursor, since_ms=start_ms, limit=step)
                fh.write(jsonl(page.lines))
                written += len(page.lines)
                covered += page.next_index - page.start
                cursor, start_ms = page.next_index, None
                if page.complete or (limit and covered >= limit):
                    break
    except ReplayVaultError as exc:
        c._fail(exc)
    c.err.print(f"{written} {escape(kind)} lines; next index {cursor} (--since-index {cursor})")


@siem_app.command("push")
def siem_push(as_json: bool = typer.Option(False, "--json", help="Print the result as JSON.")) -> None:
    """Push what the webhook has not received yet (one round; `serve` does this every REPLAYVAULT_WEBHOOK_INTERVAL_S).

    Needs REPLAYVAULT_WEBHOOK_URL and REPLAYVAULT_WEBHOOK_SECRET_FILE; exit 1 when a batch is still
    refused after its retries (the next round sends it again).

    Example: REPLAYVAULT_WEBHOOK_URL=https://siem.example/hook REPLAYVAULT_WEBHOOK_SECRET_FILE=/etc/rv/hook.secret replayvault siem push
    """
    from .compliance.webhook import push

    c = _cli()
    rt = c._runtime()
    try:
        result = push(rt)
    except ReplayVaultError as exc:
        c._fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(result.as_dict()) + "\n")
    else:
        c.out.print(f"{result.lines} lines in {result.batches} batches delivered; next index {result.next_index} "
                    f"of {result.size}")
    if result.error:
        c.err.print(f"[bold red]not delivered:[/] {escape(result.error)}", soft_wrap=True)
        raise typer.Exit(code=1)


@siem_app.command("status")
def siem_status() -> None:
    """The webhook cursor: next index, log size, failed rounds in a row, last success and last error.

    Example: replayvault siem status
    """
    from .compliance.integration import log_size
    from .compliance.webhook import load_state, state_path
    from .display import when

    c = _cli()
    rt = c._runtime()
    st = load_state(state_path(rt.settings))
    size = log_size(rt)
    c.out.print(f"webhook: {'configured' if rt.settings.webhook_url else 'not configured (REPLAYVAULT_WEBHOOK_URL)'}")
    c.out.print(f"next index {st.next_index} of {size} ({max(0, size - st.next_index)} entries not delivered)")
    c.out.print(f"failed rounds in a row: {st.consecutive_failures}; last success: "
                f"{when(st.last_success_ms) if st.last_success_ms else 'never'}")
    if st.last_error:
        c.out.print(f"last error: {escape(st.last_error)}")
