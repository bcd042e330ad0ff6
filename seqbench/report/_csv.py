"""results.csv: one row per job (n/a pairings included), for pandas."""

from __future__ import annotations

import json

import pandas as pd

__all__ = ["results_frame", "CSV_COLUMNS"]

CSV_COLUMNS = [
    "key", "run_id", "suite", "task", "dataset", "dataset_label", "model", "model_label", "family", "params",
    "seed", "random_state", "fold", "status", "main_metric", "main_value",
]
# tuned jobs: what tuning chose (JSON; with the refit's epoch count) and how
_TUNING = ["tuned", "chosen_params", "validation_score", "n_trials", "n_pruned", "n_failed", "tuning_seconds",
           "refit_seconds"]
_TAIL = ["fit_seconds", "predict_seconds", "peak_memory_mb", "memory_method", "n_parameters", "threads", "host",
         "worker", "started_at", "finished_at", "attempts", "dataset_checksum", "error", "traceback"]


def results_frame(jobs: list, metric_names: list) -> pd.DataFrame:
    """A DataFrame of ``jobs``: the identifying columns, ``main_value`` (the
    main metric), one ``metric_<name>`` column per metric in ``metric_names``
    (empty where a job has none), costs, error and traceback. ``params`` is JSON."""
    rows = []
    for job in jobs:
        metrics = job.get("metrics") or {}
        row = {c: job.get(c) for c in CSV_COLUMNS if c not in ("params", "main_value")}
        row["params"] = json.dumps(job.get("params") or {}, sort_keys=True)
        row["main_value"] = metrics.get(job.get("main_metric") or "")
        row.update({f"metric_{m}": metrics.get(m) for m in metric_names})
        row.update(_tuning_cells(job.get("tuning")))
        row.update({c: job.get(c) for c in _TAIL})
        rows.append(row)
    columns = CSV_COLUMNS + [f"metric_{m}" for m in metric_names] + _TUNING + _TAIL
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("run_id", "seed", "random_state", "fold", "n_parameters", "threads", "attempts", "n_trials",
                   "n_pruned", "n_failed"):
        frame[column] = frame[column].astype("Int64")
    return frame


def _tuning_cells(tuning: dict | None) -> dict:
    if not tuning:
        return {"tuned": False}
    chosen = {**(tuning.get("chosen") or {}), **(tuning.get("refit") or {})}
    return {"tuned": True, "chosen_params": json.dumps(chosen, sort_keys=True),
            **{c: tuning.get(c) for c in _TUNING[2:]}}
