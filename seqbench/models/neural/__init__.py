"""Recurrent networks (PyTorch): the estimators, their modules and the shared
training engine (``_engine.Trainer``) that every neural estimator uses."""

from ._estimators import RNNClassifier, RNNRegressor

__all__ = ["RNNClassifier", "RNNRegressor"]
