"""What every seqbench forecaster shares (the many-to-many, shifted "forecast" task).

A forecaster learns from a collection of series with ``fit(X)`` (no ``y``)
and forecasts the ``horizon`` steps after the end of each history in ``X``
with ``predict(X)``, conditioning on that history with the fitted parameters
(never refitting). Shapes:

- ``fit(X)`` / ``predict(X)``: a sequence collection of series (a list of
  ``(T_i,)`` or ``(T_i, d)`` arrays, or a 3-D array ``(n, T, d)``). A single
  series is a collection of one: a 1-D array, a list of numbers, a pandas
  Series, a pandas DataFrame, **or a 2-D array, which a forecaster reads as
  one series of shape ``(T, d)``** (time along the first axis, features along
  the second; unlike classifiers, which read a 2-D array as ``n`` univariate
  sequences). Pass several equal-length univariate series as a list or as a
  3-D array ``(n, T, 1)``.
- ``predict(X)`` -> float64 ``(n_series, horizon, n_features)``.
- ``predict_interval(X, coverage=0.9)`` -> ``(lower, upper)``, each
  ``(n_series, horizon, n_features)``; only on classes whose
  ``capabilities.probabilistic`` is true.
- ``score(X, Y)`` -> negative MASE of ``predict(X)`` against the actual
  futures ``Y`` ``(n_series, horizon, n_features)`` (or ``(n_series, horizon)``
  for univariate series), scaled by each history's in-sample naive error with
  period 1, so that larger is better and scores of different models (and of
  one model with different seasonal settings) are on the same scale.

A concrete forecaster implements ``_fit(coll)`` (learn from a validated
:class:`~seqbench.data.SequenceCollection`, returning nothing), ``_forecast``
(and ``_forecast_interval`` when probabilistic) and ``_min_history()``.
"""

from __future__ import annotations

import numbers
from typing import ClassVar

import numpy as np
from scipy.stats import norm
from sklearn.utils._param_validation import Interval
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..data import SequenceCollection, SeriesTooShortError, check_sequences
from ..metrics import mase
from ._base import SequenceInputMixin

__all__ = ["ForecasterMixin", "as_series_collection", "gaussian_interval", "FORECAST_EXPECTED_FAILED_CHECKS"]

# scikit-learn's estimator checks assume fit(X, y) with one target per row of
# X and predict returning one value per row. A forecaster reads a 2-D array as
# ONE series (T, d) (so check_n_features_in passes), takes no y, returns
# (n_series, horizon, n_features) and scores against futures of that shape.
# Measured with check_estimator on all four forecasters; every other check passes.
FORECAST_EXPECTED_FAILED_CHECKS: dict[str, str] = {
    "check_n_features_in_after_fitting": (
        "predict does reject a different number of features, but with seqbench's message naming the "
        "sequence ('sequence 0 has 2 features per step, but the estimator was fitted with 3')"
    ),
    "check_fit1d": "a 1-D array is one univariate series to a forecaster: fitting on it is valid, not an error",
    "check_fit2d_predict1d": (
        "a 1-D array is one univariate series: predict accepts it after a univariate fit and rejects it "
        "after a multivariate one with seqbench's feature-count message, not 'Reshape your data'"
    ),
    "check_fit2d_1sample": (
        "a (1, d) array is one series of a single step; each forecaster rejects it as shorter than its "
        "order, window or season needs, not with scikit-learn's 'n_samples=1' wording"
    ),
    "check_fit_score_takes_y": (
        "score(X, Y) compares forecasts with the futures Y of shape (n_series, horizon, n_features); "
        "the check passes one target per row of X"
    ),
    "check_pipeline_consistency": "it calls score(X, y) with one target per row of X (see check_fit_score_takes_y)",
    "check_methods_subset_invariance": (
        "a 2-D array is one (T, d) series: a subset of its rows is a shorter history with another forecast"
    ),
    "check_methods_sample_order_invariance": (
        "a 2-D array is one (T, d) series: reordering its rows reorders time, which changes the forecast"
    ),
}


def as_series_collection(X):
    """Turn a single series into a collection of one; leave collections alone.

    A 1-D or 2-D numeric array (``(T,)`` or ``(T, d)``), a list or tuple of
    plain numbers, a pandas Series and a pandas DataFrame are one series. Lists
    of arrays, 3-D arrays, object arrays and SequenceCollections pass through
    unchanged (the data contract validates them).
    """
    if isinstance(X, SequenceCollection):
        return X
    if hasattr(X, "to_numpy") and getattr(X, "ndim", 0) in (1, 2):  # pandas Series / DataFrame
        return [X.to_numpy()]
    if isinstance(X, (list, tuple)) and len(X) > 0 and all(isinstance(v, numbers.Real) for v in X):
        return [np.asarray(X, dtype=np.float64)]
    if isinstance(X, np.ndarray) and X.ndim in (1, 2) and X.dtype != object:
        if X.ndim == 2 and X.shape[1] == 0:
            raise ValueError(
                f"X: 0 feature(s) (shape={X.shape}) while a minimum of 1 is required: "
                "a 2-D array is one series with time steps as rows and features as columns"
            )
        return [X]
    return X


