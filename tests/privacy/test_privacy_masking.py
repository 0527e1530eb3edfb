"""One small hand-written rrweb fixture per masking rule."""

from __future__ import annotations

import copy
import json

import pytest

from replayvault.errors import MalformedBatch
from replayvault.privacy import MaskState, mask_events

from ._rr import BODY, add, el, full, input_ev, meta, mutation, node, nodes, roundtrip, tx


def run(*events, state=None):
    state = state if state is not None else MaskState()
    return mask_events(list(events), state), state


# -- form values ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("attrs", "expected", "kind"),
    [
        ({"type": "text", "value": "Jane Doe"}, "********", "input_value"),
        ({"value": "Jane Doe"}, "********", "input_value"),  # no type: text
        ({"type": "email", "value": "jane@bank.com"}, "*************", "input_value"),
        ({"type": "TEL", "value": "+44 20 7946 0958"}, "****************", "input_value"),
        ({"type": "hidden", "value": "cust-48213"}, "**********", "input_value"),
        ({"type": "password", "value": "hunter2"}, "*******", "password"),
        ({"type": "text", "data-rr-is-password": "true", "value": "hunter2"}, "*******", "password"),
    ],
)
def test_snapshot_input_value_is_masked(attrs, expected, kind):
    res, _ = run(full(el(10, "input", attrs)))
    assert node(res.events, 10)["attributes"]["value"] == expected
    assert res.counts == {kind: 1}


@pytest.mark.parametrize("itype", ["button", "submit", "reset", "checkbox", "radio"])
def test_label_input_value_is_kept(itype):
    res, _ = run(full(el(10, "input", {"type": itype, "value": "Send now"})))
    assert node(res.events, 10)["attributes"]["value"] == "Send now"
    assert res.counts == {}


def test_label_input_value_is_masked_when_a_detector_fires():
    res, _ = run(full(el(10, "input", {"type": "submit", "value": "Pay jane@bank.com"})))
    assert node(res.events, 10)["attributes"]["value"] == "Pay *************"
    assert res.counts == {"email": 1}


def test_textarea_text_child_and_value_are_masked():
    snap = full(el(10, "textarea", {"value": "my address"}, tx(11, "my address")))
    later = mutation(texts=[{"id": 11, "value": "new text"}], adds=[add(10, tx(12, "more"))])
    res, _ = run(snap, later)
    assert node(res.events[0], 10)["attributes"]["value"] == "**********"
    assert node(res.events[0], 11)["textContent"] == "**********"
    assert res.events[1]["data"]["texts"] == [{"id": 11, "value": "********"}]
    assert node(res.events[1], 12)["textContent"] == "****"
    assert res.counts == {"input_value": 4}


def test_select_value_option_text_and_option_value_are_masked():
    sel = el(10, "select", {"value": "DE"}, el(11, "option", {"value": "DE", "selected": True}, tx(12, "Germany")),
             el(13, "option", {"value": "FR"}, tx(14, "France")))
    res, _ = run(full(sel))
    out = res.events[0]
    assert node(out, 10)["attributes"]["value"] == "**"
    assert node(out, 11)["attributes"] == {"value": "**", "selected": True}
    assert node(out, 12)["textContent"] == "*******"
    assert node(out, 14)["textContent"] == "******"
    # the select's value is the customer's input; the options' values and labels are the site's
    # choices (masked all the same, counted as choice_value: sanitizing, not an incident)
    assert res.counts == {"input_value": 1, "choice_value": 4}


def test_input_event_text_is_masked_and_checked_kept():
    res, _ = run(full(el(10, "input", {"type": "text"})), input_ev(10, "Jane", checked=True), input_ev(10, ""), input_ev(10, "****"))
    assert res.events[1]["data"] == {"source": 5, "text": "****", "isChecked": True, "id": 10}
    assert res.events[2]["data"]["text"] == ""
    assert res.events[3]["data"]["text"] == "****"
    assert res.counts == {"input_value": 1}  # empty and browser-masked values are not new maskings


