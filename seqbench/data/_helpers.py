"""Two small helpers every floor uses: a numpy scalar as the Python value it
holds, and a block run with a fixed number of BLAS/OpenMP and torch threads.
"""

from __future__ import annotations

import contextlib
import sys

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["plain_value", "limit_threads", "one_thread"]

_CONTROLLER: ThreadpoolController | None = None


def plain_value(value):
    """``value`` as a plain Python value when it is a numpy scalar (so that
    messages read ``3`` or ``'cat'``, not ``np.int64(3)``, and JSON takes it)."""
    return value.item() if isinstance(value, np.generic) else value


def _controller() -> ThreadpoolController:
    """threadpoolctl's controller, built once: scanning the loaded libraries
    costs ~10 ms, 2% of a small HMM fit (scikit-learn caches it the same way
    in ``utils.fixes``)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


@contextlib.contextmanager
def limit_threads(n: int):
    """Run a block with at most ``n`` BLAS/OpenMP threads and, when torch is
    already loaded, ``n`` torch intra-op threads; both come back afterwards.
    Torch is not imported here: a process without it stays without it."""
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(n)
    try:
        with _controller().limit(limits=n):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(previous)


def one_thread():
    """:func:`limit_threads` with one thread.

    The classical models' arrays are small (states x features, lags x
    features), so extra threads only add contention: on this project's
    2-core machines under load, the Gaussian known-answer HMM fit of the
    tests took 19.5 s with the default 2 threads and 2.5 s with one.
    Parallelism belongs to the runner, one job per core.
    """
    return limit_threads(1)
