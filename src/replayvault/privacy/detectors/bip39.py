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

import hashlib
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
    # Twelve words; the last one read whole (3-7 letters and what follows them) or as its first
    # eight letters, so the engine reports one end per window, not one per letter 3-8 of the
    # last word. spans() walks whole words from the region's start; the extra character never
    # starts a wordlist word (it is no lower-case letter).
    ("words", r"\b[a-z]{3,8}(?:[ \t\r\n]{1,2}[a-z]{3,8}){10}[ \t\r\n]{1,2}(?:[a-z]{3,7}(?:[^a-z]|$)|[a-z]{8})"),
]
_WORD = re.compile(r"[A-Za-z]+")
_SPACES = " \t\r\n\f\v"
_SPACE = frozenset(_SPACES)


@lru_cache(maxsize=1)
def _mnemonic() -> Mnemonic:
    return Mnemonic("english")


@lru_cache(maxsize=1)
def wordlist() -> frozenset[str]:
    """The 2048 words of the English BIP-39 wordlist."""
    return frozenset(_mnemonic().wordlist)


@lru_cache(maxsize=1)
def _index() -> dict[str, int]:
    """Word -> its 11-bit index in the English wordlist."""
    return {w: i for i, w in enumerate(_mnemonic().wordlist)}


def checksum_ok(words: list[str]) -> bool:
    """True when 12/15/18/21/24 wordlist words carry a valid BIP-39 checksum.

    BIP-39 "Generating the mnemonic", backwards: the words' 11-bit indexes concatenated are
    ``ENT`` bits of entropy then ``CS = ENT / 32`` checksum bits, which must equal the first
    ``CS`` bits of SHA-256(entropy). Same verdict as ``Mnemonic("english").check`` (a test
    compares them), without its ``list.index`` per word.
    """
    if len(words) not in CHECKSUM_LENGTHS:
        return False
    index = _index()
    bits = 0
    for w in words:
        i = index.get(w)
        if i is None:
            return False
        bits = (bits << 11) | i
    cs = len(words) * 11 // 33
    entropy = (bits >> cs).to_bytes(cs * 4, "big")
    return bits & ((1 << cs) - 1) == hashlib.sha256(entropy).digest()[0] >> (8 - cs)


def _joined(gap: str) -> bool:
    """Two words belong to one run when only whitespace (at least one character) lies between them."""
    return bool(gap) and not gap.strip(_SPACES)


def _run_start(text: str, w0: int, words: frozenset[str]) -> tuple[int, int]:
    """Start of the run of wordlist words that ends with the word at ``w0``, and its extra word count."""
    count = 0
    while True:
        i = w0
        while i > 0 and text[i - 1] in _SPACE:
            i -= 1
        if i == w0 or i == 0 or not (text[i - 1].isascii() and text[i - 1].isalpha()):
            return w0, count
        p0 = i - 1
        while p0 > 0 and text[p0 - 1].isascii() and text[p0 - 1].isalpha():
            p0 -= 1
        if text[p0:i] not in words:
            return w0, count
        w0, count = p0, count + 1


def spans(text: str, start: int, end: int, pattern: str) -> list[tuple[int, int]]:
    """The maximal runs of 12+ wordlist words (any whitespace between) that hold a word of the region.

    A word is a run of ASCII letters; two words are in one run when only whitespace lies
    between them. The region starts at a word (the scanner's ``\\b``); the run of its first
    word is extended backwards, the last run forwards past the region's end.
    """
    words = wordlist()
    out: list[tuple[int, int]] = []
    run_start = run_end = -1  # the open run of wordlist words, if any
    count = 0
    for m in _WORD.finditer(text, start):
        w0, w1 = m.span()
        if run_start >= 0 and _joined(text[run_end:w0]) and text[w0:w1] in words:
            run_end, count = w1, count + 1
            continue
        if run_start >= 0 and count >= MIN_WORDS:
            out.append((run_start, run_end))
        run_start = -1
        if w0 >= end:
            break
        if text[w0:w1] in words:
            run_start, run_end, count = w0, w1, 1
            if w0 == start:
                run_start, before = _run_start(text, w0, words)
                count += before
    else:
        if run_start >= 0 and count >= MIN_WORDS:
            out.append((run_start, run_end))
    return out


def validate(text: str, start: int, end: int, pattern: str) -> Validation:
    """Confirmed for 12/15/18/21/24 words with a valid checksum, unknown for other runs of 12+."""
    phrase = text[start:end].split()
    words = wordlist()
    if len(phrase) < MIN_WORDS or any(w not in words for w in phrase):
        return Validation.REJECTED
    return Validation.CONFIRMED if checksum_ok(phrase) else Validation.UNKNOWN


def find(text: str) -> list[Finding]:
    """Return BIP-39 seed phrases in ``text`` as findings (offsets only)."""
    return _scanner.find_with(__name__, text)
