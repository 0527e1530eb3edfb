"""Frustration signals read back from the store: counts per page and kind, and one session's markers.

The signals themselves are found by :mod:`.behaviour` (rules and numbers there): ``rage_click``,
``dead_click``, ``error_click``, ``u_turn``, ``thrashed_cursor``. Times are epoch ms, positions page
px. A date range is half-open on the signal's time: ``since_ms <= ts_ms < until_ms``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..errors import InvalidInput, NotFound
from .behaviour import KINDS
from .store import AnalyticsStore

__all__ = ["KINDS", "parse_kinds", "signal_summary", "session_signals"]

#: Most selector rows :func:`signal_summary` returns.
TOP_SELECTORS = 50


def parse_kinds(values: Iterable[str] | None) -> tuple[str, ...]:
    """Validated signal kinds (duplicates dropped, order kept); ``()`` for none.

    Raises:
        InvalidInput: an unknown kind (the message names it and lists the known ones).
    """
    out: list[str] = []
    for v in values or ():
        if v not in KINDS:
            raise InvalidInput(f"unknown signal kind {v[:40]!r}; known kinds: {', '.join(KINDS)}")
        if v not in out:
            out.append(v)
    return tuple(out)


def signal_summary(store: AnalyticsStore, *, project_id: str | None = None, url: str | None = None,
                   kinds: Iterable[str] = (), since_ms: int | None = None,
                   until_ms: int | None = None) -> dict[str, Any]:
    """Signal counts for a dashboard.

    Returns ``{"total": n, "by_url_kind": [{"url", "kind", "signals", "sessions", "clicks"}],
    "by_selector": [{"url", "kind", "selector", "signals", "sessions"}]}``: ``signals`` counts signal
    rows, ``sessions`` distinct sessions, ``clicks`` the clicks inside them (a rage burst counts its
    clicks; other click kinds 1 each; 0 for u-turns and thrashes). ``by_url_kind`` is sorted by
    signals (most first), then URL and kind in :data:`KINDS` order; ``by_selector`` holds the
    :data:`TOP_SELECTORS` most frequent targets of click signals (rows without a selector left out).

    Raises:
        InvalidInput: an unknown kind.
    """
    rows = store.behaviour_rows("signals", project_id=project_id, url=url, kinds=parse_kinds(kinds),
                                since_ms=since_ms, until_ms=until_ms)
    by_kind: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, set(), 0])
    by_sel: dict[tuple[str, str, str], list[Any]] = defaultdict(lambda: [0, set()])
    for r in rows:
        agg = by_kind[(r["url"], r["kind"])]
        agg[0] += 1
        agg[1].add(r["session_id"])
        agg[2] += int(r["count"]) if r["kind"].endswith("_click") else 0
        if r["selector"] and r["kind"].endswith("_click"):
            sel = by_sel[(r["url"], r["kind"], r["selector"])]
            sel[0] += 1
            sel[1].add(r["session_id"])
    order = {k: i for i, k in enumerate(KINDS)}
    counts = [{"url": u, "kind": k, "signals": n, "sessions": len(s), "clicks": c}
              for (u, k), (n, s, c) in by_kind.items()]
    counts.sort(key=lambda d: (-d["signals"], d["url"], order[d["kind"]]))
    selectors = [{"url": u, "kind": k, "selector": sel, "signals": n, "sessions": len(s)}
                 for (u, k, sel), (n, s) in by_sel.items()]
    selectors.sort(key=lambda d: (-d["signals"], d["url"], order[d["kind"]], d["selector"]))
    return {"total": len(rows), "by_url_kind": counts, "by_selector": selectors[:TOP_SELECTORS]}


def session_signals(store: AnalyticsStore, session_id: str) -> dict[str, Any]:
    """Markers for a replay timeline: ``{"session_id", "start_ms", "signals": [...]}``.

    Each marker: ``kind``, ``ts_ms`` (epoch ms), ``offset_ms`` (``ts_ms - start_ms``, where the replay
    should seek), ``page_view``, ``url``, ``x``, ``y`` (page px or None), ``selector``, ``count``,
    ``duration_ms``; in time order.

    Raises:
        NotFound: the analytics store has no such session.
    """
    summary = store.session(session_id)
    if summary is None:
        raise NotFound("no such session")
    start = summary["start_ms"]
    marks = []
    for r in store.behaviour_rows("signals", session_id=session_id):
        marks.append({"kind": r["kind"], "ts_ms": r["ts_ms"],
                      "offset_ms": r["ts_ms"] - start if start is not None else None,
                      "page_view": r["page_view"], "url": r["url"], "x": r["x"], "y": r["y"],
                      "selector": r["selector"], "count": r["count"], "duration_ms": r["duration_ms"]})
    marks.sort(key=lambda m: (m["ts_ms"], m["kind"]))
    return {"session_id": session_id, "start_ms": start, "signals": marks}
