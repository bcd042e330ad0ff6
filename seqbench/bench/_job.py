"""Run one job in the current process and describe what happened.

``run_job`` never raises for a job's own failure: it returns a result dict
with ``status`` ``ok``, ``failed`` (an exception), ``diverged`` (NaN or inf),
``n/a`` (a series too short for the model's window, season or order:
``SeriesTooShortError``) or ``timeout`` (``JobTimeout``, raised by the serial
executor's alarm), the
metrics, timings, peak memory, parameter count, artefacts, the error and
traceback, the versions, host and worker. Executors that isolate jobs in
worker processes add the ``timeout`` and worker-death results themselves
(``failure_result``).
"""

from __future__ import annotations

import inspect
import os
import socket
import traceback
import warnings

from ..data import SeriesTooShortError
from ..metrics import main_metric
from ..results import now_iso
from ._datasets import load_dataset
from ._evaluate import Diverged, evaluate
from ._resolve import coerce_params, param_names, resolve_model
from ._resources import PeakMemory, count_parameters, limit_threads, package_versions

__all__ = ["run_job", "build_estimator", "JobTimeout", "TuningFailed", "failure_result"]

_VERSIONS: dict | None = None
_MAX_WARNINGS = 20


class TuningFailed(RuntimeError):
    """Every tuning trial of a job failed; ``record`` and ``trials`` say why."""

    def __init__(self, message: str, record: dict, trials: list):
        super().__init__(message)
        self.record, self.trials = record, trials


class JobTimeout(BaseException):
    """Raised inside a job when it exceeds its time limit (serial executor).

    A BaseException, so that a model's own ``except Exception`` cannot
    swallow it."""


def _versions() -> dict:
    global _VERSIONS
    if _VERSIONS is None:
        _VERSIONS = package_versions()
    return _VERSIONS


def _base_result(job) -> dict:
    return {
        "key": job.key,
        "host": socket.gethostname(),
        "worker": f"pid {os.getpid()}",
        "versions": _versions(),
        "started_at": now_iso(),
        "main_metric": main_metric(job.task),
        "threads": job.threads,
    }


def failure_result(job, status: str, error: str, *, started_at: str | None = None, worker: str | None = None) -> dict:
    """A result for a job that did not report back (timeout, dead worker)."""
    return {
        "key": job.key,
        "status": status,
        "error": error,
        "traceback": None,
        "host": socket.gethostname(),
        "worker": worker,
        "started_at": started_at or now_iso(),
        "finished_at": now_iso(),
        "main_metric": main_metric(job.task),
        "threads": job.threads,
    }


def build_estimator(job, dataset):
    """The job's estimator: the suite's parameters, plus (when the class has
    them and the suite did not set them) ``random_state`` from the job's
    derived seed and, for forecasters, ``horizon`` from the dataset.

    ``num_threads`` is capped at the worker's thread budget: a budget is an
    upper bound, so an estimator's own smaller default (1 for the neural
    estimators, which are fastest single-threaded at these sizes) is kept,
    and a larger value, or None ("all"), becomes the budget.
    """
    cls = resolve_model(job.model)
    names = set(param_names(cls))
    params = coerce_params(cls, job.params)
    if "random_state" in names and "random_state" not in params:
        params["random_state"] = job.random_state
    if "num_threads" in names and job.threads is not None:
        wanted = params.get("num_threads", _default(cls, "num_threads"))
        if wanted is None or wanted > job.threads:
            params["num_threads"] = job.threads
    horizon = (getattr(dataset, "meta", None) or {}).get("horizon")
    if "horizon" in names and "horizon" not in params and horizon is not None:
        params["horizon"] = int(horizon)
    return cls(**params)


def _default(cls, name: str):
    param = inspect.signature(cls.__init__).parameters.get(name)
    return None if param is None or param.default is inspect.Parameter.empty else param.default


def run_job(job, *, phase=lambda name: None) -> dict:
    """Run ``job`` here; return its result dict (see the module docstring)."""
    result = _base_result(job)
    memory = PeakMemory()
    caught: list = []
    try:
        with limit_threads(job.threads), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            phase("load")
            dataset, checksum = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
            _check_same_data(job, checksum)
            if job.search:
                outcome, estimator = _tuned(job, dataset, phase, result)
            else:
                estimator = build_estimator(job, dataset)
                outcome = evaluate(estimator, dataset, job, phase)
        result.update(
            status="ok",
            metrics=outcome.metrics,
            fit_seconds=outcome.fit_seconds,
            predict_seconds=outcome.predict_seconds,
            n_parameters=count_parameters(estimator),
            artefacts={**result.get("artefacts", {}), **outcome.artefacts},
        )
    except JobTimeout as exc:
        result.update(status="timeout", error=str(exc), traceback=traceback.format_exc())
    except Diverged as exc:
        result.update(status="diverged", error=f"diverged: {exc}", traceback=traceback.format_exc())
    except SeriesTooShortError as exc:  # the data cannot be scored by this model at all: n/a, not a failure
        result.update(status="n/a", error=f"series too short: {exc}")
    except Exception as exc:  # noqa: BLE001 - a job's failure is a result, not a crash of the run
        if isinstance(exc, TuningFailed):  # keep the trials and their reasons
            result.update(tuning=exc.record, artefacts={"trials": exc.trials})
        status = "diverged" if isinstance(exc, FloatingPointError) or "Diverg" in type(exc).__name__ else "failed"
        result.update(status=status, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    result["peak_memory_mb"] = memory.stop()
    result["memory_method"] = memory.method
    result["finished_at"] = now_iso()
    if caught:
        result.setdefault("artefacts", {})["warnings"] = _summarise_warnings(caught)
    return result


def _tuned(job, dataset, phase, result: dict):
    """Tune, refit and test a tuned job; the tuning record and trials go into ``result``."""
    # optuna takes about 2 s to import: only workers that run a tuned job pay it
    from ._tuning import tuned_evaluate

    outcome, estimator, record, trials = tuned_evaluate(job, dataset, phase)
    result.update(tuning=record, artefacts={"trials": trials})
    return outcome, estimator


def _check_same_data(job, got: str) -> None:
    """Refuse to run on data that differs from what the plan fingerprinted
    (a non-deterministic loader, or another version of a fetched file on a
    remote worker): the job's key would lie about its data."""
    if got != job.dataset_checksum:
        raise ValueError(
            f"dataset {job.dataset_label!r} on this worker has checksum {got[:12]}... but the plan saw "
            f"{job.dataset_checksum[:12]}...; the loader is not deterministic or the worker has other data"
        )


def _summarise_warnings(caught: list) -> list:
    """Distinct warnings (category and first line), with counts, at most 20."""
    counts: dict = {}
    for w in caught:
        text = f"{w.category.__name__}: {str(w.message).splitlines()[0] if str(w.message) else ''}"
        counts[text] = counts.get(text, 0) + 1
    return [{"warning": text, "count": n} for text, n in list(counts.items())[:_MAX_WARNINGS]]
