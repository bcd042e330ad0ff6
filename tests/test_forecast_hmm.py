"""HMMForecaster: regime means, the propagated state distribution, intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from seqbench.models.hmm._forecaster import HMMForecaster

MEANS = np.array([-5.0, 5.0])
STAY = 0.95  # P(regime at t+1 = regime at t)
NOISE = 0.5


def simulate(n_steps: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two well-separated regimes (means -5 and +5, sd 0.5) switching with probability 0.05."""
    rng = np.random.default_rng(seed)
    switches = rng.random(n_steps) > STAY
    states = np.cumsum(switches) % 2
    return MEANS[states] + NOISE * rng.normal(size=n_steps), states


@pytest.fixture(scope="module")
def fitted():
    y, _ = simulate(2000, seed=0)
    return HMMForecaster(n_components=2, random_state=0, horizon=15).fit(y)


def test_recovers_the_regime_means(fitted):
    # each regime holds ~1000 steps of sd 0.5: the mean's standard error is ~0.016
    np.testing.assert_allclose(np.sort(fitted.regime_means_[:, 0]), MEANS, atol=0.1)
    assert fitted.fit_report_.converged


def test_forecasts_the_regime_mean_and_its_decay(fitted):
    y, states = simulate(300, seed=1)
    for regime in (0, 1):
        end = int(np.flatnonzero(states == regime)[-1]) + 1
        forecast = fitted.predict(y[:end])[0, :, 0]
        # truth: the current regime is known almost surely (the regimes are 20 sd apart),
        # so step h forecasts mean + (2 * STAY - 1)^h * (regime mean - mean), here mean 0.
        # The transition probabilities are estimated from ~100 switches (SE ~ 0.007,
        # i.e. ~0.07 on the one-step forecast), hence the tolerance.
        truth = MEANS[regime] * (2 * STAY - 1) ** np.arange(1, 16)
        error = np.abs(forecast - truth)
        assert np.all(error <= 0.2 + 0.04 * np.arange(15)), error
        assert forecast[0] == pytest.approx(MEANS[regime] * (2 * STAY - 1), abs=0.2)


def test_variance_and_interval_come_from_the_state_mixture(fitted):
    y, states = simulate(300, seed=2)
    end = int(np.flatnonzero(states == 1)[-1]) + 1
    mean = fitted.predict(y[:end])[0, :, 0]
    var = fitted.predict_variance(y[:end])[0, :, 0]
    # mixture of N(+-5, 0.25): variance = 0.25 + 25 - mean^2
    np.testing.assert_allclose(var, NOISE**2 + 25.0 - mean**2, atol=0.1)
    lower, upper = fitted.predict_interval(y[:end], coverage=0.5)
    # one step ahead the regime stays with probability ~0.95 > 0.75: the central 50% lies in its mode
    assert 4.0 < lower[0, 0, 0] < 5.0 < upper[0, 0, 0] < 6.0


def test_one_step_interval_coverage_is_close_to_nominal():
    y_train, _ = simulate(2000, seed=0)
    est = HMMForecaster(n_components=2, random_state=0).fit(y_train)
    y, _ = simulate(3050, seed=3)
    ends = np.arange(50, 3050, 6)
    lower, upper = est.predict_interval([y[e - 50 : e] for e in ends], coverage=0.8)
    inside = (y[ends] >= lower[:, 0, 0]) & (y[ends] <= upper[:, 0, 0])
    assert abs(inside.mean() - 0.8) < 0.06  # 500 histories: binomial SE 0.018


def test_pools_several_series_and_is_repeatable():
    parts = [simulate(400, seed=s)[0] for s in (4, 5, 6)]
    a = HMMForecaster(random_state=7, horizon=3).fit(parts)
    b = HMMForecaster(random_state=7, horizon=3).fit(parts)
    np.testing.assert_array_equal(a.predict(parts), b.predict(parts))
    assert a.predict(parts).shape == (3, 3, 1)
    np.testing.assert_allclose(np.sort(a.regime_means_[:, 0]), MEANS, atol=0.15)


def test_bad_input():
    y, _ = simulate(200, seed=8)
    for params, X, message in [
        (dict(horizon=0), y, "horizon"),
        (dict(n_components=0), y, "n_components"),
        (dict(), np.r_[y, np.inf], "infinity"),
        (dict(), np.array([1.0]), "at least 2 steps"),
    ]:
        est = HMMForecaster(**params)
        with pytest.raises(ValueError, match=message):
            est.fit(X)
        with pytest.raises(NotFittedError):
            est.predict(y)
    est = HMMForecaster(random_state=0, n_iter=20).fit(y)
    with pytest.raises(ValueError, match="fitted with 1"):
        est.predict(np.ones((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        est.predict(np.r_[y[:10], np.nan])


@pytest.mark.parametrize("covariance_type", ["full", "diag", "tied"])
def test_covariance_types_on_a_bivariate_series(covariance_type):
    rng = np.random.default_rng(9)
    y, _ = simulate(300, seed=9)
    Y = np.column_stack([y, 0.5 * y + rng.normal(size=300)])
    est = HMMForecaster(covariance_type=covariance_type, random_state=0, horizon=3).fit(Y)
    mean, var = est.predict(Y), est.predict_variance(Y)
    lower, upper = est.predict_interval(Y, coverage=0.9)
    assert mean.shape == var.shape == lower.shape == (1, 3, 2)
    assert np.all(var > 0) and np.all(lower < mean) and np.all(mean < upper)
    np.testing.assert_allclose(np.sort(est.regime_means_[:, 0]), MEANS, atol=0.15)
