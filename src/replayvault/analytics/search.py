"""Session search: filter sessions by what happened in them, sort, and page through the result.

Filters (all optional; ranges inclusive, times epoch ms, durations ms):

* ``urls``: URL patterns (``*`` wildcards, ``/``-prefixed patterns match the path; see
  :mod:`._patterns`); a session must have visited a page matching *each* of them;
* ``min_duration_ms``/``max_duration_ms`` (last event - first event), ``min_clicks``/``max_clicks``;
* ``signals``: frustration signal kinds; a session must have at least one signal of *any* of them;
* ``viewport``: the session's last known viewport class (mobile < 768 px, tablet < 1024 px, desktop);
* ``since_ms <= session start < until_ms``;
* ``incident``: True for sessions with a masking incident, False for sessions without one. The
  incident counts live in the control-plane database, so the caller passes the ids of the sessions
  that have one (``incident_ids``).

Sorting: ``start``, ``duration``, ``clicks`` or ``signals`` (signal rows), ``asc`` or ``desc``;
unknown (NULL) values last, ties broken by session id. Paging: ``limit`` (1..:data:`MAX_LIMIT`) and ``offset``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput
from ._patterns import url_regex
from .signals import parse_kinds
from .store import AnalyticsStore

__all__ = ["SessionSearch", "search_sessions", "SORT_KEYS", "VIEWPORT_CLASSES", "MAX_LIMIT"]

SORT_KEYS = ("start", "duration", "clicks", "signals")
VIEWPORT_CLASSES = ("mobile", "tablet", "desktop")
MAX_LIMIT = 500
#: Most URL patterns in one search.
MAX_URLS = 10


@dataclass(frozen=True)
class SessionSearch:
    """One search request (see the module docstring); :meth:`validate` checks it."""

    project_id: str | None = None
    urls: Sequence[str] = ()
    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    min_clicks: int | None = None
    max_clicks: int | None = None
    signals: Sequence[str] = ()
    viewport: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    incident: bool | None = None
    sort: str = "start"
    order: str = "desc"
    limit: int = 50
    offset: int = 0

    def validate(self) -> None:
        """Raise :class:`InvalidInput` naming the first bad parameter."""
        if self.sort not in SORT_KEYS:
            raise InvalidInput(f"sort must be one of {', '.join(SORT_KEYS)}, not {self.sort[:40]!r}")
        if self.order not in ("asc", "desc"):
            raise InvalidInput(f"order must be asc or desc, not {self.order[:40]!r}")
        if self.viewport is not None and self.viewport not in VIEWPORT_CLASSES:
            raise InvalidInput(f"viewport must be one of {', '.join(VIEWPORT_CLASSES)}, not {self.viewport[:40]!r}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidInput("offset must not be negative")
        if len(self.urls) > MAX_URLS:
            raise InvalidInput(f"at most {MAX_URLS} url patterns")
        for name in ("min_duration_ms", "max_duration_ms", "min_clicks", "max_clicks", "since_ms", "until_ms"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise InvalidInput(f"{name} must not be negative")
        for low, high in (("min_duration_ms", "max_duration_ms"), ("min_clicks", "max_clicks"),
                          ("since_ms", "until_ms")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise InvalidInput(f"{low} ({a}) is greater than {high} ({b})")
        parse_kinds(self.signals)


def search_sessions(store: AnalyticsStore, query: SessionSearch,
                    incident_ids: Collection[str] | None = None) -> dict[str, Any]:
    """Run ``query``: ``{"total", "limit", "offset", "sessions": [...]}``.

    Each session: every column of the analytics ``sessions`` table (``session_id``, ``project_id``,
    ``start_ms``, ``end_ms``, ``duration_ms``, ``page_views``, ``clicks``, ``viewport_w``,
    ``viewport_h``, ``device_class``) plus ``signals`` (count), ``signals_by_kind`` and ``entry_url``.

    Raises:
        InvalidInput: a bad parameter (named), or ``incident`` set without ``incident_ids``.
    """
    query.validate()
    if query.incident is not None and incident_ids is None:
        raise InvalidInput("the incident filter needs the ids of the sessions with an incident")
    urls = []
    for i, pattern in enumerate(query.urls, 1):
        try:
            urls.append(url_regex(pattern))
        except InvalidInput as exc:
            raise InvalidInput(f"url {i}: {exc}") from None
    ids = sorted(incident_ids or ())
    total, rows = store.search_sessions(
        project_id=query.project_id, url_regexes=urls, min_duration_ms=query.min_duration_ms,
        max_duration_ms=query.max_duration_ms, min_clicks=query.min_clicks, max_clicks=query.max_clicks,
        kinds=parse_kinds(query.signals), viewport_class=query.viewport, since_ms=query.since_ms,
        until_ms=query.until_ms, only_ids=ids if query.incident is True else None,
        skip_ids=ids if query.incident is False else (), sort=query.sort, descending=query.order == "desc",
        limit=query.limit, offset=query.offset)
    return {"total": total, "limit": query.limit, "offset": query.offset, "sessions": rows}
