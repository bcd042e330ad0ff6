"""Tuning inside one job: Optuna trials on validation data, one refit, one test.

A tuned job (``job.search`` set) runs:

1. ``tune``: an in-memory Optuna study per job, a ``TPESampler`` seeded
   from the job's seed, ``job.search["trials"]`` trials (stopping early
   when the ``timeout`` of tuning is spent). Each trial draws a
   configuration from the search space, fits the estimator on the
   inner-train part of every validation fold (``_inner_split``) and scores it
   there with the task's main metric; the folds' mean is the trial's value.
   Neural trials train with early stopping on a slice of inner-train and
   report each epoch's validation loss through the estimator's
   ``epoch_callback``; a ``MedianPruner`` stops the unpromising ones (when
   the estimator refuses early stopping because its split would be too
   small, a neural trial runs ``max_epochs`` and is not pruned). A
   trial that raises or diverges is a failed trial, and tuning goes on.
   When the tuning time limit passes, no new trial starts; a neural trial
   still running stops at its next epoch and is recorded as failed (timed
   out) unless no trial has completed yet; other trials cannot be
   interrupted safely in-process and finish.
2. ``tuned_evaluate``: the best trial's configuration is refit on the whole
   training part and scored on the test split exactly once, by the same
   ``evaluate`` as a fixed job. A neural refit trains, without early
   stopping, for the epoch count chosen on validation (the best epoch in
   the best trial's ``history_``).

Optuna rather than scikit-learn's searchers: it prunes on intermediate
values (the per-epoch validation loss the engine computes), samples
conditionally with TPE, and needs no estimator wrapper.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import statistics
import time

import optuna

from ..metrics import TASK_METRICS
from ..results import canonical_json
from ._evaluate import Diverged, evaluate
from ._inner_split import as_inner_job, validation_folds
from ._job import TuningFailed, build_estimator
from ._resolve import param_names, resolve_model
from ._search_space import suggest

__all__ = ["TuningFailed", "TuningResult", "tune", "tuned_evaluate"]

_MAX_ERROR = 300  # characters of a failed trial's reason kept in the store


class TrialTimeout(RuntimeError):
    """A neural trial ran past the job's tuning time limit."""


@dataclasses.dataclass
class TuningResult:
    """What tuning chose, and every trial it ran."""

    chosen: dict  # the searched parameters of the best trial
    refit: dict  # parameters the refit sets besides those (neural: max_epochs, early_stopping)
    validation_score: float
    metric: str
    trials: list  # one dict per trial: number, params, value, state, seconds, epochs, error
    seconds: float

    def record(self, space: dict, budget: dict) -> dict:
        states = [t["state"] for t in self.trials]
        return {
            "space": space, "trials_budget": budget.get("trials"), "timeout": budget.get("timeout"),
            "chosen": self.chosen, "refit": self.refit, "metric": self.metric,
            "validation_score": self.validation_score, "tuning_seconds": self.seconds,
            "n_trials": len(states), "n_complete": states.count("complete"),
            "n_pruned": states.count("pruned"), "n_failed": states.count("failed"),
            "n_repeats": sum(bool(t.get("repeat")) for t in self.trials),
        }


