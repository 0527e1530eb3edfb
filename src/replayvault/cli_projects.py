"""Command line for projects: ``projects add|list|origins|rotate-key`` (attached in :mod:`.cli`).

A project is a site that sends recordings: an id, a name, the browser origins allowed to send and
a write key. The write key is printed once, when it is issued; only its SHA-256 is stored. Every
change is audited with the actor ``cli`` (never with the key: at most a prefix of its digest).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import re
import sys
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from rich.table import Table

from .errors import InvalidInput, NotFound, ReplayVaultError

projects_app = typer.Typer(help="Projects (sites that send recordings): write keys and allowed origins.",
                           no_args_is_help=True)

__all__ = ["normalise_origin", "projects_app", "tracker_snippet"]

_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


def normalise_origin(value: str) -> str:
    """A browser origin ``scheme://host[:port]`` as the collector compares it with the ``Origin`` header:
    scheme and host lower-cased, no trailing slash, the scheme's default port (80, 443) left out.

    Raises:
        InvalidInput: not http(s), no host, a bad host or port, or a user name, path, query or fragment.
    """
    raw = value.strip()
    where = f"origin {raw!r}"
    if not raw.lower().startswith(("http://", "https://")):
        raise InvalidInput(f"{where}: must start with http:// or https://")
    try:
        parts = urlsplit(raw)
    except ValueError:
        raise InvalidInput(f"{where}: not a valid URL") from None
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{where}: an origin has no user name or password")
    if parts.path not in ("", "/") or "?" in raw or "#" in raw:
        raise InvalidInput(f"{where}: an origin has no path, query or fragment (scheme://host[:port], "
                           f"e.g. {scheme}://{parts.netloc.lower()})")
    host = parts.hostname or ""
    if not host:
        raise InvalidInput(f"{where}: no host")
    if "[" in parts.netloc:
        try:
            host = f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise InvalidInput(f"{where}: {host!r} is not an IPv6 address") from None
    elif not _HOST.match(host):
        raise InvalidInput(f"{where}: {host!r} is not a host name (letters, digits, '-' and '.'; "
                           "international names in their xn-- form)")
    if port is not None and not 1 <= port <= 65535:  # -1: not a number or above 65535
        raise InvalidInput(f"{where}: the port must be a number from 1 to 65535")
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def _origins(values: list[str]) -> list[str]:
    """The normalised origins, duplicates removed, sorted (exit 2 naming the first bad one)."""
    c = _cli()
    try:
        return sorted({normalise_origin(v) for v in values})
    except InvalidInput as exc:
        c._fail(exc)
    raise AssertionError  # pragma: no cover  (_fail exits)


def _endpoint(value: str | None) -> str:
    """The collector's address for the snippet: --endpoint, else where ``serve`` listens."""
    c = _cli()
    if value is None:
        s = c.get_settings()
        return f"http://{s.host}:{s.port}"
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        c._fail(InvalidInput(f"--endpoint {value!r}: must be an http:// or https:// URL (the collector's address)"))
    return url


def tracker_snippet(endpoint: str, project_id: str, write_key: str) -> str:
    """The ``<script>`` tags to paste into every page of the site (see README "Installing the tracker on a site")."""
    return (f'<script src="{endpoint}/t/replayvault.js"\n'
            f'        data-endpoint="{endpoint}" data-write-key="{write_key}"\n'
            f'        data-project-id="{project_id}" data-purposes="ux_research"></script>\n'
            "<script>/* from your consent banner: */ replayvault.consent.grant(); /* or */ replayvault.consent.refuse();</script>\n")


