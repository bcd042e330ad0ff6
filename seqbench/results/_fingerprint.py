"""The content fingerprint of a suite: what a committed report records so
that a test can tell when the suite it was made from has changed.

It is the sha256 of the suite's parsed TOML written as canonical JSON
(sorted keys, no spaces), not of the file's bytes: a comment, blank line,
re-indentation or reordering of keys within a table leaves it unchanged,
while any change to a value, key, table or the order of the
``[[datasets]]`` / ``[[models]]`` arrays changes it. A reference report
takes hours to regenerate, so only changes that can change its numbers or
its layout should mark it stale. (The store also keeps the file's own
sha256, ``runs.suite_sha256``, for an exact record.)
"""

from __future__ import annotations

import datetime
import hashlib
import json
import tomllib

__all__ = ["suite_fingerprint"]


def _plain(value):
    """TOML's date and time values as ISO strings (JSON has no such type)."""
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} {value!r} cannot appear in a parsed TOML document")


def suite_fingerprint(text: str) -> str:
    """64 hex digits identifying the content of suite TOML ``text``.

    Raises ``tomllib.TOMLDecodeError`` (a ValueError) when ``text`` is not
    valid TOML."""
    doc = tomllib.loads(text)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_plain)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
