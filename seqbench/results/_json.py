"""The JSON form of what the results store keeps.

Both are pure functions of plain values (numbers, strings, lists, tables and
numpy scalars or arrays), so the same input gives the same text on any
machine, in any process.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..data import plain_value

__all__ = ["canonical_json", "json_safe"]


def canonical_json(value) -> str:
    """Compact JSON with sorted keys: equal values give equal strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_default)


def _default(obj):
    item = getattr(obj, "item", None)  # numpy scalars (and 0-d arrays, torch scalars)
    if callable(item):
        return item()
    raise TypeError(f"{type(obj).__name__} {obj!r} is not JSON serialisable; use numbers, strings, lists or tables")


def json_safe(value, depth: int = 0):
    """``value`` with numpy scalars and arrays as plain numbers and lists,
    non-finite floats as None, and anything else unserialisable as its repr."""
    if depth > 8:
        return repr(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist(), depth + 1)
    value = plain_value(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
