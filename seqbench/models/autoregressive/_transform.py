"""Variance-stabilising transforms for the statistical forecasters: log and
Box-Cox, fitted on the training series and inverted on the forecasts.

A model fitted on ``g(y)`` forecasts ``g(y)``; mapping its point forecast back
with ``g^{-1}`` gives the forecast *median* (not the mean) of ``y`` when the
transformed forecast is symmetric, and mapping the interval bounds back gives
an interval with the same coverage (``g`` is increasing). This is what
statsmodels' users and Hyndman & Athanasopoulos (FPP3, 5.6) do without a bias
adjustment.

Box-Cox's lambda is scipy's maximum-likelihood estimate
(:func:`scipy.stats.boxcox`), one per feature, learned on the training series.
"""

from __future__ import annotations

import numpy as np
from scipy.special import boxcox as _boxcox
from scipy.special import inv_boxcox
from scipy.stats import boxcox_normmax

__all__ = ["TRANSFORMS", "check_positive", "fit_lambdas", "forward", "inverse"]

TRANSFORMS = ("log", "boxcox")

# Inside Box-Cox's inverse, 1 + lambda * z must stay > 0; a forecast past that
# bound (z <= -1/lambda for lambda > 0) is mapped to the edge of the range
# instead of to NaN.
_MIN_BASE = 1e-12


def check_positive(series: np.ndarray, transform: str, what: str) -> None:
    """Raise ValueError unless every value of ``series`` ``(T, d)`` is > 0.

    ``what`` names the series in the message ("the training series",
    "history 3").
    """
    if series.size and series.min() <= 0:
        t, j = np.unravel_index(int(np.argmin(series)), series.shape)
        raise ValueError(
            f"power_transform={transform!r} needs strictly positive values, but {what} has {float(series[t, j])!r} at "
            f"step {t} (feature {j}); use power_transform=None, or shift the data to be positive first"
        )


def fit_lambdas(series: np.ndarray) -> np.ndarray:
    """Box-Cox lambda of every feature of ``series`` ``(T, d)`` (positive), ``(d,)``.

    A constant feature has no likelihood to maximise; it gets lambda 1 (a shift).
    """
    lambdas = np.ones(series.shape[1])
    for j in range(series.shape[1]):
        if np.ptp(series[:, j]) > 0:
            lambdas[j] = boxcox_normmax(series[:, j], method="mle")
    return lambdas


def forward(series: np.ndarray, transform: str | None, lambdas: np.ndarray | None) -> np.ndarray:
    """``g(series)`` for ``series`` ``(T, d)``; ``transform=None`` returns it unchanged."""
    if transform is None:
        return series
    if transform == "log":
        return np.log(series)
    return _boxcox(series, lambdas)


def inverse(values: np.ndarray, transform: str | None, lambdas: np.ndarray | None) -> np.ndarray:
    """``g^{-1}(values)`` for forecasts ``(..., d)`` on the transformed scale."""
    if transform is None:
        return values
    if transform == "log":
        return np.exp(values)
    base = np.maximum(1.0 + lambdas * values, _MIN_BASE)
    safe = np.where(lambdas == 0, values, (base - 1.0) / np.where(lambdas == 0, 1.0, lambdas))
    return inv_boxcox(safe, lambdas)
