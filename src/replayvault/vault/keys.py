"""Key management: per-project key-encryption keys (KEK) in a 0600 key file; data keys wrapped with AES-KW.

Every session gets a random 256-bit data encryption key (DEK). Only its wrapped form (RFC 3394 AES
key wrap under the project's KEK) is stored in the database; deleting the wrapped DEK makes the
session's chunks unreadable (crypto-shredding).

Key file (JSON, mode 0600, directory 0700)::

    {"version": 1, "keks": {"<project id>": "<base64 32-byte key>"}}
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import stat
import threading
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from ..errors import ChunkIntegrityError, KeyFileError

__all__ = ["KeyRing", "new_data_key"]


def new_data_key() -> bytes:
    """A fresh random 32-byte AES-256 data key from the OS CSPRNG."""
    return os.urandom(32)


class KeyRing:
    """The project KEKs held in one key file.

    ``KeyRing(path)`` reads the file if it exists; :meth:`kek` creates a project's KEK on first use
    and rewrites the file atomically with mode 0600.

    Raises:
        KeyFileError: the file exists but is unreadable, malformed, or readable by group/others.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._keks: dict[str, bytes] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise KeyFileError(f"key file {self.path} has mode {mode:o}; it must be 0600 (chmod 600 it)")
        try:
            doc = json.loads(self.path.read_text())
            self._keks = {pid: base64.b64decode(k, validate=True) for pid, k in doc["keks"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeyFileError(f"key file {self.path} is unreadable or malformed ({type(exc).__name__})") from None
        if any(len(k) != 32 for k in self._keks.values()):
            raise KeyFileError(f"key file {self.path} holds a key that is not 32 bytes")

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        tmp = self.path.with_suffix(".tmp")
        doc = {"version": 1, "keks": {pid: base64.b64encode(k).decode() for pid, k in self._keks.items()}}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def kek(self, project_id: str, *, create: bool = False) -> bytes:
        """The 32-byte KEK of ``project_id``; with ``create=True`` one is made and saved if missing.

        Raises:
            KeyFileError: no KEK for the project and ``create`` is false.
        """
        with self._lock:
            key = self._keks.get(project_id)
            if key is not None:
                return key
            # Another process (the CLI beside `serve`) may have added keys since we read the file:
            # re-read under an inter-process lock, and save the merged set, so no key is ever lost.
            with self._file_lock():
                if self.path.exists():
                    self._load()
                key = self._keks.get(project_id)
                if key is None:
                    if not create:
                        raise KeyFileError(f"no key for project {project_id!r} in {self.path}")
                    key = os.urandom(32)
                    self._keks[project_id] = key
                    self._save()
            return key

    @contextlib.contextmanager
    def _file_lock(self):  # type: ignore[no-untyped-def]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def wrap(self, project_id: str, dek: bytes, *, create: bool = True) -> bytes:
        """Wrap a data key with the project's KEK (RFC 3394 AES key wrap); 40 bytes out for a 32-byte DEK.

        With ``create=False`` a missing KEK is an error instead of a new key (used once a project
        has sessions: a new KEK would hide a lost key file).

        Raises:
            KeyFileError: no KEK for the project and ``create`` is false.
        """
        return aes_key_wrap(self.kek(project_id, create=create), dek)

    def unwrap(self, project_id: str, wrapped: bytes) -> bytes:
        """Unwrap a data key made by :meth:`wrap`.

        Raises:
            KeyFileError: the project has no KEK in this key file.
            ChunkIntegrityError: the wrapped key does not unwrap under this KEK (wrong key file).
        """
        try:
            return aes_key_unwrap(self.kek(project_id), wrapped)
        except InvalidUnwrap:
            raise ChunkIntegrityError("data key does not unwrap under this project's key (wrong key file?)") from None