def test_input_event_of_checkbox_is_masked():
    res, _ = run(full(el(10, "input", {"type": "checkbox"})), input_ev(10, "on", checked=True))
    assert res.events[1]["data"]["text"] == "**"
    assert res.events[1]["data"]["isChecked"] is True


def test_browser_masked_value_is_kept_not_counted_and_stays_masked():
    res, _ = run(full(el(10, "input", {"type": "submit", "value": "****"})),
                 mutation(attributes=[{"id": 10, "attributes": {"value": "Send"}}]))
    assert node(res.events[0], 10)["attributes"]["value"] == "****"
    assert res.events[1]["data"]["attributes"][0]["attributes"]["value"] == "****"
    assert res.counts == {"input_value": 1}


def test_password_stays_masked_after_show_password_across_batches():
    state = MaskState()
    first = mask_events([full(el(10, "input", {"type": "password"}))], state)
    assert first.counts == {}
    stored = roundtrip(state.to_dict())
    assert "hunter2" not in json.dumps(stored)

    state2 = MaskState.from_dict(stored)
    batch = [mutation(attributes=[{"id": 10, "attributes": {"type": "text"}}]), input_ev(10, "hunter2")]
    second = mask_events(batch, state2)
    assert second.events[1]["data"]["text"] == "*******"
    assert second.counts == {"password": 1}

    state3 = MaskState.from_dict(roundtrip(state2.to_dict()))
    third = mask_events([mutation(attributes=[{"id": 10, "attributes": {"value": "hunter2"}}])], state3)
    assert third.events[0]["data"]["attributes"][0]["attributes"]["value"] == "*******"
    assert third.counts == {"password": 1}


def test_value_mutation_on_unknown_node_is_masked():
    res, _ = run(mutation(attributes=[{"id": 999, "attributes": {"value": "secret"}}]))
    assert res.events[0]["data"]["attributes"][0]["attributes"]["value"] == "******"


# -- detectors in text and attributes -------------------------------------------------------
DETECTED = [
    ("jane@bank.com", "*************", "email"),
    ("Mail jane.doe@bank.co.uk now", "Mail ******************* now", "email"),
    ("Card 4111 1111 1111 1111.", "Card *******************.", "card"),
    ("5555-5555-5555-4444", "*******************", "card"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "IBAN ***************************", "iban"),
    ("iban gb82west12345698765432", "iban **********************", "iban"),
    ("DE89370400440532013000!", "**********************!", "iban"),
]
NOT_DETECTED = ["sent 1700000000004", "ref 41111111111111110000", "4111 1111 1111 1112", "hello world"]


@pytest.mark.parametrize(("text", "expected", "kind"), DETECTED)
def test_detector_in_text_node(text, expected, kind):
    res, _ = run(full(el(10, "p", {}, tx(11, text))), mutation(texts=[{"id": 11, "value": text}]))
    assert node(res.events[0], 11)["textContent"] == expected
    assert res.events[1]["data"]["texts"][0]["value"] == expected
    assert res.counts == {kind: 2}


@pytest.mark.parametrize("attr", ["placeholder", "title", "aria-label", "alt", "data-note"])
@pytest.mark.parametrize(("text", "expected", "kind"), DETECTED)
def test_detector_in_attribute(attr, text, expected, kind):
    res, _ = run(full(el(10, "img", {attr: text})), mutation(attributes=[{"id": 10, "attributes": {attr: text}}]))
    assert node(res.events[0], 10)["attributes"][attr] == expected
    assert res.events[1]["data"]["attributes"][0]["attributes"][attr] == expected
    assert res.counts == {kind: 2}


