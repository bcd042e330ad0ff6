"""The "Tuning" section: what tuning chose, validation against test, trials
and cost per tuned contender, and how the best validation score grew with
the trials (one line per family).

Reads each tuned job's ``tuning`` column and ``trials`` artefact (written
by ``seqbench.bench._tuning``); nothing is refitted.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..metrics import family_label, metric_label, task_label
from ._blocks import Cell, Figure, Paragraph, Section, Table
from ._context import Context
from ._format import anchor, num, seconds
from ._render import _RC, _figure, _short, family_colour, figure_block

__all__ = ["tuning_section", "best_so_far", "tuning_curves", "describe_space"]


def _params_text(params: dict) -> str:
    return ", ".join(f"{k}={num(v, 4) if isinstance(v, float) else v}" for k, v in sorted(params.items())) or "-"


def describe_space(space: dict) -> str:
    """One line for people: ``hidden_size in {32, 64}; lr in [0.0001, 0.01] (log)``."""
    parts = []
    for name, spec in space.items():
        if "choices" in spec:
            parts.append(f"{name} in {{{', '.join(str(c) for c in spec['choices'])}}}")
        else:
            kind = ", ".join(k for k in ("log", "int") if spec.get(k))
            parts.append(f"{name} in [{spec['low']:g}, {spec['high']:g}]" + (f" ({kind})" if kind else ""))
    return "; ".join(parts)


def _spaces_note(entries: list) -> Paragraph | None:
    """Each tuned model's search space and the budget, from its first job's record."""
    seen = {}
    for e in entries:
        record = next((j["tuning"] for j in e.jobs if j.get("tuning")), None)
        if record and e.model not in seen:
            seen[e.model] = record
    if not seen:
        return None
    budgets = sorted({r.get("trials_budget") for r in seen.values()}, key=str)
    text = "; ".join(f"{model}: {describe_space(r.get('space') or {})}" for model, r in seen.items())
    return Paragraph(f"Budget: {', '.join(map(str, budgets))} trials per job. Search spaces: {text}.", kind="note")


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _chosen_cell(jobs: list) -> Cell:
    """Distinct chosen configurations with the seeds that chose each."""
    configs: dict = defaultdict(list)
    for j in jobs:
        t = j["tuning"]
        configs[_params_text({**(t.get("chosen") or {}), **(t.get("refit") or {})})].append(str(j["seed"]))
    lines = [f"{text} (seed{'s' if len(s) > 1 else ''} {', '.join(s)})" for text, s in configs.items()]
    return Cell(lines[0], sub="; ".join(lines[1:]))


def _row(entry, main: str) -> list:
    jobs = [j for j in entry.jobs if j.get("tuning")]
    ok = [j for j in jobs if j["status"] == "ok"]
    records = [j["tuning"] for j in jobs]
    if not ok:
        return [Cell(entry.model), Cell(family_label(entry.family)),
                Cell("every job failed", state="failed"), Cell("-"), Cell("-"),
                Cell(f"{sum(r.get('n_trials', 0) for r in records)}"), Cell("-"), Cell("-")]
    validation = _mean(j["tuning"].get("validation_score") for j in ok)
    test = entry.mean.get(main)
    return [
        Cell(entry.model), Cell(family_label(entry.family)), _chosen_cell(ok),
        Cell(num(validation)), Cell(num(test)),
        Cell(f"{sum(r.get('n_trials', 0) for r in records)}",
             sub=f"{sum(r.get('n_pruned', 0) for r in records)} pruned, {sum(r.get('n_failed', 0) for r in records)} failed"),
        Cell(seconds(_mean(r.get("tuning_seconds") for r in records))),
        Cell(seconds(_mean(j["tuning"].get("refit_seconds") for j in ok))),
    ]


def best_so_far(trials: list, greater: bool) -> list:
    """Best validation value after each trial (None before the first complete one)."""
    out, best = [], None
    for t in sorted(trials, key=lambda t: t["number"]):
        value = t.get("value") if t.get("state") == "complete" else None
        if value is not None and math.isfinite(value):
            best = value if best is None else (max(best, value) if greater else min(best, value))
        out.append(best)
    return out


def tuning_curves(ctx: Context, task: str, dataset: str) -> dict | None:
    """``{"dataset", "metric", "greater", "curves": {family: [mean best-so-far per trial]}}``,
    averaged over the family's tuned jobs on ``dataset``."""
    main = ctx.data.main_metric(task)
    greater = ctx.data.greater_is_better(task, main or "")
    curves = {}
    for entry in ctx.groups.get((task, dataset), []):
        runs = [best_so_far(ctx.data.artefacts(j["key"]).get("trials") or [], greater)
                for j in entry.jobs if j.get("tuning") and j["status"] == "ok"]
        runs = [r for r in runs if r]
        if not runs:
            continue
        n = max(len(r) for r in runs)
        padded = np.array([[np.nan if v is None else v for v in r] + [np.nan] * (n - len(r)) for r in runs], float)
        with np.errstate(all="ignore"):
            mean = [float(np.nanmean(col)) if np.isfinite(col).any() else None for col in padded.T]
        curves[entry.family] = mean
    return {"dataset": dataset, "metric": main, "greater": greater, "curves": curves} if curves else None