class ForecasterMixin(SequenceInputMixin):
    """fit/predict/score/predict_interval for forecasters; see the module docstring.

    Subclasses declare ``horizon`` in ``__init__`` and list their other
    parameters in ``_parameter_constraints`` (merged with ``horizon``'s).
    """

    _expected_failed_checks: ClassVar[dict[str, str]] = FORECAST_EXPECTED_FAILED_CHECKS
    _parameter_constraints: ClassVar[dict] = {"horizon": [Interval(numbers.Integral, 1, None, closed="left")]}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags

    # ----------------------------------------------------------------- fit
    def _validate_fit_series(self, X) -> SequenceCollection:
        """Validate training series (real-valued only; integers are read as
        values, not symbols). Sets no attribute: ``_set_fitted_input`` does,
        once the whole fit has succeeded, so a failed fit leaves nothing
        half-fitted."""
        return check_sequences(as_series_collection(X), kind="real", max_abs=self._max_abs_input)

    def _validate_longest_series(self, X) -> tuple[SequenceCollection, int, np.ndarray]:
        """The statistical forecasters fit one contiguous series (statsmodels
        takes one): the validated collection, the index of its longest
        series and that series ``(T, d)``."""
        coll = self._validate_fit_series(X)
        index = int(np.argmax(coll.lengths))
        return coll, index, coll.sequences[index]

    def _set_fitted_input(self, coll: SequenceCollection) -> None:
        self.input_kind_ = "real"
        self.n_features_in_ = coll.n_features
        self.horizon_ = int(self.horizon)

    # ------------------------------------------------------------- predict
    def _validate_histories(self, X) -> SequenceCollection:
        """Validate histories against what ``fit`` saw and the model's minimum
        history length (raising with the offending history's index)."""
        check_is_fitted(self, "input_kind_")
        coll = self._validate_predict_X(as_series_collection(X))
        need = self._min_history()
        short = np.flatnonzero(coll.lengths < need)
        if short.size:
            i = int(short[0])
            reason = f"{self._describe()} needs at least {need} steps ({self._min_history_reason()})"
            others = f" (and {short.size - 1} more)" if short.size > 1 else ""
            raise SeriesTooShortError(
                f"X: history {i} has {coll.lengths[i]} steps{others} but {self._describe()} needs at least {need} "
                f"({self._min_history_reason()}); pass longer histories",
                series=short, reason=reason,
            )
        return coll

    def predict(self, X) -> np.ndarray:
        """Forecast the ``horizon`` steps after each history in ``X``.

        Returns float64 ``(n_series, horizon, n_features)``.
        """
        coll = self._validate_histories(X)
        return self._forecast(coll)

    def _has_intervals(self) -> bool:
        return self.capabilities.probabilistic

    @available_if(_has_intervals)
    def predict_interval(self, X, coverage: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction intervals for each forecast step.

        coverage : float in (0, 1), the nominal probability that the actual
            value falls inside its interval.

        Returns ``(lower, upper)``, each float64 ``(n_series, horizon, n_features)``.
        """
        if not isinstance(coverage, numbers.Real) or not 0.0 < float(coverage) < 1.0:
            raise ValueError(f"coverage must be a number strictly between 0 and 1, got {coverage!r}")
        coll = self._validate_histories(X)
        return self._forecast_interval(coll, float(coverage))

    def score(self, X, Y, sample_weight=None) -> float:
        """Negative MASE (period 1) of ``predict(X)`` against the futures ``Y``.

        Y : array ``(n_series, horizon, n_features)``, or ``(n_series, horizon)``
            for univariate series (for a single history, ``(horizon,)`` or
            ``(horizon, n_features)`` also work).
        Larger is better (0 is perfect), as scikit-learn's model selection expects.
        """
        if sample_weight is not None:
            raise ValueError("score does not support sample_weight for forecasters")
        coll = self._validate_histories(X)
        pred = self._forecast(coll)
        return -mase(_futures(Y, pred.shape), pred, y_train=coll.sequences, season=1)

    # ----------------------------------------------------------- messages
    def _describe(self) -> str:
        return type(self).__name__

    def _min_history_reason(self) -> str:
        return "the fitted model's order"


def _futures(Y, shape: tuple[int, int, int]) -> np.ndarray:
    """The actual futures ``Y`` as ``(n_series, horizon, n_features)`` matching ``shape``."""
    n, h, d = shape
    arr = np.asarray(Y)
    if np.iscomplexobj(arr):
        raise ValueError("Y holds complex values; futures must be real numbers")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"Y must hold real numbers: {exc}") from exc
    if not np.isfinite(arr).all():
        raise ValueError("Y holds NaN or inf; every future step needs a finite value")
    if arr.ndim == 3:
        out = arr
    elif arr.ndim == 2 and arr.shape == (n, h) and d == 1:
        out = arr[:, :, None]
    elif arr.ndim == 2 and n == 1 and arr.shape == (h, d):
        out = arr[None]
    elif arr.ndim == 1 and n == 1 and d == 1:
        out = arr[None, :, None]
    else:
        out = arr
    if out.shape != shape:
        raise ValueError(
            f"Y has shape {arr.shape} but the forecasts have shape {shape} "
            "(n_series, horizon, n_features); pass one future of length horizon per history"
        )
    return out


def gaussian_interval(mean: np.ndarray, std: np.ndarray, coverage: float) -> tuple[np.ndarray, np.ndarray]:
    """``mean ∓ z * std`` with ``z`` the standard normal quantile at ``(1 + coverage) / 2``."""
    z = norm.ppf(0.5 + coverage / 2.0)
    return mean - z * std, mean + z * std
