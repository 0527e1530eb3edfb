"""Detectors (recognizers) of personal data in free text, one per file, registered explicitly.

Each detector module declares ``KIND``, ``PATTERNS``, ``CONTEXT`` and ``find(text) -> list[Finding]``.
:data:`DETECTORS` is the one registry; a policy enables detectors by name with :func:`select`.
To add a detector: write ``privacy/detectors/<name>.py`` and append it to :data:`DETECTORS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from ...errors import UnknownDetector
from . import card, email, iban
from ._finding import Finding, Validation

__all__ = [
    "DETECTORS",
    "Detector",
    "Finding",
    "UnknownDetector",
    "Validation",
    "find_all",
    "resolve",
    "select",
]


@dataclass(frozen=True, slots=True)
class Detector:
    """A registered detector: its name (also the masking kind) and its ``find`` function."""

    name: str
    find: Callable[[str], list[Finding]]


#: Every detector, in the order they run.
DETECTORS: tuple[Detector, ...] = (
    Detector(email.KIND, email.find),
    Detector(card.KIND, card.find),
    Detector(iban.KIND, iban.find),
)


def select(names: Iterable[str]) -> tuple[Detector, ...]:
    """Return the registered detectors with these names, in registry order.

    Raises:
        UnknownDetector: a name is not registered.
    """
    wanted = set(names)
    by_name = {d.name: d for d in DETECTORS}
    for name in sorted(wanted):
        if name not in by_name:
            raise UnknownDetector(name, tuple(d.name for d in DETECTORS))
    return tuple(d for d in DETECTORS if d.name in wanted)


def _fold_table() -> dict[int, str]:
    table = {cp: " " for cp in (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}
    table.update({cp: "-" for cp in (*range(0x2010, 0x2016), 0x2212, 0xFE63, 0xFF0D)})
    table.update({0xFF01 + i: chr(0x21 + i) for i in range(94)})  # fullwidth ASCII (０-９, Ａ-Ｚ, ＠, ...)
    return table


#: One-to-one character folding applied before detection: Unicode spaces -> " ", dashes -> "-",
#: fullwidth forms -> ASCII. Each character maps to exactly one, so spans stay valid offsets.
FOLD = _fold_table()


def normalize(text: str) -> str:
    """``text`` with :data:`FOLD` applied (same length, same offsets)."""
    return text.translate(FOLD)


def find_all(text: str, detectors: Sequence[Detector] = DETECTORS) -> list[Finding]:
    """Run every detector on ``text`` (after :func:`normalize`); return all findings sorted by start (may overlap)."""
    out: list[Finding] = []
    text = normalize(text)
    for det in detectors:
        out.extend(det.find(text))
    out.sort(key=lambda f: (f.start, -(f.end - f.start)))
    return out


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
