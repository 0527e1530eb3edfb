"""Security review fixes: attributes of masked elements, numbers in rv.* events, URL authorities,
phone numbers glued to '/' in URL paths."""

from __future__ import annotations

from replayvault.privacy.masking import MaskState, mask_events
from replayvault.privacy.policy import parse_policy

from ._rr import add, el, full, meta, mutation, tx


def _body(events, state=None, policy=None):
    kw = {"policy": policy} if policy is not None else {}
    result = mask_events(events, state if state is not None else MaskState(), **kw)
    return result


def _snapshot_body(result):
    return result.events[0]["data"]["node"]["childNodes"][0]["childNodes"][0]["childNodes"]


# -- 1. rr-mask / mask_selectors mask the text attributes too ----------------------------------

def test_rr_mask_masks_text_attributes_of_element_and_descendants():
    events = [full(
        el(10, "div", {"class": "rr-mask", "id": "holder", "title": "Jane Doe", "data-holder": "Jane Doe",
                       "role": "region", "style": "width: 10px"},
           el(11, "span", {"aria-label": "Greeting for Jane Doe", "title": "Jane Doe", "tabindex": "0"},
              tx(12, "Hello Jane Doe")),
           el(13, "img", {"alt": "Photo of Jane Doe", "src": "/p.png", "width": "20", "height": 20}),
           el(14, "input", {"type": "text", "placeholder": "Jane Doe", "aria-description": "Name: Jane",
                            "aria-valuetext": "12 EUR", "name": "holder"})),
        el(20, "p", {"title": "Jane Doe", "data-x": "Jane Doe"}, tx(21, "Jane Doe")),
    )]
    result = _body(events)
    assert _snapshot_body(result) == [
        el(10, "div", {"class": "rr-mask", "id": "holder", "title": "**** ***", "data-holder": "**** ***",
                       "role": "region", "style": "width: 10px"},
           el(11, "span", {"aria-label": "******** *** **** ***", "title": "**** ***", "tabindex": "0"},
              tx(12, "***** **** ***")),
           el(13, "img", {"alt": "***** ** **** ***", "src": "/p.png", "width": "20", "height": 20}),
           el(14, "input", {"type": "text", "placeholder": "**** ***", "aria-description": "***** ****",
                            "aria-valuetext": "** ***", "name": "holder"})),
        el(20, "p", {"title": "Jane Doe", "data-x": "Jane Doe"}, tx(21, "Jane Doe")),
    ]
    assert result.counts == {"text_mask": 9}


def test_mask_selector_masks_attributes_including_numbers():
    policy = parse_policy("mask_selectors: ['.balance']")
    events = [full(el(14, "span", {"class": "balance", "title": "EUR 12,345.67", "data-amount": 12345.67},
                      tx(15, "EUR 12,345.67")))]
    body = _snapshot_body(_body(events, policy=policy))
    assert body == [el(14, "span", {"class": "balance", "title": "*** *********", "data-amount": "********"},
                       tx(15, "*** *********"))]


def test_masked_element_attributes_in_added_nodes_and_attribute_mutations():
    state = MaskState()
    _body([full(el(10, "div", {"class": "rr-mask"}), el(20, "div", {}))], state)
    result = _body([mutation(
        adds=[add(10, el(11, "abbr", {"title": "Jane Doe", "class": "x"}, tx(12, "JD")))],
        attributes=[{"id": 10, "attributes": {"data-name": "Jane Doe", "class": "rr-mask big"}},
                    {"id": 20, "attributes": {"class": "rr-mask", "title": "Joe Bloggs"}}],
    )], state)
    data = result.events[0]["data"]
    assert data["adds"][0]["node"] == el(11, "abbr", {"title": "**** ***", "class": "x"}, tx(12, "**"))
    assert data["attributes"] == [{"id": 10, "attributes": {"data-name": "**** ***", "class": "rr-mask big"}},
                                  {"id": 20, "attributes": {"class": "rr-mask", "title": "*** ******"}}]
    # later mutations of a descendant of an element masked late are masked too
    result = _body([mutation(attributes=[{"id": 11, "attributes": {"title": "Ann Lee"}}])], state)
    assert result.events[0]["data"]["attributes"] == [{"id": 11, "attributes": {"title": "*** ***"}}]


# -- 2a. numbers in rv.* events ----------------------------------------------------------------

def test_rv_numbers_scanned_except_tracker_keys():
    ev = {"type": 5, "timestamp": 1, "data": {"tag": "rv.click", "payload": {
        "id": 10, "x": 1, "y": 2, "w": 5, "h": 5, "acct": 4111111111111111, "n": 123}}}
    ev2 = {"type": 5, "timestamp": 2, "data": {"tag": "rv.checkout", "payload": {"card": 4111111111111111}}}
    ev3 = {"type": 5, "timestamp": 3, "data": {"tag": "rv.page", "payload": {"scrollHeight": 4111111111111111,
                                                                             "scrollWidth": 1280}}}
    out = _body([ev, ev2, ev3]).events
    assert out[0]["data"]["payload"] == {"id": 10, "x": 1, "y": 2, "w": 5, "h": 5, "acct": "****************", "n": 123}
    assert out[1]["data"]["payload"] == {"card": "****************"}
    assert out[2]["data"]["payload"] == {"scrollHeight": 4111111111111111, "scrollWidth": 1280}  # the tracker's key


# -- 2b. URL authority: userinfo, host labels, 'name' is not a URL key -----------------------------

def _custom(tag, payload):
    return {"type": 5, "timestamp": 1, "data": {"tag": tag, "payload": payload}}


def test_rv_event_name_is_free_text():
    out = _body([_custom("rv.event", {"name": "//jane.doe@bank.com"}),
                 _custom("rv.event", {"name": "//4111 1111 1111 1111"}),
                 _custom("rv.event", {"name": "iban://DE89 3704 0044 0532 0130 00"})]).events
    assert [e["data"]["payload"]["name"] for e in out] == [
        "//*****************", "//*******************", "iban://***************************"]


def test_url_userinfo_masked_whole_and_host_labels_scanned():
    out = _body([_custom("rv.route", {"href": "https://jane.doe@bank.com@bank.example/profile"}),
                 _custom("rv.route", {"href": "https://jane:hunter2Secret@bank.example/x"}),
                 _custom("rv.route", {"href": "https://4111111111111111.cards.bank.example:8443/x"}),
                 _custom("rv.route", {"href": "http://127.0.0.1:8080/x"}),
                 _custom("rv.route", {"href": "//jane.doe@cdn.example/a"})]).events
    assert [e["data"]["payload"]["href"] for e in out] == [
        "https://*****************@bank.example/profile",
        "https://******************@bank.example/x",
        "https://****************.cards.bank.example:8443/x",
        "http://127.0.0.1:8080/x",
        "//********@cdn.example/a",
    ]


# -- 3. phone numbers glued to '/' in URL paths and fragment routes -------------------------------------

def test_phone_in_path_and_fragment_segments():
    out = _body([meta("https://bank.example/contacts/+442079460958/edit"),
                 _custom("rv.route", {"href": "https://bank.example/#/call/+44 20 7946 0958"}),
                 _custom("rv.route", {"href": "https://bank.example/contacts/+44-20-7946-0958"}),
                 _custom("rv.route", {"href": "https://bank.example/orders/20240101/items"})]).events
    assert out[0]["data"]["href"] == "https://bank.example/contacts/*************/edit"
    assert [e["data"]["payload"]["href"] for e in out[1:]] == [
        "https://bank.example/#/call/****************",
        "https://bank.example/contacts/****************",
        "https://bank.example/orders/20240101/items",
    ]
