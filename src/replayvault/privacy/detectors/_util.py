"""Small helpers shared by the detectors: context words before a match, token boundaries, runs."""

from __future__ import annotations

import re
from typing import Iterable

__all__ = ["ALNUM", "ASCII_WITH_NON_ASCII_CASE", "DIGITS", "ContextWords", "has_context", "is_alnum", "is_digit", "isolated",
           "run_end", "run_start"]


#: ASCII letters that Python's case-insensitive matching also pairs with a non-ASCII character:
#: ``i`` (``İ``, ``ı``), ``k`` (Kelvin sign ``K``), ``s`` (long s ``ſ``). A test recomputes it
#: over every code point.
ASCII_WITH_NON_ASCII_CASE = frozenset("iks")


def _hex(ch: str) -> str:
    return ch if ch.isascii() and ch.isalnum() else f"\\x{ord(ch):02x}"


def _ascii_class(ch: str) -> str:
    """A character class matching what ``ch`` matches case-insensitively, as the scanner sees it.

    The scanner's text has every non-ASCII character replaced by ``?``; so ``é`` becomes ``[?]``,
    ``k`` becomes ``[Kk?]`` (the Kelvin sign matches ``k`` too), ``t`` becomes ``[Tt]``.
    """
    forms = {a for a in map(chr, range(128)) if re.fullmatch(re.escape(ch), a, re.IGNORECASE)}
    if not ch.isascii() or ch.lower() in ASCII_WITH_NON_ASCII_CASE:
        forms.add("?")
    return "[" + "".join(_hex(f) for f in sorted(forms)) + "]"


class ContextWords:
    """Context words of a detector, found as whole words, case-insensitively (``TAN`` not in ``instant``)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = tuple(sorted({w.lower() for w in words}, key=len, reverse=True))
        alternatives = "|".join(re.escape(w) for w in self.words)
        self.regex = re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])", re.IGNORECASE)

    def prefilter(self) -> tuple[str, ...]:
        """Regexes (common subset of ``re`` and Hyperscan) whose match *ends* include the end of every
        match of :attr:`regex`, in the scanner's ASCII text (non-ASCII characters replaced by ``?``).

        One per word: the word, case folded by explicit classes (:func:`_ascii_class`, no engine
        flag), after the start of the text or a character that is no ASCII letter or digit. The
        exact rule (no letter or digit of any script before, none after) only removes matches;
        so "no prefilter match ends in ``(start - window, start]``" proves :meth:`before` is
        false, and the scanner skips the validator of a detector that needs a context word.
        """
        return tuple("(?:^|[^A-Za-z0-9])" + "".join(_ascii_class(ch) for ch in w) for w in self.words)

    def before(self, text: str, start: int, window: int) -> bool:
        """True when a context word lies in the ``window`` characters before ``start``."""
        lo = max(0, start - window)
        span = text[lo:start].lower()
        if not any(w in span for w in self.words):  # cheap substring test first
            return False
        return self.regex.search(text, lo, start) is not None


def has_context(text: str, start: int, context: ContextWords, window: int) -> bool:
    """True when a word of ``context`` lies in the ``window`` characters before ``start``."""
    return context.before(text, start, window)


def is_alnum(ch: str) -> bool:
    """ASCII letter or digit (detectors work on ASCII shapes; other letters are separators)."""
    return ch.isascii() and ch.isalnum()


def is_digit(ch: str) -> bool:
    """ASCII digit."""
    return "0" <= ch <= "9"


def isolated(text: str, start: int, end: int, glue: str = "", digit_glue: str = "") -> bool:
    """True when no ASCII letter or digit touches ``text[start:end]``.

    Characters in ``glue`` (``"-_/."`` ...) also count as touching when an ASCII letter or
    digit follows them on the far side (``ORD-2026``, ``2026-11``), but not at the end of a
    sentence (``... 10.0.0.1.``). Characters in ``digit_glue`` count only with a digit on
    the far side (``1,234``, but ``code:1234`` is fine).
    """
    if start > 0:
        before = text[start - 1]
        far = text[start - 2] if start > 1 else ""
        if is_alnum(before) or (far and ((before in glue and is_alnum(far)) or (before in digit_glue and is_digit(far)))):
            return False
    if end < len(text):
        after = text[end]
        far = text[end + 1] if end + 1 < len(text) else ""
        if is_alnum(after) or (far and ((after in glue and is_alnum(far)) or (after in digit_glue and is_digit(far)))):
            return False
    return True


DIGITS = frozenset("0123456789")
ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def run_end(text: str, end: int, chars: frozenset[str]) -> int:
    """``end`` moved forward over characters in ``chars`` (to the end of the run)."""
    size = len(text)
    while end < size and text[end] in chars:
        end += 1
    return end


def run_start(text: str, start: int, chars: frozenset[str]) -> int:
    """``start`` moved back over characters in ``chars`` (to the start of the run)."""
    while start > 0 and text[start - 1] in chars:
        start -= 1
    return start
