"""The detectors' fast paths give the same answers as the slow ones they stand in for.

Each shortcut taken for throughput (benchmarks/pii.py) is checked against its reference:
context words found by the engine (a superset of ``ContextWords.before``), the engine-gated
patterns (same findings as ungated), the ``EXACT_GROUPING`` pre-check (never rejects what
libphonenumber accepts), BIP-39 and bech32 arithmetic (against python-mnemonic and the BIP-173
loop), Luhn, the candidate caches, and the patterns that carry a terminator (card runs, JWT,
Slack tokens, BIP-39 windows). Tables pin edge cases to the outputs of the code before the
shortcuts.
"""

from __future__ import annotations

import random
import re
import sys
from types import ModuleType

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic
from phonenumbers import Leniency

from replayvault.privacy.detectors import (
    REGISTRY, Validation, _scanner, bip39, card, clear_caches, crypto, find_all, ip, normalize, phone, secret,
)
from replayvault.privacy.detectors._phone_grouping import format_groups, may_be_exactly_grouped
from replayvault.privacy.detectors._scanner import Scanner, spec_of
from replayvault.privacy.detectors._cache import CACHE_SIZE, _CANDIDATE_CACHES
from replayvault.privacy.detectors._util import ASCII_WITH_NON_ASCII_CASE, ContextWords

from .pii_corpus import ROWS, parse

CORPUS = [parse(row) for row in ROWS]
SPECS = tuple(d.spec for d in REGISTRY)
MODULES = [sys.modules[f"replayvault.privacy.detectors.{d.name}"] for d in REGISTRY]
GATED = [(m, name, words, window) for m in MODULES for name, (words, window) in getattr(m, "REQUIRES_CONTEXT", {}).items()]


def spans(found, text):
    return [text[f.start : f.end] for f in found]


# -- context words found by the engine ------------------------------------------------------------
def test_ascii_letters_with_non_ascii_case_partners_are_exactly_i_k_s():
    everything = "".join(chr(cp) for cp in range(128, sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF)
    partnered = {c for c in "abcdefghijklmnopqrstuvwxyz" if re.search(c, everything, re.IGNORECASE)}
    assert partnered == set(ASCII_WITH_NON_ASCII_CASE) == {"i", "k", "s"}


_WORDS = sorted({w for _, _, cw, _ in GATED for w in cw.words} | {"Bestätigungscode", "TAN", "İD", "ss#", "Kontonummer"})
_FILLER = st.text(alphabet=" .:-_/#\n\t0123456789aZéİıKſ", max_size=12)


@pytest.fixture(scope="module")
def context_backends():
    """Backends that find only the context words of the gated patterns (one list each)."""
    lists = [words.prefilter() for _, _, words, _ in GATED]
    pytest.importorskip("hyperscan")
    return _scanner._ReBackend([], lists), _scanner._HyperscanBackend([], lists)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.tuples(_FILLER, st.sampled_from(_WORDS), st.sampled_from(["upper", "lower", "title"])),
                      min_size=1, max_size=4), tail=_FILLER)
def test_engine_context_hits_are_a_superset_of_before(parts, tail, context_backends):
    text = normalize("".join(f + getattr(w, case)() for f, w, case in parts) + tail + " 123456789")
    for backend in context_backends:
        ends = backend.hits(_scanner._ascii(text))[1]
        for (_module, _name, words, window), near in zip(GATED, ends):
            for start in range(len(text) + 1):
                if words.before(text, start, window):
                    assert _scanner._near(near, start, window), (text, start)


def test_prefilter_classes_cover_case_partners_and_other_scripts():
    words = ContextWords(["téléphone", "kiss"])
    assert words.prefilter() == (  # longest word first, as ContextWords orders them
        r"(?:^|[^A-Za-z0-9])[Tt][\x3f][Ll][\x3f][Pp][Hh][Oo][Nn][Ee]",
        r"(?:^|[^A-Za-z0-9])[\x3fKk][\x3fIi][\x3fSs][\x3fSs]",
    )


