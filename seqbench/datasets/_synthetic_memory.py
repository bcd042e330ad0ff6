"""Long-range memory tasks with sequence length ``T`` as an option.

- The adding problem (Hochreiter & Schmidhuber, 1997, in the form of
  Le, Jaitly & Hinton, 2015): inputs ``(T, 2)``; column 0 holds values drawn
  uniformly from [0, 1], column 1 marks two steps with 1 (one in the first
  half, one in the second); the target is the sum of the two marked values.
  A model that remembers both values scores MSE 0; predicting the training
  mean scores about ``Var(U_1 + U_2) = 1/6`` (the trivial baseline).
- The copy-memory task (Hochreiter & Schmidhuber, 1997; Arjovsky, Shah &
  Bengio, 2016): symbol ids, ``0`` blank, ``1..n_symbols`` data,
  ``n_symbols + 1`` the delimiter. Input: ``n_memorize`` data symbols, ``T - 1``
  blanks, the delimiter, ``n_memorize`` blanks (``T + 2 n_memorize`` steps).
  Per-step target (tagging): blank everywhere except the last
  ``n_memorize`` steps, which repeat the data symbols. A perfect memory
  scores accuracy 1; the memoryless baseline (blank, then the most frequent
  training data symbol) scores ``(T + n_memorize) / (T + 2 n_memorize)``
  plus about ``1 / n_symbols`` of the copy steps.
"""

from __future__ import annotations

import numpy as np

from ._dataset import Dataset

__all__ = ["make_adding_problem", "make_copy_memory"]


def _check_positive(**values) -> None:
    for key, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")


def make_adding_problem(*, T=50, n_train=5000, n_test=1000, random_state=0) -> Dataset:
    """Regression: ``X`` is ``(T, 2)`` float64, ``y`` the sum of the marked values."""
    options = dict(locals())
    _check_positive(T=T, n_train=n_train, n_test=n_test)
    if T < 2:
        raise ValueError(f"T must be >= 2 so that each half holds a marker, got {T}")
    rng = np.random.default_rng(random_state)
    n, half = n_train + n_test, T // 2
    X = np.zeros((n, T, 2))
    X[:, :, 0] = rng.random((n, T))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    rows = np.arange(n)
    X[rows, first, 1] = 1.0
    X[rows, second, 1] = 1.0
    y = X[rows, first, 0] + X[rows, second, 0]
    y_train, y_test = y[:n_train], y[n_train:]
    baseline_mse = float(np.mean((y_test - y_train.mean()) ** 2))
    oracle = {
        "mse": 0.0,
        "r2": 1.0,
        "baseline_mse": baseline_mse,
        "baseline_mse_expected": 1.0 / 6.0,
        "baseline_r2": float(1.0 - baseline_mse / np.var(y_test)),
    }
    meta = {"options": options, "oracle": oracle}
    return Dataset("adding_problem", "regress", list(X[:n_train]), y_train, list(X[n_train:]), y_test, meta)


def make_copy_memory(*, T=50, n_train=5000, n_test=1000, n_memorize=10, n_symbols=8, random_state=0) -> Dataset:
    """Tagging: ``X`` int64 symbol ids ``(T + 2 n_memorize,)``, ``y`` the
    per-step targets (same length); ``meta["oracle"]`` has the accuracy over
    all steps and over the ``n_memorize`` copy steps, for a perfect memory and
    for the memoryless baseline."""
    options = dict(locals())
    _check_positive(T=T, n_train=n_train, n_test=n_test, n_memorize=n_memorize, n_symbols=n_symbols)
    rng = np.random.default_rng(random_state)
    n, m = n_train + n_test, n_memorize
    data = rng.integers(1, n_symbols + 1, size=(n, m))
    X = np.zeros((n, T + 2 * m), dtype=np.int64)
    X[:, :m] = data
    X[:, m + T - 1] = n_symbols + 1  # the delimiter: "now repeat"
    Y = np.zeros_like(X)
    Y[:, -m:] = data
    majority = np.bincount(data[:n_train].ravel()).argmax()
    baseline = np.zeros(T + 2 * m, dtype=np.int64)
    baseline[-m:] = majority
    Y_test = Y[n_train:]
    oracle = {
        "accuracy": 1.0,
        "copy_accuracy": 1.0,
        "baseline_accuracy": float(np.mean(Y_test == baseline)),
        "baseline_copy_accuracy": float(np.mean(Y_test[:, -m:] == majority)),
    }
    meta = {"options": options, "oracle": oracle, "n_symbols": n_symbols + 2, "blank": 0, "delimiter": n_symbols + 1}
    return Dataset("copy_memory", "tag", list(X[:n_train]), list(Y[:n_train]), list(X[n_train:]), list(Y_test), meta)
