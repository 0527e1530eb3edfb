"""One multi-pattern pass over a text for all enabled detectors, then the validators.

Every detector module declares ``PATTERNS``: ``(name, regex)`` pairs written in the common
subset of Python ``re`` and Hyperscan syntax (ASCII classes, no lookaround, no backreference).
A :class:`Scanner` compiles the patterns of all its detectors into one Hyperscan database
and scans the text once; each hit is handed to the detector it belongs to (``spans`` may
carve or widen it, ``validate`` gives the three-valued verdict). Rejected candidates are
dropped; the rest become :class:`~._finding.Finding` objects.

Candidate semantics (identical for both backends, so a detector never depends on the engine):

1. The text is scanned with every non-ASCII character replaced by ``?`` (one character for
   one, so offsets are character offsets of the original text).
2. For every pattern, a candidate is ``(start, end)`` where ``start`` is the leftmost start of a
   match and ``end`` the furthest end of a match from that start.
3. A candidate whose end does not go past an earlier candidate of the same pattern is dropped
   (``[0-9]{9,}`` on twelve digits gives one candidate, not four).
4. A detector that sets ``MERGE_OVERLAPS`` (``True``, or some pattern names) gets overlapping
   candidates of a pattern as one region (the BIP-39 detector: a 30-word run is one region, not
   19 windows of 12 words; IPv6: one region per address, not one per pair of colons).

Context words in the same pass: a detector module may declare ``REQUIRES_CONTEXT``, pattern
name -> ``(ContextWords, window)``, for patterns whose ``validate`` rejects every span without
one of those words in the ``window`` characters before the span (``has_context``) and whose
``spans`` (if any) start every span at the candidate's start. The words' prefilter regexes
(:meth:`~._util.ContextWords.prefilter`) find a superset of the exact rule's matches, so:

5. A candidate of such a pattern is kept only when a prefilter match ends in
   ``(start - window, start]``. A fixed-width pattern (``\\b[0-9]{4}``: OTP; 9 digits: routing,
   SSN, BSN) is gated inside the engine: its expression is ``(?:words)[\\s\\S]{0,window-1}``
   followed by the pattern, reported by end offset only (start = end - width), so the digit
   runs that fill pages cost no Python call when no label is near. Others (the French tax
   number, whose optional spaces vary its width) are checked after the scan against the
   prefilter's match ends. Findings are the same as without rule 5 (a test compares them).

Backends: Hyperscan (``HS_FLAG_SOM_LEFTMOST`` for detector patterns, end offsets only for
gated patterns and context words; block mode, one scratch per thread) when it imports and
compiles; otherwise Python ``re``, one pattern after the other (rule 5 applied after each). A single Python alternation is not used as the
fallback: it reports one alternative per position, so a card number that is also a phone
candidate would reach only one of the two detectors. Scanning is single-threaded: one call
scans on the calling thread only.
"""

from __future__ import annotations

import logging
import re
import re._parser as re_parser
import sys
import threading
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Callable, Iterable, NamedTuple, Sequence

from ._finding import Finding, Validation
from ._util import ContextWords

__all__ = ["BACKEND", "Scanner", "Spec", "find_with", "scanner_for", "spec_of"]

_log = logging.getLogger(__name__)

Validate = Callable[[str, int, int, str], Validation]
Spans = Callable[[str, int, int, str], Iterable[tuple[int, int]]]
#: ``expression index << 32 | start -> furthest end`` for one scan (int keys: cheaper to build
#: and sort than tuples, ~15% of a dense text's scan).
Hits = dict[int, int]
_SHIFT = 32
_START = (1 << _SHIFT) - 1
#: Per context-word list of the scanner: the sorted end offsets of its prefilter matches.
ContextEnds = list[list[int]]

try:  # pragma: no cover - depends on the installed wheel and the CPU
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None


@dataclass(frozen=True, slots=True, eq=False)
class Spec:
    """What the scanner needs from a detector module (built by :func:`spec_of`, one per module).

    Compared and hashed by identity: :func:`scanner_for` looks scanners up by a tuple of specs
    on every :func:`~replayvault.privacy.detectors.find_all` call, and hashing the pattern
    tuples each time cost more than scanning a short text.
    """

    kind: str
    patterns: tuple[tuple[str, str], ...]
    validate: Validate
    validators: tuple[tuple[str, str], ...]  # pattern name -> validator name
    default_validator: str
    spans: Spans | None = None
    merge: frozenset[str] = frozenset()  # patterns whose overlapping candidates go to spans() as one region
    #: pattern name -> (context words, window): validate() rejects a span without them before it.
    context: tuple[tuple[str, ContextWords, int], ...] = ()

    def validator(self, pattern: str) -> str:
        """Name of the validator used for ``pattern`` (evidence for audit records)."""
        for name, validator in self.validators:
            if name == pattern:
                return validator
        return self.default_validator

    def required_context(self, pattern: str) -> tuple[ContextWords, int] | None:
        """``(words, window)`` that ``validate`` needs before a span of ``pattern``, or ``None``."""
        for name, words, window in self.context:
            if name == pattern:
                return words, window
        return None


