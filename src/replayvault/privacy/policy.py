"""Privacy policy per project: which detectors run, what is always masked or blocked, canvas, URLs.

A policy is YAML or JSON, validated strictly (unknown keys, unknown detectors, bad selectors and
bad patterns are errors naming the field). The default is strict: every registered detector on
(``detectors.REGISTRY``), nothing kept, canvas dropped. Example::

    disabled_detectors: [phone]          # or: detectors: [email, card, iban]
    mask_selectors: [".balance", "#customer-name", "td[data-col=amount]"]
    block_selectors: [".chat-widget"]
    canvas: false                        # CanvasMutation events and canvas images are dropped
    urls:
      keep_query_params: [page, utm_source]   # these query values stay readable
      mask_path_patterns: ["/accounts/*", "/customers/*/documents/*"]   # * segments masked
    retention:                           # GDPR Art. 5(1)(e); default: 30 days, no categories
      default_days: 30
      jurisdiction: "EU — GDPR Art. 5(1)(e)"
      categories:
        - {name: complaint_evidence, days: 365, urls: ["/complaints/*"], note: "kept for complaint handling"}
    capture_scope:                       # pages never recorded; default: every page is in scope
      deny: ["/payments/*", "/cards/*/pin"]        # deny wins over allow
      allow: []                          # empty: every page not denied; else only matching pages
      note: "PCI DSS v4.0 6.4.3: payment pages are never recorded"
    consent:                             # see governance.consent_rules; these are the defaults
      tcf_purposes: [1, 8, 10]           # TCF v2.2 purposes a TC string must consent to
      tcf_vendor_id: null                # your IAB vendor id, if any: its consent is needed too
      honour_dnt: true                   # Do Not Track means no recording (GPC always does)

URL patterns (``urls.*`` excepted, ``retention`` and ``capture_scope``) are those of funnels:
``*`` matches anything, a pattern starting with ``/`` matches the path of any host (see
:mod:`replayvault.analytics._patterns`).

Selectors are simple compound CSS selectors (no combinators): ``tag``, ``.class``, ``#id``,
``[attr]``, ``[attr=value]`` and combinations such as ``td.amount[data-col=x]``; a comma
separates alternatives. Matching elements (and everything inside them) are masked like
``rr-mask`` or blocked like ``rr-block`` by the server, whatever the browser did.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import InvalidInput, UnknownDetector
from ..governance.consent_rules import ConsentRules
from ..strict_yaml import StrictLoader
from .detectors import REGISTRY, Detector, select

__all__ = [
    "MAX_RETENTION_DAYS",
    "STRICT",
    "CaptureScope",
    "Policy",
    "Retention",
    "RetentionCategory",
    "Selector",
    "UrlRules",
    "parse_policy",
    "scope_url",
    "stored_policy",
]

_SIMPLE = re.compile(r"""^(?P<tag>[a-zA-Z][a-zA-Z0-9-]*|\*)?(?P<rest>(?:\#[\w-]+|\.[\w-]+|\[[\w-]+(?:=(?:"[^"]*"|'[^']*'|[^\]]*))?\])*)$""")
_PART = re.compile(r"""\#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:=("[^"]*"|'[^']*'|[^\]]*))?\]""")


@dataclass(frozen=True)
class Selector:
    """One simple compound selector: tag (or None), id, classes, attribute tests."""

    tag: str | None
    id: str | None
    classes: frozenset[str]
    attrs: tuple[tuple[str, str | None], ...]

    @classmethod
    def parse(cls, text: str) -> Selector:
        """Parse ``tag#id.class[attr=value]``.

        Raises:
            ValueError: not a simple compound selector (combinators and pseudo-classes are not supported).
        """
        m = _SIMPLE.match(text.strip())
        if not m or not text.strip():
            raise ValueError(f"unsupported selector {text.strip()[:60]!r}: use tag, #id, .class, [attr], [attr=value]")
        ident, classes, attrs = None, set(), []
        for i, c, a, v in _PART.findall(m.group("rest")):
            if i:
                ident = i
            elif c:
                classes.add(c)
            else:
                attrs.append((a.lower(), v.strip("\"'") if v else None))
        tag = m.group("tag")
        return cls(None if tag in (None, "*") else tag.lower(), ident, frozenset(classes), tuple(attrs))

    def matches(self, tag: str, attrs: dict[str, Any]) -> bool:
        """Whether an element with lower-case ``tag`` and ``attrs`` (rrweb attribute dict) matches."""
        if self.tag is not None and tag != self.tag:
            return False
        if self.id is not None and attrs.get("id") != self.id:
            return False
        if self.classes and not self.classes <= set(str(attrs.get("class") or "").split()):
            return False
        for name, value in self.attrs:
            if name not in attrs or (value is not None and str(attrs[name]) != value):
                return False
        return True

    def matches_change(self, tag: str, changed: dict[str, Any]) -> bool:
        """Whether an element with lower-case ``tag`` may match now that the attributes in
        ``changed`` (an rrweb attribute mutation: name -> new value, None = removed) changed.

        The state keeps no attribute values, so a test on an attribute that did not change is
        assumed to pass: a mutation can only make the selector match when every test on a changed
        attribute passes and at least one test is on a changed attribute (otherwise nothing this
        selector looks at changed, and the snapshot already decided). When an unchanged attribute
        would in fact fail, the element is masked although it does not match: masking errs on the
        side of hiding.
        """
        if self.tag is not None and tag != self.tag:
            return False
        touched = False
        if self.id is not None and "id" in changed:
            if changed["id"] != self.id:
                return False
            touched = True
        if self.classes and "class" in changed:
            if not self.classes <= set(str(changed["class"] or "").split()):
                return False
            touched = True
        for name, value in self.attrs:
            if name in changed:
                new = changed[name]
                if new is None or new is False or (value is not None and str(new) != value):
                    return False
                touched = True
        return touched


@lru_cache(maxsize=256)
def _compile(selectors: tuple[str, ...]) -> tuple[Selector, ...]:
    return tuple(Selector.parse(s) for s in selectors)


def _selectors(items: list[str]) -> list[str]:
    out = []
    for item in items:
        out += [part.strip() for part in item.split(",") if part.strip()]
    for part in out:
        Selector.parse(part)
    return out


class UrlRules(BaseModel):
    """URL rules: query parameters kept readable, path patterns whose ``*`` segments are masked."""

    model_config = ConfigDict(extra="forbid", strict=True)

    keep_query_params: list[str] = Field(default_factory=list, max_length=100)
    mask_path_patterns: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("mask_path_patterns")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        for p in value:
            if not p.startswith("/") or "*" not in p:
                raise ValueError(f"path pattern {p[:60]!r} must start with / and contain a * segment")
        return value

    def keep(self) -> frozenset[str]:
        """Query parameter names whose values stay readable."""
        return frozenset(self.keep_query_params)

    def mask_path(self, path: str) -> tuple[str, int]:
        """``path`` with the segments under a ``*`` of the first matching pattern masked; and how many."""
        segs = path.split("/")
        for pattern in self.mask_path_patterns:
            pats = pattern.split("/")
            if len(pats) != len(segs) or any(p != "*" and p != s for p, s in zip(pats, segs)):
                continue
            n = 0
            for i, p in enumerate(pats):
                if p == "*" and segs[i] and set(segs[i]) != {"*"}:
                    segs[i], n = "*" * len(segs[i]), n + 1
            return "/".join(segs), n
        return path, 0


_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
#: Longest retention period a policy may set, days (10 years: the longest record-keeping duty seen in banking).
MAX_RETENTION_DAYS = 3650


class RetentionCategory(BaseModel):
    """A page category with its own retention period: pages whose (masked) URL matches one of ``urls``
    (the URL patterns of funnels and search: ``*`` wildcard, ``/path`` matches the path of any host)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str
    days: int = Field(ge=1, le=MAX_RETENTION_DAYS)
    urls: list[str] = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=200)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CATEGORY.match(value):
            raise ValueError("category name must be 1-64 lower-case letters, digits or '_', starting with a letter")
        return value

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return _url_patterns(value)


def _url_patterns(value: list[str]) -> list[str]:
    """``value`` when every item is a valid URL pattern (analytics._patterns); ValueError naming the problem."""
    from ..analytics._patterns import url_regex

    for pattern in value:
        try:
            url_regex(pattern)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
    return value


class Retention(BaseModel):
    """Retention periods (GDPR Art. 5(1)(e) storage limitation): ``default_days`` for pages in no
    category, one period per category; a session is kept for the longest period among the pages it
    visited, counted from when its first batch was received. ``jurisdiction`` records the legal basis."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    default_days: int = Field(default=30, ge=1, le=MAX_RETENTION_DAYS)
    jurisdiction: str = Field(default="", max_length=200)
    categories: list[RetentionCategory] = Field(default_factory=list, max_length=50)

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[RetentionCategory]) -> list[RetentionCategory]:
        names = [c.name for c in value]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"category {name!r} is defined twice")
        return value

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of this section (sessions record which section set their period)."""
        raw = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


@lru_cache(maxsize=1024)
def _url_matcher(pattern: str) -> Any:
    from ..analytics._patterns import url_matcher

    return url_matcher(pattern)


_SCOPE_PATTERN_START = re.compile(r"^(/|\*|[A-Za-z][A-Za-z0-9+.-]*:)")
_URL_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)(//[^/]*)?(.*)$", re.DOTALL)
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    parts = path.split("/")
    for i, seg in enumerate(parts):
        if seg == ".":
            if i == len(parts) - 1:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if i == len(parts) - 1:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def scope_url(url: str) -> str:
    """A page URL as capture scope matches it (RFC 3986 §6.2.2 normalisation): query and fragment dropped,
    scheme and host lower-cased, percent-encoded unreserved characters decoded (§2.3), runs of ``/`` in the
    path made one, dot segments removed (§5.2.4). Servers commonly serve all these spellings as one page,
    so a deny pattern must not be passed by writing the path another way."""
    url = url.split("#", 1)[0].split("?", 1)[0]
    m = _URL_PARTS.match(url)
    scheme, authority, path = (m.group(1).lower(), (m.group(2) or "").lower(), m.group(3)) if m else ("", "", url)

    def unreserved(p: re.Match[str]) -> str:
        ch = chr(int(p.group(1), 16))
        return ch if ch in _UNRESERVED else p.group(0)

    path = _PCT.sub(unreserved, path)
    path = re.sub(r"/{2,}", "/", path)
    return scheme + authority + _remove_dot_segments(path)


class CaptureScope(BaseModel):
    """Which pages may be recorded at all: URL patterns (funnel rules: ``*`` wildcard, ``/path`` matches
    the path of any host), matched against a page URL without query string and fragment.

    ``deny`` patterns are never recorded and win over ``allow``; an empty ``allow`` (the default) allows
    every page, a non-empty one only the pages it matches. ``note`` (max 200 characters) records why.
    At most 100 patterns each. The reason to keep recorders off payment pages: PCI DSS v4.0 requirement
    6.4.3 asks that every script running on a payment page be authorized and justified, and a session
    recorder has no business need there (e.g. ``deny: ["/payments/*"]``).

    The tracker does not record out-of-scope pages (:meth:`to_tracker`); ingest drops and counts any
    that arrive anyway (:mod:`replayvault.governance.scope`).

    Each pattern starts with ``/`` (a path on any host), ``*`` or a scheme (``https://…``): anything else
    could never match a page URL and is refused. URLs are normalised before matching (:func:`scope_url`:
    ``//payments/x``, ``/a/../payments/x`` and ``/pay%6Dents/x`` are ``/payments/x``), but the path stays
    case-sensitive (``/Payments/x`` does not match ``/payments/*``): write patterns for the URLs the site
    really uses. The fragment is ignored, so hash routes (``/#/payments``) cannot be told apart: such a
    site needs its payment pages under a path of their own, or an ``allow`` list.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    allow: list[str] = Field(default_factory=list, max_length=100)
    deny: list[str] = Field(default_factory=list, max_length=100)
    note: str = Field(default="", max_length=200)

    @field_validator("allow", "deny")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        _url_patterns(value)  # empty, too long...
        for pattern in value:
            if not _SCOPE_PATTERN_START.match(pattern.strip()):
                raise ValueError(f"pattern {pattern[:60]!r} must start with '/', '*' or a scheme such as https://")
        return value

    def decide(self, url: str) -> tuple[bool, str]:
        """``(in scope, deciding pattern)`` for a page ``url`` (its query string and fragment are ignored).

        The URL is normalised first (:func:`scope_url`), so ``//payments/card``, ``/a/../payments/card`` and
        ``/%70ayments/card`` are all ``/payments/card``; a deny pattern ending in ``/*`` also covers the bare
        directory (``/payments``). The first matching ``deny`` pattern puts the page out of scope; otherwise, with a non-empty
        ``allow``, the first matching ``allow`` pattern puts it in scope and no match puts it out
        (pattern ``""``); with an empty ``allow`` the page is in scope (pattern ``""``). A URL without
        scheme that starts with ``/`` is matched as a path. Linear time in the URL length per pattern
        (no regular expression: see :mod:`replayvault.analytics._patterns`).
        """
        url = scope_url(url)
        if url.startswith("/"):  # a path only: path patterns must still apply ("/payments/x")
            url = "path:" + url
        # "/payments/*" also denies "/payments" itself (the directory the pattern names).
        candidates = (url,) if url.endswith("/") else (url, url + "/")
        for pattern in self.deny:
            if any(_url_matcher(pattern).match(u) for u in candidates):
                return False, pattern
        if not self.allow:
            return True, ""
        for pattern in self.allow:
            if _url_matcher(pattern).match(url):
                return True, pattern
        return False, ""

    def to_tracker(self) -> dict[str, list[str]]:
        """The JSON the collector hands to the tracker: ``{"allow": [...], "deny": [...]}`` (patterns as set)."""
        return {"allow": list(self.allow), "deny": list(self.deny)}


class Policy(BaseModel):
    """A project's privacy policy (see the module docstring). Immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    detectors: list[str] | None = None
    disabled_detectors: list[str] = Field(default_factory=list)
    mask_selectors: list[str] = Field(default_factory=list, max_length=200)
    block_selectors: list[str] = Field(default_factory=list, max_length=200)
    canvas: bool = False
    urls: UrlRules = Field(default_factory=UrlRules)
    retention: Retention = Field(default_factory=Retention)
    capture_scope: CaptureScope = Field(default_factory=CaptureScope)
    consent: ConsentRules = Field(default_factory=ConsentRules)

    @field_validator("detectors", "disabled_detectors")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            select(value)  # raises UnknownDetector naming the bad one
        return value

    @field_validator("mask_selectors", "block_selectors")
    @classmethod
    def _valid_selectors(cls, value: list[str]) -> list[str]:
        return _selectors(value)

    def active_detectors(self) -> tuple[Detector, ...]:
        """The detectors this policy runs, in registry order."""
        names = set(self.detectors) if self.detectors is not None else {d.name for d in REGISTRY}
        return select(names - set(self.disabled_detectors))

    def compiled(self) -> tuple[tuple[Selector, ...], tuple[Selector, ...]]:
        """``(mask selectors, block selectors)`` parsed (cached: this runs for every batch)."""
        return _compile(tuple(self.mask_selectors)), _compile(tuple(self.block_selectors))

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the policy (what the audit log records on a change)."""
        raw = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


#: The default: every detector, nothing kept, canvas dropped.
STRICT = Policy()


@lru_cache(maxsize=128)
def _stored(canonical: str) -> Policy:
    return parse_policy(json.loads(canonical))


def stored_policy(data: dict[str, Any] | None) -> Policy:
    """The policy a project stores (a dict already validated when it was set), parsed once per
    distinct content: ingest calls this for every batch.

    Raises:
        InvalidInput: the stored dict is no longer a valid policy.
    """
    return STRICT if data is None else _stored(json.dumps(data, sort_keys=True))


def parse_policy(text: str | bytes | dict[str, Any] | None) -> Policy:
    """Validate a policy given as YAML or JSON text (or an already decoded mapping; None = strict).

    Raises:
        InvalidInput: not YAML/JSON, not a mapping, or a field is invalid — the message names the
            field and the problem (e.g. ``mask_selectors.0: unsupported selector 'div > p'``).
    """
    if text is None:
        return STRICT
    data: Any = text
    if isinstance(text, (str, bytes)):
        if len(text) > 64_000:
            raise InvalidInput("policy is larger than 64 KB")
        try:
            data = yaml.load(text, Loader=StrictLoader) if text.strip() else {}  # JSON is YAML 1.2
        except RecursionError:
            raise InvalidInput("policy is nested too deeply") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            what = getattr(exc, "problem", None) or "syntax error"
            raise InvalidInput(f"policy is not valid YAML or JSON: {what} (line {getattr(mark, 'line', -1) + 1})") from None
    if not isinstance(data, dict):
        raise InvalidInput("a policy is a mapping (YAML) or an object (JSON)")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "policy"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise InvalidInput(f"policy field {where}: {msg}") from None
    except UnknownDetector as exc:
        raise InvalidInput(f"policy: {exc}") from None
