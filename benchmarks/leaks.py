"""Leak benchmark: type personal data into real-world forms through the real tracker, then search everything stored.

Usage: .venv/bin/python benchmarks/leaks.py [--pages N] [--html-dir DIR] [--index FILE] [--home DIR] [--seed N]

Each saved page of ../shared/data/forms/html (Formasaurus, real signup/login/checkout/contact pages)
is served from a small loopback site (origin A) and opened in headless Chromium (every non-loopback
request aborted). The built tracker is loaded from the replayvault server (origin B, the project's
only allowed origin), consent is granted, and every annotated field of a personal kind (password,
email, phone, names, address, card number and security code, birth date parts, username...) gets a
known fake value: one per page is assigned by script before recording starts (``el.value = ...``,
no event: only the full snapshot sees it), the others are typed (``fill`` and key by key, in turn).
The tracker flushes (fetch), then the page is left, so the last events go out through sendBeacon.

Then everything stored for the project is decrypted and searched: every chunk's events
(``session_events``), the sealed pipeline state (mask and fact state), the raw chunk files, the
SQLite database (every text cell, and the file bytes), the DuckDB analytics store (every text cell,
and the file bytes) and any other file in the data directory except the key files. A typed value
counts as found when it occurs exactly, without separators (spaces, dashes, dots, slashes,
parentheses), or when any 6-character fragment of it occurs (values of >= 6 characters; fragments
that also occur in the pages' own HTML, or that look like hex/digits, cannot tell a leak from noise
and are left out, as their count says). Values shorter than 6 characters (birth day, security
code...) are searched as whole values where rrweb records an input's value (Input events' text,
``value`` attributes). Matching ignores case. Findings name the page, the field type, the storage
and where in it (e.g. the rrweb event and attribute carrying the value), never the value itself.
Sealed base64 text (pipeline state) is searched decrypted, not as random base64.

Positive control: on every page a text paragraph (not a form value, so stored unmasked) is added
after recording starts; the run is incomplete unless the search finds each one in its session.

Exit status: 0 nothing found, 1 a typed value was found, 2 the run was incomplete (a page failed
or its session was not stored).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import random
import re
import socket
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from replayvault.config import Settings
from replayvault.db.models import RecordingSession
from replayvault.demo_runner import start_server
from replayvault.projects_setup import ensure_project
from replayvault.recordings import session_events
from replayvault.runtime import Runtime
from replayvault.vault.codec import MAGIC, open_chunk

ROOT = Path(__file__).resolve().parents[1]
FORMS = ROOT.parent / "shared" / "data" / "forms"
HTML_DIR = FORMS / "html"
INDEX = FORMS / "index.json"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PROJECT = "leak-bench"
CANARY = "canary"  # code of the control values (page text, expected to be found)

#: Field type codes (field_types.json) that hold personal data, and what each one is.
PERSONAL_KINDS: dict[str, str] = {
    "us": "username", "ue": "username or email", "p1": "password", "p2": "password confirmation",
    "e1": "email", "e2": "email confirmation", "ph": "phone", "P0": "phone country code",
    "P1": "phone part 1", "P2": "phone part 2", "P3": "phone part 3", "fa": "fax",
    "n1": "first name", "n2": "middle name", "n3": "last name", "nf": "full name", "ns": "screen name",
    "Ad": "address", "Sa": "full street address", "Sn": "street name", "S#": "street number",
    "A#": "apartment number", "A1": "address line 1", "A2": "address line 2", "PO": "PO box",
    "Zi": "postal code", "Ci": "city", "bd": "day of birth", "bm": "month of birth",
    "by": "year of birth", "bD": "full birth date", "c#": "credit card number",
    "cs": "credit card security code", "ch": "credit card holder name", "cA": "credit card address",
    "sa": "answer to security question", "am": "about me text",
}

MIN_FRAGMENT = 6
_SEPARATORS = re.compile(r"[\s\-./()]+")
_NOISY_GRAM = re.compile(r"[0-9a-f\-]{6}")  # hex digests, uuids, plain numbers: found by chance
_TEXT_INPUT_TYPES = {"", "text", "email", "tel", "password", "search", "url", "number", "date", "month",
                     "week", "datetime-local", "time"}
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{64,}={0,2}")


# --------------------------------------------------------------------------- data model

@dataclass
class FieldResult:
    """One annotated field: what was done with it. ``value`` is never printed."""

    page: str
    form: int
    name: str
    code: str
    status: str  # "typed", "script", or "skipped: <reason>"
    method: str = ""  # fill | keys | script
    value: str = field(default="", repr=False)

    @property
    def set(self) -> bool:
        return self.status in ("typed", "script", "canary")


@dataclass
class PageResult:
    """One page load: its session and what reached the server."""

    name: str
    url: str
    session_id: str | None = None
    chunks: int = 0
    events: int = 0
    input_events: int = 0
    full_snapshots: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass
class Finding:
    """A typed value (or a fragment of it) found in storage."""

    page: str
    field: str
    code: str
    storage: str  # chunk | state | db | duckdb | chunk-file | file
    where: str
    match: str  # exact | nosep | fragment | whole
    length: int  # characters of the value that matched
    value_length: int


@dataclass
class Report:
    """Result of :func:`run`."""

    pages: list[PageResult]
    fields: list[FieldResult]
    findings: list[Finding]
    seconds: float
    #: Positive controls: one text per page added as page text (not a form value), which must be found.
    canaries: list[FieldResult] = field(default_factory=list)
    canaries_found: int = 0
    scan_seconds: float = 0.0
    scanned: dict[str, int] = field(default_factory=dict)  # storage -> characters searched
    fragments_left_out: int = 0
    short_values: int = 0

    @property
    def values_typed(self) -> int:
        return sum(1 for f in self.fields if f.set)

    @property
    def by_script(self) -> int:
        return sum(1 for f in self.fields if f.status == "script")

    @property
    def skipped(self) -> int:
        return sum(1 for f in self.fields if not f.set)

    @property
    def skip_reasons(self) -> Counter:
        return Counter(f.status.split(": ", 1)[1] for f in self.fields if not f.set)

    @property
    def values_found(self) -> int:
        return len({(f.page, f.field) for f in self.findings})

    @property
    def incomplete(self) -> list[PageResult]:
        """Pages that failed, or whose typed values were not stored as a session."""
        typed = {f.page for f in self.fields if f.set}
        return [p for p in self.pages
                if p.error or (p.name in typed and (not p.chunks or not p.full_snapshots))]


# --------------------------------------------------------------------------- pages

def load_index(index: Path = INDEX) -> dict[str, dict]:
    """index.json: page file name -> {"url", "forms", "visible_html_fields": [{name: code}]}."""
    return json.loads(Path(index).read_text())


def personal_fields(entry: dict) -> list[tuple[int, str, str]]:
    """``(form index, field name, code)`` of the page's annotated fields of a :data:`PERSONAL_KINDS` kind."""
    return [(i, name, code) for i, form in enumerate(entry.get("visible_html_fields") or [])
            for name, code in form.items() if code in PERSONAL_KINDS]


