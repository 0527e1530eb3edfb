"""IAB TCF v2 TC strings (governance.tcf): decoding of the core segment and the recording decision.

Real TC strings come with the decodings their sources publish; each table row cites its source:

- iabtcf-java: InteractiveAdvertisingBureau/iabtcf-java,
  iabtcf-decoder/src/test/java/com/iabtcf/decoder/TCStringV2Test.java (and TCStringDecoderTest.java)
- Perl: peczenyj/GDPR-IAB-TCFv2, t/01-parse.t and t/02-json.t (GDPR::IAB::TCFv2 on CPAN)
- iabtcf-es: InteractiveAdvertisingBureau/iabtcf-es, modules/core/test/ReportedIssues.test.ts

Strings for the edge cases are built with the small bit writer below, written from the spec's field
table, independently of the module's reader.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Sequence, Set

import pytest

from replayvault.errors import InvalidInput
from replayvault.governance import tcf
from replayvault.governance.tcf import (DEFAULT_PURPOSES, InvalidTCString, PublisherRestriction, RestrictionType,
                                        TCString, decide, decode)

# --- real strings ---------------------------------------------------------------------------------------------------

#: iabtcf-java TCStringV2Test.testCanConstructTCModelFromBase64String ("created at https://www.iabtcf.com/#/encode").
JAVA_FULL = "COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA"
#: iabtcf-java TCStringV2Test.testConstructConsentsFromBitFields / testCanParseAllParts (core + 3 more segments).
JAVA_BITFIELDS = "COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA"
JAVA_ALL_PARTS = JAVA_BITFIELDS + ".IBAgAAAgAIAwgAgAAAAEAAAACA.QAagAQAgAIAwgA.cAAAAAAAITg="
#: iabtcf-java TCStringV2Test.testCanParseRangeEncodedVendorLegitimateInterests.
JAVA_RANGE_LI = "COv__-wOv__-wC2AAAENAPCgAAAAAAAAAAAAA_wAQA_gEBABAEAAAA"
#: iabtcf-java TCStringV2Test.testRange (two ranges, then one range; the first carries a second segment).
JAVA_RANGE_2 = ("COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAYFfAV-BVkAGBVYFWAAA"
                ".IFoEUQQgAIQwgIwQABAEAAAAOIAACAIAAAAQAIAgEAACEAAAAAgAQBAAAAAAAGBAAgAAAAAAAFAAECAAAgAAQARAEQ"
                "AAAAAJAAIAAgAAAYQEAAAQmAgBC3ZAYzUw")
JAVA_RANGE_1 = "COwBOpCOwBOpCLqAAAENAPCAAAAAAAAAAAAAFfwAQFfgUbABAUaAAA"
#: iabtcf-java TCStringV2Test.testPurposesConsent.
JAVA_PURPOSES_1_2 = "COwxsONOwxsONKpAAAENAdCAAMAAAAAAAAAAAAAAAAAA"
#: Perl t/01-parse.t "valid tcf v2 consent string using bitfield" (+ publisher TC segment from t/02-json.t).
PERL_BITFIELD = "CLcVDxRMWfGmWAVAHCENAXCkAKDAADnAABRgA5mdfCKZuYJez-NQm0TBMYA4oCAAGQYIAAAAAAEAIAEgAA.argAC0gAAAAAAAAAAAA"
#: Perl t/01-parse.t "valid tcf v2 consent string using range".
PERL_RANGE = "COyfVVoOyfVVoADACHENAwCAAAAAAAAAAAAAE5QBgALgAqgD8AQACSwEygJyAnSAMABgAFkAgQCDASeAmYBOgAA"
#: Perl t/01-parse.t "check publisher restriction #1" / t/02-json.t "publisher": restrictions == {7: {32: 1}}.
PERL_RESTRICTION_1 = "COwAdDhOwAdDhN4ABAENAPCgAAQAAv___wAAAFP_AAp_4AI6ACACAA"
#: Perl t/01-parse.t "check publisher restriction #2" (type 0 on purposes 1 and 2).
PERL_RESTRICTION_2 = ("COxPe2TOxPe2TALABAENAPCgAAAAAAAAAAAAAFAAAAoAAA4IACACAIABgACAFA4ADACAAIygAGADwAQBIAIAIB0AEAEBSACA"
                      "CAA")
#: Perl t/01-parse.t "check publisher restriction #3".
PERL_RESTRICTION_3 = "COzSDo9OzSDo9B9AAAENAiCAALAAAAAAAAAACOQAQCOAAAAA"
#: iabtcf-es ReportedIssues "201 unable to decode valid TCF2 String" (one purpose restriction repeated).
ES_ISSUE_201 = (
    "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGnc"
    "TQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-x"
    "mV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALc"
    "GACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4AB"
    "wADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMA"
    "FuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA")
#: iabtcf-es ReportedIssues "142 ... bitfield length does not match the maxId": iabtcf-es throws because the second
#: (disclosed vendors) segment declares 733 vendors in 28 bits; its core segment is intact.
ES_ISSUE_142 = (
    "CLSYjTaOngnCIAOABBENAXCMAGOAABBAAA7IA5n-m7fP6_3fbqVv6E__PoA5Aqff3aJx8tv_1967rfnQEQoAIAAQCrwkAEABAcACABIMACAAuApE"
    "VABABUSABgBCAVSAtIoACACIArYQAHACgAFgAVwBJgDcAI7AWgMAAgBiKgAgBMgFfKQAQBRkQAQA4AFiBAAoA-AEVAJlAVgAtYcACAJcAr4eABAK"
    "8OgBgFzAOmAqwgABAWyA.IFukWSQh")
#: TCF v1.1 strings: Perl t/01-parse.t (strict mode rejects it) and iabtcf-es issue 156 (decodes as version 1).
V1_PERL = "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASAAAAAAAAAA"
V1_ES_156 = ("BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-_f__9uj3Or_v_f__32ccL59v_h_7v-_7fi_20nV4u_1vft9yfk1-5ctDztp507iak"
             "ivXmqdeb9v_nz3_5pxP78k89r7337Ew_v8_v-b7BCON_YxEiA")

PERL_VENDOR_CONSENTS = frozenset({
    2, 3, 6, 7, 8, 10, 12, 13, 14, 15, 16, 21, 25, 27, 30, 31, 34, 35, 37, 38, 39, 42, 43, 49, 52, 54, 55, 56, 57, 59,
    60, 63, 64, 65, 66, 67, 68, 69, 73, 74, 76, 78, 83, 86, 87, 89, 90, 92, 96, 99, 100, 106, 109, 110, 114, 115})
PERL_VENDOR_LI = frozenset({1, 9, 26, 27, 30, 36, 37, 43, 86, 97, 110, 113})


def utc_ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1000)


def triples(tc: TCString) -> set[tuple[int, int, int]]:
    """Publisher restrictions flattened to (purpose id, restriction type, vendor id)."""
    return {(r.purpose_id, int(r.restriction_type), v) for r in tc.publisher_restrictions for v in r.vendor_ids}


def test_iabtcf_java_string_decodes_every_header_field() -> None:
    tc = decode(JAVA_FULL)
    assert (tc.version, tc.created_ms, tc.last_updated_ms) == (2, utc_ms("2020-01-26T17:01:00"),
                                                               utc_ms("2021-02-02T17:01:00"))
    assert (tc.cmp_id, tc.cmp_version, tc.consent_screen, tc.vendor_list_version, tc.tcf_policy_version) == (
        675, 2, 1, 15, 2)
    assert (tc.consent_language, tc.publisher_cc) == ("EN", "AA")
    assert (tc.is_service_specific, tc.purpose_one_treatment, tc.use_non_standard_texts) == (False, True, False)
    assert tc.special_feature_opt_ins == {1}
    assert tc.purposes_consent == {2, 10}
    assert tc.purposes_li_transparency == {2, 9}


def test_perl_bitfield_string_decodes_every_core_field() -> None:
    tc = decode(PERL_BITFIELD)
    # created 1228644257 s + 700,000,000 ns; last updated 1326215413 s + 400,000,000 ns (t/01-parse.t)
    assert (tc.version, tc.created_ms, tc.last_updated_ms) == (2, 1_228_644_257_700, 1_326_215_413_400)
    assert (tc.cmp_id, tc.cmp_version, tc.consent_screen, tc.consent_language) == (21, 7, 2, "EN")
    assert (tc.vendor_list_version, tc.tcf_policy_version, tc.publisher_cc) == (23, 2, "KM")
    assert (tc.is_service_specific, tc.use_non_standard_texts, tc.purpose_one_treatment) == (True, False, False)
    assert tc.special_feature_opt_ins == {2}
    assert tc.purposes_consent == {1, 3, 9, 10}
    assert tc.purposes_li_transparency == {3, 4, 5, 8, 9, 10}
    assert tc.vendor_consents == PERL_VENDOR_CONSENTS
    assert tc.vendor_legitimate_interests == PERL_VENDOR_LI
    assert tc.publisher_restrictions == ()


def test_perl_range_string_decodes_range_sections() -> None:
    tc = decode(PERL_RANGE)
    assert (tc.created_ms, tc.last_updated_ms) == (1_587_946_020_000, 1_587_946_020_000)
    assert (tc.cmp_id, tc.cmp_version, tc.consent_screen, tc.consent_language) == (3, 2, 7, "EN")
    assert (tc.vendor_list_version, tc.tcf_policy_version, tc.publisher_cc) == (48, 2, "AA")
    assert (tc.is_service_specific, tc.use_non_standard_texts, tc.purpose_one_treatment) == (False, False, False)
    assert tc.purposes_consent == tc.purposes_li_transparency == tc.special_feature_opt_ins == frozenset()
    assert tc.vendor_consents == {23, 42, 126, 127, 128, 587, 613, 626}
    assert tc.vendor_legitimate_interests == {24, 44, 129, 130, 131, 591, 614, 628}


@pytest.mark.parametrize(("tc_string", "purposes", "consents", "li"), [
    (JAVA_BITFIELDS, {3, 4, 5, 6, 7, 8, 9}, {23, 37, 47, 48, 53, 65, 98}, {37, 47, 48, 53, 65, 98, 129}),
    (JAVA_ALL_PARTS, {3, 4, 5, 6, 7, 8, 9}, {23, 37, 47, 48, 53, 65, 98}, {37, 47, 48, 53, 65, 98, 129}),
    (JAVA_RANGE_LI, None, None, {128}),
    (JAVA_RANGE_2, None, {702, 703}, None),
    (JAVA_RANGE_1, None, {703}, None),
])
def test_iabtcf_java_vendor_sections(tc_string: str, purposes: set[int] | None, consents: set[int] | None,
                                     li: set[int] | None) -> None:
    tc = decode(tc_string)
    for expected, got in ((purposes, tc.purposes_consent), (consents, tc.vendor_consents),
                          (li, tc.vendor_legitimate_interests)):
        if expected is not None:
            assert got == expected


def test_iabtcf_java_purposes_consent_contains_1_and_2() -> None:
    assert {1, 2} <= decode(JAVA_PURPOSES_1_2).purposes_consent


def test_perl_publisher_restriction_1_is_exactly_purpose_7_require_consent_for_vendor_32() -> None:
    tc = decode(PERL_RESTRICTION_1)
    assert triples(tc) == {(7, 1, 32)}
    assert tc.publisher_restrictions[0].restriction_type is RestrictionType.REQUIRE_CONSENT


def test_perl_publisher_restriction_2_flatly_not_allowed_entries() -> None:
    got = triples(decode(PERL_RESTRICTION_2))
    assert {(1, 0, 32), (2, 0, 32), (2, 0, 5), (2, 0, 11), (2, 1, 32)} <= got
    assert not {(1, 0, 284), (1, 1, 32), (2, 0, 44), (2, 0, 500), (2, 1, 42)} & got


def test_perl_publisher_restriction_3_has_none_for_vendor_284() -> None:
    assert (1, 0, 284) not in triples(decode(PERL_RESTRICTION_3))


def test_iabtcf_es_issue_201_repeated_restriction_vendors() -> None:
    tc = decode(ES_ISSUE_201)
    assert tc.version == 2
    assert sorted({v for p, t, v in triples(tc) if (p, t) == (1, 1)}) == [7, 20, 71, 122, 140, 183]


def test_broken_non_core_segment_is_ignored() -> None:
    # iabtcf-es rejects ES_ISSUE_142 for its disclosed-vendors segment; only the core segment matters here.
    core = ES_ISSUE_142.split(".")[0]
    assert decode(ES_ISSUE_142) == decode(core)
    assert decode(core + ".!!not-even-base64!!") == decode(core)
    assert decode(JAVA_ALL_PARTS) == decode(JAVA_BITFIELDS)


@pytest.mark.parametrize("tc_string", [V1_PERL, V1_ES_156, "Bg"])  # "Bg": iabtcf-java TCStringDecoderTest
def test_tcf_v1_strings_are_rejected(tc_string: str) -> None:
    with pytest.raises(InvalidTCString, match="^TC string version 1 is not supported; TCF v2 is required$"):
        decode(tc_string)


@pytest.mark.parametrize("tc_string", [
    "COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFAAAAA",  # Perl: bit field, 10 vendors, LI section missing
    "COvcSpYOvcSpYC9AAAENAPCAAAAAAAAAAAAAAFQBgAAgABAACAAEAAQAAgAA",  # Perl: range section, LI section missing
])
def test_perl_crafted_truncated_strings(tc_string: str) -> None:
    with pytest.raises(InvalidTCString, match="truncated at field 'vendorLegitimateInterests'") as err:
        decode(tc_string)
    assert tc_string not in str(err.value)


def test_perl_invalid_base64_string() -> None:
    bad = PERL_RANGE[:-2] + "!A"  # t/01-parse.t "string is not a base64 url encoded string"
    with pytest.raises(InvalidTCString, match="^TC string is not base64url$"):
        decode(bad)


# --- strings built with an independent bit writer ------------------------------------------------------------------

Ranges = list[tuple[int, int]]


class Bits:
    """Writes TC string fields MSB first, as in the spec's core string table."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def int(self, value: int, width: int) -> Bits:
        assert 0 <= value < 1 << width
        self.out.append(format(value, f"0{width}b"))
        return self

    def ids(self, ids: Set[int], width: int) -> Bits:
        self.out.append("".join("1" if i in ids else "0" for i in range(1, width + 1)))
        return self

    def letters(self, two: str) -> Bits:
        for ch in two:
            self.int(ord(ch) - ord("A"), 6)
        return self

    def range_section(self, ranges: Ranges) -> Bits:
        self.int(len(ranges), 12)
        for start, end in ranges:
            self.int(int(start != end), 1).int(start, 16)
            if start != end:
                self.int(end, 16)
        return self

    def vendors(self, max_id: int, ids: Set[int] | None = None, ranges: Ranges | None = None) -> Bits:
        self.int(max_id, 16).int(ranges is not None, 1)
        return self.range_section(ranges) if ranges is not None else self.ids(ids or set(), max_id)

    def text(self) -> str:
        return "".join(self.out)


