"""FeatureClassifier: the floor every sequence classifier is compared with."""

from __future__ import annotations

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ...data import check_classification_targets, check_sequences
from .._base import SEQUENCE_EXPECTED_FAILED_CHECKS, Capabilities, SequenceInputMixin, encode_labels
from .._features import SummaryFeatures, symbol_ngrams

__all__ = ["FeatureClassifier", "FeatureInputMixin"]

# Words of raw text: runs of word characters, one-letter words included
# (scikit-learn's default pattern drops "a" and "I").
_WORD_PATTERN = r"(?u)\b\w+\b"


class FeatureInputMixin(SequenceInputMixin):
    """Input handling of the feature baselines: real sequences become summary
    features (standardised), symbols TF-IDF over symbol n-grams, text TF-IDF
    over the words of the raw strings (never tokenized by seqbench)."""

    def _validate_fit_X(self, X):
        coll = check_sequences(X, allow_text=True)
        self.input_kind_ = coll.kind
        self.n_features_in_ = coll.n_features
        if coll.kind == "symbol":
            self.n_symbols_ = coll.n_symbols
        return coll

    def _validate_predict_X(self, X):
        check_is_fitted(self, "input_kind_")
        if self.input_kind_ != "text":
            return super()._validate_predict_X(X)
        coll = check_sequences(X, allow_text=True)
        if coll.kind != "text":
            raise TypeError(f"X holds {coll.kind} sequences but {type(self).__name__} was fitted on text")
        return coll

    def _check_ngram_range(self) -> None:
        r = self.ngram_range
        if not (len(r) == 2 and all(isinstance(v, Integral) for v in r) and 1 <= r[0] <= r[1]):
            raise ValueError(f"ngram_range must be a pair of integers (lo, hi) with 1 <= lo <= hi, got {r!r}")

    def _feature_steps(self, kind: str) -> list:
        if kind == "real":
            return [("features", SummaryFeatures()), ("scale", StandardScaler())]
        if kind == "symbol":
            tfidf = TfidfVectorizer(analyzer=partial(symbol_ngrams, ngram_range=tuple(self.ngram_range)))
        else:
            tfidf = TfidfVectorizer(token_pattern=_WORD_PATTERN, ngram_range=tuple(self.ngram_range))
        return [("tfidf", tfidf)]


class FeatureClassifier(FeatureInputMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression on fixed-length features of each sequence.

    - Real-valued sequences ``(T_i, d)``: six summary statistics per channel
      (mean, std, min, max, last value, least-squares slope against the step
      index; see :func:`~seqbench.models.baseline._features.summary_features`),
      standardised, into logistic regression.
    - Symbol-id sequences: TF-IDF over symbol n-grams (``ngram_range``),
      into logistic regression.
    - Text (a list of strings): TF-IDF over the *words of the raw strings*
      (scikit-learn's ``TfidfVectorizer`` with lower-casing and the pattern
      ``\\b\\w+\\b``), not over seqbench's Tokenizer ids: the vectorizer keeps
      every word it saw, so no word is lost to ``<unk>``, and n-grams are its
      own. The strings are validated by the data contract but never
      tokenized by it.

    Parameters
    ----------
    C : float > 0, inverse regularisation strength of the logistic regression
    max_iter : int >= 1, iterations of the logistic regression's solver
    ngram_range : (int, int) tuple or list, smallest and largest n-gram length
        (symbols and text)

    Attributes
    ----------
    classes_ : (n_classes,) the sorted class labels
    pipeline_ : the fitted scikit-learn Pipeline (features → [scaler] → logistic regression)
    n_features_in_ : features per step (1 for symbols and text)
    input_kind_ : "real", "symbol" or "text"
    n_symbols_ : vocabulary size (symbol input only)
    n_iter_ : iterations the logistic regression's solver ran
    """

    capabilities = Capabilities(
        task="classify", family="baseline", input_kinds=frozenset({"real", "symbol", "text"}), probabilistic=True
    )
    _expected_failed_checks = {
        **SEQUENCE_EXPECTED_FAILED_CHECKS,
        "check_classifiers_train": (
            "besides training accuracy (> 0.83 on the blobs read as length-2 sequences, which passes and is "
            "asserted in tests/test_baseline.py) it requires predict(X.T) to raise, but X.T of the (300, 2) "
            "blobs is a valid collection of 2 univariate sequences of length 300"
        ),
    }

    _parameter_constraints = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "ngram_range": [tuple, list],
    }

    def __init__(self, C=1.0, *, max_iter=1000, ngram_range=(1, 1)):
        self.C = C
        self.max_iter = max_iter
        self.ngram_range = ngram_range

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on sequences ``X`` (any form of the data contract) and labels ``y`` (n,)."""
        self._check_ngram_range()
        coll = self._validate_fit_X(X)
        y = check_classification_targets(coll, y, estimator_name=type(self).__name__)
        self.classes_, y_enc = encode_labels(y)
        self.pipeline_ = self._make_pipeline(coll.kind).fit(coll.sequences, y_enc)
        self.n_iter_ = self.pipeline_[-1].n_iter_
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(self._validate_predict_X(X).sequences)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba`, (n, n_classes)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_log_proba(self._validate_predict_X(X).sequences)

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sequence, (n,)."""
        check_is_fitted(self, "pipeline_")
        return self.classes_[self.pipeline_.predict(self._validate_predict_X(X).sequences)]

    def _make_pipeline(self, kind: str) -> Pipeline:
        return Pipeline([*self._feature_steps(kind), ("logreg", LogisticRegression(C=self.C, max_iter=self.max_iter))])
