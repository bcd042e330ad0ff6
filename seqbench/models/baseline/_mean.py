"""The trivial baseline of the long-range regression task.

``MeanRegressor`` predicts the training mean of ``y`` for every sequence:
the "no memory at all" reference of the adding problem (expected MSE
``Var(U_1 + U_2) = 1/6``), a registered baseline so the long-range suite
runs it as a job beside the recurrent models; scikit-learn's
``DummyRegressor`` cannot read sequence collections.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ...data import check_regression_targets
from .._base import SEQUENCE_EXPECTED_FAILED_CHECKS, Capabilities, SequenceInputMixin

__all__ = ["MeanRegressor"]


class MeanRegressor(SequenceInputMixin, RegressorMixin, BaseEstimator):
    """Predict the mean training target for every sequence (R² 0 on the training data).

    Attributes
    ----------
    constant_ : float, the training mean of ``y``
    n_features_in_, input_kind_ : see ``SequenceInputMixin``
    """

    capabilities = Capabilities(task="regress", family="baseline", input_kinds=frozenset({"real", "symbol", "text"}),
                                probabilistic=False)
    _expected_failed_checks = SEQUENCE_EXPECTED_FAILED_CHECKS

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # by design: R² 0, as scikit-learn's DummyRegressor
        return tags

    def fit(self, X, y):
        """Store the mean of ``y`` ``(n,)``; ``X`` is validated, not read."""
        coll = self._validate_fit_X(X)
        self.constant_ = float(check_regression_targets(coll, y, estimator_name=type(self).__name__).mean())
        return self

    def predict(self, X) -> np.ndarray:
        """``constant_`` for each sequence, float64 ``(n,)``."""
        check_is_fitted(self, "constant_")
        return np.full(len(self._validate_predict_X(X)), self.constant_)
