"""RNNTagger: a recurrent network with a label at every step (the aligned
many-to-many shape), trained on the shared engine (``_engine.Trainer``)."""

from __future__ import annotations

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities, SequenceInputMixin
from .._tagging_base import (
    TAGGER_EXPECTED_FAILED_CHECKS,
    TaggerMixin,
    check_tag_targets,
    encode_tag_labels,
)
from ._batches import SequenceBatches
from ._engine import per_step_outputs
from ._estimator_base import (
    CONTROLS_DOC,
    EARLY_STOPPING_DOC,
    NeuralEstimatorMixin,
    label_indices,
    neural_constraints,
    subset_batches,
    tbptt_doc,
)
from ._lm_modules import StepRNN
from ._modules import RNNConfig

__all__ = ["RNNTagger"]


class RNNTagger(NeuralEstimatorMixin, TaggerMixin, SequenceInputMixin, BaseEstimator):
    __doc__ = """Recurrent tagger (RNN, LSTM or GRU): a label for every step.

    The fused recurrent layer reads each sequence (in both directions with
    ``bidirectional``) and a linear head turns the output at each step into
    label scores. Training minimises the mean cross-entropy over the real
    steps: targets of padded steps are ``IGNORE_INDEX`` and drop out of the
    loss, and predictions (hence ``score``) are cut to each sequence's length.
    The losses in ``history_`` are means per step.

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
""" + EARLY_STOPPING_DOC + """    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=5
    random_state : int, RandomState or None
        Seeds the weights, dropout, the validation split and the batch order.
    device : str, default="auto" (CUDA when available)
    num_threads : int or None, default=1 (torch threads inside fit and predict)
    tokenizer : Tokenizer or None, default=None
        For text; None means a word-level ``Tokenizer`` (labels per token).
""" + CONTROLS_DOC + tbptt_doc("every step", " Needs ``bidirectional=False``.") + """

    Attributes
    ----------
    classes_ : ndarray ``(n_classes,)``
    module_ : StepRNN, trained, in eval mode
    history_ : list of dict per epoch (epoch, train_loss, val_loss, grad_norm, seconds, lr)
    n_iter_, best_epoch_, device_
    early_stopping_ : bool, whether training stopped on a validation split
    stopping_ : str, how the number of epochs was decided (and why early stopping was refused)
    n_features_in_, input_kind_, n_symbols_, tokenizer_, vocabulary_ : see SequenceInputMixin
    """

    capabilities = Capabilities(
        task="tag", family="neural", input_kinds=frozenset({"real", "symbol", "text"}), probabilistic=True
    )
    _expected_failed_checks = TAGGER_EXPECTED_FAILED_CHECKS
    _parameter_constraints: dict = neural_constraints(
        "bidirectional", "embedding_dim", "tbptt", "tokenizer", "lr_schedule"
    )

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
        grad_clip_value=None,
        tbptt=None,
        init="default",
        forget_bias=None,
        lr_schedule=None,
        epoch_callback=None,
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
        self.grad_clip_value = grad_clip_value
        self.tbptt = tbptt
        self.init = init
        self.forget_bias = forget_bias
        self.lr_schedule = lr_schedule
        self.epoch_callback = epoch_callback

    def _module_config(self, kind: str) -> RNNConfig:
        return self._rnn_config(
            n_outputs=len(self.classes_), **self._input_config(kind), bidirectional=self.bidirectional
        )

    def fit(self, X, Y):
        """Train on sequences ``X`` and per-step labels ``Y`` (``Y[i]`` of shape ``(T_i,)``)."""
        return self._fit(X, Y, epochs=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, Y, *, epochs: bool):
        coll = self._validate_fit_X(X)
        Y = check_tag_targets(coll.lengths, Y, estimator_name=type(self).__name__)
        self.classes_, Y_enc = encode_tag_labels(Y)

        def setup(device, rng):
            train_idx, val_idx = self._train_val_indices(Y_enc, rng)
            module = StepRNN(self._module_config(coll.kind))
            val = subset_batches(coll.sequences, Y_enc, val_idx, device)
            return module, subset_batches(coll.sequences, Y_enc, train_idx, device), val

        self._train(setup, epochs=epochs)
        return self

    def _logits(self, X) -> list[np.ndarray]:
        return self._module_outputs(X, per_step_outputs)

    def predict_proba(self, X) -> list[np.ndarray]:
        """Label probabilities per step: one ``(T_i, n_classes)`` float64 array per sequence."""
        return [softmax(z.astype(np.float64), axis=1) for z in self._logits(X)]

    def predict(self, X) -> list[np.ndarray]:
        """One label array ``(T_i,)`` per sequence."""
        return [self.classes_[z.argmax(axis=1)] for z in self._logits(X)]

    # -- diagnostics: the module's own training inputs and targets ------------------------
    def training_batches(self, X, Y) -> SequenceBatches:
        """``X`` and the per-step labels ``Y`` as class indices (the encoding
        of ``fit``), on the module's device: the hook that
        ``seqbench.diagnostics.gradient_norms_through_time`` calls."""
        check_is_fitted(self, "module_")
        coll = self._validate_predict_X(X)
        Y = check_tag_targets(coll.lengths, Y, fitting=False, estimator_name=type(self).__name__)
        indices = [label_indices(self.classes_, y, f"Y[{i}]") for i, y in enumerate(Y)]
        return SequenceBatches(coll.sequences, indices, device=self._module_device())
