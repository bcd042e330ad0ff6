"""Errors about the data itself that callers may treat apart from bugs."""

from __future__ import annotations

__all__ = ["SeriesTooShortError"]


class SeriesTooShortError(ValueError):
    """A series is too short for what a model needs (its window, season or
    order, or a protocol's forecast origins). The benchmark runner records
    such a job as n/a with this message, not as a failure: no setting of the
    model could have scored it."""
