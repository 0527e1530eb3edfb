"""Audit log: RFC 9162 Merkle tree and proofs, and checkpoints as C2SP signed notes."""

from __future__ import annotations

from .merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from .note import (
    Checkpoint,
    NoteSigner,
    generate_signer,
    load_or_create_signer,
    open_checkpoint,
    parse_verifier_key,
    verify_note,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "MerkleTree",
    "NoteSigner",
    "generate_signer",
    "leaf_hash",
    "load_or_create_signer",
    "node_hash",
    "open_checkpoint",
    "parse_verifier_key",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]
