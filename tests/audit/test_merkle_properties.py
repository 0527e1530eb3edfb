"""Property tests of the Merkle tree against a small recursive reference written from RFC 9162.

The reference (``ref_mth``, ``ref_path``, ``ref_proof``) follows the recursive definitions of
§2.1.1, §2.1.3.1 and §2.1.4.1 literally, over raw entries, and shares no code with
replayvault.audit.merkle.
"""

from __future__ import annotations

import hashlib
import random
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replayvault.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from replayvault.errors import MalformedProof, ProofError

MAX_LEAVES = 300
FAILS = (MalformedProof, ProofError)
#: Timing varies with machine load (CI shares the machine) and building a tree is part of drawing
#: an example; these tests check results only.
no_deadline = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- reference implementation (RFC 9162 §2.1, recursive) --------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """Largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return _sha(b"")
    if len(d) == 1:
        return _sha(b"\x00" + d[0])
    k = _k(len(d))
    return _sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [ref_mth(d)]
        k = _k(len(d))
        if m <= k:
            return [*subproof(m, d[:k], b), ref_mth(d[k:])]
        return [*subproof(m - k, d[k:], False), ref_mth(d[:k])]

    return subproof(m, d, True)


# --- fixtures ---------------------------------------------------------------------------------


def _entries(n: int, seed: int) -> list[bytes]:
    """n distinct entries of varied length (index prefix keeps them distinct)."""
    rng = random.Random(seed)
    return [i.to_bytes(4, "big") + rng.randbytes(rng.randrange(0, 12)) for i in range(n)]


@st.composite
def trees(draw: st.DrawFn, min_leaves: int = 1) -> tuple[list[bytes], MerkleTree]:
    n = draw(st.integers(min_leaves, MAX_LEAVES))
    entries = _entries(n, draw(st.integers(0, 2**32)))
    tree = MerkleTree()
    split = draw(st.integers(0, n))  # exercise append and extend alike
    for e in entries[:split]:
        tree.append(leaf_hash(e))
    tree.extend(leaf_hash(e) for e in entries[split:])
    return entries, tree


def _flip(h: bytes, bit: int) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --- roots ------------------------------------------------------------------------------------


def test_hash_primitives() -> None:
    assert EMPTY_ROOT == _sha(b"") == MerkleTree().root() == root_from_leaf_hashes([])
    assert leaf_hash(b"abc") == _sha(b"\x00abc")
    assert node_hash(b"a" * 32, b"b" * 32) == _sha(b"\x01" + b"a" * 32 + b"b" * 32)
    with pytest.raises(MalformedProof, match="left child hash is 31 bytes, expected 32"):
        node_hash(b"a" * 31, b"b" * 32)


@no_deadline
@given(trees(min_leaves=0), st.data())
def test_root_of_every_past_size_matches_reference(tree_: tuple[list[bytes], MerkleTree], data: st.DataObject) -> None:
    entries, tree = tree_
    sizes = {0, len(entries), *data.draw(st.lists(st.integers(0, len(entries)), max_size=6))}
    for k in sizes:
        expected = ref_mth(entries[:k])
        assert tree.root(k) == expected
        assert root_from_leaf_hashes([leaf_hash(e) for e in entries[:k]]) == expected


@no_deadline
@given(trees())
def test_leaves_are_stored_in_order(tree_: tuple[list[bytes], MerkleTree]) -> None:
    entries, tree = tree_
    assert tree.size == len(entries)
    assert [tree.leaf(i) for i in range(tree.size)] == [leaf_hash(e) for e in entries]


# --- inclusion --------------------------------------------------------------------------------


@no_deadline
@given(trees(), st.data())
def test_inclusion_proofs_at_a_past_size_match_reference_and_verify(
    tree_: tuple[list[bytes], MerkleTree], data: st.DataObject
) -> None:
    entries, tree = tree_
    size = data.draw(st.integers(1, tree.size), label="size")
    root = tree.root(size)
    for index in range(size):
        proof = tree.inclusion_proof(index, size)
        assert proof == ref_path(index, entries[:size])
        verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)  # None or raises


class Inclusion(NamedTuple):
    leaf: bytes
    leaf_index: int
    size: int
    proof: list[bytes]
    root: bytes


class Consistency(NamedTuple):
    size1: int
    size2: int
    proof: list[bytes]
    root1: bytes
    root2: bytes


def _damage_proof(proof: list[bytes], damage: str, data: st.DataObject) -> list[bytes]:
    """A copy of a non-empty proof with one hash bit-flipped, dropped, or one hash added."""
    proof = list(proof)
    if damage == "flip":
        i = data.draw(st.integers(0, len(proof) - 1), label="flipped hash")
        proof[i] = _flip(proof[i], data.draw(st.integers(0, 7), label="bit"))
    elif damage == "drop":
        del proof[data.draw(st.integers(0, len(proof) - 1), label="dropped hash")]
    else:
        proof.insert(data.draw(st.integers(0, len(proof)), label="at"), data.draw(st.binary(min_size=32, max_size=32)))
    return proof


@settings(no_deadline, max_examples=300)
@given(trees(min_leaves=2), st.data())
def test_damaged_inclusion_proofs_fail(tree_: tuple[list[bytes], MerkleTree], data: st.DataObject) -> None:
    _, tree = tree_
    size = data.draw(st.integers(2, tree.size), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    case = Inclusion(tree.leaf(index), index, size, tree.inclusion_proof(index, size), tree.root(size))
    other_sizes = [s for s in range(index + 1, tree.size + 1) if s != size]
    damages = ["flip", "drop", "add", "index", "leaf", "root"] + (["size"] if other_sizes else [])
    damage = data.draw(st.sampled_from(damages), label="damage")
    if damage in ("flip", "drop", "add"):
        case = case._replace(proof=_damage_proof(case.proof, damage, data))
    elif damage == "index":
        case = case._replace(leaf_index=(index + data.draw(st.integers(1, size - 1), label="shift")) % size)
    elif damage == "size":  # the proof of one tree head presented for another one
        other = data.draw(st.sampled_from(other_sizes))
        case = case._replace(size=other, root=tree.root(other))
    elif damage == "leaf":
        case = case._replace(leaf=_flip(case.leaf, 0))
    else:
        case = case._replace(root=_flip(case.root, 7))
    with pytest.raises(FAILS):
        verify_inclusion(*case)


# --- consistency ------------------------------------------------------------------------------


@no_deadline
@given(trees(), st.data())
def test_consistency_proofs_match_reference_and_verify(
    tree_: tuple[list[bytes], MerkleTree], data: st.DataObject
) -> None:
    entries, tree = tree_
    size2 = data.draw(st.integers(1, tree.size), label="size2")
    for size1 in data.draw(st.lists(st.integers(1, size2), min_size=1, max_size=8), label="size1s"):
        proof = tree.consistency_proof(size1, size2)
        assert proof == ref_proof(size1, entries[:size2])
        verify_consistency(size1, size2, proof, tree.root(size1), tree.root(size2))  # None or raises


@settings(no_deadline, max_examples=300)
@given(trees(min_leaves=3), st.data())
def test_damaged_consistency_proofs_fail(tree_: tuple[list[bytes], MerkleTree], data: st.DataObject) -> None:
    _, tree = tree_
    size2 = data.draw(st.integers(2, tree.size), label="size2")
    size1 = data.draw(st.integers(1, size2 - 1), label="size1")
    case = Consistency(size1, size2, tree.consistency_proof(size1, size2), tree.root(size1), tree.root(size2))
    damage = data.draw(st.sampled_from(["flip", "drop", "add", "size1", "size2", "swap", "root1", "root2"]))
    if damage in ("flip", "drop", "add"):
        case = case._replace(proof=_damage_proof(case.proof, damage, data))
    elif damage == "size1":  # another first tree head, with its own root
        other = data.draw(st.sampled_from([s for s in range(1, size2 + 1) if s != size1]))
        case = case._replace(size1=other, root1=tree.root(other))
    elif damage == "size2":
        other = data.draw(st.sampled_from([s for s in range(size1, tree.size + 1) if s != size2]))
        case = case._replace(size2=other, root2=tree.root(other))
    elif damage == "swap":
        case = case._replace(root1=case.root2, root2=case.root1)
    elif damage == "root1":
        case = case._replace(root1=_flip(case.root1, 3))
    else:
        case = case._replace(root2=_flip(case.root2, 3))
    with pytest.raises(FAILS):
        verify_consistency(*case)


# --- ranges and shapes ------------------------------------------------------------------------


def test_out_of_range_requests_raise_malformed_proof() -> None:
    tree = MerkleTree(leaf_hash(bytes([i])) for i in range(5))
    with pytest.raises(MalformedProof, match="leaf index 5 is out of range for a tree of 5"):
        tree.inclusion_proof(5)
    with pytest.raises(MalformedProof, match="leaf index 3 is out of range for a tree of 3"):
        tree.inclusion_proof(3, 3)
    with pytest.raises(MalformedProof, match="tree size 6 is larger than the tree"):
        tree.root(6)
    with pytest.raises(MalformedProof, match="leaf index must be a non-negative integer"):
        tree.leaf(-1)
    with pytest.raises(MalformedProof, match="0 < size1 <= size2"):
        tree.consistency_proof(0, 5)
    with pytest.raises(MalformedProof, match="0 < size1 <= size2"):
        tree.consistency_proof(4, 3)
    assert tree.consistency_proof(5, 5) == []


def test_extend_is_all_or_nothing() -> None:
    tree = MerkleTree([leaf_hash(b"a")])
    with pytest.raises(MalformedProof, match="leaf hash 2 is 3 bytes, expected 32"):
        tree.extend([leaf_hash(b"b"), b"bad"])
    assert tree.size == 1 and tree.root() == leaf_hash(b"a")


def test_verifiers_check_shapes_before_hashing() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(MalformedProof, match="leaf index 1 is out of range for a tree of 1"):
        verify_inclusion(h, 1, 1, [], h)
    with pytest.raises(MalformedProof, match="inclusion proof hash 0 is 31 bytes, expected 32"):
        verify_inclusion(h, 0, 2, [h[:31]], h)
    with pytest.raises(MalformedProof, match="consistency proof has 0 hashes, expected 1 from size 1 to size 2"):
        verify_consistency(1, 2, [], h, h)
    with pytest.raises(MalformedProof, match="size1 3 is larger than size2 2"):
        verify_consistency(3, 2, [], h, h)
