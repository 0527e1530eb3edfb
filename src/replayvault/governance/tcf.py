"""IAB TCF v2 TC strings: decode the core segment and decide whether recording is allowed.

A page's CMP hands the browser tracker a TC string (``__tcfapi('addEventListener', 2, cb)``); the
consent ledger passes it to :func:`decode`, then asks :func:`decide` whether the purposes replayvault
needs have consent. Only the core segment (the first ``.``-separated segment) is decoded; the
disclosed-vendors, allowed-vendors and publisher-TC segments are ignored.

Format: IAB Tech Lab, "Transparency & Consent String and Global Vendor List Format" v2, section
"The core string" —
https://github.com/InteractiveAdvertisingBureau/GDPR-Transparency-and-Consent-Framework/blob/master/TCFv2/IAB%20Tech%20Lab%20-%20Consent%20string%20and%20vendor%20list%20formats%20v2.md
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from replayvault.errors import InvalidInput

__all__ = ["DEFAULT_PURPOSES", "MAX_RESTRICTED_VENDOR_IDS", "MAX_TC_STRING", "PURPOSE_NAMES", "InvalidTCString",
           "PublisherRestriction", "RestrictionType", "TCString", "TcfDecision", "decide", "decode"]

#: Longest TC string (all segments, in characters) accepted; longer input is refused before decoding.
#: Real strings with a full bitfield for ~1,000 vendors are under 1,000 characters.
MAX_TC_STRING = 20_000

#: Cap on the vendor ids all publisher restrictions of one string may expand to (after merging
#: overlapping ranges per restriction). Each vendor section is bounded by MaxVendorId (16 bits).
MAX_RESTRICTED_VENDOR_IDS = 1 << 18

#: TCF v2.2 Policies, Appendix A: the 11 purposes (names as in the policy).
PURPOSE_NAMES: dict[int, str] = {
    1: "Store and/or access information on a device",
    2: "Use limited data to select advertising",
    3: "Create profiles for personalised advertising",
    4: "Use profiles to select personalised advertising",
    5: "Create profiles to personalise content",
    6: "Use profiles to select personalised content",
    7: "Measure advertising performance",
    8: "Measure content performance",
    9: "Understand audiences through statistics or combinations of data from different sources",
    10: "Develop and improve services",
    11: "Use limited data to select content",
}

DEFAULT_PURPOSES: tuple[int, ...] = (1, 8, 10)
"""Purposes a session recording needs, from TCF v2.2 Policies Appendix A: purpose 1 "Store and/or
access information on a device" (the tracker keeps a session id in storage), purpose 8 "Measure
content performance" (heatmaps, scroll depth, funnels) and purpose 10 "Develop and improve services"
(UX teams replay sessions to improve the web app)."""

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_MAX_ID = 0xFFFF  # vendor ids are 16-bit


class InvalidTCString(InvalidInput):
    """A TC string is not a well-formed TCF v2 core segment; the message never echoes the string."""


class RestrictionType(IntEnum):
    """PubRestrictionEntry RestrictionType (2 bits); 3 is "undefined" in the spec, kept as decoded."""

    NOT_ALLOWED = 0  #: purpose flatly not allowed by publisher
    REQUIRE_CONSENT = 1
    REQUIRE_LEGITIMATE_INTEREST = 2
    UNDEFINED = 3


@dataclass(frozen=True)
class PublisherRestriction:
    """One PubRestrictionEntry: the publisher restricts ``purpose_id`` for ``vendor_ids``."""

    purpose_id: int
    restriction_type: RestrictionType
    vendor_ids: frozenset[int]


@dataclass(frozen=True)
class TCString:
    """Every field of a TCF v2 core segment (spec names in snake_case); times in epoch milliseconds.

    Purpose, special-feature and vendor fields are the sets of 1-based ids whose bit is set.
    """

    version: int
    created_ms: int
    last_updated_ms: int
    cmp_id: int
    cmp_version: int
    consent_screen: int
    consent_language: str
    vendor_list_version: int
    tcf_policy_version: int
    is_service_specific: bool
    use_non_standard_texts: bool
    special_feature_opt_ins: frozenset[int]
    purposes_consent: frozenset[int]
    purposes_li_transparency: frozenset[int]
    purpose_one_treatment: bool
    publisher_cc: str
    vendor_consents: frozenset[int]
    vendor_legitimate_interests: frozenset[int]
    publisher_restrictions: tuple[PublisherRestriction, ...]


class _Bits:
    """Reads big-endian unsigned fields from the decoded core segment, naming the field on truncation."""

    def __init__(self, data: bytes) -> None:
        self._bits = format(int.from_bytes(data, "big"), f"0{len(data) * 8}b") if data else ""
        self._pos = 0

    def take(self, n: int, field: str) -> str:
        end = self._pos + n
        if end > len(self._bits):
            raise InvalidTCString(f"TC string core segment is truncated at field {field!r}")
        chunk, self._pos = self._bits[self._pos:end], end
        return chunk

    def uint(self, n: int, field: str) -> int:
        return int(self.take(n, field), 2)

    def flag(self, field: str) -> bool:
        return self.take(1, field) == "1"

    def ids(self, n: int, field: str) -> frozenset[int]:
        """An n-bit field where bit i (0-based, left to right) set means id i + 1."""
        return frozenset(i + 1 for i, bit in enumerate(self.take(n, field)) if bit == "1")

    def letters(self, field: str) -> str:
        codes = (self.uint(6, field), self.uint(6, field))
        if max(codes) > 25:
            raise InvalidTCString(f"TC string field {field!r} holds a letter code above 25 ('Z')")
        return "".join(chr(ord("A") + c) for c in codes)


def _core_bytes(tc_string: str) -> bytes:
    if not isinstance(tc_string, str):
        raise InvalidTCString("TC string must be text")
    if len(tc_string) > MAX_TC_STRING:
        raise InvalidTCString(f"TC string is longer than {MAX_TC_STRING} characters")
    core = tc_string.split(".", 1)[0]
    if not core:
        raise InvalidTCString("TC string is empty")
    if not _BASE64URL.fullmatch(core):
        raise InvalidTCString("TC string is not base64url")
    core = core.rstrip("=")
    try:
        return base64.urlsafe_b64decode(core + "=" * (-len(core) % 4))
    except (binascii.Error, ValueError):
        raise InvalidTCString("TC string is not base64url") from None


def _ranges(bits: _Bits, field: str, upper: int) -> list[tuple[int, int]]:
    """A range section: NumEntries (12), each IsARange (1), StartOrOnlyVendorId (16), [EndVendorId (16)]."""
    out: list[tuple[int, int]] = []
    for _ in range(bits.uint(12, field)):
        is_range = bits.flag(field)
        start = bits.uint(16, field)
        end = bits.uint(16, field) if is_range else start
        if start == 0:
            raise InvalidTCString(f"TC string field {field!r} holds vendor id 0; vendor ids start at 1")
        if end < start:
            raise InvalidTCString(f"TC string field {field!r} has a range ending at {end} before its start {start}")
        if end > upper:
            raise InvalidTCString(f"TC string field {field!r} holds vendor id {end} above MaxVendorId {upper}")
        out.append((start, end))
    return out


def _expand(ranges: list[tuple[int, int]]) -> frozenset[int]:
    """Union of inclusive ranges, merged first so overlapping ranges cost nothing extra."""
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return frozenset(itertools.chain.from_iterable(range(s, e + 1) for s, e in merged))


def _vendor_section(bits: _Bits, field: str) -> frozenset[int]:
    """MaxVendorId (16), IsRangeEncoding (1), then a BitField of MaxVendorId bits or a range section."""
    max_vendor_id = bits.uint(16, field)
    if not bits.flag(field):
        return bits.ids(max_vendor_id, field)
    return _expand(_ranges(bits, field, max_vendor_id))


def _publisher_restrictions(bits: _Bits) -> tuple[PublisherRestriction, ...]:
    """NumPubRestrictions (12), each PurposeId (6), RestrictionType (2) and a range section.

    Entries are kept in string order, repeats included (real CMPs repeat a purpose and type).
    """
    field, total = "publisherRestrictions", 0
    out: list[PublisherRestriction] = []
    for _ in range(bits.uint(12, field)):
        purpose_id, restriction_type = bits.uint(6, field), RestrictionType(bits.uint(2, field))
        vendor_ids = _expand(_ranges(bits, field, _MAX_ID))
        total += len(vendor_ids)
        if total > MAX_RESTRICTED_VENDOR_IDS:
            raise InvalidTCString(f"TC string publisher restrictions cover over {MAX_RESTRICTED_VENDOR_IDS} vendor ids")
        out.append(PublisherRestriction(purpose_id, restriction_type, vendor_ids))
    return tuple(out)


def decode(tc_string: str) -> TCString:
    """Decode the core segment of a TCF v2 TC string: base64url (padding optional), segments split on ``.``.

    Fields are read in the order and widths of the spec's core string table (link in the module
    docstring); Created/LastUpdated are deciseconds, returned as ms. Trailing padding bits are ignored.

    Raises :class:`InvalidTCString` when the input is not text, is longer than ``MAX_TC_STRING``, is
    empty, is not base64url, is not version 2, is truncated (the message names the field), has a
    letter code above 'Z', a vendor id 0, a range ending before its start, a vendor id above the
    section's MaxVendorId, or publisher restrictions covering more than ``MAX_RESTRICTED_VENDOR_IDS`` ids.
    """
    bits = _Bits(_core_bytes(tc_string))
    version = bits.uint(6, "version")
    if version != 2:
        raise InvalidTCString(f"TC string version {version} is not supported; TCF v2 is required")
    return TCString(
        version=version,
        created_ms=bits.uint(36, "created") * 100,
        last_updated_ms=bits.uint(36, "lastUpdated") * 100,
        cmp_id=bits.uint(12, "cmpId"),
        cmp_version=bits.uint(12, "cmpVersion"),
        consent_screen=bits.uint(6, "consentScreen"),
        consent_language=bits.letters("consentLanguage"),
        vendor_list_version=bits.uint(12, "vendorListVersion"),
        tcf_policy_version=bits.uint(6, "tcfPolicyVersion"),
        is_service_specific=bits.flag("isServiceSpecific"),
        use_non_standard_texts=bits.flag("useNonStandardTexts"),
        special_feature_opt_ins=bits.ids(12, "specialFeatureOptIns"),
        purposes_consent=bits.ids(24, "purposesConsent"),
        purposes_li_transparency=bits.ids(24, "purposesLITransparency"),
        purpose_one_treatment=bits.flag("purposeOneTreatment"),
        publisher_cc=bits.letters("publisherCC"),
        vendor_consents=_vendor_section(bits, "vendorConsents"),
        vendor_legitimate_interests=_vendor_section(bits, "vendorLegitimateInterests"),
        publisher_restrictions=_publisher_restrictions(bits),
    )


@dataclass(frozen=True)
class TcfDecision:
    """Whether recording may go ahead under ``tc``, and why.

    ``missing_purposes``: required purposes without consent; ``vendor_consent``: None when no vendor
    was checked; ``restricted``: required purposes a type 0 or 2 publisher restriction takes from it.
    """

    allowed: bool
    missing_purposes: tuple[int, ...]
    vendor_consent: bool | None
    restricted: tuple[int, ...]
    required_purposes: tuple[int, ...]
    vendor_id: int | None
    tc: TCString

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe summary for the consent ledger: ints, bools, None and lists of ints; never the TC string."""
        tc = self.tc
        return {
            "allowed": self.allowed, "required_purposes": list(self.required_purposes),
            "consented_purposes": sorted(tc.purposes_consent), "missing_purposes": list(self.missing_purposes),
            "vendor_id": self.vendor_id, "vendor_consent": self.vendor_consent,
            "restricted_purposes": list(self.restricted),
            "cmp_id": tc.cmp_id, "cmp_version": tc.cmp_version, "vendor_list_version": tc.vendor_list_version,
            "tcf_policy_version": tc.tcf_policy_version,
            "created_ms": tc.created_ms, "last_updated_ms": tc.last_updated_ms,
        }


