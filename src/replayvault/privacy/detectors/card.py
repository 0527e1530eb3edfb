"""Payment card number detector: 13-19 digits, optional separators, Luhn-checked.

A candidate is a run of digit groups separated by up to three spaces, dots or dashes (``4111 1111``,
``4111.1111``, ``4111 - 1111``; Unicode spaces and dashes are folded before detection). A card is a
contiguous sequence of whole groups (never part of a group, so never part of a longer digit
run) with 13-19 digits, a known issuer first digit (2-6) and a valid Luhn checksum. 13-digit
numbers must start with 4 (old Visa), which keeps millisecond timestamps (1xxxxxxxxxxxx) out.
Any group of a run may start a card (see :func:`spans`).
"""

from __future__ import annotations

import re

from . import _scanner
from ._finding import Finding, Validation

KIND = "card"
VALIDATOR = "luhn"
CONTEXT = ("card", "credit", "debit", "visa", "mastercard", "amex", "pan")
MIN_DIGITS = 13
MAX_DIGITS = 19
#: First digits of the card networks (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6).
ISSUER_FIRST_DIGITS = frozenset("23456")
#: Shortest group allowed between separators, so CSS like ``0 0 0 0`` is not a candidate.
MIN_GROUP = 2

PATTERNS = [
    # A run of digits with up to three separators between digits, holding 13+ digits, and
    # what ends the run: a character that is no digit or separator (after up to three
    # separators), four separators, or the end of the text. Shorter runs are rejected inside
    # the regex engine and never reach Python code; the terminator makes the engine report
    # one match per run instead of one per digit past the 13th (CSS and SVG number lists).
    # spans() trims the terminator: the candidate is the run from its first to its last digit.
    ("digits", r"[0-9](?:[ .\-]{0,3}[0-9]){12,}(?:[ .\-]{0,3}[^0-9 .\-]|[ .\-]{4}|[ .\-]{0,3}$)"),
]
_GROUP = re.compile(r"[0-9]+")


#: Luhn value of a doubled digit: 2d, less 9 when two digits (ISO/IEC 7812-1 annex B).
_DOUBLED = {str(d): (2 * d - 9 if d > 4 else 2 * d) for d in range(10)}
_SEPARATORS = str.maketrans("", "", " .-")


def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check (ISO/IEC 7812-1 annex B).

    From the right: every second digit (the check digit's left neighbour first) is doubled and
    reduced by 9 when above 9; the sum of all must end in 0.
    """
    total = sum(map(int, digits[-1::-2])) + sum(map(_DOUBLED.__getitem__, digits[-2::-2]))
    return total % 10 == 0


def _plausible(digits: str) -> bool:
    if digits[0] not in ISSUER_FIRST_DIGITS:
        return False
    if len(digits) == 13 and digits[0] != "4":
        return False
    return luhn_ok(digits)


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """Card numbers in a digit run: whole groups, 13-19 digits, the longest plausible first.

    Every group may start a card (``12.03.2024 4111 1111 1111 1111``); a found card's groups are
    consumed. A run glued to an ASCII letter (``0x5290...``, an IBAN's ``DE89 3704 ...``) holds
    no card.
    """
    while not "0" <= text[end - 1] <= "9":  # the pattern's terminator
        end -= 1
    if (start > 0 and text[start - 1].isascii() and text[start - 1].isalpha()) or (
        end < len(text) and text[end].isascii() and text[end].isalpha()
    ):
        return []
    run = text[start:end]
    found = list(_GROUP.finditer(run))
    groups = [m.span() for m in found]
    strings = [m.group() for m in found]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        if strings[i][0] not in ISSUER_FIRST_DIGITS:
            i += 1  # a card starts with an issuer's digit: none starts at this group
            continue
        best = None
        digits = ""
        for j in range(i, len(groups)):
            g = strings[j]
            if len(groups) > 1 and len(g) < MIN_GROUP:
                break
            digits += g
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and _plausible(digits):
                best = j  # keep extending: prefer the longest valid number
        if best is None:
            i += 1  # no card starts here: one may start at the next group (``Qty 12 4111 1111 …``)
            continue
        out.append((start + groups[i][0], start + groups[best][1]))
        i = best + 1
    return out


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed when the digits have a card issuer's first digit, a card length and a valid Luhn sum."""
    digits = text[start:end].translate(_SEPARATORS)  # spans() cut it from a run of digits and " .-"
    if not (digits.isascii() and digits.isdigit()):
        digits = "".join(ch for ch in digits if "0" <= ch <= "9")
    if MIN_DIGITS <= len(digits) <= MAX_DIGITS and _plausible(digits):
        return Validation.CONFIRMED
    return Validation.REJECTED


def find(text: str) -> list[Finding]:
    """Return Luhn-valid card numbers in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
