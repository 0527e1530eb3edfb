"""URL wildcard patterns: exact glob semantics without backtracking regular expressions."""

from __future__ import annotations

import re

import pytest

from replayvault.analytics._patterns import url_matcher, url_regex
from replayvault.errors import InvalidInput

URLS = ["https://bank.example/pay", "https://bank.example/pay/confirm", "https://bank.example/",
        "https://bank.example", "http://other.example/transfer/x/confirm", "file:/pay", "https://a.b/aXbXc"]
PATTERNS = ["https://bank.example/pay", "https://bank.example/pay*", "*/pay", "/pay", "/pay*", "/transfer/*/confirm",
            "/", "*", "https://*.example/*", "*X*X*", "*aXb*", "/aXbXc", "**pay", "https://bank.example"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_matcher_agrees_with_the_anchored_regex_on_every_url(pattern: str) -> None:
    regex = re.compile(url_regex(pattern), re.DOTALL)
    assert [url_matcher(pattern).match(u) for u in URLS] == [bool(regex.match(u)) for u in URLS]


def test_known_answers() -> None:
    assert [url_matcher("/transfer/*/confirm").match(u) for u in URLS] == [False, False, False, False, True, False,
                                                                           False]
    assert url_matcher("https://bank.example/pay*").match("https://bank.example/pay/confirm") is True
    assert url_matcher("https://bank.example/pay").match("https://bank.example/pay/confirm") is False


def test_many_stars_are_linear_not_exponential() -> None:
    # Python's re needs ~2^k steps for "^.*.*...X$" on a long URL without X; the matcher collapses
    # the stars and scans once. 40 stars and a 2,000-character URL would never finish with re.
    pattern = "*" * 40 + "X"
    matcher = url_matcher(pattern)
    assert matcher.parts == ("", "X")
    assert matcher.match("https://bank.example/" + "a" * 2000) is False
    assert url_matcher("*a*a*a*a*a*a*a*a*a*a*X").match("https://bank.example/" + "a" * 2000) is False


def test_bad_patterns() -> None:
    with pytest.raises(InvalidInput, match="URL pattern is empty"):
        url_matcher("  ?q=1")
    with pytest.raises(InvalidInput, match="longer than 2048"):
        url_matcher("/" + "a" * 2048)
