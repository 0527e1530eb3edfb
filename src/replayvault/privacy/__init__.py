"""Privacy: server-side masking of rrweb events before anything is stored.

Public API::

    state = MaskState()                      # or MaskState.from_dict(json.loads(stored))
    result = mask_events(events, state)      # result.events, result.counts, result.records
    stored = json.dumps(state.to_dict())
"""

from __future__ import annotations

from .detectors import DETECTORS, Detector, Finding, UnknownDetector, Validation
from .masking import KINDS, MaskRecord, MaskResult, mask_events
from .state import MalformedState, MaskState
from .urls import scrub_url

__all__ = [
    "DETECTORS",
    "Detector",
    "Finding",
    "KINDS",
    "MalformedState",
    "MaskRecord",
    "MaskResult",
    "MaskState",
    "UnknownDetector",
    "Validation",
    "mask_events",
    "scrub_url",
]
