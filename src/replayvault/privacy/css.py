"""CSS in recorded events: which parts are page text, which are URLs, which are neither.

CSS reaches the recording as ``<style>`` text (``isStyle`` text nodes), rrweb's inlined stylesheet
text (``_cssText``), ``style`` attributes and StyleSheetRule / StyleDeclaration / AdoptedStyleSheet
events. Only three parts of it can carry personal data:

1. quoted strings (``content: "jane@bank.com"``) and custom property values (``--user: …``):
   page text, so they go to the detectors;
2. URLs in ``url(…)`` and ``@import "…"`` (CSS Values 4 §4.5, CSS Cascade 4 §2): a request to
   the site, so their query values are scrubbed like any URL (:mod:`.urls`); ``data:`` URIs are
   inline resources, not requests, and are kept;
3. nothing else: numbers, selectors, property names and SVG path data in data URIs are not page
   text, and detectors there would only corrupt the style (a path ``.828-.062 1.204`` is no phone).
"""

from __future__ import annotations

import re
from typing import Callable

__all__ = ["mask_css"]

#: A quoted CSS string.
_CSS_STRING = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'""")
#: What precedes a string that is the argument of ``url(`` (searched just before the string:
#: an optional prefix group in ``_CSS_STRING`` made every position a match attempt, 4x slower).
_URL_BEFORE = re.compile(r"url\(\s*\Z", re.IGNORECASE)
#: The value of a CSS custom property (``--user: …``), which may hold any text.
_CSS_CUSTOM_PROPERTY = re.compile(r"--[\w-]+\s*:\s*([^;}\n]+)")
#: ``url(…)``: the URL is group 1 (double-quoted), 2 (single-quoted) or 3 (unquoted).
_CSS_URL = re.compile(r"""url\(\s*(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|([^)"'\s]*))\s*\)""", re.IGNORECASE)
#: ``@import "…"`` without ``url(``: the URL is group 1 or 2.
#: A CSS escape: up to 6 hex digits and one optional whitespace, or any other escaped character.
_CSS_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{1,6})\s?|(.))", re.DOTALL)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)')""", re.IGNORECASE)


def _url_spans(value: str) -> list[tuple[int, int]]:
    """Spans of the URLs in ``url(…)`` and ``@import "…"`` that may carry a query (not ``data:``)."""
    spans = []
    matches = [*_CSS_URL.finditer(value)] if "rl(" in value or "RL(" in value else []
    if "@" in value:
        matches += _CSS_IMPORT.finditer(value)
    for m in matches:
        group = next(g for g in range(1, (m.re.groups or 0) + 1) if m.group(g) is not None)
        url = m.group(group)
        if url[:5].lower() != "data:" and ("?" in url or "#" in url or "@" in url):
            spans.append(m.span(group))
    return spans


def _unescape_char(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return m.group(2)
    code = int(m.group(1), 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def _escaped(detect: Callable[[str], str]) -> Callable[[str], str]:
    """``detect`` for the inside of a CSS string, reading CSS escapes (CSS Syntax 3 §4.3.7:
    ``jane\\40 bank.com`` is ``jane@bank.com``): when the unescaped text holds a finding, the whole
    string is masked (escapes make the offsets differ)."""
    def fix(inner: str) -> str:
        if "\\" in inner:
            plain = _CSS_ESCAPE.sub(_unescape_char, inner)
            if detect(plain) != plain:
                return "*" * len(inner)
        return detect(inner)
    return fix


def mask_css(value: str, detect: Callable[[str], str], scrub_url: Callable[[str], str]) -> str:
    """``value`` (CSS) with detector findings masked in its strings and custom property values
    (``detect(text) -> masked text``) and query values scrubbed in its URLs (``scrub_url(url) ->
    scrubbed url``); both callbacks keep the length, and so does the result."""
    has_text = "'" in value or '"' in value or "--" in value
    urls = _url_spans(value) if "(" in value or "@" in value else []
    if not has_text and not urls:
        return value
    edits: list[tuple[int, int, Callable[[str], str]]] = [(s, e, scrub_url) for s, e in urls]
    if has_text:
        strings = _escaped(detect)
        for m in _CSS_STRING.finditer(value):  # not url("…") arguments, not data URIs
            start, end = m.span()
            if value[start + 1:start + 6].lower() != "data:" and not _URL_BEFORE.search(value, max(0, start - 64), start):
                edits.append((start + 1, end - 1, strings))
        edits += [(m.start(1), m.end(1), detect) for m in _CSS_CUSTOM_PROPERTY.finditer(value)]  # --name: any text
    parts, pos = [], 0
    for start, end, fix in sorted(edits, key=lambda e: (e[0], -e[1])):
        if start < pos:
            continue  # inside an earlier edit (a string in a custom property, an @import string)
        inner = value[start:end]
        masked = fix(inner)
        if masked != inner:
            parts += [value[pos:start], masked]
            pos = end
    return "".join(parts) + value[pos:] if parts else value
