"""Renderers: plot data (from ``_plotdata`` and ``_stats``) to PNG figures.

matplotlib's object interface with the Agg canvas (no pyplot state, no
display needed). Labels come from suites, so every ``$`` in them is
escaped: a ``$`` in a model name is drawn as a ``$``, not read as mathtext.
"""

from __future__ import annotations

import io
import math
import struct

import numpy as np

from ..metrics import family, family_label, metric_label
from ._blocks import Figure
from ._format import num

__all__ = ["render_cost_frontier", "render_learning_curves", "render_forecasts", "render_confusion",
           "render_oracle", "render_cd_diagram", "png_size", "figure_block", "family_colour"]

DPI = 96
# one colour per family, by the family's order; other families get OTHER_COLOUR
FAMILY_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#7f7f7f")
OTHER_COLOUR = "#9467bd"
LABEL_OFFSETS = ((5, 4), (5, -11), (5, 12))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
_RC = {"font.size": 9, "axes.titlesize": 10, "axes.spines.top": False,
       "axes.spines.right": False, "figure.dpi": DPI, "savefig.dpi": DPI}


def _short(text, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters, its ``$`` escaped for mathtext."""
    text = str(text)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _unique_short(labels: list, limit: int = 40) -> dict:
    """``{label: short label}``, numbering short labels that would collide."""
    out, used = {}, set()
    for label in labels:
        short, i = _short(label, limit), 2
        while short in used:
            short, i = f"{_short(label, limit - 4)} #{i}", i + 1
        used.add(short)
        out[label] = short
    return out


def _figure(n_panels: int, *, ncols: int = 3, width: float = 4.3, height: float = 3.3):
    import matplotlib
    from matplotlib.figure import Figure as MplFigure

    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    with matplotlib.rc_context(_RC):
        fig = MplFigure(figsize=(width * ncols, height * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def family_colour(name) -> str:
    """The colour of a family's models in every plot."""
    known = family(name)
    return FAMILY_COLOURS[known.order] if known and known.order < len(FAMILY_COLOURS) else OTHER_COLOUR


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">II", png[16:24])


def figure_block(fig, alt: str, caption: str) -> Figure:
    """A matplotlib figure as a report :class:`Figure` block (PNG, white background)."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    png = buffer.getvalue()
    width, height = png_size(png)
    return Figure(png, alt=alt, caption=caption, width=width, height=height)


def _log_axis(ax, values: list) -> None:
    """A log-scale x axis spanning at least one decade, ticks labelled
    compactly (``0.003``), minor ticks labelled only at 2 and 5 and only
    when the axis spans less than two decades (so that labels never overlap)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lo, hi = min(values), max(values)
    centre = math.sqrt(lo * hi)
    span = max(hi / lo * 4.0, 10.0)  # at least a decade, with room for the labels
    ax.set_xscale("log")
    ax.set_xlim(centre / math.sqrt(span), centre * math.sqrt(span) * 2.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    if span < 100:
        ax.xaxis.set_minor_formatter(FuncFormatter(
            lambda x, _: f"{x:g}" if f"{x:.0e}"[0] in "25" else ""))
    else:
        ax.xaxis.set_minor_formatter(NullFormatter())


def _colours(names: list) -> dict:
    import matplotlib

    cycle = matplotlib.colormaps["tab10"].colors
    return {name: cycle[i % len(cycle)] for i, name in enumerate(dict.fromkeys(names))}


def _direction(greater: bool) -> str:
    return "higher is better" if greater else "lower is better"


# ------------------------------------------------------------------ cost
def render_cost_frontier(d: dict) -> Figure:
    import matplotlib

    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(d["panels"]))
        seen_families = {}
        for ax, panel in zip(axes, d["panels"]):
            markers = {}
            # neighbouring points (by score) get their labels at alternating heights
            by_score = sorted(panel["points"], key=lambda p: p["score"])
            offsets = {id(p): LABEL_OFFSETS[i % len(LABEL_OFFSETS)] for i, p in enumerate(by_score)}
            for p in panel["points"]:
                marker = markers.setdefault(p["model"], MARKERS[len(markers) % len(MARKERS)])
                colour = family_colour(p["family"])
                ax.errorbar(p["fit_seconds"], p["score"], yerr=p["std"] or 0, fmt=marker, color=colour,
                            markersize=7, capsize=2, markeredgecolor="black" if p["pareto"] else colour)
                ax.annotate(_short(p["model"], 26), (p["fit_seconds"], p["score"]), textcoords="offset points",
                            xytext=offsets[id(p)], fontsize=7.5)
                seen_families[family_label(p["family"])] = colour
            front = sorted((p for p in panel["points"] if p["pareto"]), key=lambda p: p["fit_seconds"])
            if len(front) > 1:
                ax.step([p["fit_seconds"] for p in front], [p["score"] for p in front], where="post",
                        color="black", linewidth=0.8, linestyle="--", alpha=0.6)
            _log_axis(ax, [p["fit_seconds"] for p in panel["points"]])
            ax.margins(y=0.15)
            ax.set_title(_short(panel["dataset"], 50))
            ax.set_xlabel("fit time per job (s, log scale)")
            ax.set_ylabel(f"{metric_label(d['metric'])} ({_direction(d['greater'])})")
            ax.grid(alpha=0.3)
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], marker="o", linestyle="", color=c, label=_short(f)) for f, c in seen_families.items()]
        handles.append(Line2D([], [], color="black", linestyle="--", label="cost frontier"))
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False)
    return figure_block(fig, alt=f"{d['task']}: {metric_label(d['metric'])} against fit time, one panel per dataset",
                     caption=f"{metric_label(d['metric'])} ({_direction(d['greater'])}) against mean fit time. "
                             "Colour: model family; error bars: std over seeds; the dashed line joins the models "
                             "that no other model beats on both score and time (outlined in black).")