def b64(bits: str) -> str:
    bits += "0" * (-len(bits) % 8)
    data = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


#: 2023-11-20T12:00:00.3Z in deciseconds (TCF v2.2 start date), and one day plus 0.5 s later.
CREATED_DS = 17_004_816_003
UPDATED_DS = CREATED_DS + 864_005
HEADER_BITS = 6 + 36 + 36 + 12 + 12 + 6 + 12 + 12 + 6 + 1 + 1 + 12 + 24 + 24 + 1 + 12  # 213


def core_bits(*, version: int = 2, purposes: Set[int] = frozenset({1, 8, 10}), li: Set[int] = frozenset({2, 24}),
              p1t: bool = False, consents: tuple[int, Set[int] | None, Ranges | None] = (300, {7, 300}, None),
              vendor_li: tuple[int, Set[int] | None, Ranges | None] = (5, {5}, None),
              restrictions: Sequence[tuple[int, int, Ranges]] = (), language: str = "FR") -> str:
    w = Bits().int(version, 6).int(CREATED_DS, 36).int(UPDATED_DS, 36).int(4000, 12).int(17, 12).int(63, 6)
    w.letters(language).int(4095, 12).int(4, 6).int(1, 1).int(1, 1).ids({1, 12}, 12).ids(purposes, 24)
    w.ids(li, 24).int(p1t, 1).letters("DE").vendors(*consents).vendors(*vendor_li).int(len(restrictions), 12)
    for purpose_id, restriction_type, ranges in restrictions:
        w.int(purpose_id, 6).int(restriction_type, 2).range_section(ranges)
    return w.text()


