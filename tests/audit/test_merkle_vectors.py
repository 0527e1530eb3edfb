"""The transparency-dev/merkle proof vectors (../shared/data/vectors/merkle), every file of them.

Each ``wantErr: false`` vector verifies; each ``wantErr: true`` twin (bit flips, wrong sizes,
extra or missing hashes) raises MalformedProof or ProofError — the one expected for its kind of
damage where that is unambiguous. The trees of the numbered directories are built from the eight
leaf inputs of the README, so MerkleTree must rebuild their roots and proofs byte for byte.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from replayvault.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from replayvault.errors import MalformedProof, ProofError

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "vectors" / "merkle"
if not VECTORS.is_dir():
    pytest.skip("../shared/data/vectors/merkle is not present beside the checkout", allow_module_level=True)

INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))

#: The eight leaf inputs of the numbered trees (README, vectors/merkle).
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
FULL_ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
TREE = MerkleTree(leaf_hash(leaf) for leaf in LEAVES)

#: Error class expected for a kind of damage, by file-name prefix (others may raise either).
EXPECTED_ERROR: dict[str, type[Exception]] = {
    "modified-proof": ProofError,  # well-formed, wrong hash
    "random-root": ProofError,
    "swapped-roots": ProofError,
    "sizes-are-equal-one-but-roots-are-not": ProofError,
    "roots-do-not-not-match-and-sizes-are-one": ProofError,
    "trailing-": MalformedProof,  # one hash too many
    "preceding-": MalformedProof,
    "inserted-component": MalformedProof,
    "removed-component": MalformedProof,  # one hash too few
    "truncated-proof": MalformedProof,
    "empty-proof": MalformedProof,
    "wrong-leaf": MalformedProof,  # "WrongLeaf" is 9 bytes
    "wrong-root": MalformedProof,  # "WrongRoot" is 9 bytes
    "size1-is-": MalformedProof,  # size1 > size2 or size1 == 0
    "sizes-match-but-proof-is-not-empty": MalformedProof,
}


def _name(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(h) for h in vector["proof"] or []]


def _expected_error(path: Path) -> type[Exception] | tuple[type[Exception], ...]:
    for prefix, error in EXPECTED_ERROR.items():
        if path.stem.startswith(prefix):
            return error
    return (MalformedProof, ProofError)


def test_every_vector_file_is_used() -> None:
    assert len(INCLUSION) > 50 and len(CONSISTENCY) > 50
    assert set(INCLUSION) | set(CONSISTENCY) == set(VECTORS.rglob("*.json"))


@pytest.mark.parametrize("path", INCLUSION, ids=_name)
def test_inclusion_vector(path: Path) -> None:
    v = _load(path)
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v), _b64(v["root"]))
    if v["wantErr"]:
        with pytest.raises(_expected_error(path)):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)  # returns None or raises


@pytest.mark.parametrize("path", CONSISTENCY, ids=_name)
def test_consistency_vector(path: Path) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _proof(v), _b64(v["root1"]), _b64(v["root2"]))
    if v["wantErr"]:
        with pytest.raises(_expected_error(path)):
            verify_consistency(*args)
    else:
        verify_consistency(*args)  # returns None or raises


def test_full_tree_root_of_the_readme_leaves() -> None:
    assert TREE.size == 8
    assert TREE.root().hex() == FULL_ROOT
    assert root_from_leaf_hashes([leaf_hash(leaf) for leaf in LEAVES]).hex() == FULL_ROOT


def _numbered(kind: str) -> list[Path]:
    return [p for p in sorted((VECTORS / kind).glob("*/happy-path.json")) if p.parent.name.isdigit()]


@pytest.mark.parametrize("path", _numbered("inclusion"), ids=_name)
def test_tree_builds_the_inclusion_vector(path: Path) -> None:
    v = _load(path)
    assert TREE.leaf(v["leafIdx"]) == _b64(v["leafHash"])
    assert TREE.root(v["treeSize"]) == _b64(v["root"])
    assert TREE.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v)


@pytest.mark.parametrize("path", _numbered("consistency"), ids=_name)
def test_tree_builds_the_consistency_vector(path: Path) -> None:
    v = _load(path)
    assert TREE.root(v["size1"]) == _b64(v["root1"])
    assert TREE.root(v["size2"]) == _b64(v["root2"])
    assert TREE.consistency_proof(v["size1"], v["size2"]) == _proof(v)


def test_single_entry_tree_is_the_leaf_data() -> None:
    # inclusion/single-entry is a one-leaf tree of the entry b"data" (transparency-dev/merkle
    # TestVerifyInclusionSingleEntry): its root is the leaf hash and its proof is empty.
    v = _load(VECTORS / "inclusion" / "single-entry" / "matching-root-and-leaf.json")
    tree = MerkleTree([leaf_hash(b"data")])
    assert tree.root() == _b64(v["root"]) == _b64(v["leafHash"])
    assert tree.inclusion_proof(0) == _proof(v) == []


def test_additional_vectors_use_the_empty_tree_hash() -> None:
    # The "additional" directories hold no real tree; their only real hash is MTH of the empty tree.
    v = _load(VECTORS / "inclusion" / "additional" / "0" / "empty-root.json")
    assert _b64(v["root"]) == EMPTY_ROOT == MerkleTree().root()


def test_wrong_proof_length_message() -> None:
    v = _load(VECTORS / "inclusion" / "2" / "trailing-root.json")
    with pytest.raises(MalformedProof, match=r"^inclusion proof has 4 hashes, expected 3 for index 5 in a tree of 8$"):
        verify_inclusion(_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v), _b64(v["root"]))
