"""Verification of the audit log: the whole stored log, or one proof bundle offline.

:func:`verify_log` recomputes everything from the stored entries (``replayvault audit verify``);
:func:`verify_bundle` needs only a proof bundle and the public verifier key, no database
(``replayvault audit verify-proof``), so an auditor can check an entry on their own machine.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..db.models import AuditCheckpoint
from ..errors import AuditTampered, InvalidInput, MalformedProof, NoteError
from .entries import Entry, canonical_bytes, canonical_row
from .merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from .note import open_checkpoint

__all__ = ["VerifyReport", "verify_log", "verify_bundle"]

_BATCH = 20_000


@dataclass
class VerifyReport:
    """Result of :func:`verify_log`: entries and checkpoints checked, and the latest verified checkpoint."""

    entries: int = 0
    checkpoints: int = 0
    latest_size: int | None = None
    latest_root: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def uncovered(self) -> int:
        """Entries after the latest verified checkpoint: consistent, but not yet under a signature."""
        return self.entries - (self.latest_size or 0)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the API's ``/audit/verify``."""
        return {"ok": not self.problems, "entries": self.entries, "checkpoints": self.checkpoints,
                "latest_checkpoint_size": self.latest_size, "latest_root_hash": self.latest_root,
                "uncovered_entries": self.uncovered, "problems": self.problems}


def _rebuild(db: Session, progress: Callable[[int], None] | None) -> MerkleTree:
    # Steps 1-2: indexes dense from 0; each row's fields hash to its stored leaf hash.
    tree = MerkleTree()
    cols = ", ".join(("idx", "time_ms", "actor", "action", "resource", "outcome", "purpose", "justification",
                      "origin_ip", "details", "leaf_hash"))
    cursor = db.connection().exec_driver_sql(f"SELECT {cols} FROM audit_entries ORDER BY idx")
    expected = 0
    while rows := cursor.fetchmany(_BATCH):
        hashes = []
        for row in rows:
            idx = row[0]
            if idx != expected:
                raise AuditTampered(f"audit entry {expected} is missing (next stored index is {idx})", expected)
            computed = leaf_hash(canonical_row(*row[:10]))
            if computed != bytes(row[10]):
                raise AuditTampered(f"audit entry {idx} was altered: its fields do not match its leaf hash", idx)
            hashes.append(computed)
            expected += 1
        tree.extend(hashes)
        if progress:
            progress(expected)
    return tree


def verify_log(sessions: sessionmaker[Session], verifier_key: str, origin: str,
               progress: Callable[[int], None] | None = None, extra_notes: Sequence[str] = ()) -> VerifyReport:
    """Recompute the whole log and check every signed checkpoint.

    ``extra_notes`` are checkpoint notes kept outside the database — the server's mirror file and
    any an auditor saved earlier — so deleting checkpoints from the database hides nothing.

    Steps:
      1. entry indexes are dense from 0 (a deleted or inserted-with-gap row is named);
      2. each entry's canonical bytes hash to its stored leaf hash (an edited or reordered row is named);
      3. every checkpoint's note carries a valid Ed25519 signature by ``verifier_key``, and its
         size and root match the stored columns; every extra note is also in the database;
      4. every checkpoint's root equals the recomputed tree's root at its size (RFC 9162 §2.1.1),
         so entries changed together with their leaf hashes, or removed from the end, are caught;
         such a rewrite lies between the last checkpoint that holds and the first that does not,
         which is the index named (the exact entry cannot be known from roots alone).

    Raises:
        AuditTampered: the first problem found, with ``index`` the first bad entry (or lower bound) when known.
    """
    report = VerifyReport()
    with sessions() as db:
        tree = _rebuild(db, progress)
        report.entries = tree.size
        stored = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
    in_db = {cp.tree_size: bytes(cp.root_hash) for cp in stored}
    notes: list[tuple[str, str, int | None, bytes | None]] = [
        ("stored", cp.note, cp.tree_size, bytes(cp.root_hash)) for cp in stored]
    notes += [("kept outside the database", n, None, None) for n in extra_notes]
    opened = []
    for where, note, size, root in notes:
        # Step 3
        try:
            cp = open_checkpoint(note, verifier_key, origin)
        except NoteError as exc:
            raise AuditTampered(f"{where} checkpoint{'' if size is None else f' of size {size}'}: {exc}", None) from None
        if size is not None and (cp.size != size or cp.root != root):
            raise AuditTampered(f"checkpoint of size {size} was altered: its columns differ from its signed note", None)
        if size is None and in_db.get(cp.size) != cp.root:
            raise AuditTampered(f"the signed checkpoint of size {cp.size} ({where}) is missing from or differs in "
                                "the database: checkpoints were deleted or replaced", None)
        opened.append(cp)
    good = 0
    for cp in sorted(opened, key=lambda c: c.size):
        # Step 4
        if cp.size > tree.size:
            raise AuditTampered(f"checkpoint of size {cp.size} covers entries that are gone "
                                f"(the log has {tree.size}); first missing entry is {tree.size}", tree.size)
        if tree.root(cp.size) != cp.root:
            raise AuditTampered(f"entries were rewritten: the tree of size {cp.size} does not match its signed "
                                f"checkpoint; the first bad entry is at index {good} or later, below {cp.size}", good)
        good = cp.size
    report.checkpoints = len(stored)
    if opened:
        last = max(opened, key=lambda c: c.size)
        report.latest_size, report.latest_root = last.size, base64.b64encode(last.root).decode()
    return report


