"""The finding type shared by every detector (kept apart so detectors do not import the registry)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["CONFIDENCE", "Finding", "Validation"]


class Validation(str, Enum):
    """What a detector's validator said about a pattern match (presidio's three outcomes)."""

    CONFIRMED = "confirmed"  # checksum or structure proves it (Luhn, mod-97), or a required context word was found
    UNKNOWN = "unknown"  # no checksum exists (or none in this form); the pattern alone decided
    REJECTED = "rejected"  # never returned by ``find``: a validator's "no"


#: Score of a finding by outcome, in presidio's 0-1 range (``--json`` output of ``replayvault scan``).
CONFIDENCE: dict[Validation, float] = {Validation.CONFIRMED: 1.0, Validation.UNKNOWN: 0.5, Validation.REJECTED: 0.0}


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
    def confidence(self) -> float:
        """:data:`CONFIDENCE` of the outcome: 1.0 confirmed, 0.5 pattern only."""
        return CONFIDENCE[self.outcome]

    @property
    def evidence(self) -> str:
        """Short explanation for audit records, e.g. ``card/digits/luhn:confirmed``."""
        return f"{self.kind}/{self.pattern}/{self.validator}:{self.outcome.value}"
