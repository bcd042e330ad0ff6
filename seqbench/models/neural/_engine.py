"""The training engine shared by every neural estimator.

A chain of small overridable steps (skorch's ``fit_loop → run_single_epoch
→ train_step``): :meth:`Trainer.fit` runs epochs and early stopping,
:meth:`Trainer.run_epoch` runs the mini-batches of one epoch,
:meth:`Trainer.train_step` does forward, backward, clipping and the Adam
step, and :meth:`Trainer.compute_loss` is the one place that calls the
module. Any module whose ``forward(inputs, lengths, targets)`` returns
``(output, loss)`` trains here unchanged: a per-step tagger's module returns
per-step logits and a loss that ignores padded steps (its targets come
padded with ``IGNORE_INDEX``); a language model with truncated BPTT
subclasses :class:`Trainer` and overrides :meth:`Trainer.compute_loss` to
carry the detached hidden state from one time chunk to the next.

A training or validation *source* is a :class:`SequenceBatches` or anything
with the same three members: ``shuffled(batch_size, rng)`` (one epoch's
batches), ``in_order(batch_size)`` (evaluation batches) and
``total_weight``. Each :class:`~._batches.Batch` carries a ``weight``, the
number of target values its loss is a mean over (sequences, or valid steps
for per-step targets), so the epoch losses are means per sequence for a
many-to-one model and per step for a tagger or a language model, whatever
the batch sizes. A batch of weight 0 (a language-model chunk whose targets
are all sequence ends) is run forward without gradients and trains nothing.

A step is kept to its arithmetic: on CPU the module's parameters and
gradients are views into one flat tensor each (``_flat_parameters.py``), so
zeroing, the gradient norm, clipping and the (fused) Adam update are one
operator call each; batches are slices of one tensor gathered per epoch
(``_batches.py``); losses and norms stay tensors until the epoch ends;
validation batches are built once per fit and evaluated under
``torch.inference_mode``. ``benchmarks/profile_step.py`` shows the
microseconds per part.

Training controls from the theory of recurrent networks (all off by
default): clipping the total gradient norm (``grad_clip``) and each
gradient element (``grad_clip_value``); truncated back-propagation through
time for many-to-one and aligned models (``tbptt``: every
:class:`~._modules.RecurrentEncoder` in the module runs in chunks of that
many steps during training, the state carried forward detached, so
gradients flow back at most ``tbptt`` steps: the trainer passes ``bptt=tbptt``
to the module's ``forward``); the mean total gradient norm
of each epoch is in the history, so exploding gradients are visible; and a
learning-rate schedule (``lr_schedule``, built in ``_schedules.py``),
stepped after each epoch, whose rate the history records.

Also here: the device choice (``"auto"``) and :func:`torch_session`, which
fixes the torch thread count and seeds torch for the duration of a fit
without touching the caller's global random state.
"""

from __future__ import annotations

import copy
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.utils import check_random_state

from ._batches import Batch, SequenceBatches
from ._flat_parameters import trainable_parameters
from ._schedules import make_scheduler, step_scheduler

__all__ = [
    "TrainingConfig",
    "FitResult",
    "EarlyStopping",
    "Trainer",
    "iter_outputs",
    "predict_outputs",
    "per_step_outputs",
    "resolve_device",
    "torch_session",
]

EVAL_BATCH_SIZE = 256


@dataclass(frozen=True)
class TrainingConfig:
    """How to train.

    lr : Adam learning rate
    batch_size : sequences per training mini-batch
    max_epochs : upper bound on the epochs run
    grad_clip : clip the total gradient norm to this value; None disables
    grad_clip_value : clip every gradient element to
        ``[-grad_clip_value, grad_clip_value]`` (before the norm clipping);
        None (the default) disables
    tbptt : truncated back-propagation through time: during training every
        ``RecurrentEncoder`` of the module reads its input in chunks of
        ``tbptt`` steps, carrying the state forward detached, so gradients
        flow back at most ``tbptt`` steps (one optimizer step per batch
        still). None (the default), or a value at least the sequence
        length, is full BPTT. Unidirectional encoders only.
    n_iter_no_change : with a validation source, stop after this many epochs
        without a lower validation loss and restore the best weights
    eval_batch_size : sequences per batch when evaluating or predicting
    lr_schedule : None (constant ``lr``) or one of "cosine", "step",
        "plateau" (see ``_schedules.py``), stepped once per epoch

    The values are taken as given: the estimators check their parameters
    once, where ``fit`` starts (``_parameter_constraints``).
    """

    lr: float = 1e-3
    batch_size: int = 32
    max_epochs: int = 50
    grad_clip: float | None = 1.0
    n_iter_no_change: int = 5
    eval_batch_size: int = EVAL_BATCH_SIZE
    grad_clip_value: float | None = None
    tbptt: int | None = None
    lr_schedule: str | None = None


@dataclass
class FitResult:
    """What a fit produced: per-epoch ``history`` dicts (epoch, train_loss,
    val_loss, grad_norm, seconds, lr: the learning rate of that epoch), the epochs run and the epoch whose
    weights the module holds (the best validation epoch, else the last)."""

    history: list = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int = 0


