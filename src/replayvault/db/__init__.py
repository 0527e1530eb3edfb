"""Control-plane database: models, engine, and Alembic migrations."""

from __future__ import annotations

from .engine import open_database, upgrade
from .models import Base, Chunk, Masking, PageSnapshot, Project, RecordingSession

__all__ = ["Base", "Chunk", "Masking", "PageSnapshot", "Project", "RecordingSession", "open_database", "upgrade"]
