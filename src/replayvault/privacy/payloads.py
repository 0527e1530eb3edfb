"""Free-form payloads: custom events, plugin events (network, console), CSS rule events, canvas.

Rules for every string in a payload (:func:`scrub_payload`):

1. A value under a key naming a credential is masked whole: the key contains one of
   :data:`CREDENTIAL_KEYS` (``Set-Cookie``, ``X-Api-Key``, ``access_token``) or, without ``-`` and
   ``_``, equals one of :data:`CREDENTIAL_NAMES` (``pwd``, ``cvv``, ``otp``). Headers given as
   ``[name, value]`` pairs or ``{"name": …, "value": …}`` objects (HAR) count by their name.
2. A value under a URL-like key (:data:`URL_KEYS`) gets the URL rules (query values scrubbed, then
   the detectors on the rest); so does any other value that is a URL with a query.
3. A request or response body (:data:`BODY_KEYS`) that is JSON or form data is decoded, scrubbed
   the same way and encoded again (:func:`scrub_body`).
4. CSS events: only CSS strings, custom properties and URLs are checked (:mod:`.css`).
5. Any other string goes to the detectors, and so does an object key (masked in place); inside
   it, a value written after a credential name (``password=…``, ``token: …``,
   ``Authorization: Bearer …`` in a console message) is masked whole (:data:`INLINE_CREDENTIAL`).
6. A number of 9+ digits is checked as digits (a card or phone number sent as a JSON number) and
   masked whole when a detector fires — in the tracker's own ``rv.*`` custom events too, except
   under the keys of :data:`RV_NUMERIC_KEYS` (positions, sizes and node ids the analytics need).

``name`` is not a URL key: ``rv.event`` names (and other ``name`` fields) are free text, so the
detectors see all of them (a URL with a query there still gets the URL rules).

Canvas (:func:`scrub_canvas`, only when a policy keeps canvas data): the text drawn by
``fillText``/``strokeText`` goes to the detectors like page text; the other arguments are left
to the residual pass (:mod:`.residual`).
"""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from ._text import is_masked, mask_all
from .residual import worth_scanning
from .urls import is_url_with_query, scrub_url

__all__ = ["BODY_KEYS", "CREDENTIAL_KEYS", "CREDENTIAL_NAMES", "INLINE_CREDENTIAL", "RV_NUMERIC_KEYS", "TEXT_COMMANDS",
           "URL_KEYS", "is_credential", "scrub_body", "scrub_canvas", "scrub_payload"]

#: Keys of custom/plugin payloads treated as URLs.
URL_KEYS = frozenset({"href", "url", "src", "referrer", "referer", "location"})
#: Numeric keys of the tracker's ``rv.*`` custom events kept as numbers (rule 6).
RV_NUMERIC_KEYS = frozenset({"x", "y", "w", "h", "id", "scrollheight", "scrollwidth", "fixed"})
#: Substrings of payload keys (network headers, cookies, form fields) whose values are credentials.
CREDENTIAL_KEYS = ("cookie", "authorization", "token", "secret", "key", "session", "password", "passwd")
#: Short credential field names, matched exactly (after removing ``-`` and ``_``): as substrings
#: they would hit ordinary words (``shipping``, ``passport``).
CREDENTIAL_NAMES = frozenset({"pwd", "pw", "pass", "pin", "cvv", "cvc", "cvv2", "otp", "tan", "sid", "jwt", "auth"})
#: Payload keys holding a request or response body (rrweb network plugin, HAR ``postData``).
BODY_KEYS = frozenset({"body", "requestbody", "responsebody", "request_body", "response_body", "postdata"})
#: ``name=value`` or ``name: value`` inside free text where the name is a credential; group 1 is
#: the value (up to whitespace, a quote or a separator), after an optional ``Bearer``/``Basic``.
INLINE_CREDENTIAL = re.compile(
    r"""(?i)\b(?:password|passwd|pwd|passcode|secret|token|access_token|api[_-]?key|session[_-]?id|sid|"""
    r"""cookie|authorization|otp|pin|cvv|cvc)["']?\s*[:=]\s*["']?(?:(?:bearer|basic)\s+)?([^\s"'&;,<>]+)""")
#: Canvas 2D commands whose first argument is drawn text.
TEXT_COMMANDS = frozenset({"fillText", "strokeText"})


class Masker(Protocol):
    """What the payload rules need from the masker (:class:`~.masking._Masker`)."""

    keep_params: frozenset[str]

    def count(self, kind: str, node_id: int | None, where: str, evidence: str = "", n: int = 1,
              browser: bool = False) -> None: ...

    def detect(self, text: str, node_id: int | None, where: str) -> str: ...

    def url(self, value: str, node_id: int | None, where: str) -> str: ...

    def css(self, value: str, node_id: int | None, where: str) -> str: ...


def is_credential(key: str) -> bool:
    """Whether a payload key or header name names a credential (rule 1)."""
    lkey = key.lower()
    return any(word in lkey for word in CREDENTIAL_KEYS) or lkey.replace("-", "").replace("_", "") in CREDENTIAL_NAMES


