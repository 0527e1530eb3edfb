"""Retention (GDPR Art. 5(1)(e) storage limitation): periods, expiry, legal holds and crypto-shredding.

Rules:

* **Period.** The project policy's ``retention`` section (:class:`~replayvault.privacy.policy.Retention`)
  gives each page a period: the longest of the categories its URL matches, else ``default_days``
  (30 days without a policy). A session is kept for the longest period among the pages it visited
  (URLs of its page views and full snapshots, masked, without query), ``default_days`` when it has
  none, counted from ``created_ms`` (server time of its first batch; client clocks are not trusted):
  ``expires_ms = created_ms + days × 86,400,000``.
* **When it is computed.** Every batch raises the period with its own pages (:func:`stamp_batch`).
  A session whose period was computed under another retention section (the policy changed) or never
  (recorded before this existed) is recomputed from all its pages the next time anything looks at
  sessions (:func:`ensure_expiry`). A session already past its expiry keeps it: a longer period set
  later does not revive it.
* **Visibility.** A session is *live* while it is not shredded and ``expires_ms`` is in the future or
  an active legal hold keeps it. Every list and read filters on :func:`live_condition` (see
  :mod:`replayvault.recordings`), and analytics reads skip :func:`hidden_session_ids` (installed as
  ``AnalyticsStore.hidden_sessions``, set by ``Runtime.analytics``), so an expired session is absent
  from every API from its expiry on, before the sweep deletes it.
* **Legal hold.** Placed and released (each with a 3-200 character reason) by a privacy_officer or
  compliance_lead; while active the session is never deleted, by the sweep nor by an erasure
  (GDPR Art. 17(3)(e): establishment, exercise or defence of legal claims).
* **Crypto-shredding** and the sweep live in :mod:`.shredding` (:func:`~.shredding.shred_session`,
  :func:`~.shredding.sweep`), in this order: (1) the wrapped data key and the sealed
  pipeline state are removed and the deletion's audit entry is committed in the same transaction —
  from then on nothing of the session can be decrypted, also not copies of its chunk files; (2) the
  chunk files are deleted; (3) its analytics facts; (4) in one transaction its chunk, page-snapshot and
  masking rows, and the session row becomes a tombstone (``shredded_ms``, no data, no subject link).
  A run interrupted after (1) is finished by the next sweep.
* **Certificate.** After a run's deletion entries an audit checkpoint is signed; the certificate
  (pseudonymous session ids, counts, time, that signed checkpoint) is stored with its SHA-256, which a
  ``deletion.certificate`` audit entry records (:mod:`._certificates`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from ..analytics._patterns import url_matcher
from ..audit.entries import clean_text
from ..db.models import Chunk, LegalHold, PageSnapshot, Project, RecordingSession
from ..errors import InvalidInput, NotFound
from ..privacy.policy import Retention, stored_policy

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["DAY_MS", "Period", "SessionClosed", "period_for", "stamp_batch", "ensure_expiry", "live_condition",
           "hidden_session_ids", "is_live", "require_live", "refuse_closed", "place_hold",
           "release_hold", "list_holds", "held_ids", "is_held", "retention_status"]

log = logging.getLogger(__name__)

#: One day in milliseconds.
DAY_MS = 86_400_000
_REASON_MIN, _REASON_MAX = 3, 200


class SessionClosed(NotFound):
    """A batch for a session that was crypto-shredded or whose retention period ended (HTTP 410)."""

    status_code = 410

    def __init__(self) -> None:
        super().__init__("this session was deleted (retention period ended or erasure); batch not accepted")


def _now() -> int:
    return int(time.time() * 1000)


# -- periods ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A session's retention period in days and the category that set it (None: the default)."""

    days: int
    category: str | None


def _page_period(section: Retention, url: str) -> tuple[int, int, int]:
    """A page's period as a sort key ``(days, named, -category index)``: the longest category matching
    ``url`` (the first of equal ones), else ``default_days`` (``named`` 0). A category may be shorter
    than the default: its pages are kept for the category's period."""
    best: tuple[int, int, int] | None = None
    for i, cat in enumerate(section.categories):
        if (best is None or cat.days > best[0]) and any(_matcher(p).match(url) for p in cat.urls):
            best = (cat.days, 1, -i)
    return best or (section.default_days, 0, 0)


