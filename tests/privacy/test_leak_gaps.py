"""Leak gaps of the privacy engine closed after the second attack review, one small rrweb fixture
each: the exact masked output and the exact evidence (kind, location, browser, count)."""

from __future__ import annotations

import pytest

from replayvault.privacy import MaskState, mask_events
from replayvault.privacy.evidence import incidents, summarize
from replayvault.privacy.policy import STRICT, Policy, parse_policy

from ._rr import BODY, add, el, full, meta, mutation, node, roundtrip, tx

EMAIL = "jane.doe@mailbox.org"
SECRET = "Jonas Weber secret note"


def batches(*parts: list, policy: Policy = STRICT) -> list:
    """Mask each batch with the state stored as JSON in between (as the pipeline does)."""
    stored = MaskState().to_dict()
    out = []
    for events in parts:
        state = MaskState.from_dict(roundtrip(stored))
        out.append(mask_events(list(events), state, policy=policy))
        stored = state.to_dict()
    return out


def one(*events, policy: Policy = STRICT):
    return batches(list(events), policy=policy)[0]


def rows(result) -> set[tuple[str, str, bool, int]]:
    return {(r.kind, r.location, r.browser, r.count) for r in summarize(result.records)}


def texts(result, index: int) -> list:
    return result.events[index]["data"]["texts"]


# -- 1. rr-mask / rr-block / a policy selector added later by a class change ----------------
def test_rr_mask_added_later_masks_existing_children_from_then_on():
    first, second = batches(
        [full(el(10, "p", {}, tx(11, "Balance EUR 1,204.50"), el(12, "b", {}, tx(13, "Jonas"))))],
        [mutation(attributes=[{"id": 10, "attributes": {"class": "card rr-mask"}}]),
         mutation(texts=[{"id": 11, "value": "Balance EUR 9,999.00"}, {"id": 13, "value": "Jonas Weber"}], ts=2100),
         mutation(adds=[add(12, tx(14, "Acct 7731"))], ts=2200)])
    assert node(first.events, 11)["textContent"] == "Balance EUR 1,204.50"  # not marked yet: page text
    assert texts(second, 1) == [{"id": 11, "value": "******* *** ********"}, {"id": 13, "value": "***** *****"}]
    assert node(second.events[2], 14)["textContent"] == "**** ****"
    # both texts were recorded in clear in the first batch: one late_mask incident each
    assert rows(second) == {("late_mask", "mutation", False, 2), ("text_mask", "mutation", False, 3)}
    assert incidents(summarize(second.records)) == 5


def test_rr_mask_added_later_in_the_same_batch_masks_the_snapshot_text_too():
    res = one(full(el(10, "p", {}, tx(11, "Jonas Weber"))), mutation(attributes=[{"id": 10, "attributes": {"class": "rr-mask"}}]))
    assert node(res.events[0], 11)["textContent"] == "***** *****"
    assert rows(res) == {("late_mask", "mutation", False, 1)}


def test_blank_or_browser_masked_children_are_no_late_incident():
    res = one(full(el(10, "p", {}, tx(11, "  "), tx(12, "***** *****"))),
              mutation(attributes=[{"id": 10, "attributes": {"class": "rr-mask"}}]))
    assert rows(res) == {("text_mask", "snapshot", True, 1)}


def test_rr_block_added_later_drops_later_changes_inside_it():
    _, second = batches(
        [full(el(10, "div", {}, el(12, "span", {"title": "x"}, tx(11, "Jonas"))))],
        [mutation(attributes=[{"id": 10, "attributes": {"class": "rr-block"}}]),
         mutation(texts=[{"id": 11, "value": SECRET}], attributes=[{"id": 12, "attributes": {"title": SECRET}}],
                  adds=[add(10, tx(13, SECRET))], ts=2100)])
    assert second.events[1]["data"] == {"source": 0, "adds": [], "removes": [], "texts": [], "attributes": []}
    assert rows(second) == {("late_block", "mutation", False, 1), ("blocked_in_clear", "mutation", False, 1)}


