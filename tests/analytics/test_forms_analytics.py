"""Form analytics from hand-made events: visits, hesitation, refills, validation errors, submits and
abandonment, through extraction, the DuckDB store and the per-form report.

Page (``https://bank.example/pay``)::

    html 3 > body 5 > form#pay 20 > div.row 21 > input#iban 22, span.hint 23
                                  > div.row 24 > input#amount 25
                                  > button#send 26 (submit)
                    > div#other 40
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from analytics_fixtures import el, meta, mutation
from replayvault.analytics.behaviour import Behaviour, BehaviourState, extract_behaviour
from replayvault.analytics.facts import FactState, extract_facts
from replayvault.analytics.forms import form_report, summarize_forms
from replayvault.analytics.store import AnalyticsStore

T = 1_700_000_000_000
PAY = "https://bank.example/pay"
FORM = "body > form#pay"
IBAN = "body > form#pay > div:nth-of-type(1) > input#iban"  # class-free: div.row may become div.row.has-error
AMOUNT = "body > form#pay > div:nth-of-type(2) > input#amount"


def tree() -> dict[str, Any]:
    form = el(20, "form", [
        el(21, "div", [el(22, "input", type="text", id="iban"), el(23, "span", class_="hint")], class_="row"),
        el(24, "div", [el(25, "input", type="text", id="amount")], class_="row"),
        el(26, "button", type="submit", id="send"),
    ], id="pay")
    body = el(5, "body", [form, el(40, "div", id="other")])
    for node in _walk(body):
        if "class_" in node["attributes"]:
            node["attributes"]["class"] = node["attributes"].pop("class_")
    return {"type": 0, "id": 1, "childNodes": [el(3, "html", [el(4, "head"), body])]}


def _walk(node):  # type: ignore[no-untyped-def]
    yield node
    for c in node.get("childNodes", []):
        yield from _walk(c)


def page(ts: int, href: str = PAY) -> list[dict[str, Any]]:
    return [meta(ts, href), {"type": 2, "timestamp": ts + 1, "data": {"node": tree(), "initialOffset": {"left": 0, "top": 0}}}]


def focus(ts: int, nid: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 5, "id": nid}}


def blur(ts: int, nid: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 6, "id": nid}}


def typed(ts: int, nid: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 5, "id": nid, "text": "*****", "isChecked": False}}


def click(ts: int, nid: int) -> dict[str, Any]:
    return {"type": 3, "timestamp": ts, "data": {"source": 2, "type": 2, "id": nid, "x": 5, "y": 5}}


def add(ts: int, parent: int, nid: int, tag: str = "span", **attrs: str) -> dict[str, Any]:
    return mutation(ts, adds=[{"parentId": parent, "nextId": None,
                               "node": {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": []}}])


def behaviour(*batches: list[dict[str, Any]]) -> list[Behaviour]:
    facts, state, out = FactState(), BehaviourState(), []
    for events in batches:
        facts = FactState.from_dict(json.loads(json.dumps(facts.to_dict())))
        state = BehaviourState.from_dict(json.loads(json.dumps(state.to_dict())))
        out.append(extract_behaviour(events, state, extract_facts(events, facts).page_views))
    return out


def abandoning_session() -> list[dict[str, Any]]:
    return [
        *page(T),
        focus(T + 1000, 22), typed(T + 1800, 22), typed(T + 2000, 22), blur(T + 3000, 22),   # 2000 ms, hesitation 800
        focus(T + 3100, 25), typed(T + 3500, 25), blur(T + 4100, 25),                        # 1000 ms, hesitation 400
        add(T + 4200, 21, 30, **{"class": "field-error"}),  # beside input#iban: an error at iban
        add(T + 4300, 40, 31, role="alert"),                # under div#other: no field near it
        focus(T + 5000, 22), typed(T + 5300, 22), blur(T + 6000, 22),  # refill, 1000 ms, hesitation 300
        mutation(T + 6500, attributes=[{"id": 25, "attributes": {"aria-invalid": "true"}}]),
    ]


def test_visits_errors_and_refill_of_one_session() -> None:
    (b,) = behaviour(abandoning_session())
    assert [(v.field, v.start_ms - T, v.end_ms - T, v.first_input_ms - T, v.inputs, v.refill, v.form) for v in b.visits] == [
        (IBAN, 1000, 3000, 1800, 2, False, FORM),
        (AMOUNT, 3100, 4100, 3500, 1, False, FORM),
        (IBAN, 5000, 6000, 5300, 1, True, FORM),
    ]
    assert [(e.field, e.ts_ms - T, e.rule) for e in b.errors] == [(IBAN, 4200, "message"), (AMOUNT, 6500, "aria-invalid")]
    assert b.submits == []


def test_an_open_visit_is_written_open_and_closed_by_the_next_batch() -> None:
    first, second = behaviour([*page(T), focus(T + 1000, 22), typed(T + 1400, 22)], [blur(T + 2500, 22)])
    assert [(v.start_ms - T, v.end_ms, v.inputs) for v in first.visits] == [(1000, None, 1)]
    assert [(v.start_ms - T, v.end_ms - T, v.first_input_ms - T, v.inputs) for v in second.visits] == [(1000, 2500, 1400, 1)]


def test_unfocused_input_is_one_visit_without_time_or_hesitation() -> None:
    (b,) = behaviour([*page(T), typed(T + 1000, 22), typed(T + 1100, 22), typed(T + 1200, 25)])  # autofill
    assert [(v.field, v.focused, v.start_ms - T, v.end_ms, v.inputs) for v in b.visits] == [
        (IBAN, False, 1000, None, 2), (AMOUNT, False, 1200, None, 1)]


def test_error_rules_hidden_then_shown_and_rerender() -> None:
    events = [
        *page(T), focus(T + 1000, 25),
        add(T + 1100, 24, 30, **{"class": "invalid-feedback", "style": "display: none"}),  # hidden: no error yet
        mutation(T + 1200, attributes=[{"id": 30, "attributes": {"style": {"display": "block"}}}]),  # shown: 1
        # a re-render removes and adds the same message in one mutation: still the same error
        mutation(T + 1300, removes=[{"parentId": 24, "id": 30}], adds=[{"parentId": 24, "nextId": None, "node": {
            "type": 2, "id": 32, "tagName": "div", "attributes": {"class": "invalid-feedback"}, "childNodes": []}}]),
        mutation(T + 1400, removes=[{"parentId": 24, "id": 32}]),  # gone
        add(T + 1500, 24, 33, role="alert"),                       # shown again: 2
        mutation(T + 1600, attributes=[{"id": 22, "attributes": {"class": "is-invalid"}}]),  # the iban field itself
    ]
    (b,) = behaviour(events)
    assert [(e.field, e.ts_ms - T, e.rule) for e in b.errors] == [
        (AMOUNT, 1200, "message"), (AMOUNT, 1500, "message"), (IBAN, 1600, "message")]


def test_submit_by_rv_submit_and_by_button_then_navigation() -> None:
    rv_submit = {"type": 5, "timestamp": T + 2000, "data": {"tag": "rv.submit", "payload": {"id": 20}}}
    (a,) = behaviour([*page(T), focus(T + 1000, 22), typed(T + 1500, 22), rv_submit])
    assert [(s.form, s.ts_ms - T, s.via, s.page_view) for s in a.submits] == [(FORM, 2000, "rv.submit", 0)]
    (b,) = behaviour([*page(T), click(T + 1000, 26), *page(T + 3999, "https://bank.example/done")])
    assert [(s.form, s.ts_ms - T, s.via, s.page_view, s.url) for s in b.submits] == [(FORM, 1000, "navigation", 0, PAY)]
    (c,) = behaviour([*page(T), click(T + 1000, 26), *page(T + 4001, "https://bank.example/done")])
    assert c.submits == []  # navigation 3001 ms after the click: not this submit


@pytest.fixture
def store(tmp_path) -> AnalyticsStore:
    return AnalyticsStore(tmp_path / "a.duckdb")


def test_form_report_with_abandonment_hesitation_refill_and_errors(store: AnalyticsStore) -> None:
    s1 = abandoning_session()  # leaves after editing iban last: abandoned at iban
    s2 = [*page(T), focus(T + 1000, 22), typed(T + 1600, 22), blur(T + 2000, 22),
          focus(T + 2100, 25), typed(T + 2200, 25), blur(T + 2300, 25),
          click(T + 2400, 26), *page(T + 3000, "https://bank.example/done")]   # submitted
    s3 = [*page(T), focus(T + 1000, 25), typed(T + 1100, 25), blur(T + 1500, 25),
          {"type": 5, "timestamp": T + 1600, "data": {"tag": "rv.submit", "payload": {"id": 20}}},
          focus(T + 1700, 22), blur(T + 1900, 22)]                             # edits after submitting: abandoned
    for sid, events in (("s1", s1), ("s2", s2), ("s3", s3)):
        for b in behaviour(events[:7], events[7:]):  # split in two batches
            store.write_behaviour("p", sid, b)
    (form,) = form_report(store, project_id="p", url=PAY + "?step=2")
    assert (form["url"], form["form"], form["sessions"], form["submitted_sessions"], form["abandoned_sessions"]) == (
        PAY, FORM, 3, 2, 2)
    iban, amount = form["fields"]
    # iban: visits s1 (2000 ms, hes. 800), s1 (1000, 300, refill), s2 (1000, 600), s3 (200, no input) = 4
    #   time: median(2000, 1000, 1000, 200) = 1000; hesitation: median(800, 300, 600) = 600
    #   abandoned: s1 (last touched iban at +5000, no submit) and s3 (iban at +1700 > submit at +1600)
    assert iban == {"field": IBAN, "interactions": 4, "sessions": 3, "changed": 3, "median_time_ms": 1000.0,
                    "median_hesitation_ms": 600.0, "refills": 1, "abandoned": 2, "validation_errors": 1}
    # amount: s1 (1000 ms, hes. 400), s2 (200, 100), s3 (500, 100): time median 500, hesitation median 100
    assert amount == {"field": AMOUNT, "interactions": 3, "sessions": 3, "changed": 3, "median_time_ms": 500.0,
                      "median_hesitation_ms": 100.0, "refills": 0, "abandoned": 0, "validation_errors": 1}
    assert form_report(store, project_id="p", url="https://bank.example/other") == []
    assert form_report(store, project_id="p", since_ms=T + 5000)[0]["fields"][0]["interactions"] == 1  # s1's refill


def test_summarize_forms_counts_a_submit_only_after_the_last_touch() -> None:
    visit = {"session_id": "x", "url": PAY, "form": FORM, "field": IBAN, "start_ms": 100, "focused": True,
             "end_ms": 200, "first_input_ms": 150, "inputs": 1, "refill": False}
    at_start = [{"session_id": "x", "url": PAY, "form": FORM, "ts_ms": 100}]
    before = [{"session_id": "x", "url": PAY, "form": FORM, "ts_ms": 99}]
    assert summarize_forms([visit], [], at_start)[0]["abandoned_sessions"] == 0
    assert summarize_forms([visit], [], before)[0]["abandoned_sessions"] == 1


def test_unfocused_visits_survive_a_page_change_in_the_same_batch() -> None:
    (b,) = behaviour([*page(T), typed(T + 1000, 22), *page(T + 2000, "https://bank.example/next"), typed(T + 2500, 25)])
    assert [(v.page_view, v.url, v.field, v.inputs) for v in b.visits] == [
        (0, PAY, IBAN, 1), (1, "https://bank.example/next", AMOUNT, 1)]


def test_an_alert_region_filled_with_text_is_an_error_once() -> None:
    region = el(50, "div", [{"type": 3, "id": 51, "textContent": ""}], role="alert")  # live region, empty
    snap = page(T)
    snap[1]["data"]["node"]["childNodes"][0]["childNodes"][1]["childNodes"][0]["childNodes"][1]["childNodes"].append(region)
    events = [*snap, focus(T + 1000, 25),
              mutation(T + 1100, texts=[{"id": 51, "value": "Amount too high"}]),   # filled: an error at amount
              mutation(T + 1200, texts=[{"id": 51, "value": "Amount too high!"}]),  # changed again: same error
              mutation(T + 1300, attributes=[{"id": 50, "attributes": {"hidden": ""}}]),   # hidden: gone
              mutation(T + 1400, attributes=[{"id": 50, "attributes": {"hidden": None}}])]  # shown again: 2
    (b,) = behaviour(events)
    assert [(e.field, e.ts_ms - T) for e in b.errors] == [(AMOUNT, 1100), (AMOUNT, 1400)]
