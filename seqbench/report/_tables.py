"""Leaderboards (one per task and dataset) and the overview of which model
family wins where, by how much and at what cost."""

from __future__ import annotations

from collections import Counter

from ..metrics import family_label, metric_label, task_label
from ..results import FAILED_STATUSES
from ._aggregate import Entry, best_values, sort_key
from ._attention import attention_section
from ._blocks import Cell, Paragraph, Section, Table
from ._context import Context
from ._format import anchor, count, first_line, mean_std, num, seconds
from ._published import published_for, published_note, published_rows, published_tables

__all__ = ["leaderboards_section", "overview_section", "leaderboard_table", "dataset_caption"]


def _arrow(data, task: str, metric: str) -> str:
    return "↑" if data.greater_is_better(task, metric) else "↓"


def _failure_cell(entry: Entry) -> Cell:
    """``failed`` / ``timeout`` / ``diverged`` (the commonest), with the first reason."""
    failed = entry.failed_jobs
    status = Counter(j["status"] for j in failed).most_common(1)[0][0] if failed else "failed"
    reason = next((first_line(j.get("error")) for j in failed if j.get("error")), "")
    return Cell(status, state="failed", note=reason)


def _metric_cell(entry: Entry, metric: str, best: set) -> Cell:
    if entry.is_na:
        return Cell("n/a", state="na", note=entry.na_reason)
    if metric in entry.mean:
        return Cell(mean_std(entry.mean[metric], entry.std.get(metric)), best=entry.model in best)
    if entry.n_ok == 0:
        return _failure_cell(entry)
    return Cell("n/a", state="muted", note=f"{metric} was not computed for this model")


def _series_na(ctx: Context, entry: Entry) -> tuple[str, str]:
    """``(sub, note)`` for a forecasting entry whose ok jobs left series out
    of their scores (too short for the model): "n/a on 3 of 645 series" and
    the reasons; empty strings otherwise."""
    if entry.task != "forecast":
        return "", ""
    found = [a for j in entry.jobs if j["status"] == "ok" and (a := ctx.data.artefacts(j["key"]).get("series_na"))]
    if not found:
        return "", ""
    worst = max(found, key=lambda a: a["n_na"])
    reasons = "; ".join(f"{reason} ({n} series)" for reason, n in worst["reasons"].items())
    return f"n/a on {worst['n_na']} of {worst['n_series']} series", f"scored without them: {reasons}"


def _table_metrics(ctx: Context, task: str, dataset: str) -> list:
    """The metric columns of a leaderboard: those some model has a value for."""
    data, entries = ctx.data, ctx.groups[(task, dataset)]
    return [m for m in data.metric_names(task) if any(m in e.mean for e in entries)] or data.metric_names(task)[:1]


def leaderboard_table(ctx: Context, task: str, dataset: str) -> Table:
    """One row per model: jobs, each metric (mean ± std over seeds, best
    marked), mean fit and predict seconds, parameter count, peak memory;
    then the dataset card's published results in these metrics, unranked."""
    data = ctx.data
    entries = ctx.groups[(task, dataset)]
    metrics = _table_metrics(ctx, task, dataset)
    main = data.main_metric(task)
    best = {m: best_values(entries, m, data.greater_is_better(task, m)) for m in metrics}
    ordered = sorted(entries, key=lambda e: sort_key(e, main, data.greater_is_better(task, main or "")))
    rows = []
    for e in ordered:
        jobs_state = "na" if e.is_na else ("failed" if e.failed_jobs else "")
        jobs_note = e.na_reason if e.is_na else "; ".join(
            f"seed {j['seed']} fold {j['fold']}: {j['status']}: {first_line(j.get('error'))}" for j in e.failed_jobs)
        na_sub, na_note = _series_na(ctx, e)
        jobs_note = "; ".join(n for n in (jobs_note, na_note) if n)
        dash = Cell("n/a", state="na") if e.is_na else None
        role = "" if not ctx.is_tuned_task(task) else ("tuned" if e.tuned else "ablation (fixed; decides nothing)")
        rows.append([
            Cell(e.model, sub=role, state="" if ctx.decides(e) else "muted"), Cell(family_label(e.family)),
            Cell(e.status_text(), state=jobs_state, note=jobs_note, sub=na_sub),
            *[_metric_cell(e, m, best[m]) for m in metrics],
            dash or Cell(seconds(e.fit_seconds)), dash or Cell(seconds(e.predict_seconds)),
            dash or Cell(count(e.n_parameters)),
            dash or Cell(num(e.peak_memory_mb, 0) if e.peak_memory_mb is not None else "n/a"),
        ])
    tail = ["fit s", "predict s", "parameters", "peak MiB"]
    pub = published_for(ctx, task, dataset)
    if pub is not None:  # after the ranked rows, apart from them: see _published
        rows += published_rows(pub, metrics, {m: data.greater_is_better(task, m) for m in metrics}, len(tail))
    columns = ["model", "family", "jobs"] + [
        f"{metric_label(m)} {_arrow(data, task, m)}" + (" (main)" if m == main else "") for m in metrics
    ] + tail
    numeric = tuple(range(3, len(columns)))
    return Table(columns, rows, caption=dataset_caption(ctx, task, dataset), numeric=numeric)


