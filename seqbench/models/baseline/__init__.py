"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier
from ._forecaster import NaiveForecaster
from ._mean import MeanRegressor
from ._regressor import FeatureRegressor
from ._tagger import WindowTagger

__all__ = ["FeatureClassifier", "FeatureRegressor", "MeanRegressor", "NaiveForecaster", "WindowTagger"]