# -- patterns gated by their context words inside the engine --------------------------------------
def test_gated_patterns_are_the_fixed_width_ones_that_need_context():
    scanner = Scanner(SPECS)
    gated = {f"{scanner.table[pid][0].kind}/{scanner.table[pid][1]}" for pid, xid in enumerate(scanner.expression)
             if xid >= scanner.backend.n_plain}
    assert gated == {"aba/digits", "ssn/bare", "national_id/nl_bsn", "national_id/nl_bsn_dotted", "otp/digits"}
    assert [scanner.table[pid][1] for pid, e in enumerate(scanner.entries) if e.context >= 0] == ["fr_nif"]


@pytest.mark.parametrize(("module", "name", "words", "window"), GATED, ids=[f"{m.KIND}/{n}" for m, n, _, _ in GATED])
def test_required_context_patterns_keep_the_candidate_start_and_reject_without_context(module, name, words, window):
    ungated = dict(module.PATTERNS)[name]
    for text, _ in CORPUS:
        text = normalize(text)
        for m in re.finditer(ungated, text, re.ASCII):
            found = module.spans(text, m.start(), m.end(), name) if hasattr(module, "spans") else [m.span()]
            assert all(s == m.start() for s, _ in found)
            if not words.before(text, m.start(), window):
                assert all(module.validate(text, s, e, name) is Validation.REJECTED for s, e in found)


def _ungated(monkeypatch: pytest.MonkeyPatch) -> Scanner:
    monkeypatch.setattr(_scanner, "_fixed_width", lambda regex: None)
    return Scanner(SPECS)


def test_gating_changes_no_finding(monkeypatch):
    gated = Scanner(SPECS)
    ungated = _ungated(monkeypatch)
    # 40 patterns, 38 expressions: routing, SSN and BSN share "\\b[0-9]{9}" when not gated
    assert (ungated.backend.n_plain, ungated.backend.n, len(ungated.table)) == (38, 38, 40)
    rnd = random.Random(3)
    texts = [normalize(t) for t, _ in CORPUS]
    texts += ["".join(rnd.choice(texts) for _ in range(5)) for _ in range(200)]
    texts += ["routing " + "x" * 31 + " 322271627", "routing " + "x" * 32 + " 322271627", "TAN:4821", "ss#536904399"]
    for text in texts:
        assert gated.scan(text) == ungated.scan(text), text


def test_a_regex_shared_by_two_patterns_is_compiled_once():
    def module(name: str) -> ModuleType:
        m = ModuleType(f"fake_{name}")
        m.KIND, m.VALIDATOR, m.PATTERNS = name, "none", [("run", r"\b[0-9]{6}")]
        m.validate = lambda text, start, end, pattern: Validation.UNKNOWN
        return m

    scanner = Scanner((spec_of(module("a")), spec_of(module("b"))))
    assert scanner.expression == [0, 0]
    assert scanner.candidates("x 123456 y") == [(0, 2, 8), (1, 2, 8)]
    assert [(f.kind, f.start, f.end) for f in scanner.scan("x 123456 y")] == [("a", 2, 8), ("b", 2, 8)]


# -- EXACT_GROUPING pre-check ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "fmt", "expected"),
    [
        (r"(\d{3})(\d{3})(\d{4})", r"(\1) \2-\3", ((3, 3), (3, 3), (4, 4))),
        (r"(\d)(\d{3,4})", "$1 $2", ((1, 1), (3, 4))),
        (r"(\d{2})(\d{3})", "$1$2", ((5, 5),)),
        (r"(\d{3})(\d{4})", "NA", None),
        (r"(\d{3})([1-9]\d{3})", "$1 $2", None),  # not plain digit groups
        (r"(\d{3})(\d{4})", "$1 $2-", None),  # a trailing separator
    ],
)
def test_format_groups(pattern, fmt, expected):
    assert format_groups(pattern, fmt) == expected


