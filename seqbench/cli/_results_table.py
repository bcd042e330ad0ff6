"""``seqbench results``: what a store holds, as plain-text tables.

Per task and dataset, one line per model: jobs ok out of jobs stored, each
metric as mean ± std over seeds (folds averaged within a seed first), mean
fit and predict seconds, parameter count. Then every failed job with its
status and reason, and the n/a pairings.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..metrics import TASK_METRICS
from ..results import FAILED_STATUSES

__all__ = ["format_results", "summarise"]


def _mean_std(values: list) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, std


def summarise(rows: list) -> list[dict]:
    """One dict per (task, dataset_label, model_label) with ok and total job
    counts, ``metrics`` {name: (mean, std)} over seeds, mean seconds, params."""
    groups: dict = defaultdict(list)
    for row in rows:
        if row["status"] != "n/a":
            groups[(row["task"], row["dataset_label"], row["model_label"])].append(row)
    out = []
    for (task, dataset, model), items in groups.items():
        ok = [r for r in items if r["status"] == "ok"]
        per_seed: dict = defaultdict(lambda: defaultdict(list))
        for r in ok:
            for name, value in (r["metrics"] or {}).items():
                if value is not None:
                    per_seed[name][r["seed"]].append(value)
        metrics = {name: _mean_std([sum(v) / len(v) for v in seeds.values()]) for name, seeds in per_seed.items()}
        out.append({
            "task": task, "dataset": dataset, "model": model, "ok": len(ok), "jobs": len(items), "metrics": metrics,
            "fit_seconds": _mean([r["fit_seconds"] for r in ok]),
            "predict_seconds": _mean([r["predict_seconds"] for r in ok]),
            "n_parameters": next((r["n_parameters"] for r in ok if r["n_parameters"] is not None), None),
        })
    return out


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _num(value, digits: int = 3) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000 or (value != 0 and abs(value) < 10 ** -digits):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def _pm(mean: float, std: float) -> str:
    """``mean ± std`` with both in the same format (three decimals, or three
    significant digits for very large or very small means)."""
    if abs(mean) >= 1000 or (mean != 0 and abs(mean) < 1e-3):
        return f"{mean:.3g} ± {std:.2g}"
    return f"{mean:.3f} ± {std:.3f}"


def _grid(header: list, lines: list) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(line) for line in lines]


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={_num(v, 4) if isinstance(v, float) else v}" for k, v in sorted(params.items())) or "-"


def _chosen_lines(rows: list) -> list[str]:
    """What tuning chose for each tuned model of one dataset, per distinct
    configuration with the seeds that chose it, and the mean validation score."""
    tuned: dict = defaultdict(list)
    for r in rows:
        if r["status"] == "ok" and r.get("tuning"):
            tuned[r["model_label"]].append(r)
    out = []
    for model, items in sorted(tuned.items()):
        configs: dict = defaultdict(list)
        for r in items:
            configs[_params_text({**r["tuning"]["chosen"], **r["tuning"].get("refit", {})})].append(str(r["seed"]))
        scores = [r["tuning"]["validation_score"] for r in items if r["tuning"].get("validation_score") is not None]
        trials = sum(r["tuning"]["n_trials"] for r in items)
        pruned = sum(r["tuning"]["n_pruned"] for r in items)
        head = (f"  tuned {model}: validation {items[0]['tuning']['metric']} {_num(_mean(scores))}, "
                f"{trials} trials ({pruned} pruned), {_num(_mean([r['tuning']['tuning_seconds'] for r in items]), 2)} s "
                "tuning per job; chose")
        out.append(head)
        out += [f"    {text}  (seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)})" for text, seeds in configs.items()]
    return out


def format_results(rows: list, *, header: str = "", every_job: bool = False) -> str:
    """The text ``seqbench results`` prints for job ``rows`` (store.jobs())."""
    out = [header] if header else []
    summary = summarise(rows)
    for task, task_metrics in TASK_METRICS.items():
        names = [m.name for m in task_metrics]
        for dataset in sorted({s["dataset"] for s in summary if s["task"] == task}):
            items = [s for s in summary if s["task"] == task and s["dataset"] == dataset]
            main = task_metrics[0].name
            better = "higher" if task_metrics[0].greater_is_better else "lower"
            out += ["", f"{task} / {dataset}  (main metric: {main}, {better} is better; mean ± std over seeds)"]
            lines = [[s["model"], f"{s['ok']}/{s['jobs']}"]
                     + [_pm(*s["metrics"][n]) if n in s["metrics"] else "-" for n in names]
                     + [_num(s["fit_seconds"], 2), _num(s["predict_seconds"], 2),
                        "-" if s["n_parameters"] is None else str(s["n_parameters"])]
                     for s in sorted(items, key=lambda s: s["model"])]
            out += _grid(["model", "ok"] + names + ["fit s", "predict s", "params"], lines)
            out += _chosen_lines([r for r in rows if r["task"] == task and r["dataset_label"] == dataset])
    failed = [r for r in rows if r["status"] in FAILED_STATUSES]
    out += ["", f"failed jobs: {len(failed)}"]
    for r in failed:
        reason = (r["error"] or "").strip().splitlines()
        out.append(f"  {r['status'].upper():8} {r['task']} / {r['dataset_label']} / {r['model_label']} "
                   f"seed {r['seed']} fold {r['fold']}: {reason[0] if reason else ''}")
    na = [r for r in rows if r["status"] == "n/a"]
    if na:
        out += ["", f"n/a pairings: {len(na)}"]
        out += [f"  {r['task']} / {r['dataset_label']} / {r['model_label']}: {r['error']}" for r in na]
    if every_job:
        out += ["", "every job:"]
        lines = [[r["key"][:12], r["status"], r["task"], r["dataset_label"], r["model_label"], str(r["seed"]),
                  str(r["fold"]), _num((r["metrics"] or {}).get(r["main_metric"] or "")), _num(r["fit_seconds"], 2)]
                 for r in rows if r["status"] != "n/a"]
        out += _grid(["key", "status", "task", "dataset", "model", "seed", "fold", "main", "fit s"], lines)
    return "\n".join(out)
