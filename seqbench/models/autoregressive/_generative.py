"""One class's generative AR model: the pooled AR(p) and, optionally, the
models of the first ``p`` steps of each sequence.

The AR(p) conditional likelihood says nothing about the first ``p`` steps of
a sequence (they are conditioned on), so a sequence of at most ``p`` steps
carries no evidence at all. With ``initial="model"`` the first steps are
modelled by the chain rule as well: step ``t < p`` by a Gaussian regression
on all ``t`` earlier steps of its sequence (an AR(t) fitted on the step-``t``
rows of the class's sequences; step 0 is a plain Gaussian), so the
likelihood covers every step, as the BOS-padded n-gram chain does for
symbols. For a collection of length-``p + 1`` sequences this is a full
Gaussian over the whole sequence (each class's model is then QDA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._gaussian import GaussianAR, fit_gaussian_ar, row_log_likelihood
from ._lags import LaggedRows, lagged_rows

__all__ = ["ClassAR", "fit_class_ar", "initial_rows", "class_log_likelihood"]


@dataclass(frozen=True)
class ClassAR:
    """main : the pooled AR(order) of steps ``t >= order`` (None when the class
    has no sequence longer than ``order``); initial : the models of steps
    ``0..order-1`` (empty tuple when the first steps are conditioned on;
    entry ``t`` is None when no sequence of the class is longer than ``t``);
    longest : the longest training sequence of the class, steps."""

    main: GaussianAR | None
    initial: tuple
    longest: int


def initial_rows(sequences, order: int) -> list[LaggedRows]:
    """Rows of steps ``t = 0..order-1``, each with all its ``t`` predecessors."""
    return [lagged_rows(sequences, t, t_min=t, t_max=t) for t in range(order)]


def fit_class_ar(sequences, order: int, trend: str, mode: str, epsilon: float, model_initial: bool) -> ClassAR:
    """Fit one class's model on all its sequences (list of (T_i, d) arrays)."""
    rows = lagged_rows(sequences, order)
    main = fit_gaussian_ar(rows, trend, mode, epsilon) if len(rows) else None
    initial = ()
    if model_initial:
        initial = tuple(
            fit_gaussian_ar(r, trend, mode, epsilon) if len(r) else None for r in initial_rows(sequences, order)
        )
    return ClassAR(main, initial, max(len(s) for s in sequences))


def class_log_likelihood(model: ClassAR, rows: LaggedRows, init_rows: list[LaggedRows]) -> np.ndarray:
    """Log-likelihood (nats) of each sequence under one class's model, (n,).

    ``rows`` are the AR(order) rows of the sequences and ``init_rows`` the
    rows of their first steps (empty list when those are conditioned on).
    The caller makes sure no row needs a model the class lacks.
    """
    total = np.zeros(rows.n_sequences)
    if model.main is not None and len(rows):
        total += rows.sum_per_sequence(row_log_likelihood(model.main, rows))
    for sub, r in zip(model.initial, init_rows):
        if sub is not None and len(r):
            total += r.sum_per_sequence(row_log_likelihood(sub, r))
    return total
