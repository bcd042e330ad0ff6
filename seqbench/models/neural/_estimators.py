"""Recurrent-network estimators: RNNClassifier and RNNRegressor.

Both are a thin scikit-learn face on the shared engine: ``fit`` validates
the parameters and the sequences, builds the module inside ``fit`` (so
``clone`` and ``set_params`` stay cheap), hands batches to
:class:`~._engine.Trainer`, and stores the ``*_`` attributes. What differs
between the two is only how targets become tensors and outputs become
predictions (:meth:`_encode_targets`, :meth:`_split_validation`).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ...data import SequenceCollection, Tokenizer, check_classification_targets, check_regression_targets
from .._base import (
    SEQUENCE_EXPECTED_FAILED_CHECKS,
    Capabilities,
    SequenceInputMixin,
    SequenceRegressorMixin,
    encode_labels,
)
from ._batches import SequenceBatches
from ._engine import EVAL_BATCH_SIZE, torch_session
from ._estimator_base import (
    CONTROLS_DOC,
    EARLY_STOPPING_DOC,
    NeuralEstimatorMixin,
    label_indices,
    neural_constraints,
    subset_batches,
    tbptt_doc,
)
from ._modules import PooledRNN, RNNConfig

__all__ = ["RNNClassifier", "RNNRegressor"]

_INPUT_KINDS = frozenset({"real", "symbol", "text"})

_PARAMS_DOC = (
    """
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
        Dropout between stacked layers, on the pooled features and (symbol
        and text input) on the embedded symbols.
    embedding_dim : int, default=32
        Embedding width for symbol-id and text input (unused for real input).
    pooling : {"last", "mean", "max", "attention"}, default="last"
        How the per-step outputs become one feature vector, always over the
        valid steps only (padding is never read): "last", the final state of
        each direction at the last valid step; "mean" or "max", the mean or
        element-wise maximum of the outputs; "attention", additive
        (Bahdanau-style) attention, whose weights ``attention_weights(X)``
        returns. "last" loses long sequences: the gradient from the last
        state to the early steps vanishes.
    lr : float, default=0.003
        Adam learning rate.
    batch_size : int, default=32
        Sequences per mini-batch (length-bucketed).
    max_epochs : int, default=50
        Upper bound on training epochs.
    grad_clip : float or None, default=1.0
        Clip the total gradient norm to this value; None disables clipping.
"""
    + CONTROLS_DOC
    + tbptt_doc(
        'the final state, or every step with ``pooling="mean"`` or ``"max"``',
        ' Needs ``bidirectional=False`` and a pooling other than ``"attention"``.',
    )
    + """    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training sequences (stratified
        for classification), stop after ``n_iter_no_change`` epochs without a
        lower validation loss and restore the best weights.
