"""NaiveForecaster: exact answers on series whose forecasts are known."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.exceptions import NotFittedError

from seqbench.models.baseline._forecaster import NaiveForecaster


def test_seasonal_naive_is_exact_on_a_noise_free_periodic_series():
    pattern = np.random.default_rng(0).normal(size=7)
    series = np.tile(pattern, 12)  # 84 steps, period 7
    train, holdout = series[:-17], series[-17:]  # a hold-out longer than two seasons
    est = NaiveForecaster("seasonal", season=7, horizon=17).fit(train)
    np.testing.assert_array_equal(est.predict(train)[0, :, 0], holdout)
    assert est.score(train, holdout) == 0.0
    # the same on several multivariate histories that end at different phases
    multi = np.column_stack([series, 2 * series])
    hist = [multi[:40], multi[:45]]
    expected = np.stack([multi[40:57], multi[45:62]])
    est = NaiveForecaster("seasonal", season=7, horizon=17).fit(multi)
    np.testing.assert_array_equal(est.predict(hist), expected)


def test_last_and_drift():
    y = np.array([1.0, 4.0, 2.0, 7.0])
    last = NaiveForecaster("last", horizon=3).fit(y).predict(y)
    np.testing.assert_array_equal(last[0, :, 0], [7.0, 7.0, 7.0])
    drift = NaiveForecaster("drift", horizon=3).fit(y).predict(y)
    np.testing.assert_allclose(drift[0, :, 0], [9.0, 11.0, 13.0])  # slope (7 - 1) / 3 = 2


def test_intervals_follow_the_textbook_formulas():
    rng = np.random.default_rng(1)
    y = np.cumsum(rng.normal(size=200))
    z = norm.ppf(0.95)
    h = np.arange(1, 7)
    est = NaiveForecaster("last", horizon=6).fit(y)
    lower, upper = est.predict_interval(y, coverage=0.9)
    sigma = np.sqrt(np.mean(np.diff(y) ** 2))
    np.testing.assert_allclose(upper[0, :, 0] - y[-1], z * sigma * np.sqrt(h))
    np.testing.assert_allclose(y[-1] - lower[0, :, 0], z * sigma * np.sqrt(h))
    seasonal = NaiveForecaster("seasonal", season=4, horizon=6).fit(y)
    lo, hi = seasonal.predict_interval(y, coverage=0.9)
    sigma4 = np.sqrt(np.mean((y[4:] - y[:-4]) ** 2))
    np.testing.assert_allclose((hi - lo)[0, :, 0] / 2, z * sigma4 * np.sqrt([1, 1, 1, 1, 2, 2]))


def test_interval_coverage_of_a_random_walk_is_nominal():
    rng = np.random.default_rng(2)
    walks = np.cumsum(rng.normal(size=(400, 101)), axis=1)
    est = NaiveForecaster("last", horizon=1).fit(walks[0, :100])
    lower, upper = est.predict_interval(list(walks[:, :100]), coverage=0.8)
    inside = (walks[:, 100] >= lower[:, 0, 0]) & (walks[:, 100] <= upper[:, 0, 0])
    assert abs(inside.mean() - 0.8) < 0.06  # binomial SE at n = 400: 0.02


@pytest.mark.parametrize(
    "params, X, message",
    [
        (dict(horizon=0), np.arange(10.0), "horizon"),
        (dict(strategy="mean"), np.arange(10.0), "strategy"),
        (dict(strategy="seasonal", season=12), np.arange(10.0), "series 0 has 10 steps, shorter than one full season"),
        (dict(), [np.arange(10.0), np.array([1.0, np.nan])], "sequence 1 contains NaN"),
    ],
)
def test_bad_input_at_fit(params, X, message):
    est = NaiveForecaster(**params)
    with pytest.raises(ValueError, match=message):
        est.fit(X)
    with pytest.raises(NotFittedError):
        est.predict(np.arange(20.0))


def test_bad_input_at_predict():
    est = NaiveForecaster("seasonal", season=5).fit(np.arange(20.0))
    with pytest.raises(ValueError, match=r"history 0 has 3 steps .* needs at least 5 \(one full season"):
        est.predict(np.arange(3.0))
    with pytest.raises(ValueError, match="fitted with 1"):
        est.predict(np.ones((10, 3)))
    with pytest.raises(ValueError, match="an interval needs at least 6"):
        est.predict_interval(np.arange(5.0))
