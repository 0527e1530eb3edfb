"""YAML for configuration documents (privacy policies, budget scenarios): safe, and strict about keys."""

from __future__ import annotations

import yaml

__all__ = ["StrictLoader"]


class StrictLoader(yaml.SafeLoader):
    """Safe YAML (no Python objects) that refuses a key given twice, which YAML would let the last one win.

    Raises (from ``yaml.load``):
        yaml.constructor.ConstructorError: a mapping repeats a key (the message names it and its line).
    """

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def,override]
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
