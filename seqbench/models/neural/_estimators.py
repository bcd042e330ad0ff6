"""Recurrent-network estimators: RNNClassifier and RNNRegressor.

Both are a thin scikit-learn face on the shared engine: ``fit`` validates
the parameters and the sequences, builds the module inside ``fit`` (so
``clone`` and ``set_params`` stay cheap), hands batches to
:class:`~._engine.Trainer`, and stores the ``*_`` attributes. What differs
between the two is only how targets become tensors and outputs become
predictions (:meth:`_encode_targets`, :meth:`_split_validation`).
"""

from __future__ import annotations

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ...data import check_classification_targets, check_regression_targets
from .._base import SEQUENCE_EXPECTED_FAILED_CHECKS, Capabilities, SequenceInputMixin, encode_labels
from ._batches import SequenceBatches
from ._engine import Trainer, TrainingConfig, predict_outputs, resolve_device, torch_session
from ._modules import PooledRNN, RNNConfig

__all__ = ["RNNClassifier", "RNNRegressor"]

_INPUT_KINDS = frozenset({"real", "symbol", "text"})

_PARAMS_DOC = """
    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default="lstm"
        PyTorch's fused recurrent layer.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of the plain RNN (ignored by LSTM and GRU).
    hidden_size : int, default=64
        Hidden units per layer and direction.
    num_layers : int, default=1
        Stacked recurrent layers.
    bidirectional : bool, default=False
        Read each sequence in both directions.
    dropout : float in [0, 1), default=0.0
        Dropout between stacked layers and on the pooled features.
    embedding_dim : int, default=32
        Embedding width for symbol-id and text input (unused for real input).
    pooling : {"last", "mean"}, default="last"
        "last": final state of each direction at the last valid step of each
        sequence (padding is never read); "mean": mean output over valid steps.
    lr : float, default=0.003
        Adam learning rate.
    batch_size : int, default=32
        Sequences per mini-batch (length-bucketed).
    max_epochs : int, default=50
        Upper bound on training epochs.
    grad_clip : float or None, default=1.0
        Clip the total gradient norm to this value; None disables clipping.
    grad_clip_value : float or None, default=None
        Clip every gradient element to ``[-grad_clip_value, grad_clip_value]``
        (applied before ``grad_clip``); None disables it.
    tbptt : int or None, default=None
        Truncated back-propagation through time: in training the recurrent
        layer reads each sequence in chunks of ``tbptt`` steps, carrying its
        state forward detached, so gradients reach back at most ``tbptt``
        steps from where the loss reads the network (the final state, or
        every step with ``pooling="mean"``). None, or a value at least the
        longest sequence, is full BPTT. Needs ``bidirectional=False``.
    init : {"default", "orthogonal", "identity"}, default="default"
        Recurrent weight initialisation: PyTorch's uniform one; a random
        orthogonal matrix per gate; or the identity per gate with zero biases
        (with ``cell="rnn", nonlinearity="relu"`` this is the IRNN of Le,
        Jaitly and Hinton 2015). Input weights keep PyTorch's initialisation.
    forget_bias : float or None, default=None
        LSTM only: the forget gate's bias at initialisation (1.0 is the
        classic remedy for an LSTM that forgets too fast); None keeps
        PyTorch's. Ignored by RNN and GRU.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training sequences (stratified
        for classification), stop after ``n_iter_no_change`` epochs without a
        lower validation loss and restore the best weights. Raises a
        ValueError when the data are too few for that split.
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int, default=5
    random_state : int, RandomState or None, default=None
        Seeds the weights, dropout, the validation split and the batch order;
        the same value on CPU gives identical predictions.
    device : str, default="auto"
        "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".
    num_threads : int or None, default=1
        torch threads used inside fit and predict (restored afterwards);
        None leaves torch's setting alone.
    tokenizer : Tokenizer or None, default=None
        Turns a list of strings into symbol ids (cloned and fitted in
        ``fit``); None means a word-level ``seqbench.data.Tokenizer``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (a ``PooledRNN``), in eval mode.
    history_ : list of dict
        One dict per epoch: epoch, train_loss, val_loss (None without
        validation), grad_norm (mean total gradient norm per step before
        clipping), seconds.
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights ``module_`` holds (the last one without early stopping).
    n_features_in_ : int
        Features per step (1 for symbols and text).
    device_ : str
        Device the module was trained on.
"""


