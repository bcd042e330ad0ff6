from ._classifier import ARClassifier

__all__ = ["ARClassifier"]
