"""Ingest: collector endpoint logic, validation and limits, idempotency by (session, seq), file import."""

from __future__ import annotations

from .importer import ImportResult, import_file
from .projects import create_project, project_for_key, rotate_write_key
from .service import AcceptResult, accept_batch
from .validate import IngestRequest, decode_body, parse_consent, parse_ingest

__all__ = [
    "AcceptResult", "ImportResult", "IngestRequest", "accept_batch", "create_project", "decode_body",
    "import_file", "parse_consent", "parse_ingest", "project_for_key", "rotate_write_key",
]
