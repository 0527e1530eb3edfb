"""Command line for accountability: ``init``, ``users``, ``training`` and ``audit`` (attached in :mod:`.cli`).

CLI actions run with filesystem access to the data directory; they are audited with the actor
``cli``. Passwords, TOTP provisioning URIs and API tokens are printed once and never stored in clear.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import AuditTampered, MalformedProof, NoteError, ProofError, ReplayVaultError

users_app = typer.Typer(help="Accounts and roles.", no_args_is_help=True)
training_app = typer.Typer(help="Compliance-training attestations.", no_args_is_help=True)
policy_app = typer.Typer(help="Privacy policy per project (detectors, selectors, canvas, URL rules).",
                         no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log (RFC 9162 Merkle tree, signed checkpoints).",
                        no_args_is_help=True)

__all__ = ["users_app", "training_app", "audit_app", "policy_app", "init"]


def _cli():  # type: ignore[no-untyped-def]
    from . import cli

    return cli


def _done(db, rt, action: str, resource: str, details: dict | None = None) -> None:  # type: ignore[no-untyped-def]
    rt.audit.record(actor="cli", action=action, resource=resource, details=details or {}, db=db)
    db.commit()


def init(username: str = typer.Option("admin", help="User name of the first administrator.")) -> None:
    """Create the first administrator (only when no user exists) and print its password once.

    Example: replayvault init --username alice
    """
    from sqlalchemy import select

    from .db.models import User
    from .governance import accounts

    c = _cli()
    rt = c._runtime()
    password = accounts.new_password()
    try:
        with rt.audit.lock, rt.sessions() as db:
            if db.scalar(select(User.id).limit(1)):
                raise ReplayVaultError("users already exist; add more with `replayvault users add`")
            user = accounts.create_user(db, username, password, ["admin"], "cli")
            _done(db, rt, "user.created", f"user:{user.id}", {"roles": ["admin"]})
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"created administrator [bold]{escape(username)}[/] (user:{user.id})")
    c.out.print(f"password (shown once): [bold]{password}[/]")


@users_app.command("add")
def users_add(username: str = typer.Argument(..., help="Login name: lower-case letters, digits, '.', '_', '-'."),
              role: list[str] = typer.Option([], "--role", "-r", help="Role to grant (repeatable).")) -> None:
    """Add a user with roles; prints a generated password once.

    Example: replayvault users add dana --role ux_analyst
    """
    from .governance import accounts

    c = _cli()
    rt = c._runtime()
    password = accounts.new_password()
    try:
        with rt.audit.lock, rt.sessions() as db:
            user = accounts.create_user(db, username, password, role, "cli")
            _done(db, rt, "user.created", f"user:{user.id}", {"roles": sorted(set(role))})
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(f"added {escape(username)} (user:{user.id}) roles: {', '.join(sorted(set(role))) or 'none'}")
    c.out.print(f"password (shown once): [bold]{password}[/]")


@users_app.command("list")
def users_list(as_json: bool = typer.Option(False, "--json", help="One JSON object per line.")) -> None:
    """List accounts with roles, second factor and training status.

    Example: replayvault users list
    """
    from .web.api_people import users_overview

    c = _cli()
    rows = users_overview(c._runtime())
    if as_json:
        for r in rows:
            c.out.print_json(json.dumps(r), indent=None)
        return
    table = Table("user", "id", "roles", "2FA", "training", "status")
    for r in rows:
        t = r["training"]
        table.add_row(r["username"], r["id"], ", ".join(r["roles"]) or "–", "TOTP" if r["totp"] else "–",
                      f"{t['latest'] or '–'}{'' if t['valid'] else ' (not current)'}",
                      "disabled" if r["disabled"] else "active")
    c.out.print(table)


def _user_change(username: str, change) -> None:  # type: ignore[no-untyped-def]
    from .governance import accounts

    c = _cli()
    rt = c._runtime()
    try:
        with rt.audit.lock, rt.sessions() as db:
            user = accounts.user_by_name(db, username)
            message = change(db, rt, user)
    except ReplayVaultError as exc:
        c._fail(exc)
    c.out.print(message)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: ends their logins and revokes their API tokens.

    Example: replayvault users disable dana
    """
    from .governance import accounts

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        accounts.set_disabled(db, user, True)
        _done(db, rt, "user.disabled", f"user:{user.id}")
        return f"disabled {user.username}"

    _user_change(username, change)


