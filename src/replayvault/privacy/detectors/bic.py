"""BIC / SWIFT code detector (ISO 9362), with a rule that keeps ordinary capitals out.

Shape: 4 letters (institution), 2 letters (an ISO 3166 country that exists, or ``XK``),
2 letters or digits (location), optionally 3 letters or digits (branch); 8 or 11 characters,
all capitals, with no ASCII letter or digit directly before or after. The shape and the
country are checked by python-stdnum's ``stdnum.bic``.

Upper-case words of 8 or 11 letters often have that shape (``CUSTOMER`` is CUST-OM-ER, and
OM is Oman), so a BIC is reported only when one of these holds:

* a context word (``BIC``, ``SWIFT``) ends within :data:`CONTEXT_WINDOW` characters before it
  -> confirmed;
* its location code contains a digit (``ABNABE2A``), which words do not have -> unknown.

Otherwise it is not reported.
"""

from __future__ import annotations

from stdnum import bic as _stdnum_bic

from . import _scanner
from ._finding import Finding, Validation
from ._cache import candidate_cache
from ._util import ALNUM, ContextWords, has_context, isolated, run_end

KIND = "bic"
VALIDATOR = "iso9362"
CONTEXT = ("bic", "swift", "swift code", "bic code", "swift/bic")
#: How far before the code a context word may end.
CONTEXT_WINDOW = 30

PATTERNS = [
    # 6 capitals and 2 capitals or digits at a word start; spans() takes the whole token.
    ("code", r"\b[A-Z]{6}[A-Z0-9]{2}"),
]
_CONTEXT = ContextWords(CONTEXT)
_iso9362_ok = candidate_cache(_stdnum_bic.is_valid)


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The whole token of letters and digits (validate() wants 8 or 11 characters)."""
    return [(start, run_end(text, end, ALNUM))]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed with a context word, unknown with a digit in the location code, else rejected."""
    code = text[start:end]
    if len(code) not in (8, 11) or not isolated(text, start, end):
        return Validation.REJECTED
    # Cheap tests first: without a digit in the location code a context word is needed, and
    # most capitalised words have neither; stdnum's check runs on what is left.
    digit = any(ch.isdigit() for ch in code[6:8])
    context = has_context(text, start, _CONTEXT, CONTEXT_WINDOW)
    if not (digit or context) or not _iso9362_ok(code):
        return Validation.REJECTED
    return Validation.CONFIRMED if context else Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return BIC codes in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
