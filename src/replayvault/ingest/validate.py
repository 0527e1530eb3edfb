"""Validation of ingest request bodies: decoding, size limits and shape.

Limits (settings): ``max_batch_bytes`` (default 5 MiB) of decompressed JSON and ``max_batch_events``
(default 10,000) per batch. Error messages name the field or event index, never its content.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

from ..errors import BatchTooLarge, MalformedBatch
from ..rrweb import EventType, is_event
from ..types import Event

__all__ = ["IngestRequest", "ReceiptRequest", "check_events", "decode_body", "loads_strict", "parse_ingest",
           "parse_consent", "parse_renewal", "SESSION_ID", "SUBJECT", "DECISIONS", "METHODS", "MAX_TOKEN"]

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_WINDOW_ID = re.compile(r"^[A-Za-z0-9_-]{0,64}$")
#: A data subject's pseudonymous id from ``replayvault.identify(id)``: no spaces and no '@', so neither a
#: name nor an e-mail address fits (it is personal data all the same and only its digest is stored).
SUBJECT = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Longest accepted consent token (characters); the collector's own tokens are about 200.
MAX_TOKEN = 1024


@dataclass(frozen=True)
class IngestRequest:
    """A validated ingest body."""

    session_id: str
    seq: int
    events: list[Event]
    window_id: str = ""
    #: Pseudonymous data subject id (``replayvault.identify``), or None.
    subject: str | None = None
    #: The consent token the collector issued for this session (``governance.consent``), or None.
    consent_token: str | None = None


def decode_body(raw: bytes, content_encoding: str | None, max_bytes: int) -> bytes:
    """Return the request body decompressed (``gzip`` or identity), at most ``max_bytes`` bytes.

    Raises:
        BatchTooLarge: the (decompressed) body is larger than ``max_bytes``.
        MalformedBatch: unsupported encoding or corrupt gzip data.
    """
    enc = (content_encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        data = raw
    elif enc == "gzip":
        dec = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            data = dec.decompress(raw, max_bytes + 1)
        except zlib.error:
            raise MalformedBatch("body is not valid gzip data") from None
        if len(data) <= max_bytes and not dec.eof:
            raise MalformedBatch("gzip body is truncated")
    else:
        raise MalformedBatch(f"unsupported Content-Encoding {enc[:20]!r}; use gzip or none")
    if len(data) > max_bytes:
        raise BatchTooLarge(f"batch is larger than {max_bytes} bytes after decompression")
    return data


#: Largest integer accepted anywhere in a body: 2^53, the exact-integer limit of JavaScript numbers.
MAX_SAFE_INT = 2**53
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def loads_strict(data: bytes) -> Any:
    """Decode JSON strictly: no NaN/Infinity, no overflowing numbers, no lone surrogates, bounded depth.

    Raises:
        MalformedBatch: the message says which rule failed (never quotes the content).
    """
    try:
        doc = json.loads(data, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise MalformedBatch(f"body is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise MalformedBatch("body is not valid UTF-8") from None
    except RecursionError:
        raise MalformedBatch("body is nested too deeply") from None
    except ValueError:  # NaN/Infinity, 1e400, integers longer than Python's digit limit
        raise MalformedBatch("body holds a number that is not a finite JSON number (NaN, Infinity or out of range)") from None
    if _SURROGATE_ESCAPE.search(data):
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise MalformedBatch("body holds a lone UTF-16 surrogate (\\uD800-\\uDFFF) that is not valid Unicode") from None
    return doc


def _object(data: bytes) -> dict:
    doc = loads_strict(data)
    if not isinstance(doc, dict):
        raise MalformedBatch("body must be a JSON object")
    return doc


def _check_event(i: int, ev: Any) -> None:
    if not is_event(ev):
        raise MalformedBatch(f"events[{i}] is not an rrweb event (needs int 'type' 0-6 and numeric 'timestamp')")
    if not 0 <= ev["timestamp"] < MAX_SAFE_INT:
        raise MalformedBatch(f"events[{i}].timestamp must be milliseconds between 0 and 2^53")
    data = ev.get("data", {})
    if not isinstance(data, dict):
        raise MalformedBatch(f"events[{i}].data must be an object")
    if ev["type"] == EventType.Meta:
        if not isinstance(data.get("href", ""), str):
            raise MalformedBatch(f"events[{i}].data.href must be a string")
        for dim in ("width", "height"):
            v = data.get(dim, 0)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 100_000:
                raise MalformedBatch(f"events[{i}].data.{dim} must be a number of px between 0 and 100000")


def _session_id(doc: dict) -> str:
    sid = doc.get("session_id")
    if not isinstance(sid, str) or not SESSION_ID.match(sid):
        raise MalformedBatch("'session_id' must be a string of 8-64 letters, digits, '-' or '_'")
    return sid


def parse_ingest(data: bytes, max_events: int) -> IngestRequest:
    """Parse and check an ingest body ``{"session_id", "seq", "events", "window_id"?, "subject"?,
    "consent_token"?}`` (the consent check itself is :func:`replayvault.governance.consent.admit`).

    Raises:
        MalformedBatch: not JSON, a field missing or of the wrong type, an item that is not an rrweb event.
        BatchTooLarge: more than ``max_events`` events.
    """
    doc = _object(data)
    sid = _session_id(doc)
    seq = doc.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
        raise MalformedBatch("'seq' must be an integer between 0 and 2^31-1")
    window_id = doc.get("window_id") or ""
    if not isinstance(window_id, str) or not _WINDOW_ID.match(window_id):
        raise MalformedBatch("'window_id' must be a string of up to 64 letters, digits, '-' or '_'")
    subject = doc.get("subject")
    if subject is not None and (not isinstance(subject, str) or not SUBJECT.match(subject)):
        raise MalformedBatch("'subject' must be a pseudonymous id of 1-128 letters, digits, '.', '_', ':' or '-'")
    token = doc.get("consent_token")
    if token is not None and (not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN):
        raise MalformedBatch(f"'consent_token' must be a string of at most {MAX_TOKEN} characters")
    events = doc.get("events")
    check_events(events, max_events)
    return IngestRequest(session_id=sid, seq=seq, events=events, window_id=window_id, subject=subject,
                         consent_token=token)


def check_events(events: Any, max_events: int) -> None:
    """Check a batch's event list: 1..``max_events`` rrweb events with sane timestamps and Meta fields.

    Raises:
        MalformedBatch: not a list, empty, or an item is not an rrweb event (the message gives its index).
        BatchTooLarge: more than ``max_events`` events.
    """
    if not isinstance(events, list):
        raise MalformedBatch("'events' must be an array of rrweb events")
    if len(events) > max_events:
        raise BatchTooLarge(f"batch has {len(events)} events; the limit is {max_events}")
    if not events:
        raise MalformedBatch("'events' is empty")
    for i, ev in enumerate(events):
        _check_event(i, ev)


#: Consent decisions a receipt may carry (``skipped``: the tracker ran, the visitor left without deciding).
DECISIONS = ("granted", "refused", "withdrawn", "skipped")
#: How consent was obtained: the site's banner, an IAB TCF v2 CMP, Google Consent Mode, the site's own
#: call of the API, or a browser signal (Global Privacy Control, Do Not Track).
METHODS = ("banner", "tcf", "consent_mode", "api", "gpc", "dnt")
_LABEL = re.compile(r"^[A-Za-z0-9._:-]{0,64}$")
_PURPOSE = re.compile(r"^[a-z0-9_.:-]{1,32}$")
#: Longest accepted TCF TC string (characters).
MAX_TC_STRING = 20_000
#: A TC string: base64url segments separated by '.' (IAB TCF v2 "Consent string and vendor list formats").
_TC_STRING = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")


@dataclass(frozen=True)
class ReceiptRequest:
    """A validated consent receipt from the tracker (see :func:`parse_consent`). Times are browser ms."""

    session_id: str
    decision: str | None
    method: str
    client_ms: int
    decided_ms: int
    banner_id: str = ""
    banner_version: str = ""
    purposes: tuple[str, ...] = ()
    tc_string: str | None = None
    gpc: bool = False
    dnt: bool = False


def _ms(doc: dict, name: str, default: int | None = None) -> int:
    value = doc.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < MAX_SAFE_INT:
        raise MalformedBatch(f"'{name}' must be milliseconds since the epoch (an integer between 0 and 2^53)")
    return value


def _label(doc: dict, name: str, limit: int) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str) or len(value) > limit or not _LABEL.match(value):
        raise MalformedBatch(f"'{name}' must be up to {limit} letters, digits, '.', '_', ':' or '-'")
    return value


def parse_consent(data: bytes) -> ReceiptRequest:
    """Parse a consent receipt body::

        {"session_id", "decision": "granted"|"refused"|"withdrawn"|"skipped" (optional with method "tcf"),
         "method": "banner"|"tcf"|"consent_mode"|"api"|"gpc"|"dnt" (default "banner"),
         "ts": ms (browser clock, when the receipt takes effect), "decided_ms"?: ms (when the visitor
         decided; default ts, never later), "banner_id"?, "banner_version"?, "purposes"?: [names],
         "tc_string"?: TCF v2 TC string, "gpc"?: bool, "dnt"?: bool}

    Raises:
        MalformedBatch: not JSON or a field is wrong (the message names the field, never its value).
    """
    doc = _object(data)
    sid = _session_id(doc)
    decision = doc.get("decision")
    method = doc.get("method", "banner")
    if method not in METHODS:
        raise MalformedBatch(f"'method' must be one of {', '.join(METHODS)}")
    if decision is None and method != "tcf":
        raise MalformedBatch("'decision' is required (granted, refused, withdrawn or skipped) unless method is 'tcf'")
    if decision is not None and decision not in DECISIONS:
        raise MalformedBatch(f"'decision' must be one of {', '.join(DECISIONS)}")
    client_ms = _ms(doc, "ts")
    decided_ms = _ms(doc, "decided_ms", client_ms)
    if decided_ms > client_ms:
        raise MalformedBatch("'decided_ms' must not be later than 'ts'")
    purposes = doc.get("purposes", [])
    if not isinstance(purposes, list) or len(purposes) > 20 or not all(
            isinstance(p, str) and _PURPOSE.match(p) for p in purposes):
        raise MalformedBatch("'purposes' must be a list of at most 20 names of 1-32 lower-case letters, digits, "
                             "'_', '.', ':' or '-'")
    tc = doc.get("tc_string")
    if tc is not None and (not isinstance(tc, str) or not 0 < len(tc) <= MAX_TC_STRING or not _TC_STRING.match(tc)):
        raise MalformedBatch(f"'tc_string' must be a TCF TC string (base64url segments separated by '.', at most "
                             f"{MAX_TC_STRING} characters)")
    if tc is not None and method != "tcf":
        raise MalformedBatch("'tc_string' is only accepted with method 'tcf'")
    if method == "tcf" and tc is None and decision in (None, "granted"):
        raise MalformedBatch("'tc_string' is required when method is 'tcf'")
    if method in ("gpc", "dnt") and decision != "refused":
        raise MalformedBatch("a receipt with method 'gpc' or 'dnt' records a browser opt-out: its decision must be 'refused'")
    flags = {}
    for name in ("gpc", "dnt"):
        flags[name] = doc.get(name, False)
        if not isinstance(flags[name], bool):
            raise MalformedBatch(f"'{name}' must be true or false")
    return ReceiptRequest(sid, decision, method, client_ms, decided_ms, _label(doc, "banner_id", 64),
                          _label(doc, "banner_version", 32), tuple(purposes), tc, flags["gpc"], flags["dnt"])


def parse_renewal(data: bytes) -> tuple[str, str]:
    """Parse a token renewal body ``{"session_id", "consent_token"}``; returns (session id, token).

    Raises:
        MalformedBatch: not JSON or a field is wrong.
    """
    doc = _object(data)
    sid = _session_id(doc)
    token = doc.get("consent_token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN:
        raise MalformedBatch(f"'consent_token' must be a string of at most {MAX_TOKEN} characters")
    return sid, token
