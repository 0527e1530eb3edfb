"""process_batch: pure, per-window node maps, and the shapes the attack review found."""

from __future__ import annotations

import copy
import json

from replayvault.pipeline import Batch, SessionState, process_batch

TS = 1_700_000_000_000


def _el(i, tag, attrs=None, kids=()):
    return {"type": 2, "id": i, "tagName": tag, "attributes": attrs or {}, "childNodes": list(kids)}


def _snapshot(ts, body_kids):
    doc = {"type": 0, "id": 1, "childNodes": [_el(2, "html", {}, [_el(3, "body", {}, body_kids)])]}
    return [{"type": 4, "data": {"href": "https://bank.example/form", "width": 1280, "height": 800}, "timestamp": ts},
            {"type": 2, "data": {"node": doc, "initialOffset": {"top": 0, "left": 0}}, "timestamp": ts + 1}]


def _textarea_page(ts):
    return _snapshot(ts, [_el(10, "textarea", {}, [{"type": 3, "id": 11, "textContent": ""}])])


def test_process_batch_is_pure() -> None:
    events = _textarea_page(TS)
    frozen = copy.deepcopy(events)
    state = SessionState()
    out = process_batch(Batch("p", "s", 0, events), state)
    assert events == frozen and state == SessionState()
    json.dumps(out.state.mask), json.dumps(out.state.facts)  # JSON-safe
    assert out.page_snapshots == (("https://bank.example/form", 1280, TS + 1),)


def test_a_second_tab_full_snapshot_does_not_unmask_the_first_tab() -> None:
    # Window A: a textarea whose text node is id 11. Window B (duplicated tab): a page where 11 is nothing.
    a0 = process_batch(Batch("p", "s", 0, _textarea_page(TS), window_id="A"), SessionState())
    b0 = process_batch(Batch("p", "s", 1, _snapshot(TS + 100, [_el(20, "p")]), window_id="B"), a0.state)
    typed = [{"type": 3, "data": {"source": 0, "adds": [], "removes": [], "attributes": [],
                                  "texts": [{"id": 11, "value": "hunter2Secret"}]}, "timestamp": TS + 200}]
    a1 = process_batch(Batch("p", "s", 2, typed, window_id="A"), b0.state)
    assert "hunter2Secret" not in a1.payload.decode()
    assert a1.maskings == {"input_value": 1}


def test_attack_shapes_are_masked_or_dropped() -> None:
    events = _snapshot(TS, [
        _el(10, "select", {}, [_el(11, "option", {"label": "Jane Doe personal", "value": "jd"})]),
        _el(12, "input", {"type": "text", "value": ["4111 1111 1111 1111"]}),
        _el(13, "p", {"style": "x"}, [{"type": 3, "id": 14, "textContent": "card 4111\u00a01111\u00a01111\u00a01111"}]),
    ])
    events.append({"type": 3, "data": {"source": 0, "adds": [], "removes": [], "texts": [],
                                       "attributes": [{"id": 13, "attributes": {"style": {"--user": "jane.doe@example.com"}}}]},
                   "timestamp": TS + 5})
    events.append({"type": 3, "data": {"source": 5, "id": 12, "text": ["DE89370400440532013000"], "isChecked": False},
                   "timestamp": TS + 6})
    out = process_batch(Batch("p", "s", 0, events), SessionState()).payload.decode()
    for secret in ("Jane Doe personal", "4111 1111 1111 1111", "4111\\u00a01111", "4111\u00a01111",
                   "jane.doe@example.com", "DE89370400440532013000"):
        assert secret not in out, secret


def test_page_snapshots_every_pair_and_across_batches() -> None:
    first = _snapshot(TS, [])[:1]  # Meta alone at the end of a batch
    a = process_batch(Batch("p", "s", 0, first), SessionState())
    assert a.page_snapshots == () and a.state.page == {"href": "https://bank.example/form", "width": 1280}
    rest = _snapshot(TS, [])[1:] + [dict(_snapshot(TS + 50, [])[0], data={"href": "https://bank.example/b?x=1", "width": 390, "height": 800}),
                                     _snapshot(TS + 50, [])[1]]
    b = process_batch(Batch("p", "s", 1, rest), a.state)
    assert b.page_snapshots == (("https://bank.example/form", 1280, TS + 1), ("https://bank.example/b", 390, TS + 51))


def test_text_mutation_before_its_snapshot_is_masked_whole() -> None:
    # seq 1 (typing into the textarea) arrives before seq 0 (the snapshot): the node is unknown.
    typed = [{"type": 3, "data": {"source": 0, "adds": [], "removes": [], "attributes": [],
                                  "texts": [{"id": 11, "value": "hunter2 Secret"}]}, "timestamp": TS + 200}]
    early = process_batch(Batch("p", "s", 1, typed, window_id="A"), SessionState())
    assert json.loads(early.payload)[0]["data"]["texts"][0]["value"] == "******* ******"
    assert early.maskings == {"text_mask": 1}
    # Once the snapshot is known, plain text nodes keep their text (detectors still run).
    snap = process_batch(Batch("p", "s", 0, _snapshot(TS, [_el(10, "p", {}, [{"type": 3, "id": 11, "textContent": "a"}])]),
                               window_id="A"), early.state)
    later = process_batch(Batch("p", "s", 2, [dict(typed[0], data=dict(typed[0]["data"], texts=[{"id": 11, "value": "Balance updated"}]))],
                                window_id="A"), snap.state)
    assert json.loads(later.payload)[0]["data"]["texts"][0]["value"] == "Balance updated"
