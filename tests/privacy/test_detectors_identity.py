"""Table-driven tests of the identity detectors: SSN, national IDs, phone numbers, IP addresses, OTPs."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from replayvault.privacy.detectors import Validation, ip, national_id, otp, phone, ssn


def found(detector, text):
    return [(text[f.start : f.end], f.pattern, f.outcome) for f in detector.find(text)]


C, U = Validation.CONFIRMED, Validation.UNKNOWN


# -- SSN ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 536-90-4399", [("536-90-4399", "dashed", C)]),  # python-stdnum's example
        ("Applicant 536-90-4399 signed", [("536-90-4399", "dashed", U)]),
        ("social security number: 536 90 4399", [("536 90 4399", "spaced", C)]),
        ("ssn: 536904399", [("536904399", "bare", C)]),
        ("reference 536904399", []),  # bare digits need context
        ("SSN 666-12-3456", []),  # area 666
        ("SSN 000-12-3456", []),  # area 000
        ("SSN 900-12-3456", []),  # area 9xx
        ("SSN 536-00-4399", []),  # group 00
        ("SSN 536-90-0000", []),  # serial 0000
        ("SSN 078-05-1120", []),  # Woolworth's wallet card, refused by python-stdnum
        ("SSN 1112-23333", []),  # dash in the wrong place
        ("call 1-536-90-4399", []),  # part of a longer number
        ("SSN 536-90-43991", []),
    ],
)
def test_ssn(text, expected):
    assert found(ssn, text) == expected


# -- national IDs: python-stdnum's own examples ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value", "pattern", "outcome"),
    [
        ("Steuer-ID: 36 574 261 809", "36 574 261 809", "de_idnr", C),
        ("Nummer 36 574 261 809", "36 574 261 809", "de_idnr", C),  # official grouping: no context needed
        ("IdNr 36574261809", "36574261809", "de_idnr", C),
        ("Steuernummer 181/815/08155", "181/815/08155", "de_stnr", C),
        ("Nr. 181/815/08155", "181/815/08155", "de_stnr", U),  # no check digit, no context
        ("NIR 2 95 10 99 126 111 93", "2 95 10 99 126 111 93", "fr_nir", C),
        ("numéro 253072B07300470", "253072B07300470", "fr_nir", C),  # Corsica
        ("numéro 253072A07300443", "253072A07300443", "fr_nir", C),
        ("numéro fiscal 3023217600053", "3023217600053", "fr_nif", C),
        ("SPI: 30 23 217 600 053", "30 23 217 600 053", "fr_nif", C),
        ("DNI 54362315-K", "54362315-K", "es_dni", C),
        ("NIE x-2482300w", None, None, None),  # lower case is not matched
        ("NIE X-2482300-W", "X-2482300-W", "es_nie", C),
        ("NIF M-1234567-L", "M-1234567-L", "es_nif", C),
        ("CF RCCMNL83S18D969H", "RCCMNL83S18D969H", "it_cf", C),
        ("BSN 1112.22.333", "1112.22.333", "nl_bsn_dotted", C),
        ("burgerservicenummer 111222333", "111222333", "nl_bsn", C),
        ("NINO AB 12 34 56 C", "AB 12 34 56 C", "gb_nino", C),
        ("ref AB123456C", "AB123456C", "gb_nino", U),
    ],
)
def test_national_ids(text, value, pattern, outcome):
    assert found(national_id, text) == ([(value, pattern, outcome)] if value else [])
    if value:
        (f,) = national_id.find(text)
        assert f.validator == national_id.VALIDATORS[pattern]


@pytest.mark.parametrize(
    "text",
    [
        "Steuer-ID 36574261890",  # stdnum: invalid checksum
        "Steuer-ID 36554266806",  # stdnum: digits repeated too often
        "Nummer 36574261809",  # bare 11 digits without context
        "NIR 295109912611199",  # stdnum: invalid check digits
        "numéro 253072C07300443",  # stdnum: invalid format
        "NIF 3023217600054",  # stdnum: invalid checksum
        "number 3023217600053",  # French tax number without context
        "DNI 54362315Z",  # stdnum: invalid check letter
        "NIE X-2482300-A",
        "CF RCCMNL83S18D969X",
        "BSN 1112.52.333",  # stdnum: invalid checksum
        "number 111222333",  # BSN without context
        "NINO QQ 12 34 56 C",  # Q is never a first letter (HMRC specimen)
        "NINO GB 12 34 56 A",  # GB prefix never issued
        "NINO AO 12 34 56 A",  # O is never a second letter
        "NINO AB 12 34 56 E",  # suffix A-D only
    ],
)
def test_national_id_negatives(text):
    assert national_id.find(text) == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [("AB123456C", True), ("JG103759A", True), ("QQ123456C", False), ("DA123456A", False), ("AD123456A", False),
     ("BG123456A", False), ("NK123456A", False), ("TN123456A", False), ("ZZ123456A", False), ("AB12345C", False)],
)
def test_nino_rules(value, ok):
    assert national_id.nino_ok(value) is ok


# -- phone numbers: libphonenumber's example numbers for every configured region -------------------
EXAMPLES = [
    (region, kind, fmt)
    for region in phone.DEFAULT_REGIONS
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
    for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL)
]


@pytest.mark.parametrize(("region", "kind", "fmt"), EXAMPLES)
def test_example_number_of_every_region_is_found(region, kind, fmt):
    value = phonenumbers.format_number(phonenumbers.example_number_for_type(region, kind), fmt)
    text = f"Bitte rufen Sie {value} an."
    assert found(phone, text) == [(value, "intl" if value.startswith("+") else "national", C)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Tel.: +49 (0)30 123456", "+49 (0)30 123456"),
        ("Phone 0049 30 123456", "0049 30 123456"),
        ("Anruf 0301234567 bitte", "0301234567"),
        ("Tel 030/123456", "030/123456"),
        ("US: 201.555.0123", "201.555.0123"),
        ("mobile (201) 555-0123, office", "(201) 555-0123"),
        ("Call 030 90 18 20 now", "030 90 18 20"),  # DE grouping libphonenumber does not use
    ],
)
def test_phone_formats(text, value):
    assert [v for v, _, _ in found(phone, text)] == [value]


@pytest.mark.parametrize(
    "text",
    [
        "Due 2026-11-29",
        "on 29.11.2026",
        "11/29/2026",
        "Price EUR 1,234.56",
        "total 1.234.567 EUR",
        "created 1700000000000 ms",  # 13-digit timestamp
        "order ORD-2026-000123",
        "order 2026-000123",  # a valid US number, but not written as one
        "SKU-4711-XL",
        "SSN 666-12-3456",  # a valid ES mobile, but not written as one
        "version 1.2.3.4.5",
        "host 192.168.10.20",
        "routing 011000015",  # 9 bare digits with a trunk 0: too short to stand alone
        "4111 1111 1111 1111",
        "Room 1204, floor 12",
        "in 2004-2016 we",
    ],
)
def test_phone_negatives(text):
    assert phone.find(text) == []


def test_phone_regions_are_configurable(monkeypatch):
    text = "Appelez le 06 12 34 56 78"
    assert found(phone, text)
    monkeypatch.setattr(phone, "DEFAULT_REGIONS", ("US",))
    assert phone.find(text) == []
    assert [v for v, _, _ in found(phone, "Call +33 6 12 34 56 78")] == ["+33 6 12 34 56 78"]


# -- IP addresses -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("client 192.168.1.1 connected", ["192.168.1.1"]),
        ("from 10.0.0.1.", ["10.0.0.1"]),
        ("(203.0.113.7)", ["203.0.113.7"]),
        ("255.255.255.255 and 0.0.0.0", ["255.255.255.255"]),  # unspecified names no one
        ("v6 2001:db8::8a2e:370:7334", ["2001:db8::8a2e:370:7334"]),
        ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", ["2001:0db8:85a3:0000:0000:8a2e:0370:7334"]),
        ("loopback ::1, 127.0.0.1 and fe80::1.", ["fe80::1"]),  # loopback names no one
        ("mapped ::ffff:192.0.2.128", ["::ffff:192.0.2.128"]),
        ("prefix 2001:db8::/32", ["2001:db8::"]),
        ("version 1.2.3.4.5", []),
        ("tag v1.2.3.4", []),
        ("256.1.1.1", []),
        ("01.02.03.04", []),  # leading zeros
        ("1.2.3", []),
        ("time 10:30:45", []),
        ("MAC 00:1A:2B:3C:4D:5E", []),
        ("ratio 3:2:1", []),
        ("empty :: here", []),
        ("std::vector<int>", []),
    ],
)
def test_ip(text, expected):
    assert [v for v, _, _ in found(ip, text)] == expected


# -- one-time codes -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Your verification code is 482913.", ["482913"]),
        ("OTP: 1234", ["1234"]),
        ("2FA code 90210", ["90210"]),
        ("one-time password 55667788", ["55667788"]),
        ("Ihr Bestätigungscode: 773311", ["773311"]),
        ("Votre code de vérification est 551204", ["551204"]),
        ("TAN 12345678 eingeben", ["12345678"]),
        ("security code:4321", ["4321"]),
        ("Your order 482913 has shipped.", []),
        ("OTP 123", []),  # 3 digits
        ("OTP 123456789", []),  # 9 digits
        ("OTP sent. Your balance is 1,234.56 EUR.", []),
        ("verification code 12.5", []),
        ("important instant transfer 482913", []),  # "tan" inside words is no label
        ("the code arrives later; long text in between, really quite long: 482913", []),
        ("verification code 2026-11-29", []),
    ],
)
def test_otp(text, expected):
    assert [v for v, _, _ in found(otp, text)] == expected