def _key_digest_prefix(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _print_key(project_id: str, key: str, endpoint: str, origins: list[str]) -> None:
    c = _cli()
    c.out.print("write key (shown only now: replayvault stores only its SHA-256, so it cannot be shown again; "
                f"`replayvault projects rotate-key {project_id}` issues a new one):", soft_wrap=True, markup=False)
    sys.stdout.write(key + "\n")
    c.out.print(f"paste this into every page of {', '.join(origins) or 'the site'} (before </body>), then call "
                "replayvault.consent.grant() or .refuse() from your consent banner:", soft_wrap=True, markup=False)
    sys.stdout.write(tracker_snippet(endpoint, project_id, key))


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        _cli()._fail(InvalidInput("--name must be 1-200 characters without control characters"))
    return name


@projects_app.command("add")
def projects_add(project_id: Annotated[str, typer.Argument(metavar="ID", help="1-63 lower-case letters, digits, '-' or '_', "
                                                                "starting with a letter or digit.")],
                 name: Annotated[str, typer.Option("--name", help="Display name.")],
                 origin: Annotated[list[str], typer.Option("--origin", help="Allowed browser origin, "
                                                           "scheme://host[:port] (repeatable).")],
                 endpoint: Annotated[str | None, typer.Option(help="The collector's address as browsers reach it, for "
                                                              "the snippet (default http://REPLAYVAULT_HOST:REPLAYVAULT_PORT).")]
                 = None) -> None:
    """Create a project; prints its write key once and the <script> snippet to paste into the site.

    Example: replayvault projects add shop --name "Web shop" --origin https://shop.example
    """
    from sqlalchemy.exc import IntegrityError

    from .db.models import Project
    from .ingest.projects import check_project_id, create_project

    c = _cli()
    try:
        check_project_id(project_id)
    except InvalidInput as exc:
        c._fail(exc)
    name = _check_name(name)
    origins = _origins(origin)
    url = _endpoint(endpoint)
    rt = c._runtime()
    exists = False
    try:
        with rt.audit.lock, rt.sessions() as db:
            if db.get(Project, project_id) is not None:
                exists = True
            else:
                try:
                    key = create_project(db, project_id, name, origins)
                except IntegrityError:
                    exists = True
                else:
                    rt.audit.record(actor="cli", action="project.created", resource=f"project:{project_id}",
                                    details={"name": name, "allowed_origins": origins,
                                             "write_key_sha256_prefix": _key_digest_prefix(key)}, db=db)
                    db.commit()
    except ReplayVaultError as exc:
        c._fail(exc)
    if exists:
        c.err.print(f"[bold red]error:[/] project '{project_id}' already exists; change its origins with "
                    f"`replayvault projects origins {project_id} --origin URL` or give it a new write key with "
                    f"`replayvault projects rotate-key {project_id}`", soft_wrap=True)
        raise typer.Exit(code=1)
    c.out.print(f"created project {project_id} ({name}); allowed origins: {', '.join(origins)}",
                soft_wrap=True, markup=False)
    _print_key(project_id, key, url, origins)


@projects_app.command("list")
def projects_list(as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False) -> None:
    """List projects: name, allowed origins, creation time, sessions, whether a privacy policy is set.

    Example: replayvault projects list --json
    """
    from sqlalchemy import func, select

    from .db.models import Project, RecordingSession
    from .display import when
    from .governance.retention import live_condition

    c = _cli()
    rt = c._runtime()
    S = RecordingSession
    with rt.sessions() as db:
        counts = dict(db.execute(select(S.project_id, func.count()).where(S.chunk_count > 0, live_condition(rt))
                                 .group_by(S.project_id)).all())
        rows = [{"id": p.id, "name": p.name, "allowed_origins": list(p.allowed_origins or []),
                 "created_ms": p.created_ms,
                 "created": dt.datetime.fromtimestamp(p.created_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "sessions": int(counts.get(p.id, 0)), "policy_set": p.policy is not None}
                for p in db.scalars(select(Project).order_by(Project.id))]
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    if not rows:
        c.err.print("no projects yet; create one with `replayvault projects add ID --name NAME --origin URL`", soft_wrap=True)
        return
    table = Table("project", "name", "allowed origins", "created (UTC)", "sessions", "policy")
    for r in rows:
        table.add_row(escape(r["id"]), escape(r["name"]), escape("\n".join(r["allowed_origins"])) or "–",
                      when(r["created_ms"])[:16], str(r["sessions"]), "set" if r["policy_set"] else "default")
    c.out.print(table)


@projects_app.command("origins")
def projects_origins(project_id: Annotated[str, typer.Argument(metavar="ID")],
                     origin: Annotated[list[str], typer.Option("--origin", help="Allowed browser origin (repeatable); "
                                                               "replaces the current list.")]) -> None:
    """Replace a project's allowed browser origins (audited).

    Example: replayvault projects origins shop --origin https://shop.example --origin https://www.shop.example
    """
    from .db.models import Project

    c = _cli()
    origins = _origins(origin)
    rt = c._runtime()
    try:
        with rt.audit.lock, rt.sessions() as db:
            project = db.get(Project, project_id)
            if project is None:
                raise NotFound(f"no such project {project_id!r} (see `replayvault projects list`)")
            previous = sorted(project.allowed_origins or [])
            if previous != origins:
                project.allowed_origins = origins
                rt.audit.record(actor="cli", action="project.origins_changed", resource=f"project:{project_id}",
                                details={"previous": previous, "allowed_origins": origins}, db=db)
                db.commit()
    except ReplayVaultError as exc:
        c._fail(exc)
    note = "" if previous != origins else " (unchanged)"
    c.out.print(f"allowed origins of {project_id}{note}: {', '.join(origins)}", soft_wrap=True, markup=False)


@projects_app.command("rotate-key")
def projects_rotate_key(project_id: Annotated[str, typer.Argument(metavar="ID")],
                        endpoint: Annotated[str | None, typer.Option(help="The collector's address for the snippet "
                                                                     "(default http://REPLAYVAULT_HOST:REPLAYVAULT_PORT).")]
                        = None) -> None:
    """Give a project a new write key, printed once; the old key stops working at once.

    Example: replayvault projects rotate-key shop
    """
    from .db.models import Project
    from .ingest.projects import rotate_write_key

    c = _cli()
    url = _endpoint(endpoint)
    rt = c._runtime()
    try:
        with rt.audit.lock, rt.sessions() as db:
            if db.get(Project, project_id) is None:
                raise NotFound(f"no such project {project_id!r} (see `replayvault projects list`)")
            key = rotate_write_key(db, project_id)
            rt.audit.record(actor="cli", action="project.write_key_rotated", resource=f"project:{project_id}",
                            details={"write_key_sha256_prefix": _key_digest_prefix(key)}, db=db)
            origins = sorted(db.get(Project, project_id).allowed_origins or [])  # type: ignore[union-attr]
            db.commit()
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"new write key for {project_id}; the old key no longer works, so update the snippet on the site now",
                soft_wrap=True, markup=False)
    _print_key(project_id, key, url, origins)
