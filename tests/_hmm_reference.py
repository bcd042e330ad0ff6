"""Plain numpy HMM algorithms (log space), written from the textbook
(Rabiner, 1989) to check seqbench's oracles independently of hmmlearn."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp


def gaussian_log_emissions(x: np.ndarray, means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``(T, S)`` log densities of ``x`` ``(T, d)`` under diagonal Gaussians."""
    diff = x[:, None, :] - means[None, :, :]
    return -0.5 * np.sum(diff**2 / variances + np.log(2 * np.pi * variances), axis=2)


def categorical_log_emissions(x: np.ndarray, emissionprob: np.ndarray) -> np.ndarray:
    """``(T, S)`` log probabilities of symbol ids ``x`` ``(T,)``."""
    return np.log(emissionprob[:, x].T)


def log_emissions(x: np.ndarray, params: dict) -> np.ndarray:
    if "means" in params:
        return gaussian_log_emissions(x, params["means"], params["variances"])
    return categorical_log_emissions(x, params["emissionprob"])


def _log(p) -> np.ndarray:
    with np.errstate(divide="ignore"):  # impossible transitions are log 0 = -inf
        return np.log(p)


def forward(log_b: np.ndarray, startprob, transmat) -> np.ndarray:
    """``log alpha`` ``(T, S)``: log p(x_1..x_t, z_t = s)."""
    log_a = _log(transmat)
    alpha = np.empty(log_b.shape)
    alpha[0] = _log(startprob) + log_b[0]
    for t in range(1, len(log_b)):
        alpha[t] = logsumexp(alpha[t - 1][:, None] + log_a, axis=0) + log_b[t]
    return alpha


def log_likelihood(log_b: np.ndarray, startprob, transmat) -> float:
    """``log p(x)`` by the forward algorithm."""
    return float(logsumexp(forward(log_b, startprob, transmat)[-1]))


def forward_backward(log_b: np.ndarray, startprob, transmat) -> tuple[float, np.ndarray]:
    """Log-likelihood and posterior state probabilities ``(T, S)``."""
    log_a = _log(transmat)
    T, S = log_b.shape
    alpha = forward(log_b, startprob, transmat)
    beta = np.zeros((T, S))
    for t in range(T - 2, -1, -1):
        beta[t] = logsumexp(log_a + (log_b[t + 1] + beta[t + 1])[None, :], axis=1)
    loglik = logsumexp(alpha[-1])
    return float(loglik), np.exp(alpha + beta - loglik)


def viterbi(log_b: np.ndarray, startprob, transmat) -> np.ndarray:
    """The most probable state path ``(T,)``."""
    log_a = _log(transmat)
    T, S = log_b.shape
    delta = _log(startprob) + log_b[0]
    back = np.zeros((T, S), dtype=np.int64)
    for t in range(1, T):
        scores = delta[:, None] + log_a
        back[t] = scores.argmax(axis=0)
        delta = scores.max(axis=0) + log_b[t]
    path = np.empty(T, dtype=np.int64)
    path[-1] = delta.argmax()
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def path_log_probability(log_b: np.ndarray, startprob, transmat, path) -> float:
    """``log p(path, x)``: Viterbi paths may tie, their value may not."""
    steps = _log(transmat)[path[:-1], path[1:]].sum()
    return float(_log(startprob[path[0]]) + steps + log_b[np.arange(len(path)), path].sum())
