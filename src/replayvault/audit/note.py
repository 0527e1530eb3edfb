"""Signed checkpoints: C2SP signed notes (c2sp.org/signed-note) carrying tlog checkpoints
(c2sp.org/tlog-checkpoint), signed with Ed25519.

A checkpoint body is three lines, each ending in a newline (extension lines may follow)::

    <origin>
    <tree size, decimal, no leading zeros>
    <base64 of the 32-byte root hash>

A signed note is the body, a blank line, then one or more signature lines::

    — <key name> <base64(4-byte key ID || 64-byte Ed25519 signature of the body)>

where the dash is U+2014 EM DASH followed by a space, and the key ID is
``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]``.

Keys are written the way Go's ``golang.org/x/mod/sumdb/note`` writes them:

* verifier key: ``<name>+<8 hex key ID>+<base64(0x01 || 32-byte public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``

Every error is a :class:`NoteError` (or :class:`KeyFileError` for the key file); no message ever
contains private key material.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import KeyFileError, NoteError
from ..private_files import read_private_file

__all__ = [
    "Checkpoint",
    "NoteSigner",
    "generate_signer",
    "load_or_create_signer",
    "open_checkpoint",
    "parse_verifier_key",
    "verify_note",
]

#: Signature type identifier of Ed25519 in signed notes (c2sp.org/signed-note, "Signature types").
ALG_ED25519 = 0x01
#: Notes with more signature lines are rejected (the spec requires accepting at least 16).
MAX_SIGNATURES = 100
#: Largest tree size a checkpoint may carry (sizes are unsigned 64-bit integers in practice).
MAX_TREE_SIZE = 2**64 - 1

_HASH_SIZE = 32
_SIG_PREFIX = "\u2014 "
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_FILE_MAX_BYTES = 4096
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")


# --------------------------------------------------------------------------------------------
# Small helpers: names, key IDs, base64, text rules
# --------------------------------------------------------------------------------------------


def _key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4] (signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _is_valid_name(name: str) -> bool:
    """Key names are non-empty UTF-8 without Unicode spaces, ``+`` or control characters (signed-note)."""
    if not name or "+" in name or any(c.isspace() or c < " " for c in name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 §4, padded, canonical) or :class:`NoteError` naming ``what``."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise NoteError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _check_note_text(text: str, what: str) -> bytes:
    """The UTF-8 bytes of ``text`` after checking the signed-note character rules.

    Raises:
        NoteError: ``text`` is not valid Unicode (lone surrogates) or holds an ASCII control
            character other than newline.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8") from None
    match = _CONTROL_RE.search(text)
    if match:
        raise NoteError(f"{what} contains control character {match.group()!r} at offset {match.start()}")
    return data


# --------------------------------------------------------------------------------------------
# Checkpoint body (c2sp.org/tlog-checkpoint)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A transparency log checkpoint: the log's ``origin``, its tree ``size`` (leaves) and the
    32-byte RFC 9162 ``root`` hash of the tree of that size.

    Raises:
        NoteError: ``origin`` is empty or holds a newline or control character, ``size`` is not
            in ``0..2**64-1``, or ``root`` is not 32 bytes.
    """

    origin: str
    size: int
    root: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint origin must be a non-empty single line")
        _check_note_text(self.origin, "checkpoint origin")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError(f"checkpoint tree size must be an integer in 0..2**64-1, got {self.size!r}")
        if not isinstance(self.root, (bytes, bytearray)) or len(self.root) != _HASH_SIZE:
            raise NoteError(f"checkpoint root hash must be {_HASH_SIZE} bytes")
        object.__setattr__(self, "root", bytes(self.root))

    def body(self) -> str:
        """The note text: ``"<origin>\\n<size>\\n<base64 root>\\n"``."""
        return f"{self.origin}\n{self.size}\n{_b64encode(self.root)}\n"

    @classmethod
    def from_body(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text strictly; extension lines after the third are ignored.

        Raises:
            NoteError: fewer than three lines, an empty line, no final newline, a tree size that
                is not decimal without leading zeros, or a root that is not canonical base64 of
                32 bytes.
        """
        if not body.endswith("\n"):
            raise NoteError("checkpoint body does not end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint body has {len(lines)} lines, expected at least 3 (origin, size, root)")
        for number, line in enumerate(lines, start=1):
            if not line:
                raise NoteError(f"checkpoint line {number} is empty")
        origin, size_text, root_text = lines[:3]
        if not _TREE_SIZE_RE.fullmatch(size_text):
            raise NoteError(f"checkpoint tree size {size_text[:40]!r} is not a decimal number without leading zeros")
        root = _b64decode(root_text, "checkpoint root hash")
        if len(root) != _HASH_SIZE:
            raise NoteError(f"checkpoint root hash is {len(root)} bytes, expected {_HASH_SIZE}")
        if int(size_text) > MAX_TREE_SIZE:
            raise NoteError("checkpoint tree size is larger than 2**64-1")
        return cls(origin=origin, size=int(size_text), root=root)


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------


