"""What the five neural estimators share on the scikit-learn side.

- :data:`NEURAL_CONSTRAINTS`: the one catalogue of parameter constraints;
  :func:`neural_constraints` picks a class's entries from it.
- :class:`NeuralEstimatorMixin`: the fit template (:meth:`~NeuralEstimatorMixin._train`:
  device, seeding, module, :class:`~._engine.Trainer`, the ``*_``
  attributes), the :class:`~._modules.RNNConfig` and
  :class:`~._engine.TrainingConfig` built from the parameters, the random
  early-stopping split, predicting through the engine, and pickling the
  module on CPU (:class:`ModuleOnCPUPickleMixin`).
- :data:`CONTROLS_DOC`, :data:`EARLY_STOPPING_DOC` and :func:`tbptt_doc`: the docstring entries of the
  training controls, written once.

An estimator is ``NeuralEstimatorMixin`` + its task mixin + ``BaseEstimator``
and keeps only what is its own: its ``__init__`` (scikit-learn needs the
explicit signature), how it turns data into batches and a module, and how
outputs become predictions.
"""

from __future__ import annotations

import copy
import math
import textwrap
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ...data import plain_value
from ._batches import SequenceBatches
from ._engine import FitResult, Trainer, TrainingConfig, predict_outputs, resolve_device, torch_session
from ._modules import POOLINGS, RECURRENT_INITS, RNNConfig
from ._schedules import LR_SCHEDULES

__all__ = [
    "NEURAL_CONSTRAINTS",
    "neural_constraints",
    "ModuleOnCPUPickleMixin",
    "NeuralEstimatorMixin",
    "label_indices",
    "MIN_VALIDATION_SEQUENCES",
    "subset_batches",
    "CONTROLS_DOC",
    "EARLY_STOPPING_DOC",
    "tbptt_doc",
]

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_POSITIVE = Interval(Real, 0, None, closed="neither")

# Every parameter any neural estimator takes, with its one constraint.
NEURAL_CONSTRAINTS: dict = {
    "cell": [StrOptions({"rnn", "lstm", "gru"})],
    "nonlinearity": [StrOptions({"tanh", "relu"})],
    "hidden_size": [_POSITIVE_INT],
    "num_layers": [_POSITIVE_INT],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "lr": [_POSITIVE],
    "batch_size": [_POSITIVE_INT],
    "max_epochs": [_POSITIVE_INT],
    "grad_clip": [_POSITIVE, None],
    "grad_clip_value": [_POSITIVE, None],
    "init": [StrOptions(set(RECURRENT_INITS))],
    "forget_bias": [Real, None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [_POSITIVE_INT],
    "random_state": ["random_state"],
    "device": [str, torch.device],
    "num_threads": [_POSITIVE_INT, None],
    "epoch_callback": [callable, None],
    # taken by some of the estimators only (see neural_constraints)
    "bidirectional": ["boolean"],
    "embedding_dim": [_POSITIVE_INT],
    "pooling": [StrOptions(set(POOLINGS))],
    "tbptt": [_POSITIVE_INT, None],
    "tokenizer": [HasMethods(["fit", "transform"]), None],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES)), None],
}
_OPTIONAL = ("bidirectional", "embedding_dim", "pooling", "tbptt", "tokenizer", "lr_schedule")
_SHARED = tuple(name for name in NEURAL_CONSTRAINTS if name not in _OPTIONAL)


def neural_constraints(*optional: str, **own) -> dict:
    """A class's ``_parameter_constraints``: the entries of
    :data:`NEURAL_CONSTRAINTS` that every neural estimator takes, the
    ``optional`` ones it names (``"bidirectional"``, ``"tbptt"``, ...), and
    its ``own`` (name -> constraint list) that no other neural estimator has."""
    unknown = set(optional) - set(_OPTIONAL)
    if unknown:
        raise KeyError(f"not optional neural parameters: {sorted(unknown)}; choose from {_OPTIONAL}")
    return {**{name: NEURAL_CONSTRAINTS[name] for name in _SHARED + optional}, **own}


