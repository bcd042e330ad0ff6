"""The report section of the long-range suite: memory against length, and
the gradient-flow picture.

``recurrent_dynamics_section(ctx)`` is a report section builder (see
``_sections``): it reads only the results store, through the report's
:class:`~._context.Context`, and returns a :class:`~._blocks.Section` (or
None when the run has no long-range task, so other suites' reports leave it
out). It shows

- for each long-range dataset (the adding problem, the copy-memory task)
  run at several lengths ``T``: the task metric against ``T`` for every
  model, with the trivial baseline's line (MSE 1/6 for the adding problem,
  the memoryless tagger's accuracy for copy-memory), and the same numbers
  as a table where failed and n/a pairings are shown as such;
- the gradient norm through time at ``T = 100`` (or the length nearest to
  it), untrained and trained, from the ``gradient_flow`` artefacts the
  runner stores (``seqbench.bench.gradient_flow_artefact``), and each
  model's decay rate;
- "Mechanisms" (:mod:`._mechanisms`): the LSTM's forget gate and the GRU's
  update gate on the adding problem at the same length.

``long_range_data`` and ``gradient_flow_data`` return plain data; the
``_render_*`` functions draw it.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..results import GRADIENT_FLOW_ARTEFACT
from ._blocks import Cell, Paragraph, Section, Table
from ._format import num
from ._gradient_plot import plot_gradient_flow
from ._mechanisms import mechanisms_section
from ._render import figure_block

__all__ = ["recurrent_dynamics_section", "long_range_data", "gradient_flow_data", "LONG_RANGE_DATASETS"]

# dataset name -> (metric plotted, its label, whether larger is better, what the trivial baseline is)
LONG_RANGE_DATASETS = {
    "adding_problem": ("mse", "test MSE", False, "predict the mean: MSE ≈ 1/6"),
    "copy_memory": ("accuracy", "per-step accuracy", True, "memoryless: blanks, then the commonest symbol"),
}
_FLOW_T = 100


def _length(job: dict):
    options = job.get("dataset_options") or {}
    return options.get("T")


def _fmt(value) -> str:
    """A number as the report prints it; None and non-finite values as "n/a"."""
    return "n/a" if value is None or not math.isfinite(value) else num(value)


# ------------------------------------------------------------------ data
def _baseline(ctx, name: str, jobs: list):
    """``{T: trivial baseline value}`` from the dataset records' oracle."""
    out = defaultdict(list)
    for job in jobs:
        oracle = ctx.data.dataset_meta(job.get("dataset_checksum")).get("oracle") or {}
        value = oracle.get("baseline_mse_expected") if name == "adding_problem" else oracle.get("baseline_accuracy")
        if value is not None and _length(job) is not None:
            out[_length(job)].append(float(value))
    return {T: float(np.mean(v)) for T, v in out.items()}


def long_range_data(ctx) -> list[dict]:
    """One panel per long-range dataset run at two or more lengths:
    ``{"dataset", "metric", "label", "greater", "lengths", "baseline" {T: v},
    "baseline_text", "models": [{"model", "family", "points": {T: entry}}],
    "na": [entry]}`` where an entry is the report's per-model summary."""
    panels = []
    for name, (metric, label, greater, text) in LONG_RANGE_DATASETS.items():
        entries = [e for e in ctx.entries
                   if e.jobs and e.jobs[0]["dataset"] == name and _length(e.jobs[0]) is not None]
        lengths = sorted({_length(e.jobs[0]) for e in entries})
        if len(lengths) < 2:
            continue
        models, na = {}, {}
        for e in entries:
            slot = (na if e.is_na else models).setdefault(e.model, {"model": e.model, "family": e.family, "points": {}})
            slot["points"][_length(e.jobs[0])] = e
        jobs = [j for e in entries for j in e.jobs]
        panels.append({"dataset": name, "metric": metric, "label": label, "greater": greater, "lengths": lengths,
                       "baseline": _baseline(ctx, name, jobs), "baseline_text": text,
                       "models": list(models.values()), "na": list(na.values())})
    return panels


