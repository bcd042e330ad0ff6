"""The evaluation protocol of each task: fit, predict, metrics, artefacts.

The metrics of each task, their directions and functions are
``seqbench.metrics.TASK_METRICS`` (main metric first): accuracy, macro-F1
and log-loss (classify); R² and MSE (regress); per-step accuracy and
macro-F1 (tag); MASE, MAE, RMSE and sMAPE (forecast); bits per symbol
and perplexity (language model).

Every task fits on the dataset's training split and scores on its test
split. Forecasting can also use rolling origin (fold ``k`` of ``K``): each
test series (history followed by its true future) is cut at its ``k``-th
origin (``seqbench.metrics.cut_at_origin``: ``step * (K-1-k)`` steps before
its last ``horizon`` steps); the model is fitted on the cut histories and
forecasts from them, so the last fold is the dataset's own split when its
training series are the test histories. MASE is scaled by
each history's in-sample seasonal naive error with the dataset's
``meta["season"]`` (1 when absent).

A history too short for the model (its season, window or order: the
``SeriesTooShortError`` of ``predict`` names it) or for MASE's scale
(``season`` steps or fewer) is left out of a forecasting job's scores, that
series alone; the ``series_na`` artefact counts them and gives each one's
reason, and ``per_series`` holds None in their places. The job is n/a only
when no series is left (or the model cannot say which series is short).

Non-finite predictions, probabilities or metrics raise ``Diverged``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
from sklearn.metrics import confusion_matrix

from ..data import SeriesTooShortError
from ..metrics import TASK_METRICS, cut_at_origin, mase_per_series, smape_per_series
from ..results import json_safe
from ._attention_text import add_attention_text
from ._gate_traces import add_gate_traces
from ._gradient_flow import add_gradient_flow

__all__ = ["Diverged", "Outcome", "evaluate", "check_forecast_protocol"]

_MAX_FORECAST_SERIES = 8  # forecasts stored per job, for the report's plots
_MAX_CONTEXT = 200  # history steps stored before each forecast
_MAX_PAIRS = 500  # (truth, prediction) pairs stored per regression job


class Diverged(ArithmeticError):
    """The model produced NaN or inf (predictions, probabilities or a metric)."""


@dataclass
class Outcome:
    metrics: dict
    fit_seconds: float
    predict_seconds: float
    artefacts: dict = field(default_factory=dict)


def _finite(values, what: str) -> None:
    arr = np.asarray(values)
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.isfinite(arr).sum())
        raise Diverged(f"{what} contain {bad} NaN or inf value(s) out of {arr.size}")


def _task_metrics(task: str, **inputs) -> dict:
    """``{name: value}`` of every metric of ``task`` on the task's ``inputs``."""
    return {m.name: m.function(**inputs) for m in TASK_METRICS[task]}


def _timed(func, *args):
    start = time.perf_counter()
    out = func(*args)
    return out, time.perf_counter() - start


def evaluate(estimator, dataset, job, phase=lambda name: None) -> Outcome:
    """Fit ``estimator`` on ``dataset`` and score it by the job's task protocol.

    ``phase(name)`` is called with "fit" and "predict" as they start (the
    process executor uses it to say where a job was when it timed out).
    """
    task = dataset.task
    if task not in _TASKS:
        raise ValueError(f"dataset {job.dataset_label!r} has task {task!r}, which the runner does not know")
    outcome = _TASKS[task](estimator, dataset, job, phase)
    for name, value in outcome.metrics.items():
        if value is not None and not math.isfinite(value):
            raise Diverged(f"metric {name} is {value}")
    _add_common_artefacts(estimator, outcome)
    add_gradient_flow(estimator, dataset, outcome.artefacts)
    add_gate_traces(estimator, dataset, outcome.artefacts)
    add_attention_text(estimator, dataset, outcome.artefacts)
    return outcome


def _add_common_artefacts(estimator, outcome: Outcome) -> None:
    history = getattr(estimator, "history_", None)
    if history:
        outcome.artefacts["learning_curve"] = json_safe(list(history))
    try:
        outcome.artefacts["estimator_params"] = json_safe(estimator.get_params(deep=False))
    except Exception:  # noqa: BLE001 - an odd estimator must not fail a finished job
        pass


