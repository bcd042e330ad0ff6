"""ARForecaster: known-answer tests against a simulated AR(3) and statsmodels itself."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import toeplitz
from sklearn.exceptions import NotFittedError
from statsmodels.tsa.arima_process import ArmaProcess, arma_acovf

from seqbench.models.autoregressive._forecaster import ARForecaster

PHI = np.array([0.5, -0.3, 0.2])  # AR(3) coefficients; the roots lie outside the unit circle
N_TRAIN, N_TEST = 2000, 1000


@pytest.fixture(scope="module")
def ar3():
    """A stationary AR(3) with unit-variance Gaussian noise: (train, test)."""
    process = ArmaProcess(np.r_[1.0, -PHI], [1.0])
    assert process.isstationary
    y = process.generate_sample(N_TRAIN + N_TEST, distrvs=np.random.default_rng(42).standard_normal, burnin=500)
    return y[:N_TRAIN], y[N_TRAIN:]


def test_recovers_ar3_coefficients_within_four_standard_errors(ar3):
    train, _ = ar3
    est = ARForecaster(order=3).fit(train)
    phi_hat = est.results_.params[1:]  # params: const, y.L1, y.L2, y.L3
    # The OLS estimate is asymptotically normal with covariance sigma^2 Gamma_3^{-1} / T,
    # Gamma_3 the autocovariance matrix of the true process (sigma^2 = 1), so its
    # standard errors follow from the sample size alone: about 0.022 at T = 2000.
    gamma = toeplitz(arma_acovf(np.r_[1.0, -PHI], [1.0], nobs=3))
    se = np.sqrt(np.diag(np.linalg.inv(gamma)) / N_TRAIN)
    np.testing.assert_array_less(np.abs(phi_hat - PHI), 4 * se)  # a 4-sigma miss has p < 1e-4 each
    assert est.results_.sigma2 == pytest.approx(1.0, abs=4 * np.sqrt(2 / N_TRAIN))


def test_one_step_mse_within_ten_percent_of_noise_variance(ar3):
    train, test = ar3
    est = ARForecaster(order="aic").fit(train)
    assert est.order_ >= 3  # AIC never drops a lag this large at T = 2000
    series = np.concatenate([train, test])
    # one history per held-out step; an AR(p) conditions on the last p values only
    histories = [series[t - 20 : t] for t in range(N_TRAIN, N_TRAIN + N_TEST)]
    pred = est.predict(histories)
    assert pred.shape == (N_TEST, 1, 1)
    mse = np.mean((pred[:, 0, 0] - test) ** 2)
    # noise variance 1; the sample MSE of 1000 steps has a standard error of ~0.045
    assert abs(mse - 1.0) < 0.10, mse


def test_forecast_from_the_training_series_equals_statsmodels(ar3):
    train, _ = ar3
    est = ARForecaster(order=3, horizon=8).fit(train)
    np.testing.assert_allclose(est.predict(train)[0, :, 0], est.results_.forecast(8), rtol=1e-12)
    lower, upper = est.predict_interval(train, coverage=0.8)
    expected = est.results_.get_prediction(start=N_TRAIN, end=N_TRAIN + 7).conf_int(alpha=0.2)
    np.testing.assert_allclose(lower[0, :, 0], expected[:, 0], rtol=1e-10)
    np.testing.assert_allclose(upper[0, :, 0], expected[:, 1], rtol=1e-10)


def test_conditions_on_each_history_without_refitting(ar3):
    train, test = ar3
    est = ARForecaster(order=3, horizon=2).fit(train)
    params = est.results_.params.copy()
    c, a1, a2, a3 = params
    hist = test[:50]
    one = c + a1 * hist[-1] + a2 * hist[-2] + a3 * hist[-3]
    two = c + a1 * one + a2 * hist[-1] + a3 * hist[-2]
    # the shortest history the order needs gives the same forecast as a long one
    for h in (hist, hist[-3:]):
        np.testing.assert_allclose(est.predict(h)[0, :, 0], [one, two], rtol=1e-10)
    np.testing.assert_array_equal(est.results_.params, params)
    # intervals use the fitted noise variance whatever the history
    lo_long, hi_long = est.predict_interval(hist)
    lo_short, hi_short = est.predict_interval(hist[-3:])
    np.testing.assert_allclose(hi_long - lo_long, hi_short - lo_short, rtol=1e-10)


def test_interval_width_grows_with_horizon_and_coverage(ar3):
    train, test = ar3
    est = ARForecaster(order=3, horizon=5).fit(train)
    lo90, hi90 = est.predict_interval(test[:100], coverage=0.9)
    lo50, hi50 = est.predict_interval(test[:100], coverage=0.5)
    width = (hi90 - lo90)[0, :, 0]
    assert np.all(np.diff(width) > 0)
    assert np.all(hi90 - lo90 > hi50 - lo50)
    # one-step 90% interval of a unit-noise AR: +- 1.645 sigma
    assert width[0] == pytest.approx(2 * 1.645 * np.sqrt(est.results_.sigma2), rel=1e-3)


def test_var_on_a_bivariate_series():
    rng = np.random.default_rng(0)
    A = np.array([[0.6, 0.2], [-0.3, 0.4]])
    Y = np.zeros((1500, 2))
    for t in range(1, len(Y)):
        Y[t] = A @ Y[t - 1] + rng.normal(size=2)
    est = ARForecaster(order=1, horizon=3).fit(Y)  # model="auto" picks VAR
    assert est.model_ == "var"
    np.testing.assert_allclose(est.results_.coefs[0], A, atol=0.08)  # SE ~ 0.025 at T = 1500
    pred = est.predict([Y[:100], Y[:40]])
    assert pred.shape == (2, 3, 2)
    np.testing.assert_allclose(pred[0, 0], est.results_.intercept + est.results_.coefs[0] @ Y[99], rtol=1e-10)
    lower, upper = est.predict_interval(Y[:100])
    assert lower.shape == (1, 3, 2) and np.all(lower < pred[:1]) and np.all(pred[:1] < upper)


def test_sarima_with_seasonal_order():
    rng = np.random.default_rng(3)
    t = np.arange(120)
    y = 3 * np.sin(2 * np.pi * t / 12) + rng.normal(scale=0.3, size=len(t))
    # a list works like a tuple (suites written in TOML have no tuples)
    est = ARForecaster(model="arima", order=(1, 0, 0), seasonal_order=[0, 1, 0, 12], trend="n", horizon=12)
    est.fit(y[:108])
    assert est.min_history_ == 13  # p + s * D: one lag and one season of differencing
    pred = est.predict(y[:108])[0, :, 0]
    assert np.sqrt(np.mean((pred - 3 * np.sin(2 * np.pi * t[108:] / 12)) ** 2)) < 0.6


def test_an_order_of_zero_chosen_by_aic_forecasts_the_mean():
    y = np.random.default_rng(0).normal(5.0, 1.0, 20)  # white noise: AIC keeps no lag
    est = ARForecaster(order="aic", max_order=4, horizon=3).fit(y)
    assert (est.order_, est.lags_) == (0, [])
    pred, (lower, upper) = est.predict([y, y[-5:]]), est.predict_interval([y], coverage=0.9)
    assert np.allclose(pred[:, :, 0], y.mean()) and np.all(lower < y.mean()) and np.all(upper > y.mean())


def test_multiple_training_series_fit_the_longest():
    rng = np.random.default_rng(1)
    est = ARForecaster(order=2).fit([rng.normal(size=50), rng.normal(size=300), rng.normal(size=300)])
    assert est.fit_series_index_ == 1
    assert est.results_.nobs == 300 - 2


@pytest.mark.parametrize(
    "params, X, message",
    [
        (dict(horizon=0), np.arange(50.0), "horizon"),
        (dict(order=30), np.arange(50.0), "needs at least 61"),
        (dict(model="arima", order=(1, 0, 0), seasonal_order=(1, 0, 0, 60)), np.arange(50.0), "longer than the training"),
        (dict(seasonal=True, period=60), np.arange(50.0), "period=60 is longer"),
        (dict(seasonal=True), np.arange(50.0), "seasonal=True needs period"),
        (dict(model="var"), np.arange(50.0), "needs a multivariate series"),
        (dict(model="autoreg"), np.ones((50, 2)), "univariate"),
        (dict(order=(1, 0, 1)), np.arange(50.0), "set model='arima'"),
        (dict(model="arima", order="aic"), np.arange(50.0), "needs \\(p, d, q\\)"),
        (dict(seasonal_order=(1, 0, 0, 12)), np.arange(50.0), "set model='arima'"),
        (dict(), np.r_[np.arange(10.0), np.nan], "sequence 0 contains NaN"),
        (dict(), np.r_[np.arange(10.0), np.inf], "sequence 0 contains infinity"),
    ],
)
def test_bad_input_at_fit_leaves_nothing_fitted(params, X, message):
    est = ARForecaster(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(X)
    with pytest.raises(NotFittedError):
        est.predict(np.arange(20.0))


def test_bad_input_at_predict():
    rng = np.random.default_rng(0)
    est = ARForecaster(order=4).fit(rng.normal(size=100))
    with pytest.raises(ValueError, match=r"history 1 has 3 steps but .* needs at least 4"):
        est.predict([rng.normal(size=10), rng.normal(size=3)])
    with pytest.raises(ValueError, match="sequence 0 has 2 features per step, but the estimator was fitted with 1"):
        est.predict(rng.normal(size=(10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        est.predict(np.r_[rng.normal(size=10), np.nan])
    with pytest.raises(ValueError, match="coverage must be a number strictly between 0 and 1"):
        est.predict_interval(rng.normal(size=10), coverage=1.5)
