"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier

__all__ = ["FeatureClassifier"]
