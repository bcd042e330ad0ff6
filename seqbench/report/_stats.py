"""Across datasets: average ranks, the Friedman test and the Nemenyi
post-hoc test (scipy and scikit-posthocs; no statistics written by hand).

For each task, a model's score on a dataset is its main metric's mean over
seeds. Ranks are taken within each dataset (1 = best, ties share the mean
rank); a model whose every job on a dataset failed ranks last there (ties
with other failures). Models that are n/a on, or were not run on, some of
the task's datasets are left out of the ranking (Friedman needs complete
blocks) and listed with the reason. In a tuned task the unit is each
family's one tuned contender: where it carries another label on some
datasets (a search space sized to one of them), its labels share a column.

The Friedman test needs at least ``MIN_MODELS`` models (scipy's limit) and
``MIN_DATASETS`` datasets: with two datasets and three models its statistic
cannot exceed 4 (p = 0.14), so the test could never reject, and its
chi-square approximation is poor with few datasets (Demšar 2006 advises
about ten or more).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._context import Context

__all__ = ["Comparison", "compare_task", "MIN_DATASETS", "MIN_MODELS"]

MIN_DATASETS = 3
MIN_MODELS = 3


@dataclass
class Comparison:
    """The cross-dataset comparison of one task (pure data; renderers draw it).

    scores, ranks : DataFrames (datasets x models); scores hold the seed
        mean of the main metric (NaN where every job failed), ranks 1 = best.
    average_ranks : Series (model -> mean rank), best first.
    friedman : ``(statistic, p_value)`` or None, with ``skipped`` saying why.
    nemenyi : DataFrame of pairwise p-values (models x models) or None.
    """

    task: str
    metric: str
    greater_is_better: bool
    scores: pd.DataFrame
    ranks: pd.DataFrame
    average_ranks: pd.Series
    families: dict = field(default_factory=dict)
    excluded: dict = field(default_factory=dict)  # model -> reason
    dropped_datasets: dict = field(default_factory=dict)  # dataset -> reason
    failed_cells: list = field(default_factory=list)  # (dataset, model) ranked last because every job failed
    friedman: tuple | None = None
    skipped: str = ""
    nemenyi: pd.DataFrame | None = None
    alpha: float = 0.05

    @property
    def n_datasets(self) -> int:
        return self.ranks.shape[0]

    @property
    def n_models(self) -> int:
        return self.ranks.shape[1]

    @property
    def significant(self) -> bool:
        return self.friedman is not None and self.friedman[1] < self.alpha


def _columns(ctx: Context, task: str) -> dict:
    """The shared column of the labels that name one family's tuned contender
    on different datasets (a search space sized to one dataset): still one
    contender per dataset, so its labels share one column, named by them
    joined with " / ". Labels absent from the result are their own column
    (every fixed row of a suite without tuning, every single-label family)."""
    if not ctx.is_tuned_task(task):
        return {}
    columns = {}
    deciding = [e for e in ctx.entries if e.task == task and ctx.decides(e) and not e.is_na]
    for family in dict.fromkeys(e.family for e in deciding):
        mine = [e for e in deciding if e.family == family]
        labels = list(dict.fromkeys(e.model for e in mine))
        if len(labels) > 1 and len({e.dataset for e in mine}) == len(mine):  # one contender per dataset
            columns.update(dict.fromkeys(labels, " / ".join(labels)))
    return columns


def _included_models(ctx: Context, task: str, datasets: list) -> tuple[list, dict, dict]:
    """Ranked columns, the reason each excluded one is left out, and the
    column of each deciding model label (see :func:`_columns`)."""
    models, excluded = [], {}
    for e in ctx.entries:
        if e.task == task and not ctx.decides(e) and not e.is_na:
            excluded[e.model] = "a fixed-configuration ablation: only tuned contenders are ranked"
    columns = _columns(ctx, task)
    order = list(dict.fromkeys(columns.get(e.model, e.model) for e in ctx.entries
                               if e.task == task and ctx.decides(e)))
    for model in order:
        problems = []
        for dataset in datasets:
            entry = next((e for e in ctx.groups[(task, dataset)] if columns.get(e.model, e.model) == model), None)
            if entry is None:
                problems.append(f"not run on {dataset}")
            elif entry.is_na:
                problems.append(f"n/a on {dataset}")
        if problems:
            excluded[model] = "; ".join(problems)
        else:
            models.append(model)
    return models, excluded, columns


def compare_task(ctx: Context, task: str) -> Comparison | None:
    """Ranks, Friedman and Nemenyi for ``task``; None if nothing was scored."""
    from scipy.stats import rankdata

    data = ctx.data
    metric = data.main_metric(task)
    if metric is None:
        return None
    greater = data.greater_is_better(task, metric)
    datasets, dropped = [], {}
    for dataset in ctx.datasets_of(task):
        if any(metric in e.mean for e in ctx.groups[(task, dataset)]):
            datasets.append(dataset)
        else:
            dropped[dataset] = "no model has a result on it"
    if not datasets:
        return None
    models, excluded, columns = _included_models(ctx, task, datasets)
    scores = pd.DataFrame(np.nan, index=datasets, columns=models, dtype=float)
    for dataset in datasets:
        for e in ctx.groups[(task, dataset)]:
            column = columns.get(e.model, e.model)
            if column in models and metric in e.mean:
                scores.loc[dataset, column] = e.mean[metric]
    failed = [(d, m) for d in datasets for m in models if math.isnan(scores.loc[d, m])]
    worst = -np.inf if greater else np.inf
    filled = scores.fillna(worst).to_numpy()
    ranks = pd.DataFrame(rankdata(-filled if greater else filled, axis=1), index=datasets, columns=models)
    average = ranks.mean(axis=0).sort_values(kind="stable")
    families = {columns.get(e.model, e.model): e.family for e in ctx.entries if e.task == task}
    comparison = Comparison(task, metric, greater, scores, ranks, average, families, excluded, dropped, failed,
                            alpha=ctx.alpha)
    _test(comparison)
    return comparison


def _test(c: Comparison) -> None:
    """Fill in the Friedman test and the Nemenyi p-values, or say why not."""
    if c.n_models < MIN_MODELS or c.n_datasets < MIN_DATASETS:
        c.skipped = (
            f"The Friedman test and the critical-difference diagram need at least {MIN_DATASETS} datasets and "
            f"{MIN_MODELS} models scored on all of them; this task has {c.n_datasets} dataset"
            f"{'s' if c.n_datasets != 1 else ''} and {c.n_models} model{'s' if c.n_models != 1 else ''}, "
            "so no test is drawn. Compare the leaderboards' seed spreads instead."
        )
        return
    if np.allclose(c.ranks.to_numpy(), c.ranks.to_numpy()[:, :1]):
        c.skipped = "Every model ties on every dataset: there is nothing to test."
        return
    from scipy.stats import friedmanchisquare
    import scikit_posthocs as sp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = friedmanchisquare(*[c.ranks[m].to_numpy() for m in c.ranks.columns])
    c.friedman = (float(result.statistic), float(result.pvalue))
    c.nemenyi = sp.posthoc_nemenyi_friedman(c.ranks.to_numpy())
    c.nemenyi.index = c.nemenyi.columns = list(c.ranks.columns)
