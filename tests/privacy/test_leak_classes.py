"""The known leak classes of browser-side masking are closed by the server (one fixture each)."""

from __future__ import annotations

import json
import re

import pytest

from replayvault.pipeline import Batch, SessionState, process_batch

from .leak_fixtures import FIXTURES


def _forms(secret: str) -> list[str]:
    """The secret, without separators, and its 6-character fragments (as the leak benchmark searches)."""
    bare = re.sub(r"[\s.\-@]", "", secret)
    frags = {bare[i:i + 6] for i in range(len(bare) - 5)} if len(bare) >= 6 else set()
    return [secret, bare, *sorted(frags)]


@pytest.mark.parametrize("name,events,secret", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_leak_class_is_closed(name, events, secret) -> None:
    out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
    stored = out.payload.decode("utf-8")
    found = [f for f in _forms(secret) if f in stored]
    assert found == [], f"{name}: {len(found)} forms of the secret survive"
    assert sum(out.maskings.values()) >= 1
    json.loads(stored)  # still a JSON event array


def test_split_text_masks_only_the_finding_and_counts_it_once() -> None:
    from ._rr import el, full, tx

    events = [full(el(10, "p", {}, tx(11, "Mail "), el(12, "b", {}, tx(13, "jane.doe")), tx(14, "@mailbox.org today"),
                      el(15, "div", {}, tx(16, "block")), tx(17, "4111 1111"), el(18, "i", {}, tx(19, " 1111 1111"))))]
    out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
    texts = {n["id"]: n.get("textContent") for n in _all(out.events)}
    assert (texts[11], texts[13], texts[14], texts[16]) == ("Mail ", "********", "************ today", "block")
    assert (texts[17], texts[19]) == ("**** ****", " **** ****")
    assert out.maskings == {"email": 1, "card": 1}


def _all(tree):  # type: ignore[no-untyped-def]
    from ._rr import nodes

    return list(nodes(tree))
