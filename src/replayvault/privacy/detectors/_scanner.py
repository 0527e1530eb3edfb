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
4. A detector that sets ``MERGE_OVERLAPS`` gets overlapping candidates of a pattern as one
   region (the BIP-39 detector: a 30-word run is one region, not 19 windows of 12 words).

Backends: Hyperscan (``HS_FLAG_SOM_LEFTMOST``, block mode, one scratch per thread) when it
imports and compiles; otherwise Python ``re``, one pattern after the other. A single Python
alternation is not used as the fallback: it reports one alternative per position, so a card
number that is also a phone candidate would reach only one of the two detectors.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType
from typing import Callable, Iterable, Sequence

from ._finding import Finding, Validation

__all__ = ["BACKEND", "Scanner", "Spec", "find_with", "scanner_for", "spec_of"]

_log = logging.getLogger(__name__)

Validate = Callable[[str, int, int, str], Validation]
Spans = Callable[[str, int, int, str], Iterable[tuple[int, int]]]
#: ``(pattern index, start) -> furthest end`` for one scan.
Hits = dict[tuple[int, int], int]

try:  # pragma: no cover - depends on the installed wheel and the CPU
    import hyperscan as _hs
except ImportError:  # pragma: no cover
    _hs = None


@dataclass(frozen=True, slots=True)
class Spec:
    """What the scanner needs from a detector module (built by :func:`spec_of`)."""

    kind: str
    patterns: tuple[tuple[str, str], ...]
    validate: Validate
    validators: tuple[tuple[str, str], ...]  # pattern name -> validator name
    default_validator: str
    spans: Spans | None = None
    merge: bool = False  # overlapping candidates of a pattern go to spans() as one region

    def validator(self, pattern: str) -> str:
        """Name of the validator used for ``pattern`` (evidence for audit records)."""
        for name, validator in self.validators:
            if name == pattern:
                return validator
        return self.default_validator


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
        merge=getattr(module, "MERGE_OVERLAPS", False),
    )


class _ReBackend:
    """Python ``re``: each pattern in turn, restarting one character after each match start."""

    name = "re"

    def __init__(self, regexes: Sequence[str]) -> None:
        self.compiled = [re.compile(rx, re.ASCII) for rx in regexes]

    def hits(self, text: str) -> Hits:
        out: Hits = {}
        for pid, rx in enumerate(self.compiled):
            m = rx.search(text)
            while m is not None:
                out[(pid, m.start())] = m.end()
                m = rx.search(text, m.start() + 1)
        return out


class _HyperscanBackend:
    """Hyperscan block-mode database; start of match via ``HS_FLAG_SOM_LEFTMOST``."""

    name = "hyperscan"

    def __init__(self, regexes: Sequence[str]) -> None:
        assert _hs is not None
        self.db = _hs.Database(mode=_hs.HS_MODE_BLOCK)
        n = len(regexes)
        self.db.compile(expressions=[rx.encode("ascii") for rx in regexes], ids=list(range(n)),
                        elements=n, flags=[_hs.HS_FLAG_SOM_LEFTMOST] * n)
        self._local = threading.local()

    def _scratch(self):  # type: ignore[no-untyped-def]
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = _hs.Scratch(self.db)
        return scratch

    def hits(self, text: str) -> Hits:
        out: Hits = {}
        get = out.get

        def on_match(pid: int, start: int, end: int, _flags: int, _ctx: object) -> None:
            key = (pid, start)
            if get(key, -1) < end:
                out[key] = end

        self.db.scan(text.encode("ascii"), match_event_handler=on_match, scratch=self._scratch())
        return out


def _backend(regexes: Sequence[str]) -> _ReBackend | _HyperscanBackend:
    if _hs is not None:
        try:
            return _HyperscanBackend(regexes)
        except Exception as exc:  # pragma: no cover - unsupported CPU or pattern: fall back to re
            _log.warning("hyperscan cannot compile the detector patterns (%s); using Python re", exc)
    return _ReBackend(regexes)


def _ascii(text: str) -> str:
    return text if text.isascii() else text.encode("ascii", "replace").decode("ascii")


class Scanner:
    """The compiled patterns of some detectors; :meth:`scan` returns their findings."""

    def __init__(self, specs: Sequence[Spec], *, backend: str | None = None) -> None:
        self.specs = tuple(specs)
        self.table = [(spec, name) for spec in self.specs for name, _ in spec.patterns]
        regexes = [rx for spec in self.specs for _, rx in spec.patterns]
        if not regexes:
            self.backend: _ReBackend | _HyperscanBackend | None = None
        elif backend == "re":
            self.backend = _ReBackend(regexes)
        elif backend == "hyperscan":
            self.backend = _HyperscanBackend(regexes)
        else:
            self.backend = _backend(regexes)

    def candidates(self, text: str) -> list[tuple[int, int, int]]:
        """``(pattern index, start, end)`` candidates of ``text``, by pattern then start (rules 1-3)."""
        if self.backend is None or not text:
            return []
        out: list[tuple[int, int, int]] = []
        furthest: dict[int, int] = {}
        for (pid, start), end in sorted(self.backend.hits(_ascii(text)).items()):
            if end > furthest.get(pid, -1):
                furthest[pid] = end
                out.append((pid, start, end))
        return out

    def regions(self, text: str) -> list[tuple[int, int, int]]:
        """:meth:`candidates`, with overlapping ones merged for detectors that ask for it (``MERGE_OVERLAPS``)."""
        out: list[tuple[int, int, int]] = []
        for pid, start, end in self.candidates(text):
            if out and out[-1][0] == pid and start < out[-1][2] and self.table[pid][0].merge:
                out[-1] = (pid, out[-1][1], max(end, out[-1][2]))
            else:
                out.append((pid, start, end))
        return out

    def scan(self, text: str) -> list[Finding]:
        """Validated findings in ``text`` (no rejected ones), sorted by start, longest first."""
        found: set[Finding] = set()
        for pid, start, end in self.regions(text):
            spec, name = self.table[pid]
            spans = spec.spans(text, start, end, name) if spec.spans else ((start, end),)
            for s, e in spans:
                outcome = spec.validate(text, s, e, name)
                if outcome is not Validation.REJECTED:
                    found.add(Finding(spec.kind, s, e, spec.validator(name), outcome, name))
        return sorted(found, key=lambda f: (f.start, -(f.end - f.start), f.kind, f.pattern))


@lru_cache(maxsize=64)
def scanner_for(specs: tuple[Spec, ...]) -> Scanner:
    """A compiled :class:`Scanner` for these detectors (cached: compiling takes milliseconds)."""
    return Scanner(specs)


def find_with(module_name: str, text: str) -> list[Finding]:
    """Findings of the one detector module ``module_name`` in ``text`` (its ``find`` function)."""
    return scanner_for((spec_of(sys.modules[module_name]),)).scan(text)


#: The backend a default scanner uses here: ``"hyperscan"`` or ``"re"``.
BACKEND = "hyperscan" if _hs is not None else "re"
