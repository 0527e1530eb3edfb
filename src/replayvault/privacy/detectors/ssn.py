"""US Social Security number detector: area, group and serial rules; bare digits need context.

Forms: ``ddd-dd-dddd`` and ``ddd dd dddd`` (reported as unknown, or confirmed with a context
word), and 9 bare digits (reported only with a context word: ``SSN``, ``social security``).
Rules (SSA): area not 000, 666 or 900-999; group not 00; serial not 0000; python-stdnum's
``stdnum.us.ssn`` also refuses numbers known to be invalid (advertising specimens such as
078-05-1120). The number must not touch a letter or digit, nor continue with ``-``/``/``/``.``
and more digits (``1-536-90-4399`` is not an SSN).
"""

from __future__ import annotations

from stdnum.us import ssn as _ssn

from . import _scanner
from ._finding import Finding, Validation
from ._cache import candidate_cache
from ._util import DIGITS, ContextWords, has_context, isolated, run_end

KIND = "ssn"
VALIDATOR = "us.ssn"
CONTEXT = ("ssn", "social security", "social security number", "social sec", "ss#", "ss no")
#: How far before the number a context word may lie.
CONTEXT_WINDOW = 40

PATTERNS = [
    ("dashed", r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}"),
    ("spaced", r"\b[0-9]{3} [0-9]{2} [0-9]{4}"),
    ("bare", r"\b[0-9]{9}"),
]
_CONTEXT = ContextWords(CONTEXT)
#: Patterns whose validate() rejects every span without a context word in the window before it
#: (pattern name -> words, window); their spans keep the candidate's start. The scanner skips
#: their candidates when no such word can be near (see ``_scanner``).
REQUIRES_CONTEXT = {"bare": (_CONTEXT, CONTEXT_WINDOW)}


@candidate_cache
def rules_ok(digits: str) -> bool:
    """Area, group and serial rules for 9 digits (and stdnum's list of invalid numbers)."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return _ssn.is_valid(digits)


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The candidate up to the end of its last digit run (so a longer number is seen as one)."""
    return [(start, run_end(text, end, DIGITS))]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Rejected unless the rules hold; confirmed with context; unknown for formatted numbers without."""
    value = text[start:end]
    if len(value) != (9 if pattern == "bare" else 11) or not isolated(text, start, end, glue="-/."):
        return Validation.REJECTED
    if not rules_ok(value.replace("-", "").replace(" ", "")):
        return Validation.REJECTED
    if has_context(text, start, _CONTEXT, CONTEXT_WINDOW):
        return Validation.CONFIRMED
    return Validation.REJECTED if pattern == "bare" else Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return US social security numbers in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