"""
    + EARLY_STOPPING_DOC
    + """    validation_fraction : float in (0, 1), default=0.1
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
        ``fit``); None means a word-level, lower-casing
        ``seqbench.data.Tokenizer`` with ``min_count``.
    standardize : bool, default=True
        Real-valued input: scale each feature to mean 0 and standard
        deviation 1 over all training steps (learned in ``fit``, applied in
        ``fit`` and ``predict``; a constant feature is only centred). Features
        of very different scales otherwise train badly: on JapaneseVowels'
        12 cepstra (standard deviations 0.1 to 0.5) a bidirectional LSTM
        scored 0.926 on a validation split without it and 0.963 with it.
        Ignored for symbols and text.
    min_count : int >= 1, default=1
        Text input with the default tokenizer: words seen fewer times in
        ``fit`` become ``<unk>``. A value that leaves no word raises a
        ValueError; with your own ``tokenizer``, set its ``min_count``
        instead (passing both raises a ValueError).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (a ``PooledRNN``), in eval mode.
    history_ : list of dict
        One dict per epoch: epoch, train_loss, val_loss (None without
        validation), grad_norm (mean total gradient norm per step before
        clipping), seconds, lr (the epoch's learning rate).
    early_stopping_ : bool
        Whether training stopped on a validation split (False when
        ``early_stopping=False`` or when the rule above refused the split).
    stopping_ : str
        One sentence saying how the number of epochs was decided, and why
        early stopping was refused when it was.
    input_mean_, input_scale_ : ndarray ``(n_features_in_,)`` or None
        The standardisation of real input learned in fit (None without it).
    n_iter_ : int
        Epochs run.
    best_epoch_ : int
        Epoch whose weights ``module_`` holds (the last one without early stopping).
    n_features_in_ : int
        Features per step (1 for symbols and text).
    input_kind_, n_symbols_, tokenizer_, vocabulary_
        See SequenceInputMixin: the embedding has ``n_symbols_`` rows, the
        ids seen in ``fit`` and ``<unk>`` for any other.
    device_ : str
        Device the module was trained on.
"""
)


class _RNNBase(NeuralEstimatorMixin, SequenceInputMixin, BaseEstimator):
    """Shared parameters, fit template and prediction for the RNN estimators."""

    _parameter_constraints = neural_constraints(
        "bidirectional", "embedding_dim", "pooling", "tbptt", "tokenizer", "lr_schedule",
        min_count=[Interval(Integral, 1, None, closed="left")],
        standardize=["boolean"],
    )
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
        lr_schedule=None,
        min_count=1,
        standardize=True,
        epoch_callback=None,
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
        self.lr_schedule = lr_schedule
        self.min_count = min_count
        self.standardize = standardize
        self.epoch_callback = epoch_callback

    # -- hooks the subclasses fill in -------------------------------------------------
    def _encode_targets(self, X, y) -> tuple[np.ndarray, int]:
        """Validate ``y``, set the target attributes, return (training targets, n_outputs)."""
        raise NotImplementedError

    # -- fit ------------------------------------------------------------------------------
    def _default_tokenizer(self) -> Tokenizer:
        return Tokenizer(level="word", lowercase=True, min_count=self.min_count)

    def _validate_fit_X(self, X, *, kinds=None) -> SequenceCollection:
        """The mixin's validation, then (real input, ``standardize``) learn the
        per-feature mean and scale over all steps and apply them."""
        coll = super()._validate_fit_X(X, kinds=kinds)
        self.input_mean_ = self.input_scale_ = None
        if coll.kind == "real" and self.standardize:
            steps = np.concatenate(coll.sequences)  # (sum T_i, d)
            scale = steps.std(axis=0)
            self.input_mean_, self.input_scale_ = steps.mean(axis=0), np.where(scale > 0, scale, 1.0)
        return self._standardized(coll)

    def _validate_predict_X(self, X) -> SequenceCollection:
        return self._standardized(super()._validate_predict_X(X))

    def _standardized(self, coll: SequenceCollection) -> SequenceCollection:
        """``coll`` with the fitted standardisation applied (unchanged for symbols, text, or without it)."""
        if coll.kind != "real" or getattr(self, "input_mean_", None) is None:
            return coll
        scaled = [(s - self.input_mean_) / self.input_scale_ for s in coll.sequences]
        return SequenceCollection(scaled, coll.kind, coll.n_features)

    def _module_config(self, X, n_outputs: int) -> RNNConfig:
        return self._rnn_config(
            n_outputs=n_outputs,
            **self._input_config(X.kind),
            bidirectional=self.bidirectional,
            pooling=self.pooling,
            loss=self._loss,
            embedding_dropout=self.dropout,
        )

    def fit(self, X, y):
        """Train on sequences ``X`` (any form of the data contract) and targets ``y`` ``(n,)``."""
        return self._fit(X, y, epochs=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y, *, epochs: bool):
        if self.tokenizer is not None and self.min_count != 1:
            raise ValueError(
                f"min_count={self.min_count} sets the default tokenizer's vocabulary, but a tokenizer was "
                "passed; set min_count on that tokenizer instead and leave min_count=1"
            )
        X = self._validate_fit_X(X, kinds=_INPUT_KINDS)
        targets, n_outputs = self._encode_targets(X, y)

        def setup(device, rng):
            train_idx, val_idx = self._train_val_indices(targets, rng)
            module = PooledRNN(self._module_config(X, n_outputs))
            train = subset_batches(X.sequences, targets, train_idx, device)
            return module, train, subset_batches(X.sequences, targets, val_idx, device)

        self._train(setup, epochs=epochs)
        return self

    # -- predict ----------------------------------------------------------------------------
    def _outputs(self, X) -> np.ndarray:
        """Validate ``X`` and return the module outputs ``(n, n_outputs)`` as float64."""
        return self._module_outputs(X).astype(np.float64)

    def attention_weights(self, X) -> list[np.ndarray]:
        """The attention weights of a ``pooling="attention"`` model on ``X``.

        Returns one float64 array ``(T_i,)`` per sequence (per token, for
        text), in the order of ``X``: how much each valid step's output
        contributes to the pooled features. Each array is non-negative and
        sums to 1. Raises a ValueError for any other pooling.
        """
        check_is_fitted(self, "module_")
        if self.module_.config.pooling != "attention":
            raise ValueError(
                f'attention_weights needs a model fitted with pooling="attention"; this one has '
                f"pooling={self.module_.config.pooling!r}"
            )
        coll = self._validate_predict_X(X)
        source = SequenceBatches(coll.sequences, device=self._module_device())
        result = [None] * len(source)
        self.module_.eval()
        with torch_session(num_threads=self.num_threads), torch.no_grad():
            for batch in source.in_order(EVAL_BATCH_SIZE):
                _, weights = self.module_.features(batch.inputs, batch.lengths)  # (B, T)
                values = weights.double().cpu().numpy()
                for row, i in enumerate(batch.index):
                    result[i] = values[row, : source.lengths[i]]
        return result

    # -- diagnostics: the module's own training inputs and targets ------------------------
    def training_batches(self, X, y) -> SequenceBatches:
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
        return SequenceBatches(X.sequences, self._fitted_targets(y), device=self._module_device())

    def _fitted_targets(self, y: np.ndarray) -> np.ndarray:
        """``y`` encoded with the attributes ``fit`` learned (class indices, standardised values)."""
        raise NotImplementedError


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

    def _validation_too_small(self, y):
        """The plain rule, and a stratified split with at least 2 validation
        sequences of every class and every class left in training."""
        too_small = super()._validation_too_small(y)
        if too_small is not None:
            return too_small
        n, n_classes = len(y), len(self.classes_)
        n_val = math.ceil(self.validation_fraction * n)
        counts = np.bincount(y, minlength=n_classes)
        smallest = int(counts.min())
        # a stratified split gives class k about n_val * counts[k] / n validation sequences
        if int(np.floor(n_val * smallest / n)) < 2 or smallest - math.ceil(n_val * smallest / n) < 1:
            return (f"validation_fraction={self.validation_fraction} of {n} sequences gives {n_val} for "
                    f"validation, but the smallest of {n_classes} classes holds {smallest}: a stratified split "
                    "needs 2 validation sequences of every class and one left for training")
        return None

    def _split_validation(self, y, rng):
        """Stratified: every class in both parts (the rule checked that it can be)."""
        n = len(y)
        return train_test_split(np.arange(n), test_size=math.ceil(self.validation_fraction * n), stratify=y,
                                random_state=rng)

    def _fitted_targets(self, y):
        return label_indices(self.classes_, y)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, n_classes)``, columns in ``classes_`` order."""
        return softmax(self._outputs(X), axis=1)

    def predict(self, X) -> np.ndarray:
        """Most probable class label per sequence, ``(n,)``."""
        outputs = self._outputs(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(outputs, axis=1)]


class RNNRegressor(SequenceRegressorMixin, _RNNBase):
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
