"""Forecast accuracy metrics: MAE, RMSE, MASE, sMAPE and interval coverage.

Every function takes forecasts in the shape seqbench forecasters return,
``(n_series, horizon, n_features)``, and also accepts ``(n_series, horizon)``
(univariate series) or ``(horizon,)`` (one univariate series). The first axis
is always the series. ``y_true`` and ``y_pred`` must have the same shape.

Units: MAE and RMSE are in the units of the series; MASE is unitless (1.0 is
the in-sample error of the seasonal naive forecast); sMAPE is in percent,
between 0 and 200; coverage is a fraction between 0 and 1.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mae", "rmse", "mase", "smape", "interval_coverage", "naive_scale"]


def _as_3d(y, name: str) -> np.ndarray:
    """``y`` as float64 ``(n_series, horizon, n_features)``."""
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :, None]
    elif arr.ndim == 2:
        arr = arr[:, :, None]
    elif arr.ndim != 3:
        raise ValueError(
            f"{name} has shape {arr.shape}; expected (n_series, horizon, n_features), "
            "(n_series, horizon) or (horizon,)"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf; forecasts and actual values must be finite")
    return arr


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _as_3d(y_true, "y_true"), _as_3d(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}; they must match")
    return t, p


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all series, steps and features."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error over all series, steps and features."""
    t, p = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def smape(y_true, y_pred) -> float:
    """Symmetric mean absolute percentage error, in percent (0 to 200).

    ``200 * mean(|y - ŷ| / (|y| + |ŷ|))`` as in the M3/M4 competitions; a
    step where both the actual value and the forecast are 0 counts as 0.
    """
    t, p = _pair(y_true, y_pred)
    denom = np.abs(t) + np.abs(p)
    ratio = np.divide(np.abs(t - p), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(200.0 * np.mean(ratio))


def _histories(y_train, n_series: int, n_features: int) -> list[np.ndarray]:
    """The in-sample series as a list of float64 ``(T_i, n_features)`` arrays."""
    if isinstance(y_train, np.ndarray) and y_train.ndim == 1 and y_train.dtype != object:
        y_train = [y_train]
    hist = [np.asarray(s, dtype=np.float64) for s in y_train]
    hist = [s.reshape(len(s), -1) for s in hist]
    if len(hist) != n_series:
        raise ValueError(
            f"y_train holds {len(hist)} series but y_true holds {n_series}; pass the history of each series"
        )
    for i, s in enumerate(hist):
        if s.shape[1] != n_features:
            raise ValueError(f"y_train: series {i} has {s.shape[1]} features but y_true has {n_features}")
        if not np.isfinite(s).all():
            raise ValueError(f"y_train: series {i} contains NaN or inf")
    return hist


def naive_scale(history, season: int = 1) -> np.ndarray:
    """In-sample MAE of the seasonal naive forecast of one series, per feature.

    history : array ``(T,)`` or ``(T, d)``; season : the period ``m`` (1 for the
    plain naive forecast). Returns float64 ``(d,)``: ``mean |y_t - y_{t-m}|``
    over ``t = m .. T-1``. Raises if ``T <= m``.
    """
    h = np.asarray(history, dtype=np.float64)
    h = h.reshape(len(h), -1)
    if len(h) <= season:
        raise ValueError(
            f"a history of {len(h)} steps has no seasonal naive error for season {season}; "
            f"MASE needs more than {season} steps of history"
        )
    return np.mean(np.abs(h[season:] - h[:-season]), axis=0)


def mase(y_true, y_pred, *, y_train, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006).

    Each series' absolute errors are divided by that series' in-sample MAE of
    the seasonal naive forecast with period ``season`` (per feature), averaged
    over steps and features, then averaged over series (the M4 convention).
    Below 1 means better than the in-sample naive forecast.

    Parameters
    ----------
    y_true, y_pred : array ``(n_series, horizon, n_features)`` (or 2-D / 1-D, see module)
    y_train : list of ``n_series`` arrays ``(T_i,)`` or ``(T_i, n_features)``
        The history each forecast was made from (an array works too when its
        first axis is the series; a 1-D array is one univariate series).
    season : int >= 1
        Seasonal period ``m`` of the naive forecast used for scaling.

    Raises
    ------
    ValueError
        If a history has ``season`` or fewer steps, or is constant so that
        its naive error is 0 (MASE is then undefined); the message names it.
    """
    return float(mase_per_series(y_true, y_pred, y_train=y_train, season=season).mean())


def mase_per_series(y_true, y_pred, *, y_train, season: int = 1) -> np.ndarray:
    """MASE of each series separately, float64 ``(n_series,)``: the numbers
    :func:`mase` averages (same arguments and errors). Rankings across series
    (a Friedman test over the series of a forecasting competition) use them."""
    if not isinstance(season, (int, np.integer)) or isinstance(season, bool) or season < 1:
        raise ValueError(f"season must be an integer >= 1, got {season!r}")
    t, p = _pair(y_true, y_pred)
    hist = _histories(y_train, t.shape[0], t.shape[2])
    per_series = np.empty(t.shape[0])
    for i, h in enumerate(hist):
        try:
            scale = naive_scale(h, season)
        except ValueError as exc:
            raise ValueError(f"y_train: series {i}: {exc}") from None
        if np.any(scale == 0):
            j = int(np.flatnonzero(scale == 0)[0])
            raise ValueError(
                f"y_train: series {i}, feature {j} has zero in-sample naive error (season {season}): "
                "the history is constant at that period, so MASE is undefined; use MAE instead"
            )
        per_series[i] = np.mean(np.abs(t[i] - p[i]) / scale)
    return per_series


def smape_per_series(y_true, y_pred) -> np.ndarray:
    """sMAPE (percent) of each series separately, float64 ``(n_series,)``;
    with equal horizons their mean is :func:`smape`."""
    t, p = _pair(y_true, y_pred)
    return np.array([smape(t[i], p[i]) for i in range(t.shape[0])])


def interval_coverage(y_true, lower, upper) -> float:
    """Fraction of actual values inside their prediction interval (bounds included)."""
    t = _as_3d(y_true, "y_true")
    lo, hi = _as_3d(lower, "lower"), _as_3d(upper, "upper")
    if not (t.shape == lo.shape == hi.shape):
        raise ValueError(f"y_true {t.shape}, lower {lo.shape} and upper {hi.shape} must have the same shape")
    if np.any(lo > hi):
        raise ValueError("lower is above upper somewhere; pass (lower, upper) in that order")
    return float(np.mean((t >= lo) & (t <= hi)))
