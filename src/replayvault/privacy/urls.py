"""URL scrubbing: query-string values (and passwords in ``user:password@``) become ``*`` of the same length, keys stay.

``https://bank.example/cb?email=jane%40x.com&step=2#top`` ->
``https://bank.example/cb?email=*************&step=*#top``

Path parameters (``/cart;jsessionid=…``) are query values too.
Fragments that carry parameters (``#access_token=...`` of OAuth implicit flows, or SPA routes
such as ``#/account?id=7``) are scrubbed the same way; a plain anchor (``#top``) is kept.

For the detectors (run by the masker, ``Masker.url``), this module also gives the spans that are
scanned one by one, so that a finding glued to a separator is seen at a token start:
:func:`host_label_spans` (each label of the host, not the port, nothing of an IP literal) and
:func:`segment_spans` (each path segment and each segment of a fragment route after a ``/``:
``/contacts/+442079460958``, ``#/call/+44 20 7946 0958``). :func:`mask_userinfo` masks the whole
userinfo (``https://jane.doe@bank.com@host/`` -> ``https://*****************@host/``): credentials
in URLs are never needed.
"""

from __future__ import annotations

import re

from ._text import is_masked, mask_all

__all__ = ["URL_ATTRIBUTES", "host_label_spans", "is_url_with_query", "mask_userinfo", "refresh_url_span", "scrub_url",
           "scrub_srcset", "segment_spans"]

#: Attributes whose value is a URL (lower case). ``srcset`` holds a list: see :func:`scrub_srcset`.
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "cite", "background", "ping", "data", "longdesc"}
)
SRCSET_ATTRIBUTES = frozenset({"srcset", "imagesrcset"})

#: A whole value that is an absolute URL (``scheme://…``, RFC 3986 §3) or a scheme-relative or
#: root-relative reference (``//host/…``, ``/path…``, §4.2), without whitespace.
_URLISH = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*://|/)[^\s<>\"'`]*")
#: ``<meta http-equiv="refresh" content="5; url=/next?x=1">`` (HTML §4.2.5.3, the shared declarative
#: refresh steps): seconds, ``;`` or ``,``, an optional ``url=``, the URL (optionally quoted).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*")
_PORT = re.compile(r":\d*$")
_REFRESH = re.compile(r"""\s*\d[\d.]*\s*[;,]\s*(?:url\s*=\s*)?(['"]?)(.*?)\1\s*""", re.IGNORECASE | re.DOTALL)


def is_url_with_query(value: str) -> bool:
    """True when the whole ``value`` is an absolute, scheme-relative or root-relative URL that
    carries a query or fragment parameters (``/cb?email=…``, ``https://x/#token=…``): such a value
    is scrubbed wherever it appears (``data-href``, payload fields, …), not only in URL attributes."""
    if "?" not in value and not ("#" in value and "=" in value):
        return False
    return value[:5].lower() != "data:" and _URLISH.fullmatch(value.strip()) is not None


def refresh_url_span(value: str) -> tuple[int, int] | None:
    """The span of the URL in a meta refresh ``content`` value, or None when it names none."""
    m = _REFRESH.fullmatch(value)
    return m.span(2) if m and m.group(2) else None


def _scrub_query(query: str, keep: frozenset[str] = frozenset()) -> tuple[str, int]:
    parts = query.split("&")
    count = 0
    for i, part in enumerate(parts):
        key, eq, value = part.partition("=")
        if eq and value and key in keep:
            continue  # the project's policy keeps this parameter readable
        if eq and value:
            if not is_masked(value):
                count += 1
            parts[i] = f"{key}={mask_all(value)}"
        elif not eq and key and not is_masked(key):
            count += 1  # a bare value (``?jane@x.com``, ``?token``): no key to keep, mask it all
            parts[i] = mask_all(key)
    return "&".join(parts), count


def scrub_url(url: str, keep: frozenset[str] = frozenset()) -> tuple[str, int]:
    """Mask every query-string value of ``url``; return the new URL and how many values were masked.

    Values that are already all ``*`` are kept and not counted, as are the parameters named in
    ``keep`` (a project policy's ``keep_query_params``). Keys, scheme, host, path and plain
    anchors are kept, so the URL keeps its length and shape.
    """
    url, userinfo = _scrub_userinfo(url)
    if "?" not in url and "=" not in url:
        return url, userinfo
    base, hashmark, fragment = url.partition("#")
    path, qmark, query = base.partition("?")
    path, count = _scrub_path_params(path, keep)
    if qmark:
        query, n = _scrub_query(query, keep)
        count += n
    if hashmark and "=" in fragment:
        route, fq, fquery = fragment.partition("?")
        if fq:
            fquery, n = _scrub_query(fquery, keep)
            fragment = f"{route}?{fquery}"
        else:
            fragment, n = _scrub_query(fragment, keep)
        count += n
    return f"{path}{qmark}{query}{hashmark}{fragment}", count + userinfo