def dataset_caption(ctx: Context, task: str, dataset: str) -> str:
    """``"digits: 1,437 train / 360 test sequences (real); 3 seeds; oracle accuracy 0.912"``."""
    row = ctx.dataset_row(task, dataset)
    parts = []
    if row:
        kind = f" ({row['input_kind']})" if row.get("input_kind") else ""
        parts.append(f"{count(row.get('n_train'))} train / {count(row.get('n_test'))} test sequences{kind}")
    seeds = {j["seed"] for e in ctx.groups[(task, dataset)] for j in e.jobs if j["status"] != "n/a"}
    if seeds:
        parts.append(f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}")
    folds = {j.get("fold") for e in ctx.groups[(task, dataset)] for j in e.jobs if j["status"] != "n/a"}
    if len(folds) > 1:
        parts.append(f"{len(folds)} forecast origins averaged within each seed")
    main = ctx.data.main_metric(task)
    checksums = {j.get("dataset_checksum") for e in ctx.groups[(task, dataset)] for j in e.jobs}
    oracles = [(ctx.data.dataset_meta(c).get("oracle") or {}).get(main) for c in checksums]
    oracles = [v for v in oracles if isinstance(v, (int, float))]
    if oracles:
        parts.append(f"oracle {metric_label(main)} {num(sum(oracles) / len(oracles))}"
                     + (" (mean over the seeds' samples)" if len(oracles) > 1 else ""))
    if not seeds:
        parts.append("no job ran (every pairing is n/a)")
    return f"{dataset}: " + "; ".join(parts)


def _na_note(entries: list) -> Paragraph | None:
    """One line per distinct reason: which rows are n/a and why."""
    reasons: dict = {}
    for e in entries:
        if e.is_na:
            reasons.setdefault(e.na_reason or "no reason stored", []).append(e.model)
    if not reasons:
        return None
    return Paragraph("n/a: " + "; ".join(f"{', '.join(models)}: {why}" for why, models in reasons.items()) + ".",
                     kind="note")


def leaderboards_section(ctx: Context) -> Section:
    data = ctx.data
    if not ctx.groups:
        return Section("leaderboards", "Leaderboards", [Paragraph("No job is stored for this run yet.", kind="note")])
    children = []
    for task in data.tasks:
        main = data.main_metric(task)
        direction = "higher" if data.greater_is_better(task, main or "") else "lower"
        blocks = [Paragraph(
            f"Main metric: {metric_label(main)} ({direction} is better). Each number is the mean ± standard "
            "deviation over seeds; ★ marks the best value of each column; ↑ higher is better, ↓ lower is better. "
            "Seconds are the mean fit and predict time per job. Why a job failed is under “Failed jobs”; why a "
            "pairing is n/a is said under its table (in the page, hovering over a cell also tells).", kind="note")]
        for dataset in ctx.datasets_of(task):
            table = leaderboard_table(ctx, task, dataset)
            pub = published_for(ctx, task, dataset)
            parts = [table, published_note(pub, _table_metrics(ctx, task, dataset)) if pub else None,
                     _na_note(ctx.groups[(task, dataset)]),
                     attention_section(ctx, task, dataset) if task == "classify" else None]
            blocks.append(Section(anchor("lb", task, dataset), dataset, [b for b in parts if b is not None]))
        children.append(Section(anchor("lb", task), task_label(task), blocks))
    return Section("leaderboards", "Leaderboards", children,
                   intro="Every model on every dataset, with the task's metrics, cost and status.")


# ------------------------------------------------------------------ overview
def _best_of_family(entries: list, family: str, main: str, greater: bool) -> Entry | None:
    scored = [e for e in entries if e.family == family and main in e.mean]
    if not scored:
        return None
    return sorted(scored, key=lambda e: sort_key(e, main, greater))[0]