def test_policy_mask_selector_matching_after_a_class_change():
    policy = parse_policy("mask_selectors: ['td.balance']")
    _, second = batches(
        [full(el(10, "td", {"data-col": "x"}, tx(11, "0.00")), el(12, "td", {}, tx(13, "0.00")))],
        [mutation(attributes=[{"id": 10, "attributes": {"class": "balance"}}, {"id": 12, "attributes": {"class": "other"}}]),
         mutation(texts=[{"id": 11, "value": "EUR 1,234.00"}, {"id": 13, "value": "EUR 5.00"}], ts=2100)], policy=policy)
    assert texts(second, 1) == [{"id": 11, "value": "*** ********"}, {"id": 13, "value": "EUR 5.00"}]
    assert rows(second) == {("late_mask", "mutation", False, 1), ("text_mask", "mutation", False, 1)}


def test_policy_block_selector_matching_later_is_sanitizing_not_an_incident_for_new_content():
    policy = parse_policy("block_selectors: ['.chat']")
    res = one(full(el(10, "div", {})), mutation(attributes=[{"id": 10, "attributes": {"class": "chat"}}]),
              mutation(adds=[add(10, tx(11, "Hi Jonas"))], ts=2100), policy=policy)
    assert res.events[2]["data"]["adds"] == []
    assert rows(res) == {("blocked", "mutation", False, 1)}
    assert incidents(summarize(res.records)) == 0


def test_version_1_state_still_loads_and_says_it_is_partial():
    v1 = {"version": 1, "max_id": 12, "nodes": {"10": ["textarea", None, 3, "t"], "11": ["#text", None, 10, "v"]}}
    state = MaskState.from_dict(v1)
    res = mask_events([mutation(texts=[{"id": 11, "value": "typed"}, {"id": 12, "value": "hello"}])], state)
    assert texts(res, 0) == [{"id": 11, "value": "*****"}, {"id": 12, "value": "hello"}]  # 12: known id, not kept by v1
    assert state.to_dict()["partial"] is True and state.complete is False
    mask_events([full(el(10, "p"))], state)
    assert "partial" not in state.to_dict() and state.complete is True


def test_text_mutation_of_a_removed_node_is_masked_whole():
    res = one(full(el(10, "p", {"class": "rr-mask"}, tx(11, "*****"))), mutation(removes=[{"parentId": BODY, "id": 10}]),
              mutation(texts=[{"id": 11, "value": SECRET}], ts=2100))
    assert texts(res, 2) == [{"id": 11, "value": "***** ***** ****** ****"}]


def test_sibling_order_and_texts_survive_the_json_state():
    state = MaskState()
    mask_events([full(el(10, "p", {}, tx(11, "b"), tx(12, "c"))), mutation(adds=[add(10, tx(13, "a"), next_id=11)])], state)
    again = MaskState.from_dict(roundtrip(state.to_dict()))
    assert again.children(10) == state.children(10) == [13, 11, 12]
    assert [again.get(n).text for n in (13, 11, 12)] == ["a", "b", "c"]


def test_long_texts_keep_only_their_ends_in_the_state():
    state = MaskState()
    mask_events([full(el(10, "p", {}, tx(11, "a" * 150 + "b" * 150)))], state)
    assert state.get(11).text == "a" * 100 + "\x00" + "b" * 100


# -- 2. what a reader sees: collapsed whitespace, invisible characters, IDN e-mails ----------
@pytest.mark.parametrize(("text", "expected", "kind"), [
    ("Card 4111 1111\n    1111 1111 exp", "Card *********************** exp", "card"),
    ("Card 4111\t1111\t1111\t1111", "Card *******************", "card"),
    ("4111\u200b1111\u200c1111\u200d1111", "*******************", "card"),
    ("Mail jürgen@bänk.de.", "Mail **************.", "email"),
    ("Mail jane@xn--bnk-sna.de", "Mail *******************", "email"),
    ("jane.doe@\u200bmailbox.org", "*********************", "email"),
    ("jane\u2060.doe@mailbox.org\ufeff", "*********************\ufeff", "email"),
    ("IBAN DE89 3704\n0044 0532 0130 00", "IBAN ***************************", "iban"),
])
def test_findings_in_text_as_shown(text, expected, kind):
    res = one(full(el(10, "p", {"title": text}, tx(11, text))))
    assert node(res.events[0], 11)["textContent"] == expected
    assert node(res.events[0], 10)["attributes"]["title"] == expected
    assert rows(res) == {(kind, "snapshot", False, 1), (kind, "attribute", False, 1)}


