"""Vault: the chunk codec, key file and blob store."""

from __future__ import annotations

import json
import os
import stat

import pytest
import zstandard
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap

from replayvault.errors import ChunkIntegrityError, KeyFileError
from replayvault.vault.blobstore import FilesystemBlobStore
from replayvault.vault.codec import MAGIC, chunk_aad, open_chunk, seal
from replayvault.vault.keys import KeyRing, new_data_key

PAYLOAD = json.dumps([{"type": 4, "data": {"href": "https://bank.example/", "width": 1280, "height": 800},
                       "timestamp": 1700000000000}] * 50).encode()


def test_seal_is_zstd_then_aes_gcm_and_roundtrips() -> None:
    dek = new_data_key()
    blob = seal(PAYLOAD, dek, chunk_aad("s1", 0))
    assert blob[:4] == MAGIC
    # Decrypt independently with the primitives: nonce is bytes 4..16, the rest is ciphertext+tag.
    compressed = AESGCM(dek).decrypt(blob[4:16], blob[16:], b"s1/0")
    assert zstandard.ZstdDecompressor().decompress(compressed) == PAYLOAD
    assert len(blob) < len(PAYLOAD) / 5  # repetitive JSON compresses well before encryption
    assert open_chunk(blob, dek, chunk_aad("s1", 0)) == PAYLOAD


def test_nonces_differ_between_seals() -> None:
    dek = new_data_key()
    assert seal(PAYLOAD, dek, b"a")[4:16] != seal(PAYLOAD, dek, b"a")[4:16]


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_one_changed_byte_is_detected(position: int) -> None:
    dek = new_data_key()
    blob = bytearray(seal(PAYLOAD, dek, b"s/1"))
    blob[position] ^= 0x01
    with pytest.raises(ChunkIntegrityError):
        open_chunk(bytes(blob), dek, b"s/1")


def test_wrong_key_or_wrong_place_fails() -> None:
    dek = new_data_key()
    blob = seal(PAYLOAD, dek, chunk_aad("s", 1))
    with pytest.raises(ChunkIntegrityError, match="authentication"):
        open_chunk(blob, new_data_key(), chunk_aad("s", 1))
    with pytest.raises(ChunkIntegrityError):
        open_chunk(blob, dek, chunk_aad("s", 2))


def test_key_file_is_0600_and_wrap_is_rfc3394(tmp_path) -> None:
    path = tmp_path / "keys" / "kek.json"
    ring = KeyRing(path)
    dek = new_data_key()
    wrapped = ring.wrap("p1", dek)
    assert len(wrapped) == 40  # RFC 3394: n+1 64-bit blocks for a 256-bit key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    kek = __import__("base64").b64decode(json.loads(path.read_text())["keks"]["p1"])
    assert aes_key_unwrap(kek, wrapped) == dek
    assert KeyRing(path).unwrap("p1", wrapped) == dek


def test_without_key_file_chunks_cannot_be_decrypted(tmp_path) -> None:
    ring = KeyRing(tmp_path / "kek.json")
    wrapped = ring.wrap("p1", new_data_key())
    (tmp_path / "kek.json").unlink()
    with pytest.raises(KeyFileError, match="no key for project"):
        KeyRing(tmp_path / "kek.json").unwrap("p1", wrapped)
    other = KeyRing(tmp_path / "other.json")
    other.kek("p1", create=True)
    with pytest.raises(ChunkIntegrityError, match="wrong key file"):
        other.unwrap("p1", wrapped)


def test_loose_key_file_permissions_are_refused(tmp_path) -> None:
    path = tmp_path / "kek.json"
    KeyRing(path).kek("p", create=True)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0600"):
        KeyRing(path)


def test_blob_store_atomic_put_get_delete(tmp_path) -> None:
    store = FilesystemBlobStore(tmp_path)
    store.put("p/s/0000000001.rvc", b"abc")
    assert store.get("p/s/0000000001.rvc") == b"abc"
    assert not list(tmp_path.rglob("*.tmp"))
    store.delete("p/s/0000000001.rvc")
    with pytest.raises(Exception, match="not found"):
        store.get("p/s/0000000001.rvc")
    with pytest.raises(ValueError):
        store.put("../escape", b"x")


def test_two_processes_adding_project_keys_never_lose_one(tmp_path) -> None:
    """`serve` and the CLI each hold a KeyRing on the same file; keys added by either survive."""
    from replayvault.vault.keys import KeyRing

    path = tmp_path / "keys" / "kek.json"
    server, cli = KeyRing(path), KeyRing(path)
    a = server.kek("alpha", create=True)
    b = cli.kek("beta", create=True)  # the CLI never saw alpha in memory
    c = server.kek("gamma", create=True)  # the server never saw beta in memory
    assert server.kek("beta") == b  # found by re-reading the file, not "no key for project"
    fresh = KeyRing(path)
    assert (fresh.kek("alpha"), fresh.kek("beta"), fresh.kek("gamma")) == (a, b, c)
