"""US ABA routing transit number detector: 9 digits, 3-7-1 checksum, context required.

Nine-digit numbers are everywhere (order numbers, phone numbers without separators), so a
routing number is reported only when a context word (``routing``, ``ABA``, ``RTN``, ...)
lies within :data:`CONTEXT_WINDOW` characters before it and python-stdnum's
``stdnum.us.rtn`` accepts the checksum (weights 3, 7, 1 repeated; sum divisible by 10).
Without context, or with a bad checksum, nothing is reported.
"""

from __future__ import annotations

from stdnum.us import rtn as _rtn

from . import _scanner
from ._finding import Finding, Validation
from ._cache import candidate_cache
from ._util import DIGITS, ContextWords, has_context, isolated, run_end

KIND = "aba"
VALIDATOR = "us.rtn"
CONTEXT = ("routing", "routing number", "aba", "rtn", "routing transit", "transit number")
#: How far before the number a context word may lie.
CONTEXT_WINDOW = 40

PATTERNS = [
    ("digits", r"\b[0-9]{9}"),
]
_CONTEXT = ContextWords(CONTEXT)
#: Patterns whose validate() rejects every span without a context word in the window before it
#: (pattern name -> words, window); their spans keep the candidate's start. The scanner skips
#: their candidates when no such word can be near (see ``_scanner``).
REQUIRES_CONTEXT = {"digits": (_CONTEXT, CONTEXT_WINDOW)}


@candidate_cache
def checksum_ok(number: str) -> bool:
    """True for 9 digits whose 3-7-1 weighted sum is divisible by 10."""
    return len(number) == 9 and number.isdigit() and _rtn.is_valid(number)


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The whole digit run (the scanner reports its first nine digits)."""
    return [(start, run_end(text, end, DIGITS))]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed with a context word and a valid checksum; otherwise rejected (never reported)."""
    if end - start != 9 or not isolated(text, start, end, glue="-_/."):
        return Validation.REJECTED
    if not has_context(text, start, _CONTEXT, CONTEXT_WINDOW) or not checksum_ok(text[start:end]):
        return Validation.REJECTED
    return Validation.CONFIRMED


def find(text: str) -> list[Finding]:
    """Return routing numbers (with context) in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