@pytest.mark.parametrize(
    ("value", "region", "expected"),
    [
        ("95.83333333", "US", False),  # CSS percentage: US numbers end with a 4-digit group
        ("(212) 555-0123", "US", True),
        ("212-555-0123", "US", True),
        ("2125550123", "US", True),  # one group
        ("16.126.002-2", "IT", False),
        ("83.33333333", "IT", False),  # no Italian format, nor an alternate one for numbers starting 8
        ("02 1234 5678", "IT", True),
        ("61 234 56 78", "ES", False),
        ("612 34 56 78", "ES", True),
        ("666-12-3456", "ES", True),  # may be: the library itself then says no
        ("011 49 30 901820", "US", True),  # after the international prefix: another country's number
    ],
)
def test_exact_grouping_precheck(value, region, expected):
    assert may_be_exactly_grouped(value, region) is expected
    if not expected:
        assert not phone._parses_and_verifies(value, region, Leniency.EXACT_GROUPING)


def _written(rnd: random.Random) -> str:
    region = rnd.choice(phone.DEFAULT_REGIONS)
    kind = rnd.choice([phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE])
    example = phonenumbers.example_number_for_type(region, kind)
    nsn = str(example.national_number)
    number = phonenumbers.PhoneNumber(country_code=example.country_code,
                                      national_number=int(nsn[:-3] + f"{rnd.randrange(1000):03d}"))
    digits = re.sub(r"[^0-9]", "", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL))
    cuts = sorted(rnd.sample(range(1, len(digits)), rnd.randint(0, min(4, len(digits) - 1))))
    pieces = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)])]
    return "".join(p + rnd.choice([" ", "-", ".", "/", ") "]) for p in pieces[:-1]) + pieces[-1]


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_precheck_never_rejects_what_libphonenumber_accepts(seed):
    rnd = random.Random(seed)
    value = _written(rnd) if rnd.random() < 0.7 else "".join(rnd.choice("0123456789 .-/") for _ in range(rnd.randint(7, 16))).strip(" .-/") or "1"
    for region in phone.DEFAULT_REGIONS:
        if phone._parses_and_verifies(value, region, Leniency.EXACT_GROUPING):
            assert may_be_exactly_grouped(value, region), (value, region)


# -- arithmetic against the reference implementations ---------------------------------------------
def _reference_polymod(values: list[int]) -> int:  # BIP-173 "Checksum"
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            chk ^= generator[i] if ((top >> i) & 1) else 0
    return chk


@settings(max_examples=500, deadline=None)
@given(values=st.lists(st.integers(0, 31), max_size=90))
def test_polymod_and_regrouping_match_the_bip173_reference(values):
    assert crypto.bech32_polymod(values) == _reference_polymod(values)
    regrouped = crypto.convertbits(values, 5, 8, False)
    assert crypto._bytes_of(values) == (None if regrouped is None else bytes(regrouped))


@settings(max_examples=300, deadline=None)
@given(entropy=st.binary(min_size=32, max_size=32), words=st.sampled_from([12, 15, 18, 21, 24]),
       swap=st.integers(0, 23), other=st.integers(0, 2047))
