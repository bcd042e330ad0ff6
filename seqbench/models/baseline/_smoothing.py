"""Exponential smoothing (ETS) and the theta method: the M-competition
standard forecasting baselines, from statsmodels.

- :class:`ETSForecaster`: :class:`statsmodels.tsa.exponential_smoothing.ets.ETSModel`
  (innovations state-space exponential smoothing, maximum likelihood), with
  additive or multiplicative error, trend (optionally damped) and seasonality.
- :class:`ThetaForecaster`: :class:`statsmodels.tsa.forecasting.theta.ThetaModel`
  (Assimakopoulos & Nikolopoulos 2000, in Hyndman & Billah's 2003 form:
  simple exponential smoothing plus half the slope of a linear trend, after
  an optional seasonal adjustment).

As in :class:`~seqbench.models.ARForecaster`, statsmodels estimates from one
contiguous series: ``fit`` uses the **longest** training series
(``fit_series_index_``). A multivariate series gets one model per feature
(``results_`` holds one statsmodels result per feature).

``predict`` conditions each history on the fitted parameters and never
refits. ETS runs the fitted model's smoothing recursions over the history
(``ETSModel.smooth`` with the fitted parameters, initial states included);
theta smooths the history with the fitted ``alpha`` and adds the fitted
trend ``b0``. Seasonal terms and ETS's initial states belong to the first step
of the training series, so histories should start at the same point (an
expanding window from the series' start, as in
:func:`seqbench.metrics.rolling_origin`, does).
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel, ThetaModelResults
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from ...data import SeriesTooShortError, one_thread
from .._base import Capabilities
from .._forecast_base import ForecasterMixin

__all__ = ["ETSForecaster", "ThetaForecaster"]

_CAPABILITIES = Capabilities(task="forecast", family="baseline", input_kinds=frozenset({"real"}), probabilistic=True)


def _check_positive(y: np.ndarray, parameter: str, value: str, what: str) -> None:
    """ValueError naming the parameter when ``y`` ``(T, d)`` has a value <= 0."""
    if y.size and y.min() <= 0:
        t, j = np.unravel_index(int(np.argmin(y)), y.shape)
        raise ValueError(
            f"{parameter}={value!r} needs strictly positive values, but {what} has {float(y[t, j])!r} at step {t} "
            f"(feature {j}); use an additive {parameter.split('_')[0]} or shift the data to be positive"
        )


def _season_positions(n_steps: int, period: int) -> np.ndarray:
    return np.arange(n_steps) % period


class ETSForecaster(ForecasterMixin, BaseEstimator):
    """Exponential smoothing (statsmodels ``ETSModel``, maximum likelihood).

    Parameters
    ----------
    error : {"add", "mul"}
        Additive or multiplicative errors ("mul" needs positive series).
    trend : {"add", "mul"} or None
        Trend component; None for none.
    damped_trend : bool
        Damp the trend (Gardner & McKenzie); ignored without a trend. The
        damped additive trend is the M-competitions' robust default.
    seasonal : {"add", "mul"} or None
        Seasonal component with ``period`` steps; None for none (``period``
        is then ignored, so one grid can search ``seasonal`` with a fixed
        ``period``).
    period : int >= 2, optional
        Season length in steps; needed with ``seasonal``.
    horizon : int >= 1
        Number of steps forecast after each history.

    Attributes
    ----------
    results_ : list of statsmodels ``ETSResults``, one per feature
    params_ : list of ndarray, the fitted parameters per feature (smoothing
        parameters, damping, initial states), in ``ETSModel.param_names`` order
    fit_series_index_ : int, index of the training series that was fitted
    n_features_in_, horizon_ : features per step; the horizon ``predict`` forecasts

    Raises
    ------
    ValueError
        At fit, when a seasonal model's series is shorter than two seasons
        (statsmodels initialises the seasonal states from two full cycles), or a
        multiplicative component meets a value <= 0.
    """

    capabilities = _CAPABILITIES
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        "error": [StrOptions({"add", "mul"})],
        "trend": [StrOptions({"add", "mul"}), None],
        "damped_trend": ["boolean"],
        "seasonal": [StrOptions({"add", "mul"}), None],
        "period": [Interval(numbers.Integral, 2, None, closed="left"), None],
    }

    def __init__(self, *, error="add", trend="add", damped_trend=True, seasonal=None, period=None, horizon=1):
        self.error = error
        self.trend = trend
        self.damped_trend = damped_trend
        self.seasonal = seasonal
        self.period = period
        self.horizon = horizon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit one ETS model per feature on the longest series of ``X``; ``y`` is ignored."""
        coll, index, series = self._validate_longest_series(X)
        self._check_series(series, "the training series")
        need = self._min_train_length()
        if len(series) < need:  # the longest series: every other one is too short as well
            raise SeriesTooShortError(
                f"X: the training series has {len(series)} steps but {self._describe()} needs at least {need} "
                f"({self._min_train_reason()}); pass a longer series"
            )
        with one_thread():  # small optimisation problems: extra BLAS threads only contend
            results = [self._model(series[:, j]).fit(disp=False) for j in range(series.shape[1])]
        self.results_ = results
        self.params_ = [np.asarray(r.params, dtype=np.float64) for r in results]
        self.fit_series_index_ = index
        self._set_fitted_input(coll)
        return self

    def _spec(self) -> dict:
        seasonal = self.seasonal
        return dict(
            error=self.error, trend=self.trend, damped_trend=bool(self.damped_trend and self.trend),
            seasonal=seasonal, seasonal_periods=self.period if seasonal else None,
        )

    def _model(self, y: np.ndarray) -> ETSModel:
        # a pandas Series: statsmodels' ETS prediction intervals index their output by it
        return ETSModel(pd.Series(y), **self._spec())

    def _check_series(self, series: np.ndarray, what: str) -> None:
        if self.seasonal and self.period is None:
            raise ValueError(f"seasonal={self.seasonal!r} needs period (the season length in steps)")
        for name in ("error", "trend", "seasonal"):
            if getattr(self, name) == "mul":
                _check_positive(series, name, "mul", what)

    def _min_train_length(self) -> int:
        if self.seasonal:
            return 2 * self.period
        # one more step than free parameters: alpha and the initial level, beta and the
        # initial slope with a trend, phi when damped
        return 3 + (2 + bool(self.damped_trend) if self.trend else 0)

    def _min_train_reason(self) -> str:
        if self.seasonal:
            return f"two full seasons of period={self.period} to initialise the seasonal states"
        return "one more step than the model has parameters"

    def _describe(self) -> str:
        s = self._spec()
        return (f"ETSForecaster(error={s['error']!r}, trend={s['trend']!r}, damped_trend={s['damped_trend']}, "
                f"seasonal={s['seasonal']!r}, period={s['seasonal_periods']})")

    def _min_history(self) -> int:
        return 2

    def _min_history_reason(self) -> str:
        return "a level to smooth from"

    def _smoothed(self, history: np.ndarray, j: int):
        """The fitted model of feature ``j`` run over ``history`` ``(T,)`` (no refit)."""
        return self._model(history).smooth(self.params_[j])

    def _forecast(self, coll) -> np.ndarray:
        h = self.horizon_
        out = np.empty((len(coll), h, self.n_features_in_))
        with one_thread():
            for i, y in enumerate(coll.sequences):
                self._check_series(y, f"history {i}")
                for j in range(y.shape[1]):
                    out[i, :, j] = np.asarray(self._smoothed(y[:, j], j).forecast(h))
        return out

    def _forecast_interval(self, coll, coverage: float):
        h = self.horizon_
        lower = np.empty((len(coll), h, self.n_features_in_))
        upper = np.empty_like(lower)
        # multiplicative models have no closed-form interval: statsmodels simulates, seeded here
        simulated = "mul" in (self.error, self.trend, self.seasonal)
        with one_thread():
            for i, y in enumerate(coll.sequences):
                self._check_series(y, f"history {i}")
                for j in range(y.shape[1]):
                    extra = {"rng": np.random.default_rng(0)} if simulated else {}
                    pred = self._smoothed(y[:, j], j).get_prediction(start=len(y), end=len(y) + h - 1, **extra)
                    bounds = np.asarray(pred.pred_int(alpha=1.0 - coverage))
                    lower[i, :, j], upper[i, :, j] = bounds[:, 0], bounds[:, 1]
        return lower, upper


