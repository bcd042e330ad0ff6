"""ETSForecaster and ThetaForecaster against statsmodels, their refusals, and
ARForecaster's transform and seasonal lags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import boxcox
from statsmodels.tsa.ar_model import AutoReg
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from statsmodels.tsa.forecasting.theta import ThetaModel

from seqbench.models import REGISTRY, ARForecaster, ETSForecaster, ThetaForecaster


def seasonal_series(n=96, period=12, seed=0, level=20.0):
    """Positive monthly-like series: level + slope + a fixed seasonal shape + noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    shape = 3.0 * np.sin(2 * np.pi * t / period) + 1.5 * np.cos(4 * np.pi * t / period)
    return level + 0.2 * t + shape + 0.5 * rng.normal(size=n)


def test_registered_as_baseline_forecasters():
    for cls in (ETSForecaster, ThetaForecaster):
        assert REGISTRY[cls.__name__] is cls
        assert cls.capabilities.task == "forecast" and cls.capabilities.family == "baseline"


def test_ets_forecasts_the_training_series_as_statsmodels_does():
    y = seasonal_series()
    est = ETSForecaster(trend="add", damped_trend=True, seasonal="add", period=12, horizon=12).fit(y)
    reference = ETSModel(pd.Series(y), error="add", trend="add", damped_trend=True, seasonal="add",
                         seasonal_periods=12).fit(disp=False)
    np.testing.assert_allclose(est.params_[0], np.asarray(reference.params), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.predict(y)[0, :, 0], np.asarray(reference.forecast(12)), rtol=1e-6)
    lower, upper = est.predict_interval(y, coverage=0.8)
    frame = reference.get_prediction(start=len(y), end=len(y) + 11).pred_int(alpha=0.2)
    np.testing.assert_allclose(lower[0, :, 0], frame.iloc[:, 0].to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(upper[0, :, 0], frame.iloc[:, 1].to_numpy(), rtol=1e-6)


def test_ets_conditions_a_shorter_history_on_the_fitted_parameters():
    y = seasonal_series()
    est = ETSForecaster(seasonal="add", period=12, horizon=6).fit(y)
    history = y[:60]
    expected = ETSModel(pd.Series(history), **est._spec()).smooth(est.params_[0]).forecast(6)
    np.testing.assert_allclose(est.predict(history)[0, :, 0], np.asarray(expected))
    # and a seasonal model forecasts a seasonal series far better than its last value
    naive_error = np.abs(y[60:66] - history[-1]).mean()
    assert np.abs(est.predict(history)[0, :, 0] - y[60:66]).mean() < 0.5 * naive_error


def test_theta_forecasts_the_training_series_as_statsmodels_does():
    y = seasonal_series(seed=1)
    est = ThetaForecaster(period=12, horizon=8).fit(y)
    reference = ThetaModel(y, period=12).fit()
    assert est.seasonal_[0].shape == (12,)  # the test found the seasonality
    np.testing.assert_allclose(est.predict(y)[0, :, 0], np.asarray(reference.forecast(8)), rtol=1e-9)
    lower, upper = est.predict_interval(y, coverage=0.9)
    frame = reference.prediction_intervals(8, alpha=0.1)
    np.testing.assert_allclose(lower[0, :, 0], frame["lower"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(upper[0, :, 0], frame["upper"].to_numpy(), rtol=1e-9)


def test_theta_on_a_history_is_ses_plus_half_the_fitted_trend():
    """Known answer, non-seasonal: SES level with the fitted alpha, plus
    b0 / 2 * (h - 1 + 1/alpha - (1 - alpha)^T / alpha) (Hyndman & Billah 2003)."""
    rng = np.random.default_rng(3)
    y = np.cumsum(0.3 + rng.normal(size=80)) + 50
    est = ThetaForecaster(horizon=5).fit(y)
    history = y[:50]
    alpha, b0 = est.alpha_[0], est.b0_[0]
    level = history[0]
    for value in history:
        level = alpha * value + (1 - alpha) * level
    h = np.arange(1, 6)
    expected = level + 0.5 * b0 * (h - 1 + 1 / alpha - (1 - alpha) ** len(history) / alpha)
    np.testing.assert_allclose(est.predict(history)[0, :, 0], expected, rtol=1e-9)


@pytest.mark.parametrize(
    "est, n, match",
    [
        (ETSForecaster(seasonal="add", period=12), 20, "at least 24 .*two full seasons of period=12"),
        (ThetaForecaster(period=12), 23, "at least 24 .*two full seasons of period=12"),
        (ETSForecaster(trend="add", damped_trend=True), 5, "at least 6"),
    ],
)
def test_a_series_shorter_than_two_seasons_is_refused_with_the_length_needed(est, n, match):
    with pytest.raises(ValueError, match=match):
        est.fit(seasonal_series(n=n))


def test_multiplicative_components_refuse_non_positive_values():
    y = seasonal_series() - 30.0  # crosses zero
    with pytest.raises(ValueError, match=r"error='mul' needs strictly positive values"):
        ETSForecaster(error="mul").fit(y)
    with pytest.raises(ValueError, match=r"method='multiplicative' needs strictly positive values"):
        ThetaForecaster(period=12, method="multiplicative").fit(y)
    with pytest.raises(ValueError, match="seasonal='add' needs period"):
        ETSForecaster(seasonal="add").fit(seasonal_series())


def test_multivariate_series_get_one_model_per_feature():
    Y = np.column_stack([seasonal_series(seed=0), seasonal_series(seed=1, level=40.0)])
    est = ThetaForecaster(horizon=3).fit(Y)
    single = ThetaForecaster(horizon=3).fit(Y[:, 1])
    np.testing.assert_allclose(est.predict(Y)[0, :, 1], single.predict(Y[:, 1])[0, :, 0])


# ------------------------------------------------------------- ARForecaster


def test_log_transform_fits_autoreg_on_logs_and_maps_back():
    y = np.exp(seasonal_series() / 10.0)
    est = ARForecaster(order=2, power_transform="log", horizon=4).fit(y)
    reference = AutoReg(np.log(y), lags=2, trend="c").fit()
    np.testing.assert_allclose(est.predict(y)[0, :, 0], np.exp(reference.forecast(4)), rtol=1e-9)
    lower, upper = est.predict_interval(y)
    point = est.predict(y)
    assert np.all(lower < point) and np.all(point < upper)


def test_boxcox_lambda_is_scipys_maximum_likelihood_estimate():
    y = seasonal_series() ** 2
    est = ARForecaster(order=1, power_transform="boxcox").fit(y)
    np.testing.assert_allclose(est.boxcox_lambda_, [boxcox(y)[1]], rtol=1e-5)
    assert est.predict(y).min() > 0


@pytest.mark.parametrize("transform", ["log", "boxcox"])
def test_transform_on_non_positive_data_names_parameter_and_value(transform):
    y = seasonal_series()
    y[7] = -2.5
    with pytest.raises(ValueError, match=rf"power_transform='{transform}' needs strictly positive values.*-2.5 at step 7"):
        ARForecaster(order=1, power_transform=transform).fit(y)
    est = ARForecaster(order=1, power_transform=transform).fit(seasonal_series())
    with pytest.raises(ValueError, match=rf"power_transform='{transform}'.*history 1 has 0.0 at step 3"):
        est.predict([seasonal_series()[:40], np.r_[1.0, 2.0, 3.0, 0.0, 5.0]])


def test_seasonal_lags_match_autoreg_with_those_lags():
    y = seasonal_series(n=120)
    est = ARForecaster(order=1, seasonal_lags=2, period=12, horizon=12).fit(y)
    assert est.lags_ == [1, 12, 24]
    reference = AutoReg(y, lags=[1, 12, 24], trend="c").fit()
    np.testing.assert_allclose(est.predict(y)[0, :, 0], reference.forecast(12), rtol=1e-9)
    # a shorter history: the forecast recursion with the fitted coefficients
    history = y[:70]
    c, a1, a12, a24 = reference.params
    ext = list(history)
    for _ in range(12):
        ext.append(c + a1 * ext[-1] + a12 * ext[-12] + a24 * ext[-24])
    np.testing.assert_allclose(est.predict(history)[0, :, 0], ext[70:], rtol=1e-9)


def test_seasonal_lags_reach_the_noise_floor_of_a_seasonal_ar_process():
    """Known oracle: y_t = 0.8 y_{t-12} + e_t with unit noise, so the best
    one-step forecast errs with variance 1. Seasonal lags get close; plain
    short lags cannot see a year back."""
    rng = np.random.default_rng(0)
    n = 600
    y = np.zeros(n)
    e = rng.normal(size=n)
    for t in range(12, n):
        y[t] = 0.8 * y[t - 12] + e[t]
    train, test_start = y[:400], 400
    seasonal = ARForecaster(order=0, seasonal_lags=1, period=12, trend="n").fit(train)
    short = ARForecaster(order=2, trend="n").fit(train)
    histories = [y[:t] for t in range(test_start, n)]
    actual = y[test_start:n]
    mse_seasonal = np.mean((seasonal.predict(histories)[:, 0, 0] - actual) ** 2)
    mse_short = np.mean((short.predict(histories)[:, 0, 0] - actual) ** 2)
    assert mse_seasonal < 1.2 and mse_short > 2.0, (mse_seasonal, mse_short)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(seasonal_lags=1), "seasonal_lags=1 needs period"),
        (dict(model="arima", order=(1, 0, 0), seasonal_lags=1, period=12), "seasonal_lags=1 adds AutoReg lags"),
        (dict(power_transform="sqrt"), "power_transform"),
    ],
)
def test_bad_seasonal_and_transform_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        ARForecaster(**params).fit(seasonal_series())
