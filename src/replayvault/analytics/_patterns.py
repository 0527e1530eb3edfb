"""URL patterns of funnels and session search: ``*`` wildcards over URLs without query and fragment.

Rules (documented for analysts):

* ``*`` matches any run of characters, ``/`` included; every other character matches itself
  (``?`` and ``[`` are not special: URLs contain them);
* the pattern must match the whole URL (``https://bank.example/pay`` does not match
  ``https://bank.example/pay/confirm``; ``https://bank.example/pay*`` does);
* a pattern starting with ``/`` is matched against the URL's path only, whatever the scheme and
  host (``/transfer/*`` matches ``https://bank.example/transfer/confirm``);
* a pattern's own query string or fragment is dropped, as stored URLs have none.

The same regular expression (RE2-compatible) serves Python's :mod:`re` and DuckDB's
``regexp_full_match``.
"""

from __future__ import annotations

import re

from ..errors import InvalidInput

__all__ = ["url_regex", "url_matcher", "MAX_PATTERN"]

#: Longest accepted pattern (characters).
MAX_PATTERN = 2048
_ORIGIN = r"[A-Za-z][A-Za-z0-9+.-]*:(?://[^/]*)?"


def url_regex(pattern: str) -> str:
    """Anchored regular expression for ``pattern`` (rules above).

    Raises:
        InvalidInput: empty or longer than :data:`MAX_PATTERN`.
    """
    pattern = pattern.strip().split("#", 1)[0].split("?", 1)[0]
    if not pattern:
        raise InvalidInput("URL pattern is empty")
    if len(pattern) > MAX_PATTERN:
        raise InvalidInput(f"URL pattern is longer than {MAX_PATTERN} characters")
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return f"^{_ORIGIN}{body}$" if pattern.startswith("/") else f"^{body}$"


def url_matcher(pattern: str) -> re.Pattern[str]:
    """Compiled :func:`url_regex` of ``pattern`` (use ``.match(url)``)."""
    return re.compile(url_regex(pattern), re.DOTALL)
