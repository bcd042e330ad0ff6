"""What the likelihood classifiers share (after scikit-learn's ``_BaseNB``):
one model per class scores a sequence by ``log p(x | c)``, the class prior
adds ``log P(c)``, and the joint log-likelihood gives ``predict``,
``predict_log_proba`` and ``predict_proba``.

A class using :class:`LikelihoodClassifierMixin` calls
:meth:`~LikelihoodClassifierMixin._fit_classes` in ``fit`` and implements
``_class_log_likelihood(coll) -> (n, n_classes)``; the rest is here, with
the scikit-learn checks such a classifier cannot pass and why.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from sklearn.utils.validation import check_is_fitted

from ..data import SequenceCollection, check_classification_targets
from ._base import SEQUENCE_EXPECTED_FAILED_CHECKS, encode_labels

__all__ = ["LikelihoodClassifierMixin", "LIKELIHOOD_CLASSIFIER_EXPECTED_FAILED_CHECKS"]

LIKELIHOOD_CLASSIFIER_EXPECTED_FAILED_CHECKS: dict[str, str] = {
    **SEQUENCE_EXPECTED_FAILED_CHECKS,
    "check_classifiers_train": (
        "besides training accuracy (> 0.83 on the blobs read as length-2 sequences, which passes and is "
        "asserted in each classifier's own tests) it requires predict(X.T) to raise, but X.T of the "
        "(300, 2) blobs is a valid collection of 2 univariate sequences of length 300"
    ),
}


class LikelihoodClassifierMixin:
    """Predict the class with the largest ``log p(x | c) + log P(c)``.

    Fitted attributes it sets: ``classes_`` (sorted labels) and
    ``class_log_prior_`` ``(n_classes,)`` (log class frequencies).
    """

    _expected_failed_checks = LIKELIHOOD_CLASSIFIER_EXPECTED_FAILED_CHECKS

    def _fit_classes(self, coll: SequenceCollection, y) -> np.ndarray:
        """Validate ``y``, set ``classes_`` and ``class_log_prior_``; return
        ``y`` as int64 indices into ``classes_`` ``(n,)``."""
        y = check_classification_targets(coll, y, estimator_name=type(self).__name__)
        self.classes_, y_enc = encode_labels(y)
        counts = np.bincount(y_enc, minlength=len(self.classes_))
        self.class_log_prior_ = np.log(counts / counts.sum())
        return y_enc

    def _class_log_likelihood(self, coll: SequenceCollection) -> np.ndarray:
        """``log p(x | c)`` (nats) of each sequence under each class model, ``(n, n_classes)``."""
        raise NotImplementedError

    def predict_joint_log_proba(self, X) -> np.ndarray:
        """``log p(x | c) + log P(c)`` (nats) of each sequence, ``(n, n_classes)``, columns in ``classes_`` order."""
        check_is_fitted(self, "classes_")
        return self._class_log_likelihood(self._validate_predict_X(X)) + self.class_log_prior_

    def predict_log_proba(self, X) -> np.ndarray:
        """Log posterior class probabilities ``(n, n_classes)``."""
        joint = self.predict_joint_log_proba(X)
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        """Posterior class probabilities ``(n, n_classes)``; rows sum to 1."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X) -> np.ndarray:
        """Most probable class of each sequence ``(n,)``."""
        best = np.argmax(self.predict_joint_log_proba(X), axis=1)  # checks that the estimator is fitted
        return self.classes_[best]