# ------------------------------------------------------------------ classify
def _classify(est, ds, job, phase) -> Outcome:
    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train, ds.y_train)
    phase("predict")
    y_pred, pred_s = _timed(est.predict, ds.X_test)
    _finite(y_pred, "predictions")
    y_true = np.asarray(ds.y_test)
    proba = None
    if hasattr(est, "predict_proba") and set(np.unique(y_true)) <= set(est.classes_):
        proba = est.predict_proba(ds.X_test)
        _finite(proba, "predicted probabilities")
    labels = np.unique(np.concatenate([y_true, np.asarray(y_pred)]))
    metrics = _task_metrics("classify", y_true=y_true, y_pred=y_pred, proba=proba, classes=getattr(est, "classes_", None))
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    artefacts = {"confusion_matrix": {"labels": [str(v) for v in labels], "matrix": cm.tolist()}}
    return Outcome(metrics, fit_s, pred_s, artefacts)


# ------------------------------------------------------------------- regress
def _regress(est, ds, job, phase) -> Outcome:
    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train, ds.y_train)
    phase("predict")
    y_pred, pred_s = _timed(est.predict, ds.X_test)
    _finite(y_pred, "predictions")
    y_true = np.asarray(ds.y_test, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    metrics = _task_metrics("regress", y_true=y_true, y_pred=y_pred)
    pairs = {"y_true": y_true[:_MAX_PAIRS].tolist(), "y_pred": y_pred[:_MAX_PAIRS].tolist()}
    return Outcome(metrics, fit_s, pred_s, {"predictions": pairs})


# ----------------------------------------------------------------------- tag
def _tag(est, ds, job, phase) -> Outcome:
    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train, ds.y_train)
    phase("predict")
    Y_pred, pred_s = _timed(est.predict, ds.X_test)
    true = np.concatenate([np.asarray(y).ravel() for y in ds.y_test])
    pred = np.concatenate([np.asarray(y).ravel() for y in Y_pred])
    _finite(pred, "predicted tags")
    if true.shape != pred.shape:
        raise ValueError(f"predicted {pred.size} tags for {true.size} steps; a tagger returns one label per step")
    labels = np.unique(np.concatenate([true, pred]))
    lengths = np.array([np.asarray(y).size for y in ds.y_test])
    metrics = _task_metrics("tag", y_true=true, y_pred=pred, lengths=lengths)
    cm = confusion_matrix(true, pred, labels=labels)
    return Outcome(metrics, fit_s, pred_s, {"confusion_matrix": {"labels": [str(v) for v in labels], "matrix": cm.tolist()}})


# ------------------------------------------------------------------ forecast
def _as_series(s) -> np.ndarray:
    a = np.asarray(s, dtype=np.float64)
    return a.reshape(len(a), -1)


def _forecast_split(ds, job) -> tuple[list, list, np.ndarray]:
    """(fit series, histories, truths (n, h, d)) for the job's fold."""
    horizon = int(ds.meta.get("horizon") or np.asarray(ds.y_test).shape[1])
    truths = np.asarray(ds.y_test, dtype=np.float64)
    truths = truths.reshape(truths.shape[0], truths.shape[1], -1)
    histories = [_as_series(s) for s in ds.X_test]
    if job.protocol.get("protocol") != "rolling_origin":
        return [_as_series(s) for s in ds.X_train], histories, truths
    full = [np.concatenate([h, t], axis=0) for h, t in zip(histories, truths)]
    try:
        cut, future = cut_at_origin(full, horizon, job.n_folds, int(job.protocol["step"]), job.fold, min_history=3)
    except ValueError as exc:  # every series must hold the forecast origins: too short otherwise
        raise SeriesTooShortError(f"rolling origin fold {job.fold}: {exc}") from None
    return cut, cut, future


def check_forecast_protocol(ds, protocol: dict) -> None:
    """Raise ``ValueError`` when ``ds``'s series cannot be cut at the
    ``protocol``'s rolling origins (checked on the earliest fold, the one
    with the shortest histories), before any job runs."""
    if protocol.get("protocol") != "rolling_origin":
        return
    earliest = SimpleNamespace(protocol=protocol, n_folds=int(protocol["n_origins"]), fold=0)
    _forecast_split(ds, earliest)


