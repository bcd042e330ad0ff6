"""Recurrent networks (PyTorch): the estimators, their modules and the shared
training engine (``_engine.Trainer``) that every neural estimator uses."""

from ._estimators import RNNClassifier, RNNRegressor
from ._forecaster import RNNForecaster
from ._language_model import RNNLanguageModel
from ._tagger import RNNTagger

__all__ = ["RNNClassifier", "RNNRegressor", "RNNForecaster", "RNNTagger", "RNNLanguageModel"]
