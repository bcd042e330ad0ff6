"""RNNForecaster: window-based recurrent forecasters on the shared engine.

Two strategies:

- ``"recursive"``: a one-step model. The recurrent encoder reads a window of
  ``window`` steps; a linear head on its last state predicts the next step.
  ``predict`` feeds the model its own outputs for ``horizon`` steps. With
  ``loss_steps="all"`` the same head reads the output at *every* step of the
  window and the loss covers every next-step prediction in it (teacher
  forcing: the network reads the true series, never its own forecasts, as
  recurrent forecasting libraries such as Darts' ``RNNModel`` train); with
  ``"last"`` only the prediction after the window's last step counts.
- ``"direct"``: an encoder-decoder (the many-to-many seq2seq shape). The
  encoder reads the window; a decoder of the same cell, started from the
  encoder's final state, runs ``horizon`` steps in one fused call (its input
  at step ``h`` is the one-hot step index, never a forecast, so there is no
  per-step Python loop in training or prediction) and a linear head maps each
  decoder output to that step's forecast.

Training data: every window of every training series (sliding by one step;
the series are pooled), paired with the next step (recursive) or the next
``horizon`` steps (direct). Each feature is standardised with the mean and
standard deviation of all training steps (learned in ``fit``) and forecasts
are mapped back. The loss is the mean squared error in standardised units.

Training runs on :class:`seqbench.models.neural._engine.Trainer` (Adam,
gradient clipping, optional early stopping on the *last* windows of each
series, so validation lies after training in time). The decoder is built
like the encoder's recurrent layer (:func:`~._modules.recurrent_layer`), so
``init`` and ``forget_bias`` set both.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ...data import SeriesTooShortError
from .._base import Capabilities
from .._forecast_base import ForecasterMixin
from ._batches import SequenceBatches
from ._engine import torch_session
from ._estimator_base import (
    CONTROLS_DOC,
    MIN_VALIDATION_SEQUENCES,
    NeuralEstimatorMixin,
    neural_constraints,
    tbptt_doc,
)
from ._modules import RecurrentEncoder, RNNConfig, recurrent_layer

__all__ = ["RNNForecaster", "ForecastRNN"]


class ForecastRNN(nn.Module):
    """Window in, forecast out: ``forward(inputs, lengths=None, targets=None, *, bptt=None) -> (output, loss)``.

    inputs : ``(B, window, d)`` float32, standardised
    output : ``(B, d)`` next step (``horizon=None``: recursive), or
        ``(B, horizon, d)`` (direct encoder-decoder)
    loss : mean squared error against ``targets`` of the output's shape, or
        None; with ``every_step`` (recursive only) ``targets`` are
        ``(B, window, d)``, the step after each step of the window, and the
        loss is the mean over all of them (teacher forcing)
    """

    def __init__(self, config: RNNConfig, horizon: int | None = None, *, every_step: bool = False):
        super().__init__()
        if every_step and horizon is not None:
            raise ValueError("every_step trains the recursive one-step model; it needs horizon=None")
        self.config = config
        self.horizon = horizon
        self.every_step = every_step
        self.encoder = RecurrentEncoder(config)
        if horizon is not None:
            self.decoder = recurrent_layer(config, horizon)  # same cell, sizes and initialisation
            self.register_buffer("steps", torch.eye(horizon), persistent=False)  # decoder inputs (H, H)
        self.head = nn.Linear(config.hidden_size, config.n_outputs)

    def forward(self, inputs, lengths=None, targets=None, *, bptt=None):
        outputs, state = self.encoder(inputs, lengths, bptt=bptt)
        if self.every_step:
            per_step = self.head(outputs)  # (B, window, d): the next step after every step
            output = per_step[:, -1]  # (B, d)
            return output, None if targets is None else F.mse_loss(per_step, targets)
        if self.horizon is None:
            h = state[0] if isinstance(state, tuple) else state  # (L, B, hidden); LSTM: (h, c)
            output = self.head(h[-1])  # last layer's final state -> (B, d)
        else:
            steps = self.steps.expand(inputs.shape[0], -1, -1)  # (B, H, H)
            decoded, _ = self.decoder(steps, state)  # (B, H, hidden)
            output = self.head(decoded)  # (B, H, d)
        if targets is None:
            return output, None
        return output, F.mse_loss(output, targets)


class RNNForecaster(NeuralEstimatorMixin, ForecasterMixin, BaseEstimator):
    __doc__ = """Recurrent (RNN, LSTM or GRU) forecaster: recursive one-step or direct encoder-decoder.

    With ``strategy="direct"``, ``init`` and ``forget_bias`` set the
    decoder's recurrent weights as well as the encoder's.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}, default="lstm"
    window : int >= 1, default=24
        Steps of history the network reads; predict needs histories at least this long.
    strategy : {"recursive", "direct"}, default="recursive"
        See the module docstring.
    loss_steps : {"last", "all"}, default="last"
        Recursive strategy: train on the prediction after the window's last
        step only ("last"), or on the next-step prediction after every step
        of the window ("all", teacher forcing). "all" with
        ``strategy="direct"`` raises a ValueError.
    nonlinearity : {"tanh", "relu"}, default="tanh"
        Activation of the plain RNN (ignored by LSTM and GRU).
    hidden_size : int, default=32
    num_layers : int, default=1
    dropout : float in [0, 1), default=0.0
        Between stacked layers.
    lr : float, default=0.003
        Adam learning rate.
    batch_size : int, default=32
        Windows per mini-batch.
    max_epochs : int, default=50
    grad_clip : float or None, default=1.0
    early_stopping : bool, default=False
        Hold out the last ``validation_fraction`` of each series' windows,
        stop after ``n_iter_no_change`` epochs without a lower validation loss
        and restore the best weights. Refused, with training run for
        ``max_epochs`` instead, when that leaves fewer than 20 validation
        windows or none for training (``early_stopping_`` and ``stopping_``
        say what happened).
    validation_fraction : float in (0, 1), default=0.1
    n_iter_no_change : int, default=5
    random_state : int, RandomState or None
        Seeds the weights, the batch order and the validation split.
    device : str, default="auto"
    num_threads : int or None, default=1
        torch threads inside fit and predict (restored afterwards).
    horizon : int >= 1, default=1
        Steps forecast after each history (the direct decoder's length).
""" + CONTROLS_DOC + tbptt_doc(
        "the encoder's final state", " It truncates the encoder only; the decoder runs ``horizon`` steps."
    ) + """

    Attributes
    ----------
    module_ : ForecastRNN, trained, in eval mode
    history_ : list of dict, one per epoch (epoch, train_loss, val_loss, grad_norm, seconds)
    n_iter_, best_epoch_ : epochs run; epoch whose weights ``module_`` holds
    mean_, scale_ : ndarray ``(n_features,)``, the standardisation learned in fit
    n_windows_ : int, training windows (all series pooled, before any validation split)
    early_stopping_ : bool, whether training stopped on a validation split
    stopping_ : str, how the number of epochs was decided (and why early stopping was refused)
    n_features_in_, horizon_, device_
    """

    capabilities = Capabilities(task="forecast", family="neural", input_kinds=frozenset({"real"}), probabilistic=False)
    _parameter_constraints = {
        **ForecasterMixin._parameter_constraints,
        **neural_constraints(
            "tbptt",
            "lr_schedule",
            window=[Interval(Integral, 1, None, closed="left")],
            strategy=[StrOptions({"recursive", "direct"})],
            loss_steps=[StrOptions({"last", "all"})],
        ),
    }

    def __init__(self, cell="lstm", *, window=24, strategy="recursive", nonlinearity="tanh", hidden_size=32,
                 num_layers=1, dropout=0.0, lr=0.003, batch_size=32, max_epochs=50, grad_clip=1.0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5, random_state=None,
                 device="auto", num_threads=1, horizon=1, grad_clip_value=None, tbptt=None, init="default",
                 forget_bias=None, loss_steps="last", lr_schedule=None, epoch_callback=None):
        self.cell = cell
        self.window = window
        self.strategy = strategy
        self.nonlinearity = nonlinearity
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
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
        self.horizon = horizon
        self.grad_clip_value = grad_clip_value
        self.tbptt = tbptt
        self.init = init
        self.forget_bias = forget_bias
        self.loss_steps = loss_steps
        self.lr_schedule = lr_schedule
        self.epoch_callback = epoch_callback

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train on every window of every series of ``X`` (collection, or one series); ``y`` is ignored."""
        return self._fit(X, y, epochs=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y=None, *, epochs: bool):
        if self.loss_steps == "all" and self.strategy != "recursive":
            raise ValueError(
                f'loss_steps="all" (a loss at every step of the window) trains the one-step model of '
                f'strategy="recursive", but strategy={self.strategy!r}; use loss_steps="last" or strategy="recursive"'
            )
        coll = self._validate_fit_series(X)
        X_all = np.concatenate(coll.sequences)
        mean, scale = X_all.mean(axis=0), X_all.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        inputs, targets, is_val = self._windows(_standardised(coll.sequences, mean, scale))
        is_val = self._validation_windows(is_val)

        def setup(device, rng):
            module = ForecastRNN(self._module_config(coll.n_features), self._decoder_horizon(),
                                 every_step=self.loss_steps == "all")
            train = SequenceBatches(inputs[~is_val], targets[~is_val], device=device)
            val = SequenceBatches(inputs[is_val], targets[is_val], device=device) if self.early_stopping_ else None
            return module, train, val

        self._train(setup, epochs=epochs)
        self.mean_, self.scale_, self.n_windows_ = mean, scale, len(inputs)
        self._set_fitted_input(coll)
        return self

    def _decoder_horizon(self) -> int | None:
        return self.horizon if self.strategy == "direct" else None

    def _module_config(self, n_features: int) -> RNNConfig:
        return self._rnn_config(n_inputs=n_features, n_outputs=n_features, loss="mse")

    def _windows(self, series: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training pairs from standardised series.

        Returns inputs float32 ``(N, window, d)``, targets float32 ``(N, d)``
        (recursive), ``(N, window, d)`` (recursive with ``loss_steps="all"``:
        the window shifted one step ahead) or ``(N, horizon, d)`` (direct),
        and a boolean ``(N,)`` marking the last ``validation_fraction`` of
        each series' windows (the validation windows, if early stopping is used).
        """
        ahead = self.horizon if self.strategy == "direct" else 1
        span = self.window + ahead
        inputs, targets, is_val = [], [], []
        for s in series:
            if len(s) < span:
                continue
            block = sliding_window_view(s, span, axis=0).transpose(0, 2, 1)  # (n_i, span, d)
            inputs.append(block[:, : self.window])
            if self.strategy == "direct":
                targets.append(block[:, self.window :])
            else:
                targets.append(block[:, 1:] if self.loss_steps == "all" else block[:, -1])
            is_val.append(np.arange(len(block)) >= len(block) - math.ceil(self.validation_fraction * len(block)))
        if not inputs:
            longest = max(len(s) for s in series)
            raise SeriesTooShortError(
                f"X: no training window: the longest series has {longest} steps but window={self.window} plus "
                f"{ahead} step(s) to predict need {span}; pass longer series or a smaller window"
            )
        is_val = np.concatenate(is_val)
        return (np.concatenate(inputs).astype(np.float32), np.concatenate(targets).astype(np.float32), is_val)

    def _validation_windows(self, last: np.ndarray) -> np.ndarray:
        """The validation mask actually used: ``last`` (the last windows of
        each series) under early stopping when the rule accepts it, else all
        False; sets ``early_stopping_`` and ``stopping_``."""
        n_val, refused = int(last.sum()), None
        if self.early_stopping and (n_val < MIN_VALIDATION_SEQUENCES or n_val == len(last)):
            refused = (f"validation_fraction={self.validation_fraction} of {len(last)} windows gives {n_val} for "
                       f"validation; it needs at least {MIN_VALIDATION_SEQUENCES} and one left for training")
        self._record_stopping(refused, len(last), "windows")
        return last if self.early_stopping_ else np.zeros_like(last)

    # -------------------------------------------------------------- predict
    def _min_history(self) -> int:
        return self.window

    def _min_history_reason(self) -> str:
        return "the window the network reads"

    def _describe(self) -> str:
        return f"RNNForecaster(window={self.window})"

    @torch.no_grad()
    def _forecast(self, coll) -> np.ndarray:
        last = np.stack([s[-self.window :] for s in coll.sequences])  # (n, window, d)
        x = torch.from_numpy(_standardised(last, self.mean_, self.scale_).astype(np.float32))
        x = x.to(self._module_device())
        self.module_.eval()
        with torch_session(num_threads=self.num_threads):
            if self.strategy == "direct":
                out = self.module_(x)[0]  # (n, H, d)
            else:
                out = self._recursive(x)
        return out.double().cpu().numpy() * self.scale_ + self.mean_

    def _recursive(self, x: torch.Tensor) -> torch.Tensor:
        """Feed the one-step model its own forecasts: ``(n, window, d)`` -> ``(n, H, d)``.

        The loop is over forecast steps at predict time only (training uses fused calls).
        """
        steps = []
        for _ in range(self.horizon_):
            nxt = self.module_(x)[0]  # (n, d)
            steps.append(nxt)
            x = torch.cat([x[:, 1:], nxt[:, None]], dim=1)
        return torch.stack(steps, dim=1)

    # -------------------- diagnostics: the module's own training inputs and targets
    def training_batches(self, X, y=None) -> SequenceBatches:
        """Every window of every series of ``X`` (standardised with the fitted
        ``mean_`` / ``scale_``) and the step(s) after it, as ``fit`` builds
        them, on the module's device: the hook that
        ``seqbench.diagnostics.gradient_norms_through_time`` calls. ``y`` is
        ignored, as ``fit`` ignores it."""
        check_is_fitted(self, "module_")
        coll = self._validate_fit_series(X)
        if coll.n_features != self.n_features_in_:
            raise ValueError(f"X has {coll.n_features} features per step, but the forecaster was fitted with "
                             f"{self.n_features_in_}")
        inputs, targets, _ = self._windows(_standardised(coll.sequences, self.mean_, self.scale_))
        return SequenceBatches(list(inputs), targets, device=self._module_device())


def _standardised(series, mean: np.ndarray, scale: np.ndarray):
    """``(s - mean) / scale`` of one array, or of each array of a list."""
    if isinstance(series, np.ndarray):
        return (series - mean) / scale
    return [(s - mean) / scale for s in series]