# Early stopping's rule: a validation split smaller than this (sequences, or
# a forecaster's windows) measures nothing but noise; 5 validation series,
# 10% of GunPoint's 50, stopped training at random. Below it, and for a
# classifier also below 2 validation sequences of each class, early stopping
# is refused and training runs a fixed ``max_epochs`` (which tuning chooses).
MIN_VALIDATION_SEQUENCES = 20

CONTROLS_DOC = """\
    grad_clip_value : float or None, default=None
        Clip every gradient element to ``[-grad_clip_value, grad_clip_value]``
        (applied before ``grad_clip``); None disables it.
    init : {"default", "orthogonal", "identity"}, default="default"
        Recurrent weight initialisation: PyTorch's uniform one; a random
        orthogonal matrix per gate; or the identity per gate with zero biases
        (with ``cell="rnn", nonlinearity="relu"`` this is the IRNN of Le,
        Jaitly and Hinton 2015). Input weights keep PyTorch's initialisation.
    forget_bias : float or None, default=None
        LSTM only: the forget gate's bias at initialisation (1.0 is the
        classic remedy for an LSTM that forgets too fast); None keeps
        PyTorch's. Ignored by RNN and GRU.
    lr_schedule : {None, "cosine", "step", "plateau"}, default=None
        Learning-rate schedule from ``torch.optim.lr_scheduler``, stepped once
        per epoch: None keeps ``lr``; "cosine" anneals it to 0 over
        ``max_epochs`` (``CosineAnnealingLR``); "step" divides it by 10 at
        half and at three quarters of ``max_epochs`` (``MultiStepLR``);
        "plateau" halves it after 2 epochs without a lower validation loss
        (training loss without validation; ``ReduceLROnPlateau``). Each
        epoch's rate is in ``history_`` as ``lr``.
    epoch_callback : callable or None, default=None
        Called after every epoch with that epoch's ``history_`` entry (a dict:
        ``epoch``, ``train_loss``, ``val_loss``, ``grad_norm``, ``seconds``,
        ``lr``). An exception it raises ends the fit and propagates: the
        runner's tuning prunes unpromising trials this way.
"""

EARLY_STOPPING_DOC = f"""\
        Refused, with training run for ``max_epochs`` instead, when the
        validation part would hold fewer than {MIN_VALIDATION_SEQUENCES} sequences
        (or, for a classifier, fewer than 2 of some class, or leave a class
        out of training): so small a split measures noise. ``early_stopping_``
        and ``stopping_`` say what happened.
"""


def tbptt_doc(reads: str, needs: str = "") -> str:
    """The docstring entry of ``tbptt``; ``reads`` says where the loss reads
    the network, ``needs`` any condition."""
    text = (
        "Truncated back-propagation through time: in training the recurrent layer reads each sequence in "
        f"chunks of ``tbptt`` steps, carrying its state forward detached, so gradients reach back at most "
        f"``tbptt`` steps from where the loss reads the network ({reads}). None, or a value at least the "
        f"longest sequence, is full BPTT.{needs}"
    )
    indent = " " * 8
    return "    tbptt : int or None, default=None\n" + textwrap.fill(text, 78, initial_indent=indent,
                                                                   subsequent_indent=indent) + "\n"


def label_indices(classes: np.ndarray, labels: np.ndarray, name: str = "y") -> np.ndarray:
    """Positions of ``labels`` in the sorted ``classes`` (int64), or a
    ValueError naming the first label ``fit`` never saw as ``name[i]``."""
    index = np.clip(np.searchsorted(classes, labels), 0, len(classes) - 1)
    unknown = np.flatnonzero(classes[index] != labels)
    if unknown.size:
        i = int(unknown[0])
        raise ValueError(f"{name}[{i}] = {plain_value(labels[i])!r} is not one of the classes seen in fit: {classes.tolist()}")
    return index.astype(np.int64)


