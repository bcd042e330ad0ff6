"""PyTorch modules of the neural estimators, and their small frozen config.

Only ``nn.Module`` s live here (nanoGPT style): the training loop is in
``_engine.py`` and the scikit-learn side in ``_estimators.py``. A module's
``forward(inputs, lengths=None, targets=None)`` returns ``(output, loss)``;
``loss`` is ``None`` when no targets are given. That signature is the whole
contract between a module and the engine, so a per-step tagger or a language
model plugs in with its own module (its own head and loss) and reuses the
same :class:`RecurrentEncoder` and training loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = ["RNNConfig", "RecurrentEncoder", "PooledRNN", "pool_sequence"]

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
_LOSSES = ("cross_entropy", "mse")


@dataclass(frozen=True)
class RNNConfig:
    """Architecture of a recurrent model.

    n_inputs : features per step (real input) or vocabulary size (symbol input)
    n_outputs : output units of the head (classes, or 1 for regression)
    input_kind : "real" (float steps ``(B, T, d)``) or "symbol" (ids ``(B, T)``,
        read through an ``nn.Embedding`` of ``embedding_dim``)
    cell, nonlinearity, hidden_size, num_layers, bidirectional, dropout :
        the fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``; ``nonlinearity`` is
        used by the plain RNN only; ``dropout`` acts between stacked layers
        (PyTorch's own) and on the pooled features before the head
    pooling : "last" (final state of each direction at the last *valid*
        step) or "mean" (mean of the outputs over the valid steps)
    loss : "cross_entropy" (targets: int64 class indices) or "mse"
    """

    n_inputs: int
    n_outputs: int
    input_kind: str = "real"
    embedding_dim: int = 32
    cell: str = "lstm"
    nonlinearity: str = "tanh"
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    pooling: str = "last"
    loss: str = "cross_entropy"

    def __post_init__(self):
        if self.cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {self.cell!r}")
        if self.input_kind not in ("real", "symbol"):
            raise ValueError(f"input_kind must be 'real' or 'symbol', got {self.input_kind!r}")
        if self.pooling not in ("last", "mean"):
            raise ValueError(f"pooling must be 'last' or 'mean', got {self.pooling!r}")
        if self.loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {self.loss!r}")

    @property
    def n_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def feature_size(self) -> int:
        """Width of the encoder's per-step output and of the pooled features."""
        return self.n_directions * self.hidden_size


class RecurrentEncoder(nn.Module):
    """Optional embedding + one fused recurrent layer stack (batch first).

    ``forward(inputs, lengths=None, state=None)``:

    - ``inputs``: ``(B, T, d)`` float32, or ``(B, T)`` int64 symbol ids;
      right-padded.
    - ``lengths``: ``(B,)`` int64 CPU tensor when lengths differ inside the
      batch (the batch is then packed), ``None`` when all ``B`` sequences
      have length ``T`` (no packing: NOTES.md measured that packing an
      equal-length batch doubles GRU/RNN cost on CPU).
    - ``state``: initial hidden state (``(L*D, B, H)``, a pair for LSTM), or
      None for zeros; a language model carries it across BPTT chunks.

    Returns ``(outputs, state)``: ``outputs`` is ``(B, T, D*H)`` when
    unpacked or a ``PackedSequence`` when packed; ``state`` is the final
    state of every layer and direction at each sequence's last valid step.
    """

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        if config.input_kind == "symbol":
            self.embedding = nn.Embedding(config.n_inputs, config.embedding_dim)
            input_size = config.embedding_dim
        else:
            self.embedding = None
            input_size = config.n_inputs
        kwargs = dict(
            input_size=input_size,
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            # PyTorch's dropout acts between stacked layers only (it warns for one layer)
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )
        if config.cell == "rnn":
            kwargs["nonlinearity"] = config.nonlinearity
        self.rnn = _CELLS[config.cell](**kwargs)

    def forward(self, inputs, lengths=None, state=None):
        x = self.embedding(inputs) if self.embedding is not None else inputs  # (B, T, E or d)
        if lengths is not None:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return self.rnn(x, state)


def pool_sequence(outputs, state, lengths, config: RNNConfig) -> torch.Tensor:
    """One feature vector ``(B, D*H)`` per sequence from an encoder's result.

    "last" concatenates the last layer's final state of each direction: the
    forward direction at the last valid step, the backward direction after
    reading back to step 0 (PyTorch returns these per sequence, padding
    excluded, also for packed batches). "mean" averages the outputs over the
    valid steps only.
    """
    if config.pooling == "last":
        h = state[0] if isinstance(state, tuple) else state  # (L*D, B, H); LSTM: (h, c)
        if config.n_directions == 1:
            return h[-1]  # (B, H)
        return torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H): last layer, forward then backward
    if isinstance(outputs, PackedSequence):
        padded, _ = pad_packed_sequence(outputs, batch_first=True)  # (B, T, D*H), zeros past the end
        return padded.sum(dim=1) / lengths.to(padded.device, padded.dtype).unsqueeze(1)
    return outputs.mean(dim=1)


class PooledRNN(nn.Module):
    """Many-to-one model: encoder → pooling → dropout → linear head.

    ``forward(inputs, lengths=None, targets=None) -> (output, loss)`` with
    ``output`` of shape ``(B, n_outputs)`` (class logits, or the
    standardised regression prediction) and ``loss`` the mean cross-entropy
    or mean squared error over the batch (``None`` without targets).
    """

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.feature_size, config.n_outputs)

    def forward(self, inputs, lengths=None, targets=None):
        outputs, state = self.encoder(inputs, lengths)
        features = pool_sequence(outputs, state, lengths, self.config)  # (B, D*H)
        output = self.head(self.dropout(features))  # (B, n_outputs)
        if targets is None:
            return output, None
        if self.config.loss == "cross_entropy":
            return output, F.cross_entropy(output, targets)
        return output, F.mse_loss(output, targets.view_as(output))
