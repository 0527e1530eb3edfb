"""RFC 9162 (Certificate Transparency v2) Merkle tree: hashes, an append-only tree, proof checks.

Everything here is a pure function over bytes, apart from :class:`MerkleTree`, which only holds
hashes in memory. All hashes are 32-byte SHA-256 digests.

* :func:`leaf_hash`, :func:`node_hash`, :data:`EMPTY_ROOT`, :func:`root_from_leaf_hashes` —
  the Merkle Tree Hash (MTH) of RFC 9162 §2.1.1.
* :class:`MerkleTree` — builds roots of any past size, inclusion proofs (§2.1.3.1) and
  consistency proofs (§2.1.4.1) in O(log n) hashes.
* :func:`verify_inclusion`, :func:`verify_consistency` — the verification algorithms of
  §2.1.3.2 and §2.1.4.2. They return ``None`` or raise :class:`MalformedProof` (the input does
  not have the shape the sizes imply; nothing was hashed) or :class:`ProofError` (a well-formed
  proof that does not lead to the given root).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ..errors import MalformedProof, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleTree",
    "consistency_proof_length",
    "inclusion_proof_length",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32
#: MTH({}) = SHA-256 of the empty string: the root of a tree with no leaves (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


# --------------------------------------------------------------------------------------------
# Hashing (RFC 9162 §2.1.1)
# --------------------------------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || entry): the 32-byte hash of one log entry (RFC 9162 §2.1.1).

    ``entry`` is the raw entry of any length (an empty entry is allowed).
    """
    return hashlib.sha256(_LEAF_PREFIX + bytes(entry)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the 32-byte hash of an inner node (RFC 9162 §2.1.1).

    Raises:
        MalformedProof: ``left`` or ``right`` is not a 32-byte hash.
    """
    _check_hash(left, "left child hash")
    _check_hash(right, "right child hash")
    return _hash_children(left, right)


def _hash_children(left: bytes, right: bytes) -> bytes:
    """:func:`node_hash` without the length checks, for inputs already checked."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaves whose 32-byte leaf hashes are ``hashes`` (RFC 9162 §2.1.1).

    The empty list gives :data:`EMPTY_ROOT`. O(n) hashes, O(n) memory.

    Raises:
        MalformedProof: an element of ``hashes`` is not 32 bytes.
    """
    return MerkleTree(hashes).root()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``): where MTH splits D[n] (§2.1.1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------------------------
# Input checks shared by the tree and the verifiers
# --------------------------------------------------------------------------------------------


def _check_hash(value: object, what: str) -> None:
    """Raise :class:`MalformedProof` unless ``value`` is a 32-byte ``bytes``/``bytearray``."""
    if not isinstance(value, (bytes, bytearray)):
        raise MalformedProof(f"{what} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise MalformedProof(f"{what} is {len(value)} bytes, expected {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes], what: str) -> None:
    """Raise :class:`MalformedProof` unless every element of ``proof`` is a 32-byte hash."""
    for i, value in enumerate(proof):
        _check_hash(value, f"{what} hash {i}")


def _check_count(value: object, what: str) -> int:
    """Return ``value`` if it is a non-negative ``int`` (not a bool), else raise :class:`MalformedProof`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedProof(f"{what} must be a non-negative integer, got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Expected proof lengths
# --------------------------------------------------------------------------------------------


def inclusion_proof_length(index: int, size: int) -> int:
    """Number of hashes in the inclusion proof of leaf ``index`` in a tree of ``size`` leaves.

    The path to ``index`` and the path to the last leaf ``size - 1`` share their top levels; below
    the point where they split every level contributes one sibling (``inner``); above it, only
    levels where the shared path turns right contribute a left sibling (``border``).
    Requires ``0 <= index < size`` (RFC 9162 §2.1.3.1).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def consistency_proof_length(size1: int, size2: int) -> int:
    """Number of hashes in the consistency proof from ``size1`` to ``size2`` leaves.

    It is the inclusion path of the last complete subtree of the first tree (the ``2**shift``
    leaves ending at ``size1``) in the second tree, plus that subtree's own hash unless it is the
    whole first tree (``size1`` a power of two). Requires ``0 < size1 < size2`` (RFC 9162 §2.1.4.1).
    """
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner - shift + border


# --------------------------------------------------------------------------------------------
# Append-only tree
# --------------------------------------------------------------------------------------------


class MerkleTree:
    """An append-only RFC 9162 Merkle tree of leaf hashes, held in memory.

    Level ``k`` is one ``bytearray`` of the 32-byte hashes of the complete subtrees of ``2**k``
    leaves, left to right: it holds ``floor(n / 2**k)`` hashes for ``n`` leaves. That is about
    64 bytes per leaf in all and no per-node Python objects. Every node of the tree of any size
    ``m <= n`` is either one of these complete subtrees or a right-border node whose hash is
    folded from at most ``log2(m)`` of them, so roots and proofs cost O(log n) hashes and never
    rehash leaves.

    ``MerkleTree(leaf_hashes)`` builds the tree from an iterable of 32-byte leaf hashes
    (see :func:`leaf_hash`).
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    def __repr__(self) -> str:
        return f"MerkleTree(size={self._size})"

    @property
    def size(self) -> int:
        """Number of leaves in the tree."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add one 32-byte leaf hash at index :attr:`size`.

        Raises:
            MalformedProof: ``leaf_hash`` is not 32 bytes (the tree is unchanged).
        """
        self.extend((leaf_hash,))

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Add 32-byte leaf hashes in order; all or nothing.

        Raises:
            MalformedProof: an element is not 32 bytes (the tree is unchanged).
        """
        batch = bytearray()
        for i, value in enumerate(leaf_hashes):
            _check_hash(value, f"leaf hash {self._size + i}")
            batch += value
        if batch:
            self._levels[0] += batch
            self._size += len(batch) // HASH_SIZE
            self._complete_levels()

    def _complete_levels(self) -> None:
        """Hash the pairs completed by new leaves into the levels above, bottom-up.

        Stops at the first level that gains no hash: nothing above it can change.
        """
        level = 0
        while True:
            below = self._levels[level]
            want = len(below) // (2 * HASH_SIZE)
            if level + 1 == len(self._levels):
                if want == 0:
                    return
                self._levels.append(bytearray())
            above = self._levels[level + 1]
            have = len(above) // HASH_SIZE
            if have == want:
                return
            with memoryview(below) as view:
                for i in range(have, want):
                    above += hashlib.sha256(_NODE_PREFIX + view[2 * HASH_SIZE * i : 2 * HASH_SIZE * (i + 1)]).digest()
            level += 1

    def leaf(self, index: int) -> bytes:
        """The 32-byte leaf hash at ``index``.

        Raises:
            MalformedProof: ``index`` is not in ``0 <= index < size``.
        """
        self._check_index(index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all), 32 bytes (RFC 9162 §2.1.1).

        Any past size ``0 <= size <= self.size`` works; size 0 gives :data:`EMPTY_ROOT`.

        Raises:
            MalformedProof: ``size`` is negative or larger than the tree.
        """
        size = self._check_size(size)
        return self._range_hash(0, size) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]): the audit path of leaf ``index`` in the tree of the first ``size``
        leaves (default: all), bottom-up, as RFC 9162 §2.1.3.1 defines it.

        Returns :func:`inclusion_proof_length` hashes of 32 bytes, for :func:`verify_inclusion`.

        Raises:
            MalformedProof: ``size`` is larger than the tree or ``index`` is not in ``0 <= index < size``.
        """
        size = self._check_size(size)
        self._check_index(index, size)
        path: list[bytes] = []
        lo, hi = 0, size
        while hi - lo > 1:
            mid = lo + _split(hi - lo)
            if index < mid:
                path.append(self._range_hash(mid, hi))
                hi = mid
            else:
                path.append(self._range_hash(lo, mid))
                lo = mid
        path.reverse()
        return path

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[size2]): the consistency proof between the trees of the first ``size1``
        and ``size2`` leaves (default: all), as RFC 9162 §2.1.4.1 defines it.

        ``size1 == size2`` gives the empty proof. Returns 32-byte hashes for :func:`verify_consistency`.

        Raises:
            MalformedProof: ``size2`` is larger than the tree, or ``0 < size1 <= size2`` does not
                hold (RFC 9162 defines no proof from the empty tree).
        """
        size2 = self._check_size(size2)
        size1 = _check_count(size1, "size1")
        if not 0 < size1 <= size2:
            raise MalformedProof(f"consistency proofs need 0 < size1 <= size2, got size1 {size1} and size2 {size2}")
        path: list[bytes] = []
        lo, hi, whole_first_tree = 0, size2, True
        while size1 - lo < hi - lo:  # SUBPROOF(size1 - lo, D[lo:hi], whole_first_tree)
            k = _split(hi - lo)
            if size1 - lo <= k:
                path.append(self._range_hash(lo + k, hi))
                hi = lo + k
            else:
                path.append(self._range_hash(lo, lo + k))
                lo, whole_first_tree = lo + k, False
        if not whole_first_tree:
            path.append(self._range_hash(lo, hi))
        path.reverse()
        return path

    def _check_size(self, size: int | None) -> int:
        """``size`` (or the current size for None) after checking ``0 <= size <= self.size``."""
        if size is None:
            return self._size
        size = _check_count(size, "tree size")
        if size > self._size:
            raise MalformedProof(f"tree size {size} is larger than the tree ({self._size} leaves)")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        """Raise :class:`MalformedProof` unless ``0 <= index < size``."""
        _check_count(index, "leaf index")
        if index >= size:
            raise MalformedProof(f"leaf index {index} is out of range for a tree of {size}")

    def _node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of ``2**level`` leaves starting at leaf ``index << level``."""
        start = index * HASH_SIZE
        return bytes(self._levels[level][start : start + HASH_SIZE])

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a node of the tree of some size ``m`` (``end <= m <= size``).

        Such a node is complete, or it lies on the right border (``end == m``) and ``start`` is a
        multiple of a power of two ``>= end - start``. Either way ``[start, end)`` splits into
        complete, aligned subtrees of strictly decreasing sizes (the binary digits of
        ``end - start``), and MTH folds them from the right: O(log n) hashes.
        """
        parts: list[bytes] = []
        while start < end:
            level = (end - start).bit_length() - 1
            parts.append(self._node(level, start >> level))
            start += 1 << level
        result = parts.pop()
        while parts:
            result = _hash_children(parts.pop(), result)
        return result


