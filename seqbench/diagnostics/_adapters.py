"""How the diagnostics reach an estimator's network: a small protocol.

An estimator the gradient diagnostics can read has

- ``module_``: its fitted ``nn.Module`` whose ``forward(inputs, lengths,
  targets)`` returns ``(output, loss)`` (the engine's contract) and which
  holds exactly one :class:`~seqbench.models.neural.RecurrentEncoder`
  (the recurrence studied);
- ``training_batches(X, y) -> SequenceBatches``: ``X`` and ``y`` turned
  into the module's inputs and targets exactly as ``fit`` encodes them
  (class indices, standardised values, forecasting windows), on the
  module's device.

``RNNClassifier``, ``RNNRegressor``, ``RNNTagger`` and ``RNNForecaster``
implement the hook themselves, so nothing here is written per estimator.
(``RNNLanguageModel`` has none: its module carries a state from one time
chunk to the next and returns it with the logits.)

An *unfitted* estimator is studied as ``fit`` would start it: a clone's
``initialize(X, y)`` runs the estimator's whole ``fit`` (validation, target
encoding, seeding from ``random_state``, module construction and
initialisation) but no epoch.
"""

from __future__ import annotations

from sklearn.base import clone

from ..models.neural import RecurrentEncoder, SequenceBatches

__all__ = ["flow_batches", "initial_estimator", "is_fitted", "recurrent_encoder", "supports"]


def supports(estimator) -> bool:
    """Whether the diagnostics can read this estimator (it has the hook)."""
    return hasattr(estimator, "training_batches")


def flow_batches(estimator, X, y) -> SequenceBatches:
    """``(X, y)`` as the fitted estimator's module reads them in training."""
    if not supports(estimator):
        raise TypeError(
            f"{type(estimator).__name__} is not a recurrent estimator the gradient diagnostics can read: it needs "
            "a module_ with one RecurrentEncoder and a training_batches(X, y) method "
            "(supported: RNNClassifier, RNNRegressor, RNNTagger, RNNForecaster)"
        )
    return estimator.training_batches(X, y)


def is_fitted(estimator) -> bool:
    return hasattr(estimator, "module_")


def initial_estimator(estimator, X, y):
    """A clone of ``estimator`` "fitted" on ``(X, y)`` with zero epochs: its
    module holds the initial weights ``fit`` would draw from ``random_state``."""
    if not (supports(estimator) or hasattr(estimator, "initialize")):
        flow_batches(estimator, X, y)  # raises the TypeError that says what is missing
    return clone(estimator).initialize(X, y)


def recurrent_encoder(module) -> RecurrentEncoder:
    """The one :class:`RecurrentEncoder` inside ``module``."""
    encoders = [m for m in module.modules() if isinstance(m, RecurrentEncoder)]
    if len(encoders) != 1:
        raise TypeError(
            f"{type(module).__name__} holds {len(encoders)} RecurrentEncoder modules; the gradient diagnostics "
            "study a module with exactly one"
        )
    return encoders[0]