def subset_batches(sequences, targets, idx, device) -> SequenceBatches | None:
    """The sequences at positions ``idx`` (None: no such subset) with their
    targets, an ndarray ``(n, ...)`` of per-sequence targets or a list of
    per-step target arrays."""
    if idx is None:
        return None
    subset = targets[idx] if isinstance(targets, np.ndarray) else [targets[i] for i in idx]
    return SequenceBatches([sequences[i] for i in idx], subset, device=device)


class ModuleOnCPUPickleMixin:
    """Pickle ``module_`` on CPU so a CUDA fit loads anywhere; move it back to
    ``device_`` on load when CUDA is there."""

    def __getstate__(self):
        state = super().__getstate__()
        module = state.get("module_")
        if module is not None and next(module.parameters()).device.type != "cpu":
            state["module_"] = copy.deepcopy(module).cpu()
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        module = state.get("module_")
        if module is not None and self.device_ != "cpu" and torch.cuda.is_available():
            self.module_ = module.to(self.device_)


class NeuralEstimatorMixin(ModuleOnCPUPickleMixin):
    """The fit template and helpers of every neural estimator (see the module docstring).

    Reads the parameters every neural estimator has (``cell``,
    ``hidden_size``, ..., ``grad_clip_value``, ``init``, ``forget_bias``,
    ``random_state``, ``device``, ``num_threads``) and, where a class has
    them, ``tbptt`` and ``bidirectional``. ``_trainer_class`` is the engine's
    :class:`Trainer` unless a class needs a subclass (the language model's).
    """

    _trainer_class = Trainer

    # -- configs from the parameters ------------------------------------------------------
    def _rnn_config(self, **specific) -> RNNConfig:
        """The module's architecture: the parameters every neural estimator
        has, plus ``specific`` (sizes, input kind, loss, and the parameters
        only some classes have: ``bidirectional``, ``pooling``, ...)."""
        return RNNConfig(
            cell=self.cell,
            nonlinearity=self.nonlinearity,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            init=self.init,
            forget_bias=None if self.forget_bias is None else float(self.forget_bias),
            **specific,
        )

    def _input_config(self, kind: str) -> dict:
        """The :class:`RNNConfig` entries for fitted input of ``kind``
        ("real", or "symbol" for symbol ids and tokenized text)."""
        symbol = kind == "symbol"
        return dict(
            n_inputs=self.n_symbols_ if symbol else self.n_features_in_,
            input_kind="symbol" if symbol else "real",
            embedding_dim=self.embedding_dim,
        )

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            grad_clip=self.grad_clip,
            n_iter_no_change=self.n_iter_no_change,
            grad_clip_value=self.grad_clip_value,
            tbptt=getattr(self, "tbptt", None),  # the language model has its own bptt instead
            lr_schedule=getattr(self, "lr_schedule", None),
        )

    def _check_tbptt(self) -> None:
        tbptt = getattr(self, "tbptt", None)
        if tbptt is not None and getattr(self, "bidirectional", False):
            raise ValueError(
                f"tbptt={tbptt} needs a unidirectional network (a backward direction has no truncated "
                "gradient path); set bidirectional=False or tbptt=None"
            )
        if tbptt is not None and getattr(self, "pooling", None) == "attention":
            raise ValueError(
                f'pooling="attention" with tbptt={tbptt}: attention weighs every step of the sequence at once, '
                "so there is no truncated gradient path to it; set tbptt=None or choose another pooling"
            )

    # -- fit ------------------------------------------------------------------------------
    def initialize(self, X, y=None):
        """Everything ``fit(X, y)`` does except training: validate, encode
        the targets, seed torch from ``random_state`` and build the module,
        which keeps its initial weights (``history_`` empty, ``n_iter_ ==
        0``). The gradient diagnostics study a network as training would
        start it this way. Returns ``self``."""
        return self._fit(X, y, epochs=False)

    def _train(self, setup, *, epochs: bool = True) -> None:
        """The fit template: resolve the device, draw the torch seed from
        ``random_state``, then with torch seeded and ``num_threads`` threads
        call ``setup(device, rng) -> (module, train, val)`` (``val`` None
        without early stopping) and train the module on the sources (no
        epoch when ``epochs`` is False); store ``module_``, ``history_``,
        ``n_iter_``, ``best_epoch_``, ``device_``. ``rng`` also orders the
        batches, after ``setup`` has used it. ``setup`` calls
        :meth:`_train_val_indices` (or sets ``early_stopping_`` and
        ``stopping_`` itself)."""
        self._check_tbptt()
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        with torch_session(num_threads=self.num_threads, seed=seed, device=device):
            module, train, val = setup(device, rng)
            trainer = self._trainer_class(module, self._training_config(), device=device, random_state=rng)
            result = trainer.fit(train, val, on_epoch=self.epoch_callback) if epochs else FitResult()
            module.eval()
        self.module_, self.history_ = module, result.history
        self.n_iter_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.device_ = str(device)

    def _train_val_indices(self, targets, rng) -> tuple[np.ndarray, np.ndarray | None]:
        """Positions of the training and validation sequences (None without
        early stopping, or when the rule refuses it); sets ``early_stopping_``
        and ``stopping_``."""
        refused = self._validation_too_small(targets) if self.early_stopping else None
        self._record_stopping(refused, len(targets))
        if not self.early_stopping_:
            return np.arange(len(targets)), None
        return self._split_validation(targets, rng)

    def _record_stopping(self, refused: str | None, n: int, unit: str = "sequences") -> None:
        """Set ``early_stopping_`` (whether a validation split of the ``n``
        sequences or windows is used) and ``stopping_`` (one sentence saying
        how the epochs were decided)."""
        self.early_stopping_ = bool(self.early_stopping) and refused is None
        if self.early_stopping_:
            self.stopping_ = (f"early stopping on {self.validation_fraction:g} of {n} {unit}, patience "
                              f"{self.n_iter_no_change}, at most max_epochs={self.max_epochs}")
        elif self.early_stopping:
            self.stopping_ = f"max_epochs={self.max_epochs} (fixed): early stopping refused, {refused}"
        else:
            self.stopping_ = f"max_epochs={self.max_epochs} (fixed): early_stopping=False"

    def _validation_too_small(self, targets) -> str | None:
        """Why a random split of ``targets`` (one entry per sequence) is too
        small to stop on, or None when it is large enough."""
        n = len(targets)
        n_val = math.ceil(self.validation_fraction * n)
        if n_val < MIN_VALIDATION_SEQUENCES or n - n_val < 1:
            return (f"validation_fraction={self.validation_fraction} of {n} sequences gives {n_val} for "
                    f"validation; it needs at least {MIN_VALIDATION_SEQUENCES} and one left for training")
        return None

    def _split_validation(self, targets, rng) -> tuple[np.ndarray, np.ndarray]:
        """A plain random split of the sequences (one target entry each)."""
        n = len(targets)
        n_val = math.ceil(self.validation_fraction * n)
        return train_test_split(np.arange(n), test_size=n_val, random_state=rng)

    # -- predict --------------------------------------------------------------------------
    def _module_device(self) -> torch.device:
        return next(self.module_.parameters()).device

    def _module_outputs(self, X, outputs=predict_outputs):
        """Validate the collection ``X`` and run the fitted module on it with
        ``outputs`` (the engine's :func:`predict_outputs` or
        :func:`per_step_outputs`), in ``num_threads`` torch threads."""
        check_is_fitted(self, "module_")
        coll = self._validate_predict_X(X)
        with torch_session(num_threads=self.num_threads):
            return outputs(self.module_, SequenceBatches(coll.sequences, device=self._module_device()))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # a seeded fit on CPU repeats exactly
        return tags
