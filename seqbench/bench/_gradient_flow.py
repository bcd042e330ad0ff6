"""The gradient-flow record a benchmark job stores, for the report.

Reports are built from the results store alone (nothing is refitted), so the
runner has to record the gradient flow while it holds the fitted estimator:
:func:`gradient_flow_artefact` returns a small JSON-ready dict (a few hundred
floats) with the curves of the trained network and of the same network at
its initial weights.
"""

from __future__ import annotations

import math
import time

import numpy as np
from sklearn.base import clone

from .. import diagnostics
from ..results import GRADIENT_FLOW_ARTEFACT

__all__ = ["gradient_flow_artefact", "dataset_gradient_flow", "add_gradient_flow", "GRADIENT_FLOW_DATASETS"]

# The long-range memory tasks, whose report section shows gradient flow
# through time for each recurrent cell; other jobs skip the cost.
GRADIENT_FLOW_DATASETS = frozenset({"adding_problem", "copy_memory"})

_MAX_SEQUENCES = 32


def _head(values, n: int):
    """The first ``n`` items of a sequence collection or target container."""
    if values is None:
        return None
    return values[:n] if isinstance(values, np.ndarray) else list(values)[:n]


def _finite_list(values: np.ndarray) -> list:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=np.float64)]


def gradient_flow_artefact(estimator, X_fit, y_fit, X_eval, y_eval, *, max_sequences: int = _MAX_SEQUENCES,
                           last_steps: int | None = None) -> dict | None:
    """Gradient norms through time of a fitted estimator, trained and untrained.

    Parameters
    ----------
    estimator : fitted RNNClassifier / RNNRegressor / RNNTagger / RNNForecaster
        (anything else, or an unfitted one: None is returned).
    X_fit, y_fit : the data the estimator was fitted on; the untrained
        network is rebuilt from them as ``fit`` starts (same ``random_state``:
        the trained network's own initial weights when it is an int).
    X_eval, y_eval : the data the gradients are measured on (its first
        ``max_sequences`` sequences; a forecaster reads all their windows).
    last_steps : for a tagger, count only the last ``last_steps`` steps of
        each sequence in the loss (see :func:`gradient_norms_through_time`).

    Returns
    -------
    dict or None: ``{"wrt": "hidden", "align": "end", "last_steps", "n_sequences", "steps",
    "trained": [...], "untrained": [...], "input_trained": [...],
    "input_untrained": [...], "decay_rate_trained", "decay_rate_untrained",
    "seconds"}``; curves are lists of floats (None where not finite), index
    ``-1`` the last step; decay rates in orders of magnitude per step
    (``seqbench.diagnostics.gradient_decay_rate``).
    """
    if not hasattr(estimator, "module_") or not hasattr(estimator, "training_batches"):
        return None
    start = time.perf_counter()
    X_eval, y_eval = _head(X_eval, max_sequences), _head(y_eval, max_sequences)
    initial = clone(estimator).initialize(X_fit, y_fit)
    curves = {}
    for name, est in (("trained", estimator), ("untrained", initial)):
        for wrt, key in (("hidden", name), ("input", "input_" + name)):
            curves[key] = diagnostics.gradient_norms_through_time(est, X_eval, y_eval, wrt=wrt, align="end",
                                                                  last_steps=last_steps)
    return {
        "wrt": "hidden",
        "align": "end",
        "last_steps": last_steps,
        "n_sequences": len(X_eval),
        "steps": len(curves["trained"]),
        **{name: _finite_list(values) for name, values in curves.items()},
        "decay_rate_trained": diagnostics.gradient_decay_rate(curves["trained"]),
        "decay_rate_untrained": diagnostics.gradient_decay_rate(curves["untrained"]),
        "seconds": time.perf_counter() - start,
    }


def dataset_gradient_flow(estimator, dataset, **kwargs) -> dict | None:
    """:func:`gradient_flow_artefact` for a benchmark job: fitted on
    ``dataset``'s training split, measured on its test split. For the
    copy-memory task the loss counts only the ``n_memorize`` recall steps
    (``meta["options"]``), where the memory is tested. None for estimators
    the diagnostics cannot read and for language models."""
    if getattr(dataset, "task", None) == "language_model":
        return None
    last_steps = None
    if getattr(dataset, "name", None) == "copy_memory":
        last_steps = (dataset.meta.get("options") or {}).get("n_memorize")
    return gradient_flow_artefact(estimator, dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test,
                                  last_steps=last_steps, **kwargs)


def add_gradient_flow(estimator, dataset, artefacts: dict) -> None:
    """Store the gradient-flow record of a fitted recurrent ``estimator`` in
    a job's ``artefacts`` when ``dataset`` is a long-range task; a failure
    becomes a warning (a diagnostic must not fail a finished job)."""
    if dataset.name not in GRADIENT_FLOW_DATASETS or estimator.capabilities.family != "neural":
        return
    try:
        record = dataset_gradient_flow(estimator, dataset)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not fail a finished job
        artefacts.setdefault("warnings", []).append(f"gradient flow not measured: {exc}")
        return
    if record:
        artefacts[GRADIENT_FLOW_ARTEFACT] = record
