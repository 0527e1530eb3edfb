"""The pure pipeline step: drop out-of-scope pages, mask the rest, then extract analytics facts and behaviour.

``process_batch(batch, state) -> ProcessedBatch`` does no I/O, so the same code runs inside the HTTP
request (embedded default) or in a queue consumer (scale-out). Sealing (encryption) and persistence
are the caller's next steps (see :mod:`replayvault.ingest.service`).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any

from .analytics.behaviour import Behaviour, BehaviourState, extract_behaviour
from .analytics.facts import MAX_PX, Facts, FactState, extract_facts, strip_url
from .governance.scope import OUT_OF_SCOPE, ScopeResult, filter_scope
from .privacy.evidence import EvidenceRow, summarize
from .privacy.evidence import incidents as count_incidents
from .privacy.masking import MaskState, mask_events
from .privacy.policy import STRICT, Policy
from .rrweb import EventType
from .types import Event

__all__ = ["Batch", "ProcessedBatch", "SessionState", "encode_events", "process_batch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    """One ingest batch: rrweb events of one session (and browser window) with its sequence number."""

    project_id: str
    session_id: str
    seq: int
    events: list[Event]
    window_id: str = ""
    #: The project's privacy policy (strict by default).
    policy: Policy = STRICT


#: Node maps kept per session: one per browser window (page load or duplicated tab), newest last.
MAX_WINDOWS = 4


@dataclass(frozen=True)
class SessionState:
    """Per-session pipeline state carried between batches, as JSON-safe dicts (no personal data).

    ``mask`` is ``{"windows": {window_id: MaskState dict}}``: rrweb node ids are per window (a
    full snapshot in one tab must not erase what another tab's node map knows, e.g. that node 11
    is a textarea's text), so each window keeps its own node map (the :data:`MAX_WINDOWS` most
    recent). ``facts`` is a :class:`~replayvault.analytics.facts.FactState` dict; ``page`` the latest
    Meta event's page (``{"href", "width"}``), for a FullSnapshot that arrives in the next batch;
    ``behaviour`` a :class:`~replayvault.analytics.behaviour.BehaviourState` dict (``{}`` in states
    stored before it existed: the extractor starts fresh).

    ``scope`` is the capture-scope state (:mod:`replayvault.governance.scope`), per window like
    ``mask`` since tabs show different pages: ``{"windows": {window_id: scope state}, "unknown":
    scope state}``, where ``unknown`` is how a window the state does not list starts. ``{}`` (a new
    session, or a state stored before capture scope existed): every window starts in scope. Once a
    scope with patterns has run, ``unknown`` is out of scope until an in-scope URL and a FullSnapshot
    (a window dropped from the :data:`MAX_SCOPE_WINDOWS` kept, or a tab that never sent a Meta event,
    is not trusted). With no patterns the scope state is left as it is.
    """

    mask: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)
    behaviour: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] = field(default_factory=dict)


#: Capture-scope states kept per session (one small dict per window, newest last).
MAX_SCOPE_WINDOWS = 16


@dataclass(frozen=True)
class ProcessedBatch:
    """Result of :func:`process_batch`.

    ``payload`` is the UTF-8 JSON array of the masked events (the bytes that get sealed);
    ``maskings`` maps masking kind -> count for this batch; ``state`` is the session state after it.
    """

    events: list[Event]
    payload: bytes
    maskings: dict[str, int]
    facts: Facts
    state: SessionState
    first_ts: int | None
    last_ts: int | None
    has_full_snapshot: bool
    #: One ``(url, width px, timestamp ms)`` per FullSnapshot with a known page (Meta before it).
    page_snapshots: tuple[tuple[str, int | None, int], ...] = ()
    #: Maskings by kind, location and who masked (privacy.evidence); ``incidents`` counts the
    #: personal data the browser should have masked but sent in clear.
    evidence: tuple[EvidenceRow, ...] = ()
    incidents: int = 0
    #: Frustration signals, form facts and named events of this batch (analytics.behaviour).
    behaviour: Behaviour = field(default_factory=Behaviour)
    #: Events dropped as out of the capture scope (before masking), and per deciding pattern
    #: (governance.scope: ``""`` = no allow pattern matched or the page was unknown).
    scope_dropped: int = 0
    scope_rules: dict[str, int] = field(default_factory=dict)
    #: DomContentLoaded/Load events dropped with an out-of-scope window but not counted (no content).
    scope_silent: int = 0


def encode_events(events: list[Event]) -> bytes:
    """Compact UTF-8 JSON of an event list (the plaintext of a chunk)."""
    return json.dumps(events, separators=(",", ":"), ensure_ascii=False).encode()


def process_batch(batch: Batch, state: SessionState) -> ProcessedBatch:
    """Drop the events of pages outside ``batch.policy.capture_scope``, mask the rest with the session's
    node map, then extract facts from the masked events.

    Pure: ``batch`` and ``state`` are left unchanged; the new state is returned. When every event is
    out of scope the result has no events (``payload`` ``b"[]"``, ``scope_dropped + scope_silent == len(batch.events)``).

    Only masking can reject a batch. Analytics (facts, behaviour) never do: an unreadable analytics
    state starts fresh, and an extractor that fails on an odd event shape yields no analytics for
    this batch and keeps the previous analytics state (the exception type is logged, nothing else).

    Raises:
        MalformedBatch: an event cannot be processed (the message names its index, never its content).
    """
    scoped, scope_state = _scope(batch, state.scope)
    windows: dict[str, Any] = dict(state.mask.get("windows") or {})
    mask_state = MaskState.from_dict(windows.pop(batch.window_id, {}))
    masked = mask_events(scoped.events, mask_state, policy=batch.policy)
    evidence = summarize(masked.records)
    fact_state = _load_state(FactState, state.facts)
    try:
        facts = extract_facts(masked.events, fact_state)
    except Exception as exc:  # noqa: BLE001 - analytics must never reject an accepted batch
        log.warning("facts extraction skipped for a batch (%s)", type(exc).__name__)
        facts, fact_state = Facts(), _load_state(FactState, state.facts)
    behaviour_state = _load_state(BehaviourState, state.behaviour)
    try:
        behaviour = extract_behaviour(masked.events, behaviour_state, facts.page_views)
    except Exception as exc:  # noqa: BLE001
        log.warning("behaviour extraction skipped for a batch (%s)", type(exc).__name__)
        behaviour, behaviour_state = Behaviour(), _load_state(BehaviourState, state.behaviour)
    stamps = [int(e["timestamp"]) for e in masked.events]
    pages, last_meta = _page_snapshots(masked.events, state.page)
    return ProcessedBatch(
        events=masked.events,
        payload=encode_events(masked.events),
        maskings={k: v for k, v in masked.counts.items() if v},
        facts=facts,
        state=SessionState(mask={"windows": _keep_recent(windows, batch.window_id, mask_state.to_dict())},
                           facts=fact_state.to_dict(), page=last_meta, behaviour=behaviour_state.to_dict(),
                           scope=scope_state),
        first_ts=min(stamps) if stamps else None,
        last_ts=max(stamps) if stamps else None,
        has_full_snapshot=any(e["type"] == EventType.FullSnapshot for e in masked.events),
        page_snapshots=pages,
        evidence=tuple(evidence),
        incidents=count_incidents(evidence),
        behaviour=behaviour,
        scope_dropped=scoped.dropped,
        scope_rules=scoped.rules,
        scope_silent=scoped.silent,
    )


def _scope(batch: Batch, scope_state: dict[str, Any]) -> tuple[ScopeResult, dict[str, Any]]:
    """The batch filtered by the capture scope, and the session's new scope state (see :class:`SessionState`)."""
    scope = batch.policy.capture_scope
    if not scope.allow and not scope.deny:
        return filter_scope(batch.events, {}, scope), scope_state
    scope_state = scope_state if isinstance(scope_state, dict) else {}
    windows: dict[str, Any] = dict(scope_state.get("windows") or {})
    start = windows.pop(batch.window_id, None)
    if not isinstance(start, dict):
        start = scope_state.get("unknown") if isinstance(scope_state.get("unknown"), dict) else {}
    result = filter_scope(batch.events, start, scope)
    windows[batch.window_id] = result.state
    return result, {"windows": dict(list(windows.items())[-MAX_SCOPE_WINDOWS:]), "unknown": dict(OUT_OF_SCOPE)}


