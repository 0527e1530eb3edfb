"""Seed phrases as wallets show them: one word per cell, numbered, comma-separated, upper-case.

The BIP-39 detector finds 12+ wordlist words separated by spaces inside one text. A wallet's
backup screen instead puts each word in its own ``<li>``/``<div>`` (often numbered: ``1. abandon``),
or writes ``1. ABANDON, 2. ABANDON, …``. This pass reads a snapshot's text nodes in document order
as one token stream — words of letters, ignoring numbering, punctuation and node boundaries — and
masks every run of at least :data:`MIN_WORDS` consecutive tokens that are all in the English
wordlist (BIP-39: 12, 15, 18, 21 or 24 words). Ordinary prose practically never has 12 wordlist
words in a row with nothing else between them.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from ._text import MASK_CHAR
from .detectors.bip39 import wordlist

__all__ = ["MIN_WORDS", "mask_seed_runs"]

MIN_WORDS = 12
_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_SKIP = frozenset({"style", "script", "noscript"})

Node = dict[str, Any]


def _text_nodes(root: Node) -> list[Node]:
    out: list[Node] = []
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, skip = stack.pop()
        if node.get("type") == 3 and not skip and isinstance(node.get("textContent"), str):
            out.append(node)
            continue
        tag = node.get("tagName")
        skip = skip or (isinstance(tag, str) and tag.lower() in _SKIP)
        kids = node.get("childNodes")
        if isinstance(kids, list):
            stack.extend((k, skip) for k in reversed(kids) if isinstance(k, dict))
    return out


def mask_seed_runs(root: Node, count: Callable[[int | None], None]) -> None:
    """Mask runs of :data:`MIN_WORDS`+ wordlist words across ``root``'s text nodes (in place).

    Numbers (``1.``, ``12)``) and punctuation between words are allowed; any other word ends a
    run. ``count(node_id)`` is called once per masked run.
    """
    words = wordlist()
    run: list[tuple[Node, int, int]] = []  # (text node, start, end) of each wordlist word

    def flush() -> None:
        if len(run) >= MIN_WORDS:
            for node, start, end in run:
                t = node["textContent"]
                node["textContent"] = t[:start] + MASK_CHAR * (end - start) + t[end:]
            count(run[0][0].get("id"))
        run.clear()

    for node in _text_nodes(root):
        for m in _TOKEN.finditer(node["textContent"]):
            token = m.group(0)
            if token.isdigit():
                continue  # numbering of the words
            if token.lower() in words:
                run.append((node, m.start(), m.end()))
            else:
                flush()
    flush()