# --------------------------------------------------------------------------------------------
# Verification (RFC 9162 §2.1.3.2, §2.1.4.2)
# --------------------------------------------------------------------------------------------


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``proof`` shows the leaf ``leaf_hash`` at ``index`` in the tree of ``size`` leaves
    whose root is ``root`` (RFC 9162 §2.1.3.2). Returns None.

    ``leaf_hash``, ``root`` and each proof element are 32-byte hashes; ``proof`` is bottom-up, as
    :meth:`MerkleTree.inclusion_proof` returns it. The proof binds the leaf and index to ``root``,
    not ``size`` on its own: take ``size`` and ``root`` from the same signed checkpoint.

    Raises:
        MalformedProof: ``index >= size``, a hash is not 32 bytes, or ``proof`` does not have the
            length the index and size imply. Nothing was hashed.
        ProofError: the proof is well-formed but does not lead to ``root``.
    """
    # Steps:
    #  1. Shapes: 0 <= index < size (§2.1.3.2 step 1); every hash is 32 bytes.
    #  2. Proof length: the one index and size imply, so no hash is missing or extra.
    #  3. Chain the proof from the leaf up to a root (§2.1.3.2 steps 2-4).
    #  4. Compare: sn reached 0 and the computed root is ``root`` (§2.1.3.2 step 5).

    # 1. Shapes.
    index = _check_count(index, "leaf index")
    size = _check_count(size, "tree size")
    if index >= size:
        raise MalformedProof(f"leaf index {index} is out of range for a tree of {size}")
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root hash")
    _check_proof_hashes(proof, "inclusion proof")

    # 2. Proof length.
    expected = inclusion_proof_length(index, size)
    if len(proof) != expected:
        raise MalformedProof(
            f"inclusion proof has {len(proof)} hashes, expected {expected} for index {index} in a tree of {size}"
        )

    # 3. Chain.
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise MalformedProof(f"inclusion proof is longer than the path of index {index} in a tree of {size}")
        if fn & 1 or fn == sn:
            r = _hash_children(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1

    # 4. Compare.
    if sn != 0:
        raise MalformedProof(f"inclusion proof is shorter than the path of index {index} in a tree of {size}")
    if r != root:
        raise ProofError(f"inclusion proof for index {index} in a tree of {size} does not lead to the given root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size2`` leaves with root ``root2`` extends the tree of ``size1``
    leaves with root ``root1`` (RFC 9162 §2.1.4.2). Returns None.

    Beyond the RFC's ``0 < size1 < size2``, ``size1 == size2`` is consistent when the proof is
    empty and the roots are equal; then nothing is hashed and the roots are only compared (as in
    transparency-dev/merkle, whose vectors accept equal roots of any length here). A proof from
    the empty tree (``size1 == 0``) is rejected: RFC 9162 §2.1.4.1 defines none.

    Raises:
        MalformedProof: ``size1 > size2``, ``size1 == 0``, a hash is not 32 bytes, or ``proof``
            does not have the length the sizes imply. Nothing was hashed.
        ProofError: the proof is well-formed but does not lead to ``root1`` and ``root2``, or the
            sizes are equal and the roots differ.
    """
    # Steps:
    #  1. Sizes: 0 < size1 <= size2.
    #  2. Equal sizes: empty proof and equal roots; done.
    #  3. Shapes: every hash is 32 bytes; proof length is the one the sizes imply.
    #  4. Seed: prepend root1 if size1 is a power of two (§2.1.4.2 step 2); set fn, sn, skip the
    #     levels where the first tree's last subtree is complete (steps 3-5).
    #  5. Chain the rest of the proof into fr (first tree) and sr (second tree) (step 6).
    #  6. Compare: sn is 0, fr is root1 and sr is root2 (step 7).

    # 1. Sizes.
    size1 = _check_count(size1, "size1")
    size2 = _check_count(size2, "size2")
    if size1 > size2:
        raise MalformedProof(f"size1 {size1} is larger than size2 {size2}")
    if size1 == 0:
        raise MalformedProof("a consistency proof from the empty tree (size1 0) is not defined (RFC 9162 §2.1.4.1)")

    # 2. Equal sizes.
    if size1 == size2:
        if len(proof):
            raise MalformedProof(f"consistency proof has {len(proof)} hashes, expected 0 for equal sizes {size1}")
        if root1 != root2:
            raise ProofError(f"roots differ for the same tree size {size1}")
        return

    # 3. Shapes.
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    _check_proof_hashes(proof, "consistency proof")
    expected = consistency_proof_length(size1, size2)
    if len(proof) != expected:
        raise MalformedProof(
            f"consistency proof has {len(proof)} hashes, expected {expected} from size {size1} to size {size2}"
        )

    fr, sr, sn = _chain_consistency(size1, size2, proof, root1)

    # 6. Compare.
    if sn != 0:
        raise MalformedProof(f"consistency proof is shorter than the path from size {size1} to size {size2}")
    if fr != root1:
        raise ProofError(f"consistency proof from size {size1} to {size2} does not lead to root1")
    if sr != root2:
        raise ProofError(f"consistency proof from size {size1} to {size2} does not lead to root2")


def _chain_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes) -> tuple[bytes, bytes, int]:
    """Steps 2-6 of RFC 9162 §2.1.4.2 on a checked proof; returns ``(fr, sr, sn)``."""
    # 4. Seed.
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = bytes(path[0])

    # 5. Chain.
    for c in path[1:]:
        if sn == 0:
            raise MalformedProof(f"consistency proof is longer than the path from size {size1} to size {size2}")
        if fn & 1 or fn == sn:
            fr = _hash_children(c, fr)
            sr = _hash_children(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr, sr, sn
