"""Shared setup of the retention and DSAR tests: a movable clock, sessions recorded in the past, chunk copies,
keys, and "decryptable by anything left" checks."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from consentkit import post_batch
from govkit import ORIGIN, Clock, events

from replayvault.db.models import Chunk, RecordingSession
from replayvault.errors import ChunkIntegrityError, VaultError
from replayvault.vault.codec import chunk_aad, open_chunk

DAY_MS = 86_400_000
#: A fixed "now" for the tests: 2026-11-30 12:00:00 UTC in ms.
NOW = 1_795_996_800_000
OLD_URL = "https://bank.example/statements/old-only"
SHARED_URL = "https://bank.example/statements/overview"


def page_events(href: str, ts: int = 1_700_000_000_000) -> list[dict]:
    """Meta + FullSnapshot + one click on ``href``."""
    return events(ts, href)


@pytest.fixture
def clock(monkeypatch) -> Clock:  # type: ignore[no-untyped-def]
    import replayvault.governance.dsar as dsar
    import replayvault.governance.retention as retention
    import replayvault.ingest.service as service

    c = Clock(NOW)
    for mod, name in ((service, "_now_ms"), (retention, "_now"), (dsar, "_now")):
        monkeypatch.setattr(mod, name, c)
    return c


def record(client, write_key: str, sid: str, clock: Clock, *, age_days: float = 0, href: str = SHARED_URL,  # type: ignore[no-untyped-def]
           subject: str | None = None, seq: int = 0) -> None:
    """Ingest one batch of ``sid`` received ``age_days`` before ``clock.now`` (the clock is restored)."""
    now = clock.now
    clock.now = now - int(age_days * DAY_MS)
    body = {"session_id": sid, "seq": seq, "events": page_events(href)}
    if subject is not None:
        body["subject"] = subject
    try:
        r = post_batch(client, body, {"X-Replayvault-Key": write_key, "Origin": ORIGIN})
    finally:
        clock.now = now
    assert r.status_code == 200, r.text


@dataclass
class Copy:
    seq: int
    path: Path
    sha256: str


def copy_chunks(rt, sid: str, dest: Path) -> list[Copy]:  # type: ignore[no-untyped-def]
    """Copy every chunk file of ``sid`` to ``dest`` (what a backup or an attacker could keep)."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    with rt.sessions() as db:
        chunks = db.scalars(select(Chunk).where(Chunk.session_id == sid).order_by(Chunk.seq)).all()
    for ch in chunks:
        src = rt.settings.chunks_dir / ch.blob_key
        target = dest / f"{sid}-{ch.seq}.rvc"
        shutil.copyfile(src, target)
        out.append(Copy(ch.seq, target, hashlib.sha256(target.read_bytes()).hexdigest()))
    assert out, "the session has no chunk files"
    return out


def stored_data_keys(rt) -> list[bytes]:  # type: ignore[no-untyped-def]
    """Every data key the installation can still unwrap: each session's wrapped key under its project's KEK."""
    with rt.sessions() as db:
        rows = db.execute(select(RecordingSession.project_id, RecordingSession.wrapped_dek)
                          .where(RecordingSession.wrapped_dek.is_not(None))).all()
    return [rt.keys.unwrap(pid, bytes(w)) for pid, w in rows]


def opens(copy: Copy, sid: str, dek: bytes) -> bool:
    """Whether ``dek`` decrypts the chunk copy (AES-256-GCM tag checks)."""
    try:
        open_chunk(copy.path.read_bytes(), dek, chunk_aad(sid, copy.seq))
        return True
    except (InvalidTag, ChunkIntegrityError, VaultError, ValueError):
        return False


def database_bytes(rt) -> bytes:  # type: ignore[no-untyped-def]
    """The SQLite database file and its write-ahead log, as stored on disk."""
    base = rt.settings.data_dir / "replayvault.sqlite3"
    return b"".join(p.read_bytes() for p in (base, base.with_name(base.name + "-wal")) if p.exists())


def now_ms() -> int:
    return int(time.time() * 1000)