def _matcher(pattern: str):  # type: ignore[no-untyped-def]
    found = _MATCHERS.get(pattern)
    if found is None:
        found = _MATCHERS[pattern] = url_matcher(pattern)
    return found


_MATCHERS: dict[str, Any] = {}


def period_for(section: Retention, urls: Iterable[str]) -> Period:
    """The period of a session that visited ``urls``: the longest of its pages' periods (a page's period
    is the longest category matching its URL, else ``default_days``); ``default_days`` without pages.
    On equal days a named category wins over the default, and an earlier category over a later one."""
    keys = [_page_period(section, url) for url in set(urls)]
    if not keys:
        return Period(section.default_days, None)
    days, named, neg_index = max(keys)
    return Period(days, section.categories[-neg_index].name if named else None)


def _apply(sess_values: dict[str, Any], created_ms: int, period: Period, digest: str) -> dict[str, Any]:
    sess_values.update(retention_days=period.days, retention_category=period.category, retention_sha256=digest,
                       expires_ms=created_ms + period.days * DAY_MS)
    return sess_values


def stamp_batch(rt: "Runtime", db: Session, project: Project, sess: RecordingSession, urls: list[str]) -> None:
    """Raise ``sess``'s period with the pages of one batch (inside the ingest transaction).

    Under the retention section the session was computed with, the longer of the stored period and
    the batch's pages wins; under another section (or none yet) the period is recomputed from every
    page the session recorded so far plus ``urls``.
    """
    section = stored_policy(project.policy).retention
    digest = section.digest()
    if sess.retention_sha256 == digest and sess.retention_days is not None:
        if not urls:
            return
        new = period_for(section, urls)
        if new.days <= sess.retention_days:
            return
    else:
        known = _session_urls(rt, db, project.id, [sess.id]).get(sess.id, set()) if sess.chunk_count else set()
        new = period_for(section, [*known, *urls])
    for k, v in _apply({}, sess.created_ms, new, digest).items():
        setattr(sess, k, v)


def _session_urls(rt: "Runtime", db: Session, project_id: str, ids: list[str]) -> dict[str, set[str]]:
    """Page URLs each session recorded: its full snapshots (control plane) and page views (analytics)."""
    out: dict[str, set[str]] = defaultdict(set)
    want = set(ids)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows = db.execute(select(Chunk.session_id, PageSnapshot.url).join(PageSnapshot, PageSnapshot.chunk_id == Chunk.id)
                          .where(Chunk.session_id.in_(part))).all()
        for sid, url in rows:
            out[sid].add(url)
    if len(ids) <= 20:
        views = [r for sid in ids for r in rt.analytics.behaviour_rows("page_views", session_id=sid)]
    else:
        views = rt.analytics.behaviour_rows("page_views", project_id=project_id)
    for r in views:
        if r["session_id"] in want:
            out[r["session_id"]].add(r["url"])
    return out


def ensure_expiry(rt: "Runtime", now_ms: int | None = None) -> int:
    """Compute the period of every session that has none yet or was computed under an older retention
    section of its project, unless it already expired. Returns how many sessions were recomputed.

    A recompute does not overwrite a period a concurrent batch stamped under the current section.
    """
    if getattr(_busy, "on", False):  # its analytics reads ask for hidden ids, which ask for this again
        return 0
    _busy.on = True
    try:
        return _ensure_expiry(rt, _now() if now_ms is None else now_ms)
    finally:
        _busy.on = False


_busy = threading.local()


def _ensure_expiry(rt: "Runtime", now: int) -> int:
    with rt.sessions() as db:
        sections = {p.id: stored_policy(p.policy).retention for p in db.scalars(select(Project))}
        digests = {pid: sec.digest() for pid, sec in sections.items()}
        if not digests:
            return 0
        S = RecordingSession
        stale_of = or_(*(and_(S.project_id == pid, or_(S.retention_sha256.is_(None), S.retention_sha256 != d))
                         for pid, d in digests.items()))
        stale = db.execute(select(S.id, S.project_id, S.created_ms).where(
            S.shredded_ms.is_(None), S.chunk_count > 0, stale_of, or_(S.expires_ms.is_(None), S.expires_ms > now))).all()
        if not stale:
            return 0
        by_project: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for sid, pid, created in stale:
            by_project[pid].append((sid, created))
        for pid, rows in by_project.items():
            urls = _session_urls(rt, db, pid, [sid for sid, _ in rows])
            for sid, created in rows:
                values = _apply({}, created, period_for(sections[pid], urls.get(sid, ())), digests[pid])
                db.execute(update(S).where(S.id == sid, or_(S.retention_sha256.is_(None),
                                                            S.retention_sha256 != digests[pid])).values(**values))
        db.commit()
    log.info("retention periods computed for %d sessions", len(stale))
    return len(stale)


