"""PyTorch modules with an output at every step: the tagger's and the
language model's (only ``nn.Module`` s here; the estimators are in
``_tagger.py`` and ``_language_model.py``). Both reuse the shared
:class:`~._modules.RecurrentEncoder` and differ only in their head and loss.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from ._batches import IGNORE_INDEX
from ._modules import EncoderWithHead, RecurrentEncoder, RNNConfig

__all__ = ["StepRNN", "NextSymbolRNN", "detach_state"]


def _padded(outputs, total_length: int) -> torch.Tensor:
    """Encoder outputs as a ``(B, T, D*H)`` tensor (zeros past each sequence's end)."""
    if isinstance(outputs, PackedSequence):
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=total_length)
    return outputs


def _step_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) over the steps whose target is not ``IGNORE_INDEX``."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE_INDEX)


def detach_state(state):
    """A recurrent state (tensor, or LSTM's ``(h, c)``) cut from the graph."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


class StepRNN(EncoderWithHead):
    """Many-to-many (aligned) model: encoder → dropout → linear head at every step.

    ``forward(inputs, lengths=None, targets=None, *, bptt=None) -> (logits, loss)``:
    ``logits`` ``(B, T, n_outputs)``; ``loss`` the mean cross-entropy over the
    valid steps (targets padded with ``IGNORE_INDEX`` drop out), or None.
    With ``bidirectional`` the backward direction of a packed batch starts at
    each sequence's own last step, so padding never leaks into a real step.
    """

    def forward(self, inputs, lengths=None, targets=None, *, bptt=None):
        outputs, _ = self.encoder(inputs, lengths, bptt=bptt)
        logits = self.head(self.dropout(_padded(outputs, inputs.shape[1])))  # (B, T, C)
        return logits, None if targets is None else _step_loss(logits, targets)


class NextSymbolRNN(nn.Module):
    """Next-symbol model: embedding → dropout → unidirectional encoder
    (dropout between stacked layers) → dropout → linear head.

    The one ``config.dropout`` acts on every non-recurrent connection: the
    embedded inputs, between layers and on the outputs, never on the
    recurrence itself (Zaremba, Sutskever & Vinyals 2014, "Recurrent neural
    network regularization"). The model keeps the embedding itself (the
    encoder reads the embedded steps as real input) so that the dropout can
    sit between the two.

    The embedding has ``n_inputs`` rows and the head ``n_outputs`` units;
    the language model uses ``V + 1`` for both: id ``V`` is the start of a
    sequence as an input and its end as an output.

    ``forward(inputs, lengths=None, targets=None, state=None) -> ((logits, state), loss)``:

    - inputs ``(B, T)`` int64 ids; state: the previous chunk's final state or None;
    - logits ``(B, T, n_outputs)``: scores of what follows each input;
    - state: final state (per sequence, at its last valid step when packed);
    - loss: mean cross-entropy (nats) over targets other than ``IGNORE_INDEX``.
    """

    def __init__(self, config: RNNConfig):
        if config.bidirectional or config.input_kind != "symbol":
            raise ValueError("a next-symbol model reads symbol ids in one direction")
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.n_inputs, config.embedding_dim)
        self.encoder = RecurrentEncoder(replace(config, input_kind="real", n_inputs=config.embedding_dim))
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.feature_size, config.n_outputs)

    def forward(self, inputs, lengths=None, targets=None, state=None):
        x = self.dropout(self.embedding(inputs))  # (B, T, E)
        outputs, state = self.encoder(x, lengths, state)
        logits = self.head(self.dropout(_padded(outputs, inputs.shape[1])))  # (B, T, n_outputs)
        return (logits, state), None if targets is None else _step_loss(logits, targets)
