"""Funnels: how many sessions went through ordered steps, where they dropped, how long each step took.

A step is a URL pattern (``*`` wildcards, matched against URLs without query and fragment; a
pattern starting with ``/`` matches the path only: see :mod:`._patterns`) or ``event:NAME`` (a
``replayvault.track(NAME)`` event, exact name). A session's *journey* is its page views and named
events in time order (a page view before an event of the same millisecond).

Rules:

* a session reaches step 1 at the first journey item matching it, and step k at the first item
  *after* the one that reached step k-1 matching step k (greedy, earliest; one item never
  counts for two steps, so ``/a`` then ``/a`` needs two page views of ``/a``);
* ``reached`` counts sessions reaching the step; ``conversion_from_first`` = reached / reached at
  step 1, ``conversion_from_previous`` = reached / reached at the previous step (None for step 1 or
  when the divisor is 0);
* ``dropped`` counts sessions whose last reached step is this one (0 at the last step, whose
  sessions *completed*), ``drop_off`` = dropped / reached, ``dropped_sessions`` their ids (sorted);
* ``median_ms_from_previous``: median over the sessions reaching the step of (time of the item
  reaching it - time of the item reaching the previous step), ms; None for step 1;
* splits: by viewport class and by entry page, both taken from the session's first page view
  (``"unknown"`` when its viewport was not recorded);
* ``since_ms <= session start < until_ms`` (epoch ms) and ``project_id`` choose the sessions.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInput
from ._patterns import UrlMatcher, url_matcher
from .behaviour import MAX_EVENT_NAME
from .store import AnalyticsStore

__all__ = ["Journey", "Step", "compute_funnel", "funnel", "journeys", "parse_steps", "MAX_STEPS"]

#: Most steps in one funnel.
MAX_STEPS = 20
EVENT_PREFIX = "event:"


@dataclass(frozen=True)
class Step:
    """One funnel step: ``kind`` ``"url"`` (``value`` a URL pattern) or ``"event"`` (``value`` an event name)."""

    kind: str
    value: str
    regex: UrlMatcher | None = None

    def matches(self, kind: str, value: str) -> bool:
        """True when a journey item ``(kind, value)`` satisfies this step."""
        if kind != self.kind:
            return False
        return bool(self.regex.match(value)) if self.regex is not None else value == self.value

    @property
    def label(self) -> str:
        """The step as written (``event:NAME`` or the URL pattern)."""
        return EVENT_PREFIX + self.value if self.kind == "event" else self.value


@dataclass
class Journey:
    """One session's page views and named events: ``items`` are ``(ts_ms, kind, value)`` in time order."""

    session_id: str
    start_ms: int | None
    device_class: str
    entry_url: str | None
    items: list[tuple[int, str, str]] = field(default_factory=list)


def parse_steps(values: Sequence[str]) -> list[Step]:
    """Steps from their text form (``/pay*``, ``https://bank.example/login``, ``event:transfer_done``).

    Raises:
        InvalidInput: fewer than 2 or more than :data:`MAX_STEPS` steps, or a step that is empty,
            an ``event:`` without a name, or too long (the message names the step by number).
    """
    if not 2 <= len(values) <= MAX_STEPS:
        raise InvalidInput(f"a funnel needs 2 to {MAX_STEPS} steps, got {len(values)}")
    steps = []
    for i, text in enumerate(values, 1):
        text = text.strip()
        if text.startswith(EVENT_PREFIX):
            name = text[len(EVENT_PREFIX):].strip()
            if not name or len(name) > MAX_EVENT_NAME:
                raise InvalidInput(f"step {i}: an event step needs a name of 1 to {MAX_EVENT_NAME} characters "
                                   f"after 'event:'")
            steps.append(Step("event", name))
        else:
            try:
                steps.append(Step("url", text, url_matcher(text)))
            except InvalidInput as exc:
                raise InvalidInput(f"step {i}: {exc}") from None
    return steps