def _split_key(text: str, what: str) -> tuple[str, bytes, bytes]:
    """Split ``<name>+<8 hex key ID>+<base64(0x01 || 32 bytes)>`` into name, key ID, 32 key bytes.

    Messages never quote ``text`` (it may be a private key).
    """
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"{what} is not in the form <name>+<key id>+<key>")
    name, id_hex, key_b64 = parts
    if not _is_valid_name(name):
        raise NoteError(f"{what} has an invalid key name")
    if not _KEY_ID_RE.fullmatch(id_hex):
        raise NoteError(f"{what} key ID is not 8 hex digits")
    key = _b64decode(key_b64, f"{what} data")
    if len(key) != 1 + 32:
        raise NoteError(f"{what} data is {len(key)} bytes, expected 33 (type byte and Ed25519 key)")
    if key[0] != ALG_ED25519:
        raise NoteError(f"{what} has signature type {key[0]:#04x}; only Ed25519 (0x01) is supported")
    return name, bytes.fromhex(id_hex), key[1:]


def parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Parse ``<name>+<8 hex key ID>+<base64(0x01 || 32-byte public key)>``.

    Returns ``(name, 4-byte key ID, public key)``.

    Raises:
        NoteError: the string is malformed, the key type is not Ed25519, or the key ID is not
            the one computed from the name and key.
    """
    name, key_id, raw = _split_key(text.strip(), "verifier key")
    if _key_id(name, raw) != key_id:
        raise NoteError(f"verifier key ID {key_id.hex()} does not match the key of {name!r}")
    try:
        public = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise NoteError(f"verifier key of {name!r} is not a valid Ed25519 public key") from None
    return name, key_id, public


class NoteSigner:
    """Signs note texts with an Ed25519 key given as ``PRIVATE+KEY+<name>+<key id>+<base64 seed>``.

    Attributes: ``name`` (key name), ``key_id`` (4 bytes), ``verifier_key`` (the public key string
    for :func:`open_checkpoint`). The private key never appears in ``repr`` or in errors.

    Raises:
        NoteError: the private key string is malformed or its key ID does not match its key.
    """

    __slots__ = ("_key", "key_id", "name", "verifier_key")

    def __init__(self, private_key: str) -> None:
        if not private_key.startswith(_PRIVATE_PREFIX):
            raise NoteError("signer key does not start with PRIVATE+KEY+")
        name, key_id, seed = _split_key(private_key[len(_PRIVATE_PREFIX) :], "signer key")
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        public = self._key.public_key().public_bytes_raw()
        if _key_id(name, public) != key_id:
            raise NoteError("signer key ID does not match its key")
        self.name = name
        self.key_id = key_id
        self.verifier_key = f"{name}+{key_id.hex()}+{_b64encode(bytes([ALG_ED25519]) + public)}"

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_id={self.key_id.hex()!r})"

    def private_key(self) -> str:
        """The signer key string ``PRIVATE+KEY+...`` (secret: for the key file only)."""
        seed = self._key.private_bytes_raw()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ALG_ED25519]) + seed)}"

    def sign(self, body: str) -> str:
        """The signed note: ``body``, a blank line, and this key's signature line.

        Raises:
            NoteError: ``body`` is empty, does not end with a newline, or breaks the note
                character rules (control characters, invalid Unicode).
        """
        if not body.endswith("\n"):
            raise NoteError("note text must be non-empty and end with a newline")
        signature = self._key.sign(_check_note_text(body, "note text"))
        return f"{body}\n{_SIG_PREFIX}{self.name} {_b64encode(self.key_id + signature)}\n"


def generate_signer(name: str) -> NoteSigner:
    """A new random Ed25519 :class:`NoteSigner` for key name ``name``.

    Raises:
        NoteError: ``name`` is empty or contains spaces, ``+`` or control characters.
    """
    if not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: it must be non-empty, without spaces or '+'")
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    seed = key.private_bytes_raw()
    encoded = f"{_PRIVATE_PREFIX}{name}+{_key_id(name, public).hex()}+{_b64encode(bytes([ALG_ED25519]) + seed)}"
    return NoteSigner(encoded)


# --------------------------------------------------------------------------------------------
# Key file
# --------------------------------------------------------------------------------------------


def load_or_create_signer(path: Path, name: str) -> NoteSigner:
    """The signer whose key is in ``path``; a new key file (mode 0600) is created if it is missing.

    Creation is atomic: the key is written to a 0600 temporary file in the same directory, synced,
    and hard-linked into place, so readers never see a partial file and two concurrent callers
    end up with the same key. A missing parent directory is created with mode 0700.

    Raises:
        KeyFileError: the file is not a regular file, allows any group/other access, is
            malformed, holds the key of another name, or cannot be read or created.
    """
    path = Path(path)
    with contextlib.suppress(FileNotFoundError):
        return _load_signer(path, name)
    signer = generate_signer(name)
    if _create_key_file(path, signer.private_key()):
        return signer
    return _load_signer(path, name)  # another process created it first


def _load_signer(path: Path, name: str) -> NoteSigner:
    """Read and check an existing key file. Raises FileNotFoundError if it does not exist."""
    data = read_private_file(path, max_bytes=_KEY_FILE_MAX_BYTES, error=KeyFileError, label="key file")
    try:
        signer = NoteSigner(data.decode("utf-8").removesuffix("\n"))
    except (UnicodeDecodeError, NoteError):
        raise KeyFileError(f"key file {path} does not hold a valid note signing key") from None
    if signer.name != name:
        raise KeyFileError(f"key file {path} holds the key of {signer.name!r}, expected {name!r}")
    return signer


def _create_key_file(path: Path, text: str) -> bool:
    """Atomically create ``path`` (mode 0600) holding ``text``; False if it already exists."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be created ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
        _fsync_directory(path.parent)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be created ({exc.strerror})") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable (best effort where directories cannot be opened)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# Opening notes
