"""Gaussian autoregressions on pooled lagged rows: fit, log-likelihood,
information criteria and order selection.

One representation covers both multivariate modes: a VAR with coefficient
matrices ``coef[k]`` and residual covariance ``covariance``. The per-channel
mode (an independent AR per channel) is the same object with diagonal
coefficient matrices and a diagonal covariance, so its log-likelihood is the
sum of the channels' univariate ones.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tools import eval_measures
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from ._lags import LaggedRows, design_matrix, lagged_rows

__all__ = [
    "GaussianAR",
    "fit_gaussian_ar",
    "row_log_likelihood",
    "n_parameters",
    "information_criterion",
    "select_order",
]

_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class GaussianAR:
    """``x_t = intercept + sum_k coef[k] @ x_{t-k-1} + e_t``, ``e_t ~ N(0, covariance)``.

    intercept : (d,); coef : (order, d, d); covariance : (d, d) (with the
    variance floor already added)
    """

    intercept: np.ndarray
    coef: np.ndarray
    covariance: np.ndarray

    @property
    def order(self) -> int:
        return self.coef.shape[0]


def fit_gaussian_ar(rows: LaggedRows, trend: str, mode: str, epsilon: float) -> GaussianAR:
    """Least-squares (conditional maximum-likelihood) fit on pooled rows.

    Coefficients are statsmodels OLS estimates (pseudo-inverse, so a class
    with fewer rows than coefficients still gets the minimum-norm fit); the
    covariance is the maximum-likelihood residual covariance (sum of squares
    over the number of rows, as AutoReg's ``sigma2`` and VAR's
    ``sigma_u_mle``) plus ``epsilon`` on the diagonal, so that a constant
    channel or an exact fit keeps a finite likelihood.

    Parameters
    ----------
    rows : LaggedRows with at least one row
    trend : "c" (intercept) or "n" (none)
    mode : "per_channel" (independent AR per channel) or "var"
    epsilon : float >= 0, variance floor added to the covariance diagonal
    """
    n, order, d = rows.lags.shape
    c = int(trend == "c")
    intercept, coef = np.zeros(d), np.zeros((order, d, d))
    if mode == "per_channel":
        resid = np.empty_like(rows.target)
        for j in range(d):
            beta, resid[:, j] = _ols(rows.target[:, j], design_matrix(rows.lags, trend, channel=j))
            intercept[j] = beta[0] if c else 0.0
            coef[:, j, j] = beta[c:]
        covariance = np.diag((resid**2).mean(axis=0))
    else:
        beta, resid = _ols(rows.target, design_matrix(rows.lags, trend))  # beta (c + order*d, d)
        if c:
            intercept = beta[0].copy()
        # beta[c + k*d + j, i] is the coefficient of x_{t-k-1, j} in x_{t, i}
        coef = beta[c:].reshape(order, d, d).swapaxes(1, 2).copy()
        covariance = resid.T @ resid / n
    return GaussianAR(intercept, coef, covariance + epsilon * np.eye(d))


def _ols(target: np.ndarray, design: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels OLS; a design with no columns (order 0, no trend) predicts 0."""
    if design.shape[1] == 0:
        return np.zeros((0,) + target.shape[1:]), target.copy()
    with warnings.catch_warnings():
        # a constant channel (e.g. an always-blank pixel column) makes the design
        # rank-deficient; the pseudo-inverse's minimum-norm fit is what we want
        warnings.simplefilter("ignore", SingularMatrixWarning)
        result = sm.OLS(target, design).fit()
    beta = np.asarray(result.params)
    return beta, target - design @ beta


def row_log_likelihood(model: GaussianAR, rows: LaggedRows) -> np.ndarray:
    """Gaussian log-density (nats) of every row's target given its lags, (n_rows,)."""
    pred = np.broadcast_to(model.intercept, rows.target.shape).copy()
    for k in range(model.order):
        pred += rows.lags[:, k] @ model.coef[k].T
    resid = rows.target - pred  # (n, d)
    chol = np.linalg.cholesky(model.covariance)
    z = np.linalg.solve(chol, resid.T)  # (d, n); scipy's solve_triangular costs ms per call here
    log_det = 2.0 * np.log(np.diag(chol)).sum()
    d = resid.shape[1]
    return -0.5 * (d * _LOG_2PI + log_det + (z**2).sum(axis=0))


def n_parameters(order: int, d: int, trend: str, mode: str) -> int:
    """Free parameters of one class's model: coefficients, intercepts, (co)variances."""
    c = int(trend == "c")
    if mode == "per_channel":
        return d * (c + order + 1)
    return d * (c + order * d) + d * (d + 1) // 2


def information_criterion(
    sequences_by_class, order: int, max_order: int, trend: str, mode: str, epsilon: float, criterion: str
) -> float:
    """AIC or BIC of the per-class models of ``order``, summed over classes.

    Every candidate order is scored on the same rows (steps ``t >= max_order``),
    as statsmodels' ``ar_select_order`` does, so the criteria are comparable.
    Returns ``inf`` when a class has no more rows than coefficients per equation.
    """
    ic = eval_measures.aic if criterion == "aic" else eval_measures.bic
    total = 0.0
    for seqs in sequences_by_class:
        rows = lagged_rows(seqs, order, t_min=max_order)
        d = rows.target.shape[1]
        per_equation = int(trend == "c") + order * (1 if mode == "per_channel" else d)
        if len(rows) <= per_equation:
            return np.inf
        model = fit_gaussian_ar(rows, trend, mode, epsilon)
        llf = row_log_likelihood(model, rows).sum()
        total += ic(llf, len(rows), n_parameters(order, d, trend, mode))
    return total


def select_order(sequences_by_class, max_order: int, trend: str, mode: str, epsilon: float, criterion: str) -> int:
    """The order in ``1..max_order`` with the smallest summed criterion.

    Raises
    ------
    ValueError
        When no candidate order can be estimated (every class needs more
        steps ``t >= max_order`` than coefficients).
    """
    scores = [
        information_criterion(sequences_by_class, p, max_order, trend, mode, epsilon, criterion)
        for p in range(1, max_order + 1)
    ]
    if not np.isfinite(scores).any():
        raise ValueError(
            f"order={criterion!r} cannot compare orders 1..{max_order}: some class has too few steps after the "
            f"first {max_order} of each sequence to fit even an AR(1); lower max_order or pass a fixed order"
        )
    return int(np.argmin(scores)) + 1