@pytest.mark.parametrize("text", NOT_DETECTED)
def test_no_false_positive_in_text(text):
    res, _ = run(full(el(10, "p", {"title": text}, tx(11, text))))
    assert node(res.events[0], 11)["textContent"] == text
    assert node(res.events[0], 10)["attributes"]["title"] == text
    assert res.counts == {}


# -- URLs -----------------------------------------------------------------------------------
def test_meta_href_query_is_scrubbed():
    res, _ = run(meta("https://bank.example/login?user=jane&next=/home#top"))
    assert res.events[0]["data"]["href"] == "https://bank.example/login?user=****&next=*****#top"
    assert res.counts == {"url_query": 2}


@pytest.mark.parametrize(("tag", "attr"), [("a", "href"), ("img", "src"), ("form", "action"), ("link", "href")])
def test_url_attribute_query_is_scrubbed(tag, attr):
    url = "/statement?acct=12345678&fmt=pdf"
    res, _ = run(full(el(10, tag, {attr: url})), mutation(attributes=[{"id": 10, "attributes": {attr: url}}]))
    assert node(res.events[0], 10)["attributes"][attr] == "/statement?acct=********&fmt=***"
    assert res.events[1]["data"]["attributes"][0]["attributes"][attr] == "/statement?acct=********&fmt=***"
    assert res.counts == {"url_query": 4}


def test_mailto_link_email_is_masked():
    res, _ = run(full(el(10, "a", {"href": "mailto:jane@bank.com"})))
    assert node(res.events[0], 10)["attributes"]["href"] == "mailto:*************"


def test_custom_event_payload_is_scrubbed():
    ev = {"type": 5, "data": {"tag": "$pageview", "payload": {"href": "/x?e=jane@bank.com", "note": "jane@bank.com"}}, "timestamp": 5}
    res, _ = run(ev)
    assert res.events[0]["data"]["payload"] == {"href": "/x?e=*************", "note": "*************"}
    assert res.counts == {"url_query": 1, "email": 1}


# -- sanitizing -----------------------------------------------------------------------------
def test_script_is_removed_and_later_mutations_into_it_are_dropped():
    snap = full(el(10, "script", {"src": "/app.js?u=1"}, tx(11, "var pin = '1234';")), el(12, "p", {}, tx(13, "hi")))
    later = mutation(
        texts=[{"id": 11, "value": "steal()"}, {"id": 13, "value": "hello"}],
        adds=[add(10, tx(20, "evil()")), add(BODY, el(21, "script", {}, tx(22, "x()"))), add(21, tx(23, "y()")),
              add(BODY, el(24, "b"), next_id=10)],
        attributes=[{"id": 10, "attributes": {"src": "/evil.js"}}],
    )
    after = mutation(texts=[{"id": 20, "value": "a"}, {"id": 22, "value": "b"}, {"id": 23, "value": "c"}], ts=2500)
    res, _ = run(snap, later, after)
    blob = json.dumps(res.events)
    assert '"script"' not in blob and "pin" not in blob and "evil" not in blob and "x()" not in blob
    assert node(res.events[0], 10) == {"type": 5, "id": 10, "textContent": ""}  # inert placeholder keeps the id
    data = res.events[1]["data"]
    assert data["texts"] == [{"id": 13, "value": "hello"}]
    assert [a["node"]["id"] for a in data["adds"]] == [21, 24]
    assert data["adds"][1]["nextId"] == 10  # still resolves: the placeholder has id 10
    assert data["attributes"] == []
    assert res.events[2]["data"]["texts"] == []
    assert res.counts == {"script": 2}


