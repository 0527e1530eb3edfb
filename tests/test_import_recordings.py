"""`replayvault import` of the real posthog.com recordings, checked against counts read from the raw files."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from replayvault.cli import app
from conftest import RECORDINGS, need_shared

FILES = ["homepage.json", "docs.json", "mobile-homepage.json", "with-pageviews.json"]


def _raw_counts(path) -> dict:
    events = json.loads(path.read_text())["result"]
    stamps = [e["timestamp"] for e in events]
    return {
        "page_views": sum(1 for e in events if e["type"] == 4),
        "duration_ms": max(stamps) - min(stamps),
        "clicks": sum(1 for e in events if e["type"] == 3 and e["data"].get("source") == 2 and e["data"].get("type") == 2),
        "events": len(events),
    }


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    need_shared()
    home = tmp_path_factory.mktemp("home")
    runner = CliRunner()
    env = {"REPLAYVAULT_HOME": str(home)}
    result = runner.invoke(app, ["import", *[str(RECORDINGS / f) for f in FILES]], env=env)
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["sessions", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    return runner, env, result.stdout, rows


@pytest.mark.parametrize("name", FILES)
def test_import_counts_match_raw_file(imported, name) -> None:
    _runner, _env, stdout, rows = imported
    line = next(l for l in stdout.splitlines() if l.startswith(name))
    sid = line.rsplit("session ", 1)[1].split()[0]
    row = next(r for r in rows if r["id"] == sid)
    raw = _raw_counts(RECORDINGS / name)
    assert set(row) == {"id", "start", "duration_ms", "page_views", "clicks", "masked_items"}
    assert row["page_views"] == raw["page_views"]
    assert row["duration_ms"] == raw["duration_ms"]
    assert row["clicks"] == raw["clicks"]


def test_reimport_is_idempotent(imported) -> None:
    runner, env, _stdout, rows = imported
    again = runner.invoke(app, ["import", str(RECORDINGS / "homepage.json")], env=env)
    assert again.exit_code == 0 and "already imported" in again.stdout
    listed = runner.invoke(app, ["sessions", "--json"], env=env)
    assert len(listed.stdout.splitlines()) == len(rows) == len(FILES)


def test_import_rejects_unsupported_file_with_message(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": "world"}')
    res = CliRunner().invoke(app, ["import", str(bad)], env={"REPLAYVAULT_HOME": str(tmp_path / "h")})
    assert res.exit_code == 2
    assert "snapshot_data_by_window_id" in res.output


def test_snapshot_data_by_window_id_shape(tmp_path) -> None:
    need_shared()
    events = json.loads((RECORDINGS / "with-pageviews.json").read_text())["result"]
    half = len(events) // 2
    doc = {"snapshot_data_by_window_id": {"w1": events[:half], "w2": [{"data": e} for e in events[half:]]}}
    path = tmp_path / "ph.json"
    path.write_text(json.dumps(doc))
    env = {"REPLAYVAULT_HOME": str(tmp_path / "h")}
    res = CliRunner().invoke(app, ["import", str(path)], env=env)
    assert res.exit_code == 0, res.output
    assert res.stdout.count("-") >= 8 and ", " in res.stdout  # two session ids, one per window
    rows = [json.loads(l) for l in CliRunner().invoke(app, ["sessions", "--json"], env=env).stdout.splitlines()]
    assert len(rows) == 2


def test_import_into_another_project_names_the_first_one(tmp_path) -> None:
    need_shared()
    env = {"REPLAYVAULT_HOME": str(tmp_path / "h")}
    path = str(RECORDINGS / "with-pageviews.json")
    assert CliRunner().invoke(app, ["import", "--project", "alpha", path], env=env).exit_code == 0
    res = CliRunner().invoke(app, ["import", "--project", "beta", path], env=env)
    assert res.exit_code == 2
    assert "already imported into project 'alpha'" in res.output and "--project alpha" in res.output


HOSTILE_FILES = [
    ("nan.json", b'[{"type":5,"timestamp":1,"data":{"tag":"x","payload":{"v":NaN}}}]', "finite"),
    ("deep.json", b'[{"type":5,"timestamp":1,"data":{"p":' + b"[" * 100_000 + b"]" * 100_000 + b"}}]", "nested too deeply"),
    ("bigts.json", b'[{"type":5,"timestamp":1e30,"data":{}}]', "2^53"),
    ("shape.json", b'[{"type":5,"timestamp":1,"data":"x"}]', "data must be an object"),
    ("huge-event.json", b'[{"type":5,"timestamp":1,"data":{"p":"' + b"a" * (5 * 1024 * 1024 + 10) + b'"}}]', "at most"),
]


@pytest.mark.parametrize("name,content,needle", HOSTILE_FILES, ids=[h[0] for h in HOSTILE_FILES])
def test_import_applies_the_collectors_rules(tmp_path, name, content, needle) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    env = {"REPLAYVAULT_HOME": str(tmp_path / "h")}
    res = CliRunner().invoke(app, ["import", str(path)], env=env)
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert CliRunner().invoke(app, ["sessions", "--json"], env=env).stdout == ""


@pytest.mark.parametrize("project", ["../../etc", "x<script>", "A" * 300, "Upper"])
def test_bad_project_ids_are_refused(tmp_path, project) -> None:
    need_shared()
    res = CliRunner().invoke(app, ["import", "--project", project, str(RECORDINGS / "with-pageviews.json")],
                             env={"REPLAYVAULT_HOME": str(tmp_path / "h")})
    assert res.exit_code == 2 and "project id must be" in res.output