def built(**kw: object) -> TCString:
    return decode(b64(core_bits(**kw)))  # type: ignore[arg-type]


def test_every_header_field_lands_at_its_offset() -> None:
    tc = built()
    assert tc == TCString(
        version=2, created_ms=1_700_481_600_300, last_updated_ms=1_700_568_000_800, cmp_id=4000, cmp_version=17,
        consent_screen=63, consent_language="FR", vendor_list_version=4095, tcf_policy_version=4,
        is_service_specific=True, use_non_standard_texts=True, special_feature_opt_ins=frozenset({1, 12}),
        purposes_consent=frozenset({1, 8, 10}), purposes_li_transparency=frozenset({2, 24}),
        purpose_one_treatment=False, publisher_cc="DE", vendor_consents=frozenset({7, 300}),
        vendor_legitimate_interests=frozenset({5}), publisher_restrictions=())
    assert tc.created_ms == utc_ms("2023-11-20T12:00:00.300")


def test_range_encoding_merges_overlaps_and_singletons() -> None:
    tc = built(consents=(40, None, [(3, 5), (4, 9), (20, 20), (40, 40)]), vendor_li=(12, None, [(12, 12), (1, 2)]))
    assert tc.vendor_consents == {3, 4, 5, 6, 7, 8, 9, 20, 40}
    assert tc.vendor_legitimate_interests == {1, 2, 12}


