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

``RNNClassifier``, ``RNNRegressor``, ``RNNTagger`` and ``RNNForecaster``
implement the hook themselves, so nothing here is written per estimator.
(``RNNLanguageModel`` has none: its module carries a state from one time
chunk to the next and returns it with the logits.)

An *unfitted* estimator is studied as ``fit`` would start it: a clone is
fitted under :func:`~seqbench.models.neural._engine.initialise_only`, which
runs the estimator's whole ``fit`` (validation, target encoding, seeding
from ``random_state``, module construction and initialisation) but no epoch.
"""

from __future__ import annotations

from sklearn.base import clone

from ..models.neural._batches import SequenceBatches
from ..models.neural._engine import initialise_only
from ..models.neural._estimator_base import NeuralEstimatorMixin
from ..models.neural._modules import RecurrentEncoder

__all__ = ["flow_batches", "initial_estimator", "is_fitted", "recurrent_encoder", "supports"]


def supports(estimator) -> bool:
    """Whether the diagnostics can read this estimator (it has the hook)."""
    return hasattr(estimator, "_gradient_flow_batches")


def flow_batches(estimator, X, y) -> SequenceBatches:
    """``(X, y)`` as the fitted estimator's module reads them in training."""
    if not supports(estimator):
        raise TypeError(
            f"{type(estimator).__name__} is not a recurrent estimator the gradient diagnostics can read: it needs "
            "a module_ with one RecurrentEncoder and a _gradient_flow_batches(X, y) method "
            "(supported: RNNClassifier, RNNRegressor, RNNTagger, RNNForecaster)"
        )
    return estimator._gradient_flow_batches(X, y)


def is_fitted(estimator) -> bool:
    return hasattr(estimator, "module_")


def initial_estimator(estimator, X, y):
    """A clone of ``estimator`` "fitted" on ``(X, y)`` with zero epochs: its
    module holds the initial weights ``fit`` would draw from ``random_state``."""
    if not (supports(estimator) or isinstance(estimator, NeuralEstimatorMixin)):
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
