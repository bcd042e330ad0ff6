"""Recurrent dynamics: how gradients flow back through time in a trained or
untrained recurrent estimator.

>>> from seqbench.diagnostics import gradient_norms_through_time, gradient_decay_rate
>>> g = gradient_norms_through_time(estimator, X, y)  # doctest: +SKIP

- :func:`gradient_norms_through_time`: ``||dLoss/dh_t||`` (or ``||dLoss/dx_t||``)
  per step, averaged over sequences, for RNNClassifier, RNNRegressor,
  RNNTagger and RNNForecaster, fitted or not;
- :func:`gradient_decay_rate`: a curve's slope in orders of magnitude per step;
- :class:`UnrolledRecurrent`: a fused recurrent layer run step by step on
  its own weights (what makes the per-step gradients visible).

The diagnostics read models and draw nothing: the runner records a job's
gradient flow (``seqbench.bench``) and the report draws it
(``seqbench.report.plot_gradient_flow``).

Names are imported on first use (PEP 562), so that importing the runner,
which imports this package, does not import torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "gradient_norms_through_time": "._gradients",
    "gradient_decay_rate": "._gradients",
    "UnrolledRecurrent": "._unroll",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
