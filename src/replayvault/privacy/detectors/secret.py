"""Secrets: private keys, JSON Web Tokens and API keys of well-known shapes.

=============  ==========================================================  ===============
pattern        shape                                                       outcome
=============  ==========================================================  ===============
hex64[_0x]     64 hex digits standalone (optional ``0x``): a raw EC key    unknown
wif            base58check WIF key: version ``0x80`` (``5``/``K``/``L``)   confirmed
               or ``0xef`` (``9``/``c``), 32 bytes (+ ``0x01`` compressed)
jwt            three base64url parts; the header decodes to a JSON object  confirmed
               with ``"alg"``
aws            ``AKIA``/``ASIA`` + 16 capitals or digits                   unknown
github[_pat]   ``ghp_``/``gho_``/``ghs_``/``ghu_``/``ghr_`` + 36, or       unknown
               ``github_pat_`` + 82
slack          ``xoxa-``/``xoxb-``/``xoxp-``/``xoxr-``/``xoxs-`` + 10+     unknown
stripe         ``sk_live_``/``rk_live_`` + 24+                             unknown
google         ``AIza`` + 35                                               unknown
replayvault    our write keys ``rvw_`` and API tokens ``rvt_`` + 43        unknown
               (``secrets.token_urlsafe(32)``)
=============  ==========================================================  ===============

"Unknown" means the shape alone decided (these keys carry no public checksum). A key must not
touch a letter, digit, ``_`` or ``-`` (the key alphabets), so longer tokens are not cut.
"""

from __future__ import annotations

import base64
import binascii
import json

from . import _scanner
from ._finding import Finding, Validation
from ._util import run_end
from .crypto import B58_ALPHABET, b58decode_check

KIND = "secret"
VALIDATOR = "shape"
CONTEXT = ("key", "secret", "token", "private key", "api key", "password", "bearer", "authorization")

PATTERNS = [
    ("hex64", r"\b[0-9a-fA-F]{64}"),
    ("hex64_0x", r"\b0x[0-9a-fA-F]{64}"),
    ("wif", r"\b[5KL9c][1-9A-HJ-NP-Za-km-z]{50}"),
    # JWT and Slack: the token, then one character that ends it (or the end of the text), so
    # the engine reports one match per token rather than one per character; spans() reads the end.
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*(?:[^A-Za-z0-9_\-]|$)"),
    ("aws", r"\b(?:AKIA|ASIA)[A-Z0-9]{16}"),
    ("github", r"\bgh[pousr]_[A-Za-z0-9]{36}"),
    ("github_pat", r"\bgithub_pat_[A-Za-z0-9_]{82}"),
    ("slack", r"\bxox[abprs]-[A-Za-z0-9\-]{10,}(?:[^A-Za-z0-9\-]|$)"),
    ("stripe", r"\b[sr]k_live_[A-Za-z0-9]{24,}"),
    ("google", r"\bAIza[0-9A-Za-z_\-]{35}"),
    ("replayvault", r"\brv[wt]_[A-Za-z0-9_\-]{43}"),
]
VALIDATORS = {"wif": "base58check", "jwt": "jwt-header"}

#: Exact lengths of fixed-length keys (the scanner reports the whole run).
_LENGTHS = {"aws": (20,), "google": (39,), "replayvault": (47,), "github": (40,), "github_pat": (93,)}
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
WIF_VERSIONS = frozenset({0x80, 0xEF})
_B58_CHARS = frozenset(B58_ALPHABET)


def _isolated(text: str, start: int, end: int) -> bool:
    return (start == 0 or text[start - 1] not in _KEY_CHARS) and (end == len(text) or text[end] not in _KEY_CHARS)


def wif_ok(value: str) -> bool:
    """True for a WIF private key (mainnet or testnet, compressed or not) with a valid checksum."""
    if len(value) not in (51, 52):
        return False
    payload = b58decode_check(value)
    if payload is None or payload[0] not in WIF_VERSIONS:
        return False
    return len(payload) == 33 or (len(payload) == 34 and payload[-1] == 0x01)


def _b64url_json(part: str) -> object:
    raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    return json.loads(raw.decode("utf-8"))


def jwt_ok(value: str) -> bool:
    """True when the token has three parts and its header is a JSON object with ``"alg"``."""
    parts = value.split(".")
    if len(parts) != 3:
        return False
    try:
        header = _b64url_json(parts[0])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and "alg" in header


_JWT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SLACK_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The whole key: a WIF key's base58 run (51 or 52 characters); a JWT's three dot-separated
    runs; a Slack token's run (their patterns end one character past the token). Other shapes
    stay as found."""
    if pattern == "wif":
        end = run_end(text, end, _B58_CHARS)
    elif pattern == "jwt":  # eyJ<run>.<run>.<run>, each run maximal (no dot inside)
        end = run_end(text, run_end(text, run_end(text, start, _JWT_CHARS) + 1, _JWT_CHARS) + 1, _JWT_CHARS)
    elif pattern == "slack":
        end = run_end(text, start + 5, _SLACK_CHARS)
    return [(start, end)]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Shape and boundaries for every pattern; base58check for WIF; the JSON header for JWTs."""
    value = text[start:end]
    if not _isolated(text, start, end):
        return Validation.REJECTED
    if pattern in ("hex64", "hex64_0x"):
        return Validation.UNKNOWN if len(value) - (2 if pattern == "hex64_0x" else 0) == 64 else Validation.REJECTED
    if pattern == "wif":
        return Validation.CONFIRMED if wif_ok(value) else Validation.REJECTED
    if pattern == "jwt":
        return Validation.CONFIRMED if jwt_ok(value) else Validation.REJECTED
    lengths = _LENGTHS.get(pattern)
    if lengths is not None and len(value) not in lengths:
        return Validation.REJECTED
    return Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return secrets (keys, tokens) in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