# -- 3. query values wherever a URL appears ------------------------------------------------
@pytest.mark.parametrize(("attrs", "name", "expected"), [
    ({"http-equiv": "refresh", "content": "0;url=https://bank.example/x?email=jane.doe%40mailbox.org"}, "content",
     "0;url=https://bank.example/x?email=**********************"),
    ({"http-equiv": "refresh", "content": "5; URL='/next?session=Zz9Xq771KwQp'"}, "content",
     "5; URL='/next?session=************'"),
    ({"data-href": "/x?email=jane.doe%40mailbox.org"}, "data-href", "/x?email=**********************"),
    ({"data-next": "https://bank.example/cb#access_token=Zz9Xq771KwQp"}, "data-next",
     "https://bank.example/cb#access_token=************"),
    ({"style": "background:url(/x?email=jane.doe%40mailbox.org)"}, "style", "background:url(/x?email=**********************)"),
    ({"style": "background:url('/x?t=Zz9Xq771KwQp')"}, "style", "background:url('/x?t=************')"),
    ({"href": "/cart;jsessionid=Zz9Xq771KwQp/view"}, "href", "/cart;jsessionid=************/view"),
])
def test_query_values_in_any_url(attrs, name, expected):
    refresh = "http-equiv" in attrs
    res = one(full(el(10, "meta" if refresh else "a", attrs)))
    assert node(res.events[0], 10)["attributes"] == {name: expected}  # a refresh would redirect the replay
    assert res.counts == ({"url_query": 1, "meta_refresh": 1} if refresh else {"url_query": 1})


def test_meta_refresh_set_by_a_mutation_is_removed():
    res = one(full(el(10, "meta", {})), mutation(attributes=[{"id": 10, "attributes": {"http-equiv": " Refresh",
                                                                                       "content": "0;url=/x?a=1"}}]))
    assert res.events[1]["data"]["attributes"][0]["attributes"] == {"content": "0;url=/x?a=*"}
    assert rows(res) == {("meta_refresh", "attribute", False, 1), ("url_query", "url", False, 1)}
    assert incidents(summarize(res.records)) == 0


def test_css_url_and_import_in_style_text_and_rule_events():
    css = "@import url('/a.css?u=jane'); @import \"/b.css?t=Zz9Xq771KwQp\"; .x{background:url(data:image/png;base64,QUJD)}"
    rule = {"type": 3, "timestamp": 3000, "data": {"source": 8, "id": 20, "adds": [
        {"rule": ".a{background:url(/p.png?acct=7731)}", "index": 0}]}}
    res = one(full(el(10, "style", {}, {**tx(11, css), "isStyle": True})), rule)
    assert node(res.events[0], 11)["textContent"] == (
        "@import url('/a.css?u=****'); @import \"/b.css?t=************\"; .x{background:url(data:image/png;base64,QUJD)}")
    assert res.events[1]["data"]["adds"][0]["rule"] == ".a{background:url(/p.png?acct=****)}"
    assert res.counts == {"url_query": 3}


def test_css_escapes_are_read_before_detection():
    rule = {"type": 3, "timestamp": 3000, "data": {"source": 8, "id": 20, "adds": [
        {"rule": ".a::after{content:'jane.doe\\40 mailbox.org'}", "index": 0}]}}
    res = one(rule)
    assert res.events[0]["data"]["adds"][0]["rule"] == ".a::after{content:'***********************'}"
    assert res.counts == {"email": 1}