# -- visibility ---------------------------------------------------------------------------------
def held_ids() -> Any:
    """SELECT of the ids of sessions under an active legal hold."""
    return select(LegalHold.session_id).where(LegalHold.released_ms.is_(None))


def live_condition(rt: "Runtime", now_ms: int | None = None) -> ColumnElement[bool]:
    """SQL condition on :class:`RecordingSession`: not shredded, and not expired unless under an active
    legal hold. Brings periods up to date first (:func:`ensure_expiry`)."""
    now = _now() if now_ms is None else now_ms
    ensure_expiry(rt, now)
    S = RecordingSession
    return and_(S.shredded_ms.is_(None), or_(S.expires_ms.is_(None), S.expires_ms > now, S.id.in_(held_ids())))


def hidden_session_ids(rt: "Runtime", now_ms: int | None = None) -> list[str]:
    """Ids of sessions past their expiry (not held) whose analytics facts may still exist: expired and
    not yet (completely) shredded. Analytics reads leave these out."""
    now = _now() if now_ms is None else now_ms
    ensure_expiry(rt, now)
    S = RecordingSession
    with rt.sessions() as db:
        return list(db.scalars(select(S.id).where(S.shredded_ms.is_(None), S.expires_ms <= now,
                                                  S.id.not_in(held_ids()))))


def is_live(rt: "Runtime", session_id: str, now_ms: int | None = None) -> bool:
    """Whether ``session_id`` exists, holds data and is visible (see :func:`live_condition`)."""
    with rt.sessions() as db:
        return db.scalar(select(RecordingSession.id).where(RecordingSession.id == session_id,
                                                           RecordingSession.chunk_count > 0,
                                                           live_condition(rt, now_ms))) is not None


def require_live(rt: "Runtime", session_id: str) -> None:
    """Raise :class:`NotFound` unless ``session_id`` is live (expired sessions are absent)."""
    if not is_live(rt, session_id):
        raise NotFound("no such session")


def refuse_closed(db: Session, sess: RecordingSession, now_ms: int) -> None:
    """Raise :class:`SessionClosed` for a shredded session, or one past its expiry without a legal hold."""
    if sess.shredded_ms is not None:
        raise SessionClosed()
    if sess.expires_ms is not None and sess.expires_ms <= now_ms and not is_held(db, sess.id):
        raise SessionClosed()


def is_held(db: Session, session_id: str) -> bool:
    """Whether ``session_id`` is under an active legal hold."""
    return db.scalar(select(LegalHold.id).where(LegalHold.session_id == session_id,
                                                LegalHold.released_ms.is_(None))) is not None


# -- legal holds --------------------------------------------------------------------------------
def _reason(text_: str | None, what: str) -> str:
    """A hold's reason made safe for the log (personal data masked, see ``audit.entries.clean_text``)."""
    try:
        cleaned = clean_text(text_, limit=_REASON_MAX)
    except InvalidInput:
        raise InvalidInput(f"{what} is longer than {_REASON_MAX} characters") from None
    if cleaned is None or len(cleaned) < _REASON_MIN:
        raise InvalidInput(f"give a {what} of {_REASON_MIN}-{_REASON_MAX} characters (case or matter id)")
    return cleaned


def place_hold(rt: "Runtime", session_id: str, reason: str | None, actor: str, ip: str | None = None) -> LegalHold:
    """Put ``session_id`` under a legal hold (audited ``legal_hold.placed``, reason as justification).

    Raises:
        InvalidInput: reason not 3-200 characters (``justification`` rule), or the session is already held.
        NotFound: no such live session (an expired one cannot be held any more).
        AuditUnavailable: not logged, nothing changed.
    """
    why = _reason(reason, "reason")
    require_live(rt, session_id)
    with rt.audit.lock, rt.sessions() as db:
        if is_held(db, session_id):
            raise InvalidInput("this session is already under a legal hold")
        hold = LegalHold(id="h_" + secrets.token_hex(8), session_id=session_id, reason=why, placed_by=actor,
                         placed_ms=_now())
        db.add(hold)
        rt.audit.record(actor=actor, action="legal_hold.placed", resource=f"session:{session_id}", justification=why,
                        origin_ip=ip, details={"hold": hold.id}, db=db)
        db.commit()
        return hold


