"""Command line: a thin Typer layer over the library (each command calls the function of the same name).

Every setting is an environment variable ``REPLAYVAULT_*`` (see the README); the data directory
is ``REPLAYVAULT_HOME`` (default ``./.replayvault``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .config import get_settings
from .errors import ReplayVaultError

app = typer.Typer(help="replayvault: privacy-first session recording and heatmaps.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)
out = Console()


def _runtime():  # type: ignore[no-untyped-def]
    from .runtime import Runtime

    try:
        return Runtime(get_settings())
    except ReplayVaultError as exc:  # e.g. a key file with loose permissions
        _fail(exc)


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
    raise typer.Exit(code=2)


@app.command()
def serve(host: Optional[str] = typer.Option(None, help="Bind address (default REPLAYVAULT_HOST, 127.0.0.1)."),
          port: Optional[int] = typer.Option(None, help="Port (default REPLAYVAULT_PORT, 8000).")) -> None:
    """Run the collector, API and dashboard.

    Example: replayvault serve --port 8000
    """
    import uvicorn

    from .web.app import create_app

    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    try:
        application = create_app(_runtime())
    except ReplayVaultError as exc:
        _fail(exc)
    # uvicorn's access log prints query strings, which carry write keys (sendBeacon's ?key=) and page
    # URLs; the app logs method, path and status instead (replayvault.web.app).
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level="info",
                access_log=False)


@app.command("import")
def import_(files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                               help="rrweb event arrays or PostHog exports (JSON)."),
            project: str = typer.Option("default", help="Project id to import into (created when missing).")) -> None:
    """Import recordings through the same pipeline as the collector (mask, seal, facts).

    Example: replayvault import ../shared/data/recordings/homepage.json
    """
    from .ingest.importer import import_file
    from .projects_setup import ensure_project

    rt = _runtime()
    try:
        proj = ensure_project(rt, project, project, [])
    except ReplayVaultError as exc:
        _fail(exc)
    failures = 0
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as progress:
        for path in files:
            task = progress.add_task(path.name, total=None)
            try:
                res = import_file(rt, proj, path, progress=lambda n, t=task: progress.advance(t, n))
            except ReplayVaultError as exc:
                err.print(f"[red]{escape(path.name)}: {escape(str(exc))}[/]", soft_wrap=True)
                failures += 1
                continue
            note = " (already imported)" if res.duplicates == res.batches else ""
            out.print(f"{path.name}: {res.events} events -> session {', '.join(res.session_ids)}{note}")
    if failures:
        raise typer.Exit(code=2)


@app.command()
def sessions(as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
             project: Optional[str] = typer.Option(None, help="Only this project.")) -> None:
    """List recorded sessions.

    Example: replayvault sessions --json
    """
    from rich.table import Table

    from .recordings import list_sessions

    rows = list_sessions(_runtime(), project)
    if as_json:
        for s in rows:
            d = s.as_dict()
            sys.stdout.write(json.dumps({k: d[k] for k in ("id", "start", "duration_ms", "page_views", "clicks", "masked_items")}) + "\n")
        return
    table = Table("session", "start (UTC)", "duration", "pages", "clicks", "masked", "device",
                  caption="session ids shortened; --json prints them in full")
    from .display import duration, when

    for s in rows:
        table.add_row(s.id[:8], when(s.start)[:16], duration(s.duration_ms), str(s.page_views), str(s.clicks),
                      str(s.masked_items), s.device_class or "-")
    out.print(table)


def _day(value: str | None, option: str, end: bool = False) -> int | None:
    """Epoch ms of the start of a YYYY-MM-DD day (UTC), or of the next day with ``end``; None for None."""
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        _fail(ValueError(f"{option} must be a date like 2026-11-29"))
    if end:
        day += dt.timedelta(days=1)
    return int(dt.datetime.combine(day, dt.time.min, dt.UTC).timestamp() * 1000)


@app.command()
def heatmap(url: str = typer.Option(..., help="Page URL (query string ignored)."),
            kind: str = typer.Option("click", help="click, move or scroll."),
            viewport: Optional[str] = typer.Option(None, help="desktop, tablet or mobile (default: the one with most page views)."),
            since: Optional[str] = typer.Option(None, "--from", help="First day (YYYY-MM-DD, UTC)."),
            until: Optional[str] = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD, UTC)."),
            output: Path = typer.Option(Path("heatmap.png"), "-o", "--output", help="PNG file to write."),
            project: Optional[str] = typer.Option(None, help="Only this project.")) -> None:
    """Render a click, move or scroll map of one page to a PNG.

    Example: replayvault heatmap --url https://posthog.com/ --kind click --from 2026-11-01 -o click.png
    """
    from .heatmaps import KINDS, heatmap_png

    if kind not in KINDS:
        _fail(ValueError("--kind must be click, move or scroll"))
    if viewport not in (None, "desktop", "tablet", "mobile"):
        _fail(ValueError("--viewport must be desktop, tablet or mobile"))
    since_ms, until_ms = _day(since, "--from"), _day(until, "--to", end=True)
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        _fail(ValueError("--to must not be before --from"))
    try:
        with err.status("rendering heatmap (page backdrop in headless Chromium)…"):
            png = heatmap_png(_runtime(), url=url, kind=kind, viewport=viewport, project=project,
                              since_ms=since_ms, until_ms=until_ms)
    except ReplayVaultError as exc:
        _fail(exc)
    output.write_bytes(png)
    out.print(f"wrote {output} ({len(png)} bytes)")


@app.command()
def demo(serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Keep serving after the journeys."),
         journeys: int = typer.Option(0, help="Run only the first N journeys (0 = all)."),
         import_shared: bool = typer.Option(True, help="Also import ../shared/data/recordings when present.")) -> None:
    """Start the server (127.0.0.1:8000) and the demo bank (127.0.0.1:8001), record scripted visitors.

    Example: replayvault demo
    """
    from .demo_runner import run_demo

    try:
        run_demo(_runtime(), serve_after=serve_after, limit=journeys, import_shared=import_shared, console=out)
    except ReplayVaultError as exc:
        _fail(exc)


from .cli_accountability import audit_app, init, policy_app, training_app, users_app  # noqa: E402

app.command()(init)
app.add_typer(users_app, name="users")
app.add_typer(training_app, name="training")
app.add_typer(audit_app, name="audit")
app.add_typer(policy_app, name="policy")
from .cli_projects import projects_app  # noqa: E402
app.add_typer(projects_app, name="projects")
from .cli_budget import budget_app  # noqa: E402
app.add_typer(budget_app, name="budget")
from .cli_scan import scan  # noqa: E402
from .cli_retention import dsar_app, retention_app  # noqa: E402

app.add_typer(retention_app, name="retention")
app.add_typer(dsar_app, name="dsar")
from .cli_integration import siem_app  # noqa: E402
app.add_typer(siem_app, name="siem")

from .cli_reviews import reviews_app  # noqa: E402
app.add_typer(reviews_app, name="reviews")
app.command()(scan)
from .cli_report import report  # noqa: E402
app.command()(report)


def main() -> None:  # pragma: no cover
    """Entry point for ``python -m replayvault``."""
    app()
