"""Capture scope at ingest: drop (and count) the events of pages a project never records.

The tracker does not record pages outside the project's capture scope (policy section
``capture_scope``: URL allow/deny patterns, e.g. ``deny: ["/payments/*"]``, because PCI DSS v4.0
requirement 6.4.3 wants every script on a payment page authorized and justified, and a recorder is
neither). An old, modified or misconfigured tracker may still send them: :func:`filter_scope` is the
server's second line, run first in the pipeline, before masking sees anything.

Pure: no I/O, no logging of URLs. Rules, walking the events of one browser window in order:

1. the current page URL comes from Meta events (type 4, ``data.href``: a new document) and from the
   tracker's SPA route events (type 5 Custom, ``data.tag == "rv.route"``, ``data.payload.href``);
   it is matched without query string and fragment (:meth:`CaptureScope.decide`);
2. while the current page is out of scope every event is dropped, the Meta or route event that moved
   out included;
3. after an out-of-scope stretch, events keep being dropped until the first FullSnapshot (type 2)
   that follows an in-scope Meta or route event. The in-scope Meta or route event itself is kept
   (a Meta carries the viewport the replayer needs before the snapshot, and the page URL of the
   snapshot). Why wait for a snapshot: an rrweb recording cannot resume mid-DOM. Incremental events
   (mutations, inputs, scrolls) name nodes by the ids of the DOM the recorder serialized; the nodes
   created on the out-of-scope page were never seen by the replayer, nor by the masking node map
   (which must know that node 42 is a password field to mask what is typed into it). Resuming before
   a new FullSnapshot would give a broken replay and masking decisions made without the DOM;
4. events before any URL is known (a new window of a new session that starts without a Meta event)
   are in scope unless the carried state says the window is out. In practice a recording starts with
   Meta + FullSnapshot, so this only concerns odd or imported recordings.

A scope with no patterns at all keeps every event and leaves the state as it was. DomContentLoaded
and Load events (types 0 and 1: a timestamp, no content) dropped while a window is out are not
counted (``silent``): a new window starts out until its first Meta event, and the tracker's first
event of a page is DomContentLoaded, which must not become a scope incident.

The state carried between batches of a window is a small JSON-safe dict, without any URL::

    {"out": bool,       # the current page is out of scope
     "resync": bool,    # back in scope, waiting for a FullSnapshot
     "rule": str}       # the pattern that put the window out ("" when no allow pattern matched)

``{}`` (a new window) means in scope. Dropped events are counted per pattern: the Meta or route event
that moved out, and every event until the window is back, count for the pattern that moved it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..privacy.policy import CaptureScope
from ..rrweb import EventType
from ..types import Event

__all__ = ["OUT_OF_SCOPE", "ROUTE_TAGS", "ScopeResult", "filter_scope"]

#: Custom event tags that announce an SPA route change (``payload.href``): the replayvault tracker's.
ROUTE_TAGS = ("rv.route",)
#: A window whose page is unknown but must not be trusted: out of scope until an in-scope URL and a
#: FullSnapshot (used for windows the session state does not know, see :mod:`replayvault.pipeline`).
OUT_OF_SCOPE: dict[str, Any] = {"out": True, "resync": False, "rule": ""}


@dataclass(frozen=True)
class ScopeResult:
    """Result of :func:`filter_scope`.

    ``events``: the kept events, in their order (the same dict objects); ``dropped``: how many were
    dropped and counted; ``silent``: DomContentLoaded/Load events dropped without being counted; ``rules``: pattern -> events it dropped (``""``: no allow pattern matched, or the page was
    unknown), ordered by the last event each pattern dropped (the last key is the pattern in effect
    at the end of the batch); ``state``: the window's state after the batch (module docstring).
    """

    events: list[Event]
    dropped: int
    rules: dict[str, int]
    state: dict[str, Any]
    silent: int = 0


def filter_scope(events: list[Event], state: dict[str, Any], scope: CaptureScope) -> ScopeResult:
    """Keep the events of in-scope pages of one window's batch (rules in the module docstring).

    ``events`` are validated rrweb events (dicts with an int ``type``), in recording order; ``state``
    the window's state from the previous batch (``{}`` for a new window). Neither is modified.
    A URL that is not a string is ignored (the current page stays what it was).
    """
    if not scope.allow and not scope.deny:
        return ScopeResult(list(events), 0, {}, dict(state))
    out, resync, rule = bool(state.get("out")), bool(state.get("resync")), str(state.get("rule") or "")
    kept: list[Event] = []
    rules: dict[str, int] = {}
    silent = 0
    for ev in events:
        href = _href(ev)
        if href is not None:
            inside, pattern = scope.decide(href)
            if not inside:
                out, resync, rule = True, False, pattern
            elif out or resync:  # back in scope: this event is kept, the rest waits for a FullSnapshot
                out, resync = False, True
                kept.append(ev)
                continue
        if resync and ev.get("type") == EventType.FullSnapshot:
            resync, rule = False, ""
        if out or resync:
            if ev.get("type") in (EventType.DomContentLoaded, EventType.Load):
                silent += 1  # no content: dropped, not an incident
                continue
            rules[rule] = rules.pop(rule, 0) + 1  # re-inserted: the last key is the latest pattern
            continue
        kept.append(ev)
    return ScopeResult(kept, len(events) - len(kept) - silent, rules, {"out": out, "resync": resync, "rule": rule},
                       silent)


def _href(ev: Event) -> str | None:
    """The page URL a Meta or route event announces, or None (another event, or no string URL)."""
    data = ev.get("data")
    if not isinstance(data, dict):
        return None
    etype = ev.get("type")
    if etype == EventType.Meta:
        href = data.get("href")
    elif etype == EventType.Custom and data.get("tag") in ROUTE_TAGS and isinstance(data.get("payload"), dict):
        href = data["payload"].get("href")
    else:
        return None
    return href if isinstance(href, str) else None
