"""Synthetic forecasting series from known models, with the true model's
forecast error as the oracle.

- AR(p): ``x_t = sum_i phi_i x_{t-i} + e_t``, ``e_t ~ N(0, sigma^2)``
  (statsmodels' ``ArmaProcess`` draws it). The conditional mean forecast is
  the AR recursion with future noise set to 0; its ``h``-step error variance
  is ``sigma^2 sum_{j<h} psi_j^2`` (``psi``: the MA(inf) weights).
- SETAR (two-regime threshold AR): ``x_t = c_low + sum_i a_i x_{t-i} + e_t``
  when ``x_{t-delay} <= threshold``, else the ``high`` regime. The
  multi-step conditional mean has no closed form; it is estimated by Monte
  Carlo over ``n_paths`` futures of the true model, averaging the
  conditional mean of each step given each path's past (exact for step 1).

Each series is simulated with ``burn_in`` steps discarded. ``meta["oracle"]``
(test split): ``one_step_mse`` = ``sigma^2`` (the true model's one-step
error variance), ``mse`` and ``mase`` of the true conditional-mean forecast
over the horizon, and ``baseline_mase`` of the naive (last value) forecast.
MASE (Hyndman & Koehler, 2006): the forecast's mean absolute error over the
horizon divided by the mean absolute one-step (``season``-step) naive error
on the series' own history, averaged over series.
"""

from __future__ import annotations

import numpy as np
from statsmodels.tsa.arima_process import ArmaProcess, arma2ma

from ._dataset import Dataset, forecast_dataset

__all__ = ["make_ar_series", "make_setar_series", "mase", "ar_forecast", "setar_conditional_mean"]


def mase(history: np.ndarray, actual: np.ndarray, forecast: np.ndarray, season: int = 1) -> float:
    """MASE of one series: ``history`` ``(T, d)``, ``actual``/``forecast``
    ``(h, d)``; the scale is per feature, the result the mean over features."""
    scale = np.mean(np.abs(history[season:] - history[:-season]), axis=0)
    return float(np.mean(np.mean(np.abs(actual - forecast), axis=0) / scale))


def _forecast_scores(history: list, actual: np.ndarray, forecast: np.ndarray, sigma: float) -> dict:
    naive = np.stack([np.repeat(h[-1:], actual.shape[1], axis=0) for h in history])
    return {
        "one_step_mse": float(sigma**2),
        "mse": float(np.mean((actual - forecast) ** 2)),
        "mase": float(np.mean([mase(h, a, f) for h, a, f in zip(history, actual, forecast)])),
        "baseline_mase": float(np.mean([mase(h, a, f) for h, a, f in zip(history, actual, naive)])),
    }


def _check_sizes(n_series, length, horizon, burn_in) -> None:
    for key, value in dict(n_series=n_series, length=length, horizon=horizon).items():
        if int(value) != value or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    if length <= horizon + 2:
        raise ValueError(f"length ({length}) must exceed horizon + 2 ({horizon + 2})")
    if burn_in < 0:
        raise ValueError(f"burn_in must be >= 0, got {burn_in}")


# --------------------------------------------------------------------------- AR(p)


def ar_forecast(history: np.ndarray, coefs, horizon: int) -> np.ndarray:
    """Conditional mean ``(horizon,)`` of an AR(p) without constant, given a
    1-D ``history`` (at least p values)."""
    coefs = np.asarray(coefs, dtype=np.float64)
    buf = list(history[-len(coefs) :])
    out = []
    for _ in range(horizon):
        nxt = float(np.dot(coefs, buf[::-1][: len(coefs)]))
        out.append(nxt)
        buf.append(nxt)
    return np.array(out)


