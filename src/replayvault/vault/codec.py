"""Chunk codec: zstd-compress, then AES-256-GCM-encrypt under the session's data key.

Blob layout (bytes)::

    b"RVC1" | nonce (12) | AES-GCM ciphertext of zstd(payload) with 16-byte tag appended

The additional authenticated data binds a chunk to its place (``"<session id>/<seq>"``), so a
chunk copied into another session or position fails authentication. AES-GCM per NIST SP 800-38D;
nonces are 96-bit random values (one data key encrypts a few thousand chunks at most, far below
the 2^32 random-nonce bound of SP 800-38D section 8.3).
"""

from __future__ import annotations

import os

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ChunkIntegrityError

__all__ = ["MAGIC", "seal", "open_chunk", "chunk_aad"]

MAGIC = b"RVC1"
_NONCE = 12
_ZSTD_LEVEL = 9
_MAX_PLAINTEXT = 64 * 1024 * 1024


def chunk_aad(session_id: str, seq: int) -> bytes:
    """Additional authenticated data for chunk ``seq`` of ``session_id``."""
    return f"{session_id}/{seq}".encode()


def seal(payload: bytes, dek: bytes, aad: bytes) -> bytes:
    """Compress and encrypt ``payload`` with the 32-byte data key ``dek``; returns the blob bytes.

    Raises:
        ValueError: ``dek`` is not 32 bytes.
    """
    if len(dek) != 32:
        raise ValueError("data key must be 32 bytes (AES-256)")
    compressed = zstandard.ZstdCompressor(level=_ZSTD_LEVEL).compress(payload)
    nonce = os.urandom(_NONCE)
    return MAGIC + nonce + AESGCM(dek).encrypt(nonce, compressed, aad)


def open_chunk(blob: bytes, dek: bytes, aad: bytes) -> bytes:
    """Decrypt and decompress a blob made by :func:`seal`; returns the payload bytes.

    Raises:
        ChunkIntegrityError: wrong format, wrong key, wrong place (AAD) or any changed byte
            (the GCM tag does not verify).
    """
    if len(blob) < len(MAGIC) + _NONCE + 16 or not blob.startswith(MAGIC):
        raise ChunkIntegrityError("not a replayvault chunk (bad header or truncated)")
    nonce = blob[len(MAGIC) : len(MAGIC) + _NONCE]
    try:
        compressed = AESGCM(dek).decrypt(nonce, blob[len(MAGIC) + _NONCE :], aad)
    except InvalidTag:
        raise ChunkIntegrityError(
            "chunk failed AES-GCM authentication: it was altered, or the key or its place is wrong"
        ) from None
    return zstandard.ZstdDecompressor().decompress(compressed, max_output_size=_MAX_PLAINTEXT)
