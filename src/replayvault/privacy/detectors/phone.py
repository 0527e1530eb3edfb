"""Phone number detector backed by Google's libphonenumber (the ``phonenumbers`` package).

Candidates (one scanner pattern each):

* ``intl``: ``+`` and a country code, anywhere: ``+49 30 901820``, ``+1 (212) 555-0123``.
* ``national``: digit groups with separators (space, dot, slash, dash, parentheses), as the
  regions in :data:`DEFAULT_REGIONS` write them: ``030 901820``, ``(212) 555-0123``,
  ``06 12 34 56 78``, ``0049 30 901820``.
* ``trunk``: a bare run starting with the trunk prefix 0: ``0301234567``.

A candidate's prefixes that end after a digit group are tried, longest first (a number may be
followed by another: ``(201) 555-0123 48213``). A prefix is checked as ``PhoneNumberMatcher``
would check it (international numbers once, national ones for each region of
:data:`DEFAULT_REGIONS` whose numbering plan fits the digits), after cheap filters; together
they keep look-alikes out:

* 7 to 15 digits; bare runs without ``+`` or a leading 0 are never candidates (13-digit
  millisecond timestamps, order numbers);
* not shaped like a date (``2026-11-29``, ``29.11.2026``), an IPv4 address or a dotted amount
  (``1.234.567``); amounts with a decimal comma or point split into short groups;
* no letter or digit touching the number, also not through ``-``, ``_``, ``/`` or ``.``
  (``ORD-2026-000123``, ``SKU-4711-XL``);
* leniency ``VALID`` is enough for ``+`` numbers and for national numbers that start with
  the trunk prefix 0 and use spaces, dots, slashes or parentheses (``030 90 18 20``);
  national numbers without a trunk prefix (US, ES, IT mobiles), and any written with dashes
  only, must also follow the region's grouping (leniency ``EXACT_GROUPING``): ``2026-000123``
  is a valid US number but not written as one, ``666-12-3456`` is not a Spanish format;
* a bare trunk-prefixed run needs at least :data:`MIN_BARE_DIGITS` digits.

Cost: libphonenumber takes 40-100 µs per question, and most candidates on real pages are
stylesheet and SVG numbers. So a candidate glued to a letter or digit on its left is dropped
before any prefix is checked (validation would reject it anyway); ``EXACT_GROUPING`` is
pre-checked from the metadata (:mod:`._phone_grouping`); and the verdicts are kept in candidate
caches (:func:`~._cache.candidate_cache`), since the same numbers recur on every page.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher
from phonenumbers.phonenumbermatcher import _verify

from . import _scanner
from ._finding import Finding, Validation
from ._phone_grouping import may_be_exactly_grouped
from ._cache import candidate_cache
from ._util import is_alnum, isolated

KIND = "phone"
VALIDATOR = "phonenumbers"
CONTEXT = ("phone", "tel", "telephone", "mobile", "cell", "fax", "telefon", "handy", "téléphone", "portable")
#: Regions whose national formats are recognised (international numbers are found for any).
DEFAULT_REGIONS: tuple[str, ...] = ("DE", "FR", "GB", "US", "ES", "IT", "NL", "CH", "AT")
MIN_DIGITS, MAX_DIGITS = 7, 15
#: A bare trunk-prefixed run needs this many digits (9-digit runs are routing or account numbers).
MIN_BARE_DIGITS = 10

PATTERNS = [
    ("intl", r"\+[0-9][0-9 ()./\-]{5,24}[0-9]"),
    ("national", r"(?:\(|\b)[0-9]{2,5}\)?(?:[ ./\-]{1,2}\(?[0-9]{1,10}\b\)?){1,5}"),
    ("trunk", r"\b0[1-9][0-9]{5,12}"),
]
_GLUE = "-_/."
_GROUP_END = re.compile(r"[0-9]\)?(?![0-9])")
#: A national-looking candidate right after ``+`` or ``+1 `` is the tail of an international number.
_COUNTRY_CODE_BEFORE = re.compile(r"\+[0-9]{0,4}[ ./\-]?\(?$")
_NOT_PHONE = re.compile(
    r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}"  # ISO date
    r"|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{2,4}"  # day.month.year
    r"|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"  # IPv4 address
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+"  # amount with thousands dots
)


_KEEP_DIGITS = {cp: None for cp in range(128) if not 48 <= cp <= 57}


def _digits(value: str) -> int:
    return len(value.translate(_KEEP_DIGITS))


def _leniency(value: str) -> Leniency:
    """``VALID`` for ``+`` numbers and trunk-prefixed ones with spaces/dots/slashes; else ``EXACT_GROUPING``."""
    if value.startswith("+"):
        return Leniency.VALID
    trunk = value.lstrip("(").startswith("0")
    dash_only = "-" in value and not any(ch in value for ch in " ./()")
    return Leniency.VALID if trunk and not dash_only else Leniency.EXACT_GROUPING


@lru_cache(maxsize=None)
def _national_shape(region: str) -> tuple[str, frozenset[int], re.Pattern[str]]:
    """Trunk prefix, possible lengths and pattern of a region's national significant numbers (metadata)."""
    md = phonenumbers.PhoneMetadata.metadata_for_region(region)
    desc = md.general_desc
    return md.national_prefix or "", frozenset(desc.possible_length), re.compile(desc.national_number_pattern)