@pytest.mark.parametrize("handler", ["onerror", "onclick", "ONLOAD", "onMouseOver"])
def test_event_handler_attributes_are_removed(handler):
    res, _ = run(full(el(10, "img", {"src": "/x.png", handler: "alert(1)"})),
                 mutation(attributes=[{"id": 10, "attributes": {handler: "alert(2)", "alt": "ok"}}]))
    assert node(res.events[0], 10)["attributes"] == {"src": "/x.png"}
    assert res.events[1]["data"]["attributes"][0]["attributes"] == {"alt": "ok"}
    assert res.counts == {"event_handler": 2}


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "  JaVaScRiPt:alert(1)", "\x01\x02javascript:void(0)", "java\tscript:alert(1)", "\njavascript\n:x"]
)
@pytest.mark.parametrize("attr", ["href", "src", "action", "formaction", "xlink:href"])
def test_javascript_urls_are_replaced(url, attr):
    res, _ = run(full(el(10, "a", {attr: url})), mutation(attributes=[{"id": 10, "attributes": {attr: url}}]))
    assert node(res.events[0], 10)["attributes"][attr] == "#"
    assert res.events[1]["data"]["attributes"][0]["attributes"][attr] == "#"
    assert res.counts == {"javascript_url": 2}


@pytest.mark.parametrize("url", ["https://x.example/javascript:alert", "/help#javascript:", "javascripts/app.js"])
def test_non_javascript_urls_are_kept(url):
    res, _ = run(full(el(10, "a", {"href": url})))
    assert node(res.events[0], 10)["attributes"]["href"] == url


def test_iframe_srcdoc_is_removed():
    res, _ = run(full(el(10, "iframe", {"srcdoc": "<script>alert(1)</script>", "width": "10"})),
                 mutation(attributes=[{"id": 10, "attributes": {"srcdoc": "<b>x</b>"}}]))
    assert node(res.events[0], 10)["attributes"] == {"width": "10"}
    assert res.events[1]["data"]["attributes"][0]["attributes"] == {}
    assert res.counts == {"srcdoc": 2}


# -- rrweb marks ----------------------------------------------------------------------------
def test_rr_mask_subtree_text_is_masked_entirely():
    snap = full(el(10, "div", {"class": "balance rr-mask"}, el(11, "span", {}, tx(12, "EUR 1,204.50")), tx(13, "  ")))
    later = mutation(texts=[{"id": 12, "value": "EUR 9"}], adds=[add(11, tx(14, "Jane Doe"))])
    res, _ = run(snap, later)
    assert node(res.events[0], 12)["textContent"] == "*** ********"
    assert node(res.events[0], 13)["textContent"] == "  "
    assert res.events[1]["data"]["texts"][0]["value"] == "*** *"
    assert node(res.events[1], 14)["textContent"] == "**** ***"
    assert res.counts == {"text_mask": 3}


def test_rr_block_content_is_dropped():
    snap = full(el(10, "div", {"class": "rr-block", "rr_width": "100px", "rr_height": "20px"}, tx(11, "secret")))
    later = mutation(adds=[add(10, tx(12, "leak"))], texts=[{"id": 11, "value": "leak"}])
    res, _ = run(snap, later)
    assert node(res.events[0], 10)["childNodes"] == []
    assert res.events[1]["data"]["adds"] == [] and res.events[1]["data"]["texts"] == []
    assert res.counts == {"blocked_in_clear": 2}  # the browser should have blocked both: incidents


def test_browser_masked_text_node_stays_masked():
    res, _ = run(full(el(10, "p", {}, tx(11, "*****"))), mutation(texts=[{"id": 11, "value": "Jane Doe"}]))
    assert res.events[1]["data"]["texts"][0]["value"] == "**** ***"


# -- mutations ------------------------------------------------------------------------------
def test_adds_child_listed_before_parent():
    later = mutation(adds=[add(30, tx(31, "typed text")), add(BODY, el(30, "textarea"))])
    res, _ = run(full(), later)
    assert node(res.events[1], 31)["textContent"] == "**********"


def test_added_input_then_value_mutation():
    later = mutation(adds=[add(BODY, el(30, "input", {"type": "text", "value": "Jane"}))],
                     attributes=[{"id": 30, "attributes": {"value": "Jane D"}}])
    res, _ = run(full(), later)
    assert node(res.events[1], 30)["attributes"]["value"] == "****"
    assert res.events[1]["data"]["attributes"][0]["attributes"]["value"] == "******"
    assert res.counts == {"input_value": 2}