# --------------------------------------------------------------------------------------------


def _decode_note(note_text: str | bytes) -> str:
    """``note_text`` as ``str`` after the UTF-8 and control character rules of signed-note."""
    if isinstance(note_text, (bytes, bytearray)):
        try:
            note_text = bytes(note_text).decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("note is not valid UTF-8") from None
    _check_note_text(note_text, "note")
    return note_text


def _split_note(note: str) -> tuple[str, list[str]]:
    """Split a note into its text (with final newline) and its signature lines (without newline)."""
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    if not signatures or not signatures.endswith("\n"):
        raise NoteError("note has no signature lines after the blank line, or they do not end with a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signature lines; at most {MAX_SIGNATURES} are accepted")
    return text, lines


def _parse_signature_line(line: str, number: int) -> tuple[str, bytes, bytes]:
    """``— <name> <base64(key ID || signature)>`` as ``(name, 4-byte key ID, signature)``."""
    if not line.startswith(_SIG_PREFIX):
        raise NoteError(f"signature line {number} does not start with an em dash and a space")
    name, _, b64 = line[len(_SIG_PREFIX) :].partition(" ")
    if not _is_valid_name(name):
        raise NoteError(f"signature line {number} has an invalid key name")
    raw = _b64decode(b64, f"signature line {number}")
    if len(raw) < 5:
        raise NoteError(f"signature line {number} is too short to hold a key ID and a signature")
    return name, raw[:4], raw[4:]


def verify_note(note_text: str | bytes, verifier_key: str) -> str:
    """Check a signed note against one verifier key and return its text (the signed body).

    Signatures by other keys (another name or key ID) are ignored, as signed-note requires;
    every signature by this key must verify.

    Raises:
        NoteError: the note is malformed (not UTF-8, control characters, no blank line, bad
            signature line), the verifier key is malformed, the note has no signature by this
            key, or a signature by this key does not verify.
    """
    # Steps:
    #  1. Parse the verifier key.
    #  2. Check the character rules (UTF-8, no control characters but newline).
    #  3. Split text and signature lines at the last blank line; parse every signature line.
    #  4. Keep the lines whose key name and key ID are this key's; none is an error.
    #  5. Verify each kept signature over the text bytes.

    # 1. Verifier key.
    name, key_id, public = parse_verifier_key(verifier_key)
    # 2. Characters.
    note = _decode_note(note_text)
    # 3. Split and parse.
    text, lines = _split_note(note)
    signatures = [_parse_signature_line(line, number) for number, line in enumerate(lines, start=1)]
    # 4. This key's signatures.
    mine = [sig for sig_name, sig_id, sig in signatures if sig_name == name and sig_id == key_id]
    if not mine:
        found = ", ".join(f"{n[:80]}+{i.hex()}" for n, i, _ in signatures[:5])
        found += ", ..." if len(signatures) > 5 else ""
        raise NoteError(f"note has no signature by key {name}+{key_id.hex()} (signed by: {found})")
    # 5. Verify.
    data = text.encode("utf-8")
    for signature in mine:
        try:
            public.verify(signature, data)
        except InvalidSignature:
            raise NoteError(f"invalid signature by key {name}+{key_id.hex()}") from None
    return text


def open_checkpoint(note_text: str | bytes, verifier_key: str, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint note and parse its body strictly.

    ``origin``, when given, must equal the checkpoint's origin line.

    Raises:
        NoteError: everything :func:`verify_note` and :meth:`Checkpoint.from_body` raise, and an
            origin that is not ``origin``.
    """
    checkpoint = Checkpoint.from_body(verify_note(note_text, verifier_key))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin[:80]!r} is not the expected {origin!r}")
    return checkpoint