@candidate_cache
def _plausible_regions(value: str, regions: tuple[str, ...]) -> tuple[str, ...]:
    """Regions whose numbering plan can hold these digits (a cheap test before the library).

    ``+`` or ``00`` (international prefix): the first region parses it. Otherwise a region with
    a trunk prefix needs the number to start with it (national format always writes it), and
    the rest must have one of the region's lengths and fit its national number pattern.
    """
    digits = value.translate(_KEEP_DIGITS)
    if value.startswith("+") or digits.startswith("00"):
        return regions[:1]
    out = []
    for region in regions:
        prefix, lengths, pattern = _national_shape(region)
        if prefix and digits.startswith(prefix):
            nsn = digits[len(prefix) :]
        elif prefix == "0":
            continue
        else:
            nsn = digits
        if len(nsn) in lengths and pattern.fullmatch(nsn):
            out.append(region)
    return tuple(out)


@lru_cache(maxsize=None)
def _grouping_stub(region: str) -> PhoneNumberMatcher:
    """An idle matcher for ``region``: ``_verify`` takes one for the alternate-formats lookup (no state used)."""
    return PhoneNumberMatcher("", region, leniency=Leniency.EXACT_GROUPING)


def _parses_and_verifies(value: str, region: str, leniency: Leniency) -> bool:
    """``parse(value, region)`` then the matcher's verification step at ``leniency`` (no candidate search)."""
    try:
        number = phonenumbers.parse(value, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return False
    return bool(_verify(leniency, number, value, _grouping_stub(region)))


@candidate_cache
def _verified(value: str, regions: tuple[str, ...]) -> bool:
    """True when ``value`` as a whole is a number PhoneNumberMatcher would accept for one of ``regions``.

    Leniency ``VALID`` needs no grouping, so the value is parsed and put through the matcher's
    own verification step (``phonenumbermatcher._verify``: valid number, only valid extension
    characters, national prefix present where the region requires it); that skips the
    matcher's candidate search, 5-10x the cost. ``EXACT_GROUPING`` runs the matcher itself,
    but only after the same parse-and-verify step passed: a match of the whole value is the
    matcher's ``_parse_and_verify(value)`` succeeding (an inner match never spans the whole
    value), so a failed step is the matcher's "no" at 1/3 to 1/8 of its cost; and before that
    step, :func:`~._phone_grouping.may_be_exactly_grouped` rejects most look-alikes (CSS and
    SVG numbers) from the metadata alone.
    """
    leniency = _leniency(value)
    for region in regions:
        if leniency is not Leniency.VALID and not may_be_exactly_grouped(value, region):
            continue
        if not _parses_and_verifies(value, region, leniency):
            continue
        if leniency is Leniency.VALID:
            return True
        if any(m.start == 0 and m.end == len(value) for m in PhoneNumberMatcher(value, region, leniency=leniency)):
            return True
    return False


def _start_isolated(text: str, start: int) -> bool:
    """The left half of :func:`~._util.isolated` with :data:`_GLUE`: nothing glued before ``start``."""
    if start == 0:
        return True
    before = text[start - 1]
    if is_alnum(before):
        return False
    return not (start > 1 and before in _GLUE and is_alnum(text[start - 2]))


@candidate_cache
def _longest_number(value: str, regions: tuple[str, ...]) -> int:
    """Length of the longest prefix of ``value`` that is a phone number of ``regions`` (0: none).

    Only prefixes that end after a digit group are tried, longest first; a prefix is checked
    (:func:`_verified`) only when it passes the cheap filters and fits a region's numbering plan.
    Depends on its arguments alone, so it is cached (page text repeats: CSS, SVG paths, footers).
    """
    for cut in sorted({m.end() for m in _GROUP_END.finditer(value)}, reverse=True):
        prefix = value[:cut]
        digits = _digits(prefix)
        if digits < MIN_DIGITS:
            break
        if digits > MAX_DIGITS or _NOT_PHONE.fullmatch(prefix):
            continue
        plausible = _plausible_regions(prefix, regions)
        if plausible and _verified(prefix, plausible):
            return cut
    return 0


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The longest prefix of a candidate that is a phone number (:func:`_longest_number`).

    A candidate may run on into the next number (``(201) 555-0123 48213``). A national
    candidate right after ``+`` or ``+1`` is the tail of an international one. A candidate
    glued to a letter or digit on its left gives nothing: :func:`validate` would reject every
    prefix of it (same start), so the numbering-plan checks are skipped (half the candidates
    of page text: SVG path data such as ``M12.02-4.386-3.54``).
    """
    if not _start_isolated(text, start):
        return []
    if pattern != "intl" and _COUNTRY_CODE_BEFORE.search(text, max(0, start - 6), start):
        return []
    cut = _longest_number(text[start:end], DEFAULT_REGIONS)
    return [(start, start + cut)] if cut else []


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed when the span is isolated, not date- or amount-shaped and a valid number."""
    value = text[start:end]
    if not isolated(text, start, end, glue=_GLUE) or _COUNTRY_CODE_BEFORE.search(text, max(0, start - 6), start):
        return Validation.REJECTED
    if not MIN_DIGITS <= _digits(value) <= MAX_DIGITS or _NOT_PHONE.fullmatch(value):
        return Validation.REJECTED
    if pattern == "trunk" and _digits(value) < MIN_BARE_DIGITS:
        return Validation.REJECTED
    regions = _plausible_regions(value, DEFAULT_REGIONS)
    return Validation.CONFIRMED if regions and _verified(value, regions) else Validation.REJECTED


def find(text: str) -> list[Finding]:
    """Return phone numbers in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