def spec_of(module: ModuleType) -> Spec:
    """The :class:`Spec` of a detector module (``KIND``, ``PATTERNS``, ``validate``, ...)."""
    return _spec_of(module.__name__, module)


@lru_cache(maxsize=None)
def _spec_of(_name: str, module: ModuleType) -> Spec:
    return Spec(
        kind=module.KIND,
        patterns=tuple(module.PATTERNS),
        validate=module.validate,
        validators=tuple(getattr(module, "VALIDATORS", {}).items()),
        default_validator=module.VALIDATOR,
        spans=getattr(module, "spans", None),
        merge=_merged(module),
        context=tuple((name, words, window) for name, (words, window) in getattr(module, "REQUIRES_CONTEXT", {}).items()),
    )


def _merged(module: ModuleType) -> frozenset[str]:
    """Pattern names of ``MERGE_OVERLAPS``: ``True`` for all of the module's patterns, or a collection of names."""
    value = getattr(module, "MERGE_OVERLAPS", False)
    if value is True:
        return frozenset(name for name, _ in module.PATTERNS)
    return frozenset(value or ())


class _Expression(NamedTuple):
    """One expression of the engine: a detector regex, alone or gated by context words.

    Gated (``width`` > 0): the regex is reported only where one of ``words`` (prefilter regexes)
    ends at most ``window - 1`` characters before it; the regex has that fixed width, so its
    start is the reported end minus ``width`` and no start-of-match tracking is needed.
    """

    regex: str
    width: int = 0
    words: tuple[str, ...] = ()
    window: int = 0


def _word_finders(words: Sequence[str]) -> list[re.Pattern[str]]:
    # The prefilter's "^ or a non-alphanumeric before" as a lookbehind, so that the
    # restart-after-each-start loop sees every occurrence (overlapping ones too).
    return [re.compile("(?<![A-Za-z0-9])" + rx.removeprefix("(?:^|[^A-Za-z0-9])"), re.ASCII) for rx in words]


def _ends_of(finders: Sequence[re.Pattern[str]], text: str) -> list[int]:
    found: set[int] = set()
    for rx in finders:
        m = rx.search(text)
        while m is not None:
            found.add(m.end())
            m = rx.search(text, m.start() + 1)
    return sorted(found)


class _ReBackend:
    """Python ``re``: each pattern in turn, restarting one character after each match start."""

    name = "re"

    def __init__(self, expressions: Sequence[_Expression], context: Sequence[Sequence[str]]) -> None:
        self.expressions = [(re.compile(x.regex, re.ASCII), _word_finders(x.words), x.window) for x in expressions]
        self.context = [_word_finders(words) for words in context]

    def hits(self, text: str) -> tuple[Hits, ContextEnds]:
        out: Hits = {}
        for xid, (rx, gate, window) in enumerate(self.expressions):
            near = _ends_of(gate, text) if gate else None
            m = rx.search(text)
            while m is not None:
                if near is None or _near(near, m.start(), window):
                    out[xid << _SHIFT | m.start()] = m.end()
                m = rx.search(text, m.start() + 1)
        return out, [_ends_of(finders, text) for finders in self.context]


