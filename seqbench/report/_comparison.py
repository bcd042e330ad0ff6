"""The "Across datasets" section: average ranks, Friedman test, Nemenyi
post-hoc p-values and the critical-difference diagram, per task."""

from __future__ import annotations

from ..metrics import family_label, metric_label, task_label
from ._blocks import Cell, Paragraph, Section, Table
from ._context import Context
from ._format import anchor, num
from ._render import render_cd_diagram
from ._stats import Comparison, compare_task

__all__ = ["comparison_section", "rank_table", "friedman_text"]

MAX_PVALUE_TABLE = 12  # models; larger p-value tables are left to the CSV


def rank_table(c: Comparison) -> Table:
    """Per model: its rank on each dataset and its average rank (best marked)."""
    best = c.average_ranks.min()
    rows = []
    for model, average in c.average_ranks.items():
        cells = [Cell(model), Cell(family_label(c.families.get(model, "")))]
        for dataset in c.ranks.index:
            failed = (dataset, model) in c.failed_cells
            cells.append(Cell(f"{c.ranks.loc[dataset, model]:g}" + (" (failed)" if failed else ""),
                              state="failed" if failed else "", best=c.ranks.loc[dataset, model] == 1))
        cells.append(Cell(f"{average:.2f}", best=abs(average - best) < 1e-12))
        rows.append(cells)
    columns = ["model", "family", *[f"rank on {d}" for d in c.ranks.index], "average rank"]
    return Table(columns, rows, numeric=tuple(range(2, len(columns))),
                 caption=f"Rank of each model on each dataset by {metric_label(c.metric)} (mean over seeds; "
                         "1 = best, ties share the mean rank), best first.")


def friedman_text(c: Comparison) -> str:
    if c.friedman is None:
        return c.skipped
    stat, p = c.friedman
    verdict = (f"p < {c.alpha}: the models' ranks differ more than chance would explain; the diagram below shows "
               "which pairs the Nemenyi post-hoc test separates." if c.significant else
               f"p ≥ {c.alpha}: the differences in rank could be chance, so no pair of models should be called "
               "different on this evidence (the diagram is drawn for reference).")
    caution = (" With fewer than about ten datasets the test has little power; read the p-value as a guide."
               if c.n_datasets < 10 else "")
    return (f"Friedman test over {c.n_datasets} datasets and {c.n_models} models: χ² = {stat:.2f}, p = {num(p, 3)}. "
            f"{verdict}{caution}")


def _pvalue_table(c: Comparison) -> Table:
    models = list(c.average_ranks.index)
    rows = [[Cell(a)] + [Cell("–", state="muted") if a == b else
                         Cell(num(float(c.nemenyi.loc[a, b]), 3), best=float(c.nemenyi.loc[a, b]) < c.alpha)
                         for b in models] for a in models]
    return Table(["model", *models], rows, numeric=tuple(range(1, len(models) + 1)),
                 caption=f"Nemenyi post-hoc p-values (★: p < {c.alpha}, the pair differs significantly).")


def _task_section(ctx: Context, task: str) -> Section | None:
    c = compare_task(ctx, task)
    if c is None:
        return None
    blocks = [rank_table(c)]
    notes = []
    if c.failed_cells:
        notes.append("A model whose every job failed on a dataset ranks last there: "
                     + ", ".join(f"{m} on {d}" for d, m in c.failed_cells) + ".")
    tried = {e.model for e in ctx.entries if e.task == task and not e.is_na}
    excluded = {m: why for m, why in c.excluded.items() if m in tried}  # n/a everywhere: nothing to rank
    if excluded:
        notes.append("Not ranked (the test needs every ranked model on every dataset, and ranks only the tuned "
                     "contenders when the suite tunes): " + "; ".join(f"{m} ({why})" for m, why in excluded.items()) + ".")
    if c.dropped_datasets:
        notes.append("Datasets left out: " + "; ".join(f"{d} ({why})" for d, why in c.dropped_datasets.items()) + ".")
    blocks += [Paragraph(n, kind="note") for n in notes]
    blocks.append(Paragraph(friedman_text(c), kind="" if c.friedman is not None else "warning"))
    if c.friedman is not None:
        blocks.append(render_cd_diagram(c))
        if c.n_models <= MAX_PVALUE_TABLE:
            blocks.append(_pvalue_table(c))
    return Section(anchor("cmp", task), task_label(task), blocks)


def comparison_section(ctx: Context) -> Section:
    children = [s for s in (_task_section(ctx, t) for t in ctx.data.tasks) if s is not None]
    intro = ("Is the difference real? Within each task, models are ranked on every dataset by the main metric; the "
             "Friedman test asks whether the average ranks differ more than chance would explain, and the "
             "critical-difference diagram (Nemenyi post-hoc test, scikit-posthocs) shows which models cannot be "
             "told apart.")
    if not children:
        children = [Paragraph("No task has a scored model yet.", kind="warning")]
    return Section("across-datasets", "Across datasets", children, intro=intro)