def test_empty_vendor_sections() -> None:
    tc = built(consents=(0, set(), None), vendor_li=(0, None, []))
    assert tc.vendor_consents == tc.vendor_legitimate_interests == frozenset()


def test_publisher_restrictions_keep_order_type_and_repeats() -> None:
    tc = built(restrictions=[(1, 0, [(7, 7)]), (8, 2, [(1, 3)]), (10, 1, [(300, 300)]), (1, 0, [(9, 9)]),
                             (3, 3, [])])
    assert tc.publisher_restrictions == (
        PublisherRestriction(1, RestrictionType.NOT_ALLOWED, frozenset({7})),
        PublisherRestriction(8, RestrictionType.REQUIRE_LEGITIMATE_INTEREST, frozenset({1, 2, 3})),
        PublisherRestriction(10, RestrictionType.REQUIRE_CONSENT, frozenset({300})),
        PublisherRestriction(1, RestrictionType.NOT_ALLOWED, frozenset({9})),
        PublisherRestriction(3, RestrictionType.UNDEFINED, frozenset()))


def test_padding_is_optional_and_ignored() -> None:
    core = b64(core_bits())
    padded = core + "=" * (-len(core) % 4)
    assert padded != core and decode(padded) == decode(core)


@pytest.mark.parametrize(("cut", "field"), [
    (6 + 36 + 20, "lastUpdated"), (HEADER_BITS - 5, "publisherCC"),
    (HEADER_BITS + 17 + 100, "vendorConsents"),  # bit field declares 300 vendors, stops after 100
    (HEADER_BITS + 17 + 300 + 10, "vendorLegitimateInterests"),
    (HEADER_BITS + 17 + 300 + 22, "publisherRestrictions"),  # NumPubRestrictions missing
])
def test_truncated_core_names_the_field(cut: int, field: str) -> None:
    bits = core_bits()[:cut]
    bits = bits[: len(bits) - len(bits) % 8]  # whole bytes, so base64 padding bits cannot fill the gap
    with pytest.raises(InvalidTCString, match=f"^TC string core segment is truncated at field '{field}'$"):
        decode(b64(bits))


