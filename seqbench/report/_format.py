"""Numbers and names as the report prints them."""

from __future__ import annotations

import hashlib
import math
import re

__all__ = ["num", "mean_std", "seconds", "count", "anchor", "first_line"]

def num(value, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals; tiny or huge ones in ``g`` form."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a" if value is None else str(value)
    if value != 0 and (abs(value) >= 10**5 or abs(value) < 10**-digits):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def mean_std(mean, std, digits: int = 3) -> str:
    """``"0.912 ± 0.010"``, or the mean alone when there is one seed."""
    if mean is None:
        return "n/a"
    return num(mean, digits) if std is None else f"{num(mean, digits)} ± {num(std, digits)}"


def seconds(value) -> str:
    """Seconds with three significant figures (``"0.0123"``, ``"12.3"``, ``"1234"``)."""
    if value is None:
        return "n/a"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def count(value) -> str:
    return "n/a" if value is None else f"{int(value):,}"


def anchor(*parts) -> str:
    """An HTML id from ``parts``: lower-case letters, digits and dashes, plus
    a short hash so that labels differing only in punctuation stay distinct."""
    text = "-".join(str(p) for p in parts)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "x"
    return f"{slug}-{hashlib.sha1(text.encode()).hexdigest()[:6]}"


def first_line(text, limit: int = 200) -> str:
    """The first non-empty line of ``text`` (cut to ``limit`` characters)."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
