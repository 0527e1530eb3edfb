"""Detection on text as a reader sees it; every finding's offsets point into the original text.

The detectors (:mod:`.detectors`) read characters one for one. Pages put things between the
characters that a reader never sees, and :func:`find` removes them first:

1. Invisible format characters are dropped: soft hyphen U+00AD, zero-width space, non-joiner
   and joiner U+200B-U+200D, the bidi marks U+200E/U+200F and embeddings U+202A-U+202E, word
   joiner and invisible operators U+2060-U+2064, bidi isolates U+2066-U+2069 and the BOM U+FEFF
   (Unicode category Cf). ``jane.doe@\\u200bmailbox.org`` is read as ``jane.doe@mailbox.org``.
2. A run of whitespace that holds a line break, a tab or more than one character becomes one
   space, as HTML renders it (CSS ``white-space: normal``): ``4111 1111\\n    1111 1111`` is read
   as ``4111 1111 1111 1111``.
3. E-mail addresses with non-ASCII letters (IDN domains and local parts, RFC 6531/6532:
   ``jürgen@bänk.de``; homoglyphs such as a Cyrillic ``а``; the small commercial at ``﹫``): the
   e-mail detector runs once more on a copy where every non-ASCII letter or digit stands in as
   ``a`` and ``﹫`` as ``@`` (one character for one, so offsets hold). Punycode
   (``xn--bnk-sna.de``) is ASCII and needs nothing.

Findings are mapped back to the original text: a finding covers every original character from
the first to the last one it was read from, including the dropped characters and collapsed
whitespace between them, so masking the span leaves nothing of the value behind.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from typing import Sequence

from .detectors import DETECTORS, Detector, Finding, find_all

__all__ = ["INVISIBLE", "find", "visible_text"]

#: Invisible format characters dropped before detection (rule 1), as a regex character class body.
INVISIBLE = "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
#: What makes the visible text differ from the original: an invisible character, a whitespace
#: character other than a plain space, or two whitespace characters in a row (rules 1 and 2).
_CHANGED = re.compile(rf"[\s{INVISIBLE}]{{2,}}|[{INVISIBLE}]|[^\S ]")
_SPACE = re.compile(r"\s")
#: A non-ASCII letter or digit (rule 3).
_NON_ASCII_WORD = re.compile(r"(?![\x00-\x7f])\w")


def visible_text(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` after rules 1 and 2, and the offset map back.

    Returns ``(view, view_starts, orig_starts)``: the view is made of pieces, piece ``i`` starts at
    ``view_starts[i]`` in the view and at ``orig_starts[i]`` in ``text``; a piece is either copied
    text or one space standing for a collapsed whitespace run.
    """
    pieces: list[str] = []
    view_starts: list[int] = []
    orig_starts: list[int] = []
    pos = vlen = 0
    for m in _CHANGED.finditer(text):
        start, end = m.span()
        if start > pos:
            pieces.append(text[pos:start])
            view_starts.append(vlen)
            orig_starts.append(pos)
            vlen += start - pos
        if _SPACE.search(m.group()):
            pieces.append(" ")
            view_starts.append(vlen)
            orig_starts.append(start)
            vlen += 1
        pos = end
    if pos < len(text):
        pieces.append(text[pos:])
        view_starts.append(vlen)
        orig_starts.append(pos)
    return "".join(pieces), view_starts, orig_starts


def _orig(offset: int, view_starts: list[int], orig_starts: list[int]) -> int:
    i = bisect.bisect_right(view_starts, offset) - 1
    return orig_starts[i] + (offset - view_starts[i])


def _idn_emails(text: str, detectors: Sequence[Detector]) -> list[Finding]:
    """Rule 3: e-mail findings in ``text`` with non-ASCII letters standing in as ``a`` (and the
    small commercial at U+FE6B as ``@``; the detectors fold the fullwidth U+FF20 themselves)."""
    if text.isascii() or ("@" not in text and "\uff20" not in text and "\ufe6b" not in text):
        return []
    email = tuple(d for d in detectors if d.name == "email")
    if not email:
        return []
    return find_all(_NON_ASCII_WORD.sub("a", text).replace("\ufe6b", "@"), email)


def find(text: str, detectors: Sequence[Detector] = DETECTORS) -> list[Finding]:
    """Findings of ``detectors`` in ``text`` read as shown (rules 1-3), sorted by start.

    Offsets are character offsets into ``text`` (``text[f.start:f.end]`` covers the value). Text
    that needs none of the rules (most text) goes straight to :func:`~.detectors.find_all`.
    """
    if not text or text.isspace():
        return []
    if _CHANGED.search(text) is None:
        found = find_all(text, detectors)
        extra = _idn_emails(text, detectors)
        return sorted({*found, *extra}, key=_order) if extra else found
    view, view_starts, orig_starts = visible_text(text)
    found = find_all(view, detectors) + _idn_emails(view, detectors)
    if not found:
        return []
    mapped = {dataclasses.replace(f, start=_orig(f.start, view_starts, orig_starts),
                                  end=_orig(f.end - 1, view_starts, orig_starts) + 1)
              for f in found if f.end > f.start}
    return sorted(mapped, key=_order)


def _order(f: Finding) -> tuple[int, int]:
    return (f.start, -(f.end - f.start))
