"""IP address detector: IPv4 dotted quads and IPv6, validated by :mod:`ipaddress`.

IPv4: four decimal octets 0-255 without leading zeros, not part of a longer dotted run
(``1.2.3.4.5`` is a version string, ``v1.2.3.4`` a tag) and not touching a letter or digit.
A sentence may end right after it (``... from 10.0.0.1.``). The dotted tail of an IPv6
address (``::ffff:192.0.2.128``) belongs to the IPv6 finding.

IPv6: a run of hex digits, colons and dots with at least two colons that :mod:`ipaddress`
accepts (full, ``::``-compressed, or with an embedded IPv4 tail). A trailing ``.`` or ``:``
of the run is not part of the address. The bare ``::`` is not reported; times (``10:30:00``)
and MAC addresses (``00:1A:2B:3C:4D:5E``) are not valid IPv6.

Both are confirmed: the grammar is the whole definition, there is no checksum to add.
"""

from __future__ import annotations

import ipaddress
import re

from . import _scanner
from ._finding import Finding, Validation
from ._util import is_alnum, is_digit

KIND = "ip"
VALIDATOR = "ipaddress"
CONTEXT = ("ip", "ip address", "ipv4", "ipv6", "host", "client")

PATTERNS = [
    ("ipv4", r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"),
    # Two colons with up to 4 hex digits before each: every IPv6 form has that ("::1",
    # "fe80::", "2001:db8:"); spans() takes the whole run of hex digits, colons and dots.
    ("ipv6", r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:"),
]

#: An address has a candidate at every pair of colons; spans() reads the same run of hex digits,
#: colons and dots from each, so overlapping candidates are handed over as one region.
MERGE_OVERLAPS = frozenset({"ipv6"})

_V6_CHARS = frozenset("0123456789abcdefABCDEF:.")
_V6_BEFORE = re.compile(r"[0-9A-Fa-f]*:[0-9A-Fa-f:]*:$")


#: Longest textual IPv6 address (RFC 4291 §2.2 with an IPv4 tail): 45 characters.
_V6_MAX = 45


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """IPv6: the whole run of hex digits, colons and dots, less trailing dots and single colons."""
    if pattern == "ipv6":
        # Expand over at most _V6_MAX characters each way: a longer run is no address, and bounding
        # the walk keeps a hostile run of "::::" linear instead of quadratic.
        lo, hi = max(0, start - _V6_MAX), min(len(text), end + _V6_MAX)
        s = start
        while s > lo and text[s - 1] in _V6_CHARS:
            s -= 1
        e = end
        while e < hi and text[e] in _V6_CHARS:
            e += 1
        if (s == lo and lo > 0 and text[lo - 1] in _V6_CHARS) or (e == hi and hi < len(text) and text[hi] in _V6_CHARS):
            return []
        start, end = s, e
        while end > start and (text[end - 1] == "." or (text[end - 1] == ":" and text[end - 2 : end] != "::")):
            end -= 1
        if end - start > _V6_MAX:
            return []
    return [(start, end)] if end > start else []


def _v4_ok(text: str, start: int, end: int) -> bool:
    if start > 0 and (is_alnum(text[start - 1]) or text[start - 1] == "."):
        return False
    if _V6_BEFORE.search(text, max(0, start - 40), start):  # the IPv4 tail of an IPv6 address
        return False
    if end < len(text) and (is_alnum(text[end]) or (text[end] == "." and end + 1 < len(text) and is_digit(text[end + 1]))):
        return False
    try:
        addr = ipaddress.IPv4Address(text[start:end])
    except ValueError:
        return False
    return not (addr.is_loopback or addr.is_unspecified)  # 127.0.0.1 and 0.0.0.0 name no one


def _v6_ok(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if value == "::" or (start > 0 and is_alnum(text[start - 1])):
        return False
    # RFC 4291 2.2: without "::" an address writes all 8 groups, 7 colons (6 before an IPv4 tail);
    # times (10:30:00) and MAC addresses (5 colons) are turned away before ipaddress parses them.
    if "::" not in value and value.count(":") < 6:
        return False
    if end < len(text) and is_alnum(text[end]):
        return False
    try:
        addr = ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return not (addr.is_loopback or addr.is_unspecified)


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed when :mod:`ipaddress` accepts the isolated span and it is not loopback or unspecified."""
    ok = _v4_ok(text, start, end) if pattern == "ipv4" else _v6_ok(text, start, end)
    return Validation.CONFIRMED if ok else Validation.REJECTED


def find(text: str) -> list[Finding]:
    """Return IPv4 and IPv6 addresses in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