def test_full_snapshot_starts_a_new_id_space():
    state = MaskState()
    mask_events([full(el(10, "input", {"type": "password"}))], state)
    mask_events([full(el(10, "p", {}))], state)
    assert state.get(10).tag == "p" and not state.get(10).flags


def test_removed_nodes_are_forgotten_but_password_is_sticky():
    state = MaskState()
    mask_events([full(el(10, "div", {}, el(11, "span")), el(12, "input", {"type": "password"}))], state)
    mask_events([mutation(removes=[{"parentId": BODY, "id": 10}, {"parentId": BODY, "id": 12}])], state)
    assert 10 not in state and 11 not in state and 12 in state


# -- contracts ------------------------------------------------------------------------------
def test_input_events_are_not_mutated():
    events = [full(el(10, "input", {"value": "Jane", "onclick": "x"})), input_ev(10, "Jane"), meta("/?a=1")]
    before = copy.deepcopy(events)
    res, _ = run(*events)
    assert events == before
    assert res.events is not events and all(a is not b for a, b in zip(res.events, events))


def test_state_is_json_safe_and_holds_only_what_the_masked_recording_holds():
    """The state keeps page text as stored after masking (to join values split over mutations):
    the plain name is there, as in the stored events; nothing that masking removed is."""
    secrets = ["jane@bank.com", "hunter2", "GB82 WEST", "4111"]
    snap = full(el(10, "input", {"type": "password", "value": "hunter2"}), el(11, "p", {"title": "jane@bank.com"}, tx(12, "Jane Doe")),
                el(13, "textarea", {}, tx(14, "GB82 WEST 1234 5698 7654 32")), el(15, "div", {"class": "rr-mask"}, tx(16, "4111")))
    state = MaskState()
    mask_events([snap, input_ev(10, "hunter2")], state)
    blob = json.dumps(state.to_dict())
    assert not any(s in blob for s in secrets)
    again = MaskState.from_dict(json.loads(blob))
    assert again.to_dict() == state.to_dict()
    assert again.get(10).tag == "input" and again.get(14).tag == "#text"
    assert [again.get(n).text for n in (12, 14, 16)] == ["Jane Doe", None, None]


@pytest.mark.parametrize("bad", [None, [], {"version": 99, "nodes": {}}, {"version": 1, "nodes": {"x": ["p", None, None, ""]}},
                                 {"version": 1, "nodes": {"1": ["#text", None, 3, "", "text"]}},
                                 {"version": 2, "nodes": {"1": ["#text", None, 3, "", 5]}},
                                 {"version": 1, "nodes": {"1": ["p", None, None, "Z"]}}, {"version": 1, "nodes": {"1": ["p"]}}])
def test_malformed_state_is_rejected(bad):
    from replayvault.privacy import MalformedState

    with pytest.raises(MalformedState):
        MaskState.from_dict(bad)


def test_non_object_event_raises_malformed_batch_naming_index_only():
    state = MaskState()
    with pytest.raises(MalformedBatch, match=r"^event 1 is not an object$"):
        mask_events([full(el(10, "input", {"type": "password"})), "jane@bank.com"], state)
    assert len(state) == 0  # rejected batch leaves the state untouched


