"""When a GRU *is* a plain tanh RNN.

In PyTorch's convention (see :mod:`._gates`)::

    h_t = (1 - z_t) * n_t + z_t * h_{t-1},
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)).

With the reset gate fully open (``r_t = 1``) and the update gate letting the
candidate through (``z_t = 0``) this is ``h_t = tanh(W_in x_t + b_in +
W_hn h_{t-1} + b_hn)``: the Elman RNN whose weights are the GRU's candidate
rows. :func:`saturate_gru_gates` forces the gates there through their
biases; :func:`gru_as_tanh_rnn` builds that RNN.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["gru_as_tanh_rnn", "saturate_gru_gates"]


def _check_gru(gru) -> None:
    if not isinstance(gru, nn.GRU):
        raise TypeError(f"expected a torch.nn.GRU, got {type(gru).__name__}")
    if not gru.bias:
        raise ValueError("the GRU has no biases (bias=False), so its gates cannot be saturated through them")


@torch.no_grad()
def saturate_gru_gates(gru: nn.GRU, strength: float = 50.0) -> nn.GRU:
    """Set, in place, every layer's gate biases so that ``r_t = 1`` and ``z_t = 0``.

    ``bias_ih`` gets ``+strength`` in the reset rows and ``-strength`` in the
    update rows, ``bias_hh`` 0 there; the candidate rows are untouched. With
    ``strength`` well above the size of the gates' weighted inputs the
    sigmoids saturate to float precision (``sigmoid(-50) ~ 2e-22``).
    Returns ``gru``.
    """
    _check_gru(gru)
    if not strength > 0:
        raise ValueError(f"strength must be positive, got {strength!r}")
    H = gru.hidden_size
    for name, param in gru.named_parameters():
        if name.startswith("bias_ih"):
            param[:H] = strength  # reset gate r: sigmoid -> 1, the whole old state feeds the candidate
            param[H : 2 * H] = -strength  # update gate z: sigmoid -> 0, h_t = n_t
        elif name.startswith("bias_hh"):
            param[: 2 * H] = 0.0
    return gru


@torch.no_grad()
def gru_as_tanh_rnn(gru: nn.GRU) -> nn.RNN:
    """The tanh ``nn.RNN`` (same sizes, layers, directions, ``batch_first``)
    whose weights and biases are copies of the GRU's candidate rows
    (``W_in``, ``W_hn``, ``b_in``, ``b_hn``): what the GRU computes once its
    gates are saturated by :func:`saturate_gru_gates`."""
    _check_gru(gru)
    first = gru.weight_ih_l0
    rnn = nn.RNN(gru.input_size, gru.hidden_size, num_layers=gru.num_layers, nonlinearity="tanh", bias=True,
                 batch_first=gru.batch_first, bidirectional=gru.bidirectional, device=first.device,
                 dtype=first.dtype)
    H = gru.hidden_size
    for name, param in rnn.named_parameters():
        param.copy_(getattr(gru, name)[2 * H :])  # rows r, z, n: the candidate's are the last H
    return rnn