# -- 4. every other string of an event ------------------------------------------------------
OTHER_SOURCES = [
    ({"source": 2, "type": 2, "id": 10, "x": 5, "y": 6, "label": EMAIL}, {"label": "*" * 20}),
    ({"source": 3, "id": 10, "x": 0, "y": 90, "note": EMAIL}, {"note": "*" * 20}),
    ({"source": 10, "family": EMAIL, "fontSource": "https://f.example/x.woff?u=jane", "buffer": False},
     {"family": "*" * 20, "fontSource": "https://f.example/x.woff?u=****"}),
    ({"source": 14, "ranges": [{"start": 11, "startOffset": 0, "end": 11, "endOffset": 2, "text": EMAIL}]},
     {"ranges": [{"start": 11, "startOffset": 0, "end": 11, "endOffset": 2, "text": "*" * 20}]}),
    ({"source": 99, "payload": {"who": EMAIL}}, {"payload": {"who": "*" * 20}}),
]


@pytest.mark.parametrize(("data", "changed"), OTHER_SOURCES, ids=["interaction", "scroll", "font", "selection", "unknown"])
def test_strings_of_other_incremental_sources_are_checked(data, changed):
    res = one({"type": 3, "timestamp": 3000, "data": data})
    assert res.events[0]["data"] == {**data, **changed}


@pytest.mark.parametrize("etype", [0, 1, 7])
def test_dom_content_loaded_load_and_unknown_event_types_are_checked(etype):
    res = one({"type": etype, "timestamp": 5, "data": {"text": f"by {EMAIL}", "n": 4111111111111111, "ms": 1700000000004}})
    assert res.events[0]["data"] == {"text": "by " + "*" * 20, "n": "*" * 16, "ms": 1700000000004}
    assert res.counts == {"email": 1, "card": 1}


def test_extra_keys_of_meta_and_input_events_are_checked():
    res = one({**meta("https://bank.example/"), "note": EMAIL}, full(el(10, "input", {})),
              {"type": 3, "timestamp": 3000, "data": {"source": 5, "text": "***", "isChecked": False, "id": 10,
                                                      "userTriggered": True, "by": EMAIL}})
    meta_out = res.events[0]
    assert (meta_out["note"], meta_out["data"]["href"]) == ("*" * 20, "https://bank.example/")
    assert res.events[2]["data"] == {"source": 5, "text": "***", "isChecked": False, "id": 10, "userTriggered": True,
                                     "by": "*" * 20}
    assert rows(res) == {("email", "url", False, 1), ("email", "input", False, 1), ("input_value", "input", True, 1)}


def test_extra_keys_tag_names_and_attribute_names_are_checked():
    snap = full({**el(10, EMAIL, {f"data-{EMAIL}": "1", "title": "ok"}), "extra": EMAIL},
                {"type": 2, "id": 11, "tagName": "p", "attributes": {}, "childNodes": [], "rootId": 1})
    snap["owner"] = EMAIL
    later = mutation(adds=[{**add(BODY, tx(12, "hi")), "previousId": EMAIL}],
                     texts=[{"id": 12, "value": "hi", "by": EMAIL}])
    res = one(snap, later)
    out = node(res.events[0], 10)
    assert (out["tagName"], out["attributes"], out["extra"]) == ("rv-masked", {"title": "ok"}, "*" * 20)
    assert res.events[0]["owner"] == "*" * 20
    assert res.events[1]["data"]["adds"][0]["previousId"] == "*" * 20
    assert res.events[1]["data"]["texts"] == [{"id": 12, "value": "hi", "by": "*" * 20}]
    assert res.counts == {"email": 6}


