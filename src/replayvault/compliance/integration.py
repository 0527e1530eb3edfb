"""Integration with a SIEM or GRC system: compliance incidents and audit entries as JSON Lines.

Both feeds are read by audit-log index (the RFC 9162 leaf index, dense from 0), so a consumer polls
incrementally with a cursor: a page covers the audit entries with index in ``[start, next_index)``
(at most ``limit`` of them) and the next page starts at ``next_index``. ``since_index`` is the start;
``since_ms`` (epoch ms) starts instead at the first entry recorded at or after that time (whichever
is later). Entries commit in index order (the primary key refuses a second writer of an index until
the first commits), so a cursor never skips one.

``audit`` feed — one line per entry, the canonical entry as it is hashed into the tree::

    {"type": "audit", "index": 41, "leaf_hash": "<base64>", "entry": {"action", "actor", "details", "idx",
     "justification", "origin_ip", "outcome", "purpose", "resource", "time_ms"}}

``leaf_hash`` is SHA-256(0x00 || canonical JSON of ``entry``) (RFC 9162 §2.1.1; canonical: sorted
keys, no insignificant whitespace, UTF-8 — :func:`replayvault.audit.entries.canonical_json`),
recomputed here and compared with the stored one (:class:`AuditTampered` when they differ). With
``replayvault audit proof 41`` (or ``GET /api/v1/audit/entries/41/proof``) and ``audit verify-proof``
a consumer later checks that this very entry is in a signed checkpoint.

``incidents`` feed — one line per compliance incident, every line with the same keys::

    {"type": "incident", "source": "masking"|"access"|"consent"|"scope", "kind", "session", "time_ms", "count",
     "audit_index"}

* ``masking`` (personal data the browser should have masked reached the server in clear; kinds from
  :mod:`replayvault.privacy.evidence`): per session and kind, ``count`` is the session's cumulative
  number of incidents of that kind up to ``audit_index``, the session's latest ``chunk.ingested``
  entry with incidents (its ``time_ms``). When a later batch brings new incidents the session's kinds
  are sent again at that entry with their new totals: keep the line with the highest ``audit_index``
  per ``(session, kind)``. Kind ``unknown`` holds the part whose per-kind breakdown was deleted with
  the session (crypto-shredded; the count comes from the audit entries).
* ``access`` (access-policy incidents): every audit entry with outcome ``denied``; ``kind`` is its
  action (``access.denied`` for a missing permission, ``recording.view``, ``recording.access_declared``,
  ``recording.exported``, ...), ``session`` the recording's pseudonymous id when the entry names a known
  session (else null), ``count`` 1.

* ``consent`` (the collector's consent check refused or trimmed a batch, :mod:`replayvault.governance.consent`):
  every ``consent.blocked`` entry; ``kind`` is its reason (``no_token``, ``invalid_token``,
  ``expired_token``, ``after_withdrawal``, ``outside_consent``), ``count`` the events it concerned.
* ``scope`` (events of pages outside the project's capture scope were dropped at ingest): every
  ``chunk.ingested`` entry with ``scope_dropped`` and every ``scope.dropped`` entry (a batch dropped
  whole); ``kind`` ``out_of_scope``, ``count`` the events dropped.

Origin refusals (403) are not incidents (no audit entry: the request never reached a project), and
failed logins (``login``, outcome ``failed``) are in the audit feed and in ``/metrics``. Nothing is added beyond what the audit log and the masking evidence hold:
pseudonymous session and user ids, kinds, counts, times.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..audit.entries import canonical_json, canonical_row
from ..audit.log import b64
from ..audit.merkle import leaf_hash
from ..db.models import AuditEntry, MaskingEvidence
from ..errors import AuditTampered, InvalidInput
from ..privacy.evidence import SANITIZING_KINDS
from ..runtime import Runtime

__all__ = ["FEEDS", "DEFAULT_LIMIT", "MAX_LIMIT", "UNKNOWN_KIND", "CONTENT_TYPE", "Page", "feed", "audit_page",
           "incident_page", "combined_page", "jsonl", "log_size"]

#: The two feeds.
FEEDS = ("incidents", "audit")
#: Audit entries per page by default, and at most (one page is read in one database transaction).
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
#: Masking kind of incidents whose per-kind breakdown was deleted with their session.
UNKNOWN_KIND = "unknown"
#: Media type of JSON Lines (https://github.com/ndjson/ndjson-spec).
CONTENT_TYPE = "application/x-ndjson"

_INGEST = "chunk.ingested"
_CONSENT = "consent.blocked"
_SCOPE = "scope.dropped"
_IN_CHUNK = 500  # ids per SQL IN list (SQLite allows 32,766 variables; PostgreSQL 65,535)


@dataclass(frozen=True)
class Page:
    """Lines of a feed for the audit entries with index in ``[start, next_index)``; ``size`` is the
    number of entries in the log when the page was read (``next_index == size``: caught up)."""

    start: int
    next_index: int
    size: int
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether the page reached the end of the log."""
        return self.next_index >= self.size


