"""RNNLanguageModel: a next-symbol recurrent network trained by truncated
back-propagation through time on the shared engine.

Training data layout (Zaremba et al. 2014, the classic PTB recipe): one
boundary id ``V`` separates the sequences, ``[V, s_0, .., s_T, V, t_0, ..,
V]``, as ``<eos>`` does in the PTB stream: as an input it is the start of
the next sequence, as a target the end of the one before, so the end of
every sequence is predicted like a symbol (the head has ``V + 1`` outputs,
the embedding ``V + 1`` rows). The stream is cut into ``batch_size``
parallel rows, and each row into chunks of ``bptt`` steps. Chunk ``k + 1``
of a row continues chunk ``k``, so the hidden state at the end of a chunk
(detached from the graph) is the initial state of the next one: gradients
flow back at most ``bptt`` steps, information flows forward through the
whole row. One chunk is one fused call of the recurrent layer; there is no
Python loop over time steps in training.

Scoring runs each sequence from a zero state after the boundary id, in time
chunks with the state carried, so long texts do not need one huge tensor,
and ends with the probability of the end.

``lr_schedule`` is the engine's (``_schedules.py``), stepped once per epoch.

The stream is a training source of the engine (``shuffled`` / ``in_order``
give its chunks in time order, never shuffled; each chunk's ``weight`` is its
number of valid targets), so :class:`BPTTTrainer` only carries the state:
epoch and validation losses are means per target symbol through the
engine's own weighting.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities
from .._lm_base import LM_CAPABILITY_KINDS, LM_EXPECTED_FAILED_CHECKS, LanguageModelMixin
from ._batches import IGNORE_INDEX, Batch
from ._engine import Trainer, torch_session
from ._estimator_base import CONTROLS_DOC, NeuralEstimatorMixin, neural_constraints
from ._lm_modules import NextSymbolRNN, detach_state
from ._modules import RNNConfig

__all__ = [
    "RNNLanguageModel",
    "TokenStream",
    "BPTTTrainer",
    "sequence_log_likelihoods",
]


# Scoring works on chunks of at most this many logits (batch x steps x V).
_EVAL_LOGITS = 2**22
_EVAL_BATCH = 64


def bos_stream(sequences, bos: int) -> np.ndarray:
    """``[BOS, s_0, s_1, ..., BOS, t_0, ..., BOS]``: every sequence between
    boundary ids, int64 ``(sum T_i + n + 1,)`` (a target ``BOS`` is an end)."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    stream = np.full(int(lengths.sum()) + len(sequences) + 1, bos, dtype=np.int64)
    first = np.cumsum(lengths + 1) - lengths  # position of each sequence's first symbol
    offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    stream[np.repeat(first, lengths) + offset] = np.concatenate(sequences)
    return stream


class TokenStream:
    """A symbol stream as ``rows`` parallel rows cut into BPTT chunks, on the device.

    Parameters
    ----------
    stream : int64 ``(N,)`` symbol ids between boundary ids (see :func:`bos_stream`)
    rows : parallel rows (the batch size); fewer when the stream is short
    bptt : steps per chunk
    device : torch device

    Inputs are ``stream[:-1]`` and targets ``stream[1:]`` (a boundary target
    is the end of a sequence, predicted like a symbol); the last
    ``(N - 1) % rows`` steps do not fit a row and are dropped. Each chunk is a
    :class:`~._batches.Batch` ``(rows, <= bptt)`` whose ``weight`` is its
    number of targets; ``total_weight`` is theirs summed, the outcomes the
    stream predicts.
    """

    def __init__(self, stream: np.ndarray, rows: int, bptt: int, device):
        n = len(stream) - 1
        self.rows = max(1, min(rows, n))
        width = n // self.rows
        inputs = stream[: self.rows * width].reshape(self.rows, width)
        targets = stream[1 : self.rows * width + 1].reshape(self.rows, width)
        index = np.arange(self.rows)
        self._chunks = [
            Batch(
                torch.from_numpy(np.ascontiguousarray(inputs[:, c : c + bptt])).to(device),
                None,
                torch.from_numpy(np.ascontiguousarray(targets[:, c : c + bptt])).to(device),
                index,
                weight=targets[:, c : c + bptt].size,
            )
            for c in range(0, width, bptt)
        ]
        self.total_weight = sum(chunk.weight for chunk in self._chunks)

    def chunks(self) -> list[Batch]:
        """Every chunk, in time order (chunk ``k + 1`` of a row continues chunk ``k``)."""
        return self._chunks

    def shuffled(self, batch_size=None, random_state=None) -> list[Batch]:
        """The engine's epoch: the chunks in time order, never shuffled (the
        carried state needs the order); the rows were fixed at construction,
        so ``batch_size`` and ``random_state`` play no part."""
        return self._chunks

    def in_order(self, batch_size=None) -> list[Batch]:
        """The engine's evaluation pass: the chunks in time order."""
        return self._chunks