def test_truncated_inside_a_publisher_restriction_range() -> None:
    bits = core_bits(restrictions=[(1, 0, [(1, 50), (60, 70)])])
    with pytest.raises(InvalidTCString, match="truncated at field 'publisherRestrictions'"):
        decode(b64(bits[: len(bits) - 24]))


@pytest.mark.parametrize(("kw", "message"), [
    ({"consents": (10, None, [(5, 3)])}, "'vendorConsents' has a range ending at 3 before its start 5"),
    ({"consents": (10, None, [(5, 11)])}, "'vendorConsents' holds vendor id 11 above MaxVendorId 10"),
    ({"vendor_li": (10, None, [(12, 12)])}, "'vendorLegitimateInterests' holds vendor id 12 above MaxVendorId 10"),
    ({"vendor_li": (10, None, [(0, 4)])}, "'vendorLegitimateInterests' holds vendor id 0"),
    ({"restrictions": [(1, 0, [(9, 2)])]}, "'publisherRestrictions' has a range ending at 2 before its start 9"),
    ({"version": 3}, "^TC string version 3 is not supported; TCF v2 is required$"),
    ({"version": 0}, "^TC string version 0 is not supported"),
])
def test_malformed_values_are_refused(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidTCString, match=message):
        built(**kw)


def test_letter_codes_above_z_are_refused() -> None:
    bits = core_bits()
    lang_at = 6 + 36 + 36 + 12 + 12 + 6
    bits = bits[:lang_at] + "111111" + bits[lang_at + 6:]  # letter code 63
    with pytest.raises(InvalidTCString, match="'consentLanguage' holds a letter code above 25"):
        decode(b64(bits))


