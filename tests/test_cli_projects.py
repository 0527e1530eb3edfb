"""``replayvault projects add|list|origins|rotate-key``: write keys shown once, origins validated, every change audited."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from typer.testing import CliRunner

from replayvault.audit.query import search_entries
from replayvault.cli import app
from replayvault.db.models import Project, RecordingSession
from replayvault.errors import InvalidWriteKey
from replayvault.governance.policies import set_policy
from replayvault.ingest.projects import project_for_key

ADD = ["projects", "add", "shop", "--name", "Web shop", "--origin", "https://Shop.example:443/",
       "--origin", "http://localhost:8001"]


@pytest.fixture
def cli(rt):  # type: ignore[no-untyped-def]
    env = {"REPLAYVAULT_HOME": str(rt.settings.home), "COLUMNS": "200"}
    return lambda *args: CliRunner().invoke(app, list(args), env=env)


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_of(stdout: str) -> str:
    keys = [line for line in stdout.splitlines() if line.startswith("rvw_")]
    assert len(keys) == 1, stdout
    return keys[0]


def _snippet(key: str, endpoint: str = "http://127.0.0.1:8000") -> str:
    return (f'<script src="{endpoint}/t/replayvault.js"\n'
            f'        data-endpoint="{endpoint}" data-write-key="{key}"\n'
            '        data-project-id="shop" data-purposes="ux_research"></script>\n'
            "<script>/* from your consent banner: */ replayvault.consent.grant(); /* or */ "
            "replayvault.consent.refuse();</script>\n")


KEY_LINES = ("write key (shown only now: replayvault stores only its SHA-256, so it cannot be shown again; "
             "`replayvault projects rotate-key shop` issues a new one):\n")
PASTE = ("paste this into every page of http://localhost:8001, https://shop.example (before </body>), then call "
         "replayvault.consent.grant() or .refuse() from your consent banner:\n")


def test_add_prints_the_key_once_with_the_snippet_and_stores_only_its_digest(rt, cli) -> None:
    res = cli(*ADD)
    assert res.exit_code == 0, res.output
    key = _key_of(res.stdout)
    assert key.startswith("rvw_") and len(key) == 47
    assert res.stdout == ("created project shop (Web shop); allowed origins: http://localhost:8001, https://shop.example\n"
                          + KEY_LINES + key + "\n" + PASTE + _snippet(key))
    assert res.stderr == ""
    with rt.sessions() as db:
        project = db.get(Project, "shop")
        assert project.name == "Web shop"
        assert project.allowed_origins == ["http://localhost:8001", "https://shop.example"]
        assert project.write_key_sha256 == _sha(key)
        assert project_for_key(db, key).id == "shop"
        assert project.policy is None


def test_add_with_an_endpoint_puts_it_in_the_snippet(cli) -> None:
    res = cli(*ADD, "--endpoint", "https://rv.example/")
    assert res.exit_code == 0, res.output
    assert res.stdout.endswith(_snippet(_key_of(res.stdout), "https://rv.example"))
    assert cli("projects", "add", "b", "--name", "B", "--origin", "https://b.example", "--endpoint", "rv.example").exit_code == 2


def test_add_refuses_an_existing_id_and_changes_nothing(rt, cli) -> None:
    key = _key_of(cli(*ADD).stdout)
    res = cli("projects", "add", "shop", "--name", "Other", "--origin", "https://other.example")
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr == ("error: project 'shop' already exists; change its origins with `replayvault projects origins "
                          "shop --origin URL` or give it a new write key with `replayvault projects rotate-key shop`\n")
    with rt.sessions() as db:
        project = db.get(Project, "shop")
        assert (project.name, project.write_key_sha256) == ("Web shop", _sha(key))
        assert project.allowed_origins == ["http://localhost:8001", "https://shop.example"]
    assert [e["action"] for e in search_entries(rt, resource="project:")] == ["project.created"]


@pytest.mark.parametrize("project_id", ["Shop", "_shop", "shop.example", "a" * 64, "sh op", ""])
def test_add_refuses_an_invalid_id(rt, cli, project_id: str) -> None:
    res = cli("projects", "add", project_id, "--name", "x", "--origin", "https://x.example")
    assert res.exit_code == 2
    assert res.stderr == ("error: project id must be 1-63 lower-case letters, digits, '-' or '_', starting with a "
                          "letter or digit\n")
    with rt.sessions() as db:
        assert db.get(Project, project_id) is None


def test_add_accepts_the_longest_id(cli) -> None:
    assert cli("projects", "add", "a" * 63, "--name", "x", "--origin", "https://x.example").exit_code == 0


def test_add_checks_the_name(cli) -> None:
    res = cli("projects", "add", "shop", "--name", " ", "--origin", "https://x.example")
    assert (res.exit_code, res.stderr) == (2, "error: --name must be 1-200 characters without control characters\n")


def test_add_needs_an_origin(cli) -> None:
    res = cli("projects", "add", "shop", "--name", "Web shop")
    assert res.exit_code == 2 and "Missing option '--origin'" in res.stderr


BAD_ORIGINS = [
    ("ftp://shop.example", "origin 'ftp://shop.example': must start with http:// or https://"),
    ("shop.example", "origin 'shop.example': must start with http:// or https://"),
    ("localhost:8001", "origin 'localhost:8001': must start with http:// or https://"),
    ("*", "origin '*': must start with http:// or https://"),
    ("https://shop.example/checkout", ("origin 'https://shop.example/checkout': an origin has no path, query or fragment "
                                      "(scheme://host[:port], e.g. https://shop.example)")),
    ("https://shop.example:8443/a/", ("origin 'https://shop.example:8443/a/': an origin has no path, query or fragment "
                                     "(scheme://host[:port], e.g. https://shop.example:8443)")),
    ("https://shop.example?x=1", ("origin 'https://shop.example?x=1': an origin has no path, query or fragment "
                                 "(scheme://host[:port], e.g. https://shop.example)")),
    ("https://shop.example#top", ("origin 'https://shop.example#top': an origin has no path, query or fragment "
                                 "(scheme://host[:port], e.g. https://shop.example)")),
    ("https://me:pw@shop.example", "origin 'https://me:pw@shop.example': an origin has no user name or password"),
    ("https://", "origin 'https://': no host"),
    ("https://:8000", "origin 'https://:8000': no host"),
    ("https://*.shop.example", ("origin 'https://*.shop.example': '*.shop.example' is not a host name (letters, digits, "
                               "'-' and '.'; international names in their xn-- form)")),
    ("https://shop_1.example", ("origin 'https://shop_1.example': 'shop_1.example' is not a host name (letters, digits, "
                               "'-' and '.'; international names in their xn-- form)")),
    ("https://shop.example:0", "origin 'https://shop.example:0': the port must be a number from 1 to 65535"),
    ("https://shop.example:65536", "origin 'https://shop.example:65536': the port must be a number from 1 to 65535"),
    ("https://shop.example:http", "origin 'https://shop.example:http': the port must be a number from 1 to 65535"),
    ("http://[::zz]:8000", "origin 'http://[::zz]:8000': not a valid URL"),
    ("http://[::1", "origin 'http://[::1': not a valid URL"),
]


@pytest.mark.parametrize(("origin", "message"), BAD_ORIGINS)
def test_bad_origins_are_refused_with_a_message_naming_them(rt, cli, origin: str, message: str) -> None:
    res = cli("projects", "add", "shop", "--name", "Web shop", "--origin", "https://ok.example", "--origin", origin)
    assert (res.exit_code, res.stdout, res.stderr) == (2, "", f"error: {message}\n")
    with rt.sessions() as db:
        assert db.get(Project, "shop") is None
    assert cli(*ADD).exit_code == 0
    res = cli("projects", "origins", "shop", "--origin", origin)
    assert (res.exit_code, res.stderr) == (2, f"error: {message}\n")
    with rt.sessions() as db:
        assert db.get(Project, "shop").allowed_origins == ["http://localhost:8001", "https://shop.example"]


def test_origins_replace_the_list_normalised_and_are_audited(rt, cli) -> None:
    cli(*ADD)
    res = cli("projects", "origins", "shop", "--origin", "HTTPS://WWW.Shop.Example/", "--origin", "http://[::1]:8000",
              "--origin", "http://localhost:80", "--origin", "https://www.shop.example")
    assert res.exit_code == 0, res.output
    assert res.stdout == "allowed origins of shop: http://[::1]:8000, http://localhost, https://www.shop.example\n"
    with rt.sessions() as db:
        assert db.get(Project, "shop").allowed_origins == ["http://[::1]:8000", "http://localhost", "https://www.shop.example"]
    changed = search_entries(rt, action="project.origins_changed")
    assert len(changed) == 1
    assert (changed[0]["actor"], changed[0]["resource"]) == ("cli", "project:shop")
    assert changed[0]["details"] == {"previous": ["http://localhost:8001", "https://shop.example"],
                                     "allowed_origins": ["http://[::1]:8000", "http://localhost", "https://www.shop.example"]}
    same = cli("projects", "origins", "shop", "--origin", "https://www.shop.example:443", "--origin", "http://localhost",
               "--origin", "http://[0:0::1]:8000")
    assert same.stdout == "allowed origins of shop (unchanged): http://[::1]:8000, http://localhost, https://www.shop.example\n"
    assert len(search_entries(rt, action="project.origins_changed")) == 1


def test_origins_and_rotate_of_an_unknown_project_fail(cli) -> None:
    for args in (["origins", "nope", "--origin", "https://a.example"], ["rotate-key", "nope"]):
        res = cli("projects", *args)
        assert (res.exit_code, res.stderr) == (2, "error: no such project 'nope' (see `replayvault projects list`)\n")


def test_rotate_key_prints_a_new_key_once_and_the_old_one_stops_working(rt, cli) -> None:
    old = _key_of(cli(*ADD).stdout)
    res = cli("projects", "rotate-key", "shop")
    assert res.exit_code == 0, res.output
    new = _key_of(res.stdout)
    assert new != old
    assert res.stdout == ("new write key for shop; the old key no longer works, so update the snippet on the site now\n"
                          + KEY_LINES + new + "\n" + PASTE + _snippet(new))
    with rt.sessions() as db:
        assert db.get(Project, "shop").write_key_sha256 == _sha(new)
        assert project_for_key(db, new).id == "shop"
        with pytest.raises(InvalidWriteKey):
            project_for_key(db, old)


def test_every_change_is_audited_without_the_key(rt, cli) -> None:
    first = _key_of(cli(*ADD).stdout)
    cli("projects", "origins", "shop", "--origin", "https://shop.example")
    second = _key_of(cli("projects", "rotate-key", "shop").stdout)
    entries = list(reversed(search_entries(rt, resource="project:shop")))
    assert [(e["actor"], e["action"], e["resource"]) for e in entries] == [
        ("cli", "project.created", "project:shop"), ("cli", "project.origins_changed", "project:shop"),
        ("cli", "project.write_key_rotated", "project:shop")]
    assert entries[0]["details"] == {"name": "Web shop", "allowed_origins": ["http://localhost:8001", "https://shop.example"],
                                     "write_key_sha256_prefix": _sha(first)[:12]}
    assert entries[2]["details"] == {"write_key_sha256_prefix": _sha(second)[:12]}
    text = json.dumps(entries)
    for key in (first, second):
        assert key not in text and key[4:] not in text and _sha(key) not in text
    assert rt.audit.verify().entries == 3


def test_list_shows_origins_created_sessions_and_policy(rt, cli) -> None:
    assert cli("projects", "list").stderr == ("no projects yet; create one with "
                                              "`replayvault projects add ID --name NAME --origin URL`\n")
    assert cli("projects", "list", "--json").stdout == ""
    cli(*ADD)
    cli("projects", "add", "blog", "--name", "Blog", "--origin", "https://blog.example")
    set_policy(rt, "blog", "mask_selectors: ['.author']\n", "cli")
    now = int(time.time() * 1000)
    with rt.sessions() as db:
        db.get(Project, "shop").created_ms = 1764460800000  # 2025-11-30 00:00 UTC
        db.get(Project, "blog").created_ms = 1764547199000  # 2025-11-30 23:59:59 UTC
        for i, (chunks, shredded) in enumerate([(1, None), (3, None), (0, None), (2, now)]):
            db.add(RecordingSession(id=f"s{i}", project_id="shop", created_ms=now, updated_ms=now,
                                    chunk_count=chunks, shredded_ms=shredded))
        db.commit()
    res = cli("projects", "list", "--json")
    assert res.exit_code == 0, res.output
    assert [json.loads(line) for line in res.stdout.splitlines()] == [
        {"id": "blog", "name": "Blog", "allowed_origins": ["https://blog.example"], "created_ms": 1764547199000,
         "created": "2025-11-30T23:59:59Z", "sessions": 0, "policy_set": True},
        {"id": "shop", "name": "Web shop", "allowed_origins": ["http://localhost:8001", "https://shop.example"],
         "created_ms": 1764460800000, "created": "2025-11-30T00:00:00Z", "sessions": 2, "policy_set": False}]
    table = cli("projects", "list")
    assert table.exit_code == 0
    lines = [[c.strip() for c in line.strip("│").split("│")] for line in table.stdout.splitlines() if line.startswith("│")]
    assert lines == [["blog", "Blog", "https://blog.example", "2025-11-30 23:59", "0", "set"],
                     ["shop", "Web shop", "http://localhost:8001", "2025-11-30 00:00", "2", "default"],
                     ["", "", "https://shop.example", "", "", ""]]
