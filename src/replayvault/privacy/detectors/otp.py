"""One-time code detector: 4-8 digits right after a label such as "OTP" or "verification code".

A run of 4-8 digits is reported only when a context word lies within
:data:`CONTEXT_WINDOW` characters before it (the detector sees plain text, so the label is
whatever precedes the code: ``Your verification code is 482913``, ``TAN: 123456``). The
code must stand alone: no letter or digit touching it, and not part of a longer number
(``1,234`` or ``12.5``). Such codes have no checksum; the context is the validator, and a
code that passes it is confirmed.
"""

from __future__ import annotations

from . import _scanner
from ._finding import Finding, Validation
from ._util import DIGITS, ContextWords, has_context, isolated, run_end

KIND = "otp"
VALIDATOR = "context"
CONTEXT = (
    "otp", "2fa", "mfa", "one-time", "one time", "one-time code", "one-time password", "verification code",
    "security code", "tan", "mtan", "smstan", "pushtan", "bestätigungscode", "sicherheitscode",
    "code de vérification", "code de verification", "code de sécurité", "passcode", "authentication code",
    "login code",
)  # fmt: skip
#: How far before the code a context word may lie.
CONTEXT_WINDOW = 40
MIN_DIGITS, MAX_DIGITS = 4, 8

PATTERNS = [
    ("digits", r"\b[0-9]{4}"),
]
_CONTEXT = ContextWords(CONTEXT)
#: Patterns whose validate() rejects every span without a context word in the window before it
#: (pattern name -> words, window); their spans keep the candidate's start. The scanner skips
#: their candidates when no such word can be near (see ``_scanner``).
REQUIRES_CONTEXT = {"digits": (_CONTEXT, CONTEXT_WINDOW)}


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The whole digit run (the scanner reports its first four digits)."""
    return [(start, run_end(text, end, DIGITS))]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed for an isolated 4-8 digit run with a context word before it; else rejected."""
    if not MIN_DIGITS <= end - start <= MAX_DIGITS or not isolated(text, start, end, glue="-_/", digit_glue=".,:"):
        return Validation.REJECTED
    return Validation.CONFIRMED if has_context(text, start, _CONTEXT, CONTEXT_WINDOW) else Validation.REJECTED


def find(text: str) -> list[Finding]:
    """Return one-time codes (with a label before them) in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
