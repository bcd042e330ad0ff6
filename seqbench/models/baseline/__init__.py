"""Baselines: simple scikit-learn models that give every comparison a floor."""

from ._classifier import FeatureClassifier
from ._forecaster import NaiveForecaster
from ._mean import MeanRegressor
from ._neighbors import NearestNeighborClassifier
from ._regressor import FeatureRegressor
from ._smoothing import ETSForecaster, ThetaForecaster
from ._tagger import WindowTagger

__all__ = [
    "FeatureClassifier",
    "FeatureRegressor",
    "MeanRegressor",
    "NearestNeighborClassifier",
    "NaiveForecaster",
    "ETSForecaster",
    "ThetaForecaster",
    "WindowTagger",
]
