"""Read side of recordings: session summaries and decrypted (already masked) events.

Every function here returns masked data only: events were masked before they were sealed. Sessions
past their retention period (and crypto-shredded ones) are absent from every function here, from the
moment they expire, before the retention sweep deletes them: each query carries
:func:`~replayvault.governance.retention.live_condition` (a legal hold keeps a session visible).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass

from sqlalchemy import select

from .db.models import Chunk, Masking, MaskingEvidence, PageSnapshot, RecordingSession
from .analytics.facts import MOBILE_MAX_PX, TABLET_MAX_PX, strip_url
from .errors import ChunkIntegrityError, NotFound
from .governance.retention import live_condition
from .privacy.evidence import EvidenceRow
from .rrweb import EventType
from .runtime import Runtime
from .types import Event
from .vault.codec import chunk_aad, open_chunk

__all__ = ["SessionSummary", "list_sessions", "get_session", "session_events", "session_evidence", "capture_compliance",
           "snapshot_for_url", "snapshots_for_url"]


@dataclass(frozen=True)
class SessionSummary:
    """One row of the sessions list. Times in ms since the Unix epoch; durations in ms."""

    id: str
    project_id: str
    start: int | None
    end: int | None
    duration_ms: int
    page_views: int
    clicks: int
    masked_items: int
    incidents: int
    events: int
    chunks: int
    stored_bytes: int
    viewport: str | None
    device_class: str | None
    consent: str

    def as_dict(self) -> dict:
        """JSON-ready dict."""
        return asdict(self)


def _summary(sess: RecordingSession, facts: dict | None) -> SessionSummary:
    facts = facts or {}
    vw, vh = facts.get("viewport_w"), facts.get("viewport_h")
    return SessionSummary(
        id=sess.id, project_id=sess.project_id,
        start=facts.get("start_ms"), end=facts.get("end_ms"),
        duration_ms=int(facts.get("duration_ms") or 0),
        page_views=int(facts.get("page_views") or 0), clicks=int(facts.get("clicks") or 0),
        masked_items=sess.masked_items, incidents=sess.incidents or 0, events=sess.event_count, chunks=sess.chunk_count,
        stored_bytes=sess.stored_bytes,
        viewport=f"{vw}x{vh}" if vw and vh else None, device_class=facts.get("device_class"),
        consent=sess.consent,
    )


def list_sessions(rt: Runtime, project_id: str | None = None) -> list[SessionSummary]:
    """Sessions that hold at least one chunk, newest first."""
    facts = {row["session_id"]: row for row in rt.analytics.sessions(project_id)}
    with rt.sessions() as db:
        q = select(RecordingSession).where(RecordingSession.chunk_count > 0, live_condition(rt))
        if project_id:
            q = q.where(RecordingSession.project_id == project_id)
        rows = [_summary(s, facts.get(s.id)) for s in db.scalars(q)]
    return sorted(rows, key=lambda r: (r.start or 0), reverse=True)


def _live_session(rt: Runtime, db, session_id: str) -> RecordingSession | None:  # type: ignore[no-untyped-def]
    """The session row when it is live (not expired, not shredded), else None."""
    return db.scalar(select(RecordingSession).where(RecordingSession.id == session_id, live_condition(rt)))


def session_evidence(rt: Runtime, session_id: str) -> list[EvidenceRow]:
    """The session's maskings by kind, location and who masked them (see :mod:`.privacy.evidence`)."""
    with rt.sessions() as db:
        rows = db.scalars(select(MaskingEvidence).where(MaskingEvidence.session_id == session_id)).all()
        return sorted((EvidenceRow(r.kind, r.location, r.browser, r.count) for r in rows),
                      key=lambda r: (not r.incident, r.kind, r.location, r.browser))


def capture_compliance(rt: Runtime, project_id: str | None = None) -> dict:
    """Data capture compliance rate: sessions without a masking incident / sessions (with a chunk).

    Returns ``{"sessions", "sessions_with_incidents", "incidents", "rate"}`` (``rate`` None without sessions).
    """
    with rt.sessions() as db:
        q = select(RecordingSession.incidents).where(RecordingSession.chunk_count > 0, live_condition(rt))
        if project_id:
            q = q.where(RecordingSession.project_id == project_id)
        counts = [n or 0 for n in db.scalars(q)]
    bad = sum(1 for n in counts if n)
    return {"sessions": len(counts), "sessions_with_incidents": bad, "incidents": sum(counts),
            "rate": None if not counts else (len(counts) - bad) / len(counts)}


def get_session(rt: Runtime, session_id: str) -> tuple[SessionSummary, dict[str, int]]:
    """Summary of one session and its masking counts by kind.

    Raises:
        NotFound: no such session (or it holds no chunk, or it expired).
    """
    with rt.sessions() as db:
        sess = _live_session(rt, db, session_id)
        if sess is None or sess.chunk_count == 0:
            raise NotFound("no such session")
        counts = {m.kind: m.count for m in db.scalars(select(Masking).where(Masking.session_id == session_id))}
    return _summary(sess, rt.analytics.session(session_id)), counts


