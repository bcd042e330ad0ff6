"""The plot sections: cost frontier, learning curves, forecasts, confusion
matrices and distance to the oracle. Each section says so in words when the
run has nothing to draw, rather than disappearing."""

from __future__ import annotations

from ..metrics import family_label, metric_label, task_label
from ._blocks import Paragraph, Section, Table
from ._context import Context
from ._format import anchor, mean_std, num
from . import _plotdata as pd_
from . import _render as rd

__all__ = ["cost_section", "learning_curves_section", "forecasts_section", "confusion_section", "oracle_section"]


def _empty(text: str) -> list:
    return [Paragraph(text, kind="note")]


def cost_section(ctx: Context) -> Section:
    children = []
    for task in ctx.data.tasks:
        d = pd_.cost_frontier(ctx, task)
        if d is not None:
            children.append(Section(anchor("cost", task), task_label(task), [rd.render_cost_frontier(d)]))
    return Section("cost", "Score against cost", children or _empty("No model has a score and a fit time yet."),
                   intro="What does a better score cost? Each point is one model: its main metric against its mean "
                         "fit time (log scale).")


def learning_curves_section(ctx: Context) -> Section:
    children = []
    for task in ctx.data.tasks:
        d = pd_.learning_curves(ctx, task)
        if d is not None:
            children.append(Section(anchor("lc", task), task_label(task), [rd.render_learning_curves(d)]))
    return Section("learning-curves", "Learning curves",
                   children or _empty("No job stored a learning curve (only the neural models record history_)."),
                   intro="How training went: the loss of each neural model per epoch. A curve still falling at the "
                         "last epoch suggests more epochs would help; a validation curve rising while the "
                         "training curve falls means over-fitting.")


def forecasts_section(ctx: Context) -> Section:
    children = []
    for dataset in ctx.datasets_of("forecast"):
        d = pd_.forecasts(ctx, dataset)
        if d is not None:
            children.append(Section(anchor("fc", dataset), dataset, [rd.render_forecasts(d)]))
    return Section("forecasts", "Forecasts against the truth",
                   children or _empty("No forecasting dataset has stored forecasts in this run."),
                   intro="The first few series of each forecasting dataset: what each model predicted after the "
                         "forecast origin, and what happened.")


def confusion_section(ctx: Context) -> Section:
    children = []
    for task in ("classify", "tag"):
        for dataset in ctx.datasets_of(task):
            d = pd_.confusion(ctx, task, dataset)
            if d is not None:
                title = dataset if task == "classify" else f"{dataset} (tagging, per step)"
                children.append(Section(anchor("cm", task, dataset), title,
                                        [rd.render_confusion(d)]))
    return Section("confusion", "Confusion matrices",
                   children or _empty("No classification dataset has stored confusion matrices in this run."),
                   intro="Which classes each family confuses: the best model of each family on each "
                         "classification dataset, its test predictions summed over seeds.")


def _oracle_table(d: dict) -> Table:
    rows = [[m["model"], family_label(m["family"]), mean_std(m["mean"], m["std"])]
            for m in d["models"]]
    if d["baseline"] is not None:
        rows.append(["trivial baseline (card)", "", num(d["baseline"])])
    return Table(["model", "family", f"{metric_label(d['metric'])} − oracle"], rows, numeric=(2,),
                 caption=f"{d['dataset']}: oracle {metric_label(d['metric'])} {num(d['oracle'])} (mean over seeds); "
                         f"{'higher' if d['greater'] else 'lower'} is better, 0 = as good as the true model.")


def oracle_section(ctx: Context) -> Section:
    children = []
    for task in ctx.data.tasks:
        for dataset in ctx.datasets_of(task):
            d = pd_.oracle_distance(ctx, task, dataset)
            if d is not None:
                children.append(Section(anchor("or", task, dataset), f"{dataset} ({task_label(task)})",
                                        [rd.render_oracle(d), _oracle_table(d)]))
    return Section("oracle", "Distance to the oracle",
                   children or _empty("No dataset in this run has an oracle score (only synthetic datasets do)."),
                   intro="On synthetic data the generating model is known, so the best achievable score (the "
                         "oracle) is too. Each bar is a model's score minus the oracle's: how much room is left.")
