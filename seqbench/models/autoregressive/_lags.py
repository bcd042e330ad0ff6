"""Lag matrices pooled over many sequences, and per-sequence AR fits.

statsmodels' ``lagmat``/``AutoReg``/``VAR`` take one series. A class of a
classifier is many sequences, and its pooled AR model is fitted on the
lagged rows of all of them at once, where no lag may reach into the
previous sequence. :func:`lagged_rows` builds those rows with one
vectorised gather over the concatenated sequences (calling ``lagmat`` once
per sequence gives the same rows — the tests check it — but costs a Python
call per sequence and per predict). The regression itself is statsmodels'
OLS (see ``_gaussian.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LaggedRows", "lagged_rows", "design_matrix", "per_sequence_ar_features", "n_ar_features"]


@dataclass(frozen=True)
class LaggedRows:
    """Rows of a pooled autoregression.

    target : (n_rows, d) float64, the value ``x_t``
    lags : (n_rows, order, d) float64, ``lags[:, k] = x_{t-k-1}``
    seq_index : (n_rows,) int64, the sequence each row comes from
    n_sequences : number of sequences the rows were taken from
    """

    target: np.ndarray
    lags: np.ndarray
    seq_index: np.ndarray
    n_sequences: int

    def __len__(self) -> int:
        return len(self.target)

    def sum_per_sequence(self, values: np.ndarray) -> np.ndarray:
        """Sum per-row ``values`` (n_rows,) into one total per sequence (n_sequences,)."""
        return np.bincount(self.seq_index, weights=values, minlength=self.n_sequences)


def lagged_rows(sequences, order: int, *, t_min: int | None = None, t_max: int | None = None) -> LaggedRows:
    """Pooled lagged rows of ``sequences`` for steps ``t_min <= t <= t_max``.

    Parameters
    ----------
    sequences : list of (T_i, d) float64 arrays
    order : int >= 0, number of lags per row
    t_min : int >= order, first step (0-based, within each sequence) used as a
        target; defaults to ``order`` (every step with a full history)
    t_max : int, optional, last step used as a target (``t_min == t_max``
        gives the rows of one position, for the start-up models)

    Returns
    -------
    LaggedRows
        Every row's lags lie in the same sequence as its target: a step
        ``t >= t_min >= order`` has ``order`` predecessors in its own sequence.
    """
    t_min = order if t_min is None else t_min
    if t_min < order:
        raise ValueError(f"t_min={t_min} < order={order}: such rows would need lags before the sequence start")
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.concatenate(sequences, axis=0)
    offsets = np.cumsum(lengths) - lengths
    position = np.arange(len(flat)) - np.repeat(offsets, lengths)  # step index within its sequence
    keep = position >= t_min
    if t_max is not None:
        keep &= position <= t_max
    idx = np.flatnonzero(keep)
    lags = np.empty((len(idx), order, flat.shape[1]))
    for k in range(order):
        lags[:, k] = flat[idx - k - 1]
    seq_index = np.repeat(np.arange(len(sequences)), lengths)[idx]
    return LaggedRows(flat[idx], lags, seq_index, len(sequences))


def design_matrix(lags: np.ndarray, trend: str, channel: int | None = None) -> np.ndarray:
    """Regressors of each row: ``[1 (trend "c"), lags...]``.

    ``channel=j`` gives the univariate design ``(n_rows, c + order)`` of channel
    ``j``'s own lags; ``channel=None`` the VAR design ``(n_rows, c + order*d)``
    ordered lag-major (lag 1 of every channel, then lag 2, …), as ``lagmat``
    and statsmodels' VAR order them.
    """
    n = len(lags)
    cols = lags[:, :, channel] if channel is not None else lags.reshape(n, -1)
    if trend == "c":
        return np.column_stack([np.ones(n), cols])
    return np.ascontiguousarray(cols)


def n_ar_features(order: int, d: int, trend: str, mode: str) -> int:
    """Length of a row of :func:`per_sequence_ar_features`."""
    c = int(trend == "c")
    if mode == "per_channel":
        return d * (2 + c + order)
    return d * (1 + c + order * d) + d * (d + 1) // 2


def per_sequence_ar_features(sequences, order: int, trend: str, mode: str) -> np.ndarray:
    """AR fit of every sequence on its own, as a feature row.

    Per channel (``mode="per_channel"``): ``[mean, intercept, phi_1..phi_p,
    sigma2]`` of each channel, channels one after another. VAR
    (``mode="var"``): ``[means (d), intercepts (d), coefficient matrices
    A_1..A_p flattened (p*d*d), upper triangle of the residual covariance]``.
    ``sigma2`` and the covariance are the maximum-likelihood ones (residual sum
    of squares over the number of rows), as in statsmodels' AutoReg.

    Sequences of equal length are solved together with a batched
    pseudo-inverse (one statsmodels ``AutoReg`` per sequence costs about a
    millisecond of model set-up, which dominates on thousands of short
    sequences); the tests check the result against ``AutoReg``.

    Parameters
    ----------
    sequences : list of (T_i, d) arrays, every ``T_i >= order + 2`` (checked by
        the caller, which knows the sequence indices to name)

    Returns
    -------
    (n, n_ar_features(order, d, trend, mode)) float64
    """
    d = sequences[0].shape[1]
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    out = np.empty((len(sequences), n_ar_features(order, d, trend, mode)))
    for T in np.unique(lengths):
        members = np.flatnonzero(lengths == T)
        batch = np.stack([sequences[i] for i in members])  # (m, T, d)
        out[members] = _features_same_length(batch, order, trend, mode)
    return out


def _features_same_length(batch: np.ndarray, order: int, trend: str, mode: str) -> np.ndarray:
    m, T, d = batch.shape
    target = batch[:, order:]  # (m, R, d)
    lags = np.stack([batch[:, order - k - 1 : T - k - 1] for k in range(order)], axis=2)  # (m, R, p, d)
    mean = batch.mean(axis=1)  # (m, d)
    n_rows = T - order
    c = int(trend == "c")
    if mode == "per_channel":
        design = np.concatenate([np.ones((m, n_rows, c, d)), lags], axis=2)  # (m, R, c+p, d)
        design = np.moveaxis(design, 3, 1)  # (m, d, R, c+p)
        y = np.moveaxis(target, 2, 1)[..., None]  # (m, d, R, 1)
        beta = np.linalg.pinv(design) @ y  # (m, d, c+p, 1)
        sigma2 = ((y - design @ beta) ** 2).sum(axis=(2, 3)) / n_rows  # (m, d)
        per_channel = np.concatenate([mean[..., None], beta[..., 0], sigma2[..., None]], axis=2)
        return per_channel.reshape(m, -1)
    design = np.concatenate([np.ones((m, n_rows, c)), lags.reshape(m, n_rows, order * d)], axis=2)  # (m, R, c+p*d)
    beta = np.linalg.pinv(design) @ target  # (m, c+p*d, d)
    resid = target - design @ beta
    cov = np.swapaxes(resid, 1, 2) @ resid / n_rows  # (m, d, d)
    intercept = beta[:, 0] if c else np.zeros((m, 0))
    # A_k[i, j] = beta[c + k*d + j, i]: coefficient of x_{t-k-1, j} in x_{t, i}
    coefs = beta[:, c:].reshape(m, order, d, d).swapaxes(2, 3).reshape(m, -1)
    iu = np.triu_indices(d)
    return np.concatenate([mean, intercept, coefs, cov[:, iu[0], iu[1]]], axis=1)