def jsonl(lines: Iterable[dict[str, Any]]) -> bytes:
    """JSON Lines bytes: each line canonical JSON (sorted keys, compact, UTF-8) and ``\\n``."""
    return "".join(canonical_json(line) + "\n" for line in lines).encode("utf-8")


def _check(since_index: int | None, since_ms: int | None, limit: int) -> None:
    if since_index is not None and since_index < 0:
        raise InvalidInput("since_index must be 0 or more")
    if since_ms is not None and since_ms < 0:
        raise InvalidInput("since_ms must be 0 or more")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")


def _size(db: Session) -> int:
    last = db.scalar(select(func.max(AuditEntry.idx)))
    return 0 if last is None else last + 1


def log_size(rt: Runtime) -> int:
    """Entries in the audit log (its largest index + 1)."""
    with rt.sessions() as db:
        return _size(db)


def _range(db: Session, since_index: int | None, since_ms: int | None, limit: int) -> tuple[int, int, int]:
    """``(start, end, size)`` of a page: see the module docstring."""
    size = _size(db)
    start = min(since_index or 0, size)
    if since_ms is not None:
        first = db.scalar(select(func.min(AuditEntry.idx)).where(AuditEntry.time_ms >= since_ms))
        start = max(start, size if first is None else first)
    return start, min(size, start + limit), size


# -- audit feed -------------------------------------------------------------------------------
def _audit_lines(db: Session, start: int, end: int) -> list[dict[str, Any]]:
    rows = db.scalars(select(AuditEntry).where(AuditEntry.idx >= start, AuditEntry.idx < end)
                      .order_by(AuditEntry.idx)).all()
    lines = []
    for expected, row in zip(range(start, end), rows):
        if row.idx != expected:
            raise AuditTampered(f"audit entry {expected} is missing", expected)
        raw = canonical_row(row.idx, row.time_ms, row.actor, row.action, row.resource, row.outcome, row.purpose,
                            row.justification, row.origin_ip, row.details or "{}")
        digest = leaf_hash(raw)
        if digest != bytes(row.leaf_hash):
            raise AuditTampered(f"audit entry {row.idx} does not match its stored leaf hash", row.idx)
        lines.append({"type": "audit", "index": row.idx, "leaf_hash": b64(digest), "entry": json.loads(raw)})
    if len(rows) != end - start:
        raise AuditTampered(f"audit entry {start + len(rows)} is missing", start + len(rows))
    return lines


def audit_page(rt: Runtime, *, since_index: int | None = 0, since_ms: int | None = None,
               limit: int = DEFAULT_LIMIT) -> Page:
    """The ``audit`` feed from a cursor (see the module docstring).

    Raises:
        InvalidInput: a negative cursor, or ``limit`` outside 1..:data:`MAX_LIMIT`.
        AuditTampered: an entry in the page is missing or does not match its leaf hash.
    """
    _check(since_index, since_ms, limit)
    with rt.sessions() as db:
        start, end, size = _range(db, since_index, since_ms, limit)
        return Page(start, end, size, _audit_lines(db, start, end))


# -- incidents feed ---------------------------------------------------------------------------
def _incidents_in(details: str | None) -> int:
    """``incidents`` of a ``chunk.ingested`` entry's details (0 when absent or not a count)."""
    try:
        n = json.loads(details or "{}").get("incidents", 0)
    except (ValueError, AttributeError):
        return 0
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def _count_in(details: str | None, key: str) -> int:
    """A positive integer ``key`` of an entry's details (0 when absent or not a count)."""
    try:
        n = json.loads(details or "{}").get(key, 0)
    except (ValueError, AttributeError):
        return 0
    return n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 0


def _reason_in(details: str | None) -> str:
    try:
        reason = json.loads(details or "{}").get("reason", "")
    except (ValueError, AttributeError):
        return "unknown"
    return reason if isinstance(reason, str) and reason.replace("_", "").isalnum() else "unknown"


def _session_of(resource: str) -> str | None:
    sid = resource[len("session:"):] if resource.startswith("session:") else ""
    return sid if sid and sid != "unknown" else None


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(ids), _IN_CHUNK):
        yield ids[i:i + _IN_CHUNK]