class _RNNBase(SequenceInputMixin, BaseEstimator):
    """Shared parameters, fit template and prediction for the RNN estimators."""

    _parameter_constraints = {
        "cell": [StrOptions({"rnn", "lstm", "gru"})],
        "nonlinearity": [StrOptions({"tanh", "relu"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "pooling": [StrOptions({"last", "mean"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "grad_clip": [Interval(Real, 0, None, closed="neither"), None],
        "grad_clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "tbptt": [Interval(Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"default", "orthogonal", "identity"})],
        "forget_bias": [Real, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
        "num_threads": [Interval(Integral, 1, None, closed="left"), None],
        "tokenizer": [HasMethods(["fit", "transform"]), None],
    }
    _loss = "cross_entropy"

    def __init__(
        self,
        cell="lstm",
        *,
        nonlinearity="tanh",
        hidden_size=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        embedding_dim=32,
        pooling="last",
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
        grad_clip_value=None,
        tbptt=None,
        init="default",
        forget_bias=None,
    ):
        self.cell = cell
        self.nonlinearity = nonlinearity
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.embedding_dim = embedding_dim
        self.pooling = pooling
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
        self.grad_clip_value = grad_clip_value
        self.tbptt = tbptt
        self.init = init
        self.forget_bias = forget_bias

    # -- hooks the subclasses fill in -------------------------------------------------
    def _encode_targets(self, X, y) -> tuple[np.ndarray, int]:
        """Validate ``y``, set the target attributes, return (training targets, n_outputs)."""
        raise NotImplementedError

    def _split_validation(self, y: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the training and validation sequences (plain random split)."""
        n = len(y)
        n_val = math.ceil(self.validation_fraction * n)
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping: validation_fraction={self.validation_fraction} of {n} sequences leaves "
                f"{n_val} for validation and {n - n_val} for training; both need at least one. "
                "Pass more sequences, change validation_fraction, or set early_stopping=False"
            )
        return train_test_split(np.arange(n), test_size=n_val, random_state=rng)

    # -- fit ------------------------------------------------------------------------------
    def _module_config(self, X, n_outputs: int) -> RNNConfig:
        symbol = X.kind == "symbol"
        return RNNConfig(
            n_inputs=self.n_symbols_ if symbol else self.n_features_in_,
            n_outputs=n_outputs,
            input_kind="symbol" if symbol else "real",
            embedding_dim=self.embedding_dim,
            cell=self.cell,
            nonlinearity=self.nonlinearity,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            bidirectional=self.bidirectional,
            dropout=self.dropout,
            pooling=self.pooling,
            loss=self._loss,
            init=self.init,
            forget_bias=None if self.forget_bias is None else float(self.forget_bias),
        )

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            grad_clip=self.grad_clip,
            n_iter_no_change=self.n_iter_no_change,
            grad_clip_value=self.grad_clip_value,
            tbptt=self.tbptt,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on sequences ``X`` (any form of the data contract) and targets ``y`` ``(n,)``."""
        if self.tbptt is not None and self.bidirectional:
            raise ValueError(
                f"tbptt={self.tbptt} needs a unidirectional network (a backward direction has no truncated "
                "gradient path); set bidirectional=False or tbptt=None"
            )
        X = self._validate_fit_X(X, kinds=_INPUT_KINDS)
        targets, n_outputs = self._encode_targets(X, y)
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        if self.early_stopping:
            train_idx, val_idx = self._split_validation(targets, rng)
        else:
            train_idx, val_idx = np.arange(len(X)), None
        with torch_session(num_threads=self.num_threads, seed=seed, device=device):
            module = PooledRNN(self._module_config(X, n_outputs))
            train = SequenceBatches(X[train_idx].sequences, targets[train_idx], device=device)
            val = None if val_idx is None else SequenceBatches(X[val_idx].sequences, targets[val_idx], device=device)
            result = Trainer(module, self._training_config(), device=device, random_state=rng).fit(train, val)
        self.module_ = module
        self.history_ = result.history
        self.n_iter_ = result.n_epochs
        self.best_epoch_ = result.best_epoch
        self.device_ = str(device)
        return self

    # -- predict ----------------------------------------------------------------------------
    def _outputs(self, X) -> np.ndarray:
        """Validate ``X`` and return the module outputs ``(n, n_outputs)`` as float64."""
        check_is_fitted(self, "module_")
        X = self._validate_predict_X(X)
        device = next(self.module_.parameters()).device
        with torch_session(num_threads=self.num_threads):
            outputs = predict_outputs(self.module_, SequenceBatches(X.sequences, device=device))
        return outputs.astype(np.float64)

    # -- diagnostics: the module's own training inputs and targets ------------------------
    def _gradient_flow_batches(self, X, y) -> SequenceBatches:
        """``X`` and ``y`` as the module is trained on them (targets encoded
        as in ``fit``), on the module's device: the hook that
        ``seqbench.diagnostics.gradient_norms_through_time`` calls."""
        check_is_fitted(self, "module_")
        X = self._validate_predict_X(X)
        if y is None:
            raise ValueError(f"{type(self).__name__}: the gradient of the loss needs the targets y; got None")
        y = column_or_1d(y, warn=True)
        if len(y) != len(X):
            raise ValueError(f"y has {len(y)} targets but X has {len(X)} sequences; pass one target per sequence")
        device = next(self.module_.parameters()).device
        return SequenceBatches(X.sequences, self._fitted_targets(y), device=device)

    def _fitted_targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` encoded with the attributes ``fit`` learned (class indices, standardised values)."""
        raise NotImplementedError

    # -- pickling: the module travels on CPU, so a CUDA fit loads anywhere ------------------
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class RNNClassifier(ClassifierMixin, _RNNBase):
    __doc__ = (
        "Many-to-one recurrent classifier (RNN, LSTM or GRU), trained with cross-entropy.\n"
        + _PARAMS_DOC
        + """    classes_ : ndarray (n_classes,)
        Class labels in sorted order.

    Examples
    --------
    >>> clf = RNNClassifier(cell="gru", hidden_size=64, max_epochs=30, random_state=0)
    >>> clf.fit(X_train, y_train).predict_proba(X_test)  # doctest: +SKIP
    """
    )

    capabilities = Capabilities(task="classify", family="neural", input_kinds=_INPUT_KINDS, probabilistic=True)
    _expected_failed_checks = {
        **SEQUENCE_EXPECTED_FAILED_CHECKS,
        "check_classifiers_train": (
            "after training (which passes: accuracy > 0.83 on the blobs read as length-2 sequences, "
            "tested in tests/test_neural.py) the check expects predict(X.T) to raise, but X.T of the "
            "(300, 2) blobs is 2 valid univariate sequences of length 300"
        ),
    }
    _loss = "cross_entropy"

    def _encode_targets(self, X, y):
        y = check_classification_targets(X, y, estimator_name=type(self).__name__)
        self.classes_, y_enc = encode_labels(y)
        return y_enc, len(self.classes_)

    def _split_validation(self, y, rng):
        """Stratified: every class in both parts, with a clear error when impossible."""
        n, n_classes = len(y), int(y.max()) + 1
        n_val = math.ceil(self.validation_fraction * n)
        smallest = int(np.bincount(y).min())
        if smallest < 2 or n_val < n_classes or n - n_val < n_classes:
            raise ValueError(
                f"early_stopping needs a stratified validation split with every class on both sides: "
                f"validation_fraction={self.validation_fraction} of {n} sequences gives {n_val} for "
                f"validation, with {n_classes} classes and the smallest class holding {smallest} "
                "sequence(s). Pass more sequences, raise validation_fraction, or set early_stopping=False"
            )
        return train_test_split(np.arange(n), test_size=n_val, stratify=y, random_state=rng)

    def _fitted_targets(self, y):
        index = np.clip(np.searchsorted(self.classes_, y), 0, len(self.classes_) - 1)
        unknown = np.flatnonzero(self.classes_[index] != y)
        if unknown.size:
            i = int(unknown[0])
            raise ValueError(f"y[{i}] = {y[i]!r} is not one of the classes seen in fit: {self.classes_.tolist()}")
        return index.astype(np.int64)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in ``classes_`` order."""
        return softmax(self._outputs(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """Most probable class label per sequence, ``(n,)``."""
        outputs = self._outputs(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(outputs, axis=1)]


class RNNRegressor(RegressorMixin, _RNNBase):
    __doc__ = (
        "Many-to-one recurrent regressor (RNN, LSTM or GRU), trained with mean squared\n"
        "error on standardised targets; ``score`` is R².\n"
        + _PARAMS_DOC
        + """    y_mean_, y_scale_ : float
        Target mean and standard deviation used to standardise ``y`` in fit
        (scale 1 for a constant target); predictions are mapped back.
    """
    )

    capabilities = Capabilities(task="regress", family="neural", input_kinds=_INPUT_KINDS, probabilistic=False)
    _expected_failed_checks = SEQUENCE_EXPECTED_FAILED_CHECKS
    _loss = "mse"

    def _encode_targets(self, X, y):
        y = check_regression_targets(X, y, estimator_name=type(self).__name__)
        self.y_mean_ = float(y.mean())
        scale = float(y.std())
        self.y_scale_ = scale if scale > 0 else 1.0
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32), 1

    def _fitted_targets(self, y):
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError(f"y holds NaN or inf at index {int(np.flatnonzero(~np.isfinite(y))[0])}")
        return ((y - self.y_mean_) / self.y_scale_).astype(np.float32)

    def predict(self, X) -> np.ndarray:
        """Predicted target per sequence, ``(n,)`` float64."""
        return self._outputs(X)[:, 0] * self.y_scale_ + self.y_mean_
