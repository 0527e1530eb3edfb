"""Audit entries: canonical bytes (two independent builders agree), free-text cleaning."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replayvault.audit.entries import Entry, canonical_json, canonical_row, clean_text
from replayvault.errors import InvalidInput

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
opt = st.none() | text
details = st.dictionaries(text, st.integers(-2**53, 2**53) | text | st.booleans() | st.none(), max_size=4)


@given(st.integers(0, 2**53), st.integers(0, 2**53), text, text, text, text, opt, opt, opt, details)
def test_row_builder_matches_json_dumps(idx, time_ms, actor, action, resource, outcome, purpose, why, ip, det) -> None:
    e = Entry(idx=idx, time_ms=time_ms, actor=actor, action=action, resource=resource, outcome=outcome,
              purpose=purpose, justification=why, origin_ip=ip, details=det)
    row = canonical_row(idx, time_ms, actor, action, resource, outcome, purpose, why, ip, canonical_json(det))
    assert row == e.canonical()
    assert json.loads(row) == e.as_dict()


def test_leaf_hash_is_rfc9162_over_the_canonical_json() -> None:
    e = Entry(idx=3, time_ms=1700000000000, actor="user:u_00", action="login", resource="dashboard")
    want = ('{"action":"login","actor":"user:u_00","details":{},"idx":3,"justification":null,'
            '"origin_ip":null,"outcome":"ok","purpose":null,"resource":"dashboard","time_ms":1700000000000}')
    assert e.canonical() == want.encode()
    assert e.leaf_hash() == hashlib.sha256(b"\x00" + want.encode()).digest()


@pytest.mark.parametrize("raw,want", [
    ("INC-42", "INC-42"),
    ("  case\t7\n\x00 ok ", "case 7 ok"),
    ("jane.doe@example.com asked", "[email] asked"),
    ("refund to DE89 3704 0044 0532 0130 00 please", "refund to [iban] please"),
    ("card 4111 1111 1111 1111", "card [card]"),
])
def test_clean_text_masks_personal_data(raw, want) -> None:
    assert clean_text(raw) == want


def test_clean_text_limits_length() -> None:
    assert clean_text("x" * 200) == "x" * 200
    with pytest.raises(InvalidInput, match="200"):
        clean_text("x" * 201)
