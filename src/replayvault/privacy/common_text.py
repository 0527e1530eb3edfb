"""Page text that many sessions share: the only text a heatmap backdrop may show.

A heatmap is an aggregate, open to roles that may not read recordings. Its backdrop is rebuilt
from one session's masked full snapshot, and the page text a site forgot to mark ``rr-mask``
(a greeting with the customer's name, a balance) would otherwise show one customer's data. The rule
here is k-anonymity on text: a text node (or a ``title``/``alt``/``aria-label``/``placeholder``/
``value`` attribute) is kept only when at least ``k`` different sessions showed exactly the same
text on that page; every other character except whitespace becomes ``*``. Template text —
navigation, labels, button captions — is shared by every visitor and survives; what differs
between customers does not. With fewer than ``k`` sessions, no text survives.

Node shapes are rrweb's serialized nodes (``rrweb-snapshot``: type 0 Document, 2 Element, 3 Text).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any, Iterator

__all__ = ["TEXT_ATTRIBUTES", "LAYOUT_ATTRIBUTES", "texts", "shared_texts", "blank_unshared"]

#: Attributes whose values are page text a person reads.
TEXT_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder", "value")
#: Attributes kept as recorded: layout and rendering only (SVG geometry included). Every other
#: attribute (``data-*``, ``aria-description``, ``name``, ``content``, ``datetime``, ``label``, ...)
#: can carry a customer's data and is dropped from backdrops; ``id`` and ``class`` tokens are kept
#: only when shared like text.
LAYOUT_ATTRIBUTES = frozenset("""
    style type width height colspan rowspan span cols rows size role dir lang hidden disabled checked
    selected readonly multiple open src href srcset rel media sizes loading align valign border
    cellpadding cellspacing bgcolor color face start reversed wrap
    viewbox d fill stroke stroke-width stroke-linecap stroke-linejoin fill-rule clip-rule points cx cy r rx ry
    x y x1 x2 y1 y2 dx dy transform xmlns xmlns:xlink preserveaspectratio opacity fill-opacity stroke-opacity
    offset stop-color stop-opacity gradientunits gradienttransform font-size font-family font-weight
    text-anchor dominant-baseline version focusable
    rr_width rr_height _csstext rr_scrolltop rr_scrollleft rr_mediastate rr_mediacurrenttime
