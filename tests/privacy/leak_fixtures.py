"""Small rrweb fixtures, one per known leak class of browser-side masking (issue "Privacy engine").

Each fixture is ``(name, events, secret)``: rrweb 2.x events in which ``secret`` (personal data)
appears in a place browser-side masking is known to miss. After server-side masking the secret
must appear nowhere in the stored events. The events replay in rrweb-player (a browser test does).
"""

from __future__ import annotations

from typing import Any

from ._rr import add, el, full, input_ev, meta, mutation, tx

EMAIL = "jane.doe@mailbox.org"
CARD = "4111 1111 1111 1111"
SECRET_TEXT = "Jonas Weber secret note"


def _page(*body: dict[str, Any]) -> list[dict[str, Any]]:
    return [meta("https://bank.example/form"), full(*body)]


FIXTURES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("hidden input", _page(el(10, "input", {"type": "hidden", "name": "acct", "value": "DE-ACCT-7731"})),
     "DE-ACCT-7731"),
    ("textarea value set by script, carried by an attribute mutation",
     [*_page(el(10, "textarea", {"name": "msg"})),
      mutation(attributes=[{"id": 10, "attributes": {"value": SECRET_TEXT}}])], SECRET_TEXT),
    ("password field switched to text (show password)",
     [*_page(el(10, "input", {"type": "password", "name": "pw"})),
      mutation(attributes=[{"id": 10, "attributes": {"type": "text"}}]),
      input_ev(10, "Hunter2Hunter2!")], "Hunter2Hunter2!"),
    ("the default-selected option's text",
     _page(el(10, "select", {"name": "acct"}, el(11, "option", {"value": "a1", "selected": True},
                                                 tx(12, "Savings of Jonas Weber")))), "Savings of Jonas Weber"),
    ("placeholder, title, aria-label, alt and value attributes",
     _page(el(10, "input", {"placeholder": EMAIL}), el(11, "img", {"alt": f"card {CARD}"}),
           el(12, "span", {"title": EMAIL, "aria-label": EMAIL}), el(13, "button", {"value": EMAIL})), EMAIL),
    ("a textarea's child text node", _page(el(10, "textarea", {}, tx(11, SECRET_TEXT))), SECRET_TEXT),
    ("a mask marker on a shadow host covers its shadow root",
     _page(el(10, "div", {"class": "rr-mask"}, {**el(11, "p", {}, tx(12, SECRET_TEXT)), "isShadow": True}),
           ), SECRET_TEXT),
    ("iframe srcdoc", _page(el(10, "iframe", {"srcdoc": f"<p>{SECRET_TEXT}</p>"})), SECRET_TEXT),
    ("canvas mutations", [*_page(el(10, "canvas", {"rr_dataurl": "data:image/png;base64,U0VDUkVUU0VDUkVU"})),
                          {"type": 3, "timestamp": 3000, "data": {"source": 9, "id": 10, "type": 0, "commands": [
                              {"property": "fillText", "args": [SECRET_TEXT, 10, 10]}]}}], SECRET_TEXT),
    ("URL path segments and query values",
     [meta(f"https://bank.example/customers/{EMAIL}/statements?owner={EMAIL}"), full(
         el(10, "a", {"href": f"/profile?email={EMAIL}"}, tx(11, "profile")))], EMAIL),
    ("contenteditable", _page(el(10, "div", {"contenteditable": "true"}, tx(11, f"Reply to {EMAIL}"))), EMAIL),
    ("text split across nodes", _page(el(10, "p", {}, el(11, "b", {}, tx(12, "jane.doe")), tx(13, "@mailbox.org"))),
     EMAIL),
    ("a second full snapshot taken after typing",
     [*_page(el(10, "input", {"type": "text", "name": "iban"})), input_ev(10, "**********"),
      full(el(10, "input", {"type": "text", "name": "iban", "value": "DE89370400440532013000"}), ts=5000)],
     "DE89370400440532013000"),
]

