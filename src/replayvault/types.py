"""Type aliases shared across replayvault."""

from __future__ import annotations

from typing import Any

#: One rrweb event as decoded JSON: ``{"type": int, "data": {...}, "timestamp": ms}``.
Event = dict[str, Any]
#: A serialized rrweb node (``data.node`` of a FullSnapshot, ``adds[].node`` of a Mutation).
SerializedNode = dict[str, Any]
#: JSON-compatible value.
JSON = Any