def render_tuning_curves(task: str, panels: list) -> Figure:
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(panels))
        for ax, d in zip(axes, panels):
            for family, values in d["curves"].items():
                x = np.arange(1, len(values) + 1)
                y = [np.nan if v is None else v for v in values]
                ax.plot(x, y, marker="o", markersize=3, color=family_colour(family),
                        label=_short(family_label(family), 30))
            ax.set_title(_short(d["dataset"], 50))
            ax.set_xlabel("trial")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel(f"best validation {metric_label(d['metric'])}")
            ax.legend(fontsize=7.5, frameon=False)
            ax.grid(alpha=0.3)
    return figure_block(fig, alt=f"{task}: best validation score so far against trial number, per family",
                     caption="Best validation score after each trial (mean over seeds), one line per family: a "
                             "curve still improving at the last trial says the budget was tight for that family.")


def tuning_section(ctx: Context) -> Section:
    children = []
    for task in ctx.data.tasks:
        if not ctx.is_tuned_task(task):
            continue
        main = ctx.data.main_metric(task)
        note = _spaces_note([e for e in ctx.entries if e.task == task and e.tuned])
        blocks, panels = [note] if note else [], []
        for dataset in ctx.datasets_of(task):
            tuned = [e for e in ctx.groups[(task, dataset)] if e.tuned]
            if not tuned:
                continue
            columns = ["model", "family", "chosen hyper-parameters", f"validation {metric_label(main)}",
                       f"test {metric_label(main)}", "trials", "tuning s per job", "refit s"]
            blocks.append(Table(columns, [_row(e, main) for e in tuned], numeric=(3, 4, 5, 6, 7),
                                caption=f"{dataset}: tuned contenders"))
            curves = tuning_curves(ctx, task, dataset)
            if curves is not None:
                panels.append(curves)
        if panels:
            blocks.append(render_tuning_curves(task, panels))
        children.append(Section(anchor("tu", task), task_label(task), blocks))
    if not children:
        children = [Paragraph("No job of this run was tuned: the suite has no search spaces ([tuning] and "
                              "search = {...}), so every row is a fixed configuration.", kind="note")]
    return Section("tuning", "Tuning", children, intro=(
        "Each family's contender was tuned inside every job on validation data cut from the training part only "
        "(a hold-out, rolling origins on the training series, or the tail of the training text), with the same "
        "trial budget; the best trial's configuration was refit on the whole training part and scored on the "
        "test split once. Validation and test scores are means over seeds; a large gap between them is "
        "over-fitting of the search to the validation data. Neural refits train for the epoch count chosen on "
        "validation (max_epochs in the chosen parameters)."))