@contextlib.contextmanager
def _quiet_optuna():
    """Optuna logs every trial at INFO; a worker's output is the runner's."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(previous)


def _is_neural(cls) -> bool:
    return "epoch_callback" in param_names(cls)


def _best_epoch(history) -> int | None:
    """The epoch with the lowest validation loss in a ``history_``."""
    scored = [(r["val_loss"], r["epoch"]) for r in history or [] if r.get("val_loss") is not None
              and math.isfinite(r["val_loss"])]
    return min(scored)[1] if scored else None


def _epoch_callback(trial, sign: float, deadline: float | None, report: bool):
    """Report each epoch's validation loss to ``trial`` (sign-flipped when
    the study maximises) and prune or time out the trial between epochs.
    ``deadline`` is None while no trial has completed: the first complete
    trial is what the refit needs, however long it takes."""

    def on_epoch(record: dict) -> None:
        if deadline is not None and time.monotonic() > deadline:
            raise TrialTimeout(f"tuning time limit reached at epoch {record['epoch']}")
        if report and record.get("val_loss") is not None:
            trial.report(sign * record["val_loss"], record["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {record['epoch']}")

    return on_epoch


def _make_objective(job, dataset, folds, main: str, greater: bool, deadline):
    cls = resolve_model(job.model)
    neural = _is_neural(cls)
    inner_job = as_inner_job(job)
    seen: dict = {}  # canonical params -> (value, epochs) of completed trials

    def objective(trial) -> float:
        try:
            return attempt(trial)
        except optuna.TrialPruned:
            raise
        except Exception as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:_MAX_ERROR])
            raise

    def attempt(trial) -> float:
        chosen = suggest(trial, job.search["space"])
        trial.set_user_attr("params", chosen)
        same = canonical_json(chosen)
        if same in seen:  # TPE can draw a configuration again: its score is known, refitting costs time only
            value, chosen_epochs = seen[same]
            trial.set_user_attr("repeat", True)
            if chosen_epochs is not None:
                trial.set_user_attr("epochs", chosen_epochs)
            return value
        scores, epochs = [], []
        for k, fold in enumerate(folds):
            extras = {}
            if neural:
                limit = deadline if seen else None
                extras = {"early_stopping": True,
                          "epoch_callback": _epoch_callback(trial, 1.0 if not greater else -1.0, limit, k == 0)}
            estimator = build_estimator(dataclasses.replace(job, params={**job.params, **chosen, **extras}), dataset)
            outcome = evaluate(estimator, fold, inner_job)
            value = outcome.metrics.get(main)
            if value is None or not math.isfinite(value):
                raise Diverged(f"validation {main} is {value}")
            scores.append(value)
            if neural:
                epochs.append(_best_epoch(getattr(estimator, "history_", None)))
        chosen_epochs = None
        if neural and all(e is not None for e in epochs):
            chosen_epochs = max(1, round(statistics.mean(epochs)))
            trial.set_user_attr("epochs", chosen_epochs)
        seen[same] = (float(statistics.mean(scores)), chosen_epochs)
        return seen[same][0]

    return objective


def _trial_row(t) -> dict:
    state = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(t.state.name, t.state.name.lower())
    seconds = None
    if t.datetime_start is not None and t.datetime_complete is not None:
        seconds = (t.datetime_complete - t.datetime_start).total_seconds()
    return {"number": t.number, "params": t.user_attrs.get("params", {}),
            "value": t.value if state == "complete" else None, "state": state, "seconds": seconds,
            "epochs": t.user_attrs.get("epochs"), "repeat": bool(t.user_attrs.get("repeat")),
            "error": t.user_attrs.get("error")}


def tune(job, dataset) -> TuningResult:
    """Run ``job``'s trials on validation folds of its training part.

    Raises ``TuningFailed`` when no trial completes.
    """
    budget = job.search
    main_record = TASK_METRICS[dataset.task][0]  # the task's main metric comes first
    main, greater = main_record.name, main_record.greater_is_better
    start = time.monotonic()
    deadline = None if budget.get("timeout") is None else start + budget["timeout"]
    folds = validation_folds(dataset, job, fraction=budget["validation_fraction"], n_origins=budget["n_origins"])
    sampler = optuna.samplers.TPESampler(seed=job.random_state)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=max(2, budget["trials"] // 5), n_warmup_steps=2)
    with _quiet_optuna():
        study = optuna.create_study(direction="maximize" if greater else "minimize", sampler=sampler, pruner=pruner)
        study.optimize(_make_objective(job, dataset, folds, main, greater, deadline), n_trials=budget["trials"],
                       timeout=budget.get("timeout"), catch=(Exception,), gc_after_trial=False)
    trials = [_trial_row(t) for t in study.trials]
    seconds = time.monotonic() - start
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        result = TuningResult({}, {}, None, main, trials, seconds)
        reasons = "; ".join(f"trial {t['number']} {t['state']}: {t['error'] or 'no reason recorded'}" for t in trials)
        raise TuningFailed(f"every one of {len(trials)} tuning trials failed: {reasons}",
                           result.record(budget["space"], budget), trials)
    best = study.best_trial
    refit = {}
    if best.user_attrs.get("epochs") is not None:
        refit = {"max_epochs": int(best.user_attrs["epochs"]), "early_stopping": False}
    return TuningResult(best.user_attrs["params"], refit, float(best.value), main, trials, seconds)


def tuned_evaluate(job, dataset, phase=lambda name: None):
    """Tune ``job``, refit the best configuration on the whole training part
    and score it on the test split once.

    Returns ``(outcome, estimator, record, trials)``: ``evaluate``'s outcome
    of the refit, the refit estimator, the tuning record (the store's
    ``tuning`` column) and the trial rows.
    """
    phase("tune")
    result = tune(job, dataset)
    params = {**job.params, **result.chosen, **result.refit}
    estimator = build_estimator(dataclasses.replace(job, params=params), dataset)
    start = time.monotonic()
    outcome = evaluate(estimator, dataset, job, phase)
    record = result.record(job.search["space"], job.search)
    record["refit_seconds"] = time.monotonic() - start
    return outcome, estimator, record, result.trials
