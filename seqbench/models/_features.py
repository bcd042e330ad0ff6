"""Fixed-length features of variable-length sequences, for the baselines.

- :func:`summary_features`: six summary statistics per channel of a
  real-valued sequence.
- :class:`SummaryFeatures`: the same as a stateless scikit-learn transformer,
  the first step of a Pipeline over lists of ``(T_i, d)`` arrays.
- :func:`symbol_ngrams`: a TfidfVectorizer/CountVectorizer ``analyzer`` that
  turns a symbol-id sequence into its n-grams as strings (``"3 17"``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["SUMMARY_NAMES", "summary_features", "SummaryFeatures", "symbol_ngrams"]

SUMMARY_NAMES = ("mean", "std", "min", "max", "last", "slope")


def summary_features(sequences) -> np.ndarray:
    """Six statistics of every channel of every sequence.

    For each channel: mean, standard deviation (population, ``ddof=0``),
    minimum, maximum, last value, and the slope of the least-squares line of
    the values against the step index ``t = 0..T-1`` (units per step; 0 for a
    one-step sequence).

    Parameters
    ----------
    sequences : list of (T_i, d) float64 arrays, T_i >= 1

    Returns
    -------
    (n, 6 * d) float64, channel-major: the six statistics of channel 0 (in
    :data:`SUMMARY_NAMES` order), then of channel 1, …
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    flat = np.concatenate(sequences, axis=0)  # (N, d)
    starts = np.cumsum(lengths) - lengths
    T = lengths[:, None].astype(float)
    mean = np.add.reduceat(flat, starts, axis=0) / T  # (n, d)
    centred = flat - np.repeat(mean, lengths, axis=0)
    std = np.sqrt(np.add.reduceat(centred**2, starts, axis=0) / T)
    step = np.arange(len(flat)) - np.repeat(starts, lengths)
    t_centred = step - np.repeat((lengths - 1) / 2.0, lengths)
    s_tt = lengths * (lengths**2 - 1) / 12.0  # sum of (t - mean t)^2 over 0..T-1
    s_tx = np.add.reduceat(t_centred[:, None] * centred, starts, axis=0)
    slope = np.divide(s_tx, s_tt[:, None], out=np.zeros_like(s_tx), where=s_tt[:, None] > 0)
    stats = [
        mean,
        std,
        np.minimum.reduceat(flat, starts, axis=0),
        np.maximum.reduceat(flat, starts, axis=0),
        flat[starts + lengths - 1],
        slope,
    ]
    return np.stack(stats, axis=2).reshape(len(sequences), -1)


class SummaryFeatures(TransformerMixin, BaseEstimator):
    """Stateless transformer: list of ``(T_i, d)`` arrays -> :func:`summary_features`.

    It does no validation: the estimator that owns the Pipeline has already
    validated the sequences through the data contract.
    """

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return summary_features(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


def symbol_ngrams(sequence, ngram_range: tuple[int, int] = (1, 1)) -> list[str]:
    """The n-grams of one symbol-id sequence, ``lo <= n <= hi``, as strings.

    ``symbol_ngrams([3, 17, 3], (1, 2))`` is ``["3", "17", "3", "3 17", "17 3"]``.
    Used as the ``analyzer`` of scikit-learn's text vectorizers (through
    ``functools.partial``, which pickles).
    """
    tokens = [str(int(s)) for s in sequence]
    lo, hi = ngram_range
    grams = []
    for n in range(lo, hi + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams
