"""The gate-trace record a benchmark job stores for the report's "Mechanisms".

On the adding problem a network must hold the first marked value until the
end. An LSTM does it by keeping its forget gate ``f`` near 1, a GRU by
keeping its update gate ``z`` near 1 (PyTorch's convention, ``h_t = (1 -
z_t) n_t + z_t h_{t-1}``: ``z = 1`` keeps the old state). While the runner
holds the fitted estimator, :func:`gate_trace_artefact` reads those gates on
test sequences (``seqbench.diagnostics.gate_activations``) and returns a
small JSON-ready dict: the gate averaged over units, aligned at each
sequence's first marker, for the trained network and the same network at
its initial weights, and a few single sequences for a closer look.
"""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.base import clone

from .. import diagnostics
from ..results import GATE_TRACES_ARTEFACT

__all__ = ["gate_trace_artefact", "add_gate_traces", "GATE_TRACE_DATASETS", "HOLDING_GATE"]

GATE_TRACE_DATASETS = frozenset({"adding_problem"})
HOLDING_GATE = {"lstm": "f", "gru": "z"}  # the gate that keeps the state: near 1 = hold
_MAX_SEQUENCES = 32
_EXAMPLES = 3
_DIGITS = 3  # stored values are gate activations in [0, 1]: three decimals are plenty for a picture


def _rounded(values) -> list:
    return [round(float(v), _DIGITS) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def _markers(x: np.ndarray) -> list[int]:
    """Steps whose marker channel (column 1 of an adding-problem input) is set."""
    return [int(t) for t in np.flatnonzero(np.asarray(x)[:, 1] > 0.5)]


def _summary(traces: list, gate: str, markers: list) -> dict:
    """Mean over units; before the first marker, between the markers, after the
    second (each averaged over the sequences that have such steps); and the
    curve aligned at the first marker (offset 0 = the marked step)."""
    T = max(t.length for t in traces)
    offsets = np.arange(-T + 1, T)
    total, count = np.zeros(len(offsets)), np.zeros(len(offsets))
    phases = {"before": [], "between": [], "after": []}
    for trace, (first, second) in zip(traces, markers):
        mean = trace.layers[max(trace.layers)][gate].mean(axis=1)  # (T,): the top layer, mean over units
        start = T - 1 - first
        total[start : start + len(mean)] += mean
        count[start : start + len(mean)] += 1
        for name, part in (("before", mean[:first]), ("between", mean[first + 1 : second]),
                           ("after", mean[second + 1 :])):
            if len(part):
                phases[name].append(float(part.mean()))
    keep = count >= min(3, len(traces))  # the far ends of the aligned curve rest on very few sequences
    with np.errstate(invalid="ignore"):
        aligned = total / count
    return {**{f"mean_{k}": (float(np.mean(v)) if v else None) for k, v in phases.items()},
            "offsets": [int(o) for o in offsets[keep]], "aligned": _rounded(aligned[keep])}


def gate_trace_artefact(estimator, X_fit, y_fit, X_eval, *, max_sequences: int = _MAX_SEQUENCES,
                        examples: int = _EXAMPLES) -> dict | None:
    """The holding gate of a fitted LSTM or GRU on adding-problem sequences.

    Parameters
    ----------
    estimator : fitted recurrent estimator with ``cell`` "lstm" or "gru"
        (anything else: None).
    X_fit, y_fit : its training data (the untrained network is rebuilt from
        them as ``fit`` starts, from the same ``random_state``).
    X_eval : adding-problem inputs ``(T, 2)`` (column 1 marks two steps);
        the first ``max_sequences`` are read.
    examples : how many single sequences to keep whole.

    Returns
    -------
    dict or None: ``{"cell", "gate", "steps", "n_sequences", "trained": summary,
    "untrained": summary, "examples": [{"index", "markers", "values", "gate",
    "units"}], "seconds"}`` where a summary is ``{"mean_before",
    "mean_between", "mean_after", "offsets", "aligned"}`` (gate averaged over
    the top layer's units; "aligned" at the first marker, offset 0), an
    example's "gate" is that mean per step and "units" the ``(T, H)`` values
    of the first example only.
    """
    cell = getattr(estimator, "cell", None)
    if cell not in HOLDING_GATE or not hasattr(estimator, "module_"):
        return None
    start = time.perf_counter()
    X_eval = list(X_eval)[:max_sequences]
    markers = [_markers(x) for x in X_eval]
    usable = [i for i, m in enumerate(markers) if len(m) == 2]
    if not usable:
        return None
    X_eval, markers = [X_eval[i] for i in usable], [markers[i] for i in usable]
    gate = HOLDING_GATE[cell]
    trained = diagnostics.gate_activations(estimator, X_eval)
    initial = clone(estimator).initialize(X_fit, y_fit)  # the trained network's own initial weights
    untrained = diagnostics.gate_activations(initial, X_eval)
    shown = []
    for k, trace in enumerate(trained[:examples]):
        values = trace.layers[max(trace.layers)][gate]
        shown.append({"index": usable[k], "markers": markers[k], "values": _rounded(np.asarray(X_eval[k])[:, 0]),
                      "gate": _rounded(values.mean(axis=1)),
                      **({"units": [_rounded(row) for row in values]} if k == 0 else {})})
    return {"cell": cell, "gate": gate, "steps": max(t.length for t in trained), "n_sequences": len(trained),
            "trained": _summary(trained, gate, markers), "untrained": _summary(untrained, gate, markers),
            "examples": shown, "seconds": time.perf_counter() - start}


def add_gate_traces(estimator, dataset, artefacts: dict) -> None:
    """Store the gate-trace record of a fitted LSTM or GRU in a job's
    ``artefacts`` when ``dataset`` is the adding problem; a failure becomes a
    warning (a diagnostic must not fail a finished job)."""
    if dataset.name not in GATE_TRACE_DATASETS or getattr(estimator, "cell", None) not in HOLDING_GATE:
        return
    try:
        record = gate_trace_artefact(estimator, dataset.X_train, dataset.y_train, dataset.X_test)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not fail a finished job
        artefacts.setdefault("warnings", []).append(f"gate traces not recorded: {exc}")
        return
    if record:
        artefacts[GATE_TRACES_ARTEFACT] = record
