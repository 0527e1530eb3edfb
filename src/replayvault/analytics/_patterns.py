"""URL patterns of funnels and session search: ``*`` wildcards over URLs without query and fragment.

Rules (documented for analysts):

* ``*`` matches any run of characters, ``/`` included; every other character matches itself
  (``?`` and ``[`` are not special: URLs contain them);
* the pattern must match the whole URL (``https://bank.example/pay`` does not match
  ``https://bank.example/pay/confirm``; ``https://bank.example/pay*`` does);
* a pattern starting with ``/`` is matched against the URL's path only, whatever the scheme and
  host (``/transfer/*`` matches ``https://bank.example/transfer/confirm``);
* a pattern's own query string or fragment is dropped, as stored URLs have none.

DuckDB's ``regexp_full_match`` (RE2: linear time) takes :func:`url_regex`. In Python,
:func:`url_matcher` matches without any regular expression: Python's :mod:`re` backtracks, and
``*`` patterns such as ``*********X`` take exponential time there (and hold the GIL, stalling the
whole server). The matcher checks the literal parts between stars in order, leftmost first, which
is exact for ``*``-only globs and linear in the URL length per part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidInput

__all__ = ["UrlMatcher", "url_regex", "url_matcher", "MAX_PATTERN"]

#: Longest accepted pattern (characters).
MAX_PATTERN = 2048
_ORIGIN = r"[A-Za-z][A-Za-z0-9+.-]*:(?://[^/]*)?"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _clean(pattern: str) -> str:
    pattern = pattern.strip().split("#", 1)[0].split("?", 1)[0]
    if not pattern:
        raise InvalidInput("URL pattern is empty")
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"URL pattern is longer than {MAX_PATTERN} characters")
    return re.sub(r"\*{2,}", "*", pattern)  # "**" means "*"


def url_regex(pattern: str) -> str:
    """Anchored regular expression for ``pattern`` (rules above), for RE2 (DuckDB).

    Raises:
        InvalidInput: empty or longer than :data:`MAX_PATTERN`.
    """
    pattern = _clean(pattern)
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return f"^{_ORIGIN}{body}$" if pattern.startswith("/") else f"^{body}$"


@dataclass(frozen=True)
class UrlMatcher:
    """A compiled URL pattern: ``parts`` are the literal texts between ``*``; ``path_only`` for ``/...``."""

    parts: tuple[str, ...]
    path_only: bool

    def match(self, url: str) -> bool:
        """Whether the whole ``url`` matches (for a path pattern: the part after ``scheme:`` or ``scheme://host``)."""
        if not self.path_only:
            return self._glob(url)
        m = _SCHEME.match(url)
        if m is None:
            return False
        rest = url[m.end():]
        if rest.startswith("//"):  # with the host taken away, or (as the regex may) left in place
            slash = rest.find("/", 2)
            if self._glob(rest[slash:] if slash >= 0 else ""):
                return True
        return self._glob(rest)

    def _glob(self, text: str) -> bool:
        parts = self.parts
        if len(parts) == 1:
            return text == parts[0]
        first, last = parts[0], parts[-1]
        if len(first) + len(last) > len(text) or not text.startswith(first) or not text.endswith(last):
            return False
        pos, end = len(first), len(text) - len(last)
        for mid in parts[1:-1]:  # leftmost match of each middle part leaves the most room for the rest
            found = text.find(mid, pos, end)
            if found < 0:
                return False
            pos = found + len(mid)
        return True


def url_matcher(pattern: str) -> UrlMatcher:
    """:class:`UrlMatcher` of ``pattern`` (use ``.match(url)``; rules above).

    Raises:
        InvalidInput: empty or longer than :data:`MAX_PATTERN`.
    """
    pattern = _clean(pattern)
    return UrlMatcher(tuple(pattern.split("*")), pattern.startswith("/"))
