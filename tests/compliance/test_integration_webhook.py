"""The signed webhook push: signature scheme, secret file rules, cursor, retries, and the serve loop.

A local HTTP server in a thread plays the SIEM: it checks every signature the way the README tells
receivers to, and records bodies; its status codes are scripted per request.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import http.server
import json
import logging
import os
import stat
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from replayvault.cli import app as cli_app
from replayvault.compliance import webhook
from replayvault.compliance.integration import jsonl
from replayvault.config import Settings
from replayvault.db.models import MaskingEvidence, RecordingSession
from replayvault.errors import ConfigError, InvalidInput
from replayvault.projects_setup import ensure_project
from replayvault.runtime import Runtime
from replayvault.web.app import create_app

SECRET = b"3f1c9a7e5b2d4f608a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f"  # 64 bytes, like `openssl rand -hex 32`


# -- a receiver -------------------------------------------------------------------------------
class Receiver:
    """Accepts POSTs on 127.0.0.1; ``statuses`` scripts the answers (then 200); keeps what it accepted."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict] = []   # every POST: headers, body, signature_ok
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    webhook.verify_signature(SECRET, self.headers["X-Replayvault-Timestamp"], body,
                                             self.headers["X-Replayvault-Signature"])
                    ok = True
                except InvalidInput:
                    ok = False
                with outer.lock:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    outer.requests.append({"headers": dict(self.headers), "body": body, "signature_ok": ok})
                self.send_response(status if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def lines(self, n: int) -> list[dict]:
        return [json.loads(line) for line in self.requests[n]["body"].decode().splitlines()]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.secret"
    path.write_bytes(SECRET + b"\n")
    path.chmod(0o600)
    return path


@pytest.fixture
def hooked(tmp_path, receiver, secret_file) -> Runtime:
    """A runtime whose settings point at the receiver, with 5 audit entries:

    0 project.created; 1 chunk.ingested s-x with 1 incident (an e-mail in clear); 2 access.denied;
    3 a failed login; 4 recording.view of s-x, denied."""
    rt = Runtime(Settings(home=tmp_path / "home", allowed_hosts="testserver", webhook_url=receiver.url,
                          webhook_secret_file=secret_file, checkpoint_interval_s=0, retention_interval_s=0))
    ensure_project(rt, "p1", "Project 1", [])
    rec = rt.audit.record
    rec(actor="project:p1", action="chunk.ingested", resource="session:s-x",
        details={"seq": 0, "incidents": 1, "stored_bytes": 100, "events": 3})
    rec(actor="user:u_00000000000000aa", action="access.denied", resource="route:GET /metrics", outcome="denied")
    rec(actor="anonymous", action="login", resource="dashboard", outcome="failed")
    rec(actor="user:u_00000000000000aa", action="recording.view", resource="session:s-x", outcome="denied")
    with rt.sessions() as db:
        db.add(RecordingSession(id="s-x", project_id="p1", created_ms=1, updated_ms=1, chunk_count=1, event_count=3,
                                raw_bytes=1, stored_bytes=100, masked_items=1, incidents=1))
        db.flush()
        db.add(MaskingEvidence(session_id="s-x", kind="email", location="snapshot", browser=False, count=1))
        db.commit()
    return rt


def _shape(lines: list[dict]) -> list[tuple]:
    return [(d["type"], d.get("index", d.get("audit_index")), d.get("kind")) for d in lines]


# -- the signature ----------------------------------------------------------------------------
def test_signature_matches_rfc_4231_test_case_7() -> None:
    """RFC 4231 §4.8: key 0xaa x 131; the data happens to split at its first "." into timestamp and body."""
    data = (b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to "
            b"be hashed before being used by the HMAC algorithm.")
    timestamp, body = data.split(b".", 1)
    assert webhook.sign(b"\xaa" * 131, timestamp.decode(), body) == \
        "sha256=9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"


def test_signature_is_hmac_over_timestamp_dot_body() -> None:
    body = b'{"type":"audit"}\n'
    expected = hmac.new(SECRET, b"1795996800." + body, hashlib.sha256).hexdigest()
    assert webhook.sign(SECRET, "1795996800", body) == "sha256=" + expected


@pytest.mark.parametrize("timestamp,now,signature_of,message", [
    ("1795996800", 1795996800 + 300, None, None),                       # 5 minutes: still accepted
    ("1795996800", 1795996800 - 300, None, None),
    ("1795996800", 1795996800 + 301, None, "more than 300 s from now"),
    ("1795996800", 1795996800, b"other body", "the signature does not match"),
    ("1795996800.5", 1795996800, None, "not a decimal Unix time"),
    ("-1", 1795996800, None, "not a decimal Unix time"),
])
def test_verify_signature(timestamp: str, now: int, signature_of: bytes | None, message: str | None) -> None:
    body = b"line\n"
    sig = webhook.sign(SECRET, timestamp, signature_of or body)
    if message is None:
        assert webhook.verify_signature(SECRET, timestamp, body, sig, now_s=now) is None
    else:
        with pytest.raises(InvalidInput, match=message):
            webhook.verify_signature(SECRET, timestamp, body, sig, now_s=now)


# -- the secret file and the URL --------------------------------------------------------------
@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_secret_file_is_read_stripped(secret_file: Path, mode: int) -> None:
    secret_file.chmod(mode)
    assert webhook.read_secret(secret_file) == SECRET


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_secret_file_others_can_read_is_refused(secret_file: Path, mode: int) -> None:
    secret_file.chmod(mode)
    with pytest.raises(ConfigError, match=f"has mode {mode:04o}; it must be 0600") as info:
        webhook.read_secret(secret_file)
    assert SECRET.decode() not in str(info.value)


def test_short_missing_and_odd_secret_files_are_refused(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_bytes(b"x" * 31 + b"\n")
    short.chmod(0o600)
    with pytest.raises(ConfigError, match="must be 32 to 4096 bytes"):
        webhook.read_secret(short)
    with pytest.raises(ConfigError, match="cannot be opened"):
        webhook.read_secret(tmp_path / "absent")
    with pytest.raises(ConfigError, match="is not a regular file"):
        (tmp_path / "dir").mkdir(mode=0o700)
        webhook.read_secret(tmp_path / "dir")


@pytest.mark.parametrize("url,ok", [
    ("https://siem.example/hook", True),
    ("http://127.0.0.1:9000/hook", True),
    ("http://127.0.0.9/hook", True),
    ("http://localhost/hook", True),
    ("http://[::1]:9000/", True),
    ("http://siem.example/hook", False),
    ("http://10.0.0.5/hook", False),
    ("ftp://siem.example/hook", False),
    ("https:///nohost", False),
    ("", False),
])
def test_webhook_url_must_be_https_or_loopback(url: str, ok: bool) -> None:
    if ok:
        assert webhook.check_url(url) == url
    else:
        with pytest.raises(ConfigError, match="REPLAYVAULT_WEBHOOK_URL must"):
            webhook.check_url(url)


def test_push_refuses_to_send_unsigned(hooked) -> None:
    hooked.settings.webhook_secret_file = None
    with pytest.raises(ConfigError, match="REPLAYVAULT_WEBHOOK_SECRET_FILE is not set"):
        webhook.push(hooked)


# -- pushing ----------------------------------------------------------------------------------
def test_push_sends_every_entry_once_in_signed_batches(hooked, receiver) -> None:
    result = webhook.push(hooked, batch_entries=3)
    assert result == webhook.PushResult(lines=8, batches=2, attempts=2, next_index=5, size=5)
    assert [r["signature_ok"] for r in receiver.requests] == [True, True]
    assert receiver.requests[0]["headers"]["Content-Type"] == "application/x-ndjson"
    # batch 1: entries 0-2 and their incidents (s-x's masking at 1, the denial at 2); batch 2: entries 3-4
    assert _shape(receiver.lines(0)) == [("audit", 0, None), ("audit", 1, None), ("incident", 1, "email"),
                                         ("audit", 2, None), ("incident", 2, "access.denied")]
    assert _shape(receiver.lines(1)) == [("audit", 3, None), ("audit", 4, None), ("incident", 4, "recording.view")]
    assert receiver.lines(0)[2] == {"type": "incident", "source": "masking", "kind": "email", "session": "s-x",
                                    "time_ms": receiver.lines(0)[1]["entry"]["time_ms"], "count": 1, "audit_index": 1}
    # the cursor: next index 5, in a 0600 file in the data directory
    path = webhook.state_path(hooked.settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    state = json.loads(path.read_text())
    assert (state["next_index"], state["consecutive_failures"], state["last_error"]) == (5, 0, None)
    assert state["url_sha256"] == hashlib.sha256(receiver.url.encode()).hexdigest()
    # nothing new: no POST; one new entry: one batch with its one line
    assert webhook.push(hooked) == webhook.PushResult(lines=0, batches=0, attempts=0, next_index=5, size=5)
    hooked.audit.record(actor="cli", action="audit.checkpoint_requested", resource="audit")
    assert webhook.push(hooked) == webhook.PushResult(lines=1, batches=1, attempts=1, next_index=6, size=6)
    assert _shape(receiver.lines(2)) == [("audit", 5, None)]


def test_a_500_is_retried_with_backoff_and_nothing_is_lost(hooked, receiver) -> None:
    receiver.statuses = [500]
    waits: list[float] = []
    result = webhook.push(hooked, sleep=waits.append)
    assert result == webhook.PushResult(lines=8, batches=1, attempts=2, next_index=5, size=5)
    assert waits == [1.0]
    assert len(receiver.requests) == 2 and receiver.requests[0]["body"] == receiver.requests[1]["body"]
    assert all(r["signature_ok"] for r in receiver.requests)


def test_a_receiver_that_stays_down_keeps_the_cursor(hooked, receiver, caplog) -> None:
    receiver.statuses = [500, 502, 503, 500]
    waits: list[float] = []
    with caplog.at_level(logging.DEBUG):
        result = webhook.push(hooked, sleep=waits.append)
    assert result == webhook.PushResult(lines=0, batches=0, attempts=4, next_index=0, size=5,
                                        error="HTTP 500 (batch from index 0)")
    assert waits == [1.0, 2.0, 4.0]
    state = webhook.load_state(webhook.state_path(hooked.settings))
    assert (state.next_index, state.consecutive_failures, state.last_success_ms) == (0, 1, None)
    assert SECRET.decode() not in caplog.text and receiver.url not in caplog.text
    # back up: the same 8 lines arrive, the failure count is reset
    again = webhook.push(hooked, sleep=waits.append)
    assert again == webhook.PushResult(lines=8, batches=1, attempts=1, next_index=5, size=5)
    assert receiver.requests[4]["body"] == receiver.requests[0]["body"]
    assert webhook.load_state(webhook.state_path(hooked.settings)).consecutive_failures == 0


def test_an_unreachable_receiver_is_a_connection_error(hooked, receiver) -> None:
    receiver.close()
    result = webhook.push(hooked, sleep=lambda s: None)
    assert (result.error, result.attempts, result.next_index) == ("ConnectError (batch from index 0)", 4, 0)


def test_another_url_gets_the_whole_log(hooked, receiver) -> None:
    webhook.push(hooked)
    other = Receiver()
    try:
        result = webhook.push(hooked, url=other.url)
        assert (result.lines, result.next_index) == (8, 5)
        assert other.requests[0]["body"] == receiver.requests[0]["body"]
    finally:
        other.close()


def test_one_push_at_a_time(hooked, receiver) -> None:
    path = webhook.state_path(hooked.settings)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = webhook.push(hooked)
    finally:
        os.close(fd)
    assert (result.error, result.lines, receiver.requests) == ("another push is running", 0, [])


@pytest.mark.parametrize("interval,failures,delay", [(60, 0, 60), (60, 1, 120), (60, 5, 1920), (60, 6, 3600),
                                                     (60, 40, 3600), (7200, 3, 7200), (1, 0, 1)])
def test_serve_loop_backs_off_per_failed_round(interval: int, failures: int, delay: int) -> None:
    assert webhook.next_delay(interval, failures) == delay


def test_serve_pushes_at_start(hooked, receiver) -> None:
    with TestClient(create_app(hooked)):
        deadline = time.monotonic() + 15
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(receiver.requests) == 1 and receiver.requests[0]["signature_ok"]
    assert len(receiver.lines(0)) == 8


# -- command line -----------------------------------------------------------------------------
def test_cli_push_and_status(hooked, receiver, secret_file, monkeypatch) -> None:
    monkeypatch.setattr(webhook, "BACKOFF_S", (0.0, 0.0, 0.0))
    env = {"REPLAYVAULT_HOME": str(hooked.settings.home), "REPLAYVAULT_WEBHOOK_URL": receiver.url,
           "REPLAYVAULT_WEBHOOK_SECRET_FILE": str(secret_file)}
    r = CliRunner().invoke(cli_app, ["siem", "push"], env=env)
    assert r.exit_code == 0, r.output
    assert "8 lines in 1 batches delivered; next index 5 of 5" in r.output
    r = CliRunner().invoke(cli_app, ["siem", "status"], env=env)
    assert "next index 5 of 5 (0 entries not delivered)" in r.output and "failed rounds in a row: 0" in r.output
    hooked.audit.record(actor="cli", action="x", resource="y")
    receiver.statuses = [500, 500, 500, 500]
    r = CliRunner().invoke(cli_app, ["siem", "push", "--json"], env=env)
    assert r.exit_code == 1
    assert json.loads(r.stdout.splitlines()[0]) == {"lines": 0, "batches": 0, "attempts": 4, "next_index": 5, "size": 6,
                                                    "error": "HTTP 500 (batch from index 5)"}
    assert SECRET.decode() not in r.output
    secret_file.chmod(0o644)
    r = CliRunner().invoke(cli_app, ["siem", "push"], env=env)
    assert r.exit_code == 2 and "has mode 0644; it must be 0600" in r.output


def test_body_is_exactly_the_feed_bytes(hooked, receiver) -> None:
    from replayvault.compliance.integration import combined_page

    webhook.push(hooked)
    assert receiver.requests[0]["body"] == jsonl(combined_page(hooked, since_index=0).lines)
