"""A module's trainable parameters and gradients in one flat buffer each.

At the sizes seqbench trains (hidden 32-128, batch 16-64) a training step
costs far more in per-tensor operator calls than in arithmetic: zeroing,
measuring, clipping and updating the gradients of six to a dozen tensors
one tensor at a time cost as much as the LSTM's own forward pass on one CPU
thread (``benchmarks/README.md``). With every parameter a view into one
flat tensor and every gradient a view into another, each of those is one
operator call on one tensor: ``zero_``, one norm, one ``mul_`` (or
``clamp_``), one fused Adam step (the clipping coefficient is a CPU scalar). The values are the same element by
element: Adam and value clipping act per element, and the norm is the same
2-norm (summed in another order, so it can differ in the last bit; a
clipped step's weights may then differ by about 1e-7).

PyTorch has no public helper for this (``parameters_to_vector`` copies; the
contiguous buffers of distributed training are not for one process), hence
this small class. It is used on CPU only: cuDNN keeps a recurrent layer's
weights in its own flat buffer, and views into ours would make it copy them
on every call, so elsewhere :class:`SeparateParameters` keeps one tensor per
parameter (with fused Adam and torch's foreach norm).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils import clip_grad_norm_, clip_grad_value_, get_total_norm

__all__ = ["FlatParameters", "SeparateParameters", "trainable_parameters"]


class SeparateParameters:
    """One tensor per parameter: the optimizer, zeroing, norm and clipping
    use torch's multi-tensor (foreach) functions."""

    def __init__(self, params: list[nn.Parameter]):
        self.params = params

    def optimizer_params(self) -> list[nn.Parameter]:
        """What the optimizer updates."""
        return self.params

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def grad_norm(self) -> torch.Tensor:
        """Total 2-norm of every gradient (a 0-d tensor, not synchronised)."""
        return get_total_norm([p.grad for p in self.params if p.grad is not None])

    def clip_value_(self, value: float) -> None:
        clip_grad_value_(self.params, value)

    def clip_norm_(self, max_norm: float) -> torch.Tensor:
        """Scale the gradients so their total norm is at most ``max_norm``; return the norm before."""
        return clip_grad_norm_(self.params, max_norm)

    def bind(self) -> None:
        """Nothing to bind: the optimizer updates the parameters themselves."""

    def release(self) -> None:
        """Nothing to undo."""


class FlatParameters(SeparateParameters):
    """One flat ``nn.Parameter`` (what the optimizer updates) and its
    ``grad``. Between :meth:`bind` and :meth:`release` every module
    parameter is a view into the flat tensor and every gradient a view into
    its ``grad`` (see the module docstring); afterwards each parameter owns
    its storage again (pickles stay small, later code sees ordinary tensors)."""

    def __init__(self, params: list[nn.Parameter]):
        super().__init__(params)
        with torch.no_grad():
            self.flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
        self.flat.grad = torch.zeros_like(self.flat)

    def bind(self) -> None:
        """Copy the parameters' current values into the flat tensor and make them views into it."""
        offset = 0
        with torch.no_grad():
            for p in self.params:
                n = p.numel()
                self.flat[offset : offset + n].copy_(p.reshape(-1))
                p.data = self.flat.data[offset : offset + n].view_as(p)
                p.grad = self.flat.grad[offset : offset + n].view_as(p)  # backward adds into it in place
                offset += n

    def optimizer_params(self) -> list[nn.Parameter]:
        return [self.flat]

    def zero_grad(self) -> None:
        self.flat.grad.zero_()

    def grad_norm(self) -> torch.Tensor:
        return torch.linalg.vector_norm(self.flat.grad)

    def clip_value_(self, value: float) -> None:
        self.flat.grad.clamp_(-value, value)

    def clip_norm_(self, max_norm: float) -> torch.Tensor:
        norm = self.grad_norm()
        # clip_grad_norm_'s coefficient, max_norm / (norm + 1e-6) capped at 1, in the same float32
        # arithmetic but on a CPU scalar: one tensor operation (the mul_, only when it clips) instead
        # of four. torch evaluates ``number / tensor`` as ``tensor.reciprocal() * number``, hence the order.
        coef = np.float32(1.0) / (np.float32(norm.item()) + np.float32(1e-6)) * np.float32(max_norm)
        if coef < 1:
            self.flat.grad.mul_(float(coef))
        return norm

    def release(self) -> None:
        if self.params[0].data.data_ptr() != self.flat.data_ptr():
            return  # not bound
        with torch.no_grad():
            for p in self.params:
                p.data = p.data.clone()
                p.grad = p.grad.clone()


def trainable_parameters(module: nn.Module, device: torch.device) -> SeparateParameters:
    """The module's parameters that require gradients, flat on CPU, separate elsewhere."""
    params = [p for p in module.parameters() if p.requires_grad]
    one_dtype = len({p.dtype for p in params}) == 1  # a flat buffer has one dtype
    return FlatParameters(params) if device.type == "cpu" and one_dtype else SeparateParameters(params)