class BPTTTrainer(Trainer):
    """The engine's :class:`Trainer` with truncated BPTT over a
    :class:`TokenStream`: each chunk starts from the hidden state the
    previous one ended in (detached), and every pass (an epoch, an
    evaluation) starts from zeros. Batches, loss weighting (means per target
    symbol, in nats), ``train_step``, clipping, the optimizer and early
    stopping are the engine's own, and so is the learning-rate schedule."""

    state = None

    def compute_loss(self, batch: Batch):
        (logits, state), loss = self.module(batch.inputs, None, batch.targets, self.state)
        self.state = detach_state(state)
        return (logits, state), loss

    def run_epoch(self, train: TokenStream) -> tuple[float, float]:
        self.state = None
        return super().run_epoch(train)

    def evaluate(self, source: TokenStream) -> float:
        self.state = None
        return super().evaluate(source)


@torch.no_grad()
def sequence_log_likelihoods(module: NextSymbolRNN, sequences, bos: int, device) -> np.ndarray:
    """``sum_t log P(s_t | BOS, s_<t) + log P(end | BOS, s)`` (nats) of each
    sequence, ``(n,)``; the end is the output id ``bos``.

    Sequences are sorted by length and batched; each batch runs in time
    chunks (at most ``_EVAL_LOGITS`` logits each) with the state carried.
    """
    module.eval()
    V = module.config.n_outputs
    lengths = np.fromiter((len(s) + 1 for s in sequences), dtype=np.int64, count=len(sequences))  # + the end
    out = np.zeros(len(sequences))
    order = np.argsort(lengths, kind="stable")
    for start in range(0, len(order), _EVAL_BATCH):
        idx = order[start : start + _EVAL_BATCH]
        longest = int(lengths[idx].max())
        inputs = np.zeros((len(idx), longest), dtype=np.int64)
        targets = np.full((len(idx), longest), IGNORE_INDEX, dtype=np.int64)
        inputs[:, 0] = bos
        for row, i in enumerate(idx):
            inputs[row, 1 : lengths[i]] = sequences[i]
            targets[row, : lengths[i] - 1] = sequences[i]
            targets[row, lengths[i] - 1] = bos
        inputs, targets = torch.from_numpy(inputs).to(device), torch.from_numpy(targets).to(device)
        step = max(1, _EVAL_LOGITS // (len(idx) * V))
        total, state = torch.zeros(len(idx), dtype=torch.float64, device=device), None
        for t in range(0, longest, step):
            (logits, state), _ = module(inputs[:, t : t + step], None, None, state)
            tgt = targets[:, t : t + step]
            logp = F.log_softmax(logits.float(), dim=-1).gather(2, tgt.clamp(min=0).unsqueeze(2)).squeeze(2)
            total += torch.where(tgt != IGNORE_INDEX, logp, 0.0).sum(dim=1, dtype=torch.float64)
        out[idx] = total.cpu().numpy()
    return out


class RNNLanguageModel(NeuralEstimatorMixin, LanguageModelMixin, BaseEstimator):
    __doc__ = """Recurrent language model (RNN, LSTM or GRU) over characters, words or symbol ids.

    Embedding → dropout → fused recurrent layers → dropout → linear head
    over the vocabulary and the end of a sequence, trained with Adam on the
    next-symbol cross-entropy by truncated back-propagation through time
    (see the module docstring), with gradient clipping and an optional
    learning-rate schedule. ``sample`` draws with temperature, top-k and a
    prompt, and stops at the end of a sequence with ``stop_at_end=True``.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default="lstm"
    level : {"char", "word"}, default="char"
        Tokenizer level for text input.
    nonlinearity : {"tanh", "relu"}, default="tanh" (plain RNN only)
    hidden_size : int, default=128
    num_layers : int, default=1
    dropout : float in [0, 1), default=0.0
        On every non-recurrent connection (Zaremba et al. 2014): the
        embedded inputs, between stacked layers, and the outputs before the
        head; never on the recurrence.
    embedding_dim : int, default=32
    bptt : int >= 1, default=64
        Steps per truncated-BPTT chunk: gradients reach back at most ``bptt``
        steps, the state flows on through the whole stream. This is why the
        language model has no ``tbptt`` parameter (the other recurrent
        estimators have one): a ``tbptt >= bptt`` would change nothing, and a
        smaller one would cut the gradient path inside each chunk to the
        horizon ``bptt=tbptt`` gives, with fewer optimizer steps. One knob
        keeps a grid search over truncation lengths meaningful.
    lr : float, default=0.003 (Adam)
    lr_schedule : {None, "cosine", "step", "plateau"}, default=None
        Learning-rate schedule from ``torch.optim.lr_scheduler``, stepped
        once per epoch, as for every neural estimator: None keeps ``lr``;
        "cosine" anneals it to zero over ``max_epochs``; "step" divides it by
        10 at half and three quarters of ``max_epochs``; "plateau" halves it
        after 2 epochs without a lower validation loss (the training loss
        without early stopping).
    batch_size : int, default=32
        Parallel rows of the training stream (fewer if the text is shorter).
    max_epochs : int, default=20
    grad_clip : float or None, default=1.0 (total gradient norm)
    early_stopping : bool, default=False
        Hold out the last ``validation_fraction`` of the training stream
        (the end of the last sequences), stop after ``n_iter_no_change``
        epochs without a lower validation loss and restore the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=3
    random_state : int, RandomState or None
        Seeds the weights and dropout.
    device : str, default="auto" (CUDA when available)
    num_threads : int or None, default=1 (torch threads inside fit, scoring and sampling)
    tokenizer : Tokenizer or None, default=None
        For text; None means ``Tokenizer(level=level)`` (a given tokenizer is
        used as it is, its own ``level`` included).
""" + CONTROLS_DOC + """
    Attributes
    ----------
    module_ : NextSymbolRNN, trained, in eval mode
    history_ : list of dict per epoch (epoch, train_loss and val_loss in nats
        per predicted outcome (symbols and ends), grad_norm, seconds, and the
        ``lr`` the epoch trained with)
    n_iter_, best_epoch_, device_
    n_symbols_, input_kind_, tokenizer_, vocabulary_ : see LanguageModelMixin

    Examples
    --------
    >>> lm = RNNLanguageModel(cell="lstm", level="char", hidden_size=256, bptt=100)  # doctest: +SKIP
    >>> lm.fit(texts).sample(n_samples=3, length=200, prompt="To be", temperature=0.8)  # doctest: +SKIP
    """

    capabilities = Capabilities(
        task="language_model", family="neural", input_kinds=LM_CAPABILITY_KINDS, probabilistic=True
    )
    _expected_failed_checks = LM_EXPECTED_FAILED_CHECKS
    _parameter_constraints: dict = neural_constraints(
        "embedding_dim",
        "tokenizer",
        "lr_schedule",
        level=[StrOptions({"char", "word"})],
        bptt=[Interval(Integral, 1, None, closed="left")],
    )
    _trainer_class = BPTTTrainer

    def __init__(
        self,
        cell="lstm",
        *,
        level="char",
        nonlinearity="tanh",
        hidden_size=128,
        num_layers=1,
        dropout=0.0,
        embedding_dim=32,
        bptt=64,
        lr=0.003,
        lr_schedule=None,
        batch_size=32,
        max_epochs=20,
        grad_clip=1.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        random_state=None,
        device="auto",
        num_threads=1,
        tokenizer=None,
        grad_clip_value=None,
        init="default",
        forget_bias=None,
        epoch_callback=None,
    ):
        self.cell = cell
        self.level = level
        self.nonlinearity = nonlinearity
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.bptt = bptt
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.grad_clip = grad_clip
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.device = device
        self.num_threads = num_threads
        self.tokenizer = tokenizer
        self.grad_clip_value = grad_clip_value
        self.init = init
        self.forget_bias = forget_bias
        self.epoch_callback = epoch_callback

    def _module_config(self) -> RNNConfig:
        return self._rnn_config(
            n_inputs=self.n_symbols_ + 1,  # + the start of a sequence
            n_outputs=self.n_symbols_ + 1,  # + its end
            input_kind="symbol",
            embedding_dim=self.embedding_dim,
        )

    def _streams(self, sequences, device) -> tuple[TokenStream, TokenStream | None]:
        stream = bos_stream(sequences, self.n_symbols_)
        if not self.early_stopping:
            return TokenStream(stream, self.batch_size, self.bptt, device), None
        n_val = math.ceil(self.validation_fraction * len(stream))
        if n_val < 2 or len(stream) - n_val < 2:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} of the {len(stream)}-step "
                "training stream leaves fewer than 2 steps for training or validation; pass more text or "
                "set early_stopping=False"
            )
        cut = len(stream) - n_val
        train = TokenStream(stream[:cut], self.batch_size, self.bptt, device)
        val = TokenStream(stream[cut:], self.batch_size, self.bptt, device)
        return train, val

    def fit(self, X, y=None):
        """Train on ``X`` (strings or symbol-id sequences)."""
        return self._fit(X, y, epochs=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y=None, *, epochs: bool):
        sequences = self._validate_lm_fit_X(X).sequences

        def setup(device, rng):
            return (NextSymbolRNN(self._module_config()), *self._streams(sequences, device))

        self._train(setup, epochs=epochs)
        return self

    # -- the LanguageModelMixin hooks -------------------------------------------------------

    def _log_likelihoods(self, sequences) -> np.ndarray:
        check_is_fitted(self, "module_")
        with torch_session(num_threads=self.num_threads):
            return sequence_log_likelihoods(self.module_, sequences, self.n_symbols_, self._module_device())

    @torch.no_grad()
    def _run(self, inputs: np.ndarray, lengths: np.ndarray | None, state):
        """Log-distribution after each row's last valid input, and the state there."""
        self.module_.eval()
        x = torch.from_numpy(inputs).to(self._module_device())
        with torch_session(num_threads=self.num_threads):
            (logits, state), _ = self.module_(x, None if lengths is None else torch.from_numpy(lengths), None, state)
        last = torch.from_numpy(np.full(len(inputs), inputs.shape[1] - 1) if lengths is None else lengths - 1)
        logits = logits[torch.arange(len(inputs)), last.to(logits.device)]  # (n, V)
        return F.log_softmax(logits.double(), dim=-1).cpu().numpy(), state

    def _start(self, prompts, n=None):
        check_is_fitted(self, "module_")
        bos = self.n_symbols_
        if prompts is None:
            return self._run(np.full((n, 1), bos, dtype=np.int64), None, None)
        lengths = np.fromiter((len(p) + 1 for p in prompts), dtype=np.int64, count=len(prompts))
        inputs = np.zeros((len(prompts), int(lengths.max())), dtype=np.int64)
        inputs[:, 0] = bos
        for row, p in enumerate(prompts):
            inputs[row, 1 : len(p) + 1] = p
        ragged = lengths.min() != lengths.max()
        return self._run(inputs, lengths if ragged else None, None)

    def _step(self, state, symbols):
        return self._run(np.asarray(symbols, dtype=np.int64)[:, None], None, state)