def _load_state(cls: Any, d: Any) -> Any:
    """``cls.from_dict(d)`` for an analytics state; a fresh state when ``d`` cannot be read."""
    try:
        return cls.from_dict(d if isinstance(d, dict) else {})
    except Exception as exc:  # noqa: BLE001 - a bad analytics state must not poison the session
        log.warning("%s unreadable (%s): starting fresh", cls.__name__, type(exc).__name__)
        return cls()


def _keep_recent(windows: dict[str, Any], window_id: str, current: dict[str, Any]) -> dict[str, Any]:
    """``windows`` with ``window_id`` moved to the end (newest), trimmed to :data:`MAX_WINDOWS`."""
    windows[window_id] = current
    return dict(list(windows.items())[-MAX_WINDOWS:])


def _page_snapshots(events: list[Event], last_meta: dict[str, Any]) -> tuple[tuple[tuple[str, int | None, int], ...], dict[str, Any]]:
    """Each FullSnapshot's page (URL without query/fragment, width px, ts ms), from the latest Meta event
    (which may have come in an earlier batch: ``last_meta``); returns them and the new latest Meta."""
    meta = dict(last_meta)
    out: list[tuple[str, int | None, int]] = []
    for ev in events:
        data = ev.get("data") or {}
        if ev["type"] == EventType.Meta and isinstance(data.get("href"), str):
            width = data.get("width")
            ok = isinstance(width, (int, float)) and not isinstance(width, bool) and math.isfinite(width)
            meta = {"href": strip_url(data["href"]), "width": int(min(MAX_PX, max(0, width))) if ok else None}
        elif ev["type"] == EventType.FullSnapshot and meta.get("href"):
            out.append((meta["href"], meta.get("width"), int(ev["timestamp"])))
    return tuple(out), meta