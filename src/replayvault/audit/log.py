"""The audit log: append entries durably, keep the Merkle tree, sign checkpoints, serve proofs.

Entries live in the ``audit_entries`` table of the control-plane database, so the server and CLI
commands (which run in other processes) append to one log. Indexes are dense from 0; an append
takes ``max(idx) + 1`` inside its transaction and retries when another process took that index
first (the primary key refuses duplicates). An entry is committed before the action it records
returns its result: when the commit fails, :class:`~replayvault.errors.AuditUnavailable` is raised
and the caller refuses the action.

The in-memory :class:`~.merkle.MerkleTree` is a cache of the stored leaf hashes, brought up to date
from the database before every proof or checkpoint.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ..db.models import AuditCheckpoint, AuditEntry
from ..errors import AuditTampered, AuditUnavailable, MalformedProof, NoteError, NotFound
from .entries import Entry, canonical_json, clean_text
from .merkle import MerkleTree
from .note import Checkpoint, NoteSigner, load_or_create_signer, open_checkpoint

if TYPE_CHECKING:
    from .verify import VerifyReport

__all__ = ["AuditLog", "StoredCheckpoint", "row_entry", "b64"]

_RETRIES = 8


def b64(data: bytes) -> str:
    """Standard base64 (RFC 4648 §4), as in checkpoints and the transparency-dev proof vectors."""
    return base64.b64encode(data).decode("ascii")


def row_entry(row: AuditEntry) -> Entry:
    """The :class:`Entry` stored in a database row."""
    return Entry(idx=row.idx, time_ms=row.time_ms, actor=row.actor, action=row.action, resource=row.resource,
                 outcome=row.outcome, purpose=row.purpose, justification=row.justification,
                 origin_ip=row.origin_ip, details=json.loads(row.details or "{}"))


def _row(entry: Entry) -> dict[str, Any]:
    """Column values of an entry: ``details`` as canonical JSON text, plus the leaf hash."""
    return {**entry.as_dict(), "details": canonical_json(entry.details), "leaf_hash": entry.leaf_hash()}


@dataclass
class _Pending:
    """An entry waiting for the group commit: its fields, then the committed entry or the error."""

    fields: dict[str, Any]
    entry: Entry | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored: tree size, root hash (32 bytes), the signed note text, time (ms)."""

    size: int
    root: bytes
    note: str
    created_ms: int

    def as_dict(self) -> dict[str, Any]:
        """JSON shape used by the API and proof bundles."""
        return {"tree_size": self.size, "root_hash": b64(self.root), "note": self.note, "created_ms": self.created_ms}


class AuditLog:
    """Append-only, Merkle-hashed audit log of one data directory.

    Args:
        sessions: control-plane session factory.
        key_path: Ed25519 checkpoint signing key file (created 0600 on first use).
        origin: checkpoint origin line, also the signing key's name (C2SP tlog-checkpoint).
        mirror_path: append-only file that keeps a copy of every signed checkpoint note outside the
            database (0600), so deleting checkpoints from the database cannot hide a rewrite.
    """

    def __init__(self, sessions: sessionmaker[Session], key_path: Path, origin: str,
                 mirror_path: Path | None = None) -> None:
        self._sessions = sessions
        self._key_path = key_path
        self.mirror_path = mirror_path
        self.origin = origin
        self.lock = threading.RLock()
        self._queue: list[_Pending] = []
        self._cv = threading.Condition(threading.Lock())
        self._next: int | None = None  # next free index, cached between group commits
        self._verified: tuple[VerifyReport | AuditTampered, float] | None = None
        self._writing = False
        self._next: int | None = None  # next free index, cached between group commits
        self._verified: tuple[VerifyReport | AuditTampered, float] | None = None
        self._tree = MerkleTree()
        self._signer: NoteSigner | None = None

    # -- appending ---------------------------------------------------------------------------
    def record(self, *, actor: str, action: str, resource: str, outcome: str = "ok", purpose: str | None = None,
               justification: str | None = None, origin_ip: str | None = None,
               details: dict[str, Any] | None = None, db: Session | None = None) -> Entry:
        """Append one entry and commit it durably; return it.

        Concurrent callers share commits (group commit): one caller at a time writes every
        queued entry in one transaction, and each caller returns only once its own entry is
        committed. With ``db``, the entry joins the caller's transaction instead (the caller
        commits, holding :attr:`lock`), so an action and its entry commit together or not at all.

        Raises:
            AuditUnavailable: the entry could not be committed (the caller must refuse the action).
            InvalidInput: ``justification`` is longer than 200 characters.
        """
        fields = dict(actor=actor, action=action, resource=resource, outcome=outcome, purpose=purpose,
                      justification=clean_text(justification), origin_ip=origin_ip, details=details or {})
        if db is not None:
            try:
                return self._add(db, fields)
            except (SQLAlchemyError, OSError) as exc:
                raise AuditUnavailable() from exc
        mine = _Pending(fields)
        if self.lock._is_owned():  # type: ignore[attr-defined]  # inside our own locked section: write inline
            self._write([mine])
        else:
            with self._cv:
                self._queue.append(mine)
                while not mine.done:
                    if self._writing:
                        self._cv.wait()
                        continue
                    self._writing = True  # this caller leads: commits everything queued so far
                    batch, self._queue = self._queue, []
                    self._cv.release()
                    try:
                        with self.lock:
                            self._write(batch)
                    finally:
                        self._cv.acquire()
                        self._writing = False
                        self._cv.notify_all()
        if mine.entry is None:
            raise AuditUnavailable() from mine.error
        return mine.entry

    def _write(self, batch: list["_Pending"]) -> None:
        error: BaseException | None = None
        for _ in range(_RETRIES):
            try:
                with self._sessions() as s:
                    if self._next is None:
                        last = s.scalar(select(func.max(AuditEntry.idx)))
                        self._next = 0 if last is None else last + 1
                    now = int(time.time() * 1000)
                    entries = [Entry(idx=self._next + i, time_ms=now, **p.fields) for i, p in enumerate(batch)]
                    s.execute(insert(AuditEntry), [_row(e) for e in entries])
                    s.commit()
                self._next += len(entries)
                for p, e in zip(batch, entries):
                    p.entry, p.done = e, True
                return
            except IntegrityError as exc:  # another process appended at this index first: re-read it
                self._next, error = None, exc
            except (SQLAlchemyError, OSError) as exc:
                self._next, error = None, exc
                break
        for p in batch:
            p.error, p.done = error, True

    def _add(self, db: Session, fields: dict[str, Any]) -> Entry:
        self._next = None  # the caller's transaction decides whether this index is taken
        last = db.scalar(select(func.max(AuditEntry.idx)))
        entry = Entry(idx=0 if last is None else last + 1, time_ms=int(time.time() * 1000), **fields)
        db.add(AuditEntry(**_row(entry)))
        db.flush()
        return entry

    # -- tree and checkpoints ----------------------------------------------------------------
    @property
    def signer(self) -> NoteSigner:
        """The checkpoint signer (key loaded or created on first use)."""
        if self._signer is None:
            self._signer = load_or_create_signer(self._key_path, self.origin)
        return self._signer

    @property
    def verifier_key(self) -> str:
        """The public verifier key string auditors use offline (``name+keyid+base64``)."""
        return self.signer.verifier_key

    def tree(self) -> MerkleTree:
        """The Merkle tree of every stored entry, brought up to date from the database.

        Raises:
            AuditTampered: stored indexes are not dense (an entry was deleted).
        """
        with self.lock, self._sessions() as db:
            expected = self._tree.size
            cursor = db.execute(text("SELECT idx, leaf_hash FROM audit_entries WHERE idx >= :start ORDER BY idx"),
                                {"start": expected})
            while rows := cursor.fetchmany(50_000):
                hashes = []
                for idx, leaf in rows:
                    if idx != expected:
                        raise AuditTampered(f"audit entry {expected} is missing", expected)
                    hashes.append(bytes(leaf))
                    expected += 1
                self._tree.extend(hashes)
            return self._tree

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The newest stored checkpoint, or None before the first."""
        with self._sessions() as db:
            row = db.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()
            return None if row is None else StoredCheckpoint(row.tree_size, bytes(row.root_hash), row.note, row.created_ms)

    def checkpoint_at(self, size: int) -> StoredCheckpoint | None:
        """The stored checkpoint of exactly ``size`` entries, if one was signed."""
        with self._sessions() as db:
            row = db.get(AuditCheckpoint, size)
            return None if row is None else StoredCheckpoint(row.tree_size, bytes(row.root_hash), row.note, row.created_ms)

    def checkpoint(self) -> StoredCheckpoint:
        """Sign and store a checkpoint of the current tree (or return the latest if the tree did not grow).

        Before signing, the new tree must extend the previous checkpoint (its root equals the new
        tree's root at the old size, RFC 9162 §2.1.4); otherwise nothing is signed.

        Raises:
            AuditTampered: the stored entries no longer match the previous checkpoint.
        """
        with self.lock:
            tree = self.tree()
            prev = self.latest_checkpoint()
            for known in [prev, *self.mirrored()[-1:]]:  # the database's and the mirror file's newest
                if known is not None and (known.size > tree.size or tree.root(known.size) != known.root):
                    raise AuditTampered(f"stored entries do not match the checkpoint of size {known.size}; not signing",
                                        None)
            if prev is not None and prev.size == tree.size:
                return prev
            root = tree.root(tree.size)
            note = self.signer.sign(Checkpoint(self.origin, tree.size, root).body())
            now = int(time.time() * 1000)
            with self._sessions() as db:
                db.add(AuditCheckpoint(tree_size=tree.size, root_hash=root, note=note, created_ms=now))
                db.commit()
            self._mirror(note)
            return StoredCheckpoint(tree.size, root, note, now)

    def _mirror(self, note: str) -> None:
        if self.mirror_path is None:
            return
        self.mirror_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.mirror_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (json.dumps({"note": note}) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def mirrored(self) -> list[StoredCheckpoint]:
        """Checkpoints in the mirror file whose signatures verify, by tree size (unreadable lines skipped;
        ``audit verify`` reports them)."""
        return self.mirror_notes()[0]

    def mirror_notes(self) -> tuple[list[StoredCheckpoint], list[str]]:
        """``(valid checkpoints sorted by size, problems)`` read from the mirror file."""
        if self.mirror_path is None or not self.mirror_path.exists():
            return [], []
        good: list[StoredCheckpoint] = []
        problems: list[str] = []
        for n, line in enumerate(self.mirror_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            try:
                note = json.loads(line)["note"]
                cp = open_checkpoint(note, self.verifier_key, self.origin)
            except (ValueError, KeyError, TypeError, NoteError) as exc:
                problems.append(f"checkpoint mirror line {n}: {exc}")
                continue
            good.append(StoredCheckpoint(cp.size, cp.root, note, 0))
        return sorted(good, key=lambda c: c.size), problems

    def verify(self, progress: Callable[[int], None] | None = None, extra_notes: Sequence[str] = ()) -> "VerifyReport":
        """:func:`.verify.verify_log` over this log, including every note in the mirror file.

        Raises:
            AuditTampered: see :func:`.verify.verify_log` (also a corrupt mirror file line).
        """
        from .verify import verify_log

        mirrored, problems = self.mirror_notes()
        if problems:
            raise AuditTampered(problems[0], None)
        return verify_log(self._sessions, self.verifier_key, self.origin, progress,
                          [*(c.note for c in mirrored), *extra_notes])

    def verify_recent(self, max_age_s: float = 60.0) -> tuple["VerifyReport | AuditTampered", float]:
        """The result of :meth:`verify` (a report, or the :class:`AuditTampered` it raised) and when it
        ran (epoch s), reusing one at most ``max_age_s`` old: dashboards show it on every page view,
        and a full recompute takes seconds at 10^6 entries."""
        with self.lock:
            cached = self._verified
        if cached is not None and time.time() - cached[1] <= max_age_s:
            return cached
        try:
            result: VerifyReport | AuditTampered = self.verify()
        except AuditTampered as exc:
            result = exc
        with self.lock:
            self._verified = (result, time.time())
            return self._verified

    # -- proofs ------------------------------------------------------------------------------
    def entry(self, idx: int) -> Entry:
        """The stored entry at ``idx``.

        Raises:
            NotFound: no entry has that index.
        """
        with self._sessions() as db:
            row = db.get(AuditEntry, idx)
            if row is None:
                raise NotFound(f"no audit entry {idx}")
            return row_entry(row)

    def _covering_checkpoint(self, tree_size: int | None, at_least: int) -> StoredCheckpoint:
        if tree_size is None:
            cp = self.latest_checkpoint()
            if cp is None or cp.size < at_least:
                cp = self.checkpoint()
            return cp
        cp = self.checkpoint_at(tree_size)
        if cp is None:
            raise NotFound(f"no signed checkpoint has tree size {tree_size}")
        return cp

    def inclusion_bundle(self, idx: int, tree_size: int | None = None) -> dict[str, Any]:
        """Everything an auditor needs to check entry ``idx`` offline.

        ``{"entry": canonical JSON text, "leaf_index", "tree_size", "leaf_hash", "proof": [base64],
        "checkpoint": signed note}`` — the proof is against a signed checkpoint: the one of
        ``tree_size`` entries, or by default the latest (signed now if none covers ``idx``).

        Raises:
            NotFound: no such entry, or no checkpoint of ``tree_size``.
            MalformedProof: the checkpoint does not cover ``idx``.
        """
        entry = self.entry(idx)
        cp = self._covering_checkpoint(tree_size, idx + 1)
        if idx >= cp.size:
            raise MalformedProof(f"entry {idx} is not in the tree of size {cp.size}")
        proof = self.tree().inclusion_proof(idx, cp.size)
        return {"entry": entry.canonical().decode("utf-8"), "leaf_index": idx, "tree_size": cp.size,
                "leaf_hash": b64(entry.leaf_hash()), "proof": [b64(h) for h in proof], "checkpoint": cp.note}

    def consistency_bundle(self, first: int, second: int | None = None) -> dict[str, Any]:
        """A consistency proof between two signed checkpoints (RFC 9162 §2.1.4).

        ``{"first": {checkpoint}, "second": {checkpoint}, "proof": [base64]}``; ``second``
        defaults to the latest checkpoint.

        Raises:
            NotFound: no checkpoint of that size.
            MalformedProof: ``first`` is larger than ``second``.
        """
        a = self._covering_checkpoint(first, 0)
        b = self._covering_checkpoint(second, 0)
        if a.size > b.size:
            raise MalformedProof(f"first tree size {a.size} is larger than second {b.size}")
        proof = self.tree().consistency_proof(a.size, b.size) if a.size else []
        return {"first": a.as_dict(), "second": b.as_dict(), "proof": [b64(h) for h in proof]}