def test_bip39_checksum_matches_python_mnemonic(entropy, words, swap, other):
    m = Mnemonic("english")
    phrase = m.to_mnemonic(entropy[: words * 4 // 3]).split()
    assert bip39.checksum_ok(phrase) and m.check(" ".join(phrase))
    phrase[swap % words] = m.wordlist[other]
    assert bip39.checksum_ok(phrase) == m.check(" ".join(phrase))


@settings(max_examples=300, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=24))
def test_luhn_matches_the_textbook_sum(digits):
    ds = [int(c) for c in digits]
    total = sum(ds[-1::-2]) + sum(sum(divmod(2 * d, 10)) for d in ds[-2::-2])
    assert card.luhn_ok(digits) == (total % 10 == 0)


# -- patterns with a terminator: the same spans as before -----------------------------------------
_M = Mnemonic("english")
_P12 = _M.to_mnemonic(bytes(range(16)))
_P24 = _M.to_mnemonic(bytes(range(32)))
_W = _P12.split()
_JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U")


@pytest.mark.parametrize(
    ("module", "text", "expected"),
    [
        (bip39, "\f".join(_W), []),  # the engine's window wants spaces, tabs or newlines
        (bip39, " ".join(_P24.split()[:12]) + "   " + " ".join(_P24.split()[12:]), [(0, 151, "confirmed")]),
        (bip39, "9" + " ".join(_W) + " abandonment", [(1, 75, "confirmed")]),  # last window word cut at 8 letters
        (bip39, "x " + " ".join(_W[:11]) + " abandonment", []),
        (bip39, _P12 + "Zoo", []),
        (bip39, _P12 + "\v" + _P12, [(0, 149, "unknown")]),
        (bip39, "  ".join(_W) + "\n" + "\t".join(_W), [(0, 160, "unknown")]),
        (card, "4111 1111 1111 1111", [(0, 19, "confirmed")]),
        (card, "4111 1111 1111 1111.", [(0, 19, "confirmed")]),
        (card, "4111 1111 1111 1111 - x", [(0, 19, "confirmed")]),
        (card, "4111 1111 1111 1111   5", [(0, 19, "confirmed")]),
        (card, "4111 1111 1111 1111    5", [(0, 19, "confirmed")]),
        (card, "4111-1111-1111-1111-", [(0, 19, "confirmed")]),
        (card, "4111111111111111x", []),
        (card, "12 4111 1111 1111 1111", [(3, 22, "confirmed")]),
        (secret, _JWT, [(0, 108, "confirmed")]),
        (secret, _JWT + ".", [(0, 108, "confirmed")]),
        (secret, _JWT[: _JWT.rindex(".") + 1], [(0, 65, "confirmed")]),  # empty signature, end of text
        (secret, _JWT[: _JWT.rindex(".") + 1] + " end", [(0, 65, "confirmed")]),
        (secret, _JWT + "_x", [(0, 110, "confirmed")]),
        (secret, "x" + _JWT, []),
        (secret, "xoxb-1234567890", [(0, 15, "unknown")]),
        (secret, "xoxb-1234567890_", []),
        (secret, "xoxb-1234567890-abc.", [(0, 19, "unknown")]),
        (ip, "fe80::1:2:3:4", [(0, 13, "confirmed")]),  # five candidates, one region
        (ip, "10:30:00", []),
        (ip, "00:1A:2B:3C:4D:5E", []),
        (ip, "::" * 25, []),
        (ip, "2001:db8::1.", [(0, 11, "confirmed")]),
    ],
    ids=lambda v: getattr(v, "KIND", None) if isinstance(v, ModuleType) else None,
)
def test_spans_of_patterns_with_a_terminator(module, text, expected):
    assert [(f.start, f.end, f.outcome.value) for f in module.find(text)] == expected


# -- candidate caches -----------------------------------------------------------------------------
def test_candidate_caches_are_bounded_and_cleared():
    find_all("\n".join(t for t, _ in CORPUS), REGISTRY)
    # phone 3, crypto 3, national_id 11 (one per pattern), bic, ssn and aba 1 each
    assert len(_CANDIDATE_CACHES) == 20
    assert all(c.cache_info().maxsize == CACHE_SIZE == 8192 for c in _CANDIDATE_CACHES)
    assert sum(c.cache_info().currsize for c in _CANDIDATE_CACHES) > 0
    clear_caches()
    assert sum(c.cache_info().currsize for c in _CANDIDATE_CACHES) == 0


def test_findings_do_not_depend_on_the_caches():
    texts = [t for t, _ in CORPUS]
    clear_caches()
    cold = [find_all(t, REGISTRY) for t in texts]
    warm = [find_all(t, REGISTRY) for t in reversed(texts)][::-1]
    assert cold == warm


def test_phone_cache_keys_include_the_regions(monkeypatch):
    text = "Appelez le 06 12 34 56 78"
    assert spans(phone.find(text), text) == ["06 12 34 56 78"]
    monkeypatch.setattr(phone, "DEFAULT_REGIONS", ("US",))
    assert phone.spans(text, 11, len(text), "national") == []


def test_a_changed_list_of_detectors_is_planned_afresh():
    detectors = [d for d in REGISTRY if d.name == "email"]
    assert [f.kind for f in find_all("jane@bank.com 4111 1111 1111 1111", detectors)] == ["email"]
    detectors.append(next(d for d in REGISTRY if d.name == "card"))
    assert [f.kind for f in find_all("jane@bank.com 4111 1111 1111 1111", detectors)] == ["email", "card"]
