"""Everything the specific rules do not handle: the remaining strings of an event.

The masking rules know rrweb's shapes (snapshot nodes, mutations, inputs, URLs, payloads). What
an event carries beyond them — an unknown event type or incremental source, MouseInteraction,
Scroll, Font, Selection and Media data, DomContentLoaded and Load events, an extra key on an event,
a node, an ``adds`` entry or an Input event, a tag name, an attribute name — is walked here after
the specific handlers ran: every string value and every object key that might hold personal data
goes through ``fix`` (URL rules when it is a URL with a query, then the detectors), and an
integer of 9 or more digits through ``number`` (a card or phone number sent as a JSON number).

Prefilter (:func:`worth_scanning`): a string is checked only when it is at least
:data:`MIN_LENGTH` characters long (the shortest finding of any registered detector: an e-mail
``a@b.co``) and it

* contains a decimal digit of any script, ``@``, ``:`` or their fullwidth forms — every card,
  IBAN, ABA, SSN, phone, OTP, IPv4 and national-ID number has digits (a fully "omocodic" Italian
  codice fiscale has none, but is 16 characters: next rule), every e-mail an ``@``, every IPv6 a
  ``:``;
* or has a run of :data:`KEY_RUN` letters, digits, ``_``, ``-`` or ``.`` — covers every key and
  address shape that can be all letters: the shortest is a Slack token ``xoxb-`` + 10 (15), then
  the codice fiscale (16), base58/hex crypto addresses (26+), WIF and hex keys, JWTs;
* or names a BIC context word (``bic``, ``swift``: a BIC without digits is only reported next to one);
* or has at least 12 words (a BIP-39 seed phrase).

Strings longer than :data:`ALWAYS_SCAN` characters are always checked. ``data:`` URIs with
``;base64,`` and the ``base64`` field of rrweb's serialized canvas arguments are binary, not text,
and are skipped.
"""

from __future__ import annotations

import re
from typing import Any, Callable

__all__ = ["ALWAYS_SCAN", "KEY_RUN", "MIN_LENGTH", "walk", "worth_scanning"]

MIN_LENGTH = 6
KEY_RUN = 15
ALWAYS_SCAN = 2000
_CANDIDATE = re.compile(rf"[\d@:\uff20\uff1a]|[\w.\-]{{{KEY_RUN}}}")
_WORD = re.compile(r"[^\W\d_]+")
_BIC_WORDS = ("bic", "swift")
_NO_KEYS: frozenset[str] = frozenset()


def worth_scanning(value: str) -> bool:
    """Whether a string could hold a finding of any registered detector (module docstring)."""
    n = len(value)
    if n < MIN_LENGTH:
        return False
    if value[:5] == "data:" and ";base64," in value[:200]:
        return False
    if n > ALWAYS_SCAN or _CANDIDATE.search(value) is not None:
        return True
    lower = value.lower()
    if any(w in lower for w in _BIC_WORDS):
        return True
    return n >= 47 and len(_WORD.findall(value)) >= 12  # 12 words of 3+ letters and 11 separators


def walk(root: dict[str, Any] | list[Any], fix: Callable[[str], str], number: Callable[[int], str | None] | None,
         skip: frozenset[str] = _NO_KEYS) -> None:
    """Check every string value and key under ``root`` in place (keys of ``root`` named in ``skip``
    are left to their specific handler).

    ``fix(text)`` returns the text masked (called only for strings that pass
    :func:`worth_scanning`); a key it changes is renamed (an existing key of that name wins).
    ``number(n)`` returns a masked replacement for an integer of 9+ digits, or None to keep it.
    """
    stack: list[tuple[Any, frozenset[str]]] = [(root, skip)]
    while stack:
        obj, skipped = stack.pop()
        if isinstance(obj, dict):
            binary = "rr_type" in obj  # rrweb's serialized canvas argument: base64 is binary
            renames = []
            for key, value in obj.items():
                if key in skipped or (binary and key == "base64"):
                    continue
                new = _value(value, fix, number, stack)
                if new is not None:
                    obj[key] = new
                if isinstance(key, str) and worth_scanning(key):
                    masked = fix(key)
                    if masked != key:
                        renames.append((key, masked))
            for key, masked in renames:
                value = obj.pop(key)
                obj.setdefault(masked, value)
        elif isinstance(obj, list):
            for i, value in enumerate(obj):
                new = _value(value, fix, number, stack)
                if new is not None:
                    obj[i] = new


def _value(value: Any, fix: Callable[[str], str], number: Callable[[int], str | None] | None,
           stack: list[tuple[Any, frozenset[str]]]) -> Any:
    """The replacement for one value (None: keep it); containers are pushed on ``stack``."""
    kind = type(value)
    if kind is str:
        if worth_scanning(value):
            masked = fix(value)
            return masked if masked != value else None
    elif kind is int:
        if number is not None and abs(value) >= 10**8:
            return number(value)
    elif kind is dict or kind is list:
        stack.append((value, _NO_KEYS))
    return None
