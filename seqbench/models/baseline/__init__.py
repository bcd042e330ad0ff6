"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier
from ._forecaster import NaiveForecaster
from ._regressor import FeatureRegressor
from ._tagger import WindowTagger

__all__ = ["FeatureClassifier", "FeatureRegressor", "NaiveForecaster", "WindowTagger"]
