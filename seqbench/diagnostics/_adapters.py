"""How the diagnostics reach an estimator's network: a small protocol.

An estimator the gradient diagnostics can read has

- ``module_``: its fitted ``nn.Module`` whose ``forward(inputs, lengths,
  targets)`` returns ``(output, loss)`` (the engine's contract) and which
  holds exactly one :class:`~seqbench.models.neural._modules.RecurrentEncoder`
  (the recurrence studied);
- ``_gradient_flow_batches(X, y) -> SequenceBatches``: ``X`` and ``y`` turned
  into the module's inputs and targets exactly as ``fit`` encodes them
  (class indices, standardised values, forecasting windows), on the
  module's device.

``RNNClassifier`` and ``RNNRegressor`` implement the hook themselves. For
estimators that do not (yet), :data:`ADAPTERS` maps the class name to a
function ``(estimator, X, y) -> SequenceBatches`` written here from the
estimator's own helpers; moving that function into the class as
``_gradient_flow_batches`` makes the entry unnecessary.

An *unfitted* estimator is studied as ``fit`` would start it: a clone is
fitted under :func:`~seqbench.models.neural._engine.initialise_only`, which
runs the estimator's whole ``fit`` (validation, target encoding, seeding
from ``random_state``, module construction and initialisation) but no epoch.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ..models.neural._batches import SequenceBatches
from ..models.neural._engine import initialise_only
from ..models.neural._modules import RecurrentEncoder

__all__ = ["ADAPTERS", "flow_batches", "initial_estimator", "is_fitted", "recurrent_encoder", "supports"]


def _device(estimator):
    return next(estimator.module_.parameters()).device


def _label_indices(classes: np.ndarray, labels: np.ndarray, what: str) -> np.ndarray:
    index = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
    unknown = np.flatnonzero(classes[index] != labels)
    if unknown.size:
        i = int(unknown[0])
        raise ValueError(f"{what}: label {labels[i]!r} is not one of the classes seen in fit: {classes.tolist()}")
    return index.astype(np.int64)


def _tagger_batches(est, X, Y) -> SequenceBatches:
    """RNNTagger: per-step labels as class indices (its ``fit`` encoding)."""
    from ..models._tagging_base import check_tag_targets, split_steps

    check_is_fitted(est, "module_")
    coll = est._validate_predict_X(X)
    Y = check_tag_targets(coll.lengths, Y, fitting=False, estimator_name=type(est).__name__)
    flat = _label_indices(est.classes_, np.concatenate(Y), "Y")
    return SequenceBatches(coll.sequences, split_steps(flat, coll.lengths), device=_device(est))


def _forecaster_batches(est, X, y=None) -> SequenceBatches:
    """RNNForecaster: every window of every series of ``X`` (standardised with
    the fitted ``mean_`` / ``scale_``) and the step(s) after it, as in ``fit``;
    ``y`` is ignored, as ``fit`` ignores it."""
    check_is_fitted(est, "module_")
    coll = est._validate_fit_series(X)
    if coll.n_features != est.n_features_in_:
        raise ValueError(f"X has {coll.n_features} features per step, but the forecaster was fitted with "
                         f"{est.n_features_in_}")
    scaled = [(s - est.mean_) / est.scale_ for s in coll.sequences]
    inputs, targets, _ = est._windows(scaled)
    return SequenceBatches(list(inputs), targets, device=_device(est))


# estimator class name -> batches function, for classes without the hook
ADAPTERS = {"RNNTagger": _tagger_batches, "RNNForecaster": _forecaster_batches}


def supports(estimator) -> bool:
    """Whether the diagnostics can read this estimator (hook or adapter)."""
    return hasattr(estimator, "_gradient_flow_batches") or type(estimator).__name__ in ADAPTERS


def flow_batches(estimator, X, y) -> SequenceBatches:
    """``(X, y)`` as the fitted estimator's module reads them in training."""
    if hasattr(estimator, "_gradient_flow_batches"):
        return estimator._gradient_flow_batches(X, y)
    try:
        return ADAPTERS[type(estimator).__name__](estimator, X, y)
    except KeyError:
        raise TypeError(
            f"{type(estimator).__name__} is not a recurrent estimator the gradient diagnostics can read: it needs "
            "a module_ with one RecurrentEncoder and a _gradient_flow_batches(X, y) method "
            f"(supported: RNNClassifier, RNNRegressor, {', '.join(ADAPTERS)})"
        ) from None


def is_fitted(estimator) -> bool:
    return hasattr(estimator, "module_")


def initial_estimator(estimator, X, y):
    """A clone of ``estimator`` "fitted" on ``(X, y)`` with zero epochs: its
    module holds the initial weights ``fit`` would draw from ``random_state``."""
    if not supports(estimator):
        flow_batches(estimator, X, y)  # raises the TypeError that says what is missing
    fresh = clone(estimator)
    task = getattr(getattr(fresh, "capabilities", None), "task", None)
    with initialise_only():
        if task in ("forecast", "language_model"):
            fresh.fit(X)
        else:
            fresh.fit(X, y)
    return fresh


def recurrent_encoder(module) -> RecurrentEncoder:
    """The one :class:`RecurrentEncoder` inside ``module``."""
    encoders = [m for m in module.modules() if isinstance(m, RecurrentEncoder)]
    if len(encoders) != 1:
        raise TypeError(
            f"{type(module).__name__} holds {len(encoders)} RecurrentEncoder modules; the gradient diagnostics "
            "study a module with exactly one"
        )
    return encoders[0]
