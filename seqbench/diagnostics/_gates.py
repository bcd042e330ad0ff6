"""Inside the cells: the gate activations and states of LSTM and GRU layers.

The gates are recomputed from the fused layer's own weights. The layer is
first unrolled step by step on those weights (:class:`UnrolledRecurrent`,
the same unrolling the gradient diagnostic uses), which gives every step's
state; with ``h_{t-1}`` known for every ``t``, each gate is one matrix
product over all steps at once. Conventions are PyTorch's:

LSTM (gate rows ``i, f, g, o`` of ``weight_ih`` / ``weight_hh``)::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)        candidate
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t                          long-term state
    h_t = o_t * tanh(c_t)                                    short-term state

GRU (gate rows ``r, z, n``)::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)     reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)     update gate
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)) candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

so in PyTorch's GRU ``z_t`` near 1 *keeps* the old state and ``z_t`` near 0
lets the candidate through: the opposite of the many lecture notes that
write ``h_t = z_t * n_t + (1 - z_t) * h_{t-1}``.

Every call checks the recomputed gates against the cells PyTorch ran
(``h_t`` and ``c_t`` rebuilt from them must match), and the unrolled states
against the fused layer's output; a mismatch is a RuntimeError.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..models.neural import torch_session
from ._adapters import initial_estimator, is_fitted, recurrent_encoder
from ._cell_inputs import network_inputs
from ._gradients import _check_unrolled
from ._trace import GATE_NAMES, GateTrace
from ._unroll import UnrolledRecurrent

__all__ = ["GateTrace", "gate_activations", "GATE_NAMES"]

_MODES = {"LSTM": "lstm", "GRU": "gru"}
_NEEDS_Y = ("classify", "regress", "tag")


def gate_activations(estimator, X, y=None, *, index=None, layer=None, dtype=torch.float64) -> list[GateTrace]:
    """Gate activations and states of an LSTM or GRU estimator, per sequence and layer.

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor, RNNTagger, RNNForecaster or
        RNNLanguageModel with ``cell="lstm"`` or ``cell="gru"``. Fitted: its
        trained network is read. Unfitted: a clone is built as ``fit(X, y)``
        would start it (same validation and initialisation from
        ``random_state``) but not trained.
    X : sequences in the estimator's own form; a forecaster's network reads
        the last ``window`` steps of each history (standardised), a
        language model's reads the start symbol and then the sequence.
    y : targets, needed only to build an unfitted classifier, regressor or
        tagger (its output layer depends on them); otherwise ignored.
    index : int, sequence of ints or None
        Which sequences of ``X`` (negative counts from the end); None: all.
    layer : int or None
        Which recurrent layer (negative counts from the top); None: all.
    dtype : torch dtype or None
        Computation precision (a copy of the network; None keeps its own).

    Returns
    -------
    list of :class:`GateTrace`, one per requested sequence in the order asked;
    ``trace.layers[l]["f"]`` is the forget gate of layer ``l``, ``(T, D*H)``.

    Raises
    ------
    TypeError : the estimator has no gates (plain RNN, HMM, AR, baseline).
    ValueError : ``index`` or ``layer`` out of range (the message names the
        valid range); ``y`` missing for an unfitted many-to-one or tagger.
    """
    cell = _gated_cell(estimator)
    est = _reference(estimator, X, y)
    with torch_session(num_threads=getattr(est, "num_threads", None)):
        module = copy.deepcopy(est.module_)
        if dtype is not None:
            module = module.to(dtype)
        module.eval()
        encoder = recurrent_encoder(module)
        if _MODES.get(encoder.rnn.mode) != cell:
            raise TypeError(f"the network's recurrent layer is {encoder.rnn.mode}, not the {cell} the estimator names")
        inputs, tokens = network_inputs(est, X)
        chosen = _indices(index, len(inputs))
        layers = _layers(layer, encoder.rnn.num_layers)
        gates = _run_all(module, encoder, [inputs[i] for i in chosen], layers)
    return [GateTrace(index=i, cell=cell, inputs=np.asarray(inputs[i]), layers=g,
                      tokens=None if tokens is None else tuple(tokens[i])) for i, g in zip(chosen, gates)]


# ----------------------------------------------------------------- requests
def _gated_cell(estimator) -> str:
    """``"lstm"`` or ``"gru"``; a TypeError naming the cells with gates otherwise."""
    where = ("gates exist in LSTM and GRU cells only: RNNClassifier, RNNRegressor, RNNTagger, RNNForecaster "
             "and RNNLanguageModel with cell='lstm' or cell='gru'")
    if getattr(getattr(estimator, "capabilities", None), "family", None) != "neural" or not hasattr(estimator, "cell"):
        raise TypeError(f"{type(estimator).__name__} is not a recurrent network and has no gates; {where}")
    if estimator.cell not in GATE_NAMES:
        raise TypeError(f"{type(estimator).__name__} has cell={estimator.cell!r}, a plain RNN cell without gates; "
                        f"{where}")
    return estimator.cell


def _reference(estimator, X, y):
    """The estimator whose network is read: itself when fitted, else its initial clone."""
    if is_fitted(estimator):
        return estimator
    if y is None and estimator.capabilities.task in _NEEDS_Y:
        raise ValueError(
            f"an unfitted {type(estimator).__name__} is read at the weights fit would start from, and building "
            "them needs the targets y (they size the output layer); pass y, or fit the estimator first"
        )
    return initial_estimator(estimator, X, y)


def _indices(index, n: int) -> list[int]:
    if index is None:
        return list(range(n))
    wanted = [index] if np.ndim(index) == 0 else list(index)
    chosen = []
    for i in wanted:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"index must be an int or a sequence of ints, got {i!r}")
        if not -n <= i < n:
            raise ValueError(f"index={int(i)} is out of range: X has {n} sequence(s), valid indices are "
                             f"0..{n - 1} (or -{n}..-1 from the end)")
        chosen.append(int(i) % n)
    return chosen


def _layers(layer, n: int) -> list[int]:
    if layer is None:
        return list(range(n))
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
        raise TypeError(f"layer must be an int or None, got {layer!r}")
    if not -n <= layer < n:
        raise ValueError(f"layer={int(layer)} does not exist: the network has {n} recurrent layer(s), valid layers "
                         f"are 0..{n - 1} (or -{n}..-1 from the top)")
    return [int(layer) % n]


# ----------------------------------------------------------------- computation
@torch.no_grad()
def _run_all(module, encoder, sequences: list, layers: list[int]) -> list[dict]:
    """Gates of ``sequences`` (run in batches of equal length, so nothing is padded)."""
    fused = encoder.rnn
    unrolled = UnrolledRecurrent(fused)
    param = next(fused.parameters())
    lengths = np.array([len(s) for s in sequences])
    out = [None] * len(sequences)
    for length in np.unique(lengths):
        members = np.flatnonzero(lengths == length)
        batch = torch.from_numpy(np.stack([sequences[k] for k in members])).to(param.device)
        if batch.is_floating_point():
            batch = batch.to(param.dtype)
        x = _embedded(module, encoder, batch)  # (B, T, d)
        unrolled(x)
        _check_unrolled(encoder, fused, unrolled, batch if encoder.embedding is not None else x)
        per_layer = {l: _layer_gates(fused, unrolled, l) for l in layers}  # {l: {name: (B, T, D*H)}}
        for row, k in enumerate(members):
            out[k] = {l: {name: a[row] for name, a in g.items()} for l, g in per_layer.items()}
    return out


def _embedded(module, encoder, batch: torch.Tensor) -> torch.Tensor:
    """The first recurrent layer's input: real steps as they are, symbol ids
    through the encoder's embedding (every symbol model keeps it there)."""
    if batch.is_floating_point():
        return batch
    if encoder.embedding is None:
        raise TypeError(f"{type(module).__name__} reads symbol ids but its encoder has no embedding")
    return encoder.embedding(batch)


