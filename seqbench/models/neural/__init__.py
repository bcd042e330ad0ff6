from ._estimators import RNNClassifier, RNNRegressor

__all__ = ["RNNClassifier", "RNNRegressor"]
