"""Validation data for tuning, cut from a job's training part only.

Tuning must never read the test split. Each function here receives the
job's dataset and returns one or more *validation folds*: small dataset
records whose ``X_train``/``y_train`` are the inner-train part and whose
``X_test``/``y_test`` are the validation part, all taken from the training
part, so the runner's own task protocol (``_evaluate.evaluate`` with the
``split`` protocol) fits and scores each trial exactly as it scores a job.

- classify: a stratified hold-out (plain when a class has one sequence);
- regress, tag: a random hold-out of whole sequences;
- forecast: the tail of each training series at ``n_origins`` rolling
  origins, ``step`` steps apart, each followed by ``horizon`` validation
  steps. The runner's rolling-origin protocol is reused rather than
  ``seqbench.metrics.rolling_origin``: that function fits one model per
  series, while a job fits one model on all its training series at once;
- language model: the last part of the training text (the last sequences,
  or the tail of a single sequence).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split

from ._evaluate import _forecast_split
from ._keys import derive_seed

__all__ = ["ValidationFold", "validation_folds", "training_part", "as_inner_job"]


@dataclass(frozen=True, eq=False)
class ValidationFold:
    """Duck-typed like ``seqbench.datasets.Dataset`` for ``evaluate``."""

    name: str
    task: str
    X_train: object
    y_train: object
    X_test: object
    y_test: object
    meta: dict = field(default_factory=dict)


def _take(collection, idx):
    """Rows ``idx`` of a list or an array (a list stays a list)."""
    if collection is None:
        return None
    if isinstance(collection, np.ndarray):
        return collection[idx]
    return [collection[i] for i in idx]


def training_part(dataset, job):
    """``(X, y)`` the job fits on: the dataset's training split, or for a
    forecast the job's (rolling-origin) training series."""
    if dataset.task == "forecast":
        fit_series, _, _ = _forecast_split(dataset, job)
        return fit_series, None
    return dataset.X_train, dataset.y_train


def validation_folds(dataset, job, *, fraction: float, n_origins: int) -> list:
    """The validation folds of ``job`` (see the module docstring)."""
    X, y = training_part(dataset, job)
    name = f"{dataset.name} (validation)"  # not the dataset's name: no job-only extras run on it
    seed = derive_seed("validation", job.random_state)
    if dataset.task == "forecast":
        return _forecast_folds(X, dataset, job, name, n_origins)
    if dataset.task == "language_model":
        return [_text_fold(X, dataset, name, fraction)]
    inner, val = _holdout(len(X), y if dataset.task == "classify" else None, fraction, seed, dataset.task)
    meta = dict(getattr(dataset, "meta", None) or {})
    return [ValidationFold(name, dataset.task, _take(X, inner), _take(y, inner), _take(X, val), _take(y, val), meta)]


def _holdout(n: int, labels, fraction: float, seed: int, task: str) -> tuple:
    n_val = math.ceil(fraction * n)
    if n_val < 1 or n - n_val < 2:
        raise ValueError(
            f"tuning needs a validation split of the {task} training part: {n} sequences with "
            f"validation_fraction={fraction} leave {n - n_val} for inner training; use more training data "
            "or a smaller [tuning] validation_fraction"
        )
    stratify = None
    if labels is not None:
        _, counts = np.unique(np.asarray(labels), return_counts=True)
        if counts.min() >= 2 and n_val >= len(counts) and n - n_val >= len(counts):
            stratify = np.asarray(labels)
    inner, val = train_test_split(np.arange(n), test_size=n_val, random_state=seed, stratify=stratify)
    return np.sort(inner), np.sort(val)


def _forecast_folds(series: list, dataset, job, name: str, n_origins: int) -> list:
    horizon = int(dataset.meta.get("horizon") or np.asarray(dataset.y_test).shape[1])
    step = int(job.protocol.get("step", horizon)) if job.protocol.get("protocol") == "rolling_origin" else horizon
    folds = []
    for k in range(n_origins):
        back = horizon + step * (n_origins - 1 - k)  # validation steps cut from the end of each series
        histories, truths = [], []
        for i, s in enumerate(series):
            if len(s) - back < 3:
                raise ValueError(
                    f"training series {i} has {len(s)} steps: too short for {n_origins} validation origins "
                    f"{step} steps apart with horizon {horizon}; set a smaller [tuning] n_origins"
                )
            histories.append(s[: len(s) - back])
            truths.append(s[len(s) - back : len(s) - back + horizon])
        meta = {**dataset.meta, "horizon": horizon}
        folds.append(ValidationFold(name, "forecast", histories, None, histories, np.stack(truths), meta))
    return folds


def _text_fold(X, dataset, name: str, fraction: float) -> ValidationFold:
    meta = dict(getattr(dataset, "meta", None) or {})
    if len(X) == 1:  # one long text: its last part validates
        text = X[0]
        cut = len(text) - math.ceil(fraction * len(text))
        if cut < 2:
            raise ValueError(f"the training text has {len(text)} symbols: too short to hold out a validation part")
        return ValidationFold(name, "language_model", [text[:cut]], None, [text[cut:]], None, meta)
    n_val = math.ceil(fraction * len(X))
    if len(X) - n_val < 1:
        raise ValueError(f"{len(X)} training sequences leave none for inner training; lower validation_fraction")
    X = list(X)
    return ValidationFold(name, "language_model", X[:-n_val], None, X[-n_val:], None, meta)


def as_inner_job(job):
    """``job`` as evaluate should see it on a validation fold: the plain split protocol."""
    return dataclasses.replace(job, protocol={"protocol": "split"}, fold=0, n_folds=1)
