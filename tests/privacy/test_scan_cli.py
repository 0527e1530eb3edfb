"""``replayvault scan``: JSON lines of findings for any text, character offsets, never the matched text."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from replayvault.cli_scan import scan, scan_text

KEYS = {"kind", "start", "end", "validator", "outcome", "confidence", "pattern"}


@pytest.fixture()
def app() -> typer.Typer:
    """A Typer app with the command attached the way cli.py attaches it."""
    app = typer.Typer()
    app.command()(scan)
    app.command("noop")(lambda: None)  # two commands, so "scan" is addressed by name as in cli.py
    return app


def run(app, args, stdin=None):
    result = CliRunner().invoke(app, ["scan", *args], input=stdin)
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return result, rows


TEXT = "Grüße! IBAN DE89 3704 0044 0532 0130 00, Tel. +49 30 123456, mail jane@bank.example, Seed: " + " ".join(
    ["abandon"] * 11) + " about."


def test_scan_file_prints_one_json_object_per_finding(app, tmp_path):
    path = tmp_path / "input.txt"
    path.write_text(TEXT, encoding="utf-8")
    result, rows = run(app, [str(path)])
    assert result.exit_code == 0, result.output
    assert [r["kind"] for r in rows] == ["iban", "phone", "email", "bip39"]
    for row in rows:
        assert set(row) == KEYS
        assert row["outcome"] in ("confirmed", "unknown") and 0 < row["confidence"] <= 1
    # offsets are character offsets in the text (the ü of "Grüße" is one character, two bytes)
    assert [TEXT[r["start"] : r["end"]] for r in rows] == [
        "DE89 3704 0044 0532 0130 00", "+49 30 123456", "jane@bank.example",
        " ".join(["abandon"] * 11) + " about"]


@pytest.mark.parametrize("args", [["-"], []])
def test_scan_reads_standard_input(app, args):
    result, rows = run(app, args, stdin="card 4111 1111 1111 1111\n")
    assert result.exit_code == 0
    assert rows == [{"kind": "card", "start": 5, "end": 24, "validator": "luhn", "outcome": "confirmed",
                     "confidence": 1.0, "pattern": "digits"}]


def test_scan_never_prints_the_matched_text(app):
    result, rows = run(app, [], stdin=TEXT)
    assert len(rows) == 4
    for secret in ("3704", "123456", "jane", "abandon", "bank.example"):
        assert secret not in result.stdout


def test_scan_selects_detectors(app):
    _, rows = run(app, ["-", "--detector", "email", "-d", "phone"], stdin=TEXT)
    assert [r["kind"] for r in rows] == ["phone", "email"]


def test_scan_unknown_detector_is_an_error(app):
    result, rows = run(app, ["-", "-d", "fax"], stdin=TEXT)
    assert result.exit_code == 2 and rows == []
    assert "unknown detector 'fax'" in result.output


def test_scan_missing_file_is_an_error(app, tmp_path):
    result, _ = run(app, [str(tmp_path / "nope.txt")])
    assert result.exit_code == 2


def test_scan_keeps_crlf_offsets(app):
    text = "line one\r\nIP 10.0.0.1\r\n"
    _, rows = run(app, [], stdin=text)
    assert [text[r["start"] : r["end"]] for r in rows] == ["10.0.0.1"]


def test_scan_text_is_the_library_function_behind_the_command():
    assert scan_text("jane@bank.example", ["email"]) == [
        {"kind": "email", "start": 0, "end": 17, "validator": "none", "outcome": "unknown", "confidence": 0.5,
         "pattern": "addr"}]


def test_help_has_an_example(app):
    result = CliRunner().invoke(app, ["scan", "--help"])
    assert result.exit_code == 0 and "Example: echo" in result.output
