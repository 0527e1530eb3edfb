"""``replayvault report``: the auditor report of a period as PDF or HTML (attached in :mod:`.cli`).

Thin layer over :mod:`replayvault.compliance.report`: parse the options, :func:`build_report`, then
:func:`write_report` (atomic, mode 0600, audited ``report.generated`` by the actor ``cli`` with the
file's SHA-256). Every error is one line on standard error and exit code 2.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .errors import ReplayVaultError

__all__ = ["report"]


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


def report(since: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, UTC)."),
           until: str = typer.Option(..., "--to", help="Last day, included (YYYY-MM-DD, UTC)."),
           output: Path = typer.Option(..., "-o", "--output", help="File to write: .pdf or .html."),
           project: str | None = typer.Option(None, help="Only this project (default: all).")) -> None:
    """Write the auditor report of a period: metrics with weekly trends, incidents, checklist, retention,
    DSAR, training, access reviews, reads by purpose and the latest signed checkpoint.

    The suffix of --output picks the format: .pdf (printed by headless Chromium) or .html (one
    self-contained page). The file is written with mode 0600 and its SHA-256 is recorded in the audit
    log as report.generated.

    Example: replayvault report --from 2026-10-01 --to 2026-12-31 -o report-q4.pdf
    """
    from .compliance.metrics import parse_period
    from .compliance.report import FORMATS, build_report, write_report

    c = _cli()
    if output.suffix.lower() not in FORMATS:
        c._fail(ValueError(f"--output must end in .pdf or .html (got {output.name!r})"))
    for value, option in ((since, "--from"), (until, "--to")):
        try:  # parse_period also takes epoch ms; the CLI takes days only
            dt.date.fromisoformat(value)
        except ValueError:
            c._fail(ValueError(f"{option} must be a date like 2026-11-29"))
    folder = output.parent
    if output.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        c._fail(ValueError(f"cannot write {output}: " + ("it is a folder" if output.is_dir() else
                                                         f"no writable folder {folder}")))
    try:
        period = parse_period(since, until, project)
    except ReplayVaultError as exc:
        c._fail(ValueError(str(exc).replace("'from'", "--from").replace("'to'", "--to")))
    rt = c._runtime()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=c.err, transient=True) as bar:
            tasks: dict[str, int] = {}

            def tick(step: str, done: int, total: int) -> None:
                if step not in tasks:
                    tasks[step] = bar.add_task(step, total=total)
                bar.update(tasks[step], completed=done, total=total)

            built = build_report(rt, period, progress=tick)
            result = write_report(rt, built, output, actor="cli", progress=tick)
    except (ReplayVaultError, OSError) as exc:
        c._fail(exc)
    c.out.print(f"wrote {escape(result['path'])} ({result['format']}, {result['bytes']:,} bytes)\n"
                f"sha256 {result['sha256']} (audit entry #{result['audit_idx']}, report.generated)", soft_wrap=True)
