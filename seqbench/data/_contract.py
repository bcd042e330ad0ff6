"""The sequence data contract: every accepted form of ``X`` becomes one
:class:`SequenceCollection`, and everything else is rejected here, once.

Accepted forms:

- a list (or tuple, or 1-D object array) of arrays of shape ``(T_i, d)`` or
  ``(T_i,)``; lengths may differ;
- a 3-D array ``(n, T, d)`` (batch-first, as in PyTorch);
- a 2-D array ``(n, T)``: ``n`` univariate sequences (what scikit-learn's
  estimator checks pass in);
- a list of integer arrays ``(T_i,)`` of symbol ids;
- a list of strings (only where the caller allows text).

Nothing downstream re-validates: estimators call :func:`check_sequences`
(and :func:`check_classification_targets` / :func:`check_regression_targets`)
at the top of ``fit`` and ``predict`` and then trust the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse
from sklearn.utils.multiclass import check_classification_targets as _sk_check_targets
from sklearn.utils.validation import column_or_1d

from ._helpers import plain_value

Kind = Literal["real", "symbol", "text"]

__all__ = [
    "MAX_ABS_VALUE",
    "SequenceCollection",
    "check_sequences",
    "check_classification_targets",
    "check_regression_targets",
    "check_sample_weight",
]

# The largest magnitude any seqbench model accepts by default. The models
# square their inputs in float64 (variances, Gaussian log-likelihoods, least
# squares); 1e100 squared is 1e200, which leaves room for sums over many steps
# before float64 overflows at 1.8e308. Estimators that compute in float32
# pass a tighter bound (see ``check_sequences(max_abs=...)``).
MAX_ABS_VALUE = 1e100


@dataclass(frozen=True, eq=False)
class SequenceCollection:
    """A validated collection of sequences, the one internal form.

    Attributes
    ----------
    sequences : list
        ``kind == "real"``: float64 arrays of shape ``(T_i, d)``;
        ``kind == "symbol"``: int64 arrays of shape ``(T_i,)`` with ids >= 0
        (any ids that fit int64: they are names, and a model numbers the ids
        it saw densely, reading others as ``<unk>``);
        ``kind == "text"``: non-empty ``str``.
    kind : {"real", "symbol", "text"}
    n_features : int
        ``d`` for real sequences, 1 for symbols and text.
    """

    sequences: list
    kind: Kind
    n_features: int

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.sequences[index]
        idx = np.arange(len(self))[index]
        return SequenceCollection([self.sequences[i] for i in idx], self.kind, self.n_features)

    def __iter__(self):
        return iter(self.sequences)

    @property
    def lengths(self) -> np.ndarray:
        """int64 array ``(n,)`` of sequence lengths (characters for text)."""
        return np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(self))

    def concatenate(self) -> tuple[np.ndarray, np.ndarray]:
        """hmmlearn's form: ``(X_concat, lengths)``.

        ``X_concat`` is ``(sum T_i, d)`` float64 for real sequences and
        ``(sum T_i, 1)`` int64 for symbols.
        """
        if self.kind == "text":
            raise TypeError("text must be tokenized before it can be concatenated")
        if self.kind == "symbol":
            return np.concatenate(self.sequences)[:, None], self.lengths
        return np.concatenate(self.sequences, axis=0), self.lengths


def _fail_nonfinite(seq: np.ndarray, index: int, name: str) -> None:
    if not np.isfinite(seq).all():
        bad = "NaN" if np.isnan(seq).any() else "infinity"
        raise ValueError(
            f"{name}: sequence {index} contains {bad} (NaN or inf values are not allowed); "
            "drop or impute the missing steps first"
        )


def _as_numeric(obj, index: int, name: str) -> np.ndarray:
    """One sequence as a numeric ndarray, with errors naming ``index``."""
    if isinstance(obj, (str, bytes)):
        raise TypeError(
            f"{name}: sequence {index} is a string while others are not; "
            "pass all strings (text) or all numeric arrays"
        )
    if scipy.sparse.issparse(obj):
        raise TypeError(f"{name}: sequence {index} is a sparse matrix; sparse input is not supported, use .toarray()")
    try:
        arr = np.asarray(obj)
        if arr.dtype == object:
            arr = arr.astype(np.float64)
    except OverflowError as exc:
        raise ValueError(
            f"{name}: sequence {index} holds a number too large for float64 ({exc}); rescale the data"
        ) from exc
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name}: sequence {index} has non-numeric values: {exc}") from exc
    if np.iscomplexobj(arr):
        raise ValueError(f"{name}: sequence {index}: Complex data not supported")
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name}: sequence {index} has non-numeric dtype {arr.dtype}; "
            "sequences must hold numbers (tokenize text with seqbench.data.Tokenizer)"
        )
    return arr


def _as_symbols(arr: np.ndarray, index: int, name: str) -> np.ndarray:
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{name}: sequence {index} has shape {arr.shape}; symbol sequences must be 1-D arrays of ids"
        )
    if arr.dtype.kind == "f":
        _fail_nonfinite(arr, index, name)
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                f"{name}: sequence {index} holds non-integer symbol ids (e.g. {float(arr[arr != np.round(arr)][0])}); "
                "symbol ids must be integers >= 0"
            )
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ValueError(
            f"{name}: sequence {index} holds symbol id {int(arr.max())}, which does not fit int64; "
            "renumber the symbols (ids are only names: any distinct integers >= 0 work)"
        )
    if arr.dtype.kind == "f" and arr.size and float(np.abs(arr).max()) >= 2.0**63:
        raise ValueError(
            f"{name}: sequence {index} holds symbol id {float(np.abs(arr).max()):g}, which does not fit int64; "
            "renumber the symbols"
        )
    arr = arr.astype(np.int64)
    if arr.min() < 0:
        raise ValueError(
            f"{name}: sequence {index} holds a negative symbol id ({int(arr.min())}); symbol ids must be >= 0"
        )
    return arr


def _as_real(arr: np.ndarray, index: int, name: str, max_abs: float) -> np.ndarray:
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name}: sequence {index} has {arr.ndim} dimensions (shape {arr.shape}); "
            "each sequence must be (T,) or (T, d)"
        )
    arr = np.asarray(arr, dtype=np.float64)
    _fail_nonfinite(arr, index, name)
    _fail_too_large(arr, index, name, max_abs)
    return arr


def _fail_too_large(arr: np.ndarray, index: int, name: str, max_abs: float) -> None:
    """Finite values the model cannot represent become a ValueError, not a NaN model."""
    magnitude = np.abs(arr)
    if arr.size and magnitude.max() > max_abs:
        step, feature = np.unravel_index(int(np.argmax(magnitude)), arr.shape)
        raise ValueError(
            f"{name}: sequence {index}, step {step}, feature {feature} holds {arr[step, feature]:g}, beyond "
            f"the largest magnitude this model can represent ({max_abs:g}); rescale the data "
            "(e.g. divide by a constant or take logs)"
        )


def _split_array(X: np.ndarray, name: str) -> list:
    """Split an ndarray collection into its sequences (views, no copies)."""
    if np.iscomplexobj(X):
        raise ValueError(f"{name}: Complex data not supported")
    if X.ndim == 0:
        raise TypeError(f"{name} is a scalar ({X!r}); pass a collection of sequences")
    if X.ndim == 1:
        if X.dtype == object:
            return list(X)
        if X.dtype.kind in "US":
            return [str(s) for s in X]
        raise ValueError(
            f"{name} is a 1-D array of shape {X.shape}: a collection needs one entry per sequence. "
            "Reshape your data either using array.reshape(1, -1) for a single univariate sequence "
            "or pass a list of sequences"
        )
    if X.ndim > 3:
        raise ValueError(
            f"{name} is a {X.ndim}-D array of shape {X.shape}; expected a 2-D (n, T) or 3-D (n, T, d) array, "
            "or a list of (T_i, d) arrays"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {X.shape}): need at least one sequence")
    if X.ndim == 2 and X.shape[1] == 0:
        raise ValueError(
            f"{name}: 0 feature(s) (shape={X.shape}) while a minimum of 1 is required. "
            "Each row of a 2-D array is one univariate sequence, so every sequence is empty"
        )
    if X.dtype == object:
        try:
            X = X.astype(np.float64)
        except OverflowError as exc:
            raise ValueError(f"{name} holds a number too large for float64 ({exc}); rescale the data") from exc
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name} has non-numeric values: {exc}") from exc
    return list(X)


def check_sequences(
    X,
    *,
    kind: Literal["auto", "real", "symbol", "text"] = "auto",
    n_features: int | None = None,
    allow_text: bool = False,
    max_abs: float = MAX_ABS_VALUE,
    name: str = "X",
) -> SequenceCollection:
    """Validate a sequence collection and return it in the internal form.

    Parameters
    ----------
    X : sequence collection
        Any form listed in this module's docstring, or a SequenceCollection.
    kind : {"auto", "real", "symbol", "text"}
        ``"auto"`` reads a list of 1-D integer arrays as symbol ids, a list of
        strings as text, and everything else as real-valued; ``"real"``
        forces real values, ``"symbol"`` forces symbol ids (rows of a 2-D
        integer array become symbol sequences).
    n_features : int, optional
        Required number of features per step (set at predict time).
    allow_text : bool
        Whether a list of strings is accepted (``kind="text"``).
    max_abs : float
        Largest magnitude accepted in real-valued sequences; larger finite
        values raise (a model computing in float32 passes a smaller bound).

    Returns
    -------
    SequenceCollection

    Raises
    ------
    ValueError, TypeError
        With a message naming the problem and the index of the offending
        sequence.
    """
    if isinstance(X, SequenceCollection):
        items, forced = X.sequences, X.kind
    elif X is None:
        raise TypeError(f"{name} is None; pass a collection of sequences")
    elif isinstance(X, (str, bytes)):
        raise TypeError(f"{name} is a single string; pass a list of strings, one per sequence")
    elif scipy.sparse.issparse(X):
        raise TypeError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    elif isinstance(X, np.ndarray) or hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        arr = np.asarray(X)
        items, forced = _split_array(arr, name), None
        if kind == "auto" and arr.ndim in (2, 3) and arr.dtype != object:
            kind = "real"  # a numeric 2-D/3-D array is real-valued unless told otherwise
    elif isinstance(X, (list, tuple)):
        items, forced = list(X), None
    else:
        raise TypeError(
            f"{name} has type {type(X).__name__}; expected a list of arrays, a 2-D or 3-D array, "
            "or a list of strings"
        )
    if len(items) == 0:
        raise ValueError(f"{name} is empty: need at least one sequence")
    if forced is not None and kind == "auto":
        kind = forced
    return _convert_items(items, kind, n_features, allow_text, max_abs, name)


def _convert_items(items, kind, n_features, allow_text, max_abs, name) -> SequenceCollection:
    is_str = [isinstance(s, str) for s in items]
    if any(is_str) or kind == "text":
        return _convert_text(items, is_str, allow_text, name)
    arrays = []
    for i, obj in enumerate(items):
        arr = _as_numeric(obj, i, name)
        if arr.size == 0:
            raise ValueError(f"{name}: sequence {i} is empty (shape {arr.shape}); every sequence needs at least one step")
        if arr.ndim == 0:
            raise ValueError(f"{name}: sequence {i} is a scalar ({arr!r}); each sequence must be (T,) or (T, d)")
        arrays.append(arr)
    if kind == "auto":
        is_symbol = all(a.ndim == 1 and a.dtype.kind in "iu" for a in arrays)
        kind = "symbol" if is_symbol else "real"
    if kind == "symbol":
        seqs = [_as_symbols(a, i, name) for i, a in enumerate(arrays)]
        return SequenceCollection(seqs, "symbol", 1)
    seqs = [_as_real(a, i, name, max_abs) for i, a in enumerate(arrays)]
    d0 = seqs[0].shape[1] if n_features is None else n_features
    for i, s in enumerate(seqs):
        if s.shape[1] != d0:
            if n_features is not None:
                raise ValueError(
                    f"{name}: sequence {i} has {s.shape[1]} features per step, but the estimator was "
                    f"fitted with {n_features}"
                )
            raise ValueError(
                f"{name}: ragged feature dimensions: sequence {i} has {s.shape[1]} features per step "
                f"while sequence 0 has {d0}; all sequences need the same number of features"
            )
    return SequenceCollection(seqs, "real", d0)


def _convert_text(items, is_str, allow_text, name) -> SequenceCollection:
    if not all(is_str):
        if is_str[0]:
            i = is_str.index(False)
            raise TypeError(f"{name}: sequence {i} is not a string while sequence 0 is; pass all strings or all arrays")
        i = is_str.index(True)
        raise TypeError(f"{name}: sequence {i} is a string while sequence 0 is not; pass all strings or all arrays")
    if not allow_text:
        raise TypeError(
            f"{name} holds strings, but this estimator needs numeric or symbol-id sequences; "
            "turn text into symbol ids with seqbench.data.Tokenizer first"
        )
    for i, s in enumerate(items):
        if len(s) == 0:
            raise ValueError(f"{name}: sequence {i} is an empty string; every text needs at least one character")
    return SequenceCollection(list(items), "text", 1)


def check_classification_targets(X: SequenceCollection, y, *, estimator_name: str = "estimator") -> np.ndarray:
    """Validate class labels ``y`` (one per sequence) against ``X``.

    Returns ``y`` as a 1-D array. Raises if ``y`` is None, has the wrong
    length, holds NaN, is continuous, or has a single class.
    """
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} labels but X has {len(X)} sequences; pass one label per sequence")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y holds NaN or inf at index {i}; every sequence needs a label")
    if y.dtype == object and any(v is None for v in y):
        i = next(i for i, v in enumerate(y) if v is None)
        raise ValueError(f"y holds None at index {i}; every sequence needs a label")
    _check_one_label_type(y, "y")
    _sk_check_targets(y)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class ({plain_value(classes[0])!r}); a classifier needs at least 2 classes to learn from"
        )
    return y


def _check_one_label_type(y: np.ndarray, name: str) -> None:
    """Labels must be all strings or all numbers: mixed ones cannot be sorted into ``classes_``."""
    if y.dtype != object:
        return
    is_str = np.array([isinstance(v, str) for v in y])
    if is_str.any() and not is_str.all():
        i, j = int(np.flatnonzero(is_str)[0]), int(np.flatnonzero(~is_str)[0])
        raise TypeError(
            f"{name} mixes label types: {name}[{i}] is a string ({y[i]!r}) and {name}[{j}] is "
            f"{type(y[j]).__name__} ({y[j]!r}); use one type for every label, e.g. all strings"
        )


def check_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Validate one weight per sequence: float64 ``(n,)``, finite and >= 0, or None."""
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric: {exc}") from exc
    if w.ndim != 1 or len(w) != n:
        raise ValueError(
            f"sample_weight has shape {w.shape} but there are {n} sequences; pass one weight per sequence"
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must hold finite values >= 0")
    if w.sum() <= 0:
        raise ValueError("sample_weight sums to 0; at least one sequence needs a positive weight")
    return w


def check_regression_targets(X: SequenceCollection, y, *, estimator_name: str = "estimator") -> np.ndarray:
    """Validate real targets ``y`` (one per sequence); returns float64 ``(n,)``."""
    if y is None:
        raise ValueError(f"{estimator_name} requires y to be passed, but the target y is None")
    y = column_or_1d(y, warn=True)
    try:
        y = y.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"y must be numeric for regression: {exc}") from exc
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} targets but X has {len(X)} sequences; pass one target per sequence")
    if not np.isfinite(y).all():
        i = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"y holds NaN or inf at index {i}")
    return y