def release_hold(rt: "Runtime", session_id: str, reason: str | None, actor: str, ip: str | None = None) -> LegalHold:
    """Release the active legal hold of ``session_id`` (audited ``legal_hold.released``). A session past its
    expiry is absent from then on and deleted by the next sweep.

    Raises:
        InvalidInput: reason not 3-200 characters, or the session has no active hold.
        NotFound: no such live session.
    """
    why = _reason(reason, "reason")
    with rt.audit.lock, rt.sessions() as db:
        hold = db.scalar(select(LegalHold).where(LegalHold.session_id == session_id, LegalHold.released_ms.is_(None)))
        if hold is None:
            require_live(rt, session_id)
            raise InvalidInput("this session has no active legal hold")
        hold.released_by, hold.release_reason, hold.released_ms = actor, why, _now()
        rt.audit.record(actor=actor, action="legal_hold.released", resource=f"session:{session_id}", justification=why,
                        origin_ip=ip, details={"hold": hold.id, "held_ms": hold.released_ms - hold.placed_ms}, db=db)
        db.commit()
        return hold


def list_holds(rt: "Runtime", include_released: bool = False, limit: int = 500) -> list[dict[str, Any]]:
    """Legal holds, newest first: ``id``, ``session_id``, ``reason``, ``placed_by``, ``placed_ms``,
    ``released_by``, ``release_reason``, ``released_ms``, ``active``, ``expires_ms`` (the period it suspends)."""
    with rt.sessions() as db:
        q = select(LegalHold, RecordingSession.expires_ms).join(
            RecordingSession, RecordingSession.id == LegalHold.session_id, isouter=True)
        if not include_released:
            q = q.where(LegalHold.released_ms.is_(None))
        rows = db.execute(q.order_by(LegalHold.placed_ms.desc()).limit(limit)).all()
    return [{"id": h.id, "session_id": h.session_id, "reason": h.reason, "placed_by": h.placed_by,
             "placed_ms": h.placed_ms, "released_by": h.released_by, "release_reason": h.release_reason,
             "released_ms": h.released_ms, "active": h.released_ms is None, "expires_ms": exp} for h, exp in rows]


def retention_status(rt: "Runtime", now_ms: int | None = None) -> list[dict[str, Any]]:
    """Per project: its retention section (``default_days``, ``jurisdiction``, ``categories``,
    ``sha256``) and session counts: ``live``, ``expiring_7d`` (live, expiring within 7 days),
    ``awaiting_sweep`` (expired, not held, not yet shredded), ``held`` (active holds), ``shredded``,
    and ``next_expiry_ms``."""
    now = _now() if now_ms is None else now_ms
    ensure_expiry(rt, now)
    S = RecordingSession
    out = []
    with rt.sessions() as db:
        held = set(db.scalars(held_ids()))
        for project in db.scalars(select(Project).order_by(Project.id)):
            sec = stored_policy(project.policy).retention
            rows = db.execute(select(S.id, S.expires_ms, S.shredded_ms).where(
                S.project_id == project.id, or_(S.chunk_count > 0, S.shredded_ms.is_not(None)))).all()
            live = [(sid, exp) for sid, exp, shr in rows if shr is None and (exp is None or exp > now or sid in held)]
            upcoming = [exp for sid, exp in live if exp is not None and exp > now and sid not in held]
            out.append({
                "project_id": project.id, "name": project.name, "default_days": sec.default_days,
                "jurisdiction": sec.jurisdiction, "categories": [c.model_dump() for c in sec.categories],
                "sha256": sec.digest(), "live": len(live),
                "expiring_7d": sum(1 for e in upcoming if e <= now + 7 * DAY_MS),
                "awaiting_sweep": sum(1 for sid, exp, shr in rows if shr is None and exp is not None and exp <= now
                                      and sid not in held),
                "held": sum(1 for sid, _ in live if sid in held),
                "shredded": sum(1 for _, _, shr in rows if shr is not None),
                "next_expiry_ms": min(upcoming) if upcoming else None})
    return out