def resolve_device(device) -> torch.device:
    """``"auto"`` → CUDA when available, else CPU; anything else as torch reads it."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}") from exc
    if resolved.type not in ("cpu", "cuda"):  # mps, meta, xpu...: not what the engine is built and tested for
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} asks for CUDA, but torch sees no CUDA device; use 'auto' or 'cpu'")
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(f"device={device!r} does not exist: torch sees {torch.cuda.device_count()} CUDA device(s), "
                         f"cuda:0 to cuda:{torch.cuda.device_count() - 1}; use one of them or 'auto'")
    return resolved


@contextmanager
def torch_session(*, num_threads: int | None = None, seed: int | None = None, device=None):
    """Run a block with ``num_threads`` torch threads and, if ``seed`` is
    given, torch seeded with it; the caller's thread count and random state
    (CPU, and CUDA when ``device`` is CUDA) are restored afterwards."""
    previous = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        if seed is None:
            yield
            return
        on_cuda = device is not None and torch.device(device).type == "cuda"
        cuda_devices = list(range(torch.cuda.device_count())) if on_cuda else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.default_generator.manual_seed(seed)
            if on_cuda:
                torch.cuda.manual_seed_all(seed)
            yield
    finally:
        torch.set_num_threads(previous)


class EarlyStopping:
    """Track the validation loss; keep a copy of the best weights."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best_state = None
        self.stale = 0

    def update(self, epoch: int, val_loss: float, module: torch.nn.Module) -> bool:
        """Record one epoch; return True when training should stop."""
        if val_loss < self.best_loss:  # NaN never improves
            self.best_loss, self.best_epoch, self.stale = val_loss, epoch, 0
            self.best_state = copy.deepcopy(module.state_dict())
            return False
        self.stale += 1
        return self.stale >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        if self.best_state is not None:
            module.load_state_dict(self.best_state)


def iter_outputs(module: torch.nn.Module, source: SequenceBatches, *, batch_size: int = EVAL_BATCH_SIZE):
    """Yield ``(batch, output)`` for every batch of ``source`` in eval mode,
    without gradients, in the fixed content-based order of
    :meth:`SequenceBatches.in_order`. A per-step model (tagger) splits each
    ``output`` ``(B, T, ...)`` by ``batch.lengths``; see :func:`predict_outputs`
    for one output per sequence."""
    module.eval()
    for batch in source.in_order(batch_size):
        with torch.no_grad():  # not held across the yield: the caller's grad mode stays its own
            output, _ = module(batch.inputs, batch.lengths)
        yield batch, output


def predict_outputs(module: torch.nn.Module, source: SequenceBatches, *, batch_size: int = EVAL_BATCH_SIZE):
    """One output per sequence of ``source``, in source order: a float32
    ndarray ``(n, *output_shape)``. Sequences are batched by content, not
    position, so the result does not depend on the order of ``source``."""
    result = None
    for batch, output in iter_outputs(module, source, batch_size=batch_size):
        values = output.float().cpu().numpy()
        if result is None:
            result = np.empty((len(source), *values.shape[1:]), dtype=np.float32)
        result[batch.index] = values
    return result


def per_step_outputs(module: torch.nn.Module, source: SequenceBatches, *, batch_size: int = EVAL_BATCH_SIZE):
    """A per-step module's outputs for every sequence of ``source``, in source
    order: a list of float32 arrays ``(T_i, n_outputs)``, padding cut off
    (:func:`iter_outputs`, split per sequence)."""
    result = [None] * len(source)
    for batch, output in iter_outputs(module, source, batch_size=batch_size):
        values = output.float().cpu().numpy()  # (B, T, C)
        for row, i in enumerate(batch.index):
            result[i] = values[row, : source.lengths[i]]
    return result


