"""SQLAlchemy 2 models of the control plane (SQLite by default, PostgreSQL for scale-out).

Nothing here holds personal data in clear: recordings live encrypted in chunk files, session
state keeps only node-map structure (tags, input types, flags), and write keys are stored as
SHA-256 digests.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "Project", "RecordingSession", "Chunk", "PageSnapshot", "Masking"]


class Base(DeclarativeBase):
    """Declarative base of every control-plane table."""


class Project(Base):
    """A site that sends recordings. ``write_key_sha256`` is the hex digest of the write key."""

    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    write_key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class RecordingSession(Base):
    """One recorded browser session (and window). ``wrapped_dek`` is the AES-KW-wrapped data key."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"), index=True)
    window_id: Mapped[str] = mapped_column(String(64), default="")
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    consent: Mapped[str] = mapped_column(String(16), default="granted")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    raw_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    masked_items: Mapped[int] = mapped_column(Integer, default=0)
    #: Pipeline state (node maps, page-view bookkeeping), sealed with the session's data key, base64.
    mask_state: Mapped[str] = mapped_column(Text, default="{}")
    fact_state: Mapped[str] = mapped_column(Text, default="{}")


class Chunk(Base):
    """One accepted ingest batch, sealed and stored as a blob. Unique on (session, seq): idempotency."""

    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_chunk_session_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    blob_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    event_count: Mapped[int] = mapped_column(Integer)
    first_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    has_full_snapshot: Mapped[bool] = mapped_column(default=False)
    raw_bytes: Mapped[int] = mapped_column(BigInteger)
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class PageSnapshot(Base):
    """A FullSnapshot inside a chunk and the page it shows: masked URL without query or fragment,
    viewport width (px) from the Meta event before it, and its timestamp (ms). Heatmap backdrops."""

    __tablename__ = "page_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chunk_id: Mapped[int] = mapped_column(ForeignKey("chunks.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048), index=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ts: Mapped[int] = mapped_column(BigInteger)


class Masking(Base):
    """Count of server-side maskings per session and kind (e.g. ``email``, ``input_value``)."""

    __tablename__ = "maskings"
    __table_args__ = (UniqueConstraint("session_id", "kind", name="uq_masking_session_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    count: Mapped[int] = mapped_column(Integer, default=0)
