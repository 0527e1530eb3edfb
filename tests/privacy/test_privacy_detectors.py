"""Table-driven tests of each detector: rows that must match (with spans) and rows that must not."""

from __future__ import annotations

import pytest

from replayvault.errors import ConfigError
from replayvault.privacy.detectors import DETECTORS, UnknownDetector, Validation, card, email, find_all, iban, resolve, select


# Independent reference checks, so the fixtures below are known-good (or known-bad) values.
def ref_luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return checksum % 10 == 0


def ref_mod97(value: str) -> bool:
    s = value.replace(" ", "").upper()
    s = s[4:] + s[:4]
    return int("".join(str(ord(c) - 55) if c.isalpha() else c for c in s)) % 97 == 1


@pytest.mark.parametrize("number", ["4111 1111 1111 1111", "5555-5555-5555-4444", "4222222222222", "1700000000004", "41111111111111110000"])
def test_card_fixtures_are_luhn_valid(number):
    assert ref_luhn(number)


@pytest.mark.parametrize("number", ["4111 1111 1111 1112", "4111111111111112"])
def test_card_negative_fixtures_are_luhn_invalid(number):
    assert not ref_luhn(number)


@pytest.mark.parametrize("value", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "gb82west12345698765432", "NL91ABNA0417164300"])
def test_iban_fixtures_are_mod97_valid(value):
    assert ref_mod97(value)


def spans(found, text):
    return [text[f.start : f.end] for f in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane@bank.com", ["jane@bank.com"]),
        ("Contact: jane.doe+vip@mail.bank.co.uk.", ["jane.doe+vip@mail.bank.co.uk"]),
        ("mailto:JANE_99@Bank-X.com?subject=hi", ["JANE_99@Bank-X.com"]),
        ("a@b.c", []),  # TLD too short
        ("@media screen", []),
        ("user@localhost", []),
        ("no at sign here", []),
    ],
)
def test_email(text, expected):
    assert spans(email.find(text), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", ["4111 1111 1111 1111"]),
        ("card 4111111111111111 exp 12/29", ["4111111111111111"]),
        ("5555-5555-5555-4444", ["5555-5555-5555-4444"]),
        ("Visa 4222222222222.", ["4222222222222"]),  # 13-digit Visa
        ("pan=4111 1111 1111 1111 1234", ["4111 1111 1111 1111"]),  # trailing group is not part of it
        ("1700000000004", []),  # Luhn-valid 13-digit ms timestamp
        ("ts 1700000000004 ms", []),
        ("41111111111111110000", []),  # 20-digit run containing a valid card
        ("x41111111111111110000y", []),
        ("4111 1111 1111 1112", []),  # Luhn-invalid
        ("0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", []),  # CSS-like single digits
        ("4111 11111111 1111", ["4111 11111111 1111"]),
        ("4111.1111.1111.1111", ["4111.1111.1111.1111"]),
        ("4111  1111  1111  1111", ["4111  1111  1111  1111"]),
        ("4111 - 1111 - 1111 - 1111", ["4111 - 1111 - 1111 - 1111"]),
        ("price 1.234.567.890.123", []),  # Luhn-invalid dotted number
    ],
)
def test_card(text, expected):
    found = card.find(text)
    assert spans(found, text) == expected
    assert all(f.outcome is Validation.CONFIRMED and f.validator == "luhn" for f in found)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
        ("GB82WEST12345698765432", ["GB82WEST12345698765432"]),
        ("iban: gb82 west 1234 5698 7654 32 is mine", ["gb82 west 1234 5698 7654 32"]),
        ("DE89370400440532013000", ["DE89370400440532013000"]),
        ("DE89 3704 0044 0532 0130 00.", ["DE89 3704 0044 0532 0130 00"]),
        ("(NL91ABNA0417164300)", ["NL91ABNA0417164300"]),
        ("DE89370400440532013001", []),  # bad check
        ("DE893704004405320130001", []),  # too long for DE
        ("XDE89370400440532013000", ["DE89370400440532013000"]),  # glued to a word ("IBANDE89..."): still found
        ("9DE89370400440532013000", []),  # inside a digit run
        ("DE89-3704-0044-0532-0130-00", ["DE89-3704-0044-0532-0130-00"]),
        ("GB82 WEST 1234 5698 7654", []),  # too short
        ("AB12 is a code", []),
    ],
)
def test_iban(text, expected):
    found = iban.find(text)
    assert spans(found, text) == expected
    assert all(f.outcome is Validation.CONFIRMED and f.validator == "mod97" for f in found)


def test_registry_names_are_unique_and_selectable():
    names = [d.name for d in DETECTORS]
    assert names == ["email", "card", "iban"]
    assert [d.name for d in select(["iban", "email"])] == ["email", "iban"]


def test_unknown_detector_is_a_typed_config_error():
    with pytest.raises(UnknownDetector, match="'fax'") as info:
        select(["email", "fax"])
    assert isinstance(info.value, ConfigError)


def test_overlapping_findings_count_once_mask_union():
    text = "IBAN DE89 3704 0044 0532 0130 00 and jane@bank.com"
    found = find_all(text)
    kinds = [f.kind for f in resolve(found)]
    assert kinds == ["iban", "email"]


def test_finding_evidence_names_detector_pattern_and_validator():
    (f,) = card.find("4111111111111111")
    assert f.evidence == "card/digits/luhn:confirmed"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("4111\u00a01111\u00a01111\u00a01111", "card", "4111\u00a01111\u00a01111\u00a01111"),  # NBSP
        ("4111\u202f1111\u202f1111\u202f1111", "card", "4111\u202f1111\u202f1111\u202f1111"),  # narrow NBSP
        ("x \uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11 y", "card",
         "\uff14\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11\uff11"),  # fullwidth digits
        ("mail \uff4a\uff41\uff4e\uff45\uff20\uff42\uff41\uff4e\uff4b\uff0e\uff43\uff4f\uff4d", "email",
         "\uff4a\uff41\uff4e\uff45\uff20\uff42\uff41\uff4e\uff4b\uff0e\uff43\uff4f\uff4d"),  # fullwidth email
        ("IBAN\u2011DE89\u20113704\u20110044\u20110532\u20110130\u201100", "iban",
         "DE89\u20113704\u20110044\u20110532\u20110130\u201100"),  # non-breaking hyphens
    ],
)
def test_find_all_folds_unicode_spaces_dashes_and_fullwidth(text, kind, expected):
    from replayvault.privacy.detectors import find_all, normalize

    assert len(normalize(text)) == len(text)
    found = [f for f in find_all(text) if f.kind == kind]
    assert [text[f.start:f.end] for f in found] == [expected]
