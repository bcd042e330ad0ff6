"""What every tagger shares (the many-to-many, aligned task):
one place that validates per-step labels ``Y`` against the sequences, label
encoding, and per-step accuracy as ``score``.

``Y`` holds one label array per sequence, ``Y[i]`` of shape ``(T_i,)``, with
``T_i`` the number of steps of sequence ``i`` (tokens, for text). Every
tagger validates ``Y`` with :func:`check_tag_targets` and nothing else.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
from sklearn.utils.multiclass import type_of_target

__all__ = [
    "TaggerMixin",
    "check_tag_targets",
    "encode_tag_labels",
    "split_steps",
    "TAGGER_EXPECTED_FAILED_CHECKS",
    "SKLEARN_DATA_CHECKS",
]

# scikit-learn's common checks pass one scalar target per sample; a tagger
# needs one label per *step*, so every check that fits with such a y fails
# with the ValueError of check_tag_targets ("Y: entry 0 is a single label").
_Y_PER_STEP = (
    "the check fits with one scalar target per row of a 2-D X, but a tagger reads each row as a "
    "sequence and needs one label per step (Y: a list of label arrays); fit raises the ValueError "
    "that names the sequence whose labels do not match"
)
# Every scikit-learn check that fits on its generated data (measured with
# sklearn 1.9's check_estimator); the API they exercise (pickling, cloning,
# idempotent fits, unfitted errors) is tested with real per-step labels in
# tests/test_tagging.py.
SKLEARN_DATA_CHECKS = (
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
)
TAGGER_EXPECTED_FAILED_CHECKS: dict[str, str] = {name: _Y_PER_STEP for name in SKLEARN_DATA_CHECKS}


def _as_label_array(obj, index: int) -> np.ndarray:
    if isinstance(obj, str) or np.ndim(obj) == 0:
        raise ValueError(
            f"Y: entry {index} is a single label ({obj!r}); a tagger needs one label per step of each "
            "sequence: pass Y as a list of label arrays, Y[i] of shape (T_i,)"
        )
    if scipy.sparse.issparse(obj):
        raise TypeError(f"Y: entry {index} is a sparse matrix; pass dense label arrays")
    arr = np.asarray(obj)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"Y: entry {index} has shape {arr.shape}; each label array must be 1-D, shape (T_{index},)")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        step = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"Y: sequence {index} has a NaN or inf label at step {step}; every step needs a label")
    if arr.dtype == object and any(v is None for v in arr):
        step = next(t for t, v in enumerate(arr) if v is None)
        raise ValueError(f"Y: sequence {index} has a None label at step {step}; every step needs a label")
    return arr


def check_tag_targets(lengths, Y, *, fitting: bool = True, estimator_name: str = "tagger") -> list[np.ndarray]:
    """Validate per-step labels against the sequence lengths.

    Parameters
    ----------
    lengths : int array ``(n,)``
        Steps (tokens, for text) of each validated sequence.
    Y : list of array-likes ``(T_i,)``, or a 2-D array ``(n, T)``
        One label per step of each sequence.
    fitting : bool
        When True, labels must be discrete classes and at least two distinct
        labels must appear (a tagger has nothing to learn from one).
    estimator_name : str
        Named in the error for a missing ``Y``.

    Returns
    -------
    list of 1-D ndarrays, ``Y[i]`` of length ``lengths[i]``.

    Raises
    ------
    ValueError
        Naming the sequence index whose label count differs from its length,
        or the sequence and step of a missing label.
    """
    if Y is None:
        raise ValueError(
            f"{estimator_name} requires y to be passed, but the target y is None; "
            "pass Y, one label array per sequence"
        )
    if isinstance(Y, str):
        raise ValueError("Y is a single string; pass one label array per sequence")
    if isinstance(Y, np.ndarray) and Y.ndim == 1 and Y.dtype != object:
        return [_as_label_array(Y[0], 0)]  # raises: scalars, not label arrays
    Y = list(Y)
    if len(Y) != len(lengths):
        raise ValueError(
            f"Y has {len(Y)} label arrays but X has {len(lengths)} sequences; pass one label array per sequence"
        )
    out = []
    for i, (obj, length) in enumerate(zip(Y, lengths)):
        arr = _as_label_array(obj, i)
        if len(arr) != length:
            raise ValueError(
                f"Y: sequence {i} has {len(arr)} labels but X sequence {i} has {int(length)} steps; "
                "each sequence needs exactly one label per step (per token, for text)"
            )
        out.append(arr)
    if fitting:
        flat = np.concatenate(out)
        kind = type_of_target(flat)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"Y holds {kind} values; a tagger needs discrete labels (class names or integer codes)"
            )
        if len(np.unique(flat)) < 2:
            raise ValueError(
                f"Y has a single label ({flat[0]!r}) on every step; a tagger needs at least 2 labels to learn from"
            )
    return out


def encode_tag_labels(Y: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """``classes_`` (sorted unique labels) and each label array as int64 indices into them."""
    classes, flat = np.unique(np.concatenate(Y), return_inverse=True)
    return classes, split_steps(flat.astype(np.int64), [len(y) for y in Y])


def split_steps(flat: np.ndarray, lengths) -> list[np.ndarray]:
    """Cut a per-step array ``(sum T_i, ...)`` back into one array per sequence."""
    return np.split(flat, np.cumsum(lengths)[:-1])


class TaggerMixin:
    """``score`` for taggers: per-step accuracy over every step of every sequence.

    Subclasses implement ``predict(X)`` returning one label array per sequence.
    """

    def score(self, X, Y, sample_weight=None) -> float:
        """Per-step accuracy: the fraction of all steps (of all sequences)
        whose predicted label equals ``Y``'s.

        Parameters
        ----------
        X : sequence collection
        Y : one label array per sequence, ``Y[i]`` of shape ``(T_i,)``
        sample_weight : array ``(n,)`` or None
            Weight of each *sequence*, applied to each of its steps.
        """
        pred = self.predict(X)
        Y = check_tag_targets([len(p) for p in pred], Y, fitting=False, estimator_name=type(self).__name__)
        hits = np.concatenate([p == y for p, y in zip(pred, Y)]).astype(np.float64)
        if sample_weight is None:
            return float(hits.mean())
        weights = np.repeat(np.asarray(sample_weight, dtype=np.float64), [len(y) for y in Y])
        return float(np.average(hits, weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