def gradient_flow_data(ctx) -> list[dict]:
    """Per long-range dataset, at the stored length nearest ``T = 100``:
    ``{"dataset", "T", "models": {model: {"untrained": [curves], "trained":
    [curves], "rate_untrained": [...], "rate_trained": [...]}}, "last_steps"}``,
    one curve per seed (index -1 is the last step); ``last_steps``: the loss
    counted only the last steps of each sequence (copy-memory's recall steps)."""
    out = []
    for name in LONG_RANGE_DATASETS:
        by_length = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
        last_steps = {}
        for job in ctx.data.jobs:
            if job["dataset"] != name or job["status"] != "ok" or _length(job) is None:
                continue
            flow = ctx.data.artefacts(job["key"]).get(GRADIENT_FLOW_ARTEFACT)
            if not flow:
                continue
            slot = by_length[_length(job)][job["model_label"]]
            last_steps[_length(job)] = flow.get("last_steps")
            for state in ("untrained", "trained"):
                slot[state].append([np.nan if v is None else v for v in flow[state]])
                slot["rate_" + state].append(flow.get(f"decay_rate_{state}"))
        if by_length:
            T = min(by_length, key=lambda t: (abs(t - _FLOW_T), t))
            out.append({"dataset": name, "T": T, "last_steps": last_steps.get(T),
                        "models": {m: dict(v) for m, v in by_length[T].items()}})
    return out


# ------------------------------------------------------------------ drawing
def _render_metric_against_length(panel: dict):
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for m in panel["models"]:
        ts = [T for T in panel["lengths"] if panel["metric"] in m["points"].get(T, _NoEntry).mean]
        means = [m["points"][T].mean[panel["metric"]] for T in ts]
        stds = [m["points"][T].std.get(panel["metric"]) or 0.0 for T in ts]
        if ts:
            ax.errorbar(ts, means, yerr=stds, marker="o", capsize=2, label=str(m["model"]).replace("$", r"\$"))
    base = panel["baseline"]
    if base:
        ts = sorted(base)
        ax.plot(ts, [base[T] for T in ts], color="black", linestyle="--", linewidth=1.2,
                label=f"trivial baseline ({panel['baseline_text']})")
        if not panel["greater"]:
            ax.plot(ts, [base[T] / 10 for T in ts], color="grey", linestyle=":", linewidth=1.2,
                    label="one tenth of the trivial baseline")
    if not panel["greater"]:
        ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xticks(panel["lengths"], [str(T) for T in panel["lengths"]])
    ax.minorticks_off()
    ax.set_xlabel("sequence length T (log scale)")
    ax.set_ylabel(f"{panel['label']} ({'higher' if panel['greater'] else 'lower'} is better)")
    ax.set_title(panel["dataset"])
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize="small")
    return fig


class _NoEntry:
    mean: dict = {}
    std: dict = {}


def _render_flow(flow: dict):
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(11.0, 4.0), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, state in zip(axes, ("untrained", "trained")):
        curves = {m: np.asarray(v[state], dtype=np.float64) for m, v in flow["models"].items() if v.get(state)}
        if curves:
            plot_gradient_flow(curves, x="distance", ax=ax, title=f"{state}, T = {flow['T']}")
    return fig


# ------------------------------------------------------------------ tables
def _metric_cell(panel: dict, entry, T):
    """One model at one length: mean ± std, "solved" marked, failures named."""
    metric = panel["metric"]
    if entry is None:
        return Cell("not run", state="muted")
    if metric not in entry.mean:
        reason = next((j.get("error") or "" for j in entry.jobs if j["status"] != "ok"), "")
        return Cell(entry.status_text() or "failed", state="failed", note=reason.splitlines()[0] if reason else "")
    mean, std = entry.mean[metric], entry.std.get(metric)
    text = _fmt(mean) + ("" if std is None else f" ± {_fmt(std)}")
    solved = not panel["greater"] and mean < panel["baseline"].get(T, math.inf) / 10
    note = f"jobs: {entry.status_text()}; the mean is over the ok seeds" if entry.failed_jobs else ""
    return Cell(text, best=solved, note=note)


