"""IBAN detector: ISO 13616 shape, registry length per country, ISO 7064 mod-97 check.

Accepted forms: compact (``DE89370400440532013000``) or with single spaces anywhere after the
check digits (``GB82 WEST 1234 5698 7654 32``), upper or lower case. The IBAN must start and
end at a token boundary (no letter or digit directly before or after it). For a country in
:data:`LENGTHS` the IBAN has exactly that many characters; for an unknown country code only a
compact token of 15-34 characters is accepted.
"""

from __future__ import annotations

import re
from functools import lru_cache

from . import _scanner
from ._finding import Finding, Validation

KIND = "iban"
VALIDATOR = "mod97"
CONTEXT = ("iban", "account", "bank", "konto", "rekening")

#: IBAN length per country code (SWIFT IBAN registry).
LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
MIN_LEN, MAX_LEN = 15, 34

PATTERNS = [
    # Country code, check digits, then 11-30 more letters or digits (one space or dash allowed
    # before each) and a character that is no letter or digit, or the end: every IBAN of
    # 15-34 characters that ends at a token boundary has this shape (grouped or compact), and
    # most runs of base64 or hex on a page do not. spans() reads the IBAN itself (_match_at).
    ("spaced", r"[A-Za-z]{2}[0-9]{2}(?:[ \-]?[A-Za-z0-9]){11,30}(?:[^A-Za-z0-9]|$)"),
]
_START = re.compile(r"(?<![0-9])[A-Za-z]{2}[0-9]{2}(?=[ \-]?[A-Za-z0-9])")
_COMPACT_TAIL = re.compile(r"[A-Za-z0-9]*")


#: ISO 7064 / ISO 13616 letter values: ``A`` -> ``10`` ... ``Z`` -> ``35`` (digits stay).
_MOD97_VALUES = {ord(c): str(int(c, 36)) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def mod97_ok(iban: str) -> bool:
    """True when the compact IBAN (any case) passes the ISO 7064 mod-97-10 check.

    ISO 13616-1: move the first four characters to the end, replace each letter by two digits
    (``A`` = 10 ... ``Z`` = 35), and the integer must be 1 modulo 97.
    """
    s = (iban[4:] + iban[:4]).upper()
    if not s.isascii() or not s.isalnum():
        return False
    return int(s.translate(_MOD97_VALUES)) % 97 == 1


@lru_cache(maxsize=None)
def _characters(want: int) -> re.Pattern[str]:
    return re.compile(rf"(?:[ \-]?[A-Za-z0-9]){{{want}}}")


def _collect(text: str, pos: int, want: int) -> int | None:
    """Read ``want`` alphanumerics from ``pos``, allowing one space or dash before each; return the end."""
    m = _characters(want).match(text, pos)
    return m.end() if m else None


def _at_boundary(text: str, end: int) -> bool:
    return end == len(text) or not (text[end].isascii() and text[end].isalnum())


def _match_at(text: str, start: int) -> int | None:
    country = text[start : start + 2].upper()
    length = LENGTHS.get(country)
    if length is not None:
        end = _collect(text, start + 4, length - 4)
        if end is None or not _at_boundary(text, end):
            return None
        return end if mod97_ok(text[start:end].replace(" ", "").replace("-", "")) else None
    tail = _COMPACT_TAIL.match(text, start + 4)
    end = tail.end() if tail else start + 4
    if not MIN_LEN <= end - start <= MAX_LEN or not _at_boundary(text, end):
        return None
    return end if mod97_ok(text[start:end]) else None


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """IBANs starting inside a candidate run: the first that validates at each start, then after it."""
    out: list[tuple[int, int]] = []
    pos = start
    while True:
        m = _START.search(text, pos, end)
        if m is None:
            return out
        iban_end = _match_at(text, m.start())
        if iban_end is None:
            pos = m.start() + 1
            continue
        out.append((m.start(), iban_end))
        pos = iban_end


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed: :func:`spans` only returns IBANs of the registry length with a valid mod-97 check."""
    return Validation.CONFIRMED if mod97_ok(text[start:end].replace(" ", "").replace("-", "")) else Validation.REJECTED


def find(text: str) -> list[Finding]:
    """Return mod-97-valid IBANs in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