def make_ar_series(
    *, n_series=20, length=200, horizon=10, coefs=(1.2, -0.5), sigma=1.0, burn_in=200, random_state=0
) -> Dataset:
    """Forecasting ``n_series`` AR(p) series of ``length`` steps (the last
    ``horizon`` held out). ``meta["oracle"]`` also gives ``expected_mse``, the
    true model's error variance averaged over the horizon (analytic)."""
    options = dict(locals())
    _check_sizes(n_series, length, horizon, burn_in)
    coefs = np.asarray(coefs, dtype=np.float64)
    process = ArmaProcess(ar=np.r_[1.0, -coefs], ma=[1.0])
    if not process.isstationary:
        raise ValueError(
            f"AR coefficients {coefs.tolist()} are not stationary "
            "(a root of the AR polynomial lies inside the unit circle)"
        )
    rng = np.random.default_rng(random_state)
    sample = process.generate_sample(
        nsample=(n_series, length), scale=sigma, distrvs=rng.standard_normal, axis=1, burnin=burn_in
    )
    ds = forecast_dataset("ar_series", [s[:, None] for s in sample], horizon, {"season": 1})
    forecast = np.stack([ar_forecast(h[:, 0], coefs, horizon)[:, None] for h in ds.X_test])
    oracle = _forecast_scores(ds.X_test, ds.y_test, forecast, sigma)
    psi = arma2ma(np.r_[1.0, -coefs], [1.0], lags=horizon)
    oracle["expected_mse"] = float(sigma**2 * np.mean(np.cumsum(psi**2)))
    ds.meta.update(options=options, oracle=oracle, params={"coefs": coefs, "sigma": sigma})
    return ds


# --------------------------------------------------------------------------- SETAR


def _regime_mean(buf: np.ndarray, low: np.ndarray, high: np.ndarray, threshold: float, delay: int) -> np.ndarray:
    """Conditional mean of the next step given ``buf`` ``(..., L)`` (oldest
    first, newest last) under the SETAR model."""

    def ar_part(params):  # params = (c, a_1..a_p); a_i multiplies x_{t-i}
        p = len(params) - 1
        return params[0] + buf[..., ::-1][..., :p] @ params[1:]

    return np.where(buf[..., -delay] <= threshold, ar_part(low), ar_part(high))


def setar_conditional_mean(history, low, high, threshold, delay, sigma, horizon, n_paths, rng) -> np.ndarray:
    """Monte Carlo ``E[x_{T+h} | history]`` ``(n_series, horizon)`` for the
    SETAR model; ``history`` ``(n_series, T)``.

    Each step averages the exact conditional mean given each path's past
    (Rao-Blackwellised), so step 1 is exact and the rest have a smaller
    Monte Carlo error than averaging the simulated values."""
    width = max(len(low) - 1, len(high) - 1, delay)
    buf = np.repeat(history[:, None, -width:], n_paths, axis=1)  # (n_series, n_paths, width)
    out = np.empty((len(history), horizon))
    for h in range(horizon):
        mean = _regime_mean(buf, low, high, threshold, delay)  # (n_series, n_paths)
        out[:, h] = mean.mean(axis=1)
        nxt = mean + sigma * rng.standard_normal(mean.shape)
        buf = np.concatenate([buf[..., 1:], nxt[..., None]], axis=-1)
    return out


def make_setar_series(
    *, n_series=20, length=200, horizon=10, low=(1.0, 0.6), high=(-1.0, 0.3), threshold=0.0, delay=1,
    sigma=1.0, n_paths=2000, burn_in=200, random_state=0,
) -> Dataset:  # fmt: skip
    """Forecasting ``n_series`` two-regime SETAR series. ``low`` and ``high``
    are ``(constant, a_1, ..., a_p)`` of each regime; the regime of step t is
    set by ``x_{t-delay}`` against ``threshold``."""
    options = dict(locals())
    _check_sizes(n_series, length, horizon, burn_in)
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    if len(low) < 2 or len(high) < 2 or delay < 1:
        raise ValueError("low and high need (constant, a_1, ...) with at least one AR coefficient, and delay >= 1")
    if np.abs(low[1:]).sum() >= 1 or np.abs(high[1:]).sum() >= 1:
        raise ValueError("each regime needs sum(|a_i|) < 1 (a sufficient condition for a stationary SETAR)")
    rng = np.random.default_rng(random_state)
    width = max(len(low) - 1, len(high) - 1, delay)
    x = np.zeros((n_series, width + burn_in + length))
    for t in range(width, x.shape[1]):
        x[:, t] = _regime_mean(x[:, t - width : t], low, high, threshold, delay) + sigma * rng.standard_normal(n_series)
    series = x[:, -length:]
    ds = forecast_dataset("setar_series", [s[:, None] for s in series], horizon, {"season": 1})
    history = np.stack([h[:, 0] for h in ds.X_test])
    forecast = setar_conditional_mean(history, low, high, threshold, delay, sigma, horizon, n_paths, rng)
    oracle = _forecast_scores(ds.X_test, ds.y_test, forecast[..., None], sigma)
    params = {"low": low, "high": high, "threshold": threshold, "delay": delay, "sigma": sigma}
    ds.meta.update(options=options, oracle=oracle, params=params)
    return ds
