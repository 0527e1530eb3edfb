"""Length-preserving masking of strings: every masked character becomes ``*``."""

from __future__ import annotations

import re
from typing import Iterable

from .detectors import Finding

__all__ = ["MASK_CHAR", "is_masked", "is_masked_text", "mask_all", "mask_non_space", "mask_spans"]

MASK_CHAR = "*"
_NON_SPACE = re.compile(r"\S")


def is_masked(text: str) -> bool:
    """True when ``text`` is non-empty and only ``*`` (masked already, e.g. by rrweb maskAllInputs)."""
    return bool(text) and text.count(MASK_CHAR) == len(text)


def is_masked_text(text: str) -> bool:
    """True when ``text`` holds at least one ``*`` and nothing but ``*`` and whitespace.

    That is the output of rrweb's default ``maskTextFn`` (``text.replace(/[\\S]/g, '*')``:
    ``"Jane Doe"`` -> ``"**** ***"``), which keeps spaces and line breaks, so the browser masked it.
    """
    return MASK_CHAR in text and not text.replace(MASK_CHAR, "").strip()


def mask_all(text: str) -> str:
    """``"jane@bank.com"`` -> ``"*************"`` (rrweb's default maskInputFn)."""
    return MASK_CHAR * len(text)


def mask_non_space(text: str) -> str:
    """Mask every non-whitespace character, keeping spaces and line breaks (rrweb's maskTextFn)."""
    return _NON_SPACE.sub(MASK_CHAR, text)


def mask_spans(text: str, findings: Iterable[Finding]) -> str:
    """Mask the union of the findings' spans in ``text``."""
    chars = list(text)
    for f in findings:
        chars[f.start : f.end] = MASK_CHAR * (f.end - f.start)
    return "".join(chars)
