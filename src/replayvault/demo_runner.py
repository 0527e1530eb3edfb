"""``replayvault demo``: the server and the demo bank on loopback, scripted visitors through the real tracker.

Layout: API + dashboard on http://127.0.0.1:8000, demo bank on http://127.0.0.1:8001 (another
origin, as in production; it is the demo project's only allowed origin).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .errors import ConfigError, NotFound
from .runtime import Runtime

__all__ = ["run_demo", "start_server", "ensure_demo_staff", "SHARED_RECORDINGS", "DEMO_STAFF"]

SHARED_RECORDINGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "recordings"
DEMO_PROJECT = "demo-bank"


def start_server(app, host: str, port: int) -> uvicorn.Server:  # type: ignore[no-untyped-def]
    """Run an ASGI app with uvicorn in a daemon thread; returns once it accepts connections.

    Raises:
        ConfigError: the server did not start within 15 s (port in use?).
    """
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True, name=f"uvicorn-{port}")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"could not start a server on {host}:{port} (is the port in use?)")
        time.sleep(0.05)
    return server


#: One demo account per role (DESIGN.md "Roles"): user name -> roles.
DEMO_STAFF: dict[str, list[str]] = {
    "carla.compliance": ["compliance_lead"],
    "priya.privacy": ["privacy_officer"],
    "hana.hr": ["hr_liaison"],
    "uma.ux": ["ux_analyst"],
    "sami.security": ["security_specialist"],
    "ada.admin": ["admin"],
}


def ensure_demo_staff(rt: Runtime) -> list[tuple[str, list[str], str]]:
    """Create the :data:`DEMO_STAFF` accounts (or give existing ones a new password), each with a
    current training attestation; return ``(user name, roles, password)`` to print once."""
    import datetime as dt

    from .governance import accounts
    from .governance.access import record_training, training_status

    out = []
    with rt.audit.lock, rt.sessions() as db:
        for name, roles in DEMO_STAFF.items():
            password = accounts.new_password()
            try:
                user = accounts.user_by_name(db, name)
                user.password_hash = accounts.hash_password(password)
                rt.audit.record(actor="cli", action="user.password_reset", resource=f"user:{user.id}", db=db)
            except NotFound:
                user = accounts.create_user(db, name, password, roles, "cli", must_change=False)
                rt.audit.record(actor="cli", action="user.created", resource=f"user:{user.id}",
                                details={"roles": roles}, db=db)
            if not training_status(db, user.id, rt.settings.training_max_age_days)[0]:
                row = record_training(db, user, "Data protection for session recordings",
                                      dt.datetime.now(dt.UTC).date().isoformat(), "cli")
                rt.audit.record(actor="cli", action="training.recorded", resource=f"user:{user.id}",
                                details={"course": row.course, "date": row.completed_on}, db=db)
            out.append((name, roles, password))
        db.commit()
    return out


def run_demo(rt: Runtime, *, serve_after: bool = True, limit: int = 0, import_shared: bool = True,
             console: Console | None = None, api_port: int = 8000, bank_port: int = 8001) -> list[dict]:
    """Start both servers, record the scripted journeys, print the dashboard URL; returns the journeys' results.

    Raises:
        ConfigError: a port is taken or the demo bank files are missing.
    """
    from .demo import JOURNEYS, make_bank_app, run_journeys
    from .ingest.importer import import_file
    from .projects_setup import ensure_project
    from .web.app import create_app

    console = console or Console()
    host = "127.0.0.1"
    api_url, bank_url = f"http://{host}:{api_port}", f"http://{host}:{bank_port}"
    project = ensure_project(rt, DEMO_PROJECT, "Demo bank", [bank_url], rotate=True)
    api = start_server(create_app(rt), host, api_port)
    bank = start_server(make_bank_app(api_url, project.write_key), host, bank_port)  # type: ignore[attr-defined]
    console.print(f"collector + dashboard: [bold]{api_url}[/]", soft_wrap=True)
    console.print(f"demo bank:            [bold]{bank_url}/login.html[/]", soft_wrap=True)

    if import_shared and SHARED_RECORDINGS.is_dir():
        posthog = ensure_project(rt, "posthog-2020", "posthog.com recordings (2020)", [])
        files = sorted(SHARED_RECORDINGS.glob("*.json"))
        with console.status("importing the real posthog.com recordings (project posthog-2020)…"):
            for path in files:
                res = import_file(rt, posthog, path)
                note = " (already imported)" if res.duplicates == res.batches else ""
                console.print(f"  imported {path.name}: {res.events} events{note}")

    chosen = JOURNEYS[:limit] if limit else JOURNEYS
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as progress:
        task = progress.add_task("recording visitor journeys in headless Chromium", total=len(chosen))
        results = run_journeys(bank_url, chosen, progress=lambda *_: progress.advance(task))
    for r in results:
        pages = len(r.get("pages", []))
        if r.get("session_id"):
            console.print(f"  {r['name']}: session {r['session_id'][:8]}, {pages} pages recorded")
        else:
            console.print(f"  {r['name']}: consent declined, nothing recorded ({pages} pages browsed)")
    rt.audit.checkpoint()
    console.print(f"\n[bold green]Dashboard:[/] {api_url}/   [bold]Demo bank:[/] {bank_url}/login.html")
    staff = ensure_demo_staff(rt)
    console.print("Dashboard logins (passwords shown once; a new one on every `make demo`):")
    for name, roles, password in staff:
        console.print(f"  {name:<18} {password}   {', '.join(roles)}")
    if serve_after:
        console.print("Browse the demo bank and accept the banner to see your own session appear. Ctrl-C stops.")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    api.should_exit = True
    bank.should_exit = True
    return results
