"""A pre-check for libphonenumber's ``EXACT_GROUPING``, from the numbering metadata alone.

The phone detector asks ``PhoneNumberMatcher`` at leniency ``EXACT_GROUPING`` whether a national
number without a trunk prefix (``(212) 555-0123``) is written the way its region writes
numbers. Most candidates on real pages are CSS and SVG numbers (``95.83333333``,
``624-14 16.074``) that fail that test, and parsing them costs 40-100 µs each. This module
decides most of them in about a microsecond, and never differently from the library:
:func:`may_be_exactly_grouped` returns ``False`` only when the library's check must fail.

The library's check (``phonenumbermatcher._all_number_groups_are_exactly_present``), for the
digit groups ``g`` of the candidate (split at non-digits) and the groups ``f`` of the number
formatted in RFC 3966 by the region's format that fits the whole number (or by an alternate
format of its country code, which may not fit: then only ``f``'s last group is bounded, from
below):

1. one candidate group, or a last group holding the whole national number: pass (the national
   number is the tail of the digits, so the groups before it hold only digits that parsing
   drops: the country code written without ``+``, the national prefix);
2. else the last ``len(f) - 1`` candidate groups equal ``f[1:]``, and the group before them
   ends with ``f[0]``.

So, with only the lengths of ``f`` known per format (:func:`format_groups`), a candidate must
have one group, or a last group at least as long as the shortest national number of the
country code after groups that parsing may drop, or a group sequence whose tail fits some
format's lengths. A candidate starting
with the region's international prefix (``00``, ``011``) belongs to another country code and
is not pre-checked.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from phonenumbers.phonenumbermatcher import _ALT_NUMBER_FORMATS

__all__ = ["format_groups", "may_be_exactly_grouped"]

#: Lengths of the digit groups of one format: ``((low, high), ...)`` per group, in order.
Shape = tuple[tuple[int, int], ...]

_FORMAT_GROUP = re.compile(r"\(\\d(?:\{(\d+)(?:,(\d+))?\})?\)")
_FORMAT_SEPARATOR = re.compile(r"[^$\\0-9]+")
_FORMAT_REFS = re.compile(r"(?:[$\\][0-9])+")
_NON_DIGITS = re.compile(r"[^0-9]+")
_UNBOUNDED = 1 << 16
_KEEP_DIGITS = {cp: None for cp in range(128) if not 48 <= cp <= 57}


def format_groups(pattern: str, fmt: str) -> Shape | None:
    """Digit count ranges of the groups a number format writes, or ``None`` if not understood.

    ``pattern`` must be digit groups only (``(\\d{3})(\\d{3,4})``); ``fmt`` (``$1 $2``,
    ``\\1-\\2``, ``($1) $2-$3``) is cut at its separators, as RFC 3966 formatting turns each run
    of separators into one ``-``; each piece is one or more group references.
    """
    groups = _FORMAT_GROUP.findall(pattern)
    if "".join(m.group() for m in _FORMAT_GROUP.finditer(pattern)) != pattern:
        return None
    pieces = _FORMAT_SEPARATOR.split(fmt)
    if pieces[-1] == "":
        return None  # ends with a separator (or is no format at all)
    out: list[tuple[int, int]] = []
    for piece in pieces:
        if not piece:
            continue  # before a leading "(": RFC 3966 formatting drops leading separators
        if not _FORMAT_REFS.fullmatch(piece):
            return None
        lo = hi = 0
        for ref in piece[1::2]:
            index = int(ref) - 1
            if not 0 <= index < len(groups):
                return None
            low, high = groups[index]
            lo += int(low or 1)
            hi += int(high or low or 1)
        out.append((lo, hi))
    return tuple(out) or None


def _shortest_number(region: str) -> int:
    """Fewest digits of a valid national number of ``region`` (1 when a description has no lengths)."""
    md = phonenumbers.PhoneMetadata.metadata_for_region(region)
    descs = [d for d in (md.general_desc, md.fixed_line, md.mobile, md.toll_free, md.premium_rate, md.shared_cost,
                         md.personal_number, md.voip, md.pager, md.uan, md.voicemail) if d is not None]
    return min((min(d.possible_length) if d.possible_length else 1 for d in descs), default=1)


class _Region(NamedTuple):
    #: per format of the country code: its group lengths, and the pattern the national number
    #: must start with for the format to be used (``None``: any)
    shapes: tuple[tuple[Shape, re.Pattern[str] | None], ...]
    shortest: int  # digits of the shortest national number of the country code
    strippable: frozenset[str]  # digits parse() may drop before the national number
    international: re.Pattern[str]  # the region's international call prefix


_PREFIX_ALTERNATIVES = re.compile(r"[0-9]+(?:\|[0-9]+)*")


@lru_cache(maxsize=None)
def _region(region: str) -> _Region | None:
    """What the pre-check needs about ``region``; ``None`` when its metadata holds something the
    pre-check does not model (a format it cannot read, a national prefix that is a pattern)."""
    md = phonenumbers.PhoneMetadata.metadata_for_region(region)
    cc = md.country_code
    parsing = md.national_prefix_for_parsing or ""
    if md.national_prefix_transform_rule or (parsing and not _PREFIX_ALTERNATIVES.fullmatch(parsing)):
        return None
    # parse() may drop the country code written without "+" and then a national prefix.
    strippable = frozenset(a + b for a in ("", str(cc)) for b in ("", *parsing.split("|")))
    main = phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(cc))
    shapes: dict[tuple[Shape, str], re.Pattern[str] | None] = {}
    alternates = tuple(_ALT_NUMBER_FORMATS.get(cc) or ())
    for f in (*main.number_format, *main.intl_number_format, *alternates):
        if f.format == "NA":
            continue  # "not formatted this way": writes no digit groups, so never passes step 2
        shape = format_groups(f.pattern, f.format)
        if shape is None:
            return None
        leading = ""
        if f in alternates:
            # The matcher applies an alternate format without checking that it fits the whole
            # number (an unanchored substitution): digits it leaves over join the last group,
            # and a long number is formatted piece by piece. Only "the last group has at least
            # the last piece's digits" holds. The matcher does check its leading digits.
            shape = ((shape[-1][0], _UNBOUNDED),)
            leading = f.leading_digits_pattern[0] if f.leading_digits_pattern else ""
        elif f.leading_digits_pattern:  # the formatter picks a format by its last one
            leading = f.leading_digits_pattern[-1]
        shapes[(shape, leading)] = re.compile(leading) if leading else None
    shortest = min(_shortest_number(r) for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc])
    return _Region(tuple((shape, rx) for (shape, _), rx in shapes.items()), shortest, strippable,
                   re.compile(md.international_prefix))


def _fits(groups: list[str], shape: Shape) -> bool:
    """Step 2 of the module docstring with lengths only: the tail of ``groups`` fits ``shape``."""
    k = len(shape)
    if len(groups) < k:
        return False
    for i in range(1, k):  # the last k - 1 groups, exactly
        lo, hi = shape[i]
        if not lo <= len(groups[len(groups) - k + i]) <= hi:
            return False
    return len(groups[-k]) >= shape[0][0]  # ends with the first formatted group


def may_be_exactly_grouped(value: str, region: str) -> bool:
    """False when ``value`` cannot pass ``EXACT_GROUPING`` as a number of ``region``.

    ``value`` holds ASCII digits and ``()./ -`` only (no extension). ``95.83333333`` for US:
    two groups, the last of 8 digits, and every US format ends with 4 -> ``False``.
    """
    known = _region(region)
    if known is None:
        return True
    digits = value.translate(_KEEP_DIGITS)
    if known.international.match(digits):
        return True  # another country's number after 00 / 011
    groups = _NON_DIGITS.split(value)
    if len(groups) == 1:
        return True  # step 1
    # Step 1, a last group holding the whole national number: the number is the digits' tail,
    # so every digit of the groups before it is one parse() drops (country code, prefix).
    before = "".join(groups[:-1])
    if len(groups[-1]) >= known.shortest and any(s.startswith(before) for s in known.strippable):
        return True
    # Step 2: the national number is the digits less what parse() may drop in front.
    numbers = [digits[len(s):] for s in known.strippable if digits.startswith(s)]
    return any(_fits(groups, shape) and (leading is None or any(leading.match(n) for n in numbers))
               for shape, leading in known.shapes)
