"""WindowTagger: the tagging floor, a logistic regression on the steps in a
window of ``±k`` positions around each step."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities, SequenceInputMixin
from .._tagging_base import (
    TAGGER_EXPECTED_FAILED_CHECKS,
    TaggerMixin,
    check_tag_targets,
    encode_tag_labels,
    split_steps,
)

__all__ = ["WindowTagger", "window_indices", "real_window_features", "symbol_window_features"]


def window_indices(lengths: np.ndarray, k: int) -> np.ndarray:
    """Positions of each step's window in the concatenated steps.

    Parameters
    ----------
    lengths : int array ``(n,)`` of sequence lengths
    k : half-width of the window

    Returns
    -------
    int64 array ``(sum T_i, 2k + 1)``: column ``j`` holds the index (into the
    concatenation of all sequences) of the step at offset ``j - k``, or -1
    where that offset falls outside the step's own sequence.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    seq_start = np.repeat(starts, lengths)
    seq_end = np.repeat(starts + lengths, lengths)
    pos = np.arange(int(lengths.sum()), dtype=np.int64)[:, None] + np.arange(-k, k + 1)
    inside = (pos >= seq_start[:, None]) & (pos < seq_end[:, None])
    return np.where(inside, pos, -1)


def real_window_features(X: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Window features of real-valued steps.

    X : ``(N, d)`` concatenated (standardised) steps; index : from
    :func:`window_indices`. Returns ``(N, (2k+1) * (d + 1))``: for each offset,
    the ``d`` values (0 outside the sequence) and an indicator that the
    offset lies outside the sequence.
    """
    outside = index < 0
    values = np.where(outside[..., None], 0.0, X[np.maximum(index, 0)])  # (N, 2k+1, d)
    feats = np.concatenate([values, outside[..., None].astype(np.float64)], axis=2)
    return feats.reshape(len(X), -1)


def symbol_window_features(symbols: np.ndarray, index: np.ndarray, n_symbols: int) -> scipy.sparse.csr_matrix:
    """One-hot window features of symbol ids, sparse.

    symbols : ``(N,)`` concatenated ids in ``0..n_symbols-1``; index : from
    :func:`window_indices`. Each offset gets ``n_symbols + 1`` columns, the
    last one meaning "outside the sequence". Returns a CSR matrix
    ``(N, (2k+1) * (n_symbols + 1))`` with one 1 per offset.
    """
    n, width = index.shape
    ids = np.where(index < 0, n_symbols, symbols[np.maximum(index, 0)])  # (N, 2k+1)
    cols = (ids + np.arange(width) * (n_symbols + 1)).ravel()
    rows = np.repeat(np.arange(n), width)
    data = np.ones(n * width)
    return scipy.sparse.csr_matrix((data, (rows, cols)), shape=(n, width * (n_symbols + 1)))


class WindowTagger(TaggerMixin, SequenceInputMixin, BaseEstimator):
    """Per-step logistic regression on a window of ``±window`` steps.

    Every step becomes one sample whose features are the steps at offsets
    ``-window .. +window`` of its own sequence: standardised values plus an
    "outside the sequence" indicator per offset for real-valued input, a
    one-hot code per offset (with an "outside" symbol) for symbol ids and
    text. scikit-learn's ``LogisticRegression`` (multinomial, lbfgs) then
    predicts the step's label.

    Parameters
    ----------
    window : int >= 0, default=2
        Half-width ``k``: the window covers ``2k + 1`` steps.
    C : float > 0, default=1.0
        Inverse regularisation strength of the logistic regression.
    max_iter : int >= 1, default=1000
        Iterations of the solver.
    tokenizer : Tokenizer or None, default=None
        For text; None means a word-level ``seqbench.data.Tokenizer``.

    Attributes
    ----------
    classes_ : ndarray ``(n_classes,)``
    model_ : the fitted ``LogisticRegression``
    scaler_ : StandardScaler or None (real input)
    n_iter_ : solver iterations
    n_features_in_, input_kind_, n_symbols_, tokenizer_, vocabulary_ : see SequenceInputMixin
    """

    capabilities = Capabilities(
        task="tag", family="baseline", input_kinds=frozenset({"real", "symbol", "text"}), probabilistic=True
    )
    _expected_failed_checks = TAGGER_EXPECTED_FAILED_CHECKS

    _parameter_constraints: dict = {
        "window": [Interval(Integral, 0, None, closed="left")],
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tokenizer": [HasMethods(["fit", "transform"]), None],
    }

    def __init__(self, window=2, *, C=1.0, max_iter=1000, tokenizer=None):
        self.window = window
        self.C = C
        self.max_iter = max_iter
        self.tokenizer = tokenizer

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, Y):
        """Fit on sequences ``X`` and per-step labels ``Y`` (``Y[i]`` of shape ``(T_i,)``)."""
        coll = self._validate_fit_X(X)
        Y = check_tag_targets(coll.lengths, Y, estimator_name=type(self).__name__)
        self.classes_, Y_enc = encode_tag_labels(Y)
        X_cat, lengths = coll.concatenate()
        self.scaler_ = StandardScaler().fit(X_cat) if coll.kind == "real" else None
        features = self._features(X_cat, lengths)
        self.model_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(features, np.concatenate(Y_enc))
        self.n_iter_ = int(np.max(self.model_.n_iter_))
        return self

    def _features(self, X_cat: np.ndarray, lengths: np.ndarray):
        index = window_indices(lengths, self.window)
        if self.scaler_ is None:
            return symbol_window_features(X_cat[:, 0], index, self.n_symbols_)
        return real_window_features(self.scaler_.transform(X_cat), index)

    def _step_features(self, X):
        check_is_fitted(self, "model_")
        coll = self._validate_predict_X(X)
        X_cat, lengths = coll.concatenate()
        return self._features(X_cat, lengths), lengths

    def predict_proba(self, X) -> list[np.ndarray]:
        """Label probabilities per step: one ``(T_i, n_classes)`` array per sequence."""
        features, lengths = self._step_features(X)
        return split_steps(self.model_.predict_proba(features), lengths)

    def predict(self, X) -> list[np.ndarray]:
        """One label array ``(T_i,)`` per sequence."""
        features, lengths = self._step_features(X)
        return split_steps(self.classes_[self.model_.predict(features)], lengths)