NETWORK = {"type": 6, "timestamp": 4000, "data": {"plugin": "rrweb/network@1", "payload": {"requests": [{
    "name": "https://bank.example/api/profile?session=abc123",
    "method": "POST",
    "requestHeaders": {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2ln", "X-Api-Key": "k-7731-secret",
                       "Content-Type": "application/json"},
    "responseHeaders": {"Set-Cookie": "sid=Zz9Xq771KwQp; HttpOnly"},
    "requestBody": '{"email": "' + EMAIL + '", "password": "Hunter2Hunter2!", "amount": "12.00"}',
    "responseBody": "owner=" + EMAIL.replace("@", "%40") + "&iban=DE89370400440532013000",
}]}}}

FIXTURES += [
    ("network plugin headers and bodies", [*_page(el(10, "p", {}, tx(11, "hi"))), NETWORK], "Hunter2Hunter2!"),
    ("network plugin credential headers", [*_page(el(10, "p", {}, tx(11, "hi"))), NETWORK], "Zz9Xq771KwQp"),
    ("CSS content in a stylesheet rule",
     [*_page(el(10, "p", {}, tx(11, "hi"))),
      {"type": 3, "timestamp": 4000, "data": {"source": 8, "id": 1, "adds": [
          {"rule": f"p.owner::after {{ content: '{EMAIL}'; }}", "index": 0}]}}], EMAIL),
]

# Classes closed after the second attack review (see test_leak_gaps.py for exact outputs).
FIXTURES += [
    ("rr-mask added later by a class change",
     [*_page(el(10, "p", {}, tx(11, "Balance"))), mutation(attributes=[{"id": 10, "attributes": {"class": "rr-mask"}}]),
      mutation(texts=[{"id": 11, "value": SECRET_TEXT}], ts=2100)], SECRET_TEXT),
    ("rr-block added later by a class change",
     [*_page(el(10, "div", {}, tx(11, "Chat"))), mutation(attributes=[{"id": 10, "attributes": {"class": "rr-block"}}]),
      mutation(texts=[{"id": 11, "value": SECRET_TEXT}], adds=[add(10, tx(12, SECRET_TEXT))], ts=2100)], SECRET_TEXT),
    ("content under rr-block sent by the browser", _page(el(10, "div", {"class": "rr-block"}, tx(11, SECRET_TEXT))),
     SECRET_TEXT),
    ("text typed into a contenteditable element",
     [*_page(el(10, "div", {"contenteditable": "true"}, tx(11, ""))), mutation(texts=[{"id": 11, "value": SECRET_TEXT}])],
     SECRET_TEXT),
    ("a value split across two mutations",
     [*_page(el(10, "p", {})), mutation(adds=[add(10, tx(11, "jane.doe"))]),
      mutation(adds=[add(10, tx(12, "@mailbox.org"))], ts=2100)], EMAIL),
    ("a card number over a line break and an invisible character",
     _page(el(10, "p", {}, tx(11, "4111 1111\n    1111\u200b 1111"))), CARD),
    ("a meta refresh URL and a CSS url() query",
     _page(el(10, "meta", {"http-equiv": "refresh", "content": "30;url=/next?session=Zz9Xq771KwQp"}),
           el(11, "div", {"style": "background:url('/bg.png?session=Zz9Xq771KwQp')"})), "Zz9Xq771KwQp"),
    ("strings of other events (interaction, font)",
     [*_page(el(10, "p", {}, tx(11, "hi"))),
      {"type": 3, "timestamp": 3000, "data": {"source": 2, "type": 2, "id": 10, "x": 1, "y": 1, "label": EMAIL}},
      {"type": 3, "timestamp": 3100, "data": {"source": 10, "family": EMAIL, "fontSource": "/f.woff", "buffer": False}}],
     EMAIL),
    ("a checkbox value set before the box becomes a text field",
     [*_page(el(10, "input", {"type": "checkbox"})),
      mutation(attributes=[{"id": 10, "attributes": {"value": SECRET_TEXT}}, {"id": 10, "attributes": {"type": "text"}}])],
     SECRET_TEXT),
]
