"""HMMForecaster: a Gaussian hidden Markov model (regime-switching) forecaster.

``fit`` fits one ergodic Gaussian HMM to all training series at once
(hmmlearn with ``lengths``: the series are pooled, each keeps its own start),
through the shared fitting machinery of ``seqbench.models.hmm._fitting``
(covariance floor after every M-step, restarts keeping the best training
log-likelihood, honest convergence).

``predict`` conditions on each history with the fitted parameters: the
filtered state distribution at the last step of the history,
``a_T = p(s_T | x_1..x_T)`` (hmmlearn's posterior at the last step, where the
smoothed and the filtered distributions coincide), is propagated through the
transition matrix, ``a_{T+h} = a_T A^h``. The forecast of step ``h`` is the
mixture ``sum_k a_{T+h,k} N(mu_k, Sigma_k)``: ``predict`` returns its mean,
``predict_variance`` its per-feature variance and ``predict_interval`` its
central quantiles (per feature).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import ndtr
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ...data import one_thread
from .._base import Capabilities
from .._forecast_base import ForecasterMixin
from ._fitting import HMMSpec, fit_best_hmm

__all__ = ["HMMForecaster"]


class HMMForecaster(ForecasterMixin, BaseEstimator):
    """Forecast from the filtered hidden state of a Gaussian HMM.

    Parameters
    ----------
    n_components : int >= 1, default=2
        Hidden states (regimes). Fewer are fitted when the training data has
        fewer steps than states (``fit_report_.n_states``).
    covariance_type : {"full", "diag", "tied"}, default="full"
        Covariance of each state's Gaussian. ("spherical" is left out: hmmlearn
        0.3.3 returns inconsistent spherical covariances after fitting.)
    n_iter : int, default=100
        Most EM iterations per run.
    tol : float, default=1e-2
        EM stops when the training log-likelihood gain (nats) is below ``tol``.
    n_restarts : int, default=3
        EM runs from different seeds; the best training log-likelihood is kept.
    covar_floor : float, default=1e-3
        Smallest variance kept after every M-step (z-scored units when
        ``standardize``): hmmlearn's ``min_covar`` is no floor during EM.
    standardize : bool, default=True
        Z-score each feature with the mean and standard deviation of all
        training steps; forecasts are returned in the original units.
    random_state : int, RandomState instance or None
        Seeds every EM run.
    horizon : int >= 1, default=1
        Number of steps forecast after each history.

    Attributes
    ----------
    model_ : fitted hmmlearn GaussianHMM (floored subclass), in z-scored units
        when ``scaler_`` is set
    fit_report_ : FitReport (log-likelihood, convergence, runs, floors, messages)
    scaler_ : StandardScaler or None
    regime_means_ : ndarray ``(n_states, n_features)``, state means in the data's units
    n_features_in_, horizon_ : features per step; the horizon ``predict`` forecasts

    Warns
    -----
    ConvergenceWarning
        When the kept EM run stopped at ``n_iter`` with the gain above ``tol``.
    """

    capabilities = Capabilities(task="forecast", family="hmm", input_kinds=frozenset({"real"}), probabilistic=True)
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        # not "spherical": hmmlearn 0.3.3 keeps spherical variances as (n_states, d) after
        # fit, and its covars_ then returns (2 * n_states, d, d) matrices
        "covariance_type": [StrOptions({"full", "diag", "tied"})],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "covar_floor": [Interval(Real, 0, None, closed="neither")],
        "standardize": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        covariance_type="full",
        n_iter=100,
        tol=1e-2,
        n_restarts=3,
        covar_floor=1e-3,
        standardize=True,
        random_state=None,
        horizon=1,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.n_iter = n_iter
        self.tol = tol
        self.n_restarts = n_restarts
        self.covar_floor = covar_floor
        self.standardize = standardize
        self.random_state = random_state
        self.horizon = horizon

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit one HMM to all series of ``X`` (collection, or one series); ``y`` is ignored."""
        coll = self._validate_fit_series(X)
        X_all, lengths = coll.concatenate()
        if len(X_all) < 2:
            raise ValueError("X has a single step in all; a Gaussian HMM needs at least 2 steps of data")
        scaler = StandardScaler().fit(X_all) if self.standardize else None
        if scaler is not None:
            X_all = scaler.transform(X_all)
        spec = HMMSpec(
            emission="gaussian", n_components=self.n_components, covariance_type=self.covariance_type,
            topology="ergodic", n_iter=self.n_iter, tol=self.tol, covar_floor=self.covar_floor,
        )
        base_seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        # hmmlearn works on (d, d) matrices and k-means on a few hundred points: BLAS and OpenMP threads add
        # only synchronisation (10-30x slower measured on 2 busy cores), so use one.
        with one_thread():
            model, report = fit_best_hmm(spec, X_all, lengths, n_restarts=self.n_restarts, base_seed=base_seed)
        self.model_, self.fit_report_, self.scaler_ = model, report, scaler
        self.regime_means_ = self._unscale_mean(model.means_)
        self._set_fitted_input(coll)
        if not report.converged and report.n_iter > 1:
            warnings.warn(
                f"HMMForecaster: EM stopped at n_iter={self.n_iter} with the log-likelihood still rising by "
                f"more than tol={self.tol}; increase n_iter (fit_report_ has the details)",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _min_history(self) -> int:
        return 1

    # ------------------------------------------------------------ the math
    def _unscale_mean(self, z: np.ndarray) -> np.ndarray:
        return z if self.scaler_ is None else z * self.scaler_.scale_ + self.scaler_.mean_

    def _unit_scale(self) -> np.ndarray:
        return np.ones(self.n_features_in_) if self.scaler_ is None else self.scaler_.scale_

    def _state_forecasts(self, coll) -> np.ndarray:
        """State probabilities of each forecast step, ``(n_series, horizon, n_states)``."""
        X_all, lengths = coll.concatenate()
        if self.scaler_ is not None:
            X_all = self.scaler_.transform(X_all)
        with np.errstate(under="ignore"), one_thread():
            posteriors = self.model_.predict_proba(X_all, lengths)  # (sum T_i, n_states)
        probs = posteriors[np.cumsum(lengths) - 1]  # filtered distribution at each history's end
        out = np.empty((len(coll), self.horizon_, self.model_.n_components))
        for h in range(self.horizon_):
            probs = probs @ self.model_.transmat_
            out[:, h] = probs
        return out

    def _mixture(self, coll) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Weights ``(n, H, K)``, component means and standard deviations
        ``(K, d)`` per feature, in the data's units."""
        weights = self._state_forecasts(coll)
        means = self.regime_means_
        stds = np.sqrt(np.diagonal(self.model_.covars_, axis1=1, axis2=2)) * self._unit_scale()
        return weights, means, stds

    def _forecast(self, coll) -> np.ndarray:
        weights, means, _ = self._mixture(coll)
        return weights @ means  # (n, H, d)

    def predict_variance(self, X) -> np.ndarray:
        """Variance of each forecast step's mixture, per feature, ``(n_series, horizon, n_features)``
        (data units squared)."""
        coll = self._validate_histories(X)
        weights, means, stds = self._mixture(coll)
        mean = weights @ means
        return weights @ (stds**2 + means**2) - mean**2

    def _forecast_interval(self, coll, coverage: float):
        weights, means, stds = self._mixture(coll)
        tail = (1.0 - coverage) / 2.0
        return _mixture_quantile(weights, means, stds, tail), _mixture_quantile(weights, means, stds, 1.0 - tail)


def _mixture_quantile(weights, means, stds, q: float, n_bisect: int = 80) -> np.ndarray:
    """Quantile ``q`` of ``sum_k w_k N(mean_k, std_k^2)`` for every (series, step, feature).

    weights ``(n, H, K)``; means, stds ``(K, d)``. Returns ``(n, H, d)``.
    Hand-written vectorised bisection: the mixture CDF has no closed-form
    inverse, and scipy's elementwise root finders need every argument shaped
    like ``x``, while each element here has ``K`` components. 80 halvings of
    a bracket of width < 40 standard deviations leave an error far below 1e-12.
    """
    lo = np.broadcast_to((means - 10 * stds).min(axis=0), weights.shape[:2] + means.shape[1:]).copy()
    hi = np.broadcast_to((means + 10 * stds).max(axis=0), lo.shape).copy()
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        cdf = np.einsum("nhk,nhkd->nhd", weights, ndtr((mid[:, :, None, :] - means) / stds))
        below = cdf < q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return 0.5 * (lo + hi)