def _b64_hash(text: Any, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise MalformedProof(f"{what} is not a base64 SHA-256 hash")
    return raw


def verify_bundle(bundle: dict[str, Any], verifier_key: str, origin: str | None = None) -> dict[str, Any]:
    """Check a proof bundle offline with only the public key; return what was proven.

    An inclusion bundle (``entry``, ``leaf_index``, ``tree_size``, ``proof``, ``checkpoint``):
      1. open the checkpoint note with ``verifier_key`` (Ed25519 signature, C2SP signed note);
      2. its tree size equals ``tree_size``;
      3. recompute the leaf hash from the entry text itself (never trust a supplied hash) and
         check the entry's own ``idx`` is ``leaf_index``;
      4. verify the inclusion proof against the checkpoint's root (RFC 9162 §2.1.3.2).
    A consistency bundle (``first``, ``second``, ``proof``): open both notes, then verify the
    consistency proof between their roots (RFC 9162 §2.1.4.2).

    Returns:
        ``{"kind": "inclusion", "leaf_index", "tree_size", "entry": {...}}`` or
        ``{"kind": "consistency", "first_size", "second_size"}``.

    Raises:
        MalformedProof: the bundle is not in the documented shape.
        NoteError: a checkpoint is malformed or not signed by ``verifier_key``.
        ProofError: the proof does not verify.
    """
    if not isinstance(bundle, dict) or not isinstance(bundle.get("proof"), list):
        raise MalformedProof("a proof bundle is a JSON object with a 'proof' list")
    proof = [_b64_hash(h, f"proof hash {i}") for i, h in enumerate(bundle["proof"])]
    if "entry" in bundle:
        # Steps 1-2
        cp = open_checkpoint(str(bundle.get("checkpoint", "")), verifier_key, origin)
        if bundle.get("tree_size") != cp.size:
            raise MalformedProof(f"bundle tree_size {bundle.get('tree_size')} differs from the checkpoint's {cp.size}")
        # Step 3
        try:
            entry = Entry.from_dict(json.loads(bundle["entry"]))
        except (TypeError, ValueError, InvalidInput) as exc:
            raise MalformedProof(f"entry is not a canonical audit entry: {exc}") from None
        if canonical_bytes(entry.as_dict()) != str(bundle["entry"]).encode("utf-8"):
            raise MalformedProof("entry text is not in canonical form")
        if entry.idx != bundle.get("leaf_index"):
            raise MalformedProof(f"entry index {entry.idx} differs from leaf_index {bundle.get('leaf_index')}")
        # Step 4
        verify_inclusion(leaf_hash(entry.canonical()), entry.idx, cp.size, proof, cp.root)
        return {"kind": "inclusion", "leaf_index": entry.idx, "tree_size": cp.size, "entry": entry.as_dict()}
    first, second = bundle.get("first"), bundle.get("second")
    if not isinstance(first, dict) or not isinstance(second, dict):
        raise MalformedProof("a proof bundle has either 'entry' (inclusion) or 'first' and 'second' (consistency)")
    a = open_checkpoint(str(first.get("note", "")), verifier_key, origin)
    b = open_checkpoint(str(second.get("note", "")), verifier_key, origin)
    if a.size == 0:  # every tree extends the empty tree; RFC 9162 defines no proof for it
        if proof:
            raise MalformedProof("a consistency proof from the empty tree has no hashes")
    else:
        verify_consistency(a.size, b.size, proof, a.root, b.root)
    return {"kind": "consistency", "first_size": a.size, "second_size": b.size}
