"""Heat maps of one sequence's gates and states over time, its input above them
(the picture of ``seqbench.diagnostics.gate_activations``)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

__all__ = ["plot_gates"]

_LABELS = {
    "i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
    "c": "long-term state c", "h": "short-term state h",
    "r": "reset gate r", "z": "update gate z (1 keeps h)", "n": "candidate n",
}
_GATES = frozenset("ifozr")  # sigmoids: values in (0, 1)
_MAX_INPUT_LINES = 4  # more input features than this are drawn as a heat map


def plot_gates(trace, *, layer=None, names=None, title=None) -> Figure:
    """Gates and states of one sequence as heat maps (unit x step), input on top.

    Parameters
    ----------
    trace : seqbench.diagnostics.GateTrace
        One element of ``gate_activations``' result (read by its attributes
        ``cell``, ``index``, ``inputs``, ``tokens``, ``layers``).
    layer : int or None
        Which of the trace's layers (negative counts from the top); None: the top one in the trace.
    names : sequence of str or None
        Which arrays, in order (LSTM ``i f g o c h``, GRU ``r z n h``); None: all.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure (no pyplot state): one row for the input
    (lines for up to four real features, a heat map for more, the symbols
    as tick labels for symbol input), then one row per array with time on
    the x axis and hidden units on the y axis. Gates share the colour range
    0..1, ``tanh`` values -1..1, the cell state ``c`` a range symmetric about 0.
    """
    if not all(hasattr(trace, a) for a in ("cell", "index", "inputs", "tokens", "layers")):
        raise TypeError(f"plot_gates draws one GateTrace (an element of gate_activations' list), got "
                        f"{type(trace).__name__}")
    gates = trace.layers[_layer_key(trace, layer)]
    names = _names(trace.cell, tuple(gates), names)
    T = len(trace.inputs)
    fig = Figure(figsize=(max(6.4, 0.06 * T + 3), 1.3 * (len(names) + 1) + 0.6), layout="constrained")
    axes = fig.subplots(len(names) + 1, 1, sharex=True, squeeze=False)[:, 0]
    _draw_input(fig, axes[0], trace)
    for ax, name in zip(axes[1:], names):
        _draw_heat_map(fig, ax, name, gates[name])
    axes[-1].set_xlabel("step t")
    if trace.tokens is not None and T <= 60:
        axes[-1].set_xticks(range(T), [str(t).replace("$", r"\$") for t in trace.tokens],
                            rotation=90, fontsize="x-small")
    fig.suptitle(title or f"{trace.cell.upper()} gates, sequence {trace.index}")
    return fig


def _layer_key(trace, layer) -> int:
    present = sorted(trace.layers)
    if layer is None:
        return present[-1]
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
        raise TypeError(f"layer must be an int or None, got {layer!r}")
    if layer in trace.layers:
        return int(layer)
    if layer < 0 and -len(present) <= layer:
        return present[layer]
    raise ValueError(f"layer={int(layer)} is not in this trace: it holds layer(s) {present} "
                     f"(valid: {present} or -{len(present)}..-1); ask gate_activations for that layer")


def _names(cell: str, valid: tuple, names) -> list[str]:
    """The arrays to draw: ``names`` checked against the trace's own (``valid``, in its order)."""
    if names is None:
        return list(valid)
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in valid]
    if unknown or not names:
        raise ValueError(f"names={names!r}: a {cell.upper()} trace holds {', '.join(valid)}; pick from those")
    return names


def _draw_input(fig, ax, trace) -> None:
    x = np.asarray(trace.inputs)
    steps = np.arange(len(trace.inputs))
    if x.ndim == 1 and x.dtype.kind in "iu":  # symbol ids
        ax.step(steps, x, where="mid", color="0.3", linewidth=1.0)
        ax.set_ylabel("symbol id", fontsize="small")
    elif x.ndim == 1 or x.shape[1] <= _MAX_INPUT_LINES:
        x2 = x.reshape(len(x), -1)
        for k in range(x2.shape[1]):
            ax.plot(steps, x2[:, k], linewidth=1.0, label=f"x[{k}]")
        if x2.shape[1] > 1:
            ax.legend(frameon=False, fontsize="x-small", ncols=x2.shape[1], loc="upper right")
        ax.set_ylabel("input", fontsize="small")
    else:
        image = ax.imshow(x.T, aspect="auto", interpolation="nearest", cmap="coolwarm", origin="lower")
        fig.colorbar(image, ax=ax, pad=0.01)
        ax.set_ylabel("input\nfeature", fontsize="small")
    ax.set_title("input", fontsize="small", loc="left")
    ax.grid(alpha=0.3)


def _draw_heat_map(fig, ax, name: str, values: np.ndarray) -> None:
    """``values`` ``(T, units)`` drawn units x time."""
    if name in _GATES:
        limits, cmap = (0.0, 1.0), "viridis"
    else:
        bound = 1.0 if name != "c" else max(float(np.nanmax(np.abs(values))), 1e-12)
        limits, cmap = (-bound, bound), "RdBu_r"
    image = ax.imshow(values.T, aspect="auto", interpolation="nearest", cmap=cmap, vmin=limits[0], vmax=limits[1],
                      origin="lower")
    fig.colorbar(image, ax=ax, pad=0.01)
    ax.set_ylabel("unit", fontsize="small")
    ax.set_title(_LABELS[name], fontsize="small", loc="left")
