from ._classifier import HMMClassifier

__all__ = ["HMMClassifier"]
