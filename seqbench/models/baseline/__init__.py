"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier
from ._forecaster import NaiveForecaster

__all__ = ["FeatureClassifier", "NaiveForecaster"]
