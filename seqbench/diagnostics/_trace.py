"""What :func:`~._gates.gate_activations` returns: one sequence's gates and
states (plain numpy, no torch here, so the report can read and draw it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["GateTrace", "GATE_NAMES"]

# the arrays of each gated cell, in PyTorch's gate order, then the states
GATE_NAMES = {"lstm": ("i", "f", "g", "o", "c", "h"), "gru": ("r", "z", "n", "h")}


@dataclass(frozen=True)
class GateTrace:
    """One sequence's gates and states in every requested layer.

    index : position of the sequence in ``X``
    cell : "lstm" or "gru"
    inputs : what the network reads, step by step: ``(T, d)`` float64 values
        (a forecaster's standardised window) or ``(T,)`` int64 symbol ids
        (a language model's start symbol first)
    tokens : the symbol of each step for text input, else None
    layers : ``{layer: {name: (T, D*H) float64}}``, names from
        :data:`GATE_NAMES` (LSTM ``i f g o c h``, GRU ``r z n h``); with a
        bidirectional layer the forward direction's ``H`` units come first,
        then the backward direction's, at the same input position ``t``
    """

    index: int
    cell: str
    inputs: np.ndarray
    tokens: tuple | None
    layers: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        return len(self.inputs)