""".split())
_CODE_PARENTS = {"style", "script", "noscript"}  # CSS is not page text: kept when shared, else scrubbed
#: Deepest nesting copied; deeper subtrees are cut (a hostile snapshot must not exhaust the stack).
MAX_DEPTH = 400
_CSS_STRING = re.compile(r"""(?is)\bcontent\s*:\s*[^;}]*|attr\s*\([^)]*\)|url\(\s*['"]?\s*data:image/svg[^)]*\)""")

Node = dict[str, Any]


def _norm(text: str) -> str:
    return " ".join(text.split())


def _css_key(css: str) -> str:
    return "css:" + hashlib.sha256(css.encode("utf-8", "surrogatepass")).hexdigest()


def _walk(node: Node, parent_tag: str = "") -> Iterator[tuple[Node, str]]:
    """Every node with its parent's tag, depth first, without recursion (at most :data:`MAX_DEPTH` deep)."""
    stack: list[tuple[Node, str, int]] = [(node, parent_tag, 0)]
    while stack:
        n, parent, depth = stack.pop()
        yield n, parent
        if depth >= MAX_DEPTH:
            continue
        tag = str(n.get("tagName", "")).lower() if n.get("type") == 2 else parent
        children = n.get("childNodes")
        if isinstance(children, list):
            stack.extend((c, tag, depth + 1) for c in reversed(children) if isinstance(c, dict))


def _tokens(attrs: dict[str, Any]) -> set[str]:
    out = set()
    if isinstance(attrs.get("id"), str) and attrs["id"].strip():
        out.add("#" + attrs["id"].strip())
    if isinstance(attrs.get("class"), str):
        out.update("." + c for c in attrs["class"].split())
    return out


def texts(node: Node) -> set[str]:
    """Normalized texts of a snapshot: text nodes, :data:`TEXT_ATTRIBUTES` values, ``#id`` and
    ``.class`` tokens, and digests of CSS texts (``css:`` + SHA-256)."""
    out: set[str] = set()
    for n, parent in _walk(node):
        if n.get("type") == 3 and isinstance(n.get("textContent"), str):
            if parent in _CODE_PARENTS:
                out.add(_css_key(n["textContent"]))
            else:
                out.add(_norm(n["textContent"]))
        elif n.get("type") == 2:
            attrs = n.get("attributes") if isinstance(n.get("attributes"), dict) else {}
            out.update(_norm(attrs[a]) for a in TEXT_ATTRIBUTES if isinstance(attrs.get(a), str))
            out.update(_tokens(attrs))
            for a in ("_cssText", "style"):
                if isinstance(attrs.get(a), str):
                    out.add(_css_key(attrs[a]))
    out.discard("")
    return out


def shared_texts(per_session: list[set[str]], k: int) -> set[str]:
    """Texts that at least ``k`` of the sessions' text sets contain (empty when fewer than ``k`` sessions)."""
    if len(per_session) < k:
        return set()
    counts = Counter(t for s in per_session for t in s)
    return {t for t, n in counts.items() if n >= k}


def _star(text: str) -> str:
    return "".join(c if c.isspace() else "*" for c in text)


def _scrub_css(css: str, keep: set[str]) -> str:
    """An inline ``style`` as recorded when shared; otherwise without ``content:`` values, ``attr()``
    and SVG data images (a declaration list has nowhere else to put text)."""
    return css if _css_key(css) in keep else _CSS_STRING.sub(lambda m: "content:none" if m.group(0)[:1].lower() == "c" else "none", css)


def _sheet(css: str, keep: set[str]) -> str:
    """A style sheet (``<style>`` text, an inlined ``_cssText``) only when ``k`` sessions had exactly
    the same one, else nothing: arbitrary text fits in a sheet, so an unshared one cannot be cleaned."""
    return css if _css_key(css) in keep else ""


def _copy(node: Node) -> Node:
    """Deep copy of a serialized node tree without recursion (at most :data:`MAX_DEPTH` deep)."""
    root: Node = {}
    stack: list[tuple[Node, Node, int]] = [(node, root, 0)]
    while stack:
        src, dst, depth = stack.pop()
        for key, value in src.items():
            if key == "childNodes":
                continue
            dst[key] = dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value
        children = src.get("childNodes")
        if isinstance(children, list) and depth < MAX_DEPTH:
            dst["childNodes"] = []
            for child in children:
                if isinstance(child, dict):
                    copy_child: Node = {}
                    dst["childNodes"].append(copy_child)
                    stack.append((child, copy_child, depth + 1))
        elif "childNodes" in src:
            dst["childNodes"] = []
    return root


def blank_unshared(node: Node, keep: set[str]) -> Node:
    """A copy of the snapshot ``node`` with only what ``keep`` (from :func:`shared_texts`) allows.

    Text not in ``keep`` becomes ``*`` (same length, spaces kept); so do :data:`TEXT_ATTRIBUTES`
    values, ``id`` values and ``class`` tokens that are not shared; attributes outside
    :data:`LAYOUT_ATTRIBUTES` are dropped; ``src``/``href`` pointing at an SVG ``data:`` image are
    dropped (an SVG image can hold text); a style sheet that is not shared is emptied, an inline
    style that is not shared loses its ``content:`` values, ``attr()`` and SVG data images. Nodes
    deeper than :data:`MAX_DEPTH` are cut.
    """
    out = _copy(node)
    for n, parent in _walk(out):
        if n.get("type") == 3 and isinstance(n.get("textContent"), str):
            text = n["textContent"]
            if parent in _CODE_PARENTS:
                n["textContent"] = _sheet(text, keep)
            elif _norm(text) and _norm(text) not in keep:
                n["textContent"] = _star(text)
        elif n.get("type") == 2:
            attrs = n.get("attributes") if isinstance(n.get("attributes"), dict) else {}
            clean: dict[str, Any] = {}
            for name, value in attrs.items():
                low = str(name).lower()
                if low in TEXT_ATTRIBUTES:
                    clean[name] = _star(value) if isinstance(value, str) and _norm(value) and _norm(value) not in keep \
                        else value
                elif low == "id" and isinstance(value, str):
                    clean[name] = value if "#" + value.strip() in keep or not value.strip() else _star(value)
                elif low == "class" and isinstance(value, str):
                    clean[name] = " ".join(c if "." + c in keep else _star(c) for c in value.split())
                elif low == "_csstext" and isinstance(value, str):
                    clean[name] = _sheet(value, keep)
                elif low == "style" and isinstance(value, str):
                    clean[name] = _scrub_css(value, keep)
                elif low in ("src", "href", "srcset") and isinstance(value, str) and "data:image/svg" in value.lower():
                    continue
                elif low in LAYOUT_ATTRIBUTES:
                    clean[name] = value
            n["attributes"] = clean
    return out
