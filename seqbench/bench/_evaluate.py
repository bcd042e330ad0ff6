"""The evaluation protocol of each task: fit, predict, metrics, artefacts.

=================  ===================  ========================================
task               main metric          also
=================  ===================  ========================================
classify           accuracy             macro-F1, log-loss (with predict_proba)
regress            R² (``r2``)          MSE
tag                per-step accuracy    macro-F1 over steps
forecast           MASE                 MAE, RMSE, sMAPE (percent)
language_model     bits per symbol      perplexity (2 ** bits per symbol)
=================  ===================  ========================================

Every task fits on the dataset's training split and scores on its test
split. Forecasting can also use rolling origin (fold ``k`` of ``K``): each
test series (history followed by its true future) is cut ``step * (K-1-k)``
steps before its last ``horizon`` steps; the model is fitted on the cut
histories and forecasts from them, so the last fold is the dataset's own
split when its training series are the test histories. MASE is scaled by
each history's in-sample seasonal naive error with the dataset's
``meta["season"]`` (1 when absent).

Non-finite predictions, probabilities or metrics raise ``Diverged``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..data import SeriesTooShortError
from ._keys import json_safe

__all__ = ["METRICS", "Diverged", "Outcome", "evaluate"]

# per task: the main metric and, for every metric, whether larger is better
METRICS = {
    "classify": {"main": "accuracy", "greater_is_better": {"accuracy": True, "f1_macro": True, "log_loss": False}},
    "regress": {"main": "r2", "greater_is_better": {"r2": True, "mse": False}},
    "tag": {"main": "accuracy", "greater_is_better": {"accuracy": True, "f1_macro": True}},
    "forecast": {"main": "mase", "greater_is_better": {"mase": False, "mae": False, "rmse": False, "smape": False}},
    "language_model": {"main": "bits_per_symbol", "greater_is_better": {"bits_per_symbol": False, "perplexity": False}},
}
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


def _metrics_context():
    """scikit-learn's metrics without re-checking their own arguments (the
    runner passes the same well-formed ones every time; a few ms per job)."""
    from sklearn import config_context

    return config_context(skip_parameter_validation=True)


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
    _add_gradient_flow(estimator, dataset, outcome)
    return outcome


# The long-range memory tasks, whose report section shows gradient flow
# through time for each recurrent cell (issue 8); other jobs skip the cost.
GRADIENT_FLOW_DATASETS = frozenset({"adding_problem", "copy_memory"})


def _add_gradient_flow(estimator, dataset, outcome: Outcome) -> None:
    if dataset.name not in GRADIENT_FLOW_DATASETS or estimator.capabilities.family != "neural":
        return
    from ..diagnostics import dataset_gradient_flow

    try:
        record = dataset_gradient_flow(estimator, dataset)
    except Exception as exc:  # a diagnostic must not fail a finished job
        outcome.artefacts.setdefault("warnings", []).append(f"gradient flow not measured: {exc}")
        return
    if record:
        outcome.artefacts["gradient_flow"] = record


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
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, log_loss

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
    with _metrics_context():
        metrics = {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
            "log_loss": None if proba is None else float(log_loss(y_true, proba, labels=est.classes_)),
        }
        cm = confusion_matrix(y_true, y_pred, labels=labels)
    artefacts = {"confusion_matrix": {"labels": [str(v) for v in labels], "matrix": cm.tolist()}}
    return Outcome(metrics, fit_s, pred_s, artefacts)


# ------------------------------------------------------------------- regress
def _regress(est, ds, job, phase) -> Outcome:
    from sklearn.metrics import mean_squared_error, r2_score

    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train, ds.y_train)
    phase("predict")
    y_pred, pred_s = _timed(est.predict, ds.X_test)
    _finite(y_pred, "predictions")
    y_true = np.asarray(ds.y_test, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_true.shape)
    with _metrics_context():
        metrics = {"r2": float(r2_score(y_true, y_pred)), "mse": float(mean_squared_error(y_true, y_pred))}
    pairs = {"y_true": y_true[:_MAX_PAIRS].tolist(), "y_pred": y_pred[:_MAX_PAIRS].tolist()}
    return Outcome(metrics, fit_s, pred_s, {"predictions": pairs})


# ----------------------------------------------------------------------- tag
def _tag(est, ds, job, phase) -> Outcome:
    from sklearn.metrics import confusion_matrix, f1_score

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
    with _metrics_context():
        metrics = {
            "accuracy": float(np.mean(true == pred)),
            "f1_macro": float(f1_score(true, pred, average="macro", zero_division=0)),
        }
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
    back = int(job.protocol["step"]) * (job.n_folds - 1 - job.fold)
    cut_hist, cut_true = [], []
    for i, (h, t) in enumerate(zip(histories, truths)):
        full = np.concatenate([h, t], axis=0)
        origin = len(full) - horizon - back
        if origin < 3:
            raise SeriesTooShortError(
                f"series {i} has {len(full)} steps: too short for rolling origin fold {job.fold} "
                f"({job.n_folds} origins, step {job.protocol['step']}, horizon {horizon}); use fewer origins"
            )
        cut_hist.append(full[:origin])
        cut_true.append(full[origin : origin + horizon])
    return cut_hist, cut_hist, np.stack(cut_true)


def _forecast(est, ds, job, phase) -> Outcome:
    from ..metrics import mae, mase, mase_per_series, rmse, smape, smape_per_series

    fit_series, histories, truths = _forecast_split(ds, job)
    season = int(ds.meta.get("season") or 1)
    phase("fit")
    _, fit_s = _timed(est.fit, fit_series)
    phase("predict")
    pred, pred_s = _timed(est.predict, histories)
    _finite(pred, "forecasts")
    pred = np.asarray(pred, dtype=np.float64).reshape(truths.shape)
    metrics = {
        "mase": mase(truths, pred, y_train=histories, season=season),
        "mae": mae(truths, pred),
        "rmse": rmse(truths, pred),
        "smape": smape(truths, pred),
    }
    shown = [
        {"series": i, "history": histories[i][-_MAX_CONTEXT:].tolist(), "origin": len(histories[i]),
         "truth": truths[i].tolist(), "forecast": pred[i].tolist()}
        for i in range(min(len(histories), _MAX_FORECAST_SERIES))
    ]
    artefacts = {"forecasts": {"season": season, "series": shown}}
    if len(truths) > 1:  # many series: their own scores, for the report's ranks across series
        artefacts["per_series"] = {
            "mase": mase_per_series(truths, pred, y_train=histories, season=season).tolist(),
            "smape": smape_per_series(truths, pred).tolist(),
        }
    return Outcome(metrics, fit_s, pred_s, artefacts)


# ------------------------------------------------------------ language model
def _language_model(est, ds, job, phase) -> Outcome:
    phase("fit")
    _, fit_s = _timed(est.fit, ds.X_train)
    phase("predict")
    bps, pred_s = _timed(_bits_per_symbol, est, ds.X_test)
    # perplexity per symbol (per word on word-level data), the figure LM papers publish
    return Outcome({"bits_per_symbol": float(bps), "perplexity": float(2.0**bps)}, fit_s, pred_s)


def _bits_per_symbol(est, X) -> float:
    """Bits per symbol of ``X`` under ``est``: the metrics module's or the
    estimator's own definition when they exist, else the total natural-log
    likelihood from ``score_samples`` over the symbol count, in bits."""
    from .. import metrics

    if hasattr(metrics, "bits_per_symbol"):
        return float(metrics.bits_per_symbol(est, X))
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