def test_custom_events_keys_and_strings_but_not_the_trackers_numbers():
    card = 4111111111111111
    custom = {"type": 5, "timestamp": 5, "data": {"tag": f"login {EMAIL}", "payload": {EMAIL: "x", "n": card}}}
    ours = {"type": 5, "timestamp": 6, "data": {"tag": "rv.page", "payload": {"scrollHeight": card, "note": EMAIL}}}
    res = one(custom, ours)
    assert res.events[0]["data"] == {"tag": "login " + "*" * 20, "payload": {"*" * 20: "x", "n": "*" * 16}}
    assert res.events[1]["data"] == {"tag": "rv.page", "payload": {"scrollHeight": card, "note": "*" * 20}}
    assert res.counts == {"email": 3, "card": 1}


def test_network_headers_as_pairs_and_har_objects_and_inline_credentials():
    plugin = {"type": 6, "timestamp": 5, "data": {"plugin": "rrweb/network@1", "payload": {
        "requestHeaders": [["Cookie", "sid=Zz9Xq771KwQp"], ["Accept", "text/html"]],
        "headers": [{"name": "Authorization", "value": "Bearer abc"}, {"name": "Accept", "value": "*/*"}],
        "postData": "user=jane&pin=1234"}}}
    log = {"type": 3, "timestamp": 6, "data": {"source": 11, "level": "log", "payload": ["login ok password=Hunter2!"],
                                              "trace": []}}
    res = one(plugin, log)
    assert res.events[0]["data"]["payload"] == {
        "requestHeaders": [["Cookie", "*" * 16], ["Accept", "text/html"]],
        "headers": [{"name": "Authorization", "value": "*" * 10}, {"name": "Accept", "value": "*/*"}],
        "postData": "user=****&pin=****"}
    assert res.events[1]["data"]["payload"] == ["login ok password=********"]
    assert res.counts == {"credential": 3, "url_query": 2}


# -- 5. contenteditable -----------------------------------------------------------------------
def test_contenteditable_text_is_masked_like_an_input_value():
    _, second = batches(
        [full(el(10, "div", {"contenteditable": "true"}, tx(11, "Hi")), el(12, "div", {"contenteditable": "false"}, tx(13, "Hi")))],
        [mutation(texts=[{"id": 11, "value": SECRET}, {"id": 13, "value": "Dear Jonas"}]),
         mutation(adds=[add(10, el(14, "p", {}, tx(15, "two words")))], ts=2100)])
    assert texts(second, 0) == [{"id": 11, "value": "*" * 23}, {"id": 13, "value": "Dear Jonas"}]
    assert node(second.events[1], 15)["textContent"] == "*********"
    assert rows(second) == {("input_value", "mutation", False, 2)}


def test_contenteditable_set_later_makes_later_typing_a_form_value():
    res = one(full(el(10, "div", {}, el(11, "p", {}, tx(12, "Reply")))),
              mutation(attributes=[{"id": 10, "attributes": {"contenteditable": ""}}]),
              mutation(texts=[{"id": 12, "value": "Reply Jonas"}], ts=2100))
    assert texts(res, 2) == [{"id": 12, "value": "*" * 11}]
    assert rows(res) == {("input_value", "mutation", False, 1)}


# -- 6. values split across mutations -----------------------------------------------------------
def test_card_added_in_two_mutations_of_one_batch_is_masked_in_both():
    res = one(full(el(10, "p", {})), mutation(adds=[add(10, tx(11, "4111 1111"))]),
              mutation(adds=[add(10, tx(12, " 1111 1111"))], ts=2100))
    assert node(res.events[1], 11)["textContent"] == "**** ****"
    assert node(res.events[2], 12)["textContent"] == " **** ****"
    assert rows(res) == {("card", "mutation", False, 1)}


def test_email_split_across_batches_masks_the_new_part_and_the_kept_copy():
    state = MaskState()
    first = mask_events([full(el(10, "p", {})), mutation(adds=[add(10, tx(11, "jane.doe"))])], state)
    assert node(first.events[1], 11)["textContent"] == "jane.doe"  # nothing to find yet
    state = MaskState.from_dict(roundtrip(state.to_dict()))
    second = mask_events([mutation(adds=[add(10, tx(12, "@mailbox.org"))], ts=2100)], state)
    assert node(second.events[0], 12)["textContent"] == "************"
    assert state.get(11).text == "********"
    assert rows(second) == {("email", "mutation", False, 1)}


