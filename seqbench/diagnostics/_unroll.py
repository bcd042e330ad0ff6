"""A fused recurrent layer unrolled step by step, on the same weights.

PyTorch's fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` run the whole
recurrence inside one kernel: the per-step hidden states in its output are
not the tensors the next step was computed from, so ``retain_grad()`` on
them shows no gradient for any step before the last one the loss reads
(PyTorch's fused kernels keep no per-step graph). To measure ``dLoss/dh_t`` the
diagnostic swaps the fused layer for :class:`UnrolledRecurrent`, which runs
``nn.RNNCell`` / ``nn.LSTMCell`` / ``nn.GRUCell`` one step at a time with
the fused layer's own parameter tensors (shared, not copied) and keeps every
step's state as a node of the graph. A per-step Python loop is fine here:
this is a diagnostic, never the training path.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

__all__ = ["UnrolledRecurrent"]

_MODES = {"RNN_TANH": (nn.RNNCell, "tanh"), "RNN_RELU": (nn.RNNCell, "relu"), "LSTM": (nn.LSTMCell, None),
          "GRU": (nn.GRUCell, None)}


class UnrolledRecurrent(nn.Module):
    """Drop-in replacement for a fused recurrent layer that records each step.

    ``forward(x, hx=None) -> (output, h_n)`` (LSTM: ``(output, (h_n, c_n))``)
    with the fused layer's conventions (``batch_first``, layers, directions,
    state shapes ``(L*D, B, H)``). Padded tensors only: the diagnostic
    batches sequences of equal length, so nothing is packed.

    After a forward pass:

    - ``hidden[(layer, direction)]``: list over steps ``t`` of the state
      ``h_t`` ``(B, H)`` of that layer and direction at step ``t`` (for the
      backward direction too, indexed by input position);
    - ``cell_states[(layer, direction)]``: LSTM only, the same for the
      long-term state ``c_t`` ``(B, H)``;
    - ``inputs``: list over steps of the first layer's input ``(B, d)``
      (the embedding vector for symbol input).

    Gradients of a loss with respect to these tensors are the quantities
    back-propagation through time carries: ``torch.autograd.grad(loss, ...)``.
    """

    def __init__(self, fused: nn.RNNBase):
        super().__init__()
        if fused.mode not in _MODES:
            raise ValueError(f"cannot unroll a recurrent layer of mode {fused.mode!r}")
        if getattr(fused, "proj_size", 0):
            raise ValueError("cannot unroll an LSTM with proj_size > 0")
        cell_cls, nonlinearity = _MODES[fused.mode]
        self.mode = fused.mode
        self.batch_first = fused.batch_first
        self.num_layers = fused.num_layers
        self.num_directions = 2 if fused.bidirectional else 1
        self.hidden_size = fused.hidden_size
        self.cells = nn.ModuleList()
        for layer in range(self.num_layers):
            for direction in range(self.num_directions):
                self.cells.append(self._cell(fused, cell_cls, nonlinearity, layer, direction))
        self.hidden: dict = {}
        self.cell_states: dict = {}
        self.inputs: list = []

    @staticmethod
    def _cell(fused, cell_cls, nonlinearity, layer, direction) -> nn.Module:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        weight_ih = getattr(fused, "weight_ih" + suffix)
        kwargs = dict(bias=fused.bias, device=weight_ih.device, dtype=weight_ih.dtype)
        if nonlinearity is not None:
            kwargs["nonlinearity"] = nonlinearity
        cell = cell_cls(weight_ih.shape[1], fused.hidden_size, **kwargs)
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if fused.bias else [])
        for name in names:
            setattr(cell, name, getattr(fused, name + suffix))  # the fused layer's Parameter itself
        return cell

    @property
    def is_lstm(self) -> bool:
        return self.mode == "LSTM"

    def forward(self, x, hx=None):
        if isinstance(x, PackedSequence):
            raise ValueError("UnrolledRecurrent reads padded batches of equal-length sequences, not packed ones")
        if not self.batch_first:
            x = x.transpose(0, 1)
        B, T = x.shape[:2]
        if torch.is_grad_enabled() and not x.requires_grad:
            x = x.detach().requires_grad_()  # a leaf, so that dLoss/dx_t can be asked for
        self.inputs = list(x.unbind(1))  # T x (B, d)
        self.hidden, self.cell_states = {}, {}
        h0, c0 = self._initial(hx, B, x)
        layer_input, finals_h, finals_c = self.inputs, [], []
        for layer in range(self.num_layers):
            per_direction = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction
                hs, cs, (h_n, c_n) = self._run(self.cells[k], layer_input, h0[k], None if c0 is None else c0[k],
                                               direction)
                self.hidden[(layer, direction)] = hs
                if self.is_lstm:
                    self.cell_states[(layer, direction)] = cs
                per_direction.append(hs)
                finals_h.append(h_n)
                finals_c.append(c_n)
            layer_input = [torch.cat(step, dim=1) for step in zip(*per_direction)]  # T x (B, D*H)
        output = torch.stack(layer_input, dim=1)  # (B, T, D*H)
        if not self.batch_first:
            output = output.transpose(0, 1)
        h_n = torch.stack(finals_h)  # (L*D, B, H)
        return (output, (h_n, torch.stack(finals_c))) if self.is_lstm else (output, h_n)

    def _initial(self, hx, B: int, x: torch.Tensor):
        n = self.num_layers * self.num_directions
        if hx is None:
            zeros = x.new_zeros((n, B, self.hidden_size))
            return zeros, (zeros if self.is_lstm else None)
        return hx if self.is_lstm else (hx, None)

    def _run(self, cell, steps: list, h, c, direction: int):
        """One layer and direction over ``steps``; returns the states ``h_t`` and
        (LSTM) ``c_t`` by input position, and the final ``(h, c)``."""
        order = range(len(steps)) if direction == 0 else range(len(steps) - 1, -1, -1)
        hs, cs = [None] * len(steps), [None] * len(steps)
        for t in order:
            if self.is_lstm:
                h, c = cell(steps[t], (h, c))
                cs[t] = c
            else:
                h = cell(steps[t], h)
            hs[t] = h
        return hs, cs, (h, c)
