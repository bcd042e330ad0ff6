"""PyTorch modules of the neural estimators, and their small frozen config.

Only ``nn.Module`` s live here (nanoGPT style): the training loop is in
``_engine.py`` and the scikit-learn side in ``_estimators.py``. A module's
``forward(inputs, lengths=None, targets=None, *, bptt=None)`` returns
``(output, loss)``; ``loss`` is ``None`` when no targets are given, and
``bptt`` (the engine passes its ``tbptt`` in training) truncates
back-propagation through time. That signature is the whole
contract between a module and the engine, so a per-step tagger or a language
model plugs in with its own module (its own head and loss) and reuses the
same :class:`RecurrentEncoder` and training loop.

Also here, because they act on the recurrent layer itself: the recurrent
weight initialisations of :func:`init_recurrent_weights` (``"orthogonal"``,
``"identity"``: with ``nonlinearity="relu"`` the IRNN of Le, Jaitly and
Hinton 2015) with the LSTM's forget-gate bias, and truncated
back-propagation through time (the ``bptt`` argument of
:meth:`RecurrentEncoder.forward`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

__all__ = [
    "RNNConfig",
    "RecurrentEncoder",
    "EncoderWithHead",
    "PooledRNN",
    "AdditiveAttention",
    "recurrent_layer",
    "pool_sequence",
    "padded_outputs",
    "POOLINGS",
    "init_recurrent_weights",
    "RECURRENT_INITS",
]

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
RECURRENT_INITS = ("default", "orthogonal", "identity")
POOLINGS = ("last", "mean", "max", "attention")


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
    embedding_dropout : dropout on the embedded symbols (symbol input only;
        0 disables it)
    pooling : "last" (final state of each direction at the last *valid*
        step), "mean" or "max" (mean or element-wise maximum of the outputs
        over the valid steps), or "attention" (additive attention over the
        valid steps, :class:`AdditiveAttention`)
    loss : "cross_entropy" (targets: int64 class indices) or "mse"
    init : recurrent weight initialisation, see :func:`init_recurrent_weights`
        ("default" keeps PyTorch's uniform initialisation)
    forget_bias : LSTM only: the forget gate's total bias at initialisation
        (None keeps PyTorch's); ignored by RNN and GRU

    The values are taken as given: the estimators check their parameters
    once, where ``fit`` starts (``_parameter_constraints``).
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
    init: str = "default"
    forget_bias: float | None = None
    embedding_dropout: float = 0.0

    @property
    def n_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def feature_size(self) -> int:
        """Width of the encoder's per-step output and of the pooled features."""
        return self.n_directions * self.hidden_size


def recurrent_layer(config: RNNConfig, input_size: int) -> nn.RNNBase:
    """The fused ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (batch first) that
    ``config`` describes, reading ``input_size`` features per step, its
    recurrent weights set by :func:`init_recurrent_weights` (``config.init``,
    ``config.forget_bias``). Every recurrent layer of every module is built
    here: the encoders' and the forecaster's decoder."""
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
    layer = _CELLS[config.cell](**kwargs)
    init_recurrent_weights(layer, config.init, forget_bias=config.forget_bias)
    return layer