def test_insertion_before_a_sibling_follows_next_id():
    res = one(full(el(10, "p", {}, tx(11, "@mailbox.org"))), mutation(adds=[add(10, tx(12, "jane.doe"), next_id=11)]))
    assert node(res.events[0], 11)["textContent"] == "************"
    assert node(res.events[1], 12)["textContent"] == "********"
    assert res.counts == {"email": 1}


def test_card_groups_updated_one_span_at_a_time():
    spans = []
    for i in range(4):
        spans += [el(20 + i, "span", {}, tx(30 + i, "0000")), tx(40 + i, " ")]
    res = one(full(el(10, "p", {}, *spans[:-1])),
              mutation(texts=[{"id": 30 + i, "value": v} for i, v in enumerate(["4111", "1111", "1111", "1111"])]))
    assert texts(res, 1) == [{"id": 30 + i, "value": "****"} for i in range(4)]
    assert res.counts == {"card": 1}


def test_an_added_inline_element_joins_the_text_before_it():
    res = one(full(el(10, "p", {}, tx(11, "Mail jane.doe"))), mutation(adds=[add(10, el(12, "b", {}, tx(13, "@mailbox.org")))]))
    assert node(res.events[0], 11)["textContent"] == "Mail ********"
    assert node(res.events[1], 13)["textContent"] == "************"
    assert rows(res) == {("email", "mutation", False, 1)}


def test_a_block_element_between_parts_ends_the_run():
    res = one(full(el(10, "div", {}, tx(11, "jane.doe"), el(12, "div", {}, tx(13, "x")))),
              mutation(adds=[add(10, tx(14, "@mailbox.org"))]))
    assert node(res.events[1], 14)["textContent"] == "@mailbox.org"
    assert res.counts == {}


# -- 7. evidence: blocked content sent in clear, rrweb's maskTextFn -------------------------
def test_content_under_rr_block_is_an_incident_and_a_policy_block_is_not():
    policy = parse_policy("block_selectors: ['.chat']")
    res = one(full(el(10, "div", {"class": "rr-block"}, tx(11, "Jonas")), el(12, "div", {"class": "chat"}, tx(13, "Hi"))),
              policy=policy)
    assert node(res.events[0], 10)["childNodes"] == [] and node(res.events[0], 12)["childNodes"] == []
    assert rows(res) == {("blocked_in_clear", "snapshot", False, 1), ("blocked", "snapshot", False, 1)}
    assert incidents(summarize(res.records)) == 1


def test_rrweb_mask_text_fn_output_is_browser_masked_and_stays_masked():
    res = one(full(el(10, "p", {}, tx(11, "***** ******"))), mutation(texts=[{"id": 11, "value": "** ***"}]),
              mutation(texts=[{"id": 11, "value": "Jonas Weber"}], ts=2100))
    assert texts(res, 2) == [{"id": 11, "value": "***** *****"}]
    assert rows(res) == {("text_mask", "snapshot", True, 1), ("text_mask", "mutation", True, 1),
                         ("text_mask", "mutation", False, 1)}
    assert res.counts == {"text_mask": 1}


# -- 8. canvas text when the policy keeps canvas ----------------------------------------------
def test_canvas_text_is_masked_and_binary_arguments_are_kept():
    canvas = {"type": 3, "timestamp": 3000, "data": {"source": 9, "id": 10, "type": 0, "commands": [
        {"property": "fillText", "args": [f"Mail {EMAIL}", 1, 1]},
        {"property": "strokeText", "args": ["4111 1111 1111 1111", 1, 20]},
        {"property": "font", "args": ["12px Arial"], "setter": True},
        {"property": "drawImage", "args": [{"rr_type": "ArrayBuffer", "base64": "QUJDMTIzNDU2Nzg5MDEyMzQ1Njc4"}, 0, 0]}]}}
    res = one(full(el(10, "canvas", {})), canvas, policy=parse_policy("canvas: true"))
    commands = res.events[1]["data"]["commands"]
    assert [c["args"][0] for c in commands] == ["Mail " + "*" * 20, "*" * 19, "12px Arial",
                                                {"rr_type": "ArrayBuffer", "base64": "QUJDMTIzNDU2Nzg5MDEyMzQ1Njc4"}]
    assert res.counts == {"email": 1, "card": 1}


