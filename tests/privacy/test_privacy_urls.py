from __future__ import annotations

import pytest

from replayvault.privacy.urls import scrub_srcset, scrub_url


@pytest.mark.parametrize(
    ("url", "expected", "count"),
    [
        ("https://bank.example/", "https://bank.example/", 0),
        ("https://bank.example/a?email=jane%40x.com&step=2", "https://bank.example/a?email=************&step=*", 2),
        ("/search?q=john+smith#results", "/search?q=**********#results", 1),
        ("/p?flag&empty=&k=v", "/p?****&empty=&k=*", 2),  # a bare value is masked whole
        ("/p?hunter2Secret", "/p?*************", 1),
        ("http://jane:hunter2Secret@bank.example/x", "http://jane:*************@bank.example/x", 1),  # RFC 3986 3.2.1 userinfo
        ("http://jane@bank.example/x", "http://jane@bank.example/x", 0),
        ("/p?k=***", "/p?k=***", 0),  # already masked: kept, not counted
        ("/cb#access_token=abc123&state=x", "/cb#access_token=******&state=*", 2),
        ("/app#/account?id=77", "/app#/account?id=**", 1),
        ("/doc#section-2", "/doc#section-2", 0),
        ("https://x.example/?a=1&a=22", "https://x.example/?a=*&a=**", 2),
    ],
)
def test_scrub_url(url, expected, count):
    assert scrub_url(url) == (expected, count)
    assert len(scrub_url(url)[0]) == len(url)


def test_scrub_srcset():
    value = "/a.png?u=jane 1x, /b.png?u=joe 2x"
    assert scrub_srcset(value) == ("/a.png?u=**** 1x, /b.png?u=*** 2x", 2)
