"""How times and durations are shown to people (dashboard and CLI alike)."""

from __future__ import annotations

import datetime as dt

__all__ = ["when", "duration"]


def when(ms: int | None) -> str:
    """A Unix time in ms as ``YYYY-MM-DD HH:MM:SS UTC``; ``–`` when unknown."""
    if not ms:
        return "–"
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(ms: int) -> str:
    """A duration in ms as ``M:SS``, or ``H:MM:SS`` from one hour on."""
    s = ms // 1000
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