# -- 9. form labels and type switches -----------------------------------------------------------
@pytest.mark.parametrize("entries", [
    [{"id": 10, "attributes": {"value": SECRET}}, {"id": 10, "attributes": {"type": "text"}}],
    [{"id": 10, "attributes": {"value": SECRET, "type": "text"}}],
])
def test_checkbox_value_set_before_switching_to_text_is_masked(entries):
    res = one(full(el(10, "input", {"type": "checkbox"})), mutation(attributes=entries))
    assert res.events[1]["data"]["attributes"][0]["attributes"]["value"] == "*" * 23
    assert res.counts == {"input_value": 1}


def test_text_field_value_set_before_switching_to_radio_is_masked():
    res = one(full(el(10, "input", {"type": "text"})),
              mutation(attributes=[{"id": 10, "attributes": {"value": "Jonas"}}, {"id": 10, "attributes": {"type": "radio"}}]),
              mutation(attributes=[{"id": 10, "attributes": {"value": "yes"}}], ts=2100))
    assert res.events[1]["data"]["attributes"][0]["attributes"]["value"] == "*****"
    assert res.events[2]["data"]["attributes"][0]["attributes"]["value"] == "yes"  # a radio's value is a label


def test_form_labels_keep_their_text_unless_a_detector_fires():
    res = one(full(el(10, "select", {}, el(11, "optgroup", {"label": "Accounts of Jonas"}),
                      el(12, "optgroup", {"label": f"Jonas {EMAIL}"})),
                   el(13, "button", {"value": "send"}), el(14, "button", {"value": EMAIL}),
                   el(15, "input", {"type": "submit", "value": "Pay now"}), el(16, "input", {"type": "button", "value": EMAIL})))
    out = res.events[0]
    assert [node(out, 11)["attributes"]["label"], node(out, 12)["attributes"]["label"]] == ["Accounts of Jonas",
                                                                                             "Jonas " + "*" * 20]
    assert [node(out, n)["attributes"]["value"] for n in (13, 14, 15, 16)] == ["send", "*" * 20, "Pay now", "*" * 20]
    assert rows(res) == {("email", "attribute", False, 3)}


def test_isstyle_outside_a_style_element_is_ignored():
    res = one(full(el(10, "p", {"class": "rr-mask"}, {**tx(11, "Jonas Weber"), "isStyle": True})))
    assert node(res.events[0], 11)["textContent"] == "***** *****"
    assert res.counts == {"text_mask": 1}



def test_a_new_full_snapshot_starts_a_new_id_space_for_late_masking():
    res = one(full(el(10, "p", {}, tx(11, "Jonas"))), full(el(10, "p", {}, tx(11, "Anna")), ts=3000),
              mutation(attributes=[{"id": 10, "attributes": {"class": "rr-mask"}}], ts=3100))
    assert [node(res.events[i], 11)["textContent"] for i in (0, 1)] == ["Jonas", "****"]
    assert rows(res) == {("late_mask", "mutation", False, 1)}


def test_circular_parent_links_from_malformed_adds_terminate():
    res = one(full(el(10, "p", {})), mutation(adds=[add(12, el(11, "span", {}, tx(13, "jane.doe"))),
                                                    add(11, el(12, "b", {}, tx(14, "@mailbox.org")))]),
              mutation(attributes=[{"id": 11, "attributes": {"class": "rr-mask"}}], ts=2100))
    # each parent is unknown when its child is masked first: both are masked whole, and the class
    # change later walks the circular links without looping
    assert [node(res.events[1], n)["textContent"] for n in (13, 14)] == ["********", "************"]
    assert rows(res) == {("text_mask", "mutation", False, 2)}
