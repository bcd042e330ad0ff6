"""seqbench estimators: one subpackage per model family, and a registry of
ordinary importable classes by name (the runner finds models through it)."""

from __future__ import annotations

import difflib

from .autoregressive import ARClassifier, ARForecaster, NGramLanguageModel
from .baseline import (
    ETSForecaster,
    FeatureClassifier,
    FeatureRegressor,
    MeanRegressor,
    NaiveForecaster,
    NearestNeighborClassifier,
    ThetaForecaster,
    WindowTagger,
)
from .hmm import HMMClassifier, HMMForecaster, HMMLanguageModel, HMMTagger
from .neural import RNNClassifier, RNNForecaster, RNNLanguageModel, RNNRegressor, RNNTagger

__all__ = [
    "HMMClassifier",
    "ARClassifier",
    "RNNClassifier",
    "RNNRegressor",
    "FeatureClassifier",
    "FeatureRegressor",
    "MeanRegressor",
    "NearestNeighborClassifier",
    "ARForecaster",
    "HMMForecaster",
    "RNNForecaster",
    "NaiveForecaster",
    "ETSForecaster",
    "ThetaForecaster",
    "HMMTagger",
    "RNNTagger",
    "WindowTagger",
    "NGramLanguageModel",
    "HMMLanguageModel",
    "RNNLanguageModel",
    "REGISTRY",
    "all_estimators",
    "get_estimator",
]

REGISTRY: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        HMMClassifier,
        ARClassifier,
        RNNClassifier,
        RNNRegressor,
        FeatureClassifier,
        FeatureRegressor,
        MeanRegressor,
        NearestNeighborClassifier,
        ARForecaster,
        HMMForecaster,
        RNNForecaster,
        NaiveForecaster,
        ETSForecaster,
        ThetaForecaster,
        HMMTagger,
        RNNTagger,
        WindowTagger,
        NGramLanguageModel,
        HMMLanguageModel,
        RNNLanguageModel,
    )
}


def all_estimators(*, task: str | None = None, family: str | None = None) -> list[type]:
    """Registered estimator classes, optionally filtered by task and family."""
    return [
        cls
        for cls in REGISTRY.values()
        if (task is None or cls.capabilities.task == task)
        and (family is None or cls.capabilities.family == family)
    ]


def get_estimator(name: str) -> type:
    """The estimator class registered under ``name``; close matches on a miss."""
    try:
        return REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, REGISTRY, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(sorted(REGISTRY))}"
        raise KeyError(f"unknown model {name!r}{hint}") from None
