"""Bounded caches of validator verdicts, keyed by candidate strings.

Page text repeats: the same stylesheet numbers in every snapshot, the same account number on
every page of a session. Validators that cost microseconds (checksums through python-stdnum,
libphonenumber's numbering plans, Keccak) memoize their verdicts with :func:`candidate_cache`.

Privacy: the keys are candidate strings, which may be personal data (a phone number, an IBAN).
They stay in this process's memory only: never written, logged or sent. Each cache keeps at most
:data:`CACHE_SIZE` entries, least recently used dropped first, and :func:`clear_caches` empties
all of them. The process holds the text it scans anyway; a cache keeps recent candidates a
little longer, not anywhere else.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, TypeVar

__all__ = ["CACHE_SIZE", "candidate_cache", "clear_caches"]

_F = TypeVar("_F", bound=Callable[..., object])

#: Entries of each candidate cache.
CACHE_SIZE = 8192
#: Every cache made by :func:`candidate_cache` (``functools.lru_cache`` wrappers).
_CANDIDATE_CACHES: list[Any] = []


def candidate_cache(fn: _F) -> _F:
    """``fn``, a pure function of candidate strings, memoized in a bounded LRU cache."""
    cached = lru_cache(maxsize=CACHE_SIZE)(fn)
    _CANDIDATE_CACHES.append(cached)
    return cached  # type: ignore[return-value]


def clear_caches() -> None:
    """Empty every candidate cache (a cold start, or a process that wants no candidate kept)."""
    for cached in _CANDIDATE_CACHES:
        cached.cache_clear()