def _family_cell(entries: list, family: str, winner: Entry | None, best: Entry | None, main: str) -> Cell:
    if best is not None:
        return Cell(mean_std(best.mean[main], best.std.get(main)), sub=best.model,
                    best=winner is not None and best.model == winner.model)
    mine = [e for e in entries if e.family == family]
    if not mine:
        return Cell("not run", state="muted")
    if any(e.tuned for e in entries) and not any(e.tuned for e in mine) and not all(e.is_na for e in mine):
        return Cell("no tuned contender", state="muted",
                    note="only fixed-configuration rows (ablations), which decide nothing")
    if all(e.is_na for e in mine):
        return Cell("n/a", state="na", note=mine[0].na_reason)
    statuses = Counter(j["status"] for e in mine for j in e.jobs if j["status"] in FAILED_STATUSES)
    return Cell(statuses.most_common(1)[0][0] if statuses else "failed", state="failed")


def _lead(winner: Entry, runner: Entry | None, main: str, greater: bool) -> Cell:
    """How far the winner is ahead of the best other family, and on how many seeds."""
    if runner is None:
        return Cell("only family with a result", state="muted")
    gap = winner.mean[main] - runner.mean[main]
    common = sorted(set(winner.seeds(main)) & set(runner.seeds(main)), key=str)
    wins = sum((winner.seeds(main)[s] > runner.seeds(main)[s]) if greater else
               (winner.seeds(main)[s] < runner.seeds(main)[s]) for s in common)
    ahead = gap > 0 if greater else gap < 0
    text = f"{num(abs(gap))} {'better' if ahead or gap == 0 else 'worse'} than {runner.model}"
    return Cell(text, sub=f"ahead on {wins} of {len(common)} seeds" if common else "")


def overview_section(ctx: Context) -> Section:
    data = ctx.data
    children = []
    for task in data.tasks:
        main = data.main_metric(task)
        if main is None:
            continue
        greater = data.greater_is_better(task, main)
        families = ctx.families_of(task)
        rows, wins, winners = [], {}, {}
        for dataset in ctx.datasets_of(task):
            entries = ctx.groups[(task, dataset)]
            bests = {f: _best_of_family(ctx.contenders(task, dataset), f, main, greater) for f in families}
            ranked = sorted((b for b in bests.values() if b is not None), key=lambda e: sort_key(e, main, greater))
            winner = ranked[0] if ranked else None
            runner = ranked[1] if len(ranked) > 1 else None
            winners[dataset] = winner
            if winner is not None:
                wins.setdefault(winner.family, []).append(dataset)
            cells = [Cell(dataset)] + [_family_cell(entries, f, winner, bests[f], main) for f in families]
            if winner is None and all(e.is_na for e in entries):
                cells += [Cell("n/a: no estimator has run on this task yet", state="na"), Cell("n/a", state="na")]
            elif winner is None:
                cells += [Cell("no results: every job failed", state="failed"), Cell("n/a", state="na")]
            else:
                versus = f"next family: {seconds(runner.fit_seconds)} s" if runner is not None else ""
                cells += [_lead(winner, runner, main, greater), Cell(f"{seconds(winner.fit_seconds)} s", sub=versus)]
            rows.append(cells)
        if not rows:
            continue
        direction = "higher" if greater else "lower"
        columns = ["dataset"] + [family_label(f) for f in families] + ["lead of the winning family",
                                                                            "fit time of winner"]
        who = ("the tuned contender of each family (fixed-configuration rows are ablations and decide nothing)"
               if ctx.is_tuned_task(task) else "best model of each family (a suite without tuning: fixed configurations)")
        table = Table(columns, rows, numeric=tuple(range(1, len(families) + 1)),
                      caption=f"{task_label(task)}: {who}, by "
                              f"{metric_label(main)} ({direction} is better), mean ± std over seeds; ★ the winner")
        blocks = [table]
        if wins:
            n = sum(len(ds) for ds in wins.values())
            blocks.append(Paragraph(f"Wins over {n} dataset{'s' if n != 1 else ''}: " + "; ".join(
                f"{family_label(f)} {len(ds)} ({', '.join(ds)})"
                for f, ds in sorted(wins.items(), key=lambda kv: -len(kv[1]))) + "."))
        blocks += published_tables(ctx, task, winners, main, greater)
        children.append(Section(anchor("ov", task), task_label(task), blocks))
    if not children:
        children = [Paragraph("No job is stored for this run yet.", kind="note")]
    return Section("overview", "Which family wins where", children, intro=(
        "For each dataset, each family's tuned contender on the task's main metric (in a suite without "
        "tuning, the best of its fixed configurations). The last columns say by how "
        "much the winning family leads the next best one (and on how many seeds it was ahead) and what its fit "
        "costs. Where a dataset's card lists published results, a second table says how far seqbench's best is from "
        "the best of them, and whether the protocols match. The statistical comparison across datasets is under "
        "“Across datasets”."))
