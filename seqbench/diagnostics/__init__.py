"""Recurrent dynamics: how gradients flow back through time in a trained or
untrained recurrent estimator, and pictures of it (issue 8).

>>> from seqbench.diagnostics import gradient_norms_through_time, plot_gradient_flow
>>> g = gradient_norms_through_time(estimator, X, y)  # doctest: +SKIP
>>> plot_gradient_flow({"rnn": g_rnn, "lstm": g_lstm, "gru": g_gru})  # doctest: +SKIP

- :func:`gradient_norms_through_time`: ``||dLoss/dh_t||`` (or ``||dLoss/dx_t||``)
  per step, averaged over sequences, for RNNClassifier, RNNRegressor,
  RNNTagger and RNNForecaster, fitted or not;
- :func:`gradient_decay_rate`: a curve's slope in orders of magnitude per step;
- :func:`plot_gradient_flow`: the log-scale picture (a matplotlib Figure);
- :func:`gradient_flow_artefact` (:func:`dataset_gradient_flow` for a
  runner job): the record a benchmark job stores, and
  :func:`recurrent_dynamics_section`, the report section that draws it;
- :class:`UnrolledRecurrent`: a fused recurrent layer run step by step on
  its own weights (what makes the per-step gradients visible);
- :func:`gate_activations`: LSTM gates ``i f g o`` and states ``c h``, GRU
  gates ``r z n`` and state ``h``, per sequence and layer (:class:`GateTrace`),
  recomputed from the fused layer's weights; :func:`plot_gates` draws them
  as heat maps over time under the input;
- :func:`saturate_gru_gates` and :func:`gru_as_tanh_rnn`: a GRU whose
  gates are saturated (reset open, update passing the candidate) is the tanh
  RNN built from its candidate weights;
- :class:`MeanRegressor`: the trivial baseline of the adding problem.

Names are imported on first use (PEP 562), so the report can import its
section builder without importing torch.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "gradient_norms_through_time": "._gradients",
    "gradient_decay_rate": "._gradients",
    "plot_gradient_flow": "._plot",
    "gradient_flow_artefact": "._artefact",
    "dataset_gradient_flow": "._artefact",
    "recurrent_dynamics_section": "._report_section",
    "UnrolledRecurrent": "._unroll",
    "gate_activations": "._gates",
    "GateTrace": "._gates",
    "GATE_NAMES": "._gates",
    "plot_gates": "._plot_gates",
    "saturate_gru_gates": "._reduction",
    "gru_as_tanh_rnn": "._reduction",
    "MeanRegressor": "._baselines",
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
