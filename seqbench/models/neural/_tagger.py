"""RNNTagger: a recurrent network with a label at every step (the aligned
many-to-many shape), trained on the shared engine (``_engine.Trainer``)."""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities, SequenceInputMixin
from .._tagging_base import (
    TAGGER_EXPECTED_FAILED_CHECKS,
    TaggerMixin,
    check_tag_targets,
    encode_tag_labels,
)
from ._batches import SequenceBatches
from ._engine import EVAL_BATCH_SIZE, Trainer, TrainingConfig, iter_outputs, resolve_device, torch_session
from ._lm_modules import StepRNN
from ._modules import RNNConfig

__all__ = ["RNNTagger", "per_step_outputs", "NEURAL_CONSTRAINTS", "ModuleOnCPUPickleMixin"]

# Parameters every recurrent estimator of this module and of _language_model shares.
NEURAL_CONSTRAINTS: dict = {
    "cell": [StrOptions({"rnn", "lstm", "gru"})],
    "nonlinearity": [StrOptions({"tanh", "relu"})],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "num_layers": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "embedding_dim": [Interval(Integral, 1, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "device": [str, torch.device],
    "num_threads": [Interval(Integral, 1, None, closed="left"), None],
    "tokenizer": [HasMethods(["fit", "transform"]), None],
}


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


def per_step_outputs(module: torch.nn.Module, source: SequenceBatches, *, batch_size: int = EVAL_BATCH_SIZE):
    """A per-step module's outputs for every sequence of ``source``, in source
    order: a list of float32 arrays ``(T_i, n_outputs)``, padding cut off
    (the engine's :func:`iter_outputs`, split per sequence)."""
    result = [None] * len(source)
    for batch, output in iter_outputs(module, source, batch_size=batch_size):
        values = output.float().cpu().numpy()  # (B, T, C)
        for row, i in enumerate(batch.index):
            result[i] = values[row, : source.lengths[i]]
    return result


class RNNTagger(ModuleOnCPUPickleMixin, TaggerMixin, SequenceInputMixin, BaseEstimator):
    """Recurrent tagger (RNN, LSTM or GRU): a label for every step.

    The fused recurrent layer reads each sequence (in both directions with
    ``bidirectional``) and a linear head turns the output at each step into
    label scores. Training minimises the mean cross-entropy over the real
    steps: targets of padded steps are ``IGNORE_INDEX`` and drop out of the
    loss, and predictions (hence ``score``) are cut to each sequence's length.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default="lstm"
    nonlinearity : {"tanh", "relu"}, default="tanh" (plain RNN only)
    hidden_size : int, default=64, units per layer and direction
    num_layers : int, default=1
    bidirectional : bool, default=True
        Read each sequence forwards and backwards, so a step's label can use
        the steps after it (as an HMM's posterior decoding does); False
        gives a causal tagger.
    dropout : float in [0, 1), default=0.0
        Between stacked layers and on the outputs before the head.
    embedding_dim : int, default=32 (symbol ids and text)
    lr : float, default=0.003 (Adam)
    batch_size : int, default=32 (sequences per length-bucketed batch)
    max_epochs : int, default=50
    grad_clip : float or None, default=1.0 (total gradient norm)
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the sequences, stop after
        ``n_iter_no_change`` epochs without a lower validation loss, restore
        the best weights.
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    random_state : int, RandomState or None
        Seeds the weights, dropout, the validation split and the batch order.
    device : str, default="auto" (CUDA when available)
    num_threads : int or None, default=1 (torch threads inside fit and predict)
    tokenizer : Tokenizer or None, default=None
        For text; None means a word-level ``Tokenizer`` (labels per token).

    Attributes
    ----------
    classes_ : ndarray ``(n_classes,)``
    module_ : StepRNN, trained, in eval mode
    history_ : list of dict per epoch (epoch, train_loss, val_loss, grad_norm, seconds)
    n_iter_, best_epoch_, device_
    n_features_in_, input_kind_, n_symbols_, tokenizer_ : see SequenceInputMixin
    """

    capabilities = Capabilities(
        task="tag", family="neural", input_kinds=frozenset({"real", "symbol", "text"}), probabilistic=True
    )
    _expected_failed_checks = TAGGER_EXPECTED_FAILED_CHECKS
    _parameter_constraints: dict = {**NEURAL_CONSTRAINTS, "bidirectional": ["boolean"]}

    def __init__(
        self,
        cell="lstm",
        *,
        nonlinearity="tanh",
        hidden_size=64,
        num_layers=1,
        bidirectional=True,
        dropout=0.0,
        embedding_dim=32,
        lr=0.003,
        batch_size=32,
        max_epochs=50,
        grad_clip=1.0,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        random_state=None,
        device="auto",
        num_threads=1,
        tokenizer=None,
    ):
        self.cell = cell
        self.nonlinearity = nonlinearity
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.lr = lr
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

    def _module_config(self, kind: str) -> RNNConfig:
        symbol = kind == "symbol"
        return RNNConfig(
            n_inputs=self.n_symbols_ if symbol else self.n_features_in_,
            n_outputs=len(self.classes_),
            input_kind="symbol" if symbol else "real",
            embedding_dim=self.embedding_dim,
            cell=self.cell,
            nonlinearity=self.nonlinearity,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
        )

    def _split(self, n: int, rng) -> tuple[np.ndarray, np.ndarray | None]:
        if not self.early_stopping:
            return np.arange(n), None
        n_val = math.ceil(self.validation_fraction * n)
        if n - n_val < 1:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} of {n} sequences leaves none "
                "for training; pass more sequences or set early_stopping=False"
            )
        return train_test_split(np.arange(n), test_size=n_val, random_state=rng)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, Y):
        """Train on sequences ``X`` and per-step labels ``Y`` (``Y[i]`` of shape ``(T_i,)``)."""
        coll = self._validate_fit_X(X)
        Y = check_tag_targets(coll.lengths, Y, estimator_name=type(self).__name__)
        self.classes_, Y_enc = encode_tag_labels(Y)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        train_idx, val_idx = self._split(len(coll), rng)
        config = TrainingConfig(
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            grad_clip=self.grad_clip,
            n_iter_no_change=self.n_iter_no_change,
        )

        def batches(idx):
            return SequenceBatches([coll[i] for i in idx], [Y_enc[i] for i in idx], device=device)

        with torch_session(num_threads=self.num_threads, seed=seed, device=device):
            module = StepRNN(self._module_config(coll.kind))
            val = None if val_idx is None else batches(val_idx)
            result = Trainer(module, config, device=device, random_state=rng).fit(batches(train_idx), val)
        self.module_, self.history_ = module, result.history
        self.n_iter_, self.best_epoch_ = result.n_epochs, result.best_epoch
        self.device_ = str(device)
        return self

    def _logits(self, X) -> list[np.ndarray]:
        check_is_fitted(self, "module_")
        coll = self._validate_predict_X(X)
        device = next(self.module_.parameters()).device
        with torch_session(num_threads=self.num_threads):
            return per_step_outputs(self.module_, SequenceBatches(coll.sequences, device=device))

    def predict_proba(self, X) -> list[np.ndarray]:
        """Label probabilities per step: one ``(T_i, n_classes)`` float64 array per sequence."""
        return [softmax(z.astype(np.float64), axis=1) for z in self._logits(X)]

    def predict(self, X) -> list[np.ndarray]:
        """One label array ``(T_i,)`` per sequence."""
        return [self.classes_[z.argmax(axis=1)] for z in self._logits(X)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
