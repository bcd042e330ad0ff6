"""ARForecaster: statsmodels' AutoReg, SARIMAX and VAR behind the forecaster API.

Which statsmodels model (``model``):

- ``"autoreg"``: :class:`statsmodels.tsa.ar_model.AutoReg` (OLS), univariate,
  ``order`` lags fixed or chosen by ``"aic"``/``"bic"`` up to ``max_order``,
  ``trend``, optional seasonal dummies (``seasonal=True, period=m``) and
  seasonal lags ``m, 2m, ..., Pm`` (``seasonal_lags=P, period=m``);
- ``"arima"``: :class:`statsmodels.tsa.statespace.sarimax.SARIMAX` (exact
  likelihood), univariate, ``order=(p, d, q)`` and ``seasonal_order=(P, D, Q, s)``;
- ``"var"``: :class:`statsmodels.tsa.api.VAR` (OLS), multivariate, ``order``
  lags fixed or chosen by ``"aic"``/``"bic"``;
- ``"auto"`` (default): AutoReg for univariate series, VAR for multivariate.

Several training series: statsmodels estimates from one contiguous series,
so ``fit`` uses the **longest** training series (the first of equal length;
its index is ``fit_series_index_``) and pools nothing. Gluing series end to
start would invent transitions that never happened, and pooling the lag
regressions by hand would rewrite statsmodels (estimation, order selection
and intervals) for a case the wrapped library does not support.

``predict`` conditions on each history with the fitted parameters and never
refits: AutoReg and SARIMAX results are ``apply``-ed to the history with
``refit=False``; VAR forecasts from the history's last ``order_`` rows.
Deterministic terms that depend on time (``trend="t"``/``"ct"``, seasonal
dummies, SARIMAX trends) are aligned to the first step of each history, as
statsmodels' ``apply`` does, so such histories should start at the same
phase as the training series (an expanding window from the series' start,
as in :func:`seqbench.metrics.rolling_origin`, does).

``power_transform="log"`` or ``"boxcox"`` fits the model to the log or Box-Cox
transform of the series (lambda estimated on the fitted training series) and
maps forecasts and interval bounds back; see ``_transform.py``.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from statsmodels.tsa.ar_model import AutoReg, ar_select_order
from statsmodels.tsa.api import VAR
from statsmodels.tsa.statespace.sarimax import SARIMAX

from ...data import SeriesTooShortError, one_thread
from .._base import Capabilities
from .._forecast_base import ForecasterMixin
from . import _transform

__all__ = ["ARForecaster"]

_TREND_TERMS = {"n": 0, "c": 1, "t": 1, "ct": 2}


class ARForecaster(ForecasterMixin, BaseEstimator):
    """Autoregressive forecaster (statsmodels AutoReg / SARIMAX / VAR).

    Parameters
    ----------
    order : int >= 0, "aic", "bic", or tuple (p, d, q) (a list works too)
        Number of lags (AutoReg, VAR) or its selection criterion; for
        ``model="arima"`` a tuple ``(p, d, q)`` (an int ``p`` means ``(p, 0, 0)``).
    model : {"auto", "autoreg", "arima", "var"}
        See the module docstring.
    trend : {"n", "c", "t", "ct"}
        Deterministic terms: none, constant, linear time trend, both (VAR: "n" or "c").
    seasonal : bool
        AutoReg only: add seasonal dummies with period ``period``.
    seasonal_lags : int >= 0
        AutoReg only: add the lags ``period, 2 * period, ..., seasonal_lags *
        period`` to the ordinary lags ``1..order`` (to the selected order
        when ``order`` is a criterion). 0: none.
    period : int >= 2, optional
        Season length in steps for ``seasonal=True`` and ``seasonal_lags``.
    power_transform : {None, "log", "boxcox"}
        Fit on ``log(y)`` or the Box-Cox transform of ``y`` (lambda per
        feature by maximum likelihood on the fitted series) and map forecasts
        and interval bounds back: the point forecast is then the forecast
        median. Needs strictly positive training series and histories. (Not
        named ``transform``: scikit-learn takes any estimator with a
        ``transform`` attribute for a transformer.)
    seasonal_order : tuple (P, D, Q, s)
        SARIMAX seasonal part (``model="arima"`` only); ``(0, 0, 0, 0)`` for none.
    max_order : int >= 1, optional
        Largest lag tried by ``order="aic"``/``"bic"``. Default: Schwert's rule
        ``12 * (T / 100) ** 0.25``, capped so that every candidate can be fitted.
    horizon : int >= 1
        Number of steps forecast after each history.

    Attributes
    ----------
    results_ : statsmodels results of the fit (AutoRegResults, SARIMAXResults or VARResults)
    model_ : str, the statsmodels model used ("autoreg", "arima" or "var")
    lags_ : list of int, the AutoReg lags used (None for ARIMA and VAR)
    boxcox_lambda_ : ndarray (n_features_in_,), Box-Cox lambdas (None unless
        ``power_transform="boxcox"``)
    order_ : int or tuple, lags used (selected when ``order`` is a criterion);
        ``(p, d, q)`` for ARIMA
    fit_series_index_ : int, index of the training series that was fitted
    min_history_ : int, the fewest steps a history may have at predict
    n_features_in_, horizon_ : features per step; the horizon ``predict`` forecasts
    """

    capabilities = Capabilities(
        task="forecast", family="autoregressive", input_kinds=frozenset({"real"}), probabilistic=True
    )
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        "order": [Interval(numbers.Integral, 0, None, closed="left"), StrOptions({"aic", "bic"}), tuple, list],
        "model": [StrOptions({"auto", "autoreg", "arima", "var"})],
        "trend": [StrOptions({"n", "c", "t", "ct"})],
        "seasonal": ["boolean"],
        "seasonal_lags": [Interval(numbers.Integral, 0, None, closed="left")],
        "power_transform": [StrOptions(set(_transform.TRANSFORMS)), None],
        "period": [Interval(numbers.Integral, 2, None, closed="left"), None],
        "seasonal_order": [tuple, list],  # lists too: a TOML suite has no tuples
        "max_order": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        order=1,
        *,
        model="auto",
        trend="c",
        seasonal=False,
        seasonal_lags=0,
        period=None,
        seasonal_order=(0, 0, 0, 0),
        max_order=None,
        power_transform=None,
        horizon=1,
    ):
        self.order = order
        self.model = model
        self.trend = trend
        self.seasonal = seasonal
        self.seasonal_lags = seasonal_lags
        self.period = period
        self.seasonal_order = seasonal_order
        self.max_order = max_order
        self.power_transform = power_transform
        self.horizon = horizon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit on the longest series of ``X`` (collection, or one series); ``y`` is ignored."""
        coll, index, series = self._validate_longest_series(X)
        kind = self._resolve_model(coll.n_features)
        series, lambdas = self._transform_training(series)
        fit = {"autoreg": self._fit_autoreg, "arima": self._fit_arima, "var": self._fit_var}[kind]
        # statsmodels solves small least-squares and Kalman problems: BLAS threads only add
        # synchronisation (5-50x slower measured on 2 busy cores), so use one.
        with one_thread():
            results, order, min_history = fit(series if kind == "var" else series[:, 0])
        self.results_, self.model_, self.order_ = results, kind, order
        # statsmodels leaves ar_lags None when the selected order is 0 (a constant or trend alone)
        self.lags_ = [int(lag) for lag in results.model.ar_lags or []] if kind == "autoreg" else None
        self.boxcox_lambda_ = lambdas
        self.fit_series_index_, self.min_history_ = index, min_history
        self._set_fitted_input(coll)
        return self

    # ---------------------------------------------------------- validation
    def _resolve_model(self, n_features: int) -> str:
        kind = self.model if self.model != "auto" else ("autoreg" if n_features == 1 else "var")
        if kind in ("autoreg", "arima") and n_features != 1:
            raise ValueError(
                f"model={kind!r} is univariate but the series have {n_features} features per step; "
                "use model='var' (or 'auto') for multivariate series"
            )
        if kind == "var" and n_features < 2:
            raise ValueError("model='var' needs a multivariate series (2 or more features); use 'autoreg' or 'auto'")
        if isinstance(self.order, (tuple, list)) and kind != "arima":
            raise ValueError(f"order={self.order!r} is an ARIMA (p, d, q) order; set model='arima' or pass an int")
        if kind == "arima" and isinstance(self.order, str):
            raise ValueError(f"order={self.order!r} selects AutoReg/VAR lags; model='arima' needs (p, d, q)")
        if tuple(self.seasonal_order) != (0, 0, 0, 0) and kind != "arima":
            raise ValueError("seasonal_order is the SARIMAX seasonal part; set model='arima' to use it")
        if self.seasonal and kind != "autoreg":
            raise ValueError("seasonal=True adds AutoReg seasonal dummies; for ARIMA use seasonal_order")
        if self.seasonal_lags and kind != "autoreg":
            raise ValueError(
                f"seasonal_lags={self.seasonal_lags} adds AutoReg lags; for ARIMA use seasonal_order, "
                "for VAR raise order"
            )
        if kind == "var" and self.trend not in ("n", "c"):
            raise ValueError(f"trend={self.trend!r} is not supported with VAR here; use 'n' or 'c'")
        return kind

    def _transform_training(self, series: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The training series ``(T, d)`` on the model's scale, and the Box-Cox lambdas (or None)."""
        if self.power_transform is None:
            return series, None
        _transform.check_positive(series, self.power_transform, "the training series")
        lambdas = _transform.fit_lambdas(series) if self.power_transform == "boxcox" else None
        return _transform.forward(series, self.power_transform, lambdas), lambdas

    def _too_short(self, n_steps: int, need: int, what: str) -> SeriesTooShortError:
        return SeriesTooShortError(
            f"X: the training series has {n_steps} steps but {what} needs at least {need}; "
            "pass a longer series or lower the order"
        )

    def _default_max_order(self, n_steps: int, n_regressors_per_lag: int, n_fixed: int) -> int:
        """Schwert's rule, capped so that the largest candidate can be estimated."""
        cap = (n_steps - n_fixed - 1) // (1 + n_regressors_per_lag)
        if self.max_order is not None:
            if self.max_order > cap:
                raise self._too_short(n_steps, self.max_order * (1 + n_regressors_per_lag) + n_fixed + 1,
                                      f"max_order={self.max_order}")
            return self.max_order
        if cap < 1:
            raise self._too_short(n_steps, n_regressors_per_lag + n_fixed + 2, f"order={self.order!r}")
        return max(1, min(int(12 * (n_steps / 100) ** 0.25), cap))

    # --------------------------------------------------------------- fits
    def _fit_autoreg(self, y: np.ndarray):
        if (self.seasonal or self.seasonal_lags) and self.period is None:
            what = "seasonal=True" if self.seasonal else f"seasonal_lags={self.seasonal_lags}"
            raise ValueError(f"{what} needs period (the season length in steps)")
        period = self.period if self.seasonal else None
        if period is not None and period > len(y):
            raise ValueError(f"period={period} is longer than the training series ({len(y)} steps)")
        seasonal_lags = [k * self.period for k in range(1, self.seasonal_lags + 1)]
        # deterministic regressors, counted as statsmodels does (one dummy fewer with a constant)
        n_fixed = _TREND_TERMS[self.trend] + (period - ("c" in self.trend) if period else 0)
        spec = dict(trend=self.trend, seasonal=self.seasonal, period=period)
        if isinstance(self.order, str):
            if seasonal_lags and 2 * seasonal_lags[-1] + n_fixed > len(y):
                raise self._too_short(len(y), 2 * seasonal_lags[-1] + n_fixed, f"seasonal_lags={self.seasonal_lags}")
            max_order = self._default_max_order(len(y), 1, n_fixed + len(seasonal_lags))
            selected = ar_select_order(y, maxlag=max_order, ic=self.order, **spec).ar_lags
            p = max(selected) if selected else 0
        else:
            p = int(self.order)
        lags = sorted(set(range(1, p + 1)) | set(seasonal_lags))
        max_lag = max(lags, default=0)
        if len(y) < max_lag + len(lags) + n_fixed:
            raise self._too_short(len(y), max_lag + len(lags) + n_fixed,
                                  f"AutoReg with lags {_lag_text(lags)} and trend {self.trend!r}")
        results = AutoReg(y, lags=lags or 0, **spec).fit()  # refit the selected order on the whole series
        lag_invariant = self.trend in ("n", "c") and not self.seasonal
        # statsmodels rebuilds the lag regression of each history in apply, which needs
        # hold_back + n_regressors steps, and then forecasts from the max_lag steps after
        # hold_back; for lag-invariant terms the forecast needs only max_lag.
        min_history = max(max_lag, 1) if lag_invariant else max_lag + max(results.model.df_model, max_lag)
        return results, p, min_history

    def _fit_arima(self, y: np.ndarray):
        order = (int(self.order), 0, 0) if isinstance(self.order, numbers.Integral) else tuple(self.order)
        seasonal_order = tuple(self.seasonal_order)
        _check_int_tuple(order, 3, "order", "(p, d, q)")
        _check_int_tuple(seasonal_order, 4, "seasonal_order", "(P, D, Q, s)")
        (p, d, q), (P, D, Q, s) = order, seasonal_order
        if s > len(y):
            raise ValueError(
                f"seasonal_order has season s={s}, longer than the training series ({len(y)} steps); "
                "a season must fit in the series (several times, to be estimated well)"
            )
        if (P or D or Q) and s < 2:
            raise ValueError(f"seasonal_order={seasonal_order} has seasonal terms but season s={s}; s must be >= 2")
        span = p + d + s * (P + D)
        if len(y) <= span + q + s * Q:
            raise self._too_short(len(y), span + q + s * Q + 1, f"SARIMAX{order}x{seasonal_order}")
        model = SARIMAX(y, order=order, seasonal_order=seasonal_order, trend=self.trend)
        return model.fit(disp=False), order, max(span, 1)

    def _fit_var(self, Y: np.ndarray):
        d, n_fixed = Y.shape[1], _TREND_TERMS[self.trend]
        if isinstance(self.order, str):
            results = VAR(Y).fit(maxlags=self._default_max_order(len(Y), d, n_fixed), ic=self.order, trend=self.trend)
        else:
            p = int(self.order)
            if len(Y) < p * (d + 1) + n_fixed + 1:
                raise self._too_short(len(Y), p * (d + 1) + n_fixed + 1, f"VAR({p}) on {d} features")
            results = VAR(Y).fit(maxlags=p, ic=None, trend=self.trend)
        return results, int(results.k_ar), max(int(results.k_ar), 1)

    # ---------------------------------------------------------- predicting
    def _min_history(self) -> int:
        return self.min_history_

    def _min_history_reason(self) -> str:
        return "its lags, with its trend and seasonal terms"

    def _describe(self) -> str:
        return f"ARForecaster ({self.model_}, fitted order {self.order_})"

    def _forecast(self, coll) -> np.ndarray:
        with one_thread():
            out = np.stack([self._one(s, None)[0] for s in self._model_scale(coll)])
        return _transform.inverse(out, self.power_transform, self.boxcox_lambda_)

    def _forecast_interval(self, coll, coverage: float):
        with one_thread():
            out = [self._one(s, 1.0 - coverage) for s in self._model_scale(coll)]
        lower, upper = np.stack([lo for _, lo, _ in out]), np.stack([hi for _, _, hi in out])
        return (_transform.inverse(lower, self.power_transform, self.boxcox_lambda_),
                _transform.inverse(upper, self.power_transform, self.boxcox_lambda_))

    def _model_scale(self, coll) -> list[np.ndarray]:
        """The histories ``(T_i, d)`` on the scale the model was fitted on."""
        if self.power_transform is None:
            return coll.sequences
        for i, s in enumerate(coll.sequences):
            _transform.check_positive(s, self.power_transform, f"history {i}")
        return [_transform.forward(s, self.power_transform, self.boxcox_lambda_) for s in coll.sequences]

    def _one(self, history: np.ndarray, alpha: float | None):
        """Forecast ``(horizon, d)`` from one history; with ``alpha`` also the
        ``1 - alpha`` interval bounds (else None)."""
        h = self.horizon_
        if self.model_ == "var":
            last = history[len(history) - self.order_ :]
            if alpha is None:
                return self.results_.forecast(last, h), None, None
            return self.results_.forecast_interval(last, h, alpha=alpha)
        applied = self._apply(history[:, 0])
        if alpha is None:
            return np.asarray(applied.forecast(h)).reshape(h, 1), None, None
        n = applied.model.endog.shape[0]
        pred = applied.get_prediction(start=n, end=n + h - 1) if self.model_ == "autoreg" else applied.get_forecast(h)
        bounds = np.asarray(pred.conf_int(alpha=alpha)).reshape(h, 2)
        return np.asarray(pred.predicted_mean).reshape(h, 1), bounds[:, :1], bounds[:, 1:]

    def _apply(self, y: np.ndarray):
        """The fitted results applied to history ``y`` with the fitted parameters (no refit)."""
        if self.model_ == "arima":
            return self.results_.apply(y, refit=False)
        model = self.results_.model
        if model.trend in ("n", "c") and not model.seasonal:
            # Lag-invariant terms: the forecast and its interval depend on the last max_lag
            # values alone. statsmodels rebuilds the in-sample lag regression of the
            # history in apply, which needs hold_back + df_model steps, and forecasts from
            # the max_lag steps after hold_back: pass exactly that many (trimming long
            # histories keeps predict O(1) in their length; left-padding short ones only
            # satisfies that rebuild).
            need = model.hold_back + max(model.df_model, max(model.ar_lags or [], default=0))
            y = y[-need:] if len(y) >= need else np.concatenate([np.full(need - len(y), y[0]), y])
        applied = self.results_.apply(y, refit=False)
        # Intervals must use the fitted noise variance, not the mean squared residual of
        # this history that apply computes; sigma2 is writable on the results object
        # (statsmodels' cache_writable), which the wrapper keeps in ``_results``.
        applied._results.sigma2 = self.results_.sigma2
        return applied


def _lag_text(lags: list[int]) -> str:
    return "[" + ", ".join(map(str, lags)) + "]" if lags else "none"


def _check_int_tuple(value: tuple, length: int, name: str, form: str) -> None:
    ok = len(value) == length and all(isinstance(v, numbers.Integral) and v >= 0 for v in value)
    if not ok:
        raise ValueError(f"{name} must be a tuple {form} of {length} non-negative integers, got {value!r}")