# ------------------------------------------------------------- learning
def render_learning_curves(d: dict) -> Figure:
    import matplotlib
    from matplotlib.lines import Line2D

    with matplotlib.rc_context(_RC):
        fig, axes = _figure(len(d["panels"]))
        for ax, panel in zip(axes, d["panels"]):
            colours = _colours([c["model"] for c in panel["curves"]])
            lows, highs, has_val = [], [], False
            for c in panel["curves"]:
                ax.plot(c["epochs"], c["train_loss"], color=colours[c["model"]], linewidth=1.2, alpha=0.85)
                values = [v for v in c["train_loss"] if v > 0]
                if c["val_loss"] is not None:
                    has_val = True
                    val = [np.nan if v is None else v for v in c["val_loss"]]
                    ax.plot(c["epochs"], val, color=colours[c["model"]], linewidth=1.0, linestyle="--", alpha=0.85)
                    values += [v for v in val if v == v and v > 0]
                if values:
                    lows.append(min(values))
                    highs.append(max(values))
            if lows and max(highs) / max(min(lows), 1e-12) > 30:
                ax.set_yscale("log")
            handles = [Line2D([], [], color=col, label=_short(m, 30)) for m, col in colours.items()]
            if has_val:
                handles.append(Line2D([], [], color="black", linestyle="--", label="validation"))
            ax.legend(handles=handles, fontsize=7.5, frameon=False)
            ax.set_title(_short(panel["dataset"], 50))
            ax.set_xlabel("epoch")
            ax.set_ylabel("training loss")
            ax.grid(alpha=0.3)
    return figure_block(fig, alt=f"{d['task']}: training loss per epoch of the neural models",
                     caption="Training loss per epoch from each neural model's history_ (one line per seed; dashed: "
                             "validation loss where early stopping held out a validation split).")


# ------------------------------------------------------------- forecasts
def render_forecasts(d: dict) -> Figure:
    import matplotlib

    with matplotlib.rc_context(_RC):
        n = len(d["series"])
        fig, axes = _figure(n, width=4.6 if n > 1 else 8.0)
        models = list(dict.fromkeys(m for s in d["series"] for m in s["forecasts"]))
        colours = _colours(models)
        for ax, s in zip(axes, d["series"]):
            history, truth = s["history"], s["truth"]
            shown = history[-max(4 * len(truth), 40):]
            ax.plot(range(-len(shown), 0), shown, color="#555555", linewidth=1.0, label="history")
            steps = range(0, len(truth))
            dots = len(truth) <= 15  # markers only where they stay apart
            ax.plot(steps, truth, color="black", linewidth=1.6, marker="." if dots else None, label="truth")
            for model, values in s["forecasts"].items():
                ax.plot(steps, values, color=colours[model], linewidth=1.3, marker="o" if dots else None,
                        markersize=3, label=_short(model, 30))
            ax.axvline(-0.5, color="#999999", linewidth=0.8, linestyle=":")
            ax.set_title(f"series {s['index']}")
            ax.set_xlabel("steps from the forecast origin")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=7.5, frameon=False)
    return figure_block(fig, alt=f"forecasts against the truth on {d['dataset']}",
                     caption=f"{d['dataset']}: each model's forecast (coloured) against the true future (black) "
                             f"after the last observed steps (grey); seed {d['seed']}, the dataset's own split.")


