"""Table-driven tests of the financial detectors: card, IBAN (every SEPA country), BIC, ABA routing."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import stdnum
from stdnum import iban as stdnum_iban

from replayvault.privacy.detectors import REGISTRY, Validation, aba, bic, card, find_all, iban


def spans(found, text):
    return [text[f.start : f.end] for f in found]


def ref_luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    checksum = sum(digits[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in digits[-2::-2])
    return checksum % 10 == 0


# -- cards: the issuers' published test numbers ---------------------------------------------------
TEST_CARDS = {
    "visa": "4111111111111111",
    "visa-2": "4012888888881881",
    "mastercard": "5555555555554444",
    "mastercard-2series": "2223003122003222",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "jcb": "3530111333300000",
    "diners": "36227206271667",
    "unionpay": "6200000000000005",
}


@pytest.mark.parametrize("number", TEST_CARDS.values(), ids=TEST_CARDS.keys())
def test_issuer_test_cards_pass_luhn_and_are_found(number):
    assert ref_luhn(number)
    for text, value in [(number, number), (f"card: {number}.", number),
                        (f"pay {' '.join(number[i:i + 4] for i in range(0, len(number), 4))} now",
                         " ".join(number[i:i + 4] for i in range(0, len(number), 4)))]:
        found = card.find(text)
        assert spans(found, text) == [value]
        assert found[0].outcome is Validation.CONFIRMED and found[0].evidence == "card/digits/luhn:confirmed"


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",  # 16 digits failing Luhn
        "1234 5678 9012 3456",
        "1700000000000",  # 13-digit ms timestamp
        "1700000000004",  # ...even when Luhn-valid
        "DE89 3704 0044 0532 0130 01",  # digits after an IBAN's check digits
        "0x52908400098527886E0F7030069857D2E4169EE7",  # hex
        "order ORD-2026-000123",
        "9400 1000 0000 0000 0000 00",  # 22-digit tracking number
    ],
)
def test_card_negatives(text):
    assert card.find(text) == []


def test_consecutive_cards_in_one_run_are_both_found():
    text = "4111 1111 1111 1111 5555 5555 5555 4444"
    assert spans(card.find(text), text) == ["4111 1111 1111 1111", "5555 5555 5555 4444"]


# -- IBAN: one valid example per SEPA country, built from python-stdnum's registry data -------------
SEPA = ("AD AL AT BE BG CH CY CZ DE DK EE ES FI FR GB GI GR HR HU IE IS IT LI LT LU LV MC MD ME MK MT NL NO "
        "PL PT RO RS SE SI SK SM VA").split()
_IBAN_DAT = Path(stdnum.__file__).parent / "iban.dat"
_ELEMENT = re.compile(r"(\d+)!?([nac])")


def _bban_structure(country: str) -> str:
    for line in _IBAN_DAT.read_text().splitlines():
        if line.startswith(country + " "):
            return re.search(r'bban="([^"]+)"', line).group(1)
    raise LookupError(country)


def sepa_iban(country: str) -> str:
    """A valid IBAN for ``country``: random BBAN of the registry structure + computed check digits."""
    rnd = random.Random(country)
    alphabet = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    bban = "".join(rnd.choice(alphabet[kind]) for count, kind in _ELEMENT.findall(_bban_structure(country))
                   for _ in range(int(count)))
    return country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban


@pytest.mark.parametrize("country", SEPA)
def test_sepa_iban_found_compact_and_grouped(country):
    value = sepa_iban(country)
    assert stdnum_iban.is_valid(value, check_country=False)  # independent check of the fixture
    assert len(value) == iban.LENGTHS[country]
    grouped = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    for text, expected in [(f"IBAN {value}.", value), (f"Konto: {grouped}, danke", grouped), (value.lower(), value.lower())]:
        found = iban.find(text)
        assert spans(found, text) == [expected], text
        assert found[0].outcome is Validation.CONFIRMED


@pytest.mark.parametrize("country", SEPA[:10])
def test_sepa_iban_with_one_changed_digit_is_rejected(country):
    value = sepa_iban(country)
    last = value[-1]
    bad = value[:-1] + ("0" if last != "0" else "1") if last.isdigit() else value[:-1] + ("A" if last != "A" else "B")
    assert iban.find(f"IBAN {bad}") == []


# -- BIC ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected", "outcome"),
    [
        ("BIC: DEUTDEFFXXX", "DEUTDEFFXXX", Validation.CONFIRMED),
        ("SWIFT code COBADEFF for Commerzbank", "COBADEFF", Validation.CONFIRMED),
        ("swift/bic BNPAFRPPXXX", "BNPAFRPPXXX", Validation.CONFIRMED),
        ("Bank ABNANL2A in Amsterdam", "ABNANL2A", Validation.UNKNOWN),  # digit in the location code
        ("Barclays BARCGB22", "BARCGB22", Validation.UNKNOWN),
        ("UBS UBSWCHZH80A", None, None),  # branch has a digit, location has not: needs context
        ("BIC UBSWCHZH80A", "UBSWCHZH80A", Validation.CONFIRMED),
        ("AGRIFRPP882 alone", None, None),  # python-stdnum's example: valid shape, no context, no digit
        ("The BIC of the bank is AGRIFRPP882", "AGRIFRPP882", Validation.CONFIRMED),
    ],
)
def test_bic(text, expected, outcome):
    found = bic.find(text)
    assert spans(found, text) == ([expected] if expected else [])
    if expected:
        assert found[0].outcome is outcome


@pytest.mark.parametrize(
    "text",
    [
        "CUSTOMER SERVICE",  # CUST-OM-ER: Oman, but no digit and no context
        "PASSWORD",
        "BIC DEUTDEFF1",  # 9 characters
        "BIC DEUTDEFFXX",  # 10 characters
        "BIC Deutdeff",  # not all capitals
        "BIC ABCDXX2A",  # XX is no country
        "BIC AGRIF2PP",  # country with a digit
        "SWIFT: XDEUTDEFFXXX",
        "BIC is mentioned long before this point............................ DEUTDEFF",  # context too far
    ],
)
def test_bic_negatives(text):
    assert bic.find(text) == []


# -- ABA routing numbers --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Routing number 011000015", ["011000015"]),  # Federal Reserve Bank of Boston
        ("ABA: 021000021", ["021000021"]),
        ("RTN 111000025 (python-stdnum's example)", ["111000025"]),
        ("routing/transit 322271627", ["322271627"]),
        ("routing number 112000025", []),  # stdnum's bad-checksum example
        ("order 021000021 shipped", []),  # valid checksum, no context
        ("ABA 0210000210", []),  # ten digits
        ("routing number 021000021-5", []),
    ],
)
def test_aba(text, expected):
    found = aba.find(text)
    assert spans(found, text) == expected
    assert all(f.outcome is Validation.CONFIRMED and f.validator == "us.rtn" for f in found)


def test_aba_checksum_weights_are_3_7_1():
    number = "011000015"
    assert sum(int(d) * w for d, w in zip(number, (3, 7, 1) * 3, strict=True)) % 10 == 0
    assert aba.checksum_ok(number) and not aba.checksum_ok("011000016")


# -- negatives that trip other tools, for every detector ------------------------------------------
NEGATIVES = [
    "1700000000000",  # 13-digit ms timestamp
    "created 1700000000000 ms",
    "123e4567-e89b-12d3-a456-426614174000",  # UUID
    "order ORD-2026-000123",
    "2026-11-29",
    "29.11.2026",
    "EUR 1,234.56",
    "12.345,67 EUR",
    "SKU-4711-XL",
    "4111 1111 1111 1112",  # 16 digits failing Luhn
    "1.2.3.4.5",  # version string
    "v2.10.3",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_no_detector_fires_on_common_look_alikes(text):
    assert find_all(text, REGISTRY) == []


@pytest.mark.parametrize("text,cards", [
    ("12.03.2024 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
    ("Qty 12 4111 1111 1111 1111", ["4111 1111 1111 1111"]),
    ("EUR 100.00 4111111111111111", ["4111111111111111"]),
    ("4111 1111 1111 1111 - 99 - 5500 0000 0000 0004", ["4111 1111 1111 1111", "5500 0000 0000 0004"]),
    ("ts 1700000000004 2026", []),
])
def test_a_card_may_start_at_any_group_of_a_digit_run(text, cards) -> None:
    from replayvault.privacy.detectors import REGISTRY, find_all

    assert [text[f.start:f.end] for f in find_all(text, REGISTRY) if f.kind == "card"] == cards
