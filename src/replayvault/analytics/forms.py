"""Form analytics per form and field: interactions, time spent, hesitation, refills, abandonment,
validation errors — from the field visits, errors and submits :mod:`.behaviour` stores.

No typed value is ever stored or read: a field "changed" only means Input events happened.

Rules (times in ms; a form is identified by its page URL and selector, so the same form on two
pages is two forms):

* ``interactions``: visits of the field (focus to blur, plus unfocused input such as autofill);
  ``sessions``: distinct sessions with a visit; ``changed``: visits with at least one Input event;
* ``median_time_ms``: median of (blur - focus) over focused visits that ended;
  ``median_hesitation_ms``: median of (first input - focus) over focused visits with an input;
* ``refills``: visits that changed the field again after an earlier visit of the same page view
  had changed it;
* ``abandoned``: sessions whose last touched field of the form (the visit that started last) is
  this field and that have no submit of the form at or after that visit's start (a submit followed
  by more editing and leaving counts as abandoned). A session still in progress counts as
  abandoned until it submits. ``abandoned_sessions`` on the form is the sum over its fields;
* ``validation_errors``: times the field started showing an error (:mod:`._dom` rules);
* ``submitted_sessions``: distinct sessions with a submit of the form (``rv.submit``, or a submit
  button click followed by a navigation);
* the date range ``since_ms <= t < until_ms`` applies to visit starts, error and submit times.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .store import AnalyticsStore

__all__ = ["form_report", "summarize_forms"]


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _abandoned(visits: list[dict[str, Any]], submits: list[dict[str, Any]]) -> dict[tuple[str, str, str], int]:
    """(url, form, field) -> sessions that left the form with this field as the last one touched."""
    last: dict[tuple[str, str, str], dict[str, Any]] = {}
    for v in visits:
        key = (v["session_id"], v["url"], v["form"])
        if key not in last or (v["start_ms"], v["field"]) > (last[key]["start_ms"], last[key]["field"]):
            last[key] = v
    submitted: dict[tuple[str, str, str], int] = {}
    for s in submits:
        key = (s["session_id"], s["url"], s["form"])
        submitted[key] = max(submitted.get(key, s["ts_ms"]), s["ts_ms"])
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for key, v in last.items():
        if key not in submitted or submitted[key] < v["start_ms"]:
            out[(v["url"], v["form"], v["field"])] += 1
    return out


def summarize_forms(visits: Iterable[dict[str, Any]], errors: Iterable[dict[str, Any]],
                    submits: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per form (pure; rows as :meth:`AnalyticsStore.behaviour_rows` returns them).

    Returns ``[{"url", "form", "sessions", "submitted_sessions", "abandoned_sessions",
    "fields": [{"field", "interactions", "sessions", "changed", "median_time_ms",
    "median_hesitation_ms", "refills", "abandoned", "validation_errors"}]}]``, forms with the most
    sessions first, fields by interactions (most first) then selector.
    """
    visits, errors, submits = list(visits), list(errors), list(submits)
    fields: dict[tuple[str, str, str], dict[str, Any]] = {}

    def entry(url: str, form: str, name: str) -> dict[str, Any]:
        return fields.setdefault((url, form, name), {"visits": [], "sessions": set(), "errors": 0})

    for v in visits:
        e = entry(v["url"], v["form"], v["field"])
        e["visits"].append(v)
        e["sessions"].add(v["session_id"])
    for err in errors:
        entry(err["url"], err["form"], err["field"])["errors"] += 1
    abandoned = _abandoned(visits, submits)
    forms: dict[tuple[str, str], dict[str, Any]] = {}
    for (url, form, name), e in fields.items():
        f = forms.setdefault((url, form), {"url": url, "form": form, "sessions": set(), "fields": []})
        f["sessions"] |= e["sessions"]
        vs = e["visits"]
        f["fields"].append({
            "field": name, "interactions": len(vs), "sessions": len(e["sessions"]),
            "changed": sum(1 for v in vs if v["inputs"]),
            "median_time_ms": _median([v["end_ms"] - v["start_ms"] for v in vs if v["focused"] and v["end_ms"] is not None]),
            "median_hesitation_ms": _median([v["first_input_ms"] - v["start_ms"] for v in vs
                                             if v["focused"] and v["first_input_ms"] is not None]),
            "refills": sum(1 for v in vs if v["refill"]),
            "abandoned": abandoned.get((url, form, name), 0),
            "validation_errors": e["errors"],
        })
    submitted: dict[tuple[str, str], set[str]] = defaultdict(set)
    for s in submits:
        submitted[(s["url"], s["form"])].add(s["session_id"])
    out = []
    for key, f in forms.items():
        f["fields"].sort(key=lambda d: (-d["interactions"], d["field"]))
        out.append({"url": f["url"], "form": f["form"], "sessions": len(f["sessions"]),
                    "submitted_sessions": len(submitted.get(key, ())),
                    "abandoned_sessions": sum(d["abandoned"] for d in f["fields"]), "fields": f["fields"]})
    out.sort(key=lambda d: (-d["sessions"], d["url"], d["form"]))
    return out


def form_report(store: AnalyticsStore, *, project_id: str | None = None, url: str | None = None,
                since_ms: int | None = None, until_ms: int | None = None) -> list[dict[str, Any]]:
    """:func:`summarize_forms` over the stored rows (of ``project_id``, on ``url`` when given, in the date range)."""
    args: dict[str, Any] = {"project_id": project_id, "url": url, "since_ms": since_ms, "until_ms": until_ms}
    return summarize_forms(store.behaviour_rows("form_visits", **args), store.behaviour_rows("form_errors", **args),
                           store.behaviour_rows("form_submits", **args))