def select_pages(index: dict[str, dict], n: int | None = None) -> list[str]:
    """The first ``n`` pages (all when None) in index order with at least one personal field."""
    chosen = [name for name, entry in index.items() if personal_fields(entry)]
    return chosen if n is None else chosen[:n]


# --------------------------------------------------------------------------- fake values

_SYLLABLES = ("vor", "qua", "zel", "mir", "thu", "dax", "kel", "ryn", "oso", "tav", "quin", "zor", "wex",
              "lum", "jor", "nix", "pry", "sil", "vek", "yal", "kor", "dru", "gan", "hol", "rik", "uma")
_LETTERS = "BCDFGHJKLMNPQRSTVWXZ"


def luhn_complete(digits: str) -> str:
    """``digits`` followed by its Luhn check digit."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these sit at odd positions from the right once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


class Faker:
    """Deterministic fake personal values of each kind, unique per field (a counter is part of most)."""

    def __init__(self, seed: int = 20240611) -> None:
        self.rng = random.Random(seed)
        self.k = 0
        self.seen: set[str] = set()

    def _name(self, parts: int = 3) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def value(self, code: str, input_type: str = "") -> str:
        """A new value for a field of type ``code`` (``input_type`` the element's type)."""
        for _ in range(100):
            self.k += 1
            v = self._make(code, input_type)
            if v not in self.seen or len(v) < MIN_FRAGMENT:
                self.seen.add(v)
                return v
        raise RuntimeError("could not make a unique value")  # pragma: no cover

    def _make(self, code: str, input_type: str) -> str:
        r, k = self.rng, self.k
        first, last = self._name(3), self._name(3)
        year, month, day = r.randint(1931, 1999), r.randint(1, 12), r.randint(1, 28)
        if input_type == "date":
            return f"{year}-{month:02d}-{day:02d}"
        if input_type == "number":
            return {"bd": f"{day}", "bm": f"{month}", "by": f"{year}", "cs": self._digits(3)}.get(
                code, "7" + self._digits(7))
        if code in ("p1", "p2"):
            return f"{self._name(2)}#{k:03d}!{r.choice(_LETTERS)}{self._digits(2)}"
        if code in ("e1", "e2", "ue"):
            return f"{first.lower()}.{last.lower()}{k}@{self._name(2).lower()}mail.test"
        if code == "us":
            return f"{first.lower()}_{k:03d}{r.choice(_LETTERS).lower()}"
        if code in ("ph", "fa"):
            return f"+1 ({r.randint(201, 989)}) {r.randint(200, 999)} {k:04d}"
        if code == "P0":
            return f"+{r.randint(30, 49)}"
        if code == "P1":
            return f"{r.randint(201, 989)}"
        if code in ("P2", "P3"):
            return f"{r.randint(200, 9999)}"
        if code == "n1":
            return first
        if code == "n2":
            return self._name(2)
        if code == "n3":
            return last + "ov"
        if code in ("nf", "ns", "ch"):
            return f"{first} {last}"
        if code in ("Ad", "Sa", "A1", "cA"):
            return f"{r.randint(10, 9899)} {self._name(2)} Street {k}"
        if code == "Sn":
            return f"{self._name(2)} Lane"
        if code in ("S#", "A#"):
            return f"{r.randint(2, 999)}"
        if code == "A2":
            return f"Apt {r.randint(2, 99)}{r.choice(_LETTERS)} {self._name(2)} Court"
        if code == "PO":
            return f"PO Box {k}{self._digits(2)}"
        if code == "Zi":
            return f"{r.choice(_LETTERS)}{r.choice(_LETTERS)}{r.randint(1, 9)} {r.randint(1, 9)}{r.choice(_LETTERS)}{r.choice(_LETTERS)}"
        if code == "Ci":
            return self._name(3) + "burg"
        if code == "bd":
            return f"{day:02d}"
        if code == "bm":
            return f"{month:02d}"
        if code == "by":
            return f"{year}"
        if code == "bD":
            return f"{day:02d}/{month:02d}/{year}"
        if code == "c#":
            number = luhn_complete("4" + self._digits(14))
            return " ".join(number[i:i + 4] for i in range(0, 16, 4))
        if code == "cs":
            return self._digits(3)
        if code == "sa":
            return f"{self._name(2)} the {self._name(2).lower()}"
        if code == "am":
            return f"I am {first} {last}, born {day:02d}/{month:02d}/{year} in {self._name(3)}."
        raise KeyError(code)


def nosep(value: str) -> str:
    """``value`` without separators (spaces, dashes, dots, slashes, parentheses)."""
    return _SEPARATORS.sub("", value)


# --------------------------------------------------------------------------- servers and browser

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pages_app(html_dir: Path, names: list[str]) -> Starlette:
    """Serves ``/p/<name>`` = the saved page's bytes as they are (the browser sniffs the charset)."""
    allowed = set(names)

    async def page(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in allowed:
            return PlainTextResponse("not found", status_code=404)
        return Response((Path(html_dir) / name).read_bytes(), media_type="text/html",
                        headers={"Cache-Control": "no-store"})

    async def other(request: Request) -> Response:
        return PlainTextResponse("not found", status_code=404)

    return Starlette(routes=[Route("/p/{name}", page), Route("/{rest:path}", other)])


def _loopback_only(route: Any) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost", "::1"):
        route.continue_()
    else:
        route.abort()


_INJECT = """(o) => new Promise((resolve, reject) => {
  const s = document.createElement('script');
  s.src = o.src; s.dataset.endpoint = o.endpoint; s.dataset.writeKey = o.key;
  s.onload = () => resolve(true);
  s.onerror = () => reject(new Error('the tracker did not load'));
  (document.body || document.documentElement).appendChild(s);
})"""


def _css_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ") + '"'


def _wait(page: Any, predicate: Callable[[], Any], timeout: float) -> Any:
    """Poll through Playwright (so route handlers keep running) until ``predicate`` is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        page.wait_for_timeout(50)


def _chunk_count(rt: Runtime, session_id: str) -> int:
    with rt.sessions() as db:
        return int(db.scalar(select(RecordingSession.chunk_count).where(RecordingSession.id == session_id)) or 0)


def _pick_element(page: Any, name: str, used: set[tuple[str, int]]) -> tuple[Any | None, str]:
    """The first visible, not yet used form control named ``name``; or None and why."""
    sel = _css_string(name)
    loc = page.locator(f"input[name={sel}], textarea[name={sel}], select[name={sel}]")
    n = loc.count()
    if n == 0:
        return None, "not in page"
    reason = "not visible"
    for i in range(n):
        if (name, i) in used:
            reason = "no element left"
            continue
        el = loc.nth(i)
        if not el.is_visible():
            continue
        used.add((name, i))
        return el, ""
    return None, reason


def _fill_field(el: Any, value: str, method: str) -> None:
    if method == "keys":
        el.fill("", timeout=3000)
        el.press_sequentially(value, delay=0, timeout=3000)
    else:
        el.fill(value, timeout=3000)


def _run_page(ctx_browser: Any, rt: Runtime, name: str, entry: dict, site: str, collector: str,
              write_key: str, faker: Faker, counter: list[int]) -> tuple[PageResult, list[FieldResult], FieldResult | None]:
    url = f"{site}/p/{name}"
    res = PageResult(name=name, url=entry.get("url", ""))
    fields: list[FieldResult] = []
    wanted = personal_fields(entry)
    canary: FieldResult | None = None
    t0 = time.perf_counter()
    context = ctx_browser.new_context(bypass_csp=True, service_workers="block")
    context.route("**/*", _loopback_only)
    try:
        page = context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda e: page_errors.append(str(e).splitlines()[0][:120] if str(e) else repr(e)))
        page.set_default_timeout(10_000)
        page.goto(url, wait_until="domcontentloaded")

        # Pick the elements first; the first usable one gets its value by script before recording starts.
        used: set[tuple[str, int]] = set()
        plan: list[tuple[FieldResult, Any, str]] = []
        for form, fname, code in wanted:
            fr = FieldResult(page=name, form=form, name=fname, code=code, status="")
            fields.append(fr)
            el, why = _pick_element(page, fname, used)
            if el is None:
                fr.status = f"skipped: {why}"
                continue
            tag, itype = el.evaluate("e => [e.tagName.toLowerCase(), (e.getAttribute('type') || '').toLowerCase()]")
            if tag == "select":
                fr.status = "skipped: select (choices, not typed)"
                continue
            if tag == "input" and itype not in _TEXT_INPUT_TYPES:
                fr.status = f"skipped: input type {itype}"
                continue
            if not el.is_editable():
                fr.status = "skipped: read-only or disabled"
                continue
            plan.append((fr, el, itype))

        def set_value(fr: FieldResult, el: Any, itype: str, method: str) -> None:
            value = faker.value(fr.code, itype)
            try:
                if method == "script":
                    el.evaluate("(e, v) => { e.value = v; }", value)  # no event: the browser never sees it typed
                else:
                    _fill_field(el, value, method)
                actual = el.input_value(timeout=3000)
            except Exception as exc:  # noqa: BLE001 - a page that refuses a value skips the field
                fr.status = f"skipped: could not type ({type(exc).__name__})"
                return
            if not actual:
                fr.status = "skipped: value rejected"
                return
            fr.value, fr.method = actual, method  # maxlength or page scripts may have changed it
            fr.status = "script" if method == "script" else "typed"

        if plan:
            set_value(*plan[0], "script")
        page.evaluate(_INJECT, {"src": f"{collector}/t/replayvault.js", "endpoint": collector, "key": write_key})
        if not page.evaluate("() => !!(window.replayvault && window.replayvault.version)"):
            raise RuntimeError(f"the tracker did not start (last page error: {page_errors[-1] if page_errors else 'none'})")
        page.evaluate("() => replayvault.consent.grant()")
        # rrweb starts once the collector answered the grant (consent token and capture scope)
        page.wait_for_function("() => replayvault.stats().recording && !replayvault.stats().paused")
        res.session_id = page.evaluate("() => replayvault.sessionId()")
        if not page.evaluate("() => replayvault.flush()"):  # the full snapshot (with the script-set value)
            res.error = "first flush was not accepted"
        # Positive control: page text (not a form value) is stored as it is, so the search must find it.
        canary = FieldResult(page=name, form=-1, name="(page text)", code=CANARY, status="canary", method="text",
                             value=f"~canary~{name}~")  # shares no fragment with a typed value
        page.evaluate("""(v) => { const p = document.createElement('p'); p.textContent = v;
            (document.body || document.documentElement).appendChild(p); }""", canary.value)
        for fr, el, itype in plan[1:]:
            counter[0] += 1
            set_value(fr, el, itype, "keys" if counter[0] % 2 else "fill")
        page.wait_for_timeout(150)  # let rrweb's input listeners and mutation observer run
        stats = page.evaluate("() => replayvault.stats()")
        expected = int(stats["nextSeq"]) + (1 if stats["buffered"] else 0)
        page.goto("about:blank")  # pagehide: the typed events leave through sendBeacon
        stored = _wait(page, lambda: _chunk_count(rt, res.session_id) >= expected, timeout=10)
        if not stored and res.error is None:
            res.error = f"session not stored ({_chunk_count(rt, res.session_id)} of {expected} batches)"
    except Exception as exc:  # noqa: BLE001 - reported per page
        res.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
        for fr in fields:
            if not fr.status:
                fr.status = "skipped: page error"
    finally:
        context.close()
    for fr in fields:
        if not fr.status:
            fr.status = "skipped: page error"
    res.seconds = time.perf_counter() - t0
    return res, fields, canary


# --------------------------------------------------------------------------- search

class _Needles:
    """Search terms of every typed value, by 6-character probe."""

    def __init__(self, values: list[FieldResult], noise: str) -> None:
        self.values = values
        self.probes: dict[str, list[tuple[int, str | None]]] = defaultdict(list)
        self.short: dict[str, list[int]] = defaultdict(list)
        for i, fr in enumerate(values):
            v = fr.value.lower()
            if fr.code == CANARY:  # controls: searched whole only
                self.probes[v[:MIN_FRAGMENT]].append((i, v))
                continue
            if len(v) < MIN_FRAGMENT:
                self.short[v.strip()].append(i)
                continue
            for j in range(len(v) - MIN_FRAGMENT + 1):
                g = v[j:j + MIN_FRAGMENT]
                if not _NOISY_GRAM.fullmatch(g) and (i, None) not in self.probes[g]:
                    self.probes[g].append((i, None))
            self.probes[v[:MIN_FRAGMENT]].append((i, v))  # exact value, confirmed with `in`
            n = nosep(v)
            if n != v and len(n) >= MIN_FRAGMENT:
                self.probes[n[:MIN_FRAGMENT]].append((i, n))
        # Fragments that the pages themselves contain would be found without any leak.
        self.left_out = 0  # distinct fragments left out
        for g in _gram_hits(noise.lower(), set(self.probes)):
            kept = [p for p in self.probes[g] if p[1] is not None]
            self.left_out += len(kept) < len(self.probes[g])
            self.probes[g] = kept
        self.grams = {g for g, p in self.probes.items() if p}

    def search(self, text: str) -> list[tuple[int, str, int, int]]:
        """``(value index, match kind, matched length, position)`` of each value found in ``text``."""
        low = text.lower()
        best: dict[int, tuple[int, str, int, int]] = {}
        rank = {"exact": 3, "nosep": 2, "fragment": 1}
        for g, pos in _gram_hits(low, self.grams).items():
            for i, variant in self.probes[g]:
                v = self.values[i].value.lower()
                if variant is None:
                    kind, length, at = "fragment", _extend(low, pos, g, v), pos
                else:
                    at = low.find(variant)
                    if at < 0:
                        continue
                    kind, length = ("exact" if variant == v else "nosep"), len(variant)
                cand = (rank[kind], length)
                if i not in best or cand > (rank[best[i][1]], best[i][2]):
                    best[i] = (i, kind, length, at)
        return list(best.values())


def _gram_hits(text: str, grams: set[str]) -> dict[str, int]:
    """First position of each 6-character string of ``grams`` in ``text``."""
    hits: dict[str, int] = {}
    if not grams:
        return hits
    firsts = {g[0] for g in grams}
    for i in range(len(text) - MIN_FRAGMENT + 1):
        if text[i] in firsts:
            g = text[i:i + MIN_FRAGMENT]
            if g in grams and g not in hits:
                hits[g] = i
    return hits


def _extend(text: str, pos: int, gram: str, value: str) -> int:
    """Length of the longest piece of ``value`` around the fragment found at ``pos``."""
    best = MIN_FRAGMENT
    start = 0
    while (j := value.find(gram, start)) >= 0:
        a, b = pos, pos + MIN_FRAGMENT
        va, vb = j, j + MIN_FRAGMENT
        while a > 0 and va > 0 and text[a - 1] == value[va - 1]:
            a, va = a - 1, va - 1
        while b < len(text) and vb < len(value) and text[b] == value[vb]:
            b, vb = b + 1, vb + 1
        best = max(best, b - a)
        start = j + 1
    return best


def _strings(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string (dict keys included) of a JSON value, with its path."""
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield f"{path}.{k}#key", str(k)
            yield from _strings(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")


class _Haystack:
    """Strings joined by NUL, with their labels, so one pass searches them all."""

    def __init__(self, storage: str) -> None:
        self.storage = storage
        self.parts: list[str] = []
        self.labels: list[str] = []
        self.starts: list[int] = []
        self.size = 0

    def add(self, label: str, text: str) -> None:
        self.starts.append(self.size)
        self.parts.append(text)
        self.labels.append(label)
        self.size += len(text) + 1

    def label_at(self, pos: int) -> str:
        return self.labels[max(0, bisect.bisect_right(self.starts, pos) - 1)]

    def text(self) -> str:
        return "\x00".join(self.parts)


def _event_label(events: list[dict], path: str) -> str:
    """``events[12].data.adds[0].node.attributes.value`` -> a readable rrweb location."""
    m = re.match(r"\[(\d+)\](.*)", path)
    if not m:
        return path
    ev = events[int(m.group(1))]
    data = ev.get("data") if isinstance(ev.get("data"), dict) else {}
    kind = {2: "FullSnapshot", 3: "IncrementalSnapshot", 4: "Meta", 5: "Custom"}.get(ev.get("type"), f"type {ev.get('type')}")
    src = {0: "Mutation", 2: "MouseInteraction", 5: "Input"}.get(data.get("source"), data.get("source"))
    desc = f"{kind}" + (f"/{src}" if ev.get("type") == 3 else "") + (f"/{data.get('tag')}" if ev.get("type") == 5 else "")
    return f"{desc} event {m.group(1)}: {m.group(2).lstrip('.')}"


def _value_position(path: str) -> bool:
    """Where rrweb records what an input holds: an Input event's text or a ``value`` attribute."""
    return path.endswith((".text", "attributes.value"))


def _decrypted(rt: Runtime, project_id: str, pages: dict[str, PageResult]) -> Iterator[tuple[_Haystack, str, list[tuple[str, str]]]]:
    """Per session: the decrypted events and the decrypted pipeline state, as haystacks."""
    with rt.sessions() as db:
        sessions = list(db.scalars(select(RecordingSession).where(RecordingSession.project_id == project_id)))
    by_sid = {p.session_id: p for p in pages.values() if p.session_id}
    for sess in sessions:
        if sess.wrapped_dek is None:
            continue
        page = by_sid.get(sess.id)
        who = page.name if page else sess.id[:8]
        events = session_events(rt, sess.id)
        if page:
            page.chunks, page.events = sess.chunk_count, len(events)
            page.input_events = sum(1 for e in events if e.get("type") == 3 and (e.get("data") or {}).get("source") == 5)
            page.full_snapshots = sum(1 for e in events if e.get("type") == 2)
        hay = _Haystack("chunk")
        values: list[tuple[str, str]] = []
        for path, s in _strings(events):
            label = f"{who}: {_event_label(events, path)}"
            hay.add(label, s)
            if _value_position(path):
                values.append((label, s))
        yield hay, who, values
        dek = rt.keys.unwrap(sess.project_id, sess.wrapped_dek)
        state = _Haystack("state")
        for name, text in (("mask", sess.mask_state), ("facts", sess.fact_state)):
            if text and text != "{}":
                obj = json.loads(open_chunk(base64.b64decode(text), dek, f"{sess.id}/state/{name}".encode()))
                for path, s in _strings(obj):
                    state.add(f"{who}: {name} state {path.lstrip('.')}", s)
        yield state, who, []


def _sealed(text: str) -> bool:
    """A base64 text holding a sealed blob (``RVC1`` header): random bytes, searched decrypted instead."""
    if len(text) < 64 or not _BASE64_RUN.fullmatch(text):
        return False
    try:
        return base64.b64decode(text[:16]).startswith(MAGIC)
    except ValueError:
        return False


def _sqlite_cells(path: Path) -> _Haystack:
    hay = _Haystack("db")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            cur = con.execute(f'SELECT * FROM "{t}"')
            cols = [d[0] for d in cur.description]
            for row in cur:
                for col, cell in zip(cols, row):
                    if isinstance(cell, str) and _sealed(cell):
                        continue  # sealed pipeline state: searched decrypted (storage "state")
                    if isinstance(cell, str):
                        hay.add(f"table {t}.{col}", cell)
                    elif isinstance(cell, bytes):
                        hay.add(f"table {t}.{col} (bytes)", cell.decode("latin-1"))
    finally:
        con.close()
    return hay


def _duckdb_cells(path: Path) -> _Haystack:
    import duckdb

    hay = _Haystack("duckdb")
    con = None
    for _ in range(50):
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.IOException:
            time.sleep(0.1)
    if con is None:
        raise RuntimeError("the DuckDB file stayed locked")
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        for t in tables:
            cur = con.execute(f'SELECT * FROM "{t}"')
            cols = [d[0] for d in cur.description]
            for row in cur.fetchall():
                for col, cell in zip(cols, row):
                    if isinstance(cell, str):
                        hay.add(f"table {t}.{col}", cell)
    finally:
        con.close()
    return hay


def _files(rt: Runtime) -> Iterator[_Haystack]:
    """Raw bytes of every stored file except the key files: chunks, SQLite, DuckDB, logs."""
    data = rt.settings.data_dir
    keys = data / "keys"
    sqlite_name = "replayvault.sqlite3"
    for path in sorted(data.rglob("*")):
        if not path.is_file() or keys in path.parents:
            continue
        if rt.settings.chunks_dir in path.parents:
            storage = "chunk-file"
        elif path.name.startswith(sqlite_name):
            storage = "db"
        elif path.name.startswith(rt.settings.analytics_path.name):
            storage = "duckdb"
        else:
            storage = "file"
        hay = _Haystack(storage)
        raw = path.read_bytes().decode("latin-1")
        if storage != "chunk-file":  # long base64 runs are sealed state (searched decrypted): random text
            raw = _BASE64_RUN.sub(lambda m: " " * len(m.group()), raw)
        hay.add(f"file {path.relative_to(data)} (raw bytes)", raw)
        yield hay


def scan(rt: Runtime, project_id: str, fields: list[FieldResult], pages: list[PageResult],
         noise: str) -> tuple[list[Finding], dict[str, int], int]:
    """Search every typed value in everything stored; returns findings, characters searched per storage
    and the number of fragments left out (they occur in the pages' own HTML)."""
    typed = [f for f in fields if f.set]
    needles = _Needles(typed, noise)
    found: dict[tuple[int, str], Finding] = {}
    scanned: Counter = Counter()

    def record(i: int, storage: str, where: str, kind: str, length: int) -> None:
        fr = typed[i]
        rank = {"exact": 4, "nosep": 3, "whole": 2, "fragment": 1}
        cur = found.get((i, storage))
        if cur is None or (rank[kind], length) > (rank[cur.match], cur.length):
            found[(i, storage)] = Finding(fr.page, fr.name, fr.code, storage, where, kind, length, len(fr.value))

    def search(hay: _Haystack) -> None:
        text = hay.text()
        scanned[hay.storage] += len(text)
        for i, kind, length, pos in needles.search(text):
            record(i, hay.storage, hay.label_at(pos), kind, length)

    by_name = {p.name: p for p in pages}
    for hay, who, value_slots in _decrypted(rt, project_id, by_name):
        search(hay)
        for label, s in value_slots:  # short values are not unique: only in their own page's session
            for i in needles.short.get(s.strip().lower(), ()):
                if typed[i].page == who:
                    record(i, hay.storage, label, "whole", len(typed[i].value))
    db_url = rt.settings.db_url
    if db_url.startswith("sqlite:///"):
        search(_sqlite_cells(Path(db_url.removeprefix("sqlite:///"))))
    if rt.settings.analytics_path.exists():
        search(_duckdb_cells(rt.settings.analytics_path))
    for hay in _files(rt):
        search(hay)
    return list(found.values()), dict(scanned), needles.left_out


# --------------------------------------------------------------------------- run

def run(pages: list[str], *, rt: Runtime, browser: Any = None, html_dir: Path = HTML_DIR, index: Path | dict = INDEX,
        seed: int = 20240611, progress: Callable[[int, int, PageResult], None] | None = None) -> Report:
    """Load ``pages`` (file names of ``html_dir``) with the tracker, type fake personal values into
    their annotated fields, store the sessions in ``rt`` and search everything stored.

    ``browser``: a Playwright Browser to reuse (default: launch Debian's Chromium for this run).
    """
    t0 = time.perf_counter()
    idx = index if isinstance(index, dict) else load_index(Path(index))
    from replayvault.web.app import create_app

    site_port, api_port = _free_port(), _free_port()
    site, collector = f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{api_port}"
    project = ensure_project(rt, PROJECT, "Leak benchmark (saved real-world forms)", [site], rotate=True)
    write_key = project.write_key  # type: ignore[attr-defined]
    api = start_server(create_app(rt), "127.0.0.1", api_port)
    site_server = start_server(pages_app(Path(html_dir), pages), "127.0.0.1", site_port)
    faker = Faker(seed)
    results: list[PageResult] = []
    fields: list[FieldResult] = []
    pw = None
    try:
        if browser is None:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        counter = [0]
        canaries: list[FieldResult] = []
        for n, name in enumerate(pages, 1):
            res, fr, canary = _run_page(browser, rt, name, idx[name], site, collector, write_key, faker, counter)
            results.append(res)
            fields.extend(fr)
            if canary is not None:
                canaries.append(canary)
            if progress:
                progress(n, len(pages), res)
        _settle(rt)
        t_scan = time.perf_counter()
        noise = "\n".join((Path(html_dir) / p).read_bytes().decode("utf-8", "replace") for p in pages)
        noise += "\n" + "\n".join(f"{site}/p/{p} {idx[p].get('url', '')}" for p in pages)
        findings, scanned, left_out = scan(rt, PROJECT, fields + canaries, results, noise)
        scan_seconds = time.perf_counter() - t_scan
        seen = {(f.page, f.code) for f in findings if f.code == CANARY and f.storage == "chunk" and f.match == "exact"}
        findings = [f for f in findings if f.code != CANARY]
    finally:
        if pw is not None:
            browser.close()
            pw.stop()
        api.should_exit = True
        site_server.should_exit = True
    short = sum(1 for f in fields if f.set and len(f.value) < MIN_FRAGMENT)
    return Report(results, fields, findings, time.perf_counter() - t0, canaries, len(seen), scan_seconds, scanned,
                  left_out, short)


def _settle(rt: Runtime, quiet: float = 0.5, timeout: float = 10.0) -> None:
    """Wait until no batch arrived for ``quiet`` seconds (late beacons)."""
    def total() -> int:
        with rt.sessions() as db:
            return sum(db.scalars(select(RecordingSession.chunk_count)))

    deadline = time.monotonic() + timeout
    last, since = total(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = total()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return


# --------------------------------------------------------------------------- output

def print_report(report: Report, console: Console | None = None) -> None:
    """Summary, per-kind and (if any) findings tables. Never prints a typed value."""
    console = console or Console()
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for f in report.fields:
        by_kind[f.code]["fields"] += 1
        by_kind[f.code]["typed" if f.set else "skipped"] += 1
    for fd in {(f.page, f.field, f.code) for f in report.findings}:
        by_kind[fd[2]]["found"] += 1
    kinds = Table("kind", "fields", "typed", "skipped", "found", title="By field type")
    for code in sorted(by_kind, key=lambda c: -by_kind[c]["fields"]):
        c = by_kind[code]
        kinds.add_row(f"{code} {PERSONAL_KINDS.get(code, '')}", str(c["fields"]), str(c["typed"]),
                      str(c["skipped"]), str(c["found"]))
    console.print(kinds)

    if report.findings:
        console.print("[bold red]Typed values found in storage[/] (page | field type | storage | match | where):")
        for f in sorted(report.findings, key=lambda f: (f.page, f.field, f.storage)):
            console.print(f"  {f.page} | {f.code} {PERSONAL_KINDS.get(f.code, '')} (field {f.field!r}) | {f.storage} | "
                          f"{f.match}, {f.length} of {f.value_length} chars | {f.where}", highlight=False, soft_wrap=True)
    bad = report.incomplete
    if bad:
        t = Table("page", "problem", title="[bold yellow]Incomplete pages")
        for p in bad:
            t.add_row(p.name, p.error or f"{p.chunks} chunks, {p.full_snapshots} full snapshots stored")
        console.print(t)

    s = Table("", "", title="Leak benchmark", show_header=False)
    s.add_row("pages", f"{len(report.pages)} ({sum(1 for p in report.pages if p.chunks)} sessions stored)")
    s.add_row("personal fields", str(len(report.fields)))
    s.add_row("values typed", f"{report.values_typed} ({report.by_script} set by script, "
                              f"{report.short_values} shorter than {MIN_FRAGMENT} chars)")
    s.add_row("fields skipped", f"{report.skipped}" + (" (" + ", ".join(
        f"{n} {r}" for r, n in report.skip_reasons.most_common()) + ")" if report.skipped else ""))
    s.add_row("events stored", f"{sum(p.events for p in report.pages)} "
                               f"({sum(p.input_events for p in report.pages)} input events, "
                               f"{sum(p.chunks for p in report.pages)} chunks)")
    s.add_row("searched", ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(report.scanned.items())))
    s.add_row("controls found", f"{report.canaries_found} of {len(report.canaries)} (page text added by script, "
                                "stored unmasked: proves the search sees what was stored)")
    s.add_row("fragments left out", f"{report.fragments_left_out} distinct 6-char fragments (they also occur in the "
                                    "pages' own HTML; the values holding them are still searched whole)")
    colour = "green" if report.values_found == 0 else "bold red"
    s.add_row("values found", f"[{colour}]{report.values_found}[/]")
    s.add_row("time", f"{report.seconds:.1f} s (search {report.scan_seconds:.1f} s, "
                      f"{report.seconds / max(1, len(report.pages)):.2f} s per page)")
    console.print(s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=None, help="first N pages with personal fields (default all)")
    ap.add_argument("--html-dir", type=Path, default=HTML_DIR)
    ap.add_argument("--index", type=Path, default=INDEX)
    ap.add_argument("--home", type=Path, default=None, help="data directory (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=20240611, help="seed of the fake values")
    args = ap.parse_args(argv)
    if not args.index.is_file() or not args.html_dir.is_dir():
        print(f"forms data not found ({args.index}, {args.html_dir})", file=sys.stderr)
        return 2
    idx = load_index(args.index)
    pages = select_pages(idx, args.pages)
    console = Console()

    def progress(n: int, total: int, p: PageResult) -> None:
        note = f"[red]{p.error}[/]" if p.error else ""
        console.print(f"  [{n}/{total}] {p.name} {p.seconds:.1f} s {note}", highlight=False)

    with tempfile.TemporaryDirectory() as tmp:
        home = args.home or Path(tmp)
        rt = Runtime(Settings(home=home, allowed_hosts="127.0.0.1,localhost"))
        report = run(pages, rt=rt, html_dir=args.html_dir, index=idx, seed=args.seed, progress=progress)
        print_report(report, console)
    if report.values_found:
        return 1
    return 2 if report.incomplete or report.canaries_found < len(report.canaries) else 0


if __name__ == "__main__":
    sys.exit(main())