class RecurrentEncoder(nn.Module):
    """Optional embedding + one fused recurrent layer stack (batch first).

    ``forward(inputs, lengths=None, state=None, *, bptt=None)``:

    - ``inputs``: ``(B, T, d)`` float32, or ``(B, T)`` int64 symbol ids;
      right-padded.
    - ``lengths``: ``(B,)`` int64 CPU tensor when lengths differ inside the
      batch (the batch is then packed), ``None`` when all ``B`` sequences
      have length ``T`` (no packing: packing an equal-length batch was
      measured to double GRU/RNN cost on CPU).
    - ``state``: initial hidden state (``(L*D, B, H)``, a pair for LSTM), or
      None for zeros; a language model carries it across BPTT chunks.

    Returns ``(outputs, state)``: ``outputs`` is ``(B, T, D*H)`` when
    unpacked or a ``PackedSequence`` when packed; ``state`` is the final
    state of every layer and direction at each sequence's last valid step.

    ``bptt`` (None by default; the engine passes its ``tbptt`` for a
    training run): in training mode a sequence longer than
    ``bptt`` steps is read in chunks of ``bptt`` steps, each chunk starting
    from the previous chunk's final state *detached*, so gradients flow back
    at most ``bptt`` steps. The values computed are the same as without
    chunks; only the gradients are truncated.
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
        # only built when asked for, so the modules (and state dicts) of every other configuration stay as they were
        self.embedding_dropout = nn.Dropout(config.embedding_dropout) if config.embedding_dropout > 0 else None
        self.rnn = recurrent_layer(config, input_size)

    def forward(self, inputs, lengths=None, state=None, *, bptt: int | None = None):
        x = self.embedding(inputs) if self.embedding is not None else inputs  # (B, T, E or d)
        if self.embedding_dropout is not None and self.embedding is not None:
            x = self.embedding_dropout(x)
        if self.training and bptt is not None and x.shape[1] > bptt:
            return self._forward_truncated(x, lengths, state, int(bptt))
        if lengths is not None:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return self.rnn(x, state)

    def _forward_truncated(self, x, lengths, state, bptt: int):
        """:meth:`forward` in chunks of ``bptt`` steps with the carried state detached.

        Each sequence's final state is taken, not detached, from the chunk in
        which it ends, so a loss on it reaches back ``bptt`` steps (fewer in a
        short last chunk) whatever its length.
        """
        if self.config.bidirectional:
            raise ValueError("truncated BPTT (tbptt) needs a unidirectional network; set bidirectional=False")
        B, T = x.shape[:2]
        full = torch.full((B,), T, dtype=torch.int64) if lengths is None else lengths.cpu()
        state = _zero_state(self.rnn, B, x) if state is None else state
        outputs, finals, ends = [], [], []
        for start in range(0, T, bptt):
            width = min(bptt, T - start)
            steps = (full - start).clamp(0, width)  # (B,) valid steps of each sequence in this chunk
            active = torch.nonzero(steps > 0).squeeze(1)
            out, new = self._chunk(x[active.to(x.device), start : start + width], steps[active], _select(state, active))
            outputs.append(_scatter_rows(out, active, B))  # (B, width, D*H), zeros for finished sequences
            ending = torch.nonzero((full > start) & (full <= start + width)).squeeze(1)
            finals.append(_select(new, torch.searchsorted(active, ending)))
            ends.append(ending)
            state = _replace(_detach(state), active, _detach(new))
        padded = torch.cat(outputs, dim=1)  # (B, T, D*H)
        order = torch.argsort(torch.cat(ends))
        final = _select(_cat_states(finals), order)
        if lengths is None:
            return padded, final
        return pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False), final

    def _chunk(self, x, steps, state):
        """One chunk ``x`` ``(b, w, E)`` of ``b`` sequences with ``steps`` ``(b,)`` valid steps."""
        if int(steps.min()) == x.shape[1]:
            return self.rnn(x, state)
        packed = pack_padded_sequence(x, steps, batch_first=True, enforce_sorted=False)
        out, new = self.rnn(packed, state)
        return pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])[0], new


# -- helpers for the truncated forward: a state is a tensor (L*D, B, H) or LSTM's (h, c) --
def _zero_state(rnn: nn.RNNBase, batch: int, x: torch.Tensor):
    n = rnn.num_layers * (2 if rnn.bidirectional else 1)
    h = torch.zeros(n, batch, rnn.hidden_size, dtype=x.dtype, device=x.device)
    return (h, torch.zeros_like(h)) if isinstance(rnn, nn.LSTM) else h


def _map(state, fn):
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


def _select(state, rows: torch.Tensor):
    return _map(state, lambda s: s.index_select(1, rows.to(s.device)))


def _detach(state):
    return _map(state, torch.Tensor.detach)


def _replace(state, rows: torch.Tensor, new):
    if isinstance(state, tuple):
        return tuple(s.index_copy(1, rows.to(s.device), n) for s, n in zip(state, new))
    return state.index_copy(1, rows.to(state.device), new)


def _cat_states(states: list):
    if isinstance(states[0], tuple):
        return tuple(torch.cat(parts, dim=1) for parts in zip(*states))
    return torch.cat(states, dim=1)


def _scatter_rows(out: torch.Tensor, rows: torch.Tensor, batch: int) -> torch.Tensor:
    """``out`` ``(b, w, F)`` placed at ``rows`` of a zero ``(batch, w, F)`` tensor (differentiably)."""
    if len(rows) == batch:
        return out
    zeros = out.new_zeros((batch, *out.shape[1:]))
    return zeros.index_copy(0, rows.to(out.device), out)


_GATES = {nn.RNN: 1, nn.GRU: 3, nn.LSTM: 4}


@torch.no_grad()
def init_recurrent_weights(rnn: nn.RNNBase, init: str = "default", *, forget_bias: float | None = None) -> None:
    """Initialise the recurrent weights of a fused ``nn.RNN/LSTM/GRU`` in place.

    init : "default" (PyTorch's uniform initialisation, unchanged);
        "orthogonal" (each gate's ``(H, H)`` block of every ``weight_hh``
        a random orthogonal matrix: all singular values 1, so the linear
        part of the recurrence neither shrinks nor grows a state);
        "identity" (each ``(H, H)`` block of ``weight_hh`` the identity and
        every bias 0: with ``nonlinearity="relu"`` this is the IRNN of Le,
        Jaitly and Hinton 2015, which copies its state forward unchanged
        until the inputs change it). Input weights keep PyTorch's init.
    forget_bias : for an LSTM, set the forget gate's bias to this value in
        every layer and direction (``bias_ih`` gets it, ``bias_hh`` 0, so
        the total is ``forget_bias``; 1.0 is the usual remedy for an LSTM
        that forgets too fast, Gers et al. 2000 / Jozefowicz et al. 2015).
        Ignored by RNN and GRU; None keeps the current biases.
    """
    if init not in RECURRENT_INITS:
        raise ValueError(f"init must be one of {RECURRENT_INITS}, got {init!r}")
    H = rnn.hidden_size
    gates = next(g for cls, g in _GATES.items() if isinstance(rnn, cls))
    for name, param in rnn.named_parameters():
        if name.startswith("weight_hh") and init != "default":
            for g in range(gates):
                block = param[g * H : (g + 1) * H]
                if init == "orthogonal":
                    nn.init.orthogonal_(block)
                else:
                    block.copy_(torch.eye(H, dtype=param.dtype, device=param.device))
        elif name.startswith("bias") and init == "identity":
            param.zero_()
    if forget_bias is not None and isinstance(rnn, nn.LSTM):
        for name, param in rnn.named_parameters():
            if name.startswith("bias_ih"):
                param[H : 2 * H] = forget_bias  # LSTM gate order: input, forget, cell, output
            elif name.startswith("bias_hh"):
                param[H : 2 * H] = 0.0


def padded_outputs(outputs, lengths) -> tuple[torch.Tensor, torch.Tensor]:
    """An encoder's per-step outputs as a padded tensor ``(B, T, F)`` and the
    boolean mask ``(B, T)`` of the valid steps (all True when ``lengths`` is
    None: every sequence of the batch has length ``T``)."""
    if isinstance(outputs, PackedSequence):
        padded, _ = pad_packed_sequence(outputs, batch_first=True)  # (B, T, F), zeros past the end
    else:
        padded = outputs
    B, T = padded.shape[:2]
    if lengths is None:
        return padded, torch.ones((B, T), dtype=torch.bool, device=padded.device)
    steps = torch.arange(T, device=padded.device)
    return padded, steps.unsqueeze(0) < lengths.to(padded.device).unsqueeze(1)


def pool_sequence(outputs, state, lengths, config: RNNConfig) -> torch.Tensor:
    """One feature vector ``(B, D*H)`` per sequence from an encoder's result
    (``pooling`` "last", "mean" or "max"; "attention" has parameters of its
    own and lives in :class:`PooledRNN`).

    "last" concatenates the last layer's final state of each direction: the
    forward direction at the last valid step, the backward direction after
    reading back to step 0 (PyTorch returns these per sequence, padding
    excluded, also for packed batches). "mean" averages and "max" takes the
    element-wise maximum of the outputs over the valid steps only.
    """
    if config.pooling == "last":
        h = state[0] if isinstance(state, tuple) else state  # (L*D, B, H); LSTM: (h, c)
        if config.n_directions == 1:
            return h[-1]  # (B, H)
        return torch.cat([h[-2], h[-1]], dim=1)  # (B, 2H): last layer, forward then backward
    if config.pooling not in ("mean", "max"):
        raise ValueError(f"pool_sequence pools 'last', 'mean' or 'max', got {config.pooling!r}")
    if lengths is None:  # no padding anywhere
        return outputs.mean(dim=1) if config.pooling == "mean" else outputs.amax(dim=1)
    padded, mask = padded_outputs(outputs, lengths)
    if config.pooling == "mean":
        return padded.sum(dim=1) / lengths.to(padded.device, padded.dtype).unsqueeze(1)  # padding is zero
    return padded.masked_fill(~mask.unsqueeze(-1), float("-inf")).amax(dim=1)


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau-style) attention pooling over the valid steps.

    ``score_t = v . tanh(W o_t + b)`` for each output ``o_t`` ``(F,)``;
    padded steps get score -inf, so the weights ``a = softmax(score)`` are 0
    there and sum to 1 over the valid steps; the pooled feature is
    ``sum_t a_t o_t``. (Bahdanau, Cho and Bengio 2015, with a learned query
    ``v`` in place of a decoder state, as in attention pooling for
    classification.)

    ``forward(outputs (B, T, F), mask (B, T) bool) -> (pooled (B, F), weights (B, T))``
    """

    def __init__(self, features: int, attention_size: int):
        super().__init__()
        self.project = nn.Linear(features, attention_size)
        self.score = nn.Linear(attention_size, 1, bias=False)

    def forward(self, outputs, mask):
        scores = self.score(torch.tanh(self.project(outputs))).squeeze(-1)  # (B, T)
        weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)  # (B, T), 0 on padding
        return torch.bmm(weights.unsqueeze(1), outputs).squeeze(1), weights  # (B, F), (B, T)


