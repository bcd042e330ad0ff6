"""Rolling-origin evaluation of a forecaster (Tashman, 2000).

Lives beside the metrics because it is how a forecast metric is measured on
one series: the runner and users call it the same way. It knows forecasters
only through ``clone``, ``set_params(horizon=...)``, ``fit``, ``predict`` and
``predict_interval``, so it imports no model.
"""

from __future__ import annotations

import numbers
import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._forecast import interval_coverage, mae, mase, rmse, smape

__all__ = ["rolling_origin", "origin_positions", "cut_at_origin"]


def origin_positions(n_steps: int, horizon: int, n_origins: int, step: int = 1, *, min_history: int = 2) -> np.ndarray:
    """The forecast origins of one series of ``n_steps`` steps, int ``(n_origins,)``.

    The last origin leaves exactly ``horizon`` steps after it; the others
    are ``step`` steps apart before it. Raises ``ValueError`` when the first
    origin would leave fewer than ``min_history`` steps to learn from.
    """
    for name, value in (("horizon", horizon), ("n_origins", n_origins), ("step", step)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    last = n_steps - horizon
    first = last - step * (n_origins - 1)
    if first < min_history:
        raise ValueError(
            f"a series of {n_steps} steps is too short for {n_origins} origins {step} step(s) apart with "
            f"horizon {horizon}: the first training window would hold {first} steps (need at least "
            f"{min_history}); use fewer origins, a smaller step or a shorter horizon"
        )
    return first + step * np.arange(n_origins)


def cut_at_origin(series: list, horizon: int, n_origins: int, step: int, fold: int, *,
                  min_history: int = 2) -> tuple[list, np.ndarray]:
    """Fold ``fold`` (0 the earliest) of rolling-origin evaluation over many
    series at once: each series ``(T_i, d)`` is cut at its ``fold``-th origin
    (:func:`origin_positions`). Returns the histories (list of
    ``(origin_i, d)``) and the true futures ``(n, horizon, d)``. The runner
    fits one model on all histories of a fold; :func:`rolling_origin`
    refits per origin on one series.
    """
    histories, truths = [], []
    for i, full in enumerate(series):
        try:
            origin = origin_positions(len(full), horizon, n_origins, step, min_history=min_history)[fold]
        except ValueError as exc:
            raise ValueError(f"series {i}: {exc}") from None
        histories.append(full[:origin])
        truths.append(full[origin : origin + horizon])
    return histories, np.stack(truths)


def rolling_origin(
    estimator,
    series,
    horizon: int,
    n_origins: int,
    step: int = 1,
    *,
    refit: bool = True,
    coverage: float | None = None,
    season: int = 1,
) -> pd.DataFrame:
    """Evaluate a forecaster at successive forecast origins with an expanding window.

    The last origin leaves exactly ``horizon`` steps after it; the others are
    ``step`` steps apart before it. At origin ``o`` the training window is
    ``series[:o]`` (always starting at the first step, so it expands), the
    forecaster forecasts from that window and is scored on
    ``series[o:o + horizon]``.

    Parameters
    ----------
    estimator : forecaster with a ``horizon`` parameter (not modified: each
        origin uses a clone with ``horizon`` set to ``horizon``).
    series : array ``(T,)`` or ``(T, d)``, or a pandas Series/DataFrame: one series.
    horizon, n_origins, step : int >= 1
    refit : bool
        True (default): refit a fresh clone on each expanding window.
        False: fit once on the first window, then forecast from each longer
        window with those parameters (cheaper; tests conditioning without refit).
    coverage : float in (0, 1), optional
        Also compute the empirical coverage of ``predict_interval`` at this level.
    season : int >= 1
        Period of the naive forecast that scales MASE.

    Returns
    -------
    pandas.DataFrame, one row per origin, columns ``origin`` (index of the
    first forecast step), ``n_train`` (= origin), ``mae``, ``rmse``, ``mase``,
    ``smape`` (percent), ``coverage`` (when asked), ``fit_seconds`` and
    ``predict_seconds`` (wall clock; ``fit_seconds`` is 0 at origins that
    reuse the first fit when ``refit=False``). ``df.mean()`` summarises.
    """
    y = np.asarray(series.to_numpy() if hasattr(series, "to_numpy") else series, dtype=np.float64)
    if y.ndim not in (1, 2):
        raise ValueError(f"series has shape {y.shape}; pass one series, (T,) or (T, d)")
    if "horizon" not in estimator.get_params():
        raise TypeError(f"{type(estimator).__name__} has no horizon parameter; rolling_origin needs a forecaster")
    if coverage is not None and not hasattr(estimator, "predict_interval"):
        raise TypeError(f"{type(estimator).__name__} has no predict_interval, so coverage cannot be measured")
    rows, fitted = [], None
    for o in origin_positions(len(y), horizon, n_origins, step):
        history, actual = y[:o], y[o : o + horizon]
        fit_s = 0.0
        if refit or fitted is None:
            start = time.perf_counter()
            fitted = clone(estimator).set_params(horizon=horizon).fit(history)
            fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred = fitted.predict(history)
        predict_s = time.perf_counter() - start
        truth = actual.reshape(pred.shape)  # (1, horizon, d)
        row = {
            "origin": int(o),
            "n_train": int(o),
            "mae": mae(truth, pred),
            "rmse": rmse(truth, pred),
            "mase": mase(truth, pred, y_train=[history], season=season),
            "smape": smape(truth, pred),
        }
        if coverage is not None:
            lower, upper = fitted.predict_interval(history, coverage=coverage)
            row["coverage"] = interval_coverage(truth, lower, upper)
        rows.append({**row, "fit_seconds": fit_s, "predict_seconds": predict_s})
    return pd.DataFrame(rows)