@pytest.mark.parametrize(
    "event",
    [
        {"type": 2, "data": "oops", "timestamp": 1},
        {"type": 2, "data": {"node": [1, 2]}, "timestamp": 1},
        {"type": 2, "data": {"node": {"type": 2, "id": "x", "tagName": 5, "attributes": [], "childNodes": "no"}}, "timestamp": 1},
        {"type": 2, "data": {"node": {"type": 0, "id": 1, "childNodes": [None, 3, {"type": 3}, {"type": 2, "attributes": {5: "a"}}]}}, "timestamp": 1},
        {"type": 3, "data": {"source": 0, "adds": [None, {"node": "x"}, {"parentId": "p", "node": {"id": 5}}], "removes": "no",
                             "texts": [1, {"id": None, "value": 3}], "attributes": [{"id": 1, "attributes": None}, 7]}, "timestamp": 1},
        {"type": 3, "data": {"source": 5, "text": 42, "id": []}, "timestamp": 1},
        {"type": 4, "data": {"href": None}, "timestamp": 1},
        {"type": 5, "data": {"payload": [["x", {"href": 1}]]}, "timestamp": 1},
        {"data": {}},
        {},
    ],
)
def test_malformed_event_parts_do_not_crash(event):
    res, _ = run(event)
    assert len(res.events) == 1


def test_counts_match_records():
    res, _ = run(full(el(10, "input", {"value": "a", "onclick": "x"}), el(11, "a", {"href": "/?q=1"})), input_ev(10, "ab"))
    from collections import Counter

    assert Counter(r.kind for r in res.records) == res.counts
    assert all(r.event_index in (0, 1) for r in res.records)


def test_absurdly_deep_event_is_a_malformed_batch_not_a_crash():
    deep = tx(100000, "jane@bank.com")
    for i in range(5000):
        deep = el(i + 10, "div", {}, deep)
    with pytest.raises(MalformedBatch, match=r"^event 0 is nested too deeply$"):
        mask_events([{"type": 2, "data": {"node": deep}, "timestamp": 1}], MaskState())


def test_deep_but_sane_dom_is_walked_without_recursion():
    deep = tx(100000, "jane@bank.com")
    for i in range(400):
        deep = el(i + 10, "div", {}, deep)
    res = mask_events([{"type": 2, "data": {"node": deep}, "timestamp": 1}], MaskState())
    assert res.counts == {"email": 1}


def test_rr_mask_does_not_mask_css_text():
    css = {"type": 3, "id": 12, "textContent": ".a { color: red }", "isStyle": True}
    res, _ = run(full(el(10, "div", {"class": "rr-mask"}, el(11, "style", {}, css))))
    assert node(res.events[0], 12)["textContent"] == ".a { color: red }"


def test_empty_mapping_is_a_new_state():
    assert len(MaskState.from_dict({})) == 0


# -- resource hints (a prefetch fetches on replay and when a backdrop is rendered) -------------
@pytest.mark.parametrize("rel", ["prefetch", "dns-prefetch", "preconnect", "preload", "modulepreload", "PreFetch next"])
def test_resource_hint_links_lose_their_href(rel):
    url = "http://127.0.0.1:9/internal/admin?action=delete"
    res, _ = run(full(el(10, "link", {"rel": rel, "href": url})),
                 mutation(attributes=[{"id": 10, "attributes": {"href": url}}]))
    assert "href" not in node(res.events[0], 10)["attributes"]
    assert res.events[1]["data"]["attributes"][0]["attributes"]["href"] is None
    assert res.counts["resource_hint"] == 2


def test_stylesheet_link_turned_into_prefetch_loses_href():
    res, _ = run(full(el(10, "link", {"rel": "stylesheet", "href": "/a.css"})),
                 mutation(attributes=[{"id": 10, "attributes": {"rel": "prefetch"}}]))
    assert node(res.events[0], 10)["attributes"]["href"] == "/a.css"
    assert res.events[1]["data"]["attributes"][0]["attributes"] == {"rel": "prefetch", "href": None}


def test_percent_encoded_email_in_a_url_path_is_masked():
    res, _ = run(meta("https://bank.example/u/jane.doe%40example.com/statements?x=1"))
    assert res.events[0]["data"]["href"] == "https://bank.example/u/**********************/statements?x=*"
    assert res.counts == {"url_query": 1, "email": 1}
