"""Recurrent networks (PyTorch): the estimators, their modules and the shared
training engine (``_engine.Trainer``) that every neural estimator uses.

Besides the estimators, the public hook that code reading a network from
outside (the gradient diagnostics) relies on: an estimator's
``training_batches(X, y)`` and ``initialize(X, y)``, the
:class:`RecurrentEncoder` inside its ``module_``, the
:class:`SequenceBatches` it trains on (``IGNORE_INDEX`` marks padded
targets) and :func:`torch_session` (threads and seed for a block).
"""

from ._batches import IGNORE_INDEX, SequenceBatches
from ._engine import torch_session
from ._estimators import RNNClassifier, RNNRegressor
from ._forecaster import RNNForecaster
from ._language_model import RNNLanguageModel
from ._modules import RecurrentEncoder
from ._tagger import RNNTagger

__all__ = [
    "RNNClassifier",
    "RNNRegressor",
    "RNNForecaster",
    "RNNTagger",
    "RNNLanguageModel",
    "RecurrentEncoder",
    "SequenceBatches",
    "IGNORE_INDEX",
    "torch_session",
]