def _layer_gates(fused: nn.RNNBase, unrolled: UnrolledRecurrent, layer: int) -> dict:
    """``{name: (B, T, D*H) float64 ndarray}`` for one layer, directions side by side."""
    if layer == 0:
        x = torch.stack(unrolled.inputs, dim=1)  # (B, T, d)
    else:
        below = [torch.stack(unrolled.hidden[(layer - 1, d)], 1) for d in range(unrolled.num_directions)]
        x = torch.cat(below, dim=2)  # (B, T, D*H): what the fused layer feeds the next one (no dropout in eval)
    parts = [_direction_gates(fused, unrolled, x, layer, d) for d in range(unrolled.num_directions)]
    return {name: torch.cat([p[name] for p in parts], dim=2).double().cpu().numpy() for name in parts[0]}


def _direction_gates(fused, unrolled, x, layer: int, direction: int) -> dict:
    """Gates of one layer and direction from its weights, ``x`` ``(B, T, d)`` and the recorded states."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    w_ih, w_hh = getattr(fused, "weight_ih" + suffix), getattr(fused, "weight_hh" + suffix)
    b_ih = getattr(fused, "bias_ih" + suffix) if fused.bias else torch.zeros_like(w_ih[:, 0])
    b_hh = getattr(fused, "bias_hh" + suffix) if fused.bias else torch.zeros_like(w_hh[:, 0])
    h = torch.stack(unrolled.hidden[(layer, direction)], dim=1)  # (B, T, H)
    h_prev = _previous(h, direction)
    from_x = x @ w_ih.T + b_ih  # (B, T, G*H)
    from_h = h_prev @ w_hh.T + b_hh
    if unrolled.is_lstm:
        c = torch.stack(unrolled.cell_states[(layer, direction)], dim=1)
        i, f, g, o = (from_x + from_h).chunk(4, dim=2)
        gates = dict(i=torch.sigmoid(i), f=torch.sigmoid(f), g=torch.tanh(g), o=torch.sigmoid(o), c=c, h=h)
        rebuilt = {"c": gates["f"] * _previous(c, direction) + gates["i"] * gates["g"],
                   "h": gates["o"] * torch.tanh(c)}
    else:
        xr, xz, xn = from_x.chunk(3, dim=2)
        hr, hz, hn = from_h.chunk(3, dim=2)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        gates = dict(r=r, z=z, n=n, h=h)
        rebuilt = {"h": (1 - z) * n + z * h_prev}
    _check_rebuilt(gates, rebuilt, layer, direction)
    return gates


def _previous(states: torch.Tensor, direction: int) -> torch.Tensor:
    """The state each step starts from, ``(B, T, H)``: the one before it in reading order
    (zeros at the first step read; the fused layer starts from zeros here)."""
    zero = torch.zeros_like(states[:, :1])
    if direction == 0:
        return torch.cat([zero, states[:, :-1]], dim=1)
    return torch.cat([states[:, 1:], zero], dim=1)


def _check_rebuilt(gates: dict, rebuilt: dict, layer: int, direction: int) -> None:
    """The states rebuilt from the recomputed gates must be the states the cells computed."""
    for name, value in rebuilt.items():
        error = float((value - gates[name]).abs().max()) if value.numel() else 0.0
        tolerance = 1e-9 if value.dtype == torch.float64 else 1e-4
        if not error <= tolerance * (1.0 + float(gates[name].abs().max())):
            raise RuntimeError(
                f"the recomputed gates of layer {layer} (direction {direction}) rebuild {name}_t with error "
                f"{error:.3g}; they do not describe this network"
            )
