"""Autoregressive models: AR / VAR fitted with statsmodels, and for symbols
the n-gram Markov chain (the autoregressive model of text)."""

from ._classifier import ARClassifier
from ._forecaster import ARForecaster
from ._ngram_lm import NGramLanguageModel

__all__ = ["ARClassifier", "ARForecaster", "NGramLanguageModel"]
