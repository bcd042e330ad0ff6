"""NaiveForecaster: the floor every forecaster is compared with.

Strategies (Hyndman & Athanasopoulos, *Forecasting: Principles and
Practice*, 3rd ed., sections 5.2 and 5.5):

- ``"last"``: every step repeats the last value of the history;
- ``"seasonal"``: step ``h`` repeats the value one season earlier,
  ``y[T - season + (h - 1) % season]``;
- ``"drift"``: the line through the first and last values, extended.

Nothing is learned from the training series (each forecast uses only its own
history), so fitting on several series pools nothing; ``fit`` validates the
input and records its number of features. Prediction intervals are Gaussian,
with the standard deviation of the strategy's one-step residuals on the
history and the textbook growth with the step (fpp3 table 5.2).
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ...data import SeriesTooShortError
from .._base import Capabilities
from .._forecast_base import ForecasterMixin, gaussian_interval

__all__ = ["NaiveForecaster"]


class NaiveForecaster(ForecasterMixin, BaseEstimator):
    """Last-value, seasonal naive and drift forecasts of each history.

    Parameters
    ----------
    strategy : {"last", "seasonal", "drift"}
    season : int >= 1
        Seasonal period in steps (used by ``strategy="seasonal"``).
    horizon : int >= 1
        Number of steps forecast after each history.

    Attributes
    ----------
    n_features_in_ : int
        Features per step seen at fit.
    horizon_ : int
        The horizon ``predict`` forecasts (``horizon`` at fit time).
    """

    capabilities = Capabilities(task="forecast", family="baseline", input_kinds=frozenset({"real"}), probabilistic=True)
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        "strategy": [StrOptions({"last", "seasonal", "drift"})],
        "season": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, strategy="last", *, season=1, horizon=1):
        self.strategy = strategy
        self.season = season
        self.horizon = horizon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Validate the training series ``X`` (collection, or one series); ``y`` is ignored.

        The forecast needs nothing learned, so a training series too short
        for the strategy is no obstacle as long as one is long enough: a
        history is checked when it is forecast from. Raises
        SeriesTooShortError when every series is too short."""
        coll = self._validate_fit_series(X)
        need = self._min_history()
        short = np.flatnonzero(coll.lengths < need)
        if short.size == len(coll):
            others = f"; so are the other {short.size - 1} series" if short.size > 1 else ""
            raise SeriesTooShortError(
                f"X: series 0 has {coll.lengths[0]} steps, shorter than {self._min_history_reason()} "
                f"({need}){others}; pass longer series or a shorter season",
                series=short, reason=f"{self._describe()} needs at least {need} steps ({self._min_history_reason()})",
            )
        self._set_fitted_input(coll)
        return self

    def _min_history(self) -> int:
        return {"last": 1, "seasonal": self.season, "drift": 2}[self.strategy]

    def _min_history_reason(self) -> str:
        return {
            "last": "one value to repeat",
            "seasonal": f"one full season of {self.season} steps",
            "drift": "two values to draw the drift line through",
        }[self.strategy]

    def _describe(self) -> str:
        return f"NaiveForecaster(strategy={self.strategy!r}, season={self.season})"

    def _forecast(self, coll) -> np.ndarray:
        steps = np.arange(1, self.horizon_ + 1)
        return np.stack([self._point(s, steps) for s in coll.sequences])

    def _point(self, y: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Forecast ``(horizon, d)`` from one history ``y`` ``(T, d)``."""
        if self.strategy == "last":
            return np.repeat(y[-1:], len(steps), axis=0)
        if self.strategy == "seasonal":
            m = self.season
            return y[len(y) - m + (steps - 1) % m]
        slope = (y[-1] - y[0]) / (len(y) - 1)
        return y[-1] + steps[:, None] * slope

    def _forecast_interval(self, coll, coverage: float):
        need = self._min_history() + 1
        steps = np.arange(1, self.horizon_ + 1)
        lower, upper = [], []
        for i, y in enumerate(coll.sequences):
            if len(y) < need:
                raise ValueError(
                    f"X: history {i} has {len(y)} steps; an interval needs at least {need} "
                    "(the residual spread is estimated from the history)"
                )
            lo, hi = gaussian_interval(self._point(y, steps), self._spread(y, steps), coverage)
            lower.append(lo)
            upper.append(hi)
        return np.stack(lower), np.stack(upper)

    def _spread(self, y: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Forecast standard deviation ``(horizon, d)`` (fpp3 table 5.2)."""
        m = self.season if self.strategy == "seasonal" else 1
        resid = y[m:] - y[:-m]
        if self.strategy == "drift":
            resid = resid - resid.mean(axis=0)
            sigma = np.sqrt(np.sum(resid**2, axis=0) / max(len(resid) - 1, 1))
            growth = np.sqrt(steps * (1.0 + steps / len(y)))
        else:
            sigma = np.sqrt(np.mean(resid**2, axis=0))
            growth = np.sqrt(steps if self.strategy == "last" else (steps - 1) // m + 1)
        return growth[:, None] * sigma[None, :]
