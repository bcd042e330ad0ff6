"""The "Across series" section: on a forecasting dataset of many series (a
competition subset such as M3 monthly, 1,428 series), models are ranked on
every series by that series' MASE, and a Friedman test over the series asks
whether the average ranks differ more than chance would explain. Hundreds of
series give the test a power that a handful of datasets cannot.

A model's score on a series is the mean over its ``ok`` jobs (seeds and
folds) of the per-series MASE the runner stores (``per_series`` artefact).
Only jobs scored on the same series count; models without such scores on a
dataset are listed as left out. A series that is n/a for some model (too
short for its season or window: None in its ``per_series``) is left out of
the ranks of every model, and the section says how many and for whom.
Statistics come from scipy.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..metrics import family_label
from ._blocks import Cell, Paragraph, Section, Table
from ._context import Context
from ._format import anchor, num

__all__ = ["SeriesComparison", "compare_series", "series_section", "MIN_SERIES"]

MIN_SERIES = 10  # fewer series: the datasets comparison is the one to read
_MIN_MODELS = 3


@dataclass
class SeriesComparison:
    """One dataset's per-series comparison (pure data).

    scores : ``(n_series, n_models)`` per-series MASE, mean over jobs.
    average_ranks : ``{model: mean rank over series}``, best first.
    friedman : ``(statistic, p_value)`` or None when fewer than 3 models.
    """

    dataset: str
    models: list
    scores: np.ndarray
    average_ranks: dict
    wins: dict
    friedman: tuple | None
    families: dict = field(default_factory=dict)
    left_out: dict = field(default_factory=dict)  # model -> reason
    series_na: dict = field(default_factory=dict)  # model -> series n/a for it (left out of the ranks)
    n_series: int = 0  # the dataset's series, those left out included


def _model_scores(ctx: Context, entry) -> np.ndarray | None:
    """Mean per-series MASE over the entry's ok jobs that stored it (NaN
    where a series was n/a for the model)."""
    rows = []
    for job in entry.jobs:
        if job["status"] != "ok":
            continue
        per_series = (ctx.data.artefacts(job["key"]).get("per_series") or {}).get("mase")
        if per_series:
            rows.append(np.asarray(per_series, dtype=np.float64))
    if not rows or len({len(r) for r in rows}) != 1:
        return None
    return np.mean(rows, axis=0)


def compare_series(ctx: Context, dataset: str) -> SeriesComparison | None:
    """Ranks of the models over the series of one forecasting dataset; None
    when it has fewer than ``MIN_SERIES`` series scored by two models."""
    from scipy.stats import friedmanchisquare, rankdata

    scores, left_out, families = {}, {}, {}
    for entry in ctx.groups.get(("forecast", dataset), []):
        if entry.is_na:
            continue
        values = _model_scores(ctx, entry)
        if values is None:
            left_out[entry.model] = "no per-series scores (every job failed, or an older run)"
        else:
            scores[entry.model], families[entry.model] = values, entry.family
    lengths = {len(v) for v in scores.values()}
    if len(scores) < 2 or len(lengths) != 1 or lengths.pop() < MIN_SERIES:
        return None
    models = list(scores)
    matrix = np.column_stack([scores[m] for m in models])  # (n_series, n_models)
    na = np.isnan(matrix)
    series_na = {m: int(na[:, j].sum()) for j, m in enumerate(models) if na[:, j].any()}
    n_series, matrix = len(matrix), matrix[~na.any(axis=1)]
    if len(matrix) < MIN_SERIES:
        return None
    ranks = rankdata(matrix, axis=1)  # 1 = lowest MASE
    average = dict(sorted(zip(models, ranks.mean(axis=0)), key=lambda kv: kv[1]))
    wins = {m: int(np.sum(ranks[:, j] == 1)) for j, m in enumerate(models)}
    friedman = None
    if len(models) >= _MIN_MODELS and not np.allclose(ranks, ranks[:, :1]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = friedmanchisquare(*[ranks[:, j] for j in range(len(models))])
        friedman = (float(result.statistic), float(result.pvalue))
    return SeriesComparison(dataset, models, matrix, average, wins, friedman, families, left_out, series_na, n_series)


def _table(c: SeriesComparison) -> Table:
    best = min(c.average_ranks.values())
    means = dict(zip(c.models, c.scores.mean(axis=0)))
    rows = [
        [Cell(m), Cell(family_label(c.families.get(m, ""))),
         Cell(f"{r:.2f}", best=abs(r - best) < 1e-12), Cell(num(float(means[m]))), Cell(str(c.wins[m]))]
        for m, r in c.average_ranks.items()
    ]  # fmt: skip
    return Table(["model", "family", "average rank", "mean MASE", "series won"], rows, numeric=(2, 3, 4),
                 caption=f"Rank of each model on each of the {c.scores.shape[0]} series by its MASE "
                         "(1 = best, ties share the mean rank), best first.")  # fmt: skip


def _text(c: SeriesComparison, alpha: float) -> str:
    n = c.scores.shape[0]
    if c.friedman is None:
        return f"{len(c.models)} models over {n} series: the Friedman test needs at least {_MIN_MODELS} models."
    stat, p = c.friedman
    verdict = ("the models' ranks differ more than chance would explain." if p < alpha else
               "the differences in rank could be chance.")  # fmt: skip
    return f"Friedman test over {n} series and {len(c.models)} models: χ² = {stat:.2f}, p = {num(p, 3)}; {verdict}"


def series_section(ctx: Context) -> Section | None:
    """One subsection per forecasting dataset of many series; None (no
    section) when the run has none, like the long-range section: most runs
    have no such dataset, and a note in each of their reports would be noise."""
    children = []
    for dataset in ctx.datasets_of("forecast"):
        c = compare_series(ctx, dataset)
        if c is None:
            continue
        blocks = [_table(c), Paragraph(_text(c, ctx.alpha))]
        if c.series_na:
            blocks.append(Paragraph(
                f"{c.n_series - c.scores.shape[0]} of the {c.n_series} series are left out of the ranks: n/a for "
                + ", ".join(f"{m} ({n} series too short)" for m, n in c.series_na.items()) + ".", kind="note"))
        if c.left_out:
            blocks.append(Paragraph("Left out: " + "; ".join(f"{m} ({why})" for m, why in c.left_out.items()) + ".",
                                    kind="note"))  # fmt: skip
        children.append(Section(anchor("series", dataset), dataset, blocks))
    if not children:
        return None
    return Section("across-series", "Across series", children,
                   intro="Forecasting datasets of many series (the competitions' subsets): each model ranked on every "
                         "series by its MASE, with a Friedman test over the series.")  # fmt: skip
