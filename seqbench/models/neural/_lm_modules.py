"""PyTorch modules with an output at every step: the tagger's and the
language model's (only ``nn.Module`` s here; the estimators are in
``_tagger.py`` and ``_language_model.py``). Both reuse the shared
:class:`~._modules.RecurrentEncoder` and differ only in their head and loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from ._batches import IGNORE_INDEX
from ._modules import EncoderWithHead, RNNConfig

__all__ = ["StepRNN", "NextSymbolRNN", "DroppedEmbedding", "detach_state"]


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


class DroppedEmbedding(nn.Embedding):
    """An ``nn.Embedding`` whose vectors pass through dropout (active in
    training mode only), built on the weights of ``embedding`` (shared, so
    building it draws no random numbers)."""

    def __init__(self, embedding: nn.Embedding, p: float):
        super().__init__(embedding.num_embeddings, embedding.embedding_dim, _weight=embedding.weight.data)
        self.dropout = nn.Dropout(p)

    def forward(self, ids):
        return self.dropout(super().forward(ids))


class NextSymbolRNN(EncoderWithHead):
    """Next-symbol model: embedding → dropout → unidirectional encoder
    (dropout between stacked layers) → dropout → linear head.

    The one ``config.dropout`` acts on every non-recurrent connection: the
    embedded inputs, between layers and on the outputs, never on the
    recurrence itself (Zaremba, Sutskever & Vinyals 2014, "Recurrent neural
    network regularization"). The encoder's embedding is a
    :class:`DroppedEmbedding`, so the encoder still turns ids into the
    vectors its recurrent layer reads (as the diagnostics expect), dropped
    out in training.

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
        super().__init__(config)
        self.encoder.embedding = DroppedEmbedding(self.encoder.embedding, config.dropout)

    def forward(self, inputs, lengths=None, targets=None, state=None):
        outputs, state = self.encoder(inputs, lengths, state)
        logits = self.head(self.dropout(_padded(outputs, inputs.shape[1])))  # (B, T, n_outputs)
        return (logits, state), None if targets is None else _step_loss(logits, targets)
