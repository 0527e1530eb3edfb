"""Detectors (recognizers) of personal data in free text, one per file, registered explicitly.

Each detector module declares ``KIND``, ``VALIDATOR``, ``PATTERNS`` (``(name, regex)`` pairs),
``CONTEXT`` words, ``validate(text, start, end, pattern) -> Validation`` (confirmed, unknown or
rejected), optionally ``spans(...)`` that cuts exact candidates out of a scanner hit, and
``find(text) -> list[Finding]``. :func:`find_all` runs the patterns of all the detectors it is
given in one pass (:mod:`._scanner`) and calls each hit's validator.

:data:`REGISTRY` is the one registry; a policy enables detectors by name with :func:`select`.
:data:`DETECTORS` is the default selection (what masking uses unless told otherwise).
To add a detector: write ``privacy/detectors/<name>.py`` and append it to :data:`REGISTRY`.
Validators keep bounded caches of their verdicts keyed by candidate strings (:mod:`._cache`);
:func:`clear_caches` empties them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, Iterable, Sequence

from ...errors import UnknownDetector
from . import aba, bic, bip39, card, crypto, email, iban, ip, national_id, otp, phone, secret, ssn
from ._cache import clear_caches
from ._finding import Finding, Validation
from ._scanner import Scanner, Spec, scanner_for, spec_of

__all__ = [
    "DETECTORS",
    "Detector",
    "REGISTRY",
    "Finding",
    "UnknownDetector",
    "Validation",
    "clear_caches",
    "find_all",
    "normalize",
    "resolve",
    "select",
]


@dataclass(frozen=True, slots=True)
class Detector:
    """A registered detector: its name (also the masking kind), its ``find`` function and its
    scanner :class:`~._scanner.Spec` (``None`` for a plain function, run on its own)."""

    name: str
    find: Callable[[str], list[Finding]]
    spec: Spec | None = None

    @classmethod
    def of(cls, module: ModuleType) -> Detector:
        """The detector declared by a detector module."""
        return cls(module.KIND, module.find, spec_of(module))


#: Every registered detector, in registry order.
REGISTRY: tuple[Detector, ...] = tuple(
    Detector.of(m) for m in (email, card, iban, bic, aba, ssn, national_id, phone, ip, crypto, bip39, secret, otp)
)

#: The default selection: what :func:`find_all` and masking run when not told otherwise.
DETECTORS: tuple[Detector, ...] = tuple(d for d in REGISTRY if d.name in ("email", "card", "iban"))


def select(names: Iterable[str]) -> tuple[Detector, ...]:
    """Return the registered detectors with these names, in registry order.

    Raises:
        UnknownDetector: a name is not registered.
    """
    wanted = set(names)
    by_name = {d.name: d for d in REGISTRY}
    for name in sorted(wanted):
        if name not in by_name:
            raise UnknownDetector(name, tuple(d.name for d in REGISTRY))
    return tuple(d for d in REGISTRY if d.name in wanted)


def _fold_table() -> dict[int, str]:
    table = {cp: " " for cp in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}
    table.update({cp: "-" for cp in (*range(0x2010, 0x2016), 0x2212, 0xFE63, 0xFF0D)})
    table.update({0xFF01 + i: chr(0x21 + i) for i in range(94)})  # fullwidth ASCII (０-９, Ａ-Ｚ, ＠, ...)
    # Decimal digits of other scripts (Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali).
    for zero in (0x0660, 0x06F0, 0x0966, 0x09E6):
        table.update({zero + i: str(i) for i in range(10)})
    # Invisible characters a page (or an attacker) can put inside a number: zero-width space and
    # joiners, word joiner, soft hyphen, bidi marks, BOM. Folded to a space: a separator.
    table.update({cp: " " for cp in (0x200B, 0x200C, 0x200D, 0x2060, 0x00AD, 0x200E, 0x200F, 0xFEFF)})
    return table


#: One-to-one character folding applied before detection: Unicode spaces and invisible characters
#: -> " ", dashes -> "-", fullwidth forms and other scripts' digits -> ASCII. Each character maps to exactly one, so spans stay valid offsets.
FOLD = _fold_table()
_FOLD_CHARS = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(FOLD)) + "]")


def _fold(m: re.Match[str]) -> str:
    return FOLD[ord(m.group())]


def normalize(text: str) -> str:
    """``text`` with :data:`FOLD` applied (same length, same offsets).

    Same result as ``text.translate(FOLD)``, but ASCII text is returned as is and other text
    only pays for the characters that change (``str.translate`` with a dict walks every
    character in Python-object space: ~14 MB/s on non-ASCII text).
    """
    if text.isascii():
        return text
    return _FOLD_CHARS.sub(_fold, text)


def find_all(text: str, detectors: Sequence[Detector] = DETECTORS) -> list[Finding]:
    """Run every detector on ``text`` (after :func:`normalize`); return all findings sorted by start (may overlap).

    The patterns of all detectors with a scanner spec are matched in one pass; detectors
    without one (a plain ``find`` function) run on their own.
    """
    text = normalize(text)
    scanner, plain = _plan(detectors)
    out = scanner.scan(text) if scanner is not None else []
    if plain:  # the scanner's findings are sorted already
        for det in plain:
            out.extend(det.find(text))
        out.sort(key=lambda f: (f.start, -(f.end - f.start)))
    return out


#: ``id(detectors) -> (detectors, scanner, plain detectors)`` of the last selections seen. The
#: selection itself is kept, so its id cannot be reused while its entry exists.
_PLANS: dict[int, tuple[Sequence[Detector], Scanner | None, tuple[Detector, ...]]] = {}


def _plan(detectors: Sequence[Detector]) -> tuple[Scanner | None, tuple[Detector, ...]]:
    """The compiled scanner of ``detectors`` and those without a scanner spec.

    A tuple is looked up by identity: masking passes the same tuple for every string, and
    hashing 13 detector dataclasses cost more than scanning a short text node. Any other
    sequence (a list may change) is planned afresh.
    """
    known = _PLANS.get(id(detectors))
    if known is not None and known[0] is detectors:
        return known[1], known[2]
    specs = tuple(d.spec for d in detectors if d.spec is not None)
    plan = (scanner_for(specs) if specs else None, tuple(d for d in detectors if d.spec is None))
    if type(detectors) is not tuple:
        return plan
    if len(_PLANS) >= 64:
        _PLANS.clear()
    _PLANS[id(detectors)] = (detectors, *plan)
    return plan


def resolve(findings: Sequence[Finding]) -> list[Finding]:
    """Drop findings that overlap an earlier (or, at the same start, longer) one.

    Used for counting: ``IBAN DE89 3704 ...`` is one IBAN, not also a card. Masking still
    covers the union of all spans.
    """
    kept: list[Finding] = []
    end = -1
    for f in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if f.start >= end:
            kept.append(f)
            end = f.end
    return kept
