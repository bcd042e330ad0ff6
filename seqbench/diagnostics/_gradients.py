"""Gradient flow through time: ``||dLoss/dh_t||`` and ``||dLoss/dx_t||`` per step.

Back-propagation through time carries ``dLoss/dh_t`` from the steps the loss
reads back to the first step, multiplying by one Jacobian ``dh_{t+1}/dh_t``
per step. In a plain tanh RNN with small recurrent weights these products
shrink geometrically (vanishing gradients); gated cells and the IRNN keep a
path along which they survive. :func:`gradient_norms_through_time` measures
this on an estimator's own network, with autograd, and
:func:`gradient_decay_rate` summarises a curve by its slope.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import torch

from ..models.neural import IGNORE_INDEX, torch_session
from ._adapters import flow_batches, initial_estimator, is_fitted, recurrent_encoder
from ._unroll import UnrolledRecurrent

__all__ = ["gradient_norms_through_time", "gradient_decay_rate"]

_WRT = ("hidden", "input")
_ALIGN = ("start", "end")


def gradient_norms_through_time(
    estimator, X, y=None, *, wrt="hidden", layer=-1, align="start", last_steps=None, batch_size=64,
    dtype=torch.float64,
) -> np.ndarray:
    """Norm of the loss gradient with respect to each step's hidden state (or input).

    Parameters
    ----------
    estimator : RNNClassifier, RNNRegressor, RNNTagger or RNNForecaster
        Fitted: its trained network is read. Unfitted: a clone is built
        exactly as ``fit(X, y)`` would start it (same validation, target
        encoding and initialisation from ``random_state``) but not trained.
    X, y : sequences and targets in the estimator's own form (``y`` per-step
        labels for a tagger; ignored by a forecaster, which reads every
        window of every series of ``X``).
    wrt : {"hidden", "input"}
        "hidden": ``dLoss/dh_t``, the gradient back-propagation through time
        carries (LSTM: ``h_t``, not the cell state); all directions of the
        layer together. "input": ``dLoss/dx_t``, the gradient with respect
        to each input step (the embedding vector for symbol input).
    layer : int, default=-1
        Which recurrent layer's states (``wrt="hidden"``); -1 is the top one.
    align : {"start", "end"}
        Sequences of different lengths are aligned at their first step
        ("start": index ``t`` is step ``t``) or at their last ("end": index
        ``-1`` is each sequence's last step, where a many-to-one loss reads).
        Each index averages the sequences that have it.
    last_steps : int or None
        Per-step (tagger) targets only: the loss counts only the last
        ``last_steps`` steps of each sequence (the other steps' targets are
        ignored), e.g. the recall steps of the copy-memory task, so the curve
        shows how far back the error *there* reaches rather than each step's
        own loss term. None: the training loss over every step.
    batch_size : int
        Sequences per batch; batches hold sequences of equal length.
    dtype : torch dtype or None
        The computation runs on a copy of the network in this precision
        (float64 by default, so gradients that vanish by 30 orders of
        magnitude are still measured); None keeps the network's own.

    Returns
    -------
    ndarray float64 ``(T,)``, ``T`` the longest sequence (the window, for a
    forecaster): at each step, the Euclidean norm of ``dL_i/dh_t`` averaged
    over the sequences ``i``, where ``L_i`` is the training loss of sequence
    ``i`` (the module's own loss on a batch of equal-length sequences times
    the batch size, so the value does not depend on ``batch_size``).

    Notes
    -----
    PyTorch's fused layers hide the per-step states from autograd, so the
    network is unrolled with the cell versions on the same weights
    (:class:`UnrolledRecurrent`); its outputs are checked against the fused
    layer's on the first batch (RuntimeError if they differ).
    """
    if wrt not in _WRT:
        raise ValueError(f"wrt must be one of {_WRT}, got {wrt!r}")
    if align not in _ALIGN:
        raise ValueError(f"align must be one of {_ALIGN}, got {align!r}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if last_steps is not None and (int(last_steps) != last_steps or last_steps < 1):
        raise ValueError(f"last_steps must be a positive integer or None, got {last_steps!r}")
    est = estimator if is_fitted(estimator) else initial_estimator(estimator, X, y)
    with torch_session(num_threads=getattr(est, "num_threads", None)):
        source = flow_batches(est, X, y)
        module = copy.deepcopy(est.module_)
        if dtype is not None:
            module = module.to(dtype)
        module.eval()  # no dropout: the gradient of the network as it predicts
        encoder = recurrent_encoder(module)
        fused = encoder.rnn
        unrolled = UnrolledRecurrent(fused)
        if not -unrolled.num_layers <= layer < unrolled.num_layers:
            raise ValueError(f"layer={layer} but the network has {unrolled.num_layers} recurrent layer(s)")
        encoder.rnn = unrolled
        return _accumulate(module, encoder, fused, unrolled, source, wrt=wrt, layer=layer % unrolled.num_layers,
                           align=align, last_steps=last_steps, batch_size=int(batch_size), dtype=dtype)


def _accumulate(module, encoder, fused, unrolled, source, *, wrt, layer, align, last_steps, batch_size,
                dtype) -> np.ndarray:
    """Sum the per-sequence norms over equal-length batches; mean per aligned step."""
    longest = int(source.lengths.max())
    total, count = np.zeros(longest), np.zeros(longest)
    checked = False
    for length in np.unique(source.lengths):
        members = np.flatnonzero(source.lengths == length)
        for start in range(0, len(members), batch_size):
            batch = source.batch(members[start : start + batch_size])
            inputs, targets = _cast(batch.inputs, dtype), _cast(batch.targets, dtype)
            if last_steps is not None:
                targets = _keep_last(targets, int(length), int(last_steps))
            with torch.enable_grad():
                _, loss = module(inputs, None, targets)
                if loss is None:
                    raise TypeError(f"{type(module).__name__} returned no loss for the targets given")
                if not checked:
                    _check_unrolled(encoder, fused, unrolled, inputs)
                    checked = True
                norms = _step_norms(loss * len(batch), unrolled, wrt, layer)  # (B, T)
            offset = 0 if align == "start" else longest - int(length)
            total[offset : offset + length] += norms.sum(axis=0)
            count[offset : offset + length] += len(batch)
    with np.errstate(invalid="ignore"):
        return total / count


def _keep_last(targets, length: int, last_steps: int):
    """Per-step integer targets ``(B, T)`` with all but the last ``last_steps`` steps ignored."""
    if targets is None or targets.dim() < 2 or targets.shape[1] != length or targets.is_floating_point():
        raise ValueError("last_steps applies to per-step class targets (a tagger's); this model's targets "
                         "are per sequence or real-valued")
    masked = targets.clone()
    masked[:, : max(length - last_steps, 0)] = IGNORE_INDEX
    return masked


def _cast(tensor, dtype):
    if tensor is None or dtype is None or not tensor.is_floating_point():
        return tensor
    return tensor.to(dtype)


def _step_norms(loss, unrolled: UnrolledRecurrent, wrt: str, layer: int) -> np.ndarray:
    """``(B, T)`` norms of ``d loss / d (state or input at t)`` for each sequence."""
    if wrt == "input":
        groups = [unrolled.inputs]
    else:
        groups = [unrolled.hidden[(layer, d)] for d in range(unrolled.num_directions)]
    flat = [t for group in groups for t in group]
    grads = torch.autograd.grad(loss, flat, allow_unused=True)
    squared = None
    T = len(groups[0])
    for k in range(len(groups)):
        part = torch.stack([_sq(g, ref) for g, ref in zip(grads[k * T : (k + 1) * T], flat[k * T : (k + 1) * T])], 1)
        squared = part if squared is None else squared + part
    return squared.sqrt().double().cpu().numpy()


def _sq(grad, ref) -> torch.Tensor:
    """Squared norm per sequence ``(B,)``; an unused step has gradient 0."""
    if grad is None:
        return ref.new_zeros(ref.shape[0])
    return grad.pow(2).flatten(1).sum(1)


@torch.no_grad()
def _check_unrolled(encoder, fused, unrolled, inputs) -> None:
    """The unrolled cells must compute what the fused layer computes."""
    x = encoder.embedding(inputs) if encoder.embedding is not None else inputs
    with warnings.catch_warnings():  # on CUDA, a copied layer's weights are no longer one flat cuDNN buffer
        warnings.filterwarnings("ignore", message=".*contiguous chunk of memory.*")
        expected, _ = fused(x)
    got = torch.stack(unrolled.hidden[(unrolled.num_layers - 1, 0)], dim=1) if unrolled.num_directions == 1 \
        else torch.cat([torch.stack(unrolled.hidden[(unrolled.num_layers - 1, d)], 1) for d in (0, 1)], dim=2)
    scale = float(expected.abs().max()) + 1.0
    error = float((expected - got).abs().max())
    tolerance = (1e-9 if expected.dtype == torch.float64 else 1e-4) * scale
    if not error <= tolerance:
        raise RuntimeError(
            f"the step-by-step unrolled network differs from the fused {type(fused).__name__} by {error:.3g} "
            f"(tolerance {tolerance:.3g}); the gradient diagnostic would not describe this model"
        )


def gradient_decay_rate(norms, *, skip_last: int = 0) -> float:
    """Slope of ``log10 ||g_t||`` against the distance from the last step.

    ``norms`` : array ``(T,)`` from :func:`gradient_norms_through_time`.
    Returns orders of magnitude gained per step further from the end:
    negative when gradients vanish going back in time (-0.2 means a factor
    10 lost every 5 steps), about 0 when they survive, positive when they
    explode. A least-squares line over the finite, non-zero norms;
    ``skip_last`` leaves out the last steps (where a per-step loss adds its
    own direct terms). NaN with fewer than two usable steps.
    """
    g = np.asarray(norms, dtype=np.float64)
    if g.ndim != 1:
        raise ValueError(f"norms must be 1-D (one value per step), got shape {g.shape}")
    distance = np.arange(len(g))[::-1].astype(np.float64)  # last step: 0
    keep = np.isfinite(g) & (g > 0)
    if skip_last:
        keep[len(g) - skip_last :] = False
    if keep.sum() < 2:
        return float("nan")
    slope, _ = np.polyfit(distance[keep], np.log10(g[keep]), 1)
    return float(slope)