def scrub_payload(m: Masker, data: dict[str, Any] | list[Any], css: bool = False, numbers: bool = True,
                  keep_numbers: frozenset[str] = frozenset()) -> None:
    """Scrub every string, key and long integer of a free-form payload in place (rules 1-6).

    ``css`` selects rule 4 for strings; ``numbers=False`` keeps every number, ``keep_numbers`` the
    numbers under these keys (lower case; rule 6, :data:`RV_NUMERIC_KEYS` for ``rv.*`` events).
    """
    stack: list[Any] = [data]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            _header_object(m, obj)
            items: Any = list(obj.items())
        else:
            _header_pair(m, obj)
            items = enumerate(obj)
        renames = []
        for key, value in items:
            lkey = key.lower() if isinstance(key, str) else ""
            if (isinstance(value, (int, float)) and not isinstance(value, bool) and numbers and abs(value) >= 10**8
                    and lkey not in keep_numbers):
                digits = str(value)
                if m.detect(digits, None, "payload") != digits:
                    obj[key] = mask_all(digits)
            elif isinstance(value, str) and value:
                obj[key] = _string(m, lkey, value, css)
            elif isinstance(value, (dict, list)):
                stack.append(value)
            if lkey and worth_scanning(key):
                masked = m.detect(key, None, "payload:key")
                if masked != key:
                    renames.append((key, masked))
        for key, masked in renames:
            obj.setdefault(masked, obj.pop(key))


def _string(m: Masker, lkey: str, value: str, css: bool) -> str:
    if lkey and is_credential(lkey):
        if is_masked(value):
            return value
        m.count("credential", None, "payload")
        return mask_all(value)
    if lkey in URL_KEYS or (not css and is_url_with_query(value)):
        return m.url(value, None, "payload")
    if lkey in BODY_KEYS:
        return scrub_body(m, value)
    if css and lkey.startswith("--"):  # a custom property holds any text
        return m.detect(value, None, "payload:css")
    if css:
        return m.css(value, None, "payload:css")
    return m.detect(_inline_credentials(m, value), None, "payload")


def _inline_credentials(m: Masker, value: str) -> str:
    """Rule 5: mask the value after a credential name inside free text."""
    if "=" not in value and ":" not in value:
        return value
    spans = [mt.span(1) for mt in INLINE_CREDENTIAL.finditer(value) if not is_masked(mt.group(1))]
    if not spans:
        return value
    chars = list(value)
    for start, end in spans:
        chars[start:end] = "*" * (end - start)
        m.count("credential", None, "payload")
    return "".join(chars)


def _header_pair(m: Masker, pair: list[Any]) -> None:
    """``["Cookie", "sid=…"]``: a header as a name/value pair (rule 1)."""
    if len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], str) and pair[1] and is_credential(pair[0]):
        if not is_masked(pair[1]):
            m.count("credential", None, "payload")
            pair[1] = mask_all(pair[1])


def _header_object(m: Masker, obj: dict[str, Any]) -> None:
    """``{"name": "Cookie", "value": "sid=…"}`` (HAR headers and cookies, rule 1)."""
    name, value = obj.get("name"), obj.get("value")
    if isinstance(name, str) and isinstance(value, str) and value and is_credential(name) and not is_masked(value):
        m.count("credential", None, "payload")
        obj["value"] = mask_all(value)


def scrub_body(m: Masker, value: str) -> str:
    """A request or response body: JSON is decoded and scrubbed as a payload; form data
    (``a=1&b=2``) as a query string; anything else goes to the detectors."""
    text = value.strip()
    if text[:1] in "{[":
        try:
            decoded = json.loads(text)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, (dict, list)):
            try:
                scrub_payload(m, {"body": decoded})
                # ASCII escapes: a lone surrogate in the body must not make the batch unstorable
                return json.dumps(decoded, ensure_ascii=True, separators=(",", ":"))
            except RecursionError:
                return mask_all(value)  # too deep to check: keep nothing of it
    if "=" in text and " " not in text and "\n" not in text:
        scrubbed, n = scrub_url("?" + text, m.keep_params)
        if n:
            m.count("url_query", None, "payload", n=n)
        return m.detect(scrubbed[1:], None, "payload")
    return m.detect(value, None, "payload")


def scrub_canvas(m: Masker, data: dict[str, Any], node_id: int | None) -> None:
    """Mask detector findings in the text a CanvasMutation draws (``commands`` list of rrweb 1+,
    or one command at the top level in older recordings)."""
    commands = data.get("commands")
    for cmd in commands if isinstance(commands, list) else [data]:
        if not isinstance(cmd, dict) or cmd.get("property") not in TEXT_COMMANDS:
            continue
        args = cmd.get("args")
        if isinstance(args, list) and args and isinstance(args[0], str):
            args[0] = m.detect(args[0], node_id, "canvas:text")
