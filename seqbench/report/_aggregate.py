"""Per (task, dataset, model): the jobs' statuses and each metric's mean ±
std over seeds.

Folds are averaged within a seed first (rolling-origin forecasting has
several folds per seed), then the mean and the sample standard deviation
(``ddof=1``) are taken over seeds, as ``seqbench results`` does. Only jobs
with status ``ok`` contribute numbers; the others are counted by status.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ..results import FAILED_STATUSES

__all__ = ["Entry", "aggregate", "best_values", "group_by_dataset"]


@dataclass
class Entry:
    """One model on one dataset, summarised over its seeds and folds."""

    task: str
    dataset: str
    model: str
    family: str
    jobs: list = field(default_factory=list)
    per_seed: dict = field(default_factory=dict)  # metric -> {seed: fold-mean value}
    mean: dict = field(default_factory=dict)  # metric -> mean over seeds
    std: dict = field(default_factory=dict)  # metric -> std over seeds (None with one seed)
    fit_seconds: float | None = None  # mean over ok jobs
    predict_seconds: float | None = None
    n_parameters: int | None = None  # the most common count over ok jobs
    peak_memory_mb: float | None = None  # the largest over ok jobs

    @property
    def statuses(self) -> Counter:
        return Counter(j["status"] for j in self.jobs)

    @property
    def tuned(self) -> bool:
        """Whether this row is a tuned contender (its jobs carry a tuning record)."""
        return any(j.get("tuning") for j in self.jobs)

    @property
    def n_ok(self) -> int:
        return self.statuses.get("ok", 0)

    @property
    def is_na(self) -> bool:
        return bool(self.jobs) and all(j["status"] == "n/a" for j in self.jobs)

    @property
    def failed_jobs(self) -> list:
        return [j for j in self.jobs if j["status"] in FAILED_STATUSES]

    @property
    def na_reason(self) -> str:
        return next((j.get("error") or "" for j in self.jobs if j["status"] == "n/a"), "")

    def status_text(self) -> str:
        """``"ok 3/3"``, ``"ok 2/3, timeout 1"``, ``"failed 3/3"`` or ``"n/a"``."""
        if self.is_na:
            return "n/a"
        counts = self.statuses
        total = sum(n for s, n in counts.items() if s != "n/a")
        parts = [f"{s} {counts[s]}/{total}" for s in ("ok", *FAILED_STATUSES) if counts.get(s)]
        return ", ".join(parts)

    def seeds(self, metric: str) -> dict:
        return self.per_seed.get(metric, {})


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _summarise(entry: Entry) -> None:
    ok = [j for j in entry.jobs if j["status"] == "ok"]
    folds: dict = defaultdict(lambda: defaultdict(list))
    for job in ok:
        for name, value in (job.get("metrics") or {}).items():
            if value is not None and math.isfinite(value):
                folds[name][job["seed"]].append(float(value))
    for name, by_seed in folds.items():
        seed_means = {seed: sum(v) / len(v) for seed, v in sorted(by_seed.items(), key=lambda kv: str(kv[0]))}
        values = list(seed_means.values())
        entry.per_seed[name] = seed_means
        entry.mean[name] = sum(values) / len(values)
        entry.std[name] = statistics.stdev(values) if len(values) > 1 else None
    entry.fit_seconds = _mean(j.get("fit_seconds") for j in ok)
    entry.predict_seconds = _mean(j.get("predict_seconds") for j in ok)
    counts = Counter(j.get("n_parameters") for j in ok if j.get("n_parameters") is not None)
    entry.n_parameters = counts.most_common(1)[0][0] if counts else None
    memory = [j.get("peak_memory_mb") for j in ok if j.get("peak_memory_mb") is not None]
    entry.peak_memory_mb = max(memory) if memory else None


def aggregate(jobs: list) -> list[Entry]:
    """One ``Entry`` per (task, dataset label, model label), in job order."""
    entries: dict = {}
    for job in jobs:
        key = (job["task"], job["dataset_label"], job["model_label"])
        if key not in entries:
            entries[key] = Entry(job["task"], job["dataset_label"], job["model_label"], job.get("family") or "")
        entries[key].jobs.append(job)
    for entry in entries.values():
        _summarise(entry)
    return list(entries.values())


def group_by_dataset(entries: list) -> dict:
    """``{(task, dataset): [Entry, ...]}`` preserving order."""
    out: dict = {}
    for entry in entries:
        out.setdefault((entry.task, entry.dataset), []).append(entry)
    return out


def best_values(entries: list, metric: str, greater_is_better: bool, *, rel_tol: float = 1e-9) -> set:
    """Models whose mean ``metric`` is the best of ``entries`` (ties share it)."""
    scored = [(e.model, e.mean[metric]) for e in entries if metric in e.mean]
    if not scored:
        return set()
    best = max(v for _, v in scored) if greater_is_better else min(v for _, v in scored)
    return {m for m, v in scored if math.isclose(v, best, rel_tol=rel_tol, abs_tol=1e-12)}


def sort_key(entry: Entry, metric: str | None, greater_is_better: bool):
    """Best first; models without a number (failed) next; n/a pairings last."""
    if entry.is_na:
        return (2, 0.0, entry.model)
    if metric is None or metric not in entry.mean:
        return (1, 0.0, entry.model)
    value = entry.mean[metric]
    return (0, -value if greater_is_better else value, entry.model)
