"""Recurrent dynamics: how gradients flow back through time in a trained or
untrained recurrent estimator.

>>> from seqbench.diagnostics import gradient_norms_through_time, gradient_decay_rate
>>> g = gradient_norms_through_time(estimator, X, y)  # doctest: +SKIP

- :func:`gradient_norms_through_time`: ``||dLoss/dh_t||`` (or ``||dLoss/dx_t||``)
  per step, averaged over sequences, for RNNClassifier, RNNRegressor,
  RNNTagger and RNNForecaster, fitted or not;
- :func:`gradient_decay_rate`: a curve's slope in orders of magnitude per step;
- :class:`UnrolledRecurrent`: a fused recurrent layer run step by step on
  its own weights (what makes the per-step gradients visible);
- :func:`gate_activations`: LSTM gates ``i f g o`` and states ``c h``, GRU
  gates ``r z n`` and state ``h``, per sequence and layer (:class:`GateTrace`),
  recomputed from the fused layer's weights (``seqbench.report.plot_gates``
  draws them);
- :func:`saturate_gru_gates` and :func:`gru_as_tanh_rnn`: a GRU whose
  gates are saturated (reset open, update passing the candidate) is the tanh
  RNN built from its candidate weights.

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
    "gate_activations": "._gates",
    "GateTrace": "._trace",
    "GATE_NAMES": "._trace",
    "saturate_gru_gates": "._reduction",
    "gru_as_tanh_rnn": "._reduction",
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
