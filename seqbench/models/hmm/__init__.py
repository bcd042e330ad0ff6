"""Hidden Markov models (hmmlearn) behind seqbench's estimator interface.

``_fitting`` holds the machinery every HMM estimator shares (emission
models with a covariance floor, left-right topology, restarts, convergence
reports); each estimator module only validates, dispatches and stores.
"""

from ._classifier import HMMClassifier
from ._fitting import FitReport, HMMFitError
from ._forecaster import HMMForecaster
from ._language_model import HMMLanguageModel
from ._tagger import HMMTagger

__all__ = [
    "HMMClassifier",
    "HMMForecaster",
    "HMMTagger",
    "HMMLanguageModel",
    "FitReport",
    "HMMFitError",
]
