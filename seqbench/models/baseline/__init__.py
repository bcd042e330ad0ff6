from ._classifier import FeatureClassifier

__all__ = ["FeatureClassifier"]
