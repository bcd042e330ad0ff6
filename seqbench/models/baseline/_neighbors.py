"""NearestNeighborClassifier: 1-nearest-neighbour with Euclidean distance or
dynamic time warping, the baseline every time-series classification paper
reports (the UCR archive lists both for every dataset).

Distances come from libraries: DTW from ``dtaidistance`` (a maintained C
implementation, one call for the whole test-by-train block), Euclidean from
scikit-learn's ``euclidean_distances``; the vote is scikit-learn's
``KNeighborsClassifier`` on the precomputed distances.

DTW here is the classic one: the square root of the smallest sum of squared
differences (squared Euclidean between the steps' feature vectors) along a
monotone alignment of the two sequences, restricted to a Sakoe-Chiba band of
``window`` steps around the diagonal. Symbol-id sequences are one-hot encoded
first, so a step costs 0 when the symbols match and 2 when they differ.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from dtaidistance import dtw, dtw_ndim
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ...data import SequenceCollection, check_classification_targets
from .._base import SEQUENCE_EXPECTED_FAILED_CHECKS, Capabilities, SequenceInputMixin, encode_labels

__all__ = ["NearestNeighborClassifier", "dtw_distances", "window_steps"]


def window_steps(window, max_length: int) -> int | None:
    """The Sakoe-Chiba band half-width in steps for ``window``, or None (no band).

    ``window`` : None (no constraint), a float fraction in [0, 1] of the
    longest sequence's length (rounded up; the UCR convention), or a
    non-negative int number of steps. Anything else raises ValueError naming
    the value.
    """
    if window is None:
        return None
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, Real):
        raise ValueError(
            f"window must be None, a fraction in [0, 1] or a non-negative int number of steps, got {window!r}"
        )
    if isinstance(window, Integral):
        if window < 0:
            raise ValueError(f"window={window!r} is a negative number of steps; pass an int >= 0 or a fraction in [0, 1]")
        return int(window)
    if not 0.0 <= float(window) <= 1.0:
        raise ValueError(
            f"window={window!r} is outside [0, 1]: a float window is a fraction of the sequence length; "
            "pass a fraction in [0, 1] or an int number of steps"
        )
    return int(math.ceil(float(window) * max_length))


def dtw_distances(A: list, B: list, band: int | None) -> np.ndarray:
    """DTW distance of every sequence of ``A`` to every sequence of ``B``, ``(len(A), len(B))``.

    A, B : lists of ``(T_i, d)`` float64 arrays (lengths may differ).
    band : the Sakoe-Chiba band in steps, or None for no constraint. Step
        ``i`` of ``a`` (length ``n``) may align with step ``j`` of ``b``
        (length ``m``) when ``j - i <= band + max(0, m - n)`` and
        ``i - j <= band + max(0, n - m)`` (dtaidistance's band: widened by the
        length difference on the longer sequence's side, so that unequal
        lengths always have an alignment).
    """
    d = A[0].shape[1]
    series = [np.ascontiguousarray(s[:, 0] if d == 1 else s, dtype=np.float64) for s in (*A, *B)]
    # dtaidistance allows |i - j| < window (+ the length difference); window=0 means no band
    kwargs = {} if band is None else {"window": band + 1}
    block = ((0, len(A)), (len(A), len(A) + len(B)))
    if d == 1:
        full = dtw.distance_matrix(series, block=block, use_c=True, **kwargs)
    else:
        full = dtw_ndim.distance_matrix(series, ndim=d, block=block, use_c=True, **kwargs)
    return np.asarray(full)[: len(A), len(A):]


class NearestNeighborClassifier(SequenceInputMixin, ClassifierMixin, BaseEstimator):
    """k-nearest-neighbour classifier (1 by default) on whole sequences.

    Parameters
    ----------
    metric : {"dtw", "euclidean"}, default="dtw"
        ``"dtw"``: dynamic time warping (any lengths). ``"euclidean"``: the
        Euclidean distance between the sequences as flat vectors; every
        sequence, in ``fit`` and ``predict``, must have the same length.
    window : float in [0, 1], int >= 0 or None, default=None
        DTW only (ignored for ``"euclidean"``): the Sakoe-Chiba band, as a
        fraction of the longest training sequence's length (rounded up) or a
        number of steps. 0 allows no warping (Euclidean on equal lengths);
        None or 1.0 allows any warping.
    n_neighbors : int >= 1, default=1
        Neighbours that vote (scikit-learn's uniform vote; ties go to the
        class that comes first in ``classes_``).

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    band_ : int or None, the DTW band in steps (None: unconstrained or Euclidean)
    X_fit_ : list of ``(T_i, d)`` float64 arrays, the training sequences
        (one-hot for symbols)
    knn_ : the fitted scikit-learn ``KNeighborsClassifier`` (precomputed distances)
    n_features_in_, input_kind_; n_symbols_, vocabulary_ (symbols only; see SequenceInputMixin)
    """

    capabilities = Capabilities(
        task="classify", family="baseline", input_kinds=frozenset({"real", "symbol"}), probabilistic=True
    )
    _expected_failed_checks = {
        **SEQUENCE_EXPECTED_FAILED_CHECKS,
        "check_classifiers_train": (
            "besides training accuracy (1.0 for 1-NN on its own training set, asserted in tests/test_family_"
            "baselines.py) it requires predict(X.T) to raise, but X.T is a valid collection of sequences"
        ),
    }
    _parameter_constraints = {
        "metric": [StrOptions({"dtw", "euclidean"})],
        "window": "no_validation",  # checked by window_steps, whose message names the value and the fix
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, metric="dtw", *, window=None, n_neighbors=1):
        self.metric = metric
        self.window = window
        self.n_neighbors = n_neighbors

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Store the training sequences ``X`` and labels ``y`` (n,)."""
        coll = self._validate_fit_X(X, kinds=frozenset({"real", "symbol"}))
        y = check_classification_targets(coll, y, estimator_name=type(self).__name__)
        band = window_steps(self.window, int(coll.lengths.max())) if self.metric == "dtw" else None
        if self.n_neighbors > len(coll):
            raise ValueError(f"n_neighbors={self.n_neighbors} is more than the {len(coll)} training sequences")
        self.classes_, y_enc = encode_labels(y)
        self.band_ = band
        self.X_fit_ = self._steps(coll)
        if self.metric == "euclidean":
            self._check_equal_lengths(coll.lengths, "the training sequences")
        knn = KNeighborsClassifier(n_neighbors=self.n_neighbors, metric="precomputed")
        # With precomputed distances, fit reads only the number of training sequences from
        # its (n, n) argument and keeps the labels; predict gets the test-by-train block.
        self.knn_ = knn.fit(np.zeros((len(coll), len(coll))), y_enc)
        return self

    def _steps(self, coll: SequenceCollection) -> list:
        """The sequences as ``(T_i, d)`` float64 arrays; symbols one-hot ``(T_i, n_symbols_)``."""
        if coll.kind != "symbol":
            return [np.asarray(s, dtype=np.float64) for s in coll.sequences]
        return [_one_hot(s, self.n_symbols_) for s in coll.sequences]

    def _check_equal_lengths(self, lengths: np.ndarray, what: str, fitted: int | None = None) -> None:
        expected = int(lengths[0]) if fitted is None else fitted
        odd = np.flatnonzero(lengths != expected)
        if odd.size:
            i = int(odd[0])
            raise ValueError(
                f"metric='euclidean' compares sequences of one length, but in {what} sequence {i} has "
                f"{lengths[i]} steps and {'the training sequences have' if fitted else 'sequence 0 has'} "
                f"{expected}; use metric='dtw' or resample the sequences to one length"
            )

    def _distances(self, A: list, B: list) -> np.ndarray:
        if self.metric == "euclidean":
            return euclidean_distances(np.stack([a.ravel() for a in A]), np.stack([b.ravel() for b in B]))
        return dtw_distances(A, B, self.band_)

    def _test_distances(self, X) -> np.ndarray:
        check_is_fitted(self, "knn_")
        coll = self._validate_predict_X(X)
        if self.metric == "euclidean":
            self._check_equal_lengths(coll.lengths, "X", fitted=len(self.X_fit_[0]))
        return self._distances(self._steps(coll), self.X_fit_)

    def predict(self, X) -> np.ndarray:
        """Class of each sequence's nearest training sequence(s), ``(n,)``."""
        distances = self._test_distances(X)
        return self.classes_[self.knn_.predict(distances)]

    def predict_proba(self, X) -> np.ndarray:
        """Share of the ``n_neighbors`` nearest training sequences in each class, ``(n, n_classes)``."""
        distances = self._test_distances(X)
        return self.knn_.predict_proba(distances)


def _one_hot(symbols: np.ndarray, n_symbols: int) -> np.ndarray:
    """Ids ``(T,)`` in ``0..n_symbols-1`` as one-hot rows ``(T, n_symbols)`` float64
    (built row by row, not from an ``(n_symbols, n_symbols)`` identity)."""
    out = np.zeros((len(symbols), n_symbols))
    out[np.arange(len(symbols)), symbols] = 1.0
    return out
