"""Pushing the feeds to a SIEM or GRC webhook: HMAC-signed JSON Lines batches, delivered at least once.

Each batch is one POST to ``REPLAYVAULT_WEBHOOK_URL`` carrying both feeds of
:mod:`.integration` for a run of audit entries (each ``audit`` line followed by the ``incident``
lines of the same index)::

    POST /your/endpoint
    Content-Type: application/x-ndjson
    X-Replayvault-Timestamp: 1795996800
    X-Replayvault-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

as GitHub (``X-Hub-Signature-256``) and Stripe (``t=…,v1=…``) sign theirs: the timestamp is Unix
time in seconds (decimal), the HMAC key is the secret file's content without surrounding
whitespace, the message is the timestamp's ASCII digits, one ``.``, then the raw body bytes. A
receiver recomputes it over the body as received, compares in constant time, refuses timestamps
more than 5 minutes from its clock (replays), and answers 2xx once it has stored the lines.

Delivery is at least once: the cursor (the next audit index to send) is kept in
``siem-push.json`` in the data directory (mode 0600) and advances only after a 2xx; a failed POST
(connection error, timeout, any other status, redirects not followed) is retried with exponential
backoff (1 s, 2 s, 4 s), and a batch still failing stays for the next round. Receivers dedupe
``audit`` lines by ``index`` and ``incident`` lines by ``(audit_index, source, kind)``. Pushing to
another URL starts again from index 0. The secret is never logged, stored elsewhere or sent.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import httpx

from ..config import Settings
from ..errors import ConfigError, InvalidInput
from ..private_files import read_private_file
from ..runtime import Runtime
from .integration import CONTENT_TYPE, combined_page, jsonl

__all__ = ["TIMESTAMP_HEADER", "SIGNATURE_HEADER", "TOLERANCE_S", "MIN_SECRET_BYTES", "BACKOFF_S", "BATCH_ENTRIES", "PushState",
           "PushResult", "sign", "verify_signature", "read_secret", "check_url", "state_path", "load_state",
           "push", "next_delay"]

log = logging.getLogger("replayvault.siem")
# httpx logs every request's full URL at INFO; a webhook URL may carry a token. Unless configured otherwise,
# keep httpx to warnings (our own log lines name the batch and the status, never the URL).
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

TIMESTAMP_HEADER = "X-Replayvault-Timestamp"
SIGNATURE_HEADER = "X-Replayvault-Signature"
#: Largest difference between a signature's timestamp and the receiver's clock, seconds (Stripe's default).
TOLERANCE_S = 300
#: Shortest secret accepted, bytes (256 bits as hex: ``openssl rand -hex 32`` gives 64).
MIN_SECRET_BYTES = 32
_MAX_SECRET_BYTES = 4096
#: Waits between the attempts of one batch, seconds (4 attempts).
BACKOFF_S = (1.0, 2.0, 4.0)
#: Audit entries per POST.
BATCH_ENTRIES = 500
_TIMEOUT_S = 10.0
_LOOPBACK_NAMES = ("localhost",)


# -- the signature ----------------------------------------------------------------------------
def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """``"sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))`` (RFC 2104, FIPS 180-4)."""
    return "sha256=" + hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, timestamp: str, body: bytes, signature: str, *, now_s: float | None = None,
                     tolerance_s: int = TOLERANCE_S) -> None:
    """Check a received batch the way a receiver should (also what the tests' receiver runs).

    Raises:
        InvalidInput: the timestamp is not decimal digits or is more than ``tolerance_s`` seconds from
            ``now_s`` (default: now), or the signature does not match (compared in constant time).
    """
    if not timestamp.isascii() or not timestamp.isdigit():
        raise InvalidInput("the timestamp is not a decimal Unix time")
    now = time.time() if now_s is None else now_s
    if abs(now - int(timestamp)) > tolerance_s:
        raise InvalidInput(f"the timestamp is more than {tolerance_s} s from now")
    if not hmac.compare_digest(sign(secret, timestamp, body).encode("ascii"), signature.encode("utf-8", "replace")):
        raise InvalidInput("the signature does not match")


def read_secret(path: Path) -> bytes:
    """The secret in ``path``, stripped of surrounding whitespace; checked on the open descriptor.

    Raises:
        ConfigError: the file is missing, not a regular file, readable or writable by group or others
            (mode must be 0600 or stricter), shorter than :data:`MIN_SECRET_BYTES` or larger than 4 KiB.
            The message never contains the secret.
    """
    try:
        data = read_private_file(path, max_bytes=_MAX_SECRET_BYTES, error=ConfigError, label="webhook secret file")
    except FileNotFoundError:
        raise ConfigError(f"webhook secret file {path} cannot be opened (No such file or directory)") from None
    secret = data.strip()
    if len(data) > _MAX_SECRET_BYTES or len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(f"webhook secret in {path} must be {MIN_SECRET_BYTES} to {_MAX_SECRET_BYTES} bytes "
                          "(e.g. `openssl rand -hex 32`)")
    return secret


def check_url(url: str) -> str:
    """``url`` when it is ``https://…``, or ``http://…`` to a loopback host (127.0.0.0/8, ::1, localhost).

    Raises:
        ConfigError: another scheme, no host, or plain http to another host (the batches hold audit data).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError("REPLAYVAULT_WEBHOOK_URL must be an https:// URL")
    if parts.scheme == "http":
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host in _LOOPBACK_NAMES
        if not loopback:
            raise ConfigError("REPLAYVAULT_WEBHOOK_URL must use https:// (plain http only to a loopback address)")
    return url


# -- the cursor -------------------------------------------------------------------------------
@dataclass
class PushState:
    """What ``siem-push.json`` keeps: the next audit index to send, to which URL (its SHA-256, so no
    credential in a URL is stored), consecutive failed rounds, last success (epoch ms), last error."""

    next_index: int = 0
    url_sha256: str | None = None
    consecutive_failures: int = 0
    last_success_ms: int | None = None
    last_error: str | None = None


def state_path(settings: Settings) -> Path:
    """The cursor file: ``<data dir>/siem-push.json``."""
    return settings.data_dir / "siem-push.json"


def load_state(path: Path) -> PushState:
    """The stored cursor, or a fresh one when the file is missing or unreadable (then everything is sent
    again: at least once)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        state = PushState(**{k: doc[k] for k in asdict(PushState()) if k in doc})
        if not isinstance(state.next_index, int) or state.next_index < 0:
            raise ValueError("next_index")
        return state
    except FileNotFoundError:
        return PushState()
    except (OSError, ValueError, TypeError, AttributeError) as exc:
        log.error("webhook cursor %s is unreadable (%s); starting from index 0", path, type(exc).__name__)
        return PushState()


def _save_state(path: Path, state: PushState) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        json.dump(asdict(state), fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[bool]:
    """An inter-process lock beside the cursor file; yields False when another push holds it."""
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


# -- pushing ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushResult:
    """One round: lines and batches delivered, POSTs made, the cursor after it, the log's size, and the
    error that stopped it (None when it caught up)."""

    lines: int
    batches: int
    attempts: int
    next_index: int
    size: int
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON shape (CLI ``--json``)."""
        return asdict(self)


def _post(client: httpx.Client, url: str, secret: bytes, body: bytes) -> str | None:
    """One signed POST; None on 2xx, else a short reason (status or exception class; never the secret)."""
    timestamp = str(int(time.time()))
    headers = {"Content-Type": CONTENT_TYPE, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}
    try:
        r = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return None if 200 <= r.status_code < 300 else f"HTTP {r.status_code}"


def push(rt: Runtime, *, url: str | None = None, secret: bytes | None = None, batch_entries: int = BATCH_ENTRIES,
         backoff_s: tuple[float, ...] | None = None, sleep: Callable[[float], None] | None = None,
         client: httpx.Client | None = None) -> PushResult:
    """One round: POST every audit entry from the cursor on (with its incidents), in batches of
    ``batch_entries`` entries, until caught up or a batch fails all its attempts
    (``1 + len(backoff_s)``, default :data:`BACKOFF_S`). Settings give ``url`` and ``secret`` by default.

    Raises:
        ConfigError: no URL, a URL that is not https (or loopback http), or a bad secret file.
        AuditTampered: an entry to send is missing or does not match its leaf hash (nothing is sent).
    """
    settings = rt.settings
    url = check_url(url or settings.webhook_url or "")
    if secret is None:
        if settings.webhook_secret_file is None:
            raise ConfigError("REPLAYVAULT_WEBHOOK_SECRET_FILE is not set; batches are never sent unsigned")
        secret = read_secret(settings.webhook_secret_file)
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _exclusive(path) as mine:
        if not mine:
            return PushResult(0, 0, 0, load_state(path).next_index, 0, "another push is running")
        with contextlib.ExitStack() as stack:
            http = client or stack.enter_context(httpx.Client(timeout=_TIMEOUT_S, follow_redirects=False))
            return _round(rt, path, url, secret, http, batch_entries, BACKOFF_S if backoff_s is None else backoff_s,
                          sleep or time.sleep)


def _round(rt: Runtime, path: Path, url: str, secret: bytes, http: httpx.Client, batch_entries: int,
           backoff_s: tuple[float, ...], sleep: Callable[[float], None]) -> PushResult:
    state = load_state(path)
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
    if state.url_sha256 != digest:  # a new receiver gets the whole log
        state = PushState(url_sha256=digest)
    lines = batches = attempts = 0
    size = state.next_index
    while True:
        page = combined_page(rt, since_index=state.next_index, limit=batch_entries)
        size = page.size
        if not page.lines:
            break
        body = jsonl(page.lines)
        error = None
        for wait in (*backoff_s, None):
            attempts += 1
            error = _post(http, url, secret, body)
            if error is None or wait is None:
                break
            log.warning("webhook batch %d-%d failed (%s); retrying in %.0f s", page.start, page.next_index - 1, error, wait)
            sleep(wait)
        if error is not None:
            state.consecutive_failures += 1
            state.last_error = f"{error} (batch from index {page.start})"
            _save_state(path, state)
            log.error("webhook push stopped at index %d: %s", page.start, error)
            return PushResult(lines, batches, attempts, state.next_index, size, state.last_error)
        lines, batches = lines + len(page.lines), batches + 1
        state.next_index, state.consecutive_failures, state.last_error = page.next_index, 0, None
        state.last_success_ms = int(time.time() * 1000)
        _save_state(path, state)
    _save_state(path, state)
    return PushResult(lines, batches, attempts, state.next_index, size)


def next_delay(interval_s: int, failures: int, cap_s: int = 3600) -> int:
    """Seconds before the next round of ``serve``'s loop: ``interval_s`` doubled per consecutive failed
    round, at most ``max(interval_s, cap_s)`` (so a receiver that is down is not hammered)."""
    return min(interval_s * 2 ** min(failures, 20), max(interval_s, cap_s))