class _HyperscanBackend:
    """Hyperscan block-mode database: detector expressions (``HS_FLAG_SOM_LEFTMOST``, or gated by
    context words and end offsets only), then the context-word prefilters (end offsets only,
    ids from ``len(expressions)`` on)."""

    name = "hyperscan"

    def __init__(self, expressions: Sequence[_Expression], context: Sequence[Sequence[str]]) -> None:
        assert _hs is not None
        n = len(expressions)
        words = [(i, rx) for i, group in enumerate(context) for rx in group]
        #: expression id - n -> index of its context-word list
        self.context_of = [i for i, _ in words]
        self.n_context = len(context)
        self.widths = [x.width for x in expressions]
        regexes = [x.regex if not x.width else f"(?:{'|'.join(x.words)})[\\s\\S]{{0,{x.window - 1}}}{x.regex}"
                   for x in expressions]
        flags = [0 if x.width else _hs.HS_FLAG_SOM_LEFTMOST for x in expressions] + [0] * len(words)
        encoded = [rx.encode("ascii") for rx in regexes] + [rx.encode("ascii") for _, rx in words]
        self.db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        self.db.compile(expressions=encoded, ids=list(range(len(encoded))), elements=len(encoded), flags=flags)
        self.n = n
        self.n_plain = sum(1 for x in expressions if not x.width)
        assert all(x.width for x in expressions[self.n_plain :]), "gated expressions come last"
        self._local = threading.local()

    def _scratch(self):  # type: ignore[no-untyped-def]
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _hs.Scratch(self.db)
        return scratch

    def hits(self, text: str) -> tuple[Hits, ContextEnds]:
        out: Hits = {}
        get = out.get
        n, n_plain, context_of, widths = self.n, self.n_plain, self.context_of, self.widths
        ends: ContextEnds = [[] for _ in range(self.n_context)]

        def on_match(xid: int, start: int, end: int, _flags: int, _ctx: object) -> None:
            if xid < n_plain:
                key = xid << _SHIFT | start
                if get(key, -1) < end:
                    out[key] = end
            elif xid < n:  # gated: fixed width, no start of match from the engine
                out[xid << _SHIFT | (end - widths[xid])] = end
            else:
                ends[context_of[xid - n]].append(end)

        self.db.scan(text.encode("ascii"), match_event_handler=on_match, scratch=self._scratch())
        return out, [sorted(set(e)) for e in ends]


def _backend(expressions: Sequence[_Expression], context: Sequence[Sequence[str]]) -> _ReBackend | _HyperscanBackend:
    if _hs is not None:
        try:
            return _HyperscanBackend(expressions, context)
        except Exception as exc:  # pragma: no cover - unsupported CPU or pattern: fall back to re
            _log.warning("hyperscan cannot compile the detector patterns (%s); using Python re", exc)
    return _ReBackend(expressions, context)


def _fixed_width(regex: str) -> int | None:
    """The number of characters every match of ``regex`` has, or ``None`` if it varies (or is unknown)."""
    try:
        low, high = re_parser.parse(regex, re.ASCII).getwidth()
    except Exception:  # pragma: no cover - a private module of the standard library changed
        return None
    return low if low == high and low > 0 else None


def _ascii(text: str) -> str:
    return text if text.isascii() else text.encode("ascii", "replace").decode("ascii")


class _Entry(NamedTuple):
    """One pattern of a scanner, unpacked once for the scan loop."""

    spans: Spans | None
    validate: Validate
    kind: str
    name: str
    validator: str
    context: int  # index into the scan's context ends, -1: none required
    window: int


