"""E-mail address detector (pattern only; there is no checksum to validate)."""

from __future__ import annotations

import re

from ._finding import Finding, Validation

KIND = "email"
VALIDATOR = "none"
CONTEXT = ("email", "e-mail", "mail", "contact")

# Local part starts at a run boundary (the lookbehind keeps the scan linear: one attempt per run).
# Domain: labels separated by dots, ending in an alphabetic TLD of 2+ letters.
PATTERNS = {
    "addr": re.compile(
        r"(?<![A-Za-z0-9._%+\-])"
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,63}"
        r"(?![A-Za-z0-9\-])"
    ),
}


def find(text: str) -> list[Finding]:
    """Return the e-mail addresses in ``text`` as findings (offsets only)."""
    if "@" not in text:
        return []
    out: list[Finding] = []
    for name, rx in PATTERNS.items():
        for m in rx.finditer(text):
            out.append(Finding(KIND, m.start(), m.end(), VALIDATOR, Validation.UNKNOWN, name))
    return out
