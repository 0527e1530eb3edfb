"""The helpers behind the masking rules: visible text, the residual prefilter, CSS, selectors, the node map."""

from __future__ import annotations

import pytest

from replayvault.privacy.css import mask_css
from replayvault.privacy.detectors import REGISTRY
from replayvault.privacy.policy import Selector
from replayvault.privacy.residual import walk, worth_scanning
from replayvault.privacy.state import MaskState
from replayvault.privacy.visible import find, visible_text


# -- visible text -------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "view"), [
    ("plain text", "plain text"),
    ("a\n    b", "a b"),
    ("a  \t b", "a b"),
    ("x\u200by\u00adz", "xyz"),
    ("a \u200b b", "a b"),
    ("a\u00a0b", "a b"),
])
def test_visible_text(text, view):
    assert visible_text(text)[0] == view


@pytest.mark.parametrize(("text", "spans"), [
    ("Card 4111 1111\n    1111 1111 ok", [("card", 5, 28)]),
    ("x jane.doe@\u200bmailbox.org y", [("email", 2, 23)]),
    ("to jürgen@bänk.de", [("email", 3, 17)]),
    ("to jane@mailbox.рф!", [("email", 3, 18)]),
    ("to jane.doe\ufe6bmailbox.org", [("email", 3, 23)]),
    ("no findings\n\n here", []),
])
def test_find_maps_offsets_back_to_the_original_text(text, spans):
    assert [(f.kind, f.start, f.end) for f in find(text, REGISTRY)] == spans


def test_idn_email_needs_the_email_detector():
    assert find("to jürgen@bänk.de", [d for d in REGISTRY if d.name == "card"]) == []


# -- residual prefilter ------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "scanned"), [
    ("div", False),
    ("data-testid", False),
    ("a@b.co", True),  # the shortest e-mail
    ("a@b.c", False),  # shorter than any finding
    ("abc123", True),
    ("fe80::abcd", True),
    ("Ref ٤١١١", True),  # Arabic-Indic digits
    ("xoxb-abcdefghij", True),  # a 15-character key run without digits
    ("xoxb-abcdefghi", False),
    ("BIC DEUTDEFF", True),
    ("abandon " * 11 + "about", True),  # 12 words
    ("abandon " * 10 + "about", False),
    ("data:image/png;base64," + "QUJD" * 10 + "1", False),
    ("x" * 2001, True),
])
def test_worth_scanning(value, scanned):
    assert worth_scanning(value) is scanned


def test_walk_fixes_values_and_keys_and_skips_handled_keys_and_binary():
    obj = {"keep": "jane@x.com", "v": ["jane@x.com", 5, {"jane@x.com": 1}], "n": 4111111111111111,
           "arg": {"rr_type": "ArrayBuffer", "base64": "jane@x.com"}}
    walk(obj, lambda s: s.replace("jane@x.com", "*" * 10), lambda n: "#" if n == 4111111111111111 else None,
         skip=frozenset({"keep"}))
    assert obj == {"keep": "jane@x.com", "v": ["*" * 10, 5, {"*" * 10: 1}], "n": "#",
                   "arg": {"rr_type": "ArrayBuffer", "base64": "jane@x.com"}}


# -- CSS ----------------------------------------------------------------------------------------
def _star_urls(url: str) -> str:
    base, _, query = url.partition("?")
    return f"{base}?{'*' * len(query)}" if query else url


@pytest.mark.parametrize(("css", "expected"), [
    ("a{content:'jane@x.com'}", "a{content:'**********'}"),
    ("a{background:url(/i.png?u=1)}", "a{background:url(/i.png?***)}"),
    ("a{background:URL( \"/i.png?u=1\" )}", "a{background:URL( \"/i.png?***\" )}"),
    ("@import '/a.css?t=9';", "@import '/a.css?***';"),
    ("a{background:url('data:image/svg+xml,<text>jane@x.com</text>?x')}",
     "a{background:url('data:image/svg+xml,<text>jane@x.com</text>?x')}"),
    ("a{margin:0 .828-.062 1.204}", "a{margin:0 .828-.062 1.204}"),
    ("a{--who: jane@x.com}", "a{--who: **********}"),
])
def test_mask_css(css, expected):
    assert mask_css(css, lambda t: t.replace("jane@x.com", "*" * 10), _star_urls) == expected


# -- selectors after an attribute change ---------------------------------------------------------
@pytest.mark.parametrize(("sel", "tag", "changed", "hit"), [
    (".balance", "td", {"class": "a balance"}, True),
    (".balance", "td", {"class": "a"}, False),
    (".balance", "td", {"title": "x"}, False),  # nothing the selector looks at changed
    ("td.balance", "p", {"class": "balance"}, False),
    ("td.balance[data-col=x]", "td", {"class": "balance"}, True),  # data-col unknown: assumed to match
    ("td.balance[data-col=x]", "td", {"class": "balance", "data-col": "y"}, False),
    ("[data-private]", "div", {"data-private": ""}, True),
    ("[data-private]", "div", {"data-private": None}, False),
    ("#name", "h1", {"id": "name"}, True),
])
def test_selector_matches_change(sel, tag, changed, hit):
    assert Selector.parse(sel).matches_change(tag, changed) is hit


# -- node map ---------------------------------------------------------------------------------------
def test_place_and_forget_keep_sibling_order():
    state = MaskState()
    for nid in (11, 12, 13):
        state.put(nid, "#text", None, 10, 0)
    state.put(14, "b", None, 10, 0)
    state.place(14, before=12)
    assert state.children(10) == [11, 14, 12, 13]
    state.put(15, "#text", None, 10, 0)
    state.place(15, after=11)  # previousId of older rrweb
    assert state.children(10) == [11, 15, 14, 12, 13]
    state.put(16, "#text", None, 14, 0)
    assert list(state.descendants(10)) == [11, 15, 14, 16, 12, 13]
    state.forget(14)
    assert state.children(10) == [11, 15, 12, 13] and 16 not in state
