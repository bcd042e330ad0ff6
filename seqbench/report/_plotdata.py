"""What each plot shows, as plain data (benchopt style: these functions
return data; ``_render`` draws it).

Every function reads only the context (the store); none fits anything.
"""

from __future__ import annotations

import math

import numpy as np

from ._aggregate import sort_key
from ._context import Context

__all__ = ["cost_frontier", "learning_curves", "forecasts", "confusion", "oracle_distance", "own_split"]

MAX_FORECAST_PANELS = 3


def own_split(job: dict) -> bool:
    """Whether ``job`` scored the dataset's own test split: always, except the
    earlier origins of rolling-origin forecasting (only its last fold is)."""
    protocol = job.get("protocol") or {}
    if protocol.get("protocol") != "rolling_origin":
        return True
    return job.get("fold") == int(protocol.get("n_origins", 1)) - 1


def _pareto(points: list, greater: bool) -> None:
    """Mark ``point["pareto"]``: no other point is at least as fast and as good, and better in one."""
    for p in points:
        p["pareto"] = not any(
            q is not p and q["fit_seconds"] <= p["fit_seconds"]
            and (q["score"] >= p["score"] if greater else q["score"] <= p["score"])
            and (q["fit_seconds"] < p["fit_seconds"] or q["score"] != p["score"])
            for q in points
        )


def cost_frontier(ctx: Context, task: str) -> dict | None:
    """``{"task", "metric", "greater", "panels": [{"dataset", "points": [...]}]}``;
    a point is one model: mean fit seconds, main-metric mean and std over seeds."""
    metric = ctx.data.main_metric(task)
    greater = ctx.data.greater_is_better(task, metric or "")
    panels = []
    for dataset in ctx.datasets_of(task):
        points = [
            {"model": e.model, "family": e.family, "fit_seconds": max(e.fit_seconds, 1e-6),
             "score": e.mean[metric], "std": e.std.get(metric)}
            for e in ctx.groups[(task, dataset)]
            if metric in e.mean and e.fit_seconds is not None
        ]
        if points:
            _pareto(points, greater)
            panels.append({"dataset": dataset, "points": points})
    return {"task": task, "metric": metric, "greater": greater, "panels": panels} if panels else None


def learning_curves(ctx: Context, task: str) -> dict | None:
    """Per-epoch training (and validation) loss of every job that stored a
    ``history_``: ``{"task", "panels": [{"dataset", "curves": [{"model",
    "family", "seed", "epochs", "train_loss", "val_loss"}]}]}``."""
    panels = []
    for dataset in ctx.datasets_of(task):
        curves = []
        for e in ctx.groups[(task, dataset)]:
            for job in e.jobs:
                if job["status"] != "ok" or not own_split(job):
                    continue
                history = ctx.data.artefacts(job["key"]).get("learning_curve") or []
                rows = [h for h in history if isinstance(h, dict) and h.get("train_loss") is not None]
                if not rows:
                    continue
                val = [h.get("val_loss") for h in rows]
                val = [None if v is None else float(v) for v in val] if any(v is not None for v in val) else None
                curves.append({
                    "model": e.model, "family": e.family, "seed": job["seed"],
                    "epochs": [h.get("epoch", i + 1) for i, h in enumerate(rows)],
                    "train_loss": [float(h["train_loss"]) for h in rows],
                    "val_loss": val,
                })
        if curves:
            panels.append({"dataset": dataset, "curves": curves})
    return {"task": task, "panels": panels} if panels else None


def _first_dim(values) -> list:
    arr = np.asarray(values, dtype=float)
    return (arr.reshape(len(arr), -1)[:, 0] if arr.size else arr).tolist()


def forecasts(ctx: Context, dataset: str) -> dict | None:
    """The first seed's forecasts on the dataset's own split, for up to
    ``MAX_FORECAST_PANELS`` series: ``{"dataset", "seed", "series":
    [{"index", "history", "truth", "origin", "forecasts": {model: values}}]}``
    (first dimension of multivariate series)."""
    entries = ctx.groups.get(("forecast", dataset), [])
    jobs = [j for e in entries for j in e.jobs if j["status"] == "ok" and own_split(j)]
    if not jobs:
        return None
    seed = sorted({j["seed"] for j in jobs}, key=str)[0]
    series: dict = {}
    for job in (j for j in jobs if j["seed"] == seed):
        stored = (ctx.data.artefacts(job["key"]).get("forecasts") or {}).get("series") or []
        for item in stored[:MAX_FORECAST_PANELS]:
            slot = series.setdefault(item["series"], {
                "index": item["series"], "history": _first_dim(item["history"]), "origin": item.get("origin"),
                "truth": _first_dim(item["truth"]), "forecasts": {}})
            slot["forecasts"][job["model_label"]] = _first_dim(item["forecast"])
    if not series:
        return None
    return {"dataset": dataset, "seed": seed, "series": [series[k] for k in sorted(series)]}