class Scanner:
    """The compiled patterns of some detectors; :meth:`scan` returns their findings."""

    def __init__(self, specs: Sequence[Spec], *, backend: str | None = None) -> None:
        self.specs = tuple(specs)
        self.table = [(spec, name) for spec in self.specs for name, _ in spec.patterns]
        # One expression per distinct (regex, gate): a regex shared by several patterns
        # (``\\b[0-9]{9}``: routing, SSN, BSN) is compiled and reported once for all of them.
        # A fixed-width pattern that needs context words is gated by them inside the engine.
        expressions: list[_Expression] = []
        self.expression: list[int] = []  # pattern index -> expression index
        words: list[ContextWords] = []  # context-word lists checked in scan(), by identity
        entries: list[_Entry] = []
        for spec, name in self.table:
            rx = dict(spec.patterns)[name]
            needed = spec.required_context(name)
            width = _fixed_width(rx) if needed is not None else None
            index, window = -1, 0
            if needed is not None and width is not None:
                expression = _Expression(rx, width, needed[0].prefilter(), needed[1])
            else:
                expression = _Expression(rx)
                if needed is not None:
                    cw, window = needed
                    index = next((i for i, w in enumerate(words) if w is cw), len(words))
                    if index == len(words):
                        words.append(cw)
            if expression not in expressions:
                expressions.append(expression)
            self.expression.append(expressions.index(expression))
            entries.append(_Entry(spec.spans, spec.validate, spec.kind, name, spec.validator(name), index, window))
        # Plain expressions first, gated ones after: the engine callback tells them apart by id.
        order = sorted(range(len(expressions)), key=lambda i: expressions[i].width > 0)
        expressions = [expressions[i] for i in order]
        self.expression = [order.index(x) for x in self.expression]
        self.entries = entries
        self.merged = [name in spec.merge for spec, name in self.table]
        #: expression index -> the patterns it reports for
        self.patterns_of: list[list[int]] = [[] for _ in expressions]
        for pid, xid in enumerate(self.expression):
            self.patterns_of[xid].append(pid)
        context = [cw.prefilter() for cw in words]
        if not expressions:
            self.backend: _ReBackend | _HyperscanBackend | None = None
        elif backend == "re":
            self.backend = _ReBackend(expressions, context)
        elif backend == "hyperscan":
            self.backend = _HyperscanBackend(expressions, context)
        else:
            self.backend = _backend(expressions, context)

    def _by_expression(self, text: str) -> tuple[dict[int, list[tuple[int, int]]], ContextEnds]:
        """Rules 1-3 per compiled expression: ``{expression: [(start, end), ...] by start}``; and context ends."""
        if self.backend is None or not text:
            return {}, []
        hits, ends = self.backend.hits(_ascii(text))
        by_expression: dict[int, list[tuple[int, int]]] = {}
        current: list[tuple[int, int]] = []
        last, furthest = -1, -1
        for key in sorted(hits):
            xid, end = key >> _SHIFT, hits[key]
            if xid != last:
                last, furthest = xid, -1
                current = by_expression[xid] = []
            if end > furthest:
                furthest = end
                current.append((key & _START, end))
        return by_expression, ends

    def _per_pattern(self, text: str) -> tuple[list[tuple[int, list[tuple[int, int]]]], ContextEnds]:
        """``[(pattern index, its regions)]`` for patterns with candidates (rules 1-4); and context ends."""
        by_expression, ends = self._by_expression(text)
        out: list[tuple[int, list[tuple[int, int]]]] = []
        for xid, found in by_expression.items():
            for pid in self.patterns_of[xid]:
                out.append((pid, _merge(found) if self.merged[pid] else found))
        out.sort(key=lambda item: item[0])
        return out, ends

    def candidates(self, text: str) -> list[tuple[int, int, int]]:
        """``(pattern index, start, end)`` candidates of ``text``, by pattern then start (rules 1-3)."""
        by_expression, _ = self._by_expression(text)
        return [(pid, s, e) for pid, xid in enumerate(self.expression) for s, e in by_expression.get(xid, ())]

    def regions(self, text: str) -> list[tuple[int, int, int]]:
        """:meth:`candidates`, with overlapping ones merged for detectors that ask for it (``MERGE_OVERLAPS``)."""
        return [(pid, s, e) for pid, found in self._per_pattern(text)[0] for s, e in found]

    def scan(self, text: str) -> list[Finding]:
        """Validated findings in ``text`` (no rejected ones), sorted by start, longest first.

        Steps: 1. regions (one engine pass, rules 1-4) and context-word ends; 2. a region of a
        pattern whose validator needs a context word (``REQUIRES_CONTEXT``) and that has no
        prefilter match ending in ``(start - window, start]`` is dropped unvalidated; 3. per
        region, ``spans`` (or the region itself); 4. ``validate``; rejected spans are dropped,
        the rest become findings (duplicates once).
        """
        per_pattern, ends = self._per_pattern(text)  # 1
        found: set[tuple[int, int, str, str, str, Validation]] = set()
        rejected = Validation.REJECTED
        for pid, regions in per_pattern:
            spans, validate, kind, name, validator, context, window = self.entries[pid]
            if context >= 0:  # 2: spans of these patterns start at the candidate's start
                near = ends[context]
                regions = [r for r in regions if _near(near, r[0], window)]
            for start, end in regions:
                for s, e in spans(text, start, end, name) if spans else ((start, end),):  # 3
                    outcome = validate(text, s, e, name)  # 4
                    if outcome is not rejected:
                        found.add((s, -e, kind, name, validator, outcome))
        # Sorted by start, longest first, then kind and pattern (as the tuples are laid out).
        return [Finding(kind, s, -neg_end, validator, outcome, name)
                for s, neg_end, kind, name, validator, outcome in sorted(found)]


def _merge(regions: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping ``(start, end)`` regions (sorted by start) merged into one (rule 4)."""
    out = [regions[0]]
    for start, end in regions[1:]:
        last_start, last_end = out[-1]
        if start < last_end:
            out[-1] = (last_start, max(end, last_end))
        else:
            out.append((start, end))
    return out


def _near(ends: list[int], start: int, window: int) -> bool:
    """True when one of the sorted ``ends`` lies in ``(start - window, start]``."""
    i = bisect_right(ends, start)
    return i > 0 and ends[i - 1] > start - window


@lru_cache(maxsize=64)
def scanner_for(specs: tuple[Spec, ...]) -> Scanner:
    """A compiled :class:`Scanner` for these detectors (cached: compiling takes milliseconds)."""
    return Scanner(specs)


def find_with(module_name: str, text: str) -> list[Finding]:
    """Findings of the one detector module ``module_name`` in ``text`` (its ``find`` function)."""
    return scanner_for((spec_of(sys.modules[module_name]),)).scan(text)


#: The backend a default scanner uses here: ``"hyperscan"`` or ``"re"``.
BACKEND = "hyperscan" if _hs is not None else "re"
