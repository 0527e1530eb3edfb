"""The one-pass scanner, the registry, and precision/recall of find_all over the labelled corpus."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replayvault.privacy.detectors import DETECTORS, REGISTRY, Detector, Finding, Validation, find_all, normalize, select
from replayvault.privacy.detectors import _scanner
from replayvault.privacy.detectors._scanner import Scanner

from .pii_corpus import ROWS, parse

CORPUS = [parse(row) for row in ROWS]
SPECS = tuple(d.spec for d in REGISTRY)


@pytest.fixture(scope="module")
def backends() -> tuple[Scanner, Scanner]:
    """The same detectors compiled for Hyperscan and for Python re (compiling takes a while)."""
    pytest.importorskip("hyperscan")
    return Scanner(SPECS, backend="hyperscan"), Scanner(SPECS, backend="re")


def test_corpus_is_large_and_mixed():
    assert len(CORPUS) >= 200
    positives = sum(1 for _, labels in CORPUS if labels)
    assert 0.3 * len(CORPUS) < positives < 0.8 * len(CORPUS)
    assert {k for _, labels in CORPUS for k, _, _ in labels} == {d.name for d in REGISTRY}


def test_find_all_recall_and_precision_over_the_corpus():
    expected, found = set(), set()
    for i, (text, labels) in enumerate(CORPUS):
        expected |= {(i, *label) for label in labels}
        found |= {(i, f.kind, f.start, f.end) for f in find_all(text, REGISTRY)}
    true_pos = expected & found
    missed = sorted(expected - found)
    wrong = sorted(found - expected)
    assert len(true_pos) / len(expected) == 1.0, [(CORPUS[i][0][s:e], k) for i, k, s, e in missed]
    assert len(true_pos) / len(found) >= 0.99, [(CORPUS[i][0][s:e], k) for i, k, s, e in wrong]


@pytest.mark.parametrize(("text", "labels"), CORPUS[:5])
def test_corpus_offsets_are_character_offsets(text, labels):
    for _kind, start, end in labels:
        assert 0 <= start < end <= len(text)


# -- registry -------------------------------------------------------------------------------------
def test_registry_holds_every_detector_once_and_defaults_stay_small():
    names = [d.name for d in REGISTRY]
    assert names == ["email", "card", "iban", "bic", "aba", "ssn", "national_id", "phone", "ip", "crypto",
                     "bip39", "secret", "otp"]
    assert [d.name for d in DETECTORS] == ["email", "card", "iban"]
    assert [d.name for d in select(["otp", "phone", "card"])] == ["card", "phone", "otp"]


@pytest.mark.parametrize("det", REGISTRY, ids=lambda d: d.name)
def test_every_detector_module_declares_the_constants(det):
    import importlib

    module = importlib.import_module(f"replayvault.privacy.detectors.{det.name}")
    assert module.KIND == det.name
    assert isinstance(module.VALIDATOR, str) and module.VALIDATOR
    assert module.CONTEXT and all(isinstance(w, str) for w in module.CONTEXT)
    assert module.PATTERNS and all(isinstance(n, str) and isinstance(rx, str) for n, rx in module.PATTERNS)
    assert len({n for n, _ in module.PATTERNS}) == len(module.PATTERNS)
    assert callable(module.validate) and callable(module.find)


def test_a_plain_find_function_still_works_as_a_detector():
    def shout(text: str) -> list[Finding]:
        i = text.find("HELLO")
        return [] if i < 0 else [Finding("shout", i, i + 5, "none")]

    found = find_all("say HELLO to jane@bank.com", (Detector("shout", shout), *DETECTORS))
    assert [(f.kind, f.start) for f in found] == [("shout", 4), ("email", 13)]


# -- scanner --------------------------------------------------------------------------------------
def test_hyperscan_compiles_every_pattern_in_one_database():
    pytest.importorskip("hyperscan")
    scanner = Scanner(SPECS, backend="hyperscan")
    assert scanner.backend is not None and scanner.backend.name == "hyperscan"
    assert len(scanner.table) == sum(len(s.patterns) for s in SPECS)
    assert _scanner.scanner_for(SPECS).backend.name == "hyperscan"  # the default picks it too


def test_candidates_keep_the_leftmost_start_and_furthest_end():
    spec = _scanner.spec_of(__import__("replayvault.privacy.detectors.aba", fromlist=["x"]))
    for backend in ("re", "hyperscan"):
        if backend == "hyperscan":
            pytest.importorskip("hyperscan")
        scanner = Scanner((spec,), backend=backend)
        # "\b[0-9]{9}": one candidate per run start, none inside the run; gated by the routing
        # context words (REQUIRES_CONTEXT), so only runs within 40 characters after one count
        assert scanner.candidates("routing x 123456789012 y 987654321") == [(0, 10, 19), (0, 25, 34)]
        assert scanner.candidates("x 123456789012 y 987654321") == []
        assert scanner.candidates("ABA " + "x" * 36 + " 123456789 " + "y" * 40 + " 987654321") == [(0, 41, 50)]


TRICKY = [text for text, _ in CORPUS] + [
    "a@b@c.com jane@@x.de", "AB12CD34EF56 DE89370400440532013000DE89370400440532013000",
    "1.2.3.4.5.6.7.8 ::1:: :::: 1:2:3:4:5:6:7:8:9", "0x" + "a" * 100, "abandon " * 30,
    "4111 1111 1111 1111 5555 5555 5555 4444", "+49 30 123456 +49 30 123457 (030) 123456",
    "Grüße\u00a0DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000 ０３０ １２３４５６",
]


@pytest.mark.parametrize("text", TRICKY)
def test_hyperscan_and_re_backends_agree(text, backends):
    text = normalize(text)
    hs, rx = backends
    assert hs.candidates(text) == rx.candidates(text)
    assert hs.scan(text) == rx.scan(text)


_ALPHABET = "0123456789 .-:/@+()abcdefxyzABCDEFXYZ_\n"


@settings(max_examples=200, deadline=None)
@given(noise=st.text(alphabet=_ALPHABET, max_size=80), value=st.sampled_from([t for t, labels in CORPUS if labels]))
def test_backends_agree_on_random_text_around_real_values(noise, value, backends):
    text = normalize(noise[:40] + value + noise[40:])
    assert backends[0].candidates(text) == backends[1].candidates(text)


def test_findings_never_carry_rejected_outcomes():
    for text, _ in CORPUS:
        assert all(f.outcome is not Validation.REJECTED for f in find_all(text, REGISTRY))


def test_non_ascii_text_keeps_character_offsets():
    text = "Grüße 😀 an jane@bank.com — ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００"
    found = find_all(text, REGISTRY)
    assert [(f.kind, text[f.start:f.end]) for f in found] == [
        ("email", "jane@bank.com"), ("iban", "ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００")]


def test_normalize_matches_str_translate():
    from replayvault.privacy.detectors import FOLD

    text = "a\u00a0b\u2011c\uff10\u3000d—e😀\u2212f"
    assert normalize(text) == text.translate(FOLD)
    assert normalize("plain ascii") == "plain ascii"
