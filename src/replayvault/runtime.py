"""The embedded runtime: one object wiring settings to the database, key ring, blob store and analytics store.

Both the web app and the CLI build a :class:`Runtime`; nothing else opens storage.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from functools import cached_property

from sqlalchemy.orm import Session, sessionmaker

from .analytics.store import AnalyticsStore
from .audit.log import AuditLog
from .config import Settings
from .db.engine import open_database
from .governance.accounts import LoginLimiter
from .vault.blobstore import FilesystemBlobStore
from .vault.keys import KeyRing

__all__ = ["Runtime"]


class Runtime:
    """Storage handles for one data directory (``settings.data_dir``).

    Creating it creates the data directory (mode 0700) and migrates the database; the key file is
    created with mode 0600 the first time a project key is needed.

    Raises:
        KeyFileError: an existing key file is malformed or has loose permissions.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(settings.data_dir, 0o700)  # databases and chunks inside inherit this protection
        self.sessions: sessionmaker[Session] = open_database(settings.db_url)
        self.keys = KeyRing(settings.key_file)
        self.blobs = FilesystemBlobStore(settings.chunks_dir)
        self.audit = AuditLog(self.sessions, settings.audit_key_file, settings.audit_origin,
                              settings.data_dir / "audit-checkpoints.jsonl")
        self.login_limiter = LoginLimiter()
        self._locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._locks_guard = threading.Lock()

    @cached_property
    def analytics(self) -> AnalyticsStore:
        """The DuckDB analytics store (opened lazily); its reads leave out sessions past their retention
        period (:func:`replayvault.governance.retention.hidden_session_ids`), for the web app and the CLI alike."""
        from functools import partial

        from .governance.retention import hidden_session_ids

        store = AnalyticsStore(self.settings.analytics_path)
        store.hidden_sessions = partial(hidden_session_ids, self)
        return store

    def session_lock(self, session_id: str) -> threading.Lock:
        """A lock serializing batches of one recording session inside this process."""
        with self._locks_guard:
            return self._locks[session_id]
