"""What every seqbench estimator shares: its capabilities record, input
validation through the data contract (with text tokenized on the way in),
and the scikit-learn checks that a sequence model cannot pass by design."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from sklearn.base import RegressorMixin, clone
from sklearn.utils.validation import check_is_fitted

from ..data import MAX_ABS_VALUE, SequenceCollection, Tokenizer, check_sample_weight, check_sequences
from ._vocabulary import encode_symbols, fit_vocabulary

__all__ = ["Capabilities", "SequenceInputMixin", "SequenceRegressorMixin", "SEQUENCE_EXPECTED_FAILED_CHECKS"]


@dataclass(frozen=True)
class Capabilities:
    """What an estimator class can do; the runner and the common tests read it.

    task : "classify" | "regress" | "tag" | "forecast" | "language_model"
    family : "hmm" | "autoregressive" | "neural" | "baseline"
    input_kinds : subset of {"real", "symbol", "text"} the class accepts
        (with suitable parameters)
    probabilistic : whether ``predict_proba`` (or a likelihood) is available
    """

    task: str
    family: str
    input_kinds: frozenset
    probabilistic: bool


# scikit-learn's common checks read a 2-D array (n, k) as n samples with k
# features; seqbench reads it as n univariate sequences of length k (the
# data contract, seqbench.data). These checks test the feature reading and cannot pass.
SEQUENCE_EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_n_features_in": (
        "n_features_in_ is the number of features per time step (1 for a 2-D array of univariate "
        "sequences), not the number of columns, which is a sequence length"
    ),
    "check_n_features_in_after_fitting": (
        "sequences of any length are accepted at predict time, so fewer columns are a shorter "
        "sequence, not a feature-count mismatch"
    ),
}


class SequenceInputMixin:
    """Validate ``X`` once at the top of ``fit``/``predict``.

    Subclasses set ``capabilities`` and may extend
    ``_expected_failed_checks`` (check name -> reason) for the common
    scikit-learn checks they cannot pass, each with its reason.

    After ``_validate_fit_X`` the estimator has ``n_features_in_`` (features
    per step), ``input_kind_`` ("real", "symbol" or "text"), and for symbols
    and text ``n_symbols_``, the vocabulary size with ``<unk>``. For text
    also the fitted ``tokenizer_`` (from the ``tokenizer`` parameter when the
    class has one, else word level; ``<unk>`` is id 0). For symbol ids also
    ``vocabulary_``, the sorted distinct ids seen in ``fit`` (int64 ``(K,)``):
    the model reads id ``vocabulary_[j]`` as symbol ``j`` and any other id as
    ``<unk>``, symbol ``K`` (``n_symbols_ = K + 1``; see ``_vocabulary``).
    """

    capabilities: ClassVar[Capabilities]
    _expected_failed_checks: ClassVar[dict[str, str]] = SEQUENCE_EXPECTED_FAILED_CHECKS
    # Largest input magnitude the model represents after its own dtype cast;
    # larger finite values are refused by the data contract (float32 models lower it).
    _max_abs_input: ClassVar[float] = MAX_ABS_VALUE

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        tags.input_tags.two_d_array = True
        return tags

    def _validate_fit_X(self, X, *, kinds=None) -> SequenceCollection:
        """Validate training sequences; tokenize text. ``kinds`` narrows the
        accepted input kinds for the current parameters."""
        kinds = frozenset(kinds or self.capabilities.input_kinds)
        coll = check_sequences(X, allow_text="text" in kinds, max_abs=self._max_abs_input)
        self._check_kind(coll.kind, kinds)
        self.input_kind_ = coll.kind
        if coll.kind == "text":
            tok = getattr(self, "tokenizer", None)
            self.tokenizer_ = clone(tok) if tok is not None else self._default_tokenizer()
            coll = _tokenized(self.tokenizer_.fit(coll.sequences), coll)
            self.n_symbols_ = self.tokenizer_.n_symbols_
        elif coll.kind == "symbol":
            coll = self._fit_symbol_vocabulary(coll)
        self.n_features_in_ = coll.n_features
        return coll

    def _fit_symbol_vocabulary(self, coll: SequenceCollection) -> SequenceCollection:
        """Learn ``vocabulary_`` and ``n_symbols_`` from symbol sequences; return them encoded."""
        self.vocabulary_ = fit_vocabulary(coll.sequences)
        self.n_symbols_ = len(self.vocabulary_) + 1  # + <unk>
        return self._encoded(coll)

    def _encoded(self, coll: SequenceCollection) -> SequenceCollection:
        """Symbol sequences as positions in ``vocabulary_`` (unseen ids: ``<unk>``)."""
        return SequenceCollection(encode_symbols(coll.sequences, self.vocabulary_), "symbol", 1)

    def _default_tokenizer(self) -> Tokenizer:
        """The tokenizer text is read with when the class has no ``tokenizer``
        parameter or it is None (a class may override it)."""
        return Tokenizer(level="word")

    def _validate_predict_X(self, X) -> SequenceCollection:
        """Validate sequences at predict time against what ``fit`` saw."""
        check_is_fitted(self, "input_kind_")
        kind = self.input_kind_
        coll = check_sequences(
            X,
            kind="auto" if kind == "text" else kind,
            n_features=self.n_features_in_ if kind == "real" else None,
            allow_text=kind == "text",
            max_abs=self._max_abs_input,
        )
        if coll.kind != kind:
            raise TypeError(
                f"X holds {coll.kind} sequences but {type(self).__name__} was fitted on {kind} sequences"
            )
        if kind == "text":
            coll = _tokenized(self.tokenizer_, coll)
        elif kind == "symbol":
            coll = self._encoded(coll)
        return coll

    def _check_kind(self, kind: str, kinds: frozenset) -> None:
        if kind not in kinds:
            raise TypeError(
                f"{type(self).__name__} with these parameters accepts {sorted(kinds)} sequences, "
                f"got {kind} sequences"
            )


class SequenceRegressorMixin(RegressorMixin):
    """scikit-learn's R² ``score``, refusing what would make it NaN or a numpy error:
    fewer than two sequences (R² is undefined) or a ``sample_weight`` of the wrong length."""

    def score(self, X, y, sample_weight=None) -> float:
        n = len(y) if hasattr(y, "__len__") else 1
        if n < 2:
            raise ValueError(f"R² needs at least 2 sequences to compare with their mean, got {n}")
        return super().score(X, y, sample_weight=check_sample_weight(sample_weight, n))


def _tokenized(tokenizer: Tokenizer, coll: SequenceCollection) -> SequenceCollection:
    ids = tokenizer.transform(coll.sequences)
    for i, s in enumerate(ids):
        if len(s) == 0:
            raise ValueError(
                f"X: sequence {i} has no tokens after {tokenizer.level}-level tokenization "
                f"(text {coll.sequences[i][:40]!r}); drop it or use level='char'"
            )
    return SequenceCollection(ids, "symbol", 1)


def encode_labels(y) -> tuple[np.ndarray, np.ndarray]:
    """``classes_`` (sorted unique labels) and ``y`` as int64 indices into them."""
    classes, y_enc = np.unique(y, return_inverse=True)
    return classes, y_enc.astype(np.int64)
