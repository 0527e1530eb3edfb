"""``replayvault import``: feed recorded files through the same pipeline as the HTTP collector.

Accepts a plain rrweb event array, a PostHog export ``{"result": [...]}`` and a PostHog
``{"snapshot_data_by_window_id": {...}}`` (see :func:`replayvault.rrweb.parse_recording`).
Session ids are derived from the file's SHA-256 and the window id (UUID v5), so importing the
same file twice stores it once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..db.models import Project, RecordingSession
from ..rrweb import parse_recording
from ..errors import BatchTooLarge, InvalidInput
from ..runtime import Runtime
from ..types import Event
from .service import accept_batch
from .validate import IngestRequest, check_events, loads_strict

__all__ = ["ImportResult", "import_file", "split_batches"]

_NAMESPACE = uuid.UUID("5b0f8c1e-9a43-4c56-8d9e-2f1c3a7b6d10")


@dataclass(frozen=True)
class ImportResult:
    """What one file became: one session per browser window."""

    path: str
    session_ids: list[str]
    events: int
    batches: int
    duplicates: int


def split_batches(events: list[Event], max_events: int, max_bytes: int) -> Iterator[list[Event]]:
    """Cut an event list into consecutive batches within the ingest limits (events, JSON bytes).

    Raises:
        BatchTooLarge: one event alone is larger than ``max_bytes``.
    """
    batch: list[Event] = []
    size = 2
    for i, ev in enumerate(events):
        n = len(json.dumps(ev, separators=(",", ":"), ensure_ascii=False).encode()) + 1
        if n > max_bytes:
            raise BatchTooLarge(f"event {i} is {n} bytes; a batch may hold at most {max_bytes} bytes")
        if batch and (len(batch) >= max_events or size + n > max_bytes):
            yield batch
            batch, size = [], 2
        batch.append(ev)
        size += n
    if batch:
        yield batch


def _mark_imported(rt: Runtime, session_id: str) -> None:
    """Imported recordings carry no consent receipt of ours: ``consent`` says where they came from, and the
    consent metric leaves them out (``compliance.metrics``)."""
    with rt.sessions() as db:
        sess = db.get(RecordingSession, session_id)
        if sess is not None and sess.consent == "granted":
            sess.consent = "imported"
            db.commit()


def import_file(rt: Runtime, project: Project, path: Path, *, batch_events: int = 1000,
                progress: Callable[[int], None] | None = None) -> ImportResult:
    """Import one recording file into ``project``; ``progress(n)`` is called after each batch with its event count.

    Raises:
        UnsupportedFormat: not a supported recording shape.
        MalformedBatch: not valid JSON, or an event the collector would refuse too (message names it).
        BatchTooLarge: one event is larger than the batch size limit.
        InvalidInput: the file was already imported into another project.
        OSError: the file cannot be read.
    """
    raw = Path(path).read_bytes()
    windows = parse_recording(loads_strict(raw))  # the collector's JSON rules (no NaN, bounded depth...)
    digest = hashlib.sha256(raw).hexdigest()
    limit_events = min(batch_events, rt.settings.max_batch_events)
    sids, total, batches, dups = [], 0, 0, 0
    for window_id, events in windows.items():
        sid = str(uuid.uuid5(_NAMESPACE, f"{digest}/{window_id}"))
        with rt.sessions() as db:
            existing = db.get(RecordingSession, sid)
        if existing is not None and existing.project_id != project.id:
            raise InvalidInput(f"already imported into project {existing.project_id!r}; "
                               f"use --project {existing.project_id}")
        sids.append(sid)
        for seq, part in enumerate(split_batches(events, limit_events, rt.settings.max_batch_bytes - 1024)):
            wid = "".join(c for c in window_id if c.isalnum() or c in "-_")[:64]
            check_events(part, limit_events)  # the collector's checks, so both doors admit the same
            res = accept_batch(rt, project, IngestRequest(session_id=sid, seq=seq, events=part, window_id=wid))
            if seq == 0 and existing is None:
                _mark_imported(rt, sid)
            total += len(part)
            batches += 1
            dups += res.duplicate
            if progress:
                progress(len(part))
    return ImportResult(str(path), sids, total, batches, dups)