def _forecast(est, ds, job, phase) -> Outcome:
    fit_series, histories, truths = _forecast_split(ds, job)
    season = int(ds.meta.get("season") or 1)
    phase("fit")
    _, fit_s = _timed(est.fit, fit_series)
    phase("predict")
    (kept, pred, left_out), pred_s = _timed(_predict_scorable, est, histories, season)
    _finite(pred, "forecasts")
    histories, truths = [histories[i] for i in kept], truths[kept]
    pred = np.asarray(pred, dtype=np.float64).reshape(truths.shape)
    metrics = _task_metrics("forecast", y_true=truths, y_pred=pred, histories=histories, season=season)
    shown = [
        {"series": kept[i], "history": histories[i][-_MAX_CONTEXT:].tolist(), "origin": len(histories[i]),
         "truth": truths[i].tolist(), "forecast": pred[i].tolist()}
        for i in range(min(len(histories), _MAX_FORECAST_SERIES))
    ]
    artefacts = {"forecasts": {"season": season, "series": shown}}
    n_series = len(kept) + len(left_out)
    if n_series > 1:  # many series: their own scores (None where n/a), for the report's ranks across series
        artefacts["per_series"] = {
            "mase": _spread(mase_per_series(truths, pred, y_train=histories, season=season), kept, n_series),
            "smape": _spread(smape_per_series(truths, pred), kept, n_series),
        }
    if left_out:
        artefacts["series_na"] = _series_na(left_out, n_series, ds.meta.get("series"))
    return Outcome(metrics, fit_s, pred_s, artefacts)


def _predict_scorable(est, histories: list, season: int) -> tuple[list, np.ndarray, dict]:
    """Forecast every history that can be scored; leave out, each with its
    reason, those too short for the model (the ones a ``SeriesTooShortError``
    names) or for MASE's seasonal naive scale (``season`` steps or fewer).

    Returns ``(kept indices, forecasts of the kept histories, {index: reason})``.
    Raises SeriesTooShortError when no history is left, or when the model
    raises one that names no history (it cannot say which: the job is n/a).
    """
    left_out = {
        i: f"{len(h)} steps; MASE's seasonal naive scale needs more than {season}"
        for i, h in enumerate(histories) if len(h) <= season
    }  # fmt: skip
    kept = [i for i in range(len(histories)) if i not in left_out]
    if kept:
        try:
            return kept, est.predict([histories[i] for i in kept]), left_out
        except SeriesTooShortError as exc:
            if not exc.series:
                raise
            for j in exc.series:
                left_out[kept[j]] = f"{len(histories[kept[j]])} steps; {exc.reason}"
            kept = [i for i in kept if i not in left_out]
    if not kept:
        reasons = _count_reasons(left_out)
        raise SeriesTooShortError(
            f"every one of the {len(histories)} series is too short: "
            + "; ".join(f"{reason} ({n} series)" for reason, n in reasons.items())
        )
    return kept, est.predict([histories[i] for i in kept]), left_out


def _count_reasons(left_out: dict) -> dict:
    """``{reason: number of series}`` with each series' own length cut off."""
    counts: dict = {}
    for reason in left_out.values():
        general = reason.split("; ", 1)[-1]
        counts[general] = counts.get(general, 0) + 1
    return counts


def _spread(values: np.ndarray, kept: list, n_series: int) -> list:
    """Per-series values of the kept series at their places among all ``n_series``, None elsewhere."""
    out: list = [None] * n_series
    for i, v in zip(kept, values.tolist()):
        out[i] = v
    return out


def _series_na(left_out: dict, n_series: int, names) -> dict:
    """The ``series_na`` artefact: how many series were left out of the scores, why, and which."""
    order = sorted(left_out)
    return {
        "n_series": n_series,
        "n_na": len(left_out),
        "reasons": _count_reasons(left_out),
        "series": order,
        "names": [str(names[i]) for i in order] if names is not None and len(names) == n_series else None,
        "why": [left_out[i] for i in order],
    }


# ------------------------------------------------------------ language model
def _language_model(est, ds, job, phase) -> Outcome:
    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train)
    phase("predict")
    bps, pred_s = _timed(_bits_per_symbol, est, ds.X_test)
    return Outcome(_task_metrics("language_model", bits_per_symbol=bps), fit_s, pred_s)


def _bits_per_symbol(est, X) -> float:
    """Bits per symbol of ``X`` under ``est``: the estimator's own definition
    when it has one, else the total natural-log likelihood from
    ``score_samples`` over the symbol count, in bits."""
    if hasattr(est, "bits_per_symbol"):
        return float(est.bits_per_symbol(X))
    loglik = np.asarray(est.score_samples(X), dtype=np.float64)
    _finite(loglik, "log-likelihoods")
    validate = getattr(est, "_validate_predict_X", None)
    n_symbols = int(validate(X).lengths.sum()) if validate else int(sum(len(s) for s in X))
    return float(-loglik.sum() / (n_symbols * math.log(2.0)))


_TASKS = {
    "classify": _classify,
    "regress": _regress,
    "tag": _tag,
    "forecast": _forecast,
    "language_model": _language_model,
}
