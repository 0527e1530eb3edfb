"""Web layer: FastAPI app factory, REST API and dashboard."""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