# ------------------------------------------------------------- confusion
def render_confusion(d: dict) -> Figure:
    import matplotlib

    with matplotlib.rc_context(_RC):
        n = max(len(p["labels"]) for p in d["panels"])
        size = min(4.6, 2.2 + 0.25 * n)
        fig, axes = _figure(len(d["panels"]), ncols=4 if n <= 5 else 2, width=size, height=size + 0.5)
        for ax, p in zip(axes, d["panels"]):
            matrix = np.asarray(p["matrix"], dtype=float)
            rows = matrix.sum(axis=1, keepdims=True)
            share = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
            ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
            labels = [_short(str(lab), 10) for lab in p["labels"]]
            ax.set_xticks(range(len(labels)), labels, rotation=90 if len(labels) > 6 else 0, fontsize=7)
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
            if len(labels) <= 12:
                for i in range(len(labels)):
                    for j in range(len(labels)):
                        if matrix[i, j]:
                            ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", fontsize=6.5,
                                    color="white" if share[i, j] > 0.6 else "black")
            ax.set_title(f"{_short(family_label(p['family']))}: {_short(p['model'], 28)}\n"
                         f"{metric_label(d['metric'])} {num(p['score'])}", fontsize=8.5)
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
    return figure_block(fig, alt=f"confusion matrices on {d['dataset']}, best model of each family",
                     caption=f"{d['dataset']}: confusion matrix of the best model of each family, summed over "
                             "seeds (numbers: counts; shade: share of the true class).")


# ---------------------------------------------------------------- oracle
def render_oracle(d: dict) -> Figure:
    import matplotlib

    with matplotlib.rc_context(_RC):
        models = d["models"]
        fig, (ax,) = _figure(1, width=7.5, height=0.9 + 0.32 * len(models))
        colours = [family_colour(m["family"]) for m in models]
        y = np.arange(len(models))[::-1]
        ax.barh(y, [m["mean"] for m in models], xerr=[m["std"] or 0 for m in models], color=colours,
                capsize=2, height=0.6)
        ax.set_yticks(y, [_short(m["model"], 34) for m in models])
        ax.axvline(0, color="black", linewidth=1.2)
        ax.annotate("oracle", (0, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", fontsize=8)
        if d["baseline"] is not None:
            ax.axvline(d["baseline"], color="#d62728", linewidth=1.0, linestyle="--")
            ax.annotate("trivial baseline", (d["baseline"], 1), xycoords=("data", "axes fraction"),
                        xytext=(3, -10), textcoords="offset points", fontsize=8, color="#d62728")
        ax.set_xlabel(f"{metric_label(d['metric'])} minus the oracle's ({_direction(d['greater'])}; 0 = oracle)")
        ax.set_title(_short(d["dataset"], 60))
        ax.grid(axis="x", alpha=0.3)
    return figure_block(fig, alt=f"distance to the oracle on {d['dataset']}",
                     caption=f"{d['dataset']}: each model's {metric_label(d['metric'])} minus the oracle's "
                             f"(the true generating model; mean {num(d['oracle'])}), mean ± std over seeds. "
                             "Colour: model family.")


# -------------------------------------------------------------------- CD
def render_cd_diagram(comparison) -> Figure:
    import matplotlib
    import scikit_posthocs as sp

    ranks = comparison.average_ranks
    names = _unique_short(list(ranks.index))
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure(1, width=8.5, height=1.2 + 0.28 * len(ranks))
        colours = {m: family_colour(comparison.families.get(m)) for m in ranks.index}
        sp.critical_difference_diagram(
            ranks=ranks.rename(index=names), sig_matrix=comparison.nemenyi.rename(index=names, columns=names),
            ax=ax, alpha=comparison.alpha, color_palette={names[m]: c for m, c in colours.items()},
            label_fmt_left="{label} ({rank:.2f})", label_fmt_right="({rank:.2f}) {label}",
        )
        ax.set_title(f"average rank by {metric_label(comparison.metric)} over {comparison.n_datasets} datasets "
                     "(1 = best)", pad=18)
    return figure_block(fig, alt=f"critical-difference diagram for the {comparison.task} task",
                     caption="Average ranks (1 = best). Models joined by a horizontal bar are not significantly "
                             f"different (Nemenyi post-hoc test, α = {comparison.alpha}).")