@users_app.command("grant")
def users_grant(username: str, role: str) -> None:
    """Grant a role.

    Example: replayvault users grant dana privacy_officer
    """
    from .governance import accounts

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        if accounts.grant_role(db, user, role, "cli"):
            _done(db, rt, "role.granted", f"user:{user.id}", {"role": role})
        return f"{user.username}: {', '.join(sorted(accounts.roles_of(db, user.id)))}"

    _user_change(username, change)


@users_app.command("revoke")
def users_revoke(username: str, role: str) -> None:
    """Revoke a role.

    Example: replayvault users revoke dana privacy_officer
    """
    from .governance import accounts

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        if accounts.revoke_role(db, user, role, "cli"):
            _done(db, rt, "role.revoked", f"user:{user.id}", {"role": role[:32]})
        return f"{user.username}: {', '.join(sorted(accounts.roles_of(db, user.id))) or 'no roles'}"

    _user_change(username, change)


@users_app.command("totp")
def users_totp(username: str) -> None:
    """Turn on the TOTP second factor (RFC 6238); prints the otpauth:// URI once for the authenticator app.

    Example: replayvault users totp dana
    """
    from .governance import accounts

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        uri = accounts.enable_totp(db, user, rt.keys.kek("_totp", create=True))
        _done(db, rt, "user.totp_enabled", f"user:{user.id}")
        return f"TOTP on for {user.username}; add this to the authenticator app (shown once):\n{uri}"

    _user_change(username, change)


@users_app.command("token")
def users_token(username: str, scope: list[str] = typer.Option(..., "--scope", "-s", help="Permission (repeatable)."),
                name: str = typer.Option("automation", help="Label of the token."),
                days: int = typer.Option(90, help="Lifetime in days (1-366).")) -> None:
    """Create a scoped API token for a user; prints it once (use as ``Authorization: Bearer …``).

    Example: replayvault users token dana --scope sessions:list --scope heatmaps:read
    """
    from .governance import accounts

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        row, secret = accounts.create_token(db, user, name, scope, days)
        _done(db, rt, "token.created", f"token:{row.id}", {"scopes": row.scopes, "owner": f"user:{user.id}"})
        return f"token {row.id} for {user.username}, scopes {', '.join(row.scopes)} (shown once):\n{secret}"

    _user_change(username, change)


@training_app.command("record")
def training_record(username: str, course: str = typer.Option(..., help="Course name."),
                    date: str = typer.Option(..., help="Completion date, YYYY-MM-DD.")) -> None:
    """Record that a user completed compliance training (readers need one within the configured period).

    Example: replayvault training record dana --course "Data protection 2026" --date 2026-11-02
    """
    from .governance.access import record_training

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        row = record_training(db, user, course, date, "cli")
        _done(db, rt, "training.recorded", f"user:{user.id}", {"course": row.course, "date": row.completed_on})
        return f"recorded {row.course!r} on {row.completed_on} for {user.username}"

    _user_change(username, change)


@audit_app.command("verify")
def audit_verify(checkpoint: list[Path] = typer.Option([], "--checkpoint", "-c", exists=True, dir_okay=False,
                                                     help="A checkpoint note you kept earlier (repeatable).")) -> None:
    """Recompute the whole log from the stored entries and check every signed checkpoint.

    Checkpoints kept outside the database (the server's mirror file, and any note given with
    --checkpoint) must still be in the database and match. Exits 1 and names the first bad index
    when anything was edited, deleted, reordered or inserted.

    Example: replayvault audit verify --checkpoint checkpoint-2026-11.txt
    """
    c = _cli()
    rt = c._runtime()
    try:
        notes = [p.read_text(encoding="utf-8") for p in checkpoint]
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=c.err,
                      transient=True) as bar:
            task = bar.add_task("verifying entries…")
            report = rt.audit.verify(progress=lambda i: bar.update(task, description=f"verifying entries… {i:,}"),
                                     extra_notes=notes)
    except AuditTampered as exc:
        where = f" (first bad index: {exc.index})" if exc.index is not None else ""
        c.err.print(f"[bold red]audit log verification FAILED:[/] {escape(str(exc))}{where}", soft_wrap=True)
        raise typer.Exit(code=1)
    except (ReplayVaultError, OSError) as exc:
        c._fail(exc)
    c.out.print(f"audit log OK: {report.entries:,} entries, {report.checkpoints} signed checkpoints verified"
                + (f"; latest covers {report.latest_size:,} entries, root {report.latest_root}" if report.latest_size else ""))
    if report.uncovered:
        c.err.print(f"[yellow]note:[/] the newest {report.uncovered:,} entries are not yet under a signed checkpoint "
                    "(run `replayvault audit checkpoint`); until then only their hashes vouch for them")