@pytest.mark.parametrize(("value", "message"), [
    ("", "^TC string is empty$"), (".IFukWSQh", "^TC string is empty$"),
    ("COtybn4PA_zT4K jAC", "^TC string is not base64url$"), ("COtyb+n4PA/zT4K", "^TC string is not base64url$"),
    ("COtyb", "^TC string is not base64url$"),  # 5 characters: 30 bits is not a whole byte count
    ("COtybn4PA_zT4KjA===", "^TC string is not base64url$"),
    (b"COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA", "^TC string must be text$"), (None, "^TC string must be text$"),
])
def test_bad_input_is_refused_without_echo(value: object, message: str) -> None:
    with pytest.raises(InvalidTCString, match=message):
        decode(value)  # type: ignore[arg-type]


def test_absurdly_long_input_is_refused_before_decoding() -> None:
    with pytest.raises(InvalidTCString, match=f"^TC string is longer than {tcf.MAX_TC_STRING} characters$"):
        decode("C" * (tcf.MAX_TC_STRING + 1))
    assert isinstance(InvalidTCString("x"), InvalidInput)


def test_huge_range_section_is_merged_not_multiplied(monkeypatch: pytest.MonkeyPatch) -> None:
    # 4095 entries each spanning every vendor id: 268 million ids before merging, 65,535 after.
    tc_string = b64(core_bits(consents=(65535, None, [(1, 65535)] * 4095)))
    assert len(tc_string) > tcf.MAX_TC_STRING
    with pytest.raises(InvalidTCString, match="longer than"):
        decode(tc_string)
    monkeypatch.setattr(tcf, "MAX_TC_STRING", 30_000)
    started = time.perf_counter()
    tc = decode(tc_string)
    assert tc.vendor_consents == frozenset(range(1, 65536))
    assert time.perf_counter() - started < 5


def test_full_bitfield_of_65535_vendors() -> None:
    tc = built(consents=(65535, set(range(1, 65536, 2)), None))
    assert len(tc.vendor_consents) == 32768 and 65535 in tc.vendor_consents and 65534 not in tc.vendor_consents


def test_publisher_restrictions_are_capped() -> None:
    everyone = [(1, 65535)]
    four = built(restrictions=[(p, 0, everyone) for p in (1, 2, 3, 4)])
    assert sum(len(r.vendor_ids) for r in four.publisher_restrictions) == 4 * 65535 <= tcf.MAX_RESTRICTED_VENDOR_IDS
    with pytest.raises(InvalidTCString, match=f"cover over {tcf.MAX_RESTRICTED_VENDOR_IDS} vendor ids"):
        built(restrictions=[(p, 0, everyone) for p in (1, 2, 3, 4, 5)])


# --- decide ---------------------------------------------------------------------------------------------------------


def test_default_purposes_are_store_measure_content_and_improve_services() -> None:
    assert DEFAULT_PURPOSES == (1, 8, 10)
    assert [tcf.PURPOSE_NAMES[p] for p in DEFAULT_PURPOSES] == [
        "Store and/or access information on a device", "Measure content performance", "Develop and improve services"]
    assert sorted(tcf.PURPOSE_NAMES) == list(range(1, 12))


def test_real_string_with_and_without_the_needed_purposes() -> None:
    tc = decode(PERL_BITFIELD)  # purposes consented: 1, 3, 9, 10
    without = decide(tc, DEFAULT_PURPOSES)
    assert (without.allowed, without.missing_purposes, without.vendor_consent, without.restricted) == (
        False, (8,), None, ())
    with_ = decide(tc, [10, 1, 1])
    assert (with_.allowed, with_.missing_purposes, with_.required_purposes) == (True, (), (1, 10))
    assert decide(decode(ES_ISSUE_201), DEFAULT_PURPOSES).allowed  # purposes 1-10 consented
    assert decide(decode(PERL_RANGE), [1]).missing_purposes == (1,)  # nothing consented