def journeys(store: AnalyticsStore, *, project_id: str | None = None, since_ms: int | None = None,
             until_ms: int | None = None) -> list[Journey]:
    """Journeys of the sessions starting in ``[since_ms, until_ms)`` (of ``project_id``), by session id."""
    chosen = {s["session_id"]: s for s in store.sessions(project_id)
              if (since_ms is None or (s["start_ms"] is not None and s["start_ms"] >= since_ms))
              and (until_ms is None or (s["start_ms"] is not None and s["start_ms"] < until_ms))}
    out = {sid: Journey(sid, s["start_ms"], "unknown", None) for sid, s in chosen.items()}
    first: dict[str, tuple[int, int]] = {}
    for pv in store.behaviour_rows("page_views", project_id=project_id):
        j = out.get(pv["session_id"])
        if j is None:
            continue
        j.items.append((int(pv["ts_ms"]), "url", pv["url"]))
        key = (int(pv["ts_ms"]), int(pv["page_view"]))
        if pv["session_id"] not in first or key < first[pv["session_id"]]:
            first[pv["session_id"]] = key
            j.entry_url, j.device_class = pv["url"], pv["device_class"] or "unknown"
    for ev in store.behaviour_rows("track_events", project_id=project_id):
        j = out.get(ev["session_id"])
        if j is not None:
            j.items.append((int(ev["ts_ms"]), "event", ev["name"]))
    for j in out.values():
        j.items.sort(key=lambda it: (it[0], it[1] != "url"))
    return [out[sid] for sid in sorted(out)]


def _reach(journey: Journey, steps: Sequence[Step]) -> list[int]:
    """Times (ms) of the items reaching steps 1..k (k = steps reached) for one journey."""
    times: list[int] = []
    pos = 0
    for step in steps:
        while pos < len(journey.items):
            ts, kind, value = journey.items[pos]
            pos += 1
            if step.matches(kind, value):
                times.append(ts)
                break
        else:
            break
    return times


def compute_funnel(items: Sequence[Journey], steps: Sequence[Step], *, with_ids: bool = True) -> dict[str, Any]:
    """The funnel of ``items`` (pure): ``{"sessions", "entered", "completed", "steps": [...]}``.

    Each step: ``step``, ``kind``, ``reached``, ``conversion_from_first``, ``conversion_from_previous``,
    ``dropped``, ``drop_off``, ``median_ms_from_previous`` and (``with_ids``) ``dropped_sessions``.
    """
    reached: list[list[str]] = [[] for _ in steps]
    gaps: list[list[int]] = [[] for _ in steps]
    dropped: list[list[str]] = [[] for _ in steps]
    for j in items:
        times = _reach(j, steps)
        for k, ts in enumerate(times):
            reached[k].append(j.session_id)
            if k:
                gaps[k].append(ts - times[k - 1])
        if 0 < len(times) < len(steps):
            dropped[len(times) - 1].append(j.session_id)
    rows = []
    for k, step in enumerate(steps):
        n = len(reached[k])
        row: dict[str, Any] = {
            "step": step.label, "kind": step.kind, "reached": n,
            "conversion_from_first": n / len(reached[0]) if reached[0] else None,
            "conversion_from_previous": n / len(reached[k - 1]) if k and reached[k - 1] else None,
            "dropped": len(dropped[k]), "drop_off": len(dropped[k]) / n if n else None,
            "median_ms_from_previous": float(statistics.median(gaps[k])) if gaps[k] else None,
        }
        if with_ids:
            row["dropped_sessions"] = sorted(dropped[k])
        rows.append(row)
    return {"sessions": len(items), "entered": len(reached[0]), "completed": len(reached[-1]), "steps": rows}


def funnel(store: AnalyticsStore, steps: Sequence[str], *, project_id: str | None = None,
           since_ms: int | None = None, until_ms: int | None = None) -> dict[str, Any]:
    """The funnel over the stored sessions, with splits (see the module rules).

    Returns :func:`compute_funnel`'s dict plus ``by_viewport`` (``{class: funnel without ids}``) and
    ``by_entry_page`` (``[{"entry_url", **funnel without ids}]``, most sessions first); only sessions
    that entered the funnel (reached step 1) appear in the splits.

    Raises:
        InvalidInput: a bad step (see :func:`parse_steps`).
    """
    parsed = parse_steps(steps)
    everyone = journeys(store, project_id=project_id, since_ms=since_ms, until_ms=until_ms)
    entered = [j for j in everyone if _reach(j, parsed[:1])]
    by_class: dict[str, list[Journey]] = defaultdict(list)
    by_entry: dict[str, list[Journey]] = defaultdict(list)
    for j in entered:
        by_class[j.device_class].append(j)
        by_entry[j.entry_url or "unknown"].append(j)
    result = compute_funnel(everyone, parsed)
    result["by_viewport"] = {c: compute_funnel(js, parsed, with_ids=False) for c, js in sorted(by_class.items())}
    entries = [{"entry_url": url, **compute_funnel(js, parsed, with_ids=False)} for url, js in by_entry.items()]
    result["by_entry_page"] = sorted(entries, key=lambda e: (-e["sessions"], e["entry_url"]))
    return result