def _metric_table(panel: dict):
    lengths = panel["lengths"]
    rows = [[Cell(m["model"]), Cell(m["family"])] + [_metric_cell(panel, m["points"].get(T), T) for T in lengths]
            for m in panel["models"]]
    for m in panel["na"]:
        reason = next(iter(m["points"].values())).na_reason
        rows.append([Cell(m["model"]), Cell(m["family"])] + [Cell("n/a", state="na", note=reason)] * len(lengths))
    if panel["baseline"]:
        rows.append([Cell("trivial baseline (dataset card)"), Cell("")]
                    + [Cell(_fmt(panel["baseline"].get(T))) for T in lengths])
    marked = "" if panel["greater"] else " Marked: below one tenth of the trivial baseline's MSE (solved)."
    return Table(["model", "family"] + [f"T = {T}" for T in lengths], rows,
                 caption=f"{panel['dataset']}: {panel['label']}, mean ± std over seeds.{marked}",
                 numeric=tuple(range(2, 2 + len(lengths))))


def _rate_table(flow: dict):
    def mean(values):
        values = [v for v in values if v is not None and math.isfinite(v)]
        return float(np.mean(values)) if values else None

    rows = [[m, _fmt(mean(v.get("rate_untrained", []))), _fmt(mean(v.get("rate_trained", [])))]
            for m, v in flow["models"].items()]
    return Table(["model", "untrained", "trained"], rows, numeric=(1, 2),
                 caption="Slope of log10 ‖∂L/∂h_t‖ against the number of steps back from the last step "
                         "(orders of magnitude per step, mean over seeds): negative = the gradient vanishes "
                         "going back in time; about 0 = it survives.")


# ------------------------------------------------------------------ section
def _slug(name: str) -> str:
    return name.replace("_", "-")


def _length_section(panel: dict):
    figure = figure_block(
        _render_metric_against_length(panel),
        alt=f"{panel['label']} against sequence length for each model on {panel['dataset']}",
        caption=f"{panel['dataset']}: {panel['label']} against T, mean ± std over seeds; dashed: the trivial "
                f"baseline ({panel['baseline_text']}).",
    )
    return Section(f"long-range-{_slug(panel['dataset'])}", f"{panel['dataset']}: memory against length",
                   [figure, _metric_table(panel)])


def _flow_section(flow: dict):
    loss = (f" The loss counts only the last {flow['last_steps']} steps of each sequence (the recall steps), so the "
            "curve shows how far back an error there reaches." if flow.get("last_steps") else "")
    figure = figure_block(
        _render_flow(flow),
        alt=f"gradient norm through time on {flow['dataset']} at T={flow['T']}",
        caption="‖∂L/∂h_t‖ against the steps back from the last one (log scale), the network at its initial "
                "weights (left) and trained (right); one line per model, the band spans the seeds." + loss,
    )
    return Section(f"gradient-flow-{_slug(flow['dataset'])}", f"{flow['dataset']}: gradient flow at T = {flow['T']}",
                   [figure, _rate_table(flow)])


def recurrent_dynamics_section(ctx):
    """The long-range section, or None when the run has no long-range data."""
    panels, flows = long_range_data(ctx), gradient_flow_data(ctx)
    if not panels and not flows:
        return None
    children = [_length_section(p) for p in panels] + [_flow_section(f) for f in flows]
    mechanisms = mechanisms_section(ctx)  # the gates that carry the memory, beside the gradients
    if mechanisms is not None:
        children.append(mechanisms)
    if not flows:
        children.append(Paragraph("No job stored a gradient-flow record (the runner records one for each fitted "
                                  "recurrent estimator); the gradient-flow picture needs a run that does.",
                                  kind="note"))
    return Section("recurrent-dynamics", "Long-range memory and gradient flow", children,
                   intro="Can each model carry information across T steps? Back-propagation through time multiplies "
                         "one Jacobian per step, so in a plain RNN the gradient from distant steps shrinks "
                         "geometrically; gated cells (LSTM, GRU) and the IRNN keep a path along which it survives. "
                         "The suite reports what it measures, whatever it is.")
