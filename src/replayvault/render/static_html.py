"""A masked rrweb full snapshot written out as inert, static HTML for a sandboxed iframe.

The interactive heatmap view shows the page under a canvas overlay. Rebuilding the page with
rrweb in the browser needs scripts; this writer needs none: it turns the serialized node tree
(``rrweb-snapshot``: type 0 Document, 1 DocumentType, 2 Element, 3 Text, 4 CDATA, 5 Comment) into
HTML text that the browser lays out exactly as the recorded page, minus everything active.

Rules (each keeps the page inert even before the iframe sandbox and the frame's CSP apply):

* dropped elements: ``script``, ``noscript``, ``plaintext``, ``iframe``/``frame``/``object``/``embed`` (kept as an
  empty box of their recorded size), ``base``, ``meta http-equiv=refresh``, ``link`` other than a
  stylesheet that rrweb inlined (``_cssText`` -> ``<style>``); ``template`` contents;
* dropped attributes: event handlers (``on*``), ``srcdoc``, ``formaction``/``action``, ``ping``,
  ``http-equiv``, rrweb's bookkeeping (``rr_*``, ``_cssText``); URL attributes (``src``, ``href``,
  ``srcset``, ``poster``, ``data``, ``background``, ``xlink:href``) are kept only as ``data:image/``
  URLs — a heatmap view never loads anything from the recorded site;
* an element rrweb blocked (``rr_width``/``rr_height``) becomes an empty box of that size, as in a replay;
* text is HTML-escaped; CSS text inside ``<style>`` is written raw except that ``</`` is broken up
  so it cannot close the element;
* names that are not plain tag or attribute names (``[A-Za-z][A-Za-z0-9:._-]*``) are dropped.

Text should already be reduced to what many sessions share (:func:`replayvault.privacy.common_text.blank_unshared`).
"""

from __future__ import annotations

import html
import re
from typing import Any

__all__ = ["snapshot_html"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9:._-]*\Z")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_DROP = frozenset({"script", "noscript", "base", "template", "plaintext"})  # plaintext would swallow the rest
_BOXED = frozenset({"iframe", "frame", "object", "embed", "applet", "portal"})
_URL_ATTRS = frozenset({"src", "href", "srcset", "poster", "data", "background", "xlink:href", "action",
                        "formaction", "manifest", "codebase", "cite", "longdesc", "lowsrc", "dynsrc"})
_DROP_ATTRS = frozenset({"srcdoc", "ping", "http-equiv", "formaction", "action", "autofocus", "nonce",
                         "integrity"})
_SAFE_DATA = re.compile(r"\s*data:image/(png|gif|jpeg|webp|svg\+xml)[;,]", re.I)
#: Deepest nesting written; deeper subtrees are cut (a hostile snapshot must not exhaust the stack).
MAX_DEPTH = 400

Node = dict[str, Any]


def snapshot_html(node: Node) -> str:
    """Static HTML (``str``) of one serialized rrweb node tree, usually a FullSnapshot's ``data.node``.

    Raises:
        TypeError: ``node`` is not a dict.
    """
    if not isinstance(node, dict):
        raise TypeError("snapshot node must be a dict")
    out: list[str] = []
    _write(node, out, "", 0)
    text = "".join(out)
    return text if text.lstrip().lower().startswith("<!doctype") else "<!DOCTYPE html>" + text


def _size_box(attrs: dict[str, Any], tag: str) -> str:
    w = attrs.get("rr_width") or attrs.get("width")
    h = attrs.get("rr_height") or attrs.get("height")
    style = []
    for prop, val in (("width", w), ("height", h)):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)(px)?\s*", str(val)) if val is not None else None
        if m:
            style.append(f"{prop}:{m.group(1)}px")
    style.append("display:inline-block;background:#eee")
    cls = attrs.get("class")
    cls_attr = f' class="{html.escape(str(cls), quote=True)}"' if isinstance(cls, str) else ""
    return f'<div data-rv-placeholder="{html.escape(tag)}"{cls_attr} style="{";".join(style)}"></div>'


def _attrs(tag: str, attrs: dict[str, Any]) -> str:
    parts = []
    for name, value in attrs.items():
        low = str(name).lower()
        if not _NAME.match(str(name)) or low.startswith(("on", "rr_", "_")) or low in _DROP_ATTRS:
            continue
        if value is None or value is False:
            continue
        text = "" if value is True else str(value)
        if low in _URL_ATTRS and not (low in ("src", "href", "srcset", "xlink:href") and _SAFE_DATA.match(text)):
            continue
        if low == "style":
            text = re.sub(r"(?i)url\(\s*(['\"]?)(?!data:image/)[^)]*\)", "none", text)
        parts.append(f' {low}="{html.escape(text, quote=True)}"')
    return "".join(parts)


def _raw_css(css: str) -> str:
    """CSS for an HTML ``<style>`` (raw text): only ``</style`` could end it early, so it is broken up."""
    return re.sub(r"(?i)<(/?)(style)", r"<\\\1\2", css)


def _write(node: Node, out: list[str], parent_tag: str, depth: int, foreign: bool = False) -> None:
    if depth > MAX_DEPTH:
        return
    kind = node.get("type")
    if kind == 0:
        for child in node.get("childNodes") or []:
            if isinstance(child, dict):
                _write(child, out, "", depth + 1)
    elif kind == 1:
        out.append("<!DOCTYPE html>")
    elif kind == 3:
        if parent_tag not in _DROP:
            out.append(html.escape(str(node.get("textContent") or ""), quote=False))
    elif kind == 2:
        _element(node, out, depth, foreign)


def _element(node: Node, out: list[str], depth: int, foreign: bool = False) -> None:
    tag = str(node.get("tagName") or "").lower()
    attrs = node.get("attributes") if isinstance(node.get("attributes"), dict) else {}
    if not _NAME.match(tag) or tag in _DROP:
        return
    if tag in _BOXED or "rr_width" in attrs or "rr_height" in attrs:
        out.append(_size_box(attrs, tag))
        return
    if tag == "meta" and str(attrs.get("http-equiv", "")).lower() == "refresh":
        return
    if tag == "link":
        css = attrs.get("_cssText")
        if isinstance(css, str) and not foreign:
            out.append("<style>" + _raw_css(css) + "</style>")
        return
    out.append(f"<{tag}{_attrs(tag, attrs)}>")
    if tag in _VOID:
        return
    if tag == "style":
        # one string (a "</style>" split across text nodes must not survive the join); inside SVG or
        # MathML <style> is parsed as markup, so its text is escaped like any text
        css = attrs["_cssText"] if isinstance(attrs.get("_cssText"), str) else "".join(
            str(c.get("textContent") or "") for c in node.get("childNodes") or [] if isinstance(c, dict) and c.get("type") == 3)
        out.append(html.escape(css, quote=False) if foreign else _raw_css(css))
    else:
        inner = foreign or tag in ("svg", "math")
        for child in node.get("childNodes") or []:
            if isinstance(child, dict):
                _write(child, out, tag, depth + 1, inner)
    out.append(f"</{tag}>")
