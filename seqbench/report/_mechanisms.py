"""The "Mechanisms" part of the long-range section: how a gated cell holds a value.

On the adding problem the first marked value must be kept until the end of
the sequence. The runner stores, for each fitted LSTM and GRU, the gate that
keeps the state (``gate_traces`` artefact, ``seqbench.bench`` writes it): the
LSTM's forget gate ``f`` and the GRU's update gate ``z`` (PyTorch's
convention ``h_t = (1 - z_t) n_t + z_t h_{t-1}``, so for both, near 1 =
hold). ``mechanisms_data(ctx)`` collects them at the length nearest
``T = 100``; :func:`mechanisms_section` draws

- per model, the gate averaged over units and sequences, aligned at the
  first marker, trained (one line per seed) against untrained (dashed);
- per model, one test sequence's gate as a heat map (unit x step) with the
  two markers;
- a table of the mean gate before the first marker, between the markers and
  after the second, untrained and trained.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ..results import GATE_TRACES_ARTEFACT
from ._blocks import Cell, Section, Table
from ._format import num
from ._render import figure_block

__all__ = ["mechanisms_data", "mechanisms_section"]

_DATASET = "adding_problem"
_T = 100
_GATE_TEXT = {"f": "forget gate f", "z": "update gate z"}
_PHASES = (("mean_before", "before the 1st marker"), ("mean_between", "between the markers"),
           ("mean_after", "after the 2nd marker"))


def _length(job: dict):
    return (job.get("dataset_options") or {}).get("T")


def mechanisms_data(ctx) -> dict | None:
    """``{"T", "models": {model label: [record per seed]}}`` at the stored
    adding-problem length nearest ``T = 100``; None when no job stored one."""
    by_length = defaultdict(lambda: defaultdict(list))
    for job in ctx.data.jobs:
        if job["dataset"] != _DATASET or job["status"] != "ok" or _length(job) is None:
            continue
        record = ctx.data.artefacts(job["key"]).get(GATE_TRACES_ARTEFACT)
        if record:
            by_length[_length(job)][job["model_label"]].append(record)
    if not by_length:
        return None
    T = min(by_length, key=lambda t: (abs(t - _T), t))
    return {"T": T, "models": dict(by_length[T])}


def _escaped(label) -> str:
    """A model label as matplotlib text (``$`` would start mathtext)."""
    return str(label).replace("$", r"\$")


def _finite(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _render(data: dict):
    from matplotlib.figure import Figure as MplFigure

    models = data["models"]
    fig = MplFigure(figsize=(11.0, 3.2 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 2, squeeze=False, gridspec_kw={"width_ratios": (1, 1.3)})
    for (left, right), (label, records) in zip(axes, models.items()):
        gate = records[0]["gate"]
        for k, record in enumerate(records):
            left.plot(record["trained"]["offsets"], _finite(record["trained"]["aligned"]), color="C0",
                      linewidth=1.3, alpha=0.8, label="trained (one line per seed)" if k == 0 else None)
        untrained = records[0]["untrained"]
        left.plot(untrained["offsets"], _finite(untrained["aligned"]), color="0.45", linestyle="--", linewidth=1.1,
                  label="untrained")
        left.axvline(0, color="C3", linestyle=":", linewidth=1.0)
        left.set_ylim(0, 1)
        left.set_xlabel("steps after the first marker")
        left.set_ylabel(f"mean {gate}")
        left.set_title(f"{_escaped(label)}: {_GATE_TEXT.get(gate, gate)}", fontsize="medium")
        left.grid(alpha=0.3)
        left.legend(frameon=False, fontsize="small", loc="lower right")
        _heat_map(fig, right, records[0])
    return fig


def _heat_map(fig, ax, record: dict) -> None:
    example = record["examples"][0]
    units = np.array([_finite(row) for row in example["units"]])  # (T, H)
    image = ax.imshow(units.T, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1,
                      origin="lower")
    for t in example["markers"]:
        ax.axvline(t, color="C3", linestyle=":", linewidth=1.2)
    fig.colorbar(image, ax=ax, pad=0.01)
    ax.set_xlabel("step t (dotted: the two markers)")
    ax.set_ylabel("unit")
    ax.set_title(f"{record['gate']} on test sequence {example['index']} (seed's first record)", fontsize="medium")


def _mean(records: list, state: str, key: str):
    values = [r[state].get(key) for r in records]
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(values)) if values else None


def _table(data: dict) -> Table:
    rows = []
    for label, records in data["models"].items():
        row = [Cell(label), Cell(_GATE_TEXT.get(records[0]["gate"], records[0]["gate"])), Cell(str(len(records)))]
        for state in ("untrained", "trained"):
            for key, _ in _PHASES:
                value = _mean(records, state, key)
                row.append(Cell("n/a" if value is None else num(value), state="" if value is not None else "na"))
        before, between = _mean(records, "trained", "mean_before"), _mean(records, "trained", "mean_between")
        rise = None if before is None or between is None else between - before
        row.append(Cell("n/a" if rise is None else f"{rise:+.3f}", state="" if rise is not None else "na"))
        rows.append(row)
    columns = ["model", "gate", "seeds", *[f"untrained: {p}" for _, p in _PHASES],
               *[f"trained: {p}" for _, p in _PHASES], "trained: rise after the 1st marker"]
    return Table(columns, rows, numeric=tuple(range(2, 10)),
                 caption="The holding gate averaged over units and test sequences (mean over seeds). The rise is "
                         "the trained gate between the markers minus before the first one: clearly positive when "
                         "the cell holds the stored value by keeping its gate open.")


def mechanisms_section(ctx) -> Section | None:
    """The "Mechanisms" subsection, or None when no job stored gate traces."""
    data = mechanisms_data(ctx)
    if data is None:
        return None
    figure = figure_block(
        _render(data),
        alt=f"forget and update gate traces of the trained LSTM and GRU on the adding problem at T={data['T']}",
        caption="Left: the holding gate averaged over units and test sequences, aligned at each sequence's first "
                "marker (dotted), trained (one line per seed) and untrained (dashed). Right: the same gate on one "
                "test sequence, unit by unit.",
    )
    intro = ("How a gated cell keeps the first marked value until the end. LSTM: c_t = f_t * c_{t-1} + i_t * g_t, so "
             "a forget gate f near 1 keeps the long-term state c. GRU, in PyTorch's convention h_t = (1 - z_t) * "
             "n_t + z_t * h_{t-1}: an update gate z near 1 keeps h (many lecture notes swap z and 1 - z). A trained "
             "cell that solves the task raises its holding gate once the first value is stored.")
    return Section("mechanisms", f"Mechanisms: gates on the adding problem at T = {data['T']}",
                   [figure, _table(data)], intro=intro)