def test_real_string_vendor_consent() -> None:
    tc = decode(PERL_BITFIELD)
    assert decide(tc, [1, 10], vendor_id=27).allowed  # vendor 27 has consent
    no_consent = decide(tc, [1, 10], vendor_id=26)  # vendor 26 has legitimate interest only
    assert (no_consent.allowed, no_consent.vendor_consent, no_consent.missing_purposes) == (False, False, ())
    assert decide(tc, [1], vendor_id=1000).vendor_consent is False  # beyond MaxVendorId 115


def test_real_string_restriction_type_0() -> None:
    tc = decode(PERL_RESTRICTION_2)  # purpose 1 flatly not allowed for vendor 32, not for vendor 284
    assert decide(tc, [1], vendor_id=32).restricted == (1,)
    assert decide(tc, [1], vendor_id=284).restricted == ()
    assert decide(decode(PERL_RESTRICTION_1), [7], vendor_id=32).restricted == ()  # type 1: require consent


@pytest.mark.parametrize(("restrictions", "allowed", "restricted"), [
    ([(8, 0, [(7, 7)])], False, (8,)),  # type 0 on a required purpose
    ([(1, 2, [(1, 10)])], False, (1,)),  # type 2: legitimate interest required, so no consent basis
    ([(10, 0, [(1, 300)]), (8, 2, [(7, 7)]), (1, 0, [(300, 300)])], False, (8, 10)),
    ([(1, 1, [(7, 7)])], True, ()),  # type 1: consent required, which is the basis used
    ([(1, 3, [(7, 7)])], True, ()),  # type 3: undefined, ignored
    ([(3, 0, [(7, 7)])], True, ()),  # purpose not required
    ([(1, 0, [(8, 300)])], True, ()),  # another vendor
])
def test_publisher_restrictions_decide(restrictions: list[tuple[int, int, Ranges]], allowed: bool,
                                       restricted: tuple[int, ...]) -> None:
    d = decide(built(restrictions=restrictions), DEFAULT_PURPOSES, vendor_id=7)
    assert (d.allowed, d.restricted, d.vendor_consent, d.missing_purposes) == (allowed, restricted, True, ())
    assert decide(built(restrictions=restrictions), DEFAULT_PURPOSES).allowed  # no vendor checked


def test_vendor_without_consent_and_purpose_one_treatment() -> None:
    assert decide(built(), DEFAULT_PURPOSES, vendor_id=8).vendor_consent is False
    p1t = decide(built(purposes={8, 10}, p1t=True), DEFAULT_PURPOSES)
    assert (p1t.allowed, p1t.missing_purposes) == (False, (1,))


@pytest.mark.parametrize(("purposes", "vendor_id", "message"), [
    ([1, 12], None, "TCF purpose 12 is not"), ([0], None, "TCF purpose 0 is not"),
    ([True], None, "TCF purpose True is not"), (["1"], None, "TCF purpose '1' is not"),
    ([1.0], None, "TCF purpose 1.0 is not"), ([], None, "at least one TCF purpose"),
    ("18", None, "collection of purpose ids"), (8, None, "collection of purpose ids"),
    ([1], 0, "TCF vendor id 0 is not"), ([1], 65536, "TCF vendor id 65536 is not"),
    ([1], True, "TCF vendor id True is not"),
])
def test_decide_validates_its_arguments(purposes: object, vendor_id: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        decide(built(), purposes, vendor_id)  # type: ignore[arg-type]
    assert not isinstance(err.value, InvalidTCString)


def test_as_dict_is_the_json_summary_for_the_ledger() -> None:
    summary = decide(decode(PERL_BITFIELD), DEFAULT_PURPOSES, vendor_id=27).as_dict()
    assert summary == {
        "allowed": False, "required_purposes": [1, 8, 10], "consented_purposes": [1, 3, 9, 10],
        "missing_purposes": [8], "vendor_id": 27, "vendor_consent": True, "restricted_purposes": [],
        "cmp_id": 21, "cmp_version": 7, "vendor_list_version": 23, "tcf_policy_version": 2,
        "created_ms": 1_228_644_257_700, "last_updated_ms": 1_326_215_413_400,
    }
    assert json.loads(json.dumps(summary)) == summary
    assert PERL_BITFIELD.split(".")[0] not in json.dumps(summary)


def test_public_api() -> None:
    assert {"InvalidTCString", "TCString", "PublisherRestriction", "decode", "TcfDecision", "decide",
            "DEFAULT_PURPOSES", "MAX_TC_STRING"} <= set(tcf.__all__)
    assert all(hasattr(tcf, name) for name in tcf.__all__)
