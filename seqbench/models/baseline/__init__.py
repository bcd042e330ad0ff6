"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier
from ._forecaster import NaiveForecaster
from ._tagger import WindowTagger

__all__ = ["FeatureClassifier", "NaiveForecaster", "WindowTagger"]
