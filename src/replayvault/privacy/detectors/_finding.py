"""The finding type shared by every detector (kept apart so detectors do not import the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Finding", "Validation"]


class Validation(str, Enum):
    """What a detector's validator said about a pattern match (presidio's three outcomes)."""

    CONFIRMED = "confirmed"  # checksum or structure proves it (Luhn, mod-97)
    UNKNOWN = "unknown"  # no validator for this kind; the pattern alone decided
    REJECTED = "rejected"  # never returned by ``find``; kept for detectors that report rejects


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data in a string. Holds offsets only, never the matched text."""

    kind: str  # detector name, also the masking kind ("email", "card", "iban")
    start: int
    end: int  # exclusive
    validator: str  # "luhn", "mod97", "none"
    outcome: Validation = Validation.UNKNOWN
    pattern: str = ""  # which pattern of the detector matched

    @property
    def evidence(self) -> str:
        """Short explanation for audit records, e.g. ``card/digits/luhn:confirmed``."""
        return f"{self.kind}/{self.pattern}/{self.validator}:{self.outcome.value}"
