"""The static writer of masked snapshots used by the interactive heatmap view: inert, exact HTML."""

from __future__ import annotations

import pytest

from replayvault.render.static_html import MAX_DEPTH, snapshot_html


def el(tag, attrs=None, *children, nid=1):
    return {"type": 2, "tagName": tag, "attributes": attrs or {}, "childNodes": list(children), "id": nid}


def text(t, nid=9):
    return {"type": 3, "textContent": t, "id": nid}


def doc(*children):
    return {"type": 0, "childNodes": [{"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 0}, *children]}


def test_plain_page_is_written_exactly():
    node = doc(el("html", {"lang": "en"}, el("head", {}, el("style", {}, text("body{margin:0}"))),
                  el("body", {"class": "x"}, el("p", {"title": "a&b"}, text("1 < 2 & 3")), el("br"))))
    assert snapshot_html(node) == (
        '<!DOCTYPE html><html lang="en"><head><style>body{margin:0}</style></head>'
        '<body class="x"><p title="a&amp;b">1 &lt; 2 &amp; 3</p><br></body></html>')


def test_active_content_is_dropped():
    node = doc(el("html", {}, el("body", {"onload": "steal()"},
        el("script", {"src": "https://evil.example/x.js"}, text("alert(1)")),
        el("a", {"href": "https://bank.example/account?iban=DE89", "onclick": "x()"}, text("Account")),
        el("img", {"src": "https://tracker.example/p.gif", "alt": "logo"}),
        el("img", {"src": "data:image/png;base64,iVBOR", "alt": "ok"}),
        el("iframe", {"srcdoc": "<script>x</script>", "width": "300", "height": "150"}),
        el("meta", {"http-equiv": "refresh", "content": "0;url=https://evil.example"}),
        el("form", {"action": "https://evil.example/post"}, el("input", {"value": "***", "formaction": "x"})),
        el("div", {"style": "background:url(https://evil.example/bg.png) red"}))))
    assert snapshot_html(node) == (
        '<!DOCTYPE html><html><body><a>Account</a><img alt="logo">'
        '<img src="data:image/png;base64,iVBOR" alt="ok">'
        '<div data-rv-placeholder="iframe" style="width:300px;height:150px;display:inline-block;background:#eee"></div>'
        '<form><input value="***"></form><div style="background:none red"></div></body></html>')


def test_style_text_cannot_close_its_element_and_inlined_css_is_kept():
    node = doc(el("html", {}, el("head", {},
        el("style", {}, text("a{}</style><script>alert(1)</script>")),
        el("link", {"rel": "stylesheet", "href": "https://cdn.example/a.css", "_cssText": ".b{color:red}"}),
        el("link", {"rel": "preload", "href": "https://cdn.example/font.woff2"}))))
    # Only "</style" could end the element early; the rest stays CSS text, never parsed as HTML.
    assert snapshot_html(node) == (
        '<!DOCTYPE html><html><head><style>a{}<\\/style><script>alert(1)</script></style>'
        '<style>.b{color:red}</style></head></html>')


def test_blocked_element_becomes_a_box_of_its_recorded_size():
    node = el("div", {"class": "rr-block", "rr_width": "120px", "rr_height": "40.5px"})
    assert snapshot_html(node) == ('<!DOCTYPE html><div data-rv-placeholder="div" class="rr-block" '
                                   'style="width:120px;height:40.5px;display:inline-block;background:#eee"></div>')


def test_bad_names_and_deep_trees_are_cut():
    node = el("div", {"x onmouseover=alert(1)": "1", "data-ok": "y"}, el("<svg/onload=x>", {}))
    assert snapshot_html(node) == '<!DOCTYPE html><div data-ok="y"></div>'
    deep = text("bottom")
    for _ in range(MAX_DEPTH + 10):
        deep = el("div", {}, deep)
    assert snapshot_html(deep).count("<div>") == MAX_DEPTH + 1
    assert "bottom" not in snapshot_html(deep)
    with pytest.raises(TypeError):
        snapshot_html([])  # type: ignore[arg-type]


def test_style_inside_svg_is_escaped_and_split_style_text_is_joined():
    svg = el("svg", {}, el("style", {}, text("<h1>Jane</h1><a href=x>")))
    split = el("style", {}, text("a{}</sty"), text("le><h1>x</h1>"))
    assert snapshot_html(el("div", {}, svg, split)) == (
        '<!DOCTYPE html><div><svg><style>&lt;h1&gt;Jane&lt;/h1&gt;&lt;a href=x&gt;</style></svg>'
        '<style>a{}<\\/style><h1>x</h1></style></div>')
