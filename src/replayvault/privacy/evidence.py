"""Masking evidence: where each masking happened, whether the browser had done it, and incidents.

Every masking the server does (and every value it found already masked by the browser) becomes a
record with a *location* — where in the recording the data was:

``snapshot`` (a full snapshot's DOM), ``mutation`` (DOM added or changed later), ``input`` (an
Input event), ``attribute`` (an attribute value, in a snapshot or a mutation), ``url`` (a page
URL or a URL-valued attribute), ``plugin`` (custom, plugin and console payloads).

A **masking incident** is personal data that reached the server in clear although the browser
should have masked it: any server-side masking except the kinds in :data:`SANITIZING_KINDS`
(active content removed for safety, not personal data; URL query values and policy path
patterns, which the tracker by design leaves to the server; canvas data dropped by policy;
content of elements a policy block selector names, which the browser does not know). The data
capture compliance rate is sessions without an incident divided by sessions.

Kinds about marked elements: ``blocked`` (content removed from an element a policy blocks:
sanitizing), ``blocked_in_clear`` (content of an ``rr-block`` element, which the browser should
never have sent: an incident), ``late_mask`` / ``late_block`` (one per page text already recorded
in clear under an element that became ``rr-mask`` / ``rr-block`` or matched a policy selector
later: an incident, the text may already be stored). Text the browser masked with rrweb's
``maskTextFn`` (``*`` runs between spaces) counts as masked by the browser, like ``****`` values.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Iterable

__all__ = ["LOCATIONS", "SANITIZING_KINDS", "EvidenceRow", "location_of", "summarize", "incidents"]

LOCATIONS = ("snapshot", "mutation", "input", "attribute", "url", "plugin")
#: Server maskings that are not a browser-side failure to mask personal data.
SANITIZING_KINDS = frozenset({"script", "event_handler", "javascript_url", "srcdoc", "resource_hint", "meta_refresh",
                              "blocked", "url_query", "url_path", "canvas", "choice_value"})


@dataclass(frozen=True)
class EvidenceRow:
    """Count of maskings of one ``kind`` at one ``location``; ``browser`` True when the browser had
    already masked it (the server only confirmed), False when the server masked it."""

    kind: str
    location: str
    browser: bool
    count: int

    @property
    def incident(self) -> bool:
        """Personal data the browser should have masked but did not."""
        return not self.browser and self.kind not in SANITIZING_KINDS

    def as_dict(self) -> dict[str, Any]:
        """JSON shape (API): the fields plus ``incident``."""
        return {**asdict(self), "incident": self.incident}


def location_of(where: str, phase: str) -> str:
    """The location of a masking from the masker's ``where`` tag and the event being walked
    (``phase``: snapshot, mutation, input, meta, plugin). A ``where`` ending in ``:url`` is a URL
    found in some other value (a meta refresh, a ``data-*`` attribute, CSS ``url()``)."""
    if where.startswith(("meta:", "url")) or where.endswith(":url") or "href" in where or "src" in where:
        return "url"
    if phase in ("meta", "plugin"):
        return "url" if phase == "meta" else "plugin"
    if where.startswith(("attribute", "mutation:")):
        return "attribute"
    if phase == "input" or where == "input":
        return "input"
    return "mutation" if phase == "mutation" else "snapshot"


def summarize(records: Iterable[Any]) -> list[EvidenceRow]:
    """Group mask records (with ``kind``, ``location``, ``browser``) into rows, sorted."""
    counts = Counter((r.kind, r.location, r.browser) for r in records)
    return [EvidenceRow(k, loc, b, n) for (k, loc, b), n in sorted(counts.items())]


def incidents(rows: Iterable[EvidenceRow]) -> int:
    """How many maskings in ``rows`` are incidents."""
    return sum(r.count for r in rows if r.incident)
