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


def test_css_numbers_and_svg_paths_are_not_personal_data_but_css_strings_are_checked() -> None:
    from ._rr import el, full, tx

    svg = ("a{background:url(\"data:image/svg+xml,<path d='M2 1.13.78 1.91.78.424 0 .828-.062 1.204-.178.377-.116.677'/>\")}"
           " b{margin:0 .828-.062 1.204} p.owner::after{content:'jane.doe@mailbox.org'}")
    events = [full(el(10, "style", {"_cssText": svg}), el(11, "style", {}, {**tx(12, svg), "isStyle": True}),
                   el(13, "p", {"style": "background:url('x.png?1.204-.178.377'); --n: '+49 170 1234567'"}))]
    out = process_batch(Batch("p", "s", 0, events, ""), SessionState())
    stored = out.payload.decode()
    assert "jane.doe@mailbox.org" not in stored and "+49 170 1234567" not in stored
    assert stored.count("1.13.78 1.91.78.424 0 .828-.062 1.204-.178.377") == 2  # SVG path data intact
    assert "background:url('x.png?**************')" in stored  # a url() query is a request's query
    assert out.maskings == {"email": 2, "phone": 1, "url_query": 1}


def _stored(events, policy=None):  # type: ignore[no-untyped-def]
    from replayvault.privacy.policy import STRICT

    return process_batch(Batch("p", "s", 0, events, "", policy or STRICT), SessionState())


def test_attack_review_regressions() -> None:
    """Cases the privacy review reproduced; each secret must be gone from what is stored."""
    from ._rr import add, el, full, input_ev, meta, mutation, tx

    m = meta("https://bank.example/")
    cases = [
        # a node added under a parent the node map never saw
        ([mutation(adds=[add(10, tx(11, "Jonas Weber secret note"))])], "Jonas Weber"),
        # other scripts' digits and invisible characters inside a card number
        ([m, full(el(10, "p", {}, tx(11, "card \u0664\u0661\u0661\u0661 \u0661\u0661\u0661\u0661 "
                                         "\u0661\u0661\u0661\u0661 \u0661\u0661\u0661\u0661")))], "\u0664\u0661\u0661\u0661"),
        ([m, full(el(10, "p", {}, tx(11, "4111\u200b1111\u200b1111\u200b1111")))], "1111\u200b1111"),
        # short credential field names and numbers in network bodies
        ([m, full(el(10, "p", {})), {"type": 6, "timestamp": 5, "data": {"plugin": "rrweb/network@1", "payload": {
            "requestBody": '{"user": {"pwd": "Hunter2Hunter2!", "cvv": "123"}, "pan": 4111111111111111}'}}}],
         "Hunter2Hunter2!"),
        ([m, full(el(10, "p", {})), {"type": 5, "timestamp": 5, "data": {"tag": "t", "payload": {"pan": 4111111111111111}}}],
         "4111111111111111"),
    ]
    for events, secret in cases:
        assert secret not in _stored(events).payload.decode("utf-8"), secret


def test_checkbox_clicks_are_not_incidents_and_odd_bodies_do_not_reject_the_batch() -> None:
    from ._rr import el, full, input_ev

    out = _stored([full(el(10, "input", {"type": "checkbox", "value": "on"})), input_ev(10, "on", checked=True)])
    assert out.incidents == 0
    deep = "[" * 5000 + "]" * 5000
    body = {"type": 6, "timestamp": 5, "data": {"plugin": "rrweb/network@1",
                                                "payload": {"responseBody": '["\\ud800"]', "requestBody": deep}}}
    out = _stored([full(el(10, "p", {})), body])
    out.payload.decode("utf-8")  # storable


def test_a_long_colon_run_is_no_address() -> None:
    from replayvault.privacy.detectors import REGISTRY, find_all

    assert [f for f in find_all("::" * 20000, REGISTRY) if f.kind == "ip"] == []
    assert [f.kind for f in find_all("at fe80::1 now", REGISTRY)] == ["ip"]


W12 = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about".split()


@pytest.mark.parametrize("layout", ["li", "numbered divs", "one text numbered upper", "comma separated"])
def test_seed_phrase_in_wallet_layouts_is_masked(layout) -> None:
    from ._rr import el, full, tx

    if layout == "li":
        body = el(10, "ol", {}, *[el(100 + i, "li", {}, tx(200 + i, w)) for i, w in enumerate(W12)])
    elif layout == "numbered divs":
        body = el(10, "div", {}, *[el(100 + i, "div", {}, tx(200 + i, f"{i + 1}. {w}")) for i, w in enumerate(W12)])
    elif layout == "one text numbered upper":
        body = el(10, "p", {}, tx(11, " ".join(f"{i + 1}. {w.upper()}" for i, w in enumerate(W12))))
    else:
        body = el(10, "p", {}, tx(11, ", ".join(W12)))
    out = _stored([full(body)])
    assert "abandon" not in out.payload.decode().lower()
    assert out.maskings.get("bip39") == 1


def test_ordinary_prose_with_wordlist_words_is_kept() -> None:
    from ._rr import el, full, tx

    prose = "You can transfer money to any account in the euro area within one business day, free of charge."
    out = _stored([full(el(10, "p", {}, tx(11, prose)))])
    assert prose in out.payload.decode()