@audit_app.command("verify-proof")
def audit_verify_proof(bundle: Path = typer.Argument(..., help="Proof bundle JSON ('-' for standard input)."),
                       key: str = typer.Option(..., "--key", help="Verifier key (name+keyid+base64) or a file holding it."),
                       origin: Optional[str] = typer.Option(None, help="Expected checkpoint origin.")) -> None:
    """Check a proof bundle offline, with only the public key: no database, no data directory.

    Example: replayvault audit verify-proof entry-42.json --key verifier.txt
    """
    from .audit.verify import verify_bundle

    c = _cli()
    try:
        text = sys.stdin.read() if str(bundle) == "-" else bundle.read_text(encoding="utf-8")
        key_text = Path(key).read_text().strip() if Path(key).is_file() else key.strip()
        result = verify_bundle(json.loads(text), key_text, origin)
    except (ProofError, NoteError) as exc:
        c.err.print(f"[bold red]proof does NOT verify:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=1)
    except (MalformedProof, ValueError, OSError) as exc:
        c._fail(exc)
    if result["kind"] == "inclusion":
        e = result["entry"]
        c.out.print(f"verified: entry {result['leaf_index']} ({e['action']} by {e['actor']} on {e['resource']}) is in "
                    f"the signed tree of {result['tree_size']} entries")
    else:
        c.out.print(f"verified: the tree of {result['first_size']} entries is a prefix of the tree of "
                    f"{result['second_size']} entries")


@audit_app.command("verify-session")
def audit_verify_session(session_id: str) -> None:
    """Check that every chunk file of a recording still has the SHA-256 the audit log recorded at ingest.

    Exits 1 when a chunk was changed, is missing, or has no audit entry.

    Example: replayvault audit verify-session 400797c2-c21b-530c-87af-590028706580
    """
    from .audit.query import recording_evidence

    c = _cli()
    try:
        rows = recording_evidence(c._runtime(), session_id)
    except ReplayVaultError as exc:
        c._fail(exc)
    table = Table("seq", "audit entry", "SHA-256 at ingest", "SHA-256 now", "")
    for r in rows:
        table.add_row(str(r["seq"]), "–" if r["audit_idx"] is None else str(r["audit_idx"]),
                      (r["audited_sha256"] or "missing")[:16], (r["file_sha256"] or "missing")[:16],
                      "ok" if r["ok"] else "[bold red]CHANGED[/]")
    c.out.print(table)
    bad = [r["seq"] for r in rows if not r["ok"]]
    if bad:
        c.err.print(f"[bold red]recording does NOT match its audit log:[/] chunks {', '.join(map(str, bad))}")
        raise typer.Exit(code=1)
    c.out.print(f"recording matches its audit log: {len(rows)} chunks; prove each entry with `replayvault audit proof IDX`")


@audit_app.command("checkpoint")
def audit_checkpoint() -> None:
    """Sign a checkpoint of the current tree now and print the signed note.

    Example: replayvault audit checkpoint
    """
    c = _cli()
    try:
        cp = c._runtime().audit.checkpoint()
    except ReplayVaultError as exc:
        c._fail(exc)
    sys.stdout.write(cp.note)


@audit_app.command("proof")
def audit_proof(idx: int = typer.Argument(..., min=0, help="Entry index."),
                tree_size: Optional[int] = typer.Option(None, help="Prove against the checkpoint of this size."),
                output: Optional[Path] = typer.Option(None, "-o", "--output", help="Write the bundle here.")) -> None:
    """Write an inclusion-proof bundle for one entry (check it with ``audit verify-proof``).

    Example: replayvault audit proof 42 -o entry-42.json
    """
    c = _cli()
    try:
        bundle = c._runtime().audit.inclusion_bundle(idx, tree_size)
    except ReplayVaultError as exc:
        c._fail(exc)
    text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        c.out.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@audit_app.command("consistency")
def audit_consistency(first: int = typer.Argument(..., min=0), second: Optional[int] = typer.Argument(None),
                      output: Optional[Path] = typer.Option(None, "-o", "--output")) -> None:
    """Write a consistency-proof bundle between two signed checkpoints (default second: the latest).

    Example: replayvault audit consistency 100 -o consistency.json
    """
    c = _cli()
    try:
        bundle = c._runtime().audit.consistency_bundle(first, second)
    except ReplayVaultError as exc:
        c._fail(exc)
    text = json.dumps(bundle, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
        c.out.print(f"wrote {output}")
    else:
        sys.stdout.write(text)


@audit_app.command("public-key")
def audit_public_key() -> None:
    """Print the checkpoint verifier key to give to auditors.

    Example: replayvault audit public-key > verifier.txt
    """
    c = _cli()
    try:
        sys.stdout.write(c._runtime().audit.verifier_key + "\n")
    except ReplayVaultError as exc:
        c._fail(exc)


@audit_app.command("log")
def audit_log(limit: int = typer.Option(30, min=1, max=1000), action: Optional[str] = typer.Option(None, help="Part of the action name."),
              user: Optional[str] = typer.Option(None, help="User name (or an actor such as user:u_…, project:ID, cli)."),
              resource: Optional[str] = typer.Option(None, help="Resource prefix, e.g. session:400797c2"),
              as_json: bool = typer.Option(False, "--json", help="One JSON entry per line (all fields).")) -> None:
    """Show the newest audit entries, with user names beside their pseudonymous ids.

    Example: replayvault audit log --action export --limit 20
    """
    from .audit.query import search_entries
    from .display import when
    from .governance import accounts

    c = _cli()
    rt = c._runtime()
    with rt.sessions() as db:
        names = accounts.user_names(db)
    actor = None
    if user:
        by_name = {v: k for k, v in names.items()}
        actor = user if user.startswith(("user:", "project:", "cli")) else f"user:{by_name.get(user.lower(), '?')}"
    rows = search_entries(rt, actor=actor, action=action, resource=resource, limit=limit)
    if as_json:
        for e in rows:
            sys.stdout.write(json.dumps(e, ensure_ascii=False) + "\n")
        return
    table = Table("#", "time (UTC)", "who", "action", "resource", "purpose · justification", "outcome")
    for e in rows:
        who = names.get(e["actor"].removeprefix("user:"), e["actor"])
        why = " · ".join(x for x in (e["purpose"], e["justification"]) if x)
        table.add_row(str(e["idx"]), when(e["time_ms"]), who, e["action"], e["resource"], why, e["outcome"])
    c.out.print(table)
    if not rows:
        c.err.print("no entries match (--user takes a user name; --action any part of the name; --resource a prefix)")


@users_app.command("reset-password")
def users_reset_password(username: str) -> None:
    """Give a user a new generated password (printed once), to be replaced at their next login; ends their logins.

    Example: replayvault users reset-password dana
    """
    from sqlalchemy import delete

    from .db.models import LoginSession
    from .governance import accounts

    password = accounts.new_password()

    def change(db, rt, user):  # type: ignore[no-untyped-def]
        user.password_hash = accounts.hash_password(password)
        user.must_change_password = True
        db.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
        _done(db, rt, "user.password_reset", f"user:{user.id}")
        return f"new password for {user.username} (shown once): [bold]{password}[/]"

    _user_change(username, change)


@policy_app.command("show")
def policy_show(project: str) -> None:
    """Print a project's privacy policy as YAML (the strict default when none was set).

    Example: replayvault policy show demo-bank
    """
    import yaml

    from .governance.policies import get_policy

    c = _cli()
    try:
        pol = get_policy(c._runtime(), project)
    except ReplayVaultError as exc:
        c._fail(exc)
    sys.stdout.write(yaml.safe_dump(pol.model_dump(), sort_keys=False))
    sys.stdout.write(f"# sha256: {pol.digest()}\n")


@policy_app.command("set")
def policy_set(project: str, file: Path = typer.Argument(..., help="Policy as YAML or JSON ('-' for standard input).")) -> None:
    """Validate and set a project's privacy policy (audited); it applies to batches from now on.

    Example: replayvault policy set demo-bank policy.yaml
    """
    from .governance.policies import set_policy

    c = _cli()
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        pol = set_policy(c._runtime(), project, text, "cli")
    except (ReplayVaultError, OSError, UnicodeDecodeError) as exc:
        c._fail(exc)
    c.out.print(f"policy of {escape(project)} set (sha256 {pol.digest()[:16]}…); "
                f"{len(pol.active_detectors())} detectors, {len(pol.mask_selectors)} mask and "
                f"{len(pol.block_selectors)} block selectors, canvas {'allowed' if pol.canvas else 'dropped'}")