class ThetaForecaster(ForecasterMixin, BaseEstimator):
    """The theta method (statsmodels ``ThetaModel``, OLS trend + SES).

    The forecast is ``(1 - 1/theta) * b0 * [h - 1 + 1/alpha - (1 - alpha)^T / alpha]``
    plus the simple exponential smoothing forecast with ``alpha``, re-seasonalised;
    ``theta=2`` is the original method (half the trend line's slope).

    Parameters
    ----------
    period : int >= 2, optional
        Season length in steps; None: no seasonal adjustment.
    deseasonalize : bool
        Seasonally adjust (classical decomposition) when ``period`` is set.
    use_test : bool
        Adjust only when statsmodels' test finds seasonality (the
        autocorrelation at lag ``period``, 10% level), as in the M3 method.
    method : {"auto", "additive", "multiplicative"}
        Seasonal decomposition; "auto" is multiplicative for positive series,
        additive otherwise (statsmodels' rule).
    theta : float >= 1
        Weight of the trend line (1: SES only).
    horizon : int >= 1

    Attributes
    ----------
    results_ : list of statsmodels ``ThetaModelResults``, one per feature
    b0_, alpha_, sigma2_ : ndarray (n_features_in_,), the fitted trend slope,
        smoothing parameter and one-step error variance (for the intervals)
    seasonal_ : list of ndarray, the fitted seasonal indices per feature
        (``(period,)``, empty when not adjusted)
    method_ : list of str, the decomposition used per feature ("mul" or "add")
    fit_series_index_ : int, index of the training series that was fitted
    n_features_in_, horizon_

    Raises
    ------
    ValueError
        At fit, when a seasonally adjusted series is shorter than two
        seasons, or ``method="multiplicative"`` meets a value <= 0.
    """

    capabilities = _CAPABILITIES
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        "period": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "deseasonalize": ["boolean"],
        "use_test": ["boolean"],
        "method": [StrOptions({"auto", "additive", "multiplicative"})],
        "theta": [Interval(numbers.Real, 1, None, closed="left")],
    }

    def __init__(self, *, period=None, deseasonalize=True, use_test=True, method="auto", theta=2.0, horizon=1):
        self.period = period
        self.deseasonalize = deseasonalize
        self.use_test = use_test
        self.method = method
        self.theta = theta
        self.horizon = horizon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit one theta model per feature on the longest series of ``X``; ``y`` is ignored."""
        coll, index, series = self._validate_longest_series(X)
        if self.method == "multiplicative":
            _check_positive(series, "method", self.method, "the training series")
        need = 2 * self.period if self._adjusts() else 3
        if len(series) < need:
            reason = (f"two full seasons of period={self.period} for the seasonal decomposition" if self._adjusts()
                      else "a trend line and a smoothed level")
            raise SeriesTooShortError(  # the longest series: every other one is too short as well
                f"X: the training series has {len(series)} steps but ThetaForecaster needs at least {need} "
                f"({reason}); pass a longer series"
            )
        with one_thread():
            results = [self._model(series[:, j]).fit(use_mle=False) for j in range(series.shape[1])]
            sigma2 = np.array([r.sigma2 for r in results])  # statsmodels computes it lazily from the data
        self.results_ = results
        self.b0_ = np.array([float(r.params["b0"]) for r in results])
        self.alpha_ = np.array([float(r.params["alpha"]) for r in results])
        self.sigma2_ = sigma2
        # ThetaModelResults keeps the fitted seasonal indices only in ``_seasonal`` (its own
        # forecast_components reads them there); recomputing them would repeat its decomposition
        self.seasonal_ = [np.asarray(r._seasonal, dtype=np.float64) for r in results]
        self.method_ = [r.model.method for r in results]
        self.fit_series_index_ = index
        self._set_fitted_input(coll)
        return self

    def _adjusts(self) -> bool:
        return self.period is not None and self.deseasonalize

    def _model(self, y: np.ndarray) -> ThetaModel:
        method = {"auto": "auto", "additive": "add", "multiplicative": "mul"}[self.method]
        return ThetaModel(y, period=self.period, deseasonalize=self._adjusts(), use_test=self.use_test, method=method)

    def _describe(self) -> str:
        return f"ThetaForecaster(period={self.period}, theta={self.theta})"

    def _min_history(self) -> int:
        return 2

    def _min_history_reason(self) -> str:
        return "a level to smooth from"

    def _applied(self, history: np.ndarray, j: int) -> ThetaModelResults:
        """Feature ``j``'s fitted theta model conditioned on ``history`` ``(T,)``:
        the history seasonally adjusted with the fitted indices (by position
        from its first step) and smoothed with the fitted ``alpha``."""
        seasonal, method = self.seasonal_[j], self.method_[j]
        adjusted = history
        if seasonal.size:
            season = seasonal[_season_positions(len(history), len(seasonal))]
            adjusted = history / season if method == "mul" else history - season
        ses = ExponentialSmoothing(adjusted, initial_level=adjusted[0], initialization_method="known")
        one_step = float(ses.fit(smoothing_level=self.alpha_[j], optimized=False).forecast(1)[0])
        model = ThetaModel(history, period=self.period if seasonal.size else None,
                           deseasonalize=bool(seasonal.size), use_test=False, method=method)
        return ThetaModelResults(self.b0_[j], self.alpha_[j], self.sigma2_[j], one_step, seasonal, False, model)

    def _forecast(self, coll) -> np.ndarray:
        h = self.horizon_
        out = np.empty((len(coll), h, self.n_features_in_))
        for i, y in enumerate(coll.sequences):
            for j in range(y.shape[1]):
                out[i, :, j] = np.asarray(self._applied(y[:, j], j).forecast(h, theta=self.theta))
        return out

    def _forecast_interval(self, coll, coverage: float):
        h = self.horizon_
        lower = np.empty((len(coll), h, self.n_features_in_))
        upper = np.empty_like(lower)
        for i, y in enumerate(coll.sequences):
            for j in range(y.shape[1]):
                frame = self._applied(y[:, j], j).prediction_intervals(h, theta=self.theta, alpha=1.0 - coverage)
                lower[i, :, j], upper[i, :, j] = frame["lower"].to_numpy(), frame["upper"].to_numpy()
        return lower, upper
