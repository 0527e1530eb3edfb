"""Vault: chunk codec (zstd + AES-256-GCM), key management (KEK file, AES-KW wrap), blob stores."""

from __future__ import annotations

from .blobstore import FilesystemBlobStore
from .codec import open_chunk, seal
from .keys import KeyRing, new_data_key

__all__ = ["FilesystemBlobStore", "KeyRing", "new_data_key", "open_chunk", "seal"]
