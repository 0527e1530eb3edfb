"""Blob stores for sealed chunks. The embedded default keeps one file per chunk."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import NotFound

__all__ = ["FilesystemBlobStore"]

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


class FilesystemBlobStore:
    """Blobs as files under ``root``; keys are relative paths like ``<session>/<seq>.rvc``.

    Writes are atomic (temporary file, fsync, rename), so a crash never leaves half a chunk.

    Raises:
        ValueError: a key is not a plain relative path (no ``..``, no absolute paths).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError("invalid blob key")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` (bytes) under ``key``, replacing any previous blob."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        """The blob stored under ``key``.

        Raises:
            NotFound: no such blob.
        """
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("chunk blob not found") from None

    def delete(self, key: str) -> None:
        """Remove the blob under ``key`` (no error when absent)."""
        self._path(key).unlink(missing_ok=True)
