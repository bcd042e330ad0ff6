"""Tiny datasets and estimators for the runner's tests (tests/test_bench_*.py).

Suites name them by import path (``bench_helpers:MeanClassifier``), as a user
would name their own models: the registry stays the lead's. Worker processes
import this module through the ``PYTHONPATH`` the runner gives them.

It imports neither torch nor seqbench's models and datasets, so the worker
processes of these tests start in a fraction of a second's CPU: the records
and capabilities below are duck-typed like ``seqbench.datasets.Dataset`` and
``seqbench.models._base.Capabilities`` (the runner reads only their fields).
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.linear_model import LogisticRegression, Ridge


class Capabilities(NamedTuple):
    task: str
    family: str
    input_kinds: frozenset
    probabilistic: bool


@dataclass(frozen=True, eq=False)
class Dataset:
    name: str
    task: str
    X_train: list
    y_train: object
    X_test: list
    y_test: object
    meta: dict = field(default_factory=dict)


def _two_class_sequences(rng, n, length, d=2):
    y = np.arange(n) % 2
    X = [rng.normal(size=(length, d)) + 0.8 * label for label in y]
    return X, y


def tiny_classify(n_train: int = 40, n_test: int = 20, length: int = 6, random_state: int = 0) -> Dataset:
    """Two classes of (length, 2) Gaussian sequences whose means differ by 0.8."""
    rng = np.random.default_rng(random_state)
    X_train, y_train = _two_class_sequences(rng, n_train, length)
    X_test, y_test = _two_class_sequences(rng, n_test, length)
    return Dataset("tiny_classify", "classify", X_train, y_train, X_test, y_test, {"oracle": {"accuracy": 0.9}})


def tiny_regress(n_train: int = 40, n_test: int = 20, length: int = 6, random_state: int = 0) -> Dataset:
    """Target = mean of the sequence plus a little noise."""
    rng = np.random.default_rng(random_state)

    def draw(n):
        X = [rng.normal(size=(length, 1)) for _ in range(n)]
        return X, np.array([x.mean() for x in X]) + 0.01 * rng.normal(size=n)

    return Dataset("tiny_regress", "regress", *draw(n_train), *draw(n_test), {})


def tiny_forecast(n_series: int = 3, length: int = 40, horizon: int = 4, short: int = 0) -> Dataset:
    """Sine waves with different phases; the last ``horizon`` steps are held out.
    ``short`` > 0 cuts the first series' history to its last ``short`` steps
    (a series too short for some models)."""
    t = np.arange(length + horizon)
    full = [np.sin(0.4 * t + p)[:, None] + 0.05 * t[:, None] for p in range(n_series)]
    hist = [s[:length] for s in full]
    if short:
        hist[0] = hist[0][-short:]
    truth = np.stack([s[length:] for s in full])
    return Dataset("tiny_forecast", "forecast", hist, None, hist, truth, {"horizon": horizon, "season": 1})


def tiny_text() -> Dataset:
    """A handful of strings: a dataset of text that real-valued models cannot read."""
    X = ["a b", "b c", "a c", "c a"] * 3
    return Dataset("tiny_text", "classify", X, np.arange(12) % 2, X, np.arange(12) % 2, {})


def not_deterministic(random_state: int = 0) -> Dataset:
    """Different data on every call: the runner must refuse to key jobs on it."""
    return tiny_classify(random_state=int(time.time_ns() % 1_000_000))


# ---------------------------------------------------------------- estimators
def _means(X) -> np.ndarray:
    return np.stack([np.asarray(x, dtype=float).reshape(len(x), -1).mean(axis=0) for x in X])


class MeanClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression on each sequence's mean (real sequences only)."""

    capabilities = Capabilities("classify", "baseline", frozenset({"real"}), True)

    def __init__(self, C: float = 1.0, random_state=None):
        self.C = C
        self.random_state = random_state

    def fit(self, X, y):
        self.model_ = LogisticRegression(C=self.C, random_state=self.random_state).fit(_means(X), y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(_means(X))

    def predict_proba(self, X):
        return self.model_.predict_proba(_means(X))


class NoisyMeanClassifier(MeanClassifier):
    """MeanClassifier that flips labels at random (its score depends on random_state)."""

    capabilities = Capabilities("classify", "neural", frozenset({"real"}), True)

    def predict(self, X):
        pred = super().predict(X)
        flip = np.random.default_rng(self.random_state).random(len(pred)) < 0.3
        return np.where(flip, 1 - pred, pred)


class MeanRegressor(RegressorMixin, BaseEstimator):
    """Ridge regression on each sequence's mean."""

    capabilities = Capabilities("regress", "baseline", frozenset({"real"}), False)

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, X, y):
        self.model_ = Ridge(alpha=self.alpha).fit(_means(X), y)
        return self

    def predict(self, X):
        return self.model_.predict(_means(X))


class LastValueForecaster(BaseEstimator):
    """Repeats the last value of each history (the naive forecast)."""

    capabilities = Capabilities("forecast", "baseline", frozenset({"real"}), False)

    def __init__(self, horizon: int = 1):
        self.horizon = horizon

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.stack([np.repeat(np.asarray(x, float).reshape(len(x), -1)[-1:], self.horizon, axis=0) for x in X])


class Misbehaving(ClassifierMixin, BaseEstimator):
    """Fails on purpose, in one of six ways, inside ``fit`` or ``predict_proba``.

    mode : "raise" (ValueError), "nan" (NaN probabilities), "sleep" (sleeps
        ``seconds`` in fit: for timeouts), "exit" (``os._exit(3)``: kills its
        worker process), "sysexit" (``sys.exit(0)``), "segfault" (reads
        address 0: the process dies with SIGSEGV).
    """

    capabilities = Capabilities("classify", "baseline", frozenset({"real"}), True)

    def __init__(self, mode: str = "raise", seconds: float = 30.0):
        self.mode = mode
        self.seconds = seconds

    def fit(self, X, y):
        if self.mode == "raise":
            raise ValueError("deliberate failure in fit")
        if self.mode == "sleep":
            time.sleep(self.seconds)
        if self.mode == "exit":
            os._exit(3)
        if self.mode == "sysexit":
            sys.exit(0)
        if self.mode == "segfault":
            faulthandler.disable()  # die quietly, as a crash in a compiled extension would
            ctypes.string_at(0)
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


class SlowClassifier(MeanClassifier):
    """MeanClassifier that sleeps ``seconds`` in fit (for the kill-and-resume test)."""

    def __init__(self, C: float = 1.0, random_state=None, seconds: float = 0.3):
        super().__init__(C=C, random_state=random_state)
        self.seconds = seconds

    def fit(self, X, y):
        time.sleep(self.seconds)
        return super().fit(X, y)


class ThreadProbe(MeanClassifier):
    """MeanClassifier that records, in ``history_`` (stored as the job's
    learning curve), the thread limits its worker applied."""

    def fit(self, X, y):
        import torch
        from threadpoolctl import threadpool_info

        pools = threadpool_info()
        self.history_ = [{
            "torch_threads": torch.get_num_threads(),
            "blas_threads": max(p["num_threads"] for p in pools) if pools else None,
            "omp_env": os.environ.get("OMP_NUM_THREADS"),
        }]
        return super().fit(X, y)


class PickyClassifier(MeanClassifier):
    """MeanClassifier that refuses ``C > 1`` in fit (a tuning trial that fails)."""

    def fit(self, X, y):
        if self.C > 1:
            raise ValueError(f"deliberate failure: C={self.C} > 1")
        return super().fit(X, y)
