"""FeatureRegressor: the floor every many-to-one sequence regressor is
compared with: ridge regression on summary features or TF-IDF."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ...data import check_regression_targets
from .._base import SEQUENCE_EXPECTED_FAILED_CHECKS, Capabilities, SequenceRegressorMixin
from ._classifier import FeatureInputMixin

__all__ = ["FeatureRegressor"]


class FeatureRegressor(FeatureInputMixin, SequenceRegressorMixin, BaseEstimator):
    """Ridge regression on fixed-length features of each sequence.

    The same features as :class:`FeatureClassifier`: six standardised summary
    statistics per channel (mean, std, min, max, last value, slope) for real
    sequences, TF-IDF over symbol n-grams or over the words of raw text.

    Parameters
    ----------
    alpha : float >= 0, ridge penalty
    ngram_range : (int, int), smallest and largest n-gram length (symbols, text)

    Attributes
    ----------
    pipeline_ : the fitted scikit-learn Pipeline (features → [scaler] → ridge)
    n_features_in_, input_kind_; n_symbols_, vocabulary_ (symbols only; see SequenceInputMixin)
    """

    capabilities = Capabilities(
        task="regress", family="baseline", input_kinds=frozenset({"real", "symbol", "text"}), probabilistic=False
    )
    _expected_failed_checks = SEQUENCE_EXPECTED_FAILED_CHECKS
    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "ngram_range": [tuple, list],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's regression check reads a (200, 10) array as sequences
        # of length 10 whose target depends on one fixed step; order-free
        # summary statistics cannot single out a step (R^2 about 0.1 there),
        # which is what a floor model is for. The check's other parts run.
        tags.regressor_tags.poor_score = True
        return tags

    def __init__(self, alpha=1.0, *, ngram_range=(1, 1)):
        self.alpha = alpha
        self.ngram_range = ngram_range

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit on sequences ``X`` (any form of the data contract) and targets ``y`` (n,)."""
        coll = self._validate_fit_X(X)
        y = check_regression_targets(coll, y, estimator_name=type(self).__name__)
        steps = [*self._feature_steps(coll.kind), ("ridge", Ridge(alpha=self.alpha))]
        self.pipeline_ = Pipeline(steps).fit(coll.sequences, y)
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted target of each sequence, (n,)."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(self._validate_predict_X(X).sequences)