def _masking_lines(db: Session, ingests: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """Lines for the sessions whose latest ``chunk.ingested`` entry with incidents is one of ``ingests``
    (``(idx, time_ms, session id)``)."""
    sids = sorted({sid for _, _, sid in ingests})
    latest: dict[str, int] = {}
    total: defaultdict[str, int] = defaultdict(int)
    for part in _chunks(sids):
        for idx, resource, details in db.execute(select(AuditEntry.idx, AuditEntry.resource, AuditEntry.details).where(
                AuditEntry.action == _INGEST, AuditEntry.resource.in_([f"session:{s}" for s in part]))):
            if n := _incidents_in(details):
                sid = resource[len("session:"):]
                total[sid] += n
                latest[sid] = max(latest.get(sid, -1), idx)
    due = {sid: (idx, t) for idx, t, sid in ingests if latest.get(sid) == idx}
    kinds: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for part in _chunks(sorted(due)):
        q = (select(MaskingEvidence.session_id, MaskingEvidence.kind, func.sum(MaskingEvidence.count))
             .where(MaskingEvidence.session_id.in_(part), MaskingEvidence.browser.is_(False),
                    MaskingEvidence.kind.not_in(sorted(SANITIZING_KINDS)))
             .group_by(MaskingEvidence.session_id, MaskingEvidence.kind))
        for sid, kind, n in db.execute(q):
            kinds[sid][kind] = int(n or 0)
    lines = []
    for sid, (idx, t) in due.items():
        counts = dict(kinds.get(sid, {}))
        rest = total[sid] - sum(counts.values())
        if rest > 0:
            counts[UNKNOWN_KIND] = rest
        lines += [{"type": "incident", "source": "masking", "kind": kind, "session": sid, "time_ms": t,
                   "count": n, "audit_index": idx} for kind, n in sorted(counts.items()) if n > 0]
    return lines


def _incident_lines(db: Session, start: int, end: int) -> list[dict[str, Any]]:
    rows = db.execute(select(AuditEntry.idx, AuditEntry.time_ms, AuditEntry.action, AuditEntry.resource,
                             AuditEntry.outcome, AuditEntry.details)
                      .where(AuditEntry.idx >= start, AuditEntry.idx < end,
                             or_(AuditEntry.action.in_([_INGEST, _CONSENT, _SCOPE]), AuditEntry.outcome == "denied"))
                      .order_by(AuditEntry.idx)).all()
    lines = [{"type": "incident", "source": "access", "kind": action, "session": _session_of(resource),
              "time_ms": t, "count": 1, "audit_index": idx}
             for idx, t, action, resource, outcome, _ in rows if outcome == "denied"]
    for idx, t, action, resource, outcome, details in rows:
        if outcome == "denied":
            continue
        if action == _CONSENT:
            lines.append({"type": "incident", "source": "consent", "kind": _reason_in(details),
                          "session": _session_of(resource), "time_ms": t, "count": _count_in(details, "events"),
                          "audit_index": idx})
        elif (n := _count_in(details, "events" if action == _SCOPE else "scope_dropped")) and action in (_SCOPE, _INGEST):
            lines.append({"type": "incident", "source": "scope", "kind": "out_of_scope",
                          "session": _session_of(resource), "time_ms": t, "count": n, "audit_index": idx})
    ingests = [(idx, t, resource[len("session:"):]) for idx, t, action, resource, outcome, details in rows
               if action == _INGEST and outcome != "denied" and resource.startswith("session:")
               and _incidents_in(details)]
    lines += _masking_lines(db, ingests)
    return sorted(lines, key=lambda d: (d["audit_index"], d["source"], d["kind"]))


def incident_page(rt: Runtime, *, since_index: int | None = 0, since_ms: int | None = None,
                  limit: int = DEFAULT_LIMIT) -> Page:
    """The ``incidents`` feed from a cursor (see the module docstring); lines sorted by audit index,
    source, kind.

    Raises:
        InvalidInput: a negative cursor, or ``limit`` outside 1..:data:`MAX_LIMIT`.
    """
    _check(since_index, since_ms, limit)
    with rt.sessions() as db:
        start, end, size = _range(db, since_index, since_ms, limit)
        return Page(start, end, size, _incident_lines(db, start, end))


def combined_page(rt: Runtime, *, since_index: int = 0, limit: int = DEFAULT_LIMIT) -> Page:
    """Both feeds over the same entries, read in one transaction (what the webhook push sends): each
    audit line followed by the incident lines of its index.

    Raises:
        InvalidInput, AuditTampered: as :func:`audit_page`.
    """
    _check(since_index, None, limit)
    with rt.sessions() as db:
        start, end, size = _range(db, since_index, None, limit)
        audit = _audit_lines(db, start, end)
        incidents = _incident_lines(db, start, end)
    merged = sorted([*audit, *incidents], key=lambda d: (d.get("index", d.get("audit_index")), d["type"] != "audit"))
    return Page(start, end, size, merged)


def feed(rt: Runtime, kind: str, *, since_index: int | None = 0, since_ms: int | None = None,
         limit: int = DEFAULT_LIMIT) -> Page:
    """:func:`incident_page` or :func:`audit_page` by name (``incidents`` or ``audit``).

    Raises:
        InvalidInput: an unknown feed name, a negative cursor or a bad ``limit``.
    """
    if kind not in FEEDS:
        raise InvalidInput("kind must be 'incidents' or 'audit'")
    page = incident_page if kind == "incidents" else audit_page
    return page(rt, since_index=since_index, since_ms=since_ms, limit=limit)
