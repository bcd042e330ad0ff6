"""The benchmark's shared vocabulary: its tasks, its model families and each
task's metrics, written once and read by the runner, the results store, the
report and the command line.

- :data:`TASKS`: ``{name: label}`` in the order tasks appear everywhere;
- :data:`FAMILIES`: the :class:`Family` table (name, label, order);
- :data:`TASK_METRICS`: per task, its :class:`Metric` records, the main
  metric first. A metric's ``function`` takes the task's inputs as keyword
  arguments (and ignores the ones it does not read):

  ===============  =========================================================
  task             inputs
  ===============  =========================================================
  classify         ``y_true``, ``y_pred`` ``(n,)``; ``proba`` ``(n, n_classes)``
                   or None; ``classes`` ``(n_classes,)``
  regress          ``y_true``, ``y_pred`` float64 ``(n,)``
  tag              ``y_true``, ``y_pred``: every step's label, flattened ``(N,)``;
                   ``lengths`` ``(n,)``: the sentences' lengths, in order
  forecast         ``y_true``, ``y_pred`` ``(n, horizon, d)``; ``histories``
                   (list of ``(T_i, d)``); ``season`` (int)
  language_model   ``bits_per_symbol`` (float, computed by the estimator);
                   perplexity is ``2 ** bits_per_symbol``
  ===============  =========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import config_context
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_squared_error, r2_score

from ._forecast import mae, mase, rmse, smape

__all__ = ["Family", "FAMILIES", "family", "family_label", "family_names", "TASKS", "task_label", "Metric", "TASK_METRICS",
           "main_metric", "metric_label", "metric_directions"]


@dataclass(frozen=True)
class Family:
    """A model family: its ``name`` (an estimator's ``capabilities.family``),
    the ``label`` readers see, its place in every listing (``order``) and
    the rough relative ``cost`` of one of its jobs (larger is longer; the
    runner starts the slow ones first, which packs workers better: a
    guess, not a measurement)."""

    name: str
    label: str
    order: int
    cost: int


FAMILIES = (
    Family("hmm", "HMM", 0, cost=2),
    Family("autoregressive", "autoregressive", 1, cost=1),
    Family("neural", "RNN / LSTM / GRU", 2, cost=3),
    Family("baseline", "baseline", 3, cost=0),
)
_FAMILY_BY_NAME = {f.name: f for f in FAMILIES}


def family_names() -> tuple:
    """The family names in their order."""
    return tuple(f.name for f in sorted(FAMILIES, key=lambda f: f.order))


def family(name: str) -> Family | None:
    """The :class:`Family` called ``name``, or None."""
    return _FAMILY_BY_NAME.get(name)


def family_label(name: str) -> str:
    """A family's label; an unknown name is its own label."""
    family = _FAMILY_BY_NAME.get(name)
    return family.label if family else name


TASKS = {
    "classify": "Classification",
    "regress": "Regression",
    "tag": "Tagging",
    "forecast": "Forecasting",
    "language_model": "Language modelling",
}


def task_label(name: str) -> str:
    return TASKS.get(name, name)


@dataclass(frozen=True)
class Metric:
    """One metric of a task: ``name`` (the key stored per job), the ``label``
    readers see, its direction and the ``function`` that computes it from
    the task's inputs (see the module docstring); it returns a float, or
    None when the inputs it needs are missing."""

    name: str
    label: str
    greater_is_better: bool
    function: Callable


def _quiet():
    """scikit-learn's metrics without re-checking their own arguments (the
    runner passes the same well-formed ones every time; a few ms per job)."""
    return config_context(skip_parameter_validation=True)


def _accuracy(*, y_true, y_pred, **_) -> float:
    with _quiet():
        return float(accuracy_score(y_true, y_pred))


def _f1_macro(*, y_true, y_pred, **_) -> float:
    with _quiet():
        return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def _log_loss(*, y_true, proba=None, classes=None, **_) -> float | None:
    if proba is None:
        return None
    with _quiet():
        return float(log_loss(y_true, proba, labels=classes))


def _step_accuracy(*, y_true, y_pred, **_) -> float:
    return float(np.mean(y_true == y_pred))


def _sentence_accuracy(*, y_true, y_pred, lengths, **_) -> float:
    """Share of sequences whose every step is tagged right: part-of-speech
    tagging's per-sentence figure beside the per-token accuracy."""
    wrong = (y_true != y_pred).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    return float(np.mean(np.add.reduceat(wrong, starts) == 0)) if len(lengths) else float("nan")


def _r2(*, y_true, y_pred, **_) -> float:
    with _quiet():
        return float(r2_score(y_true, y_pred))


def _mse(*, y_true, y_pred, **_) -> float:
    with _quiet():
        return float(mean_squared_error(y_true, y_pred))


def _mase(*, y_true, y_pred, histories, season=1, **_) -> float:
    return mase(y_true, y_pred, y_train=histories, season=season)


def _mae(*, y_true, y_pred, **_) -> float:
    return mae(y_true, y_pred)


def _rmse(*, y_true, y_pred, **_) -> float:
    return rmse(y_true, y_pred)


def _smape(*, y_true, y_pred, **_) -> float:
    return smape(y_true, y_pred)


def _bits_per_symbol(*, bits_per_symbol, **_) -> float:
    return float(bits_per_symbol)


def _perplexity(*, bits_per_symbol, **_) -> float:
    """Perplexity per symbol (per word on word-level data): the figure
    language-modelling papers publish."""
    return float(2.0**bits_per_symbol)


TASK_METRICS = {
    "classify": (
        Metric("accuracy", "accuracy", True, _accuracy),
        Metric("f1_macro", "macro-F1", True, _f1_macro),
        Metric("log_loss", "log-loss", False, _log_loss),
    ),
    "regress": (Metric("r2", "R²", True, _r2), Metric("mse", "MSE", False, _mse)),
    "tag": (
        Metric("accuracy", "accuracy", True, _step_accuracy),
        Metric("f1_macro", "macro-F1", True, _f1_macro),
        Metric("sentence_accuracy", "sentence accuracy", True, _sentence_accuracy),
    ),
    "forecast": (
        Metric("mase", "MASE", False, _mase),
        Metric("mae", "MAE", False, _mae),
        Metric("rmse", "RMSE", False, _rmse),
        Metric("smape", "sMAPE %", False, _smape),
    ),
    "language_model": (
        Metric("bits_per_symbol", "bits/symbol", False, _bits_per_symbol),
        Metric("perplexity", "perplexity", False, _perplexity),
    ),
}
_LABELS = {m.name: m.label for metrics in TASK_METRICS.values() for m in metrics}


def main_metric(task: str) -> str | None:
    """The name of ``task``'s main metric (None for an unknown task)."""
    metrics = TASK_METRICS.get(task)
    return metrics[0].name if metrics else None


def metric_label(name: str) -> str:
    """A metric's label; an unknown name is its own label."""
    return _LABELS.get(name, name)


def metric_directions() -> dict:
    """Per task, ``{"main": name, "greater_is_better": {name: bool}}``: the
    JSON form the results store keeps, so a report reads the directions of
    the metrics a store was written with."""
    return {task: {"main": metrics[0].name, "greater_is_better": {m.name: m.greater_is_better for m in metrics}}
            for task, metrics in TASK_METRICS.items()}
