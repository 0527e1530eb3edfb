"""Accepting batches: process_batch (capture scope, mask, facts) -> seal -> persist.

The collector checks consent first (:func:`replayvault.governance.consent.admit`: token, granted
periods); :func:`accept_batch` also serves ``replayvault import``, which has no consent receipt (its
sessions are marked ``imported``). A session whose consent was withdrawn after it recorded is refused here
too (409), whichever door the batch came through.

Each batch also raises the session's retention period with the pages it shows, and links the session
to its data subject's digest (``subject``; see :mod:`replayvault.governance.dsar`). Batches for a
crypto-shredded session or one past its retention period are refused (410).

A batch is committed (blob written, then its database row committed) before the caller answers
2xx. Idempotent on (session id, seq): a repeated batch is acknowledged and not stored twice.
A rejected batch changes nothing that was accepted before.

Capture scope (policy ``capture_scope``, :mod:`replayvault.governance.scope`): events of out-of-scope
pages are dropped before masking. Each batch that dropped some adds one :class:`IngestIncident` row
(kind ``scope``, reason ``out_of_scope``, ``rule`` the configured pattern, never a URL) per pattern, in
the transaction of its chunk and its ``chunk.ingested`` audit entry (details ``scope_dropped``).
A batch whose events are all dropped stores no chunk and creates no session: its incident rows and a
``scope.dropped`` audit entry (details ``seq``, ``events``, ``rules``) commit together, and an existing
session's sealed state is updated (so the next batch knows the window is out of scope). Without a
session state to carry that, the session's latest scope incident does: a session id with scope
incidents and no scope state starts out of scope (until an in-scope URL and a FullSnapshot).

Idempotency of a fully dropped batch: with no chunk row to find, a repeat of (session, seq) is
recognised by its ``scope.dropped`` audit entry (looked up only for projects whose scope has patterns)
and acknowledged as a duplicate without counting again. This holds within one process (the session
lock serialises it); two processes receiving the same fully dropped batch at the same instant may
both count it, as there is no unique key to collide on.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import (
    AuditEntry,
    Chunk,
    IngestIncident,
    Masking,
    MaskingEvidence,
    PageSnapshot,
    Project,
    RecordingSession,
)
from ..errors import ConsentRevoked, MalformedBatch, NotFound
from ..governance.dsar import subject_digest
from ..governance.retention import refuse_closed, stamp_batch
from ..pipeline import Batch, ProcessedBatch, SessionState, process_batch
from ..privacy.policy import stored_policy
from ..runtime import Runtime
from ..vault.codec import chunk_aad, open_chunk, seal
from ..vault.keys import new_data_key
from .validate import IngestRequest

__all__ = ["AcceptResult", "accept_batch"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcceptResult:
    """Outcome of :func:`accept_batch`: ``duplicate`` is true when (session, seq) was already stored
    (or already dropped whole). ``events`` counts the events received, ``dropped`` those dropped as out
    of the capture scope (0 for a duplicate, like ``maskings``: nothing was processed again)."""

    session_id: str
    seq: int
    events: int
    duplicate: bool
    maskings: dict[str, int]
    dropped: int = 0


def _now_ms() -> int:
    return int(time.time() * 1000)


def accept_batch(rt: Runtime, project: Project, req: IngestRequest) -> AcceptResult:
    """Mask, seal and store one validated batch for ``project``.

    Raises:
        ConsentRevoked: the session's consent was revoked; nothing is stored.
        SessionClosed: the session was crypto-shredded or its retention period ended (410).
        MalformedBatch: ``subject`` differs from the subject the session is linked to.
        NotFound: the session id belongs to another project.
        MalformedBatch: the pipeline cannot process an event.

    Events out of the capture scope are dropped and counted (module docstring); when all are, nothing
    but the incident rows, the ``scope.dropped`` audit entry and the session's state is written.
    """
    with rt.session_lock(req.session_id), rt.sessions() as db:
        sess = db.get(RecordingSession, req.session_id)
        if sess is not None and sess.project_id != project.id:
            raise NotFound("no such session for this project")
        if sess is not None and sess.consent == "revoked":
            raise ConsentRevoked()
        if sess is not None:
            refuse_closed(db, sess, _now_ms())  # shredded, or past its retention period
        subject = subject_digest(rt, req.subject) if req.subject else None
        if subject and sess is not None and sess.subject_digest not in (None, subject):
            raise MalformedBatch("'subject' differs from the data subject this session is linked to; "
                                 "another subject needs a new session")
        dup = db.scalar(select(Chunk.id).where(Chunk.session_id == req.session_id, Chunk.seq == req.seq))
        if dup is not None:
            return AcceptResult(req.session_id, req.seq, len(req.events), True, {})
        policy = stored_policy(project.policy)
        scoped = bool(policy.capture_scope.allow or policy.capture_scope.deny)
        if scoped and _dropped_before(db, project.id, req.session_id, req.seq):
            return AcceptResult(req.session_id, req.seq, len(req.events), True, {})

        dek = rt.keys.unwrap(project.id, sess.wrapped_dek) if sess is not None and sess.wrapped_dek else None
        state = _open_state(sess, dek)
        if scoped and not state.scope:
            state = replace(state, scope=_carried_scope(db, project.id, req.session_id))
        try:
            out = process_batch(Batch(project.id, req.session_id, req.seq, req.events, req.window_id, policy), state)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError, OverflowError, RecursionError) as exc:
            # Validation checks the envelope; a deeper shape rrweb never produces lands here.
            log.info("batch rejected: pipeline could not process an event (%s)", type(exc).__name__)
            raise MalformedBatch("an event has a shape the pipeline cannot process (not an rrweb event structure)") from None

        now = _now_ms()
        if out.scope_dropped + out.scope_silent >= len(req.events):  # nothing left to store
            _drop_batch(rt, db, project, sess, dek, req, out, now)
            return AcceptResult(req.session_id, req.seq, len(req.events), False, {}, out.scope_dropped)
        urls = [pv.url for pv in out.facts.page_views] + [u for u, _w, _ts in out.page_snapshots]
        if sess is not None:  # before any write of this transaction: it may read the analytics store
            stamp_batch(rt, db, project, sess, urls)
        if sess is None:
            sess = RecordingSession(id=req.session_id, project_id=project.id, window_id=req.window_id,
                                    consent="granted", created_ms=now, updated_ms=now, chunk_count=0,
                                    event_count=0, raw_bytes=0, stored_bytes=0, masked_items=0)
            stamp_batch(rt, db, project, sess, urls)
            # Not flushed yet: the first write of this transaction happens under the audit lock (below), the
            # lock order every writer keeps (audit lock, then the database's write lock). Flushing here would
            # hold the write lock while waiting for the audit lock, against a consent receipt holding both
            # the other way round.
            db.add(sess)
        if subject and sess.subject_digest is None:
            sess.subject_digest = subject
        new_key = dek is None
        if dek is None:
            dek = new_data_key()
            # A project that already has keyed sessions must find its KEK in the key file: making a
            # new one would silently hide a lost or wrong key file.
            with db.no_autoflush:
                keyed = db.scalar(select(RecordingSession.id).where(
                    RecordingSession.project_id == project.id, RecordingSession.wrapped_dek.is_not(None)).limit(1))
            sess.wrapped_dek = rt.keys.wrap(project.id, dek, create=keyed is None)

        blob = seal(out.payload, dek, chunk_aad(req.session_id, req.seq))
        blob_key = f"{project.id}/{req.session_id}/{req.seq:010d}-{secrets.token_hex(4)}.rvc"  # unique per attempt
        rt.blobs.put(blob_key, blob)
        try:
            with rt.audit.lock:  # the chunk and its audit entry (its SHA-256) commit together
                db.flush()  # a new session row first: the chunk refers to it
                chunk = _record(db, sess, req, out, blob, blob_key, now, dek)
                details = {"seq": req.seq, "sha256": chunk.sha256, "events": chunk.event_count,
                           "stored_bytes": chunk.stored_bytes, "new_data_key": new_key, "incidents": out.incidents}
                if out.scope_dropped:
                    details["scope_dropped"] = out.scope_dropped
                    _add_incidents(db, project.id, req.session_id, out.scope_rules, now)
                rt.audit.record(actor=f"project:{project.id}", action="chunk.ingested", resource=f"session:{sess.id}",
                                details=details, db=db)
                db.commit()
        except IntegrityError:
            # A concurrent request (another process) stored the same (session, seq) first.
            db.rollback()
            rt.blobs.delete(blob_key)
            if db.scalar(select(Chunk.id).where(Chunk.session_id == req.session_id, Chunk.seq == req.seq)) is None:
                raise
            return AcceptResult(req.session_id, req.seq, len(req.events), True, {})
        except BaseException:
            db.rollback()
            rt.blobs.delete(blob_key)
            raise
    try:
        rt.analytics.write(project.id, req.session_id, out.facts)
        rt.analytics.write_behaviour(project.id, req.session_id, out.behaviour)
    except Exception as exc:  # noqa: BLE001 - facts can be rebuilt from chunks; never fail an accepted batch
        log.error("analytics write failed for a batch (%s)", type(exc).__name__)
    return AcceptResult(req.session_id, req.seq, len(req.events), False, out.maskings, out.scope_dropped)


def _dropped_before(db, project_id: str, session_id: str, seq: int) -> bool:  # type: ignore[no-untyped-def]
    """Whether batch ``seq`` of the session was already dropped whole (its ``scope.dropped`` audit entry)."""
    rows = db.scalars(select(AuditEntry.details).where(AuditEntry.resource == f"session:{session_id}",
                                                       AuditEntry.action == "scope.dropped",
                                                       AuditEntry.actor == f"project:{project_id}"))
    return any(json.loads(text or "{}").get("seq") == seq for text in rows)


def _carried_scope(db, project_id: str, session_id: str) -> dict:  # type: ignore[no-untyped-def]
    """Scope state for a session without one: out of scope (for the pattern of its latest scope incident)
    when the session id has scope incidents, i.e. its earlier batches were dropped whole; else ``{}``."""
    rule = db.scalar(select(IngestIncident.rule).where(
        IngestIncident.project_id == project_id, IngestIncident.session_id == session_id,
        IngestIncident.kind == "scope").order_by(IngestIncident.id.desc()).limit(1))
    return {} if rule is None else {"unknown": {"out": True, "resync": False, "rule": rule}}


def _add_incidents(db, project_id: str, session_id: str, rules: dict[str, int], now: int) -> None:  # type: ignore[no-untyped-def]
    """One ``scope`` incident row per pattern, in ``rules`` order (the last is the pattern in effect at the end)."""
    for rule, n in rules.items():
        db.add(IngestIncident(project_id=project_id, session_id=session_id, kind="scope", reason="out_of_scope",
                              rule=rule[:200], events=n, received_ms=now))


def _drop_batch(rt: Runtime, db, project: Project, sess: RecordingSession | None, dek: bytes | None,  # type: ignore[no-untyped-def]
                req: IngestRequest, out: ProcessedBatch, now: int) -> None:
    """Record a batch whose events are all out of scope: incident rows, the state of an existing keyed
    session (no new session, key or chunk), and a ``scope.dropped`` audit entry, in one transaction."""
    rules: dict[str, int] = {}
    for rule, n in out.scope_rules.items():
        rules[rule[:200]] = rules.get(rule[:200], 0) + n
    try:
        with rt.audit.lock:
            _add_incidents(db, project.id, req.session_id, out.scope_rules, now)
            if sess is not None and dek is not None:
                _seal_state(sess, out.state, dek)
            rt.audit.record(actor=f"project:{project.id}", action="scope.dropped", resource=f"session:{req.session_id}",
                            details={"seq": req.seq, "events": out.scope_dropped, "rules": rules}, db=db)
            db.commit()
    except BaseException:
        db.rollback()
        raise


def _open_state(sess: RecordingSession | None, dek: bytes | None) -> SessionState:
    """The session's pipeline state, decrypted (empty for a new session; ``scope`` ``{}`` in states
    stored before capture scope existed)."""
    if sess is None or dek is None:
        return SessionState()
    facts = _open_json(sess.fact_state, dek, sess.id, "facts")
    return SessionState(_open_json(sess.mask_state, dek, sess.id, "mask"), facts.get("facts", {}), facts.get("page", {}),
                        facts.get("behaviour", {}), facts.get("scope", {}))


def _seal_state(sess: RecordingSession, state: SessionState, dek: bytes) -> None:
    """Store ``state`` on ``sess``, sealed with the session's data key (``scope`` inside the facts state)."""
    sess.mask_state = _seal_json(state.mask, dek, sess.id, "mask")
    sess.fact_state = _seal_json({"facts": state.facts, "page": state.page, "behaviour": state.behaviour,
                                  "scope": state.scope}, dek, sess.id, "facts")


