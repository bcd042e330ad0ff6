"""PyTorch modules with an output at every step: the tagger's and the
language model's (only ``nn.Module`` s here; the estimators are in
``_tagger.py`` and ``_language_model.py``). Both reuse the shared
:class:`~._modules.RecurrentEncoder` and differ only in their head and loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from ._batches import IGNORE_INDEX
from ._modules import EncoderWithHead, RNNConfig

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


class NextSymbolRNN(EncoderWithHead):
    """Next-symbol model: embedding → unidirectional encoder → dropout → linear head.

    The embedding has ``n_inputs = V + 1`` rows (the extra id ``V`` is the
    start-of-sequence input); the head has ``n_outputs = V``.

    ``forward(inputs, lengths=None, targets=None, state=None) -> ((logits, state), loss)``:

    - inputs ``(B, T)`` int64 ids; state: the previous chunk's final state or None;
    - logits ``(B, T, V)``: scores of the symbol after each input;
    - state: final state (per sequence, at its last valid step when packed);
    - loss: mean cross-entropy (nats) over targets other than ``IGNORE_INDEX``.
    """

    def __init__(self, config: RNNConfig):
        if config.bidirectional or config.input_kind != "symbol":
            raise ValueError("a next-symbol model reads symbol ids in one direction")
        super().__init__(config)

    def forward(self, inputs, lengths=None, targets=None, state=None):
        outputs, state = self.encoder(inputs, lengths, state)
        logits = self.head(self.dropout(_padded(outputs, inputs.shape[1])))  # (B, T, V)
        return (logits, state), None if targets is None else _step_loss(logits, targets)