def _summed_matrix(ctx: Context, jobs: list) -> tuple[list, np.ndarray] | None:
    """Confusion matrices of ``jobs`` summed over seeds and folds, on the union of their labels."""
    stored = [ctx.data.artefacts(j["key"]).get("confusion_matrix") for j in jobs]
    stored = [s for s in stored if s and s.get("labels")]
    if not stored:
        return None
    labels = sorted({lab for s in stored for lab in s["labels"]}, key=_label_key)
    index = {lab: i for i, lab in enumerate(labels)}
    total = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for s in stored:
        idx = [index[lab] for lab in s["labels"]]
        total[np.ix_(idx, idx)] += np.asarray(s["matrix"], dtype=np.int64)
    return labels, total


def _label_key(label: str):
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def confusion(ctx: Context, task: str, dataset: str) -> dict | None:
    """The best model of each family (main metric) and its confusion matrix
    summed over its jobs: ``{"dataset", "metric", "panels": [{"family",
    "model", "score", "labels", "matrix"}]}``."""
    metric = ctx.data.main_metric(task)
    greater = ctx.data.greater_is_better(task, metric or "")
    panels = []
    for family in ctx.families_of(task):
        scored = [e for e in ctx.contenders(task, dataset) if e.family == family and metric in e.mean]
        if not scored:
            continue
        best = sorted(scored, key=lambda e: sort_key(e, metric, greater))[0]
        summed = _summed_matrix(ctx, [j for j in best.jobs if j["status"] == "ok"])
        if summed is not None:
            panels.append({"family": family, "model": best.model, "score": best.mean[metric],
                           "labels": summed[0], "matrix": summed[1].tolist()})
    return {"dataset": dataset, "metric": metric, "panels": panels} if panels else None


def oracle_distance(ctx: Context, task: str, dataset: str) -> dict | None:
    """Score minus the oracle's per model, on datasets whose card gives an
    oracle for the main metric: ``{"dataset", "metric", "greater",
    "oracle", "baseline", "models": [{"model", "family", "mean", "std", "n"}]}``.

    Each job is compared with the oracle of its own sample (synthetic data
    draw a new sample per seed); the differences are averaged within a seed,
    then over seeds. ``baseline`` is the trivial baseline minus the oracle
    (when the card gives one), ``oracle`` the oracle's mean score.
    """
    metric = ctx.data.main_metric(task)
    greater = ctx.data.greater_is_better(task, metric or "")
    rows, oracles, baselines = [], [], []
    for e in ctx.groups.get((task, dataset), []):
        by_seed: dict = {}
        for job in e.jobs:
            value = (job.get("metrics") or {}).get(metric)
            oracle = ctx.data.dataset_meta(job.get("dataset_checksum")).get("oracle") or {}
            target = oracle.get(metric)
            if job["status"] != "ok" or value is None or not isinstance(target, (int, float)) or not own_split(job):
                continue
            by_seed.setdefault(job["seed"], []).append(value - target)
            oracles.append(target)
            if isinstance(oracle.get(f"baseline_{metric}"), (int, float)):
                baselines.append(oracle[f"baseline_{metric}"] - target)
        if by_seed:
            diffs = [sum(v) / len(v) for v in by_seed.values()]
            std = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else None
            rows.append({"model": e.model, "family": e.family, "mean": float(np.mean(diffs)), "std": std,
                         "n": len(diffs)})
    if not rows:
        return None
    rows.sort(key=lambda r: -r["mean"] if greater else r["mean"])
    baseline = float(np.mean(baselines)) if baselines else None
    return {"dataset": dataset, "metric": metric, "greater": greater, "oracle": float(np.mean(oracles)),
            "baseline": None if baseline is None or not math.isfinite(baseline) else baseline, "models": rows}
