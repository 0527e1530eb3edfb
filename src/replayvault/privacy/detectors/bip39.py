"""BIP-39 seed phrase detector: runs of 12 or more English wordlist words.

The scanner finds 12 lower-case words of 3-8 letters separated by one or two whitespace
characters; :func:`spans` widens that to the whole run of words that are in the English
BIP-39 wordlist (from the ``mnemonic`` package), separated by any whitespace, with no
letter directly before or after the run. A run of 12, 15, 18, 21 or 24 words whose BIP-39
checksum (``Mnemonic("english").check``) holds is confirmed; any other run of 12+ wordlist
words is unknown (a phrase with one word mistyped, or cut short, is still a secret).
The finding spans the whole run.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mnemonic import Mnemonic

from . import _scanner
from ._finding import Finding, Validation

KIND = "bip39"
VALIDATOR = "bip39-checksum"
CONTEXT = ("seed", "seed phrase", "mnemonic", "recovery phrase", "backup phrase", "wallet")
MIN_WORDS = 12
CHECKSUM_LENGTHS = frozenset({12, 15, 18, 21, 24})
#: The scanner reports every 12-word window; spans() wants the whole run at once.
MERGE_OVERLAPS = True

PATTERNS = [
    ("words", r"\b[a-z]{3,8}(?:[ \t\r\n]{1,2}[a-z]{3,8}){11}"),
]
_WORD = re.compile(r"[A-Za-z]+")
_SPACE = frozenset(" \t\r\n\f\v")


@lru_cache(maxsize=1)
def _mnemonic() -> Mnemonic:
    return Mnemonic("english")


@lru_cache(maxsize=1)
def wordlist() -> frozenset[str]:
    """The 2048 words of the English BIP-39 wordlist."""
    return frozenset(_mnemonic().wordlist)


def _word_at(text: str, pos: int) -> tuple[int, int]:
    """The ``[A-Za-z]+`` word around ``pos`` (which is inside or at the start of a word)."""
    start = pos
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalpha():
        start -= 1
    m = _WORD.match(text, start)
    assert m is not None
    return m.span()


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The maximal runs of 12+ wordlist words (any whitespace between) overlapping the candidate region."""
    words = wordlist()
    # Walk the candidate's words; each maximal run of wordlist words is extended outwards.
    out: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        w0, w1 = _word_at(text, pos)
        if text[w0:w1] not in words:
            pos = w1
            while pos < end and text[pos] in _SPACE:
                pos += 1
            continue
        run_start, run_end, count = _extend(text, w0, w1, words)
        if count >= MIN_WORDS:
            out.append((run_start, run_end))
        pos = max(run_end, w1)
        while pos < end and text[pos] in _SPACE:
            pos += 1
    return out


def _extend(text: str, w0: int, w1: int, words: frozenset[str]) -> tuple[int, int, int]:
    """Grow the run of wordlist words around ``text[w0:w1]`` in both directions."""
    count = 1
    start, end = w0, w1
    while True:  # backwards
        i = start
        while i > 0 and text[i - 1] in _SPACE:
            i -= 1
        if i == start or i == 0 or not (text[i - 1].isascii() and text[i - 1].isalpha()):
            break
        p0, p1 = _word_at(text, i - 1)
        if text[p0:p1] not in words:
            break
        start, count = p0, count + 1
    while True:  # forwards
        i = end
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i == end or i == len(text) or not (text[i].isascii() and text[i].isalpha()):
            break
        n0, n1 = _word_at(text, i)
        if text[n0:n1] not in words:
            break
        end, count = n1, count + 1
    return start, end, count


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed for 12/15/18/21/24 words with a valid checksum, unknown for other runs of 12+."""
    phrase = text[start:end].split()
    if len(phrase) < MIN_WORDS or any(w not in wordlist() for w in phrase):
        return Validation.REJECTED
    if len(phrase) in CHECKSUM_LENGTHS and _mnemonic().check(" ".join(phrase)):
        return Validation.CONFIRMED
    return Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return BIP-39 seed phrases in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
