"""Formatting of times and durations."""

from __future__ import annotations

import pytest

from replayvault.display import duration, when


def test_when() -> None:
    assert when(None) == "–" and when(0) == "–"
    assert when(1_700_000_000_000) == "2023-11-14 22:13:20 UTC"  # Unix time 1.7e9 s


@pytest.mark.parametrize(("ms", "text"), [(0, "0:00"), (999, "0:00"), (224_000, "3:44"), (3_599_999, "59:59"),
                                          (3_725_000, "1:02:05")])
def test_duration(ms: int, text: str) -> None:
    assert duration(ms) == text