def _seal_json(obj: dict, dek: bytes, session_id: str, name: str) -> str:
    """Session state sealed like a chunk (it names page structure and URLs), as base64 text."""
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.b64encode(seal(raw, dek, f"{session_id}/state/{name}".encode())).decode()


def _open_json(text: str, dek: bytes, session_id: str, name: str) -> dict:
    if not text or text == "{}":
        return {}
    return json.loads(open_chunk(base64.b64decode(text), dek, f"{session_id}/state/{name}".encode()))


def _record(db, sess: RecordingSession, req: IngestRequest, out, blob: bytes, blob_key: str, now: int,  # type: ignore[no-untyped-def]
            dek: bytes) -> Chunk:
    kept = len(req.events) - out.scope_dropped - out.scope_silent  # past the capture scope (masking may drop more)
    chunk = Chunk(session_id=req.session_id, seq=req.seq, blob_key=blob_key,
                 sha256=hashlib.sha256(blob).hexdigest(), event_count=kept,
                 first_ts=out.first_ts, last_ts=out.last_ts, has_full_snapshot=out.has_full_snapshot,
                 raw_bytes=len(out.payload), stored_bytes=len(blob), created_ms=now)
    db.add(chunk)
    db.flush()
    for url, width, ts in out.page_snapshots:
        db.add(PageSnapshot(chunk_id=chunk.id, url=url[:2048], width=width, ts=ts))
    sess.chunk_count += 1
    sess.event_count += kept
    sess.raw_bytes += len(out.payload)
    sess.stored_bytes += len(blob)
    sess.masked_items += sum(out.maskings.values())
    _seal_state(sess, out.state, dek)
    sess.updated_ms = now
    for kind, n in out.maskings.items():
        row = db.scalar(select(Masking).where(Masking.session_id == req.session_id, Masking.kind == kind))
        if row is None:
            db.add(Masking(session_id=req.session_id, kind=kind, count=n))
        else:
            row.count += n
    for ev in out.evidence:
        found = db.scalar(select(MaskingEvidence).where(
            MaskingEvidence.session_id == req.session_id, MaskingEvidence.kind == ev.kind,
            MaskingEvidence.location == ev.location, MaskingEvidence.browser == ev.browser))
        if found is None:
            db.add(MaskingEvidence(session_id=req.session_id, kind=ev.kind, location=ev.location, browser=ev.browser,
                                   count=ev.count))
        else:
            found.count += ev.count
    sess.incidents = (sess.incidents or 0) + out.incidents
    db.flush()
    return chunk