def _is_id(value: object, top: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top


def _required(purposes: Iterable[int]) -> tuple[int, ...]:
    if isinstance(purposes, str | bytes) or not isinstance(purposes, Iterable):
        raise InvalidInput("TCF purposes must be a collection of purpose ids")
    out: set[int] = set()
    for p in purposes:
        if not _is_id(p, len(PURPOSE_NAMES)):
            raise InvalidInput(f"TCF purpose {p!r} is not a TCF v2.2 purpose id, an int from 1 to {len(PURPOSE_NAMES)}")
        out.add(p)
    if not out:
        raise InvalidInput("at least one TCF purpose must be required")
    return tuple(sorted(out))


def decide(tc: TCString, purposes: Iterable[int], vendor_id: int | None = None) -> TcfDecision:
    """Allow recording iff every required purpose has consent in ``tc`` and, when ``vendor_id`` is given,
    that vendor has consent and no publisher restriction removes a required purpose from it.

    Restriction type 0 (purpose flatly not allowed) and type 2 (require legitimate interest) both
    count against the vendor: replayvault records on consent only (purpose 1 cannot rest on
    legitimate interest at all), so a publisher demanding legitimate interest leaves no legal basis.
    Type 1 (require consent) agrees with our basis; type 3 is undefined and ignored. With
    PurposeOneTreatment set, purpose 1 was not asked and is absent from PurposesConsent, so a
    requirement of purpose 1 is not met.

    Raises :class:`InvalidInput` when a purpose is not an int 1..11, no purpose is given, or
    ``vendor_id`` is not an int 1..65535.
    """
    required = _required(purposes)
    if vendor_id is not None and not _is_id(vendor_id, _MAX_ID):
        raise InvalidInput(f"TCF vendor id {vendor_id!r} is not an int from 1 to {_MAX_ID}")
    missing = tuple(p for p in required if p not in tc.purposes_consent)
    vendor_consent: bool | None = None
    restricted: tuple[int, ...] = ()
    if vendor_id is not None:
        vendor_consent = vendor_id in tc.vendor_consents
        blocking = {RestrictionType.NOT_ALLOWED, RestrictionType.REQUIRE_LEGITIMATE_INTEREST}
        restricted = tuple(sorted({
            r.purpose_id for r in tc.publisher_restrictions
            if r.purpose_id in required and r.restriction_type in blocking and vendor_id in r.vendor_ids
        }))
    return TcfDecision(allowed=not missing and vendor_consent is not False and not restricted,
                       missing_purposes=missing, vendor_consent=vendor_consent, restricted=restricted,
                       required_purposes=required, vendor_id=vendor_id, tc=tc)