class Trainer:
    """Mini-batch Adam training of one module on :class:`SequenceBatches`.

    Parameters
    ----------
    module : nn.Module with ``forward(inputs, lengths, targets) -> (output, loss)``
    config : TrainingConfig
    device : torch.device the module and the batches live on
    random_state : seeds the batch order of every epoch
    """

    def __init__(self, module: torch.nn.Module, config: TrainingConfig, *, device="cpu", random_state=None):
        self.device = torch.device(device)
        self.module = module.to(self.device)
        self.config = config
        self.rng = check_random_state(random_state)
        # on CPU, during fit, parameters and gradients are views into one flat tensor each (_flat_parameters.py)
        self.trainable = trainable_parameters(self.module, self.device)
        self.params = self.trainable.params  # the module's own tensors; an optimizer over them works too
        self.optimizer = self.configure_optimizer()
        self.scheduler = make_scheduler(config.lr_schedule, self.optimizer, config.max_epochs)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        """Adam over the flat parameter tensor (CPU) or the separate ones,
        with torch's fused kernel: one call per step instead of ~10 per tensor."""
        fused = self.device.type in ("cpu", "cuda")
        return torch.optim.Adam(self.trainable.optimizer_params(), lr=self.config.lr, fused=fused)

    def fit(self, train: SequenceBatches, val: SequenceBatches | None = None, *, on_epoch=None) -> FitResult:
        """Train up to ``max_epochs``; with ``val``, stop early and restore
        the weights of the epoch with the lowest validation loss.
        ``on_epoch(record)``, when given, is called with each epoch's history
        record as soon as it exists; what it raises ends the fit."""
        result = FitResult()
        self.trainable.bind()
        try:
            self._fit_epochs(train, val, result, on_epoch)
        finally:
            self.trainable.release()
        self.module.eval()
        return result

    def _fit_epochs(self, train, val, result: FitResult, on_epoch=None) -> None:
        """The epoch loop of :meth:`fit`; fills ``result``."""
        stopper = EarlyStopping(self.config.n_iter_no_change) if val is not None else None
        val = _Assembled(val, self.config.eval_batch_size) if val is not None else None
        for epoch in range(1, self.config.max_epochs + 1):
            start = time.perf_counter()
            lr = self.optimizer.param_groups[0]["lr"]
            train_loss, grad_norm = self.run_epoch(train)
            val_loss = self.evaluate(val) if val is not None else None
            result.history.append(
                dict(
                    epoch=epoch,
                    train_loss=train_loss,
                    val_loss=val_loss,
                    grad_norm=grad_norm,
                    seconds=time.perf_counter() - start,
                    lr=lr,
                )
            )
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"training diverged at epoch {epoch}: the training loss is {train_loss}; "
                    "lower lr, set grad_clip, or standardise the inputs"
                )
            if on_epoch is not None:
                on_epoch(result.history[-1])
            if stopper is not None and stopper.update(epoch, val_loss, self.module):
                break
            step_scheduler(self.scheduler, train_loss if val_loss is None else val_loss)
        result.n_epochs = len(result.history)
        result.best_epoch = result.n_epochs
        if stopper is not None:
            stopper.restore(self.module)
            result.best_epoch = stopper.best_epoch

    def run_epoch(self, train: SequenceBatches) -> tuple[float, float]:
        """One pass over ``train`` in shuffled length buckets.

        Returns the mean training loss per target value (per sequence, or
        per step for per-step targets: each batch's loss is weighted by its
        ``weight``) and the mean total gradient norm per optimizer step
        (before clipping). Sums stay on the device until the end of the
        epoch, so a GPU is not synchronised every step.
        """
        self.module.train()
        losses, weights, norms = [], [], []
        for batch in train.shuffled(self.config.batch_size, self.rng):
            if not batch.weight:  # no target to learn from: forward only (a stateful trainer carries its state)
                with torch.no_grad():
                    self.compute_loss(batch)
                continue
            loss, norm = self.train_step(batch)
            losses.append(loss.detach())
            weights.append(batch.weight)
            norms.append(norm)
        weights = torch.tensor(weights, dtype=losses[0].dtype, device=self.device)
        mean_loss = torch.stack(losses).mul(weights).sum().item() / train.total_weight
        return mean_loss, torch.stack(norms).mean().item()

    def train_step(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward, clip, Adam step; returns (loss, pre-clip grad norm)."""
        self.trainable.zero_grad()
        _, loss = self.compute_loss(batch)
        loss.backward()
        norm = self.clip_gradients()
        self.optimizer.step()
        return loss, norm

    def compute_loss(self, batch: Batch):
        """``(output, loss)`` of the module on one batch; in training mode
        with ``tbptt`` set, the module reads it with ``bptt=tbptt``."""
        if self.config.tbptt is not None and self.module.training:
            return self.module(batch.inputs, batch.lengths, batch.targets, bptt=self.config.tbptt)
        return self.module(batch.inputs, batch.lengths, batch.targets)

    def clip_gradients(self) -> torch.Tensor:
        """Clip each gradient element to ``grad_clip_value``, then the total
        gradient norm to ``grad_clip``; return the total norm before either."""
        params = self.trainable
        if self.config.grad_clip_value is not None:
            norm = params.grad_norm()
            params.clip_value_(self.config.grad_clip_value)
            if self.config.grad_clip is not None:
                params.clip_norm_(self.config.grad_clip)
            return norm
        if self.config.grad_clip is None:
            return params.grad_norm()
        return params.clip_norm_(self.config.grad_clip)

    @torch.inference_mode()
    def evaluate(self, source: SequenceBatches) -> float:
        """Mean loss per target value (sequence or step, as in
        :meth:`run_epoch`) on ``source`` (eval mode, no gradients)."""
        self.module.eval()
        total = torch.zeros((), device=self.device)
        for batch in source.in_order(self.config.eval_batch_size):
            _, loss = self.compute_loss(batch)
            if batch.weight:  # a weight-0 batch's loss is a mean over nothing (NaN)
                total += loss * batch.weight
        self.module.train()
        return total.item() / source.total_weight


class _Assembled:
    """A validation source whose batches are built once, for every epoch's
    evaluation: the same batches as ``source.in_order(batch_size)``."""

    def __init__(self, source, batch_size: int):
        self.batches = list(source.in_order(batch_size))
        self.total_weight = source.total_weight

    def in_order(self, batch_size=None) -> list[Batch]:
        return self.batches