class EncoderWithHead(nn.Module):
    """A :class:`RecurrentEncoder`, dropout, and a linear head from the
    encoder's features (``D*H``) to ``n_outputs``: the parts of the
    many-to-one, per-step and next-symbol models, which differ only in what
    their ``forward`` feeds the head and the loss they compute."""

    def __init__(self, config: RNNConfig):
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.feature_size, config.n_outputs)


class PooledRNN(EncoderWithHead):
    """Many-to-one model: encoder → pooling (last, mean, max or attention) → dropout → linear head.

    ``forward(inputs, lengths=None, targets=None, *, bptt=None) -> (output, loss)``
    with ``output`` of shape ``(B, n_outputs)`` (class logits, or the
    standardised regression prediction) and ``loss`` the mean cross-entropy
    or mean squared error over the batch (``None`` without targets).
    """

    def __init__(self, config: RNNConfig):
        super().__init__(config)
        if config.pooling == "attention":
            self.attention = AdditiveAttention(config.feature_size, config.hidden_size)

    def features(self, inputs, lengths=None, *, bptt=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Pooled features ``(B, D*H)`` and, with attention pooling, the
        attention weights ``(B, T)`` (0 on padding; else None)."""
        outputs, state = self.encoder(inputs, lengths, bptt=bptt)
        if self.config.pooling != "attention":
            return pool_sequence(outputs, state, lengths, self.config), None
        return self.attention(*padded_outputs(outputs, lengths))

    def forward(self, inputs, lengths=None, targets=None, *, bptt=None):
        features, _ = self.features(inputs, lengths, bptt=bptt)  # (B, D*H)
        output = self.head(self.dropout(features))  # (B, n_outputs)
        if targets is None:
            return output, None
        if self.config.loss == "cross_entropy":
            return output, F.cross_entropy(output, targets)
        return output, F.mse_loss(output, targets.view_as(output))
