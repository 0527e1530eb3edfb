from __future__ import annotations

import pytest

from replayvault.privacy.urls import is_url_with_query, refresh_url_span, scrub_srcset, scrub_url


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


@pytest.mark.parametrize(("value", "expected"), [
    ("/x?email=a", True),
    ("https://bank.example/c?d=1", True),
    ("//cdn.example/a.js?v=1", True),
    ("https://bank.example/cb#access_token=abc", True),
    ("/app#/account?id=7", True),
    ("/plain/path", False),
    ("https://bank.example/#top", False),
    ("What? Yes.", False),
    ("x.php?id=1", False),  # relative without a leading slash: not taken for a URL
    ("/a b?c=1", False),  # whitespace: prose, not a URL
    ("data:text/plain,x?y=1", False),
])
def test_is_url_with_query(value, expected):
    assert is_url_with_query(value) is expected


@pytest.mark.parametrize(("value", "url"), [
    ("0;url=https://bank.example/x?e=1", "https://bank.example/x?e=1"),
    ("5; URL='/next?s=2'", "/next?s=2"),
    ("3, url=/a?b=c", "/a?b=c"),
    ("0.5;/plain?x=1", "/plain?x=1"),
    ("width=device-width, initial-scale=1", None),
    ("30", None),
])
def test_refresh_url_span(value, url):
    span = refresh_url_span(value)
    assert (value[span[0]:span[1]] if span else None) == url


def test_path_parameters_are_query_values():
    assert scrub_url("/x;jsessionid=Zz9Xq771KwQp/y;a=1;b=22?q=1") == ("/x;jsessionid=************/y;a=*;b=**?q=*", 4)
    assert scrub_url("/x;v=1", frozenset({"v"})) == ("/x;v=1", 0)
