"""Strip active content from recorded DOM: scripts, ``on*`` handlers, ``javascript:`` URLs, ``srcdoc``,
the ``href`` of resource-hint links (prefetch, preconnect...), which fetch without rendering, and
``http-equiv="refresh"`` of ``<meta>`` (a replayed page would navigate; the ``content`` with the
target URL, its query scrubbed, stays in the record).

The replayer never needs them, and a stored handler or script would run in the browser of
whoever watches the replay (stored XSS against compliance staff). Counting kinds:
``script``, ``event_handler``, ``javascript_url``, ``srcdoc``, ``resource_hint``, ``meta_refresh``.
"""

from __future__ import annotations

import re

__all__ = [
    "JAVASCRIPT_URL_ATTRIBUTES",
    "RESOURCE_HINTS",
    "is_resource_hint",
    "SAFE_URL",
    "is_event_handler",
    "is_javascript_url",
    "is_refresh",
    "script_placeholder",
]

#: Attributes checked for ``javascript:`` URLs (lower case).
JAVASCRIPT_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "cite", "background", "ping", "data", "longdesc"}
)
#: ``<link rel>`` values that make a browser fetch or connect without rendering anything
#: (https://html.spec.whatwg.org/multipage/links.html#linkTypes); such links lose their ``href``.
RESOURCE_HINTS = frozenset({"prefetch", "preconnect", "dns-prefetch", "preload", "modulepreload", "prerender"})
#: What a ``javascript:`` URL is replaced with.
SAFE_URL = "#"
#: Attributes removed wherever they appear (lower case).
REMOVED_ATTRIBUTES = frozenset({"srcdoc"})

# Browsers strip leading/trailing C0 controls and spaces from URLs and drop tab/CR/LF anywhere.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile(r"[\t\n\r]")


def is_event_handler(name: str) -> bool:
    """True for ``on*`` attribute names (``onclick``, ``ONERROR``...)."""
    return name[:2].lower() == "on"


def is_javascript_url(value: str) -> bool:
    """True when a browser would treat ``value`` as a ``javascript:`` URL.

    Case-insensitive; ignores leading whitespace and control characters and tab/newline
    characters inside the scheme (``" \\x01JaVa\\tScRiPt:alert(1)"``). HTML entities are decoded
    before rrweb records the attribute, so they need no handling here.
    """
    head = _TAB_NEWLINE.sub("", value.lstrip(_C0_AND_SPACE)[:32])
    return head[:11].lower() == "javascript:"


def is_refresh(name: str, value: object) -> bool:
    """True for ``http-equiv="refresh"`` (any case, surrounding spaces): the meta's content redirects."""
    return name == "http-equiv" and isinstance(value, str) and value.strip().lower() == "refresh"


def is_resource_hint(rel: object) -> bool:
    """True when a ``<link rel>`` value names a resource hint (prefetch, preconnect, ...)."""
    return isinstance(rel, str) and any(t in RESOURCE_HINTS for t in rel.lower().split())


def script_placeholder(node_id: object) -> dict[str, object]:
    """An inert serialized node that takes a removed script's place and id.

    rrweb mutations name siblings by id (``nextId``); keeping the id on an empty comment means
    later insertions before the removed script still find their anchor during replay.
    """
    return {"type": 5, "id": node_id, "textContent": ""}
