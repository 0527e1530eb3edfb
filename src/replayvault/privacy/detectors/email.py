"""E-mail address detector (pattern only; there is no checksum to validate).

The scanner finds an ``@`` followed by a domain character; :func:`spans` reads the address
around it: the local part starts at a run boundary, the domain is labels separated by dots
ending in an alphabetic TLD of 2+ letters, and no letter, digit or dash follows.
"""

from __future__ import annotations

import re

from . import _scanner
from ._finding import Finding, Validation
from ._util import run_end, run_start

KIND = "email"
VALIDATOR = "none"
CONTEXT = ("email", "e-mail", "mail", "contact")

PATTERNS = [
    # The "@" and the first domain character; spans() reads the address around it.
    ("addr", r"@[A-Za-z0-9\-]"),
]

# Local part starts at a run boundary (the lookbehind keeps the scan linear: one attempt per run).
_ADDR = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,63}"
    r"(?![A-Za-z0-9\-])"
)


_LOCAL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_DOMAIN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-")


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The address around an ``@``: local-part run before it, domain run after it, cut by the full regex.

    The region ends where the run of domain characters ends, so the closing lookahead sees
    the same verdict at its end as it would in the whole text.
    """
    region_start = run_start(text, start, _LOCAL_CHARS)
    region_end = run_end(text, start + 1, _DOMAIN_CHARS)
    return [m.span() for m in _ADDR.finditer(text, region_start, region_end)]


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """No checksum exists: a span that :func:`spans` cut out keeps the pattern's verdict."""
    return Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return the e-mail addresses in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