def session_events(rt: Runtime, session_id: str) -> list[Event]:
    """All masked events of a session, decrypted, in (seq, timestamp) order.

    Each chunk file must still have the SHA-256 recorded (and audited) when it was ingested.

    Raises:
        NotFound: no such session (or it expired).
        ChunkIntegrityError: a chunk was altered (digest or AES-GCM tag) or the key file is wrong.
    """
    with rt.sessions() as db:
        sess = _live_session(rt, db, session_id)
        if sess is None or sess.wrapped_dek is None:
            raise NotFound("no such session")
        chunks = list(db.scalars(select(Chunk).where(Chunk.session_id == session_id).order_by(Chunk.seq)))
    dek = rt.keys.unwrap(sess.project_id, sess.wrapped_dek)
    events: list[Event] = []
    for ch in chunks:
        blob = rt.blobs.get(ch.blob_key)
        if hashlib.sha256(blob).hexdigest() != ch.sha256:  # the digest the audit log recorded at ingest
            raise ChunkIntegrityError(f"chunk {ch.seq} of this session differs from the SHA-256 recorded at ingest")
        events.extend(json.loads(open_chunk(blob, dek, chunk_aad(session_id, ch.seq))))
    events.sort(key=lambda e: e["timestamp"])
    return events


#: Snapshots stamped later than now + this (ms, client clocks) are never a heatmap's reference page.
FUTURE_SLACK_MS = 86_400_000


def snapshots_for_url(rt: Runtime, url: str, *, viewport_class: str | None = None, project_id: str | None = None,
                      limit: int = 1) -> list[tuple[int, str, list[Event]]]:
    """The latest Meta + FullSnapshot pairs of ``url`` (query and fragment ignored), one per session.

    Returns up to ``limit`` items ``(page snapshot id, session id, [meta, full_snapshot])``, newest
    first: the page as the masked recordings show it (heatmap backdrops). With ``viewport_class``
    only snapshots taken at that width class count. One chunk per item is decrypted. When the Meta
    event came in an earlier chunk, an equivalent one is rebuilt from the stored URL and width.
    """
    want = strip_url(url)
    with rt.sessions() as db:
        q = (select(PageSnapshot, Chunk, RecordingSession)
             .join(Chunk, PageSnapshot.chunk_id == Chunk.id)
             .join(RecordingSession, Chunk.session_id == RecordingSession.id)
             .where(PageSnapshot.url == want, RecordingSession.wrapped_dek.is_not(None), live_condition(rt),
                    # a client clock far in the future must not pin one session's snapshot as the reference
                    PageSnapshot.ts <= int(time.time() * 1000) + FUTURE_SLACK_MS)
             .order_by(PageSnapshot.ts.desc()).limit(max(1, limit) * 5))
        if project_id:
            q = q.where(RecordingSession.project_id == project_id)
        if viewport_class is not None:  # the same bounds as analytics.facts.device_class
            low, high = {"mobile": (0, MOBILE_MAX_PX), "tablet": (MOBILE_MAX_PX, TABLET_MAX_PX),
                         "desktop": (TABLET_MAX_PX, None)}[viewport_class]
            q = q.where(PageSnapshot.width >= low)
            if high is not None:
                q = q.where(PageSnapshot.width < high)
        rows = db.execute(q).all()
    out: list[tuple[int, str, list[Event]]] = []
    for snap, chunk, sess in rows:
        if len(out) >= limit or any(sid == sess.id for _, sid, _ in out):
            continue
        pair = _snapshot_pair(rt, snap, chunk, sess)
        if pair is not None:
            out.append((snap.id, sess.id, pair))
    return out


def _snapshot_pair(rt: Runtime, snap: PageSnapshot, chunk: Chunk, sess: RecordingSession) -> list[Event] | None:
    dek = rt.keys.unwrap(sess.project_id, sess.wrapped_dek)
    events = json.loads(open_chunk(rt.blobs.get(chunk.blob_key), dek, chunk_aad(sess.id, chunk.seq)))
    meta: Event = {"type": EventType.Meta, "timestamp": snap.ts - 1,
                   "data": {"href": snap.url, "width": snap.width or 1280, "height": 800}}
    for ev in events:
        if ev["type"] == EventType.Meta and ev["timestamp"] <= snap.ts:
            meta = ev
        elif ev["type"] == EventType.FullSnapshot and ev["timestamp"] == snap.ts:
            return [meta, ev]
    return None


def snapshot_for_url(rt: Runtime, url: str, *, viewport_class: str | None = None,
                     project_id: str | None = None) -> tuple[int, list[Event]] | None:
    """The latest recorded Meta + FullSnapshot pair of ``url``: ``(page snapshot id, [meta, full])`` or None.

    See :func:`snapshots_for_url`.
    """
    found = snapshots_for_url(rt, url, viewport_class=viewport_class, project_id=project_id, limit=1)
    return (found[0][0], found[0][2]) if found else None