def _scrub_path_params(path: str, keep: frozenset[str]) -> tuple[str, int]:
    """Mask the values of path parameters (``/cart;jsessionid=ABC123/x``, RFC 3986 §3.3)."""
    if ";" not in path or "=" not in path:
        return path, 0
    count = 0
    segments = path.split("/")
    for i, seg in enumerate(segments):
        if ";" in seg:
            head, _, params = seg.partition(";")
            params, n = _scrub_query(params.replace(";", "&"), keep)
            segments[i] = head + ";" + params.replace("&", ";")
            count += n
    return "/".join(segments), count


def _scrub_userinfo(url: str) -> tuple[str, int]:
    """Mask the password of ``scheme://user:password@host`` (RFC 3986 section 3.2.1 deprecates it)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, 0
    authority_end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority = rest[:authority_end]
    info, at, host = authority.rpartition("@")
    user, colon, password = info.partition(":")
    if not at or not colon or not password or is_masked(password):
        return url, 0
    return f"{scheme}://{user}:{mask_all(password)}@{host}{rest[authority_end:]}", 1


def _authority_span(url: str) -> tuple[int, int] | None:
    """Where the authority of ``scheme://authority…`` or ``//authority…`` is, None without one."""
    if url.startswith("//"):
        start = 2
    else:
        scheme, sep, _ = url.partition("://")
        if not sep or not _SCHEME.fullmatch(scheme):
            return None
        start = len(scheme) + 3
    end = min((i for i in (url.find(c, start) for c in "/?#") if i >= 0), default=len(url))
    return start, end


def mask_userinfo(url: str) -> tuple[str, int]:
    """Mask the whole userinfo of ``scheme://userinfo@host`` or ``//userinfo@host`` (user name and
    password: credentials in URLs are never needed); return the URL and 1 when it masked one."""
    span = _authority_span(url)
    if span is None:
        return url, 0
    start, end = span
    at = url.rfind("@", start, end)
    if at <= start or is_masked(url[start:at]):
        return url, 0
    return url[:start] + mask_all(url[start:at]) + url[at:], 1


def host_label_spans(url: str) -> list[tuple[int, int]]:
    """Spans of the labels (between dots) of the host of ``url`` (after any userinfo, without the
    port); none for an IP literal (``[::1]``) or a URL without an authority."""
    span = _authority_span(url)
    if span is None:
        return []
    start, end = span
    start = max(start, url.rfind("@", start, end) + 1)
    if url.startswith("[", start):
        return []
    port = _PORT.search(url, start, end)
    end = port.start() if port else end
    spans = []
    for label in url[start:end].split("."):
        if label:
            spans.append((start, start + len(label)))
        start += len(label) + 1
    return spans


def segment_spans(path: str) -> list[tuple[int, int]]:
    """Spans of the non-empty segments that follow a ``/`` in the path of ``path`` (a URL without
    its ``scheme://authority``) and in its fragment route (before a ``?``); the query is left out."""
    hash_at = path.find("#")
    base_end = hash_at if hash_at >= 0 else len(path)
    query_at = path.find("?", 0, base_end)
    spans = _after_slashes(path, 0, query_at if query_at >= 0 else base_end)
    if hash_at >= 0:
        route_end = path.find("?", hash_at + 1)
        spans += _after_slashes(path, hash_at + 1, route_end if route_end >= 0 else len(path))
    return spans


def _after_slashes(value: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    slash = value.find("/", start, end)
    while slash >= 0:
        nxt = value.find("/", slash + 1, end)
        stop = nxt if nxt >= 0 else end
        if stop > slash + 1:
            spans.append((slash + 1, stop))
        slash = nxt
    return spans


def scrub_srcset(value: str) -> tuple[str, int]:
    """:func:`scrub_url` applied to each candidate URL of a ``srcset`` list."""
    if "?" not in value:
        return value, 0
    total = 0
    candidates = value.split(",")
    for i, cand in enumerate(candidates):
        lead = len(cand) - len(cand.lstrip())
        url, sep, descriptor = cand[lead:].partition(" ")
        new, n = scrub_url(url)
        total += n
        candidates[i] = cand[:lead] + new + sep + descriptor
    return ",".join(candidates), total
