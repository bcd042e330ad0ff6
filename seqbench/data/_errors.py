"""Errors about the data itself that callers may treat apart from bugs."""

from __future__ import annotations

__all__ = ["SeriesTooShortError"]


class SeriesTooShortError(ValueError):
    """A series is too short for what a model needs (its window, season or
    order, or a protocol's forecast origins). The benchmark runner records
    such a job as n/a with this message, not as a failure: no setting of the
    model could have scored it.

    ``series`` lists the indices (in the collection the model was given) of
    every series that is too short, when the raiser knows them, and
    ``reason`` says what they lack ("RNNForecaster(window=24) needs at least
    24 steps"); a runner forecasting many series then leaves out those
    series alone. Both are empty when the raiser cannot tell.
    """

    def __init__(self, message: str, *, series=(), reason: str = ""):
        super().__init__(message)
        self.series = tuple(int(i) for i in series)
        self.reason = reason
