"""The :class:`Dataset` record every loader returns (conventions per task in
the package docstring, :mod:`seqbench.datasets`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from .. import metrics

__all__ = ["Dataset", "TASKS"]

# the task names, in the order reports list them
TASKS = tuple(metrics.TASKS)


@dataclass(frozen=True, eq=False)
class Dataset:
    """One train/test split of one dataset.

    Attributes
    ----------
    name : str
        The catalogue name (``seqbench datasets list``).
    task : str
        One of ``TASKS``.
    X_train, X_test : list
        Sequence collections: ``(T_i, d)`` float64 arrays, ``(T_i,)`` int64
        symbol-id arrays, or strings (text).
    y_train, y_test : ndarray, list of ndarray, or None
        Per task; see the package docstring.
    meta : dict
        ``oracle`` (synthetic data), ``horizon`` and ``season`` (forecasting),
        ``classes``, ``n_symbols``, the resolved ``options`` and whatever the
        card's ``[meta]`` table adds.
    """

    name: str
    task: str
    X_train: list
    y_train: object
    X_test: list
    y_test: object
    meta: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, task={self.task!r}, n_train={len(self.X_train)}, n_test={len(self.X_test)})"

    def summary(self) -> dict:
        """Sizes for listings: sequence counts, length range, features."""
        lengths = [len(s) for s in list(self.X_train) + list(self.X_test)]
        first = self.X_train[0]
        if isinstance(first, str):
            kind, n_features = "text", 1
        elif np.asarray(first).ndim == 1:
            kind, n_features = "symbol", 1
        else:
            kind, n_features = "real", int(np.asarray(first).shape[1])
        return {
            "n_train": len(self.X_train),
            "n_test": len(self.X_test),
            "min_length": int(min(lengths)),
            "max_length": int(max(lengths)),
            "input_kind": kind,
            "n_features": n_features,
        }

    def fingerprint(self) -> str:
        """sha256 (hex) of the task, inputs and targets: two loads with the same
        content have the same fingerprint (the runner keys jobs on it)."""
        return content_fingerprint(self.name, self.task, (self.X_train, self.y_train, self.X_test, self.y_test))


def content_fingerprint(name: str, task: str, parts) -> str:
    """sha256 (hex) of a name, a task and data parts (None, str, ndarray or
    lists of those), stable across processes and machines."""
    h = hashlib.sha256(f"{name}\0{task}".encode())
    for part in parts:
        _hash_into(h, part)
    return h.hexdigest()


def _hash_into(h, obj) -> None:
    """Feed ``obj`` (None, str, ndarray, or a list of those) into ``h``."""
    if obj is None:
        h.update(b"\0none")
    elif isinstance(obj, str):
        h.update(b"\0str" + obj.encode("utf-8"))
    elif isinstance(obj, np.ndarray) and obj.dtype != object:
        h.update(f"\0arr{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    else:
        h.update(f"\0list{len(obj)}".encode())
        for item in obj:
            _hash_into(h, item if isinstance(item, (str, np.ndarray, list)) else np.asarray(item))


def forecast_dataset(name: str, series: list, horizon: int, meta: dict) -> Dataset:
    """The forecasting split: the last ``horizon`` steps of each series are
    held out. ``X_train`` and ``X_test`` are the histories ``(T_i - horizon, d)``,
    ``y_test`` the continuations ``(n_series, horizon, d)``, ``y_train`` None."""
    horizon = int(horizon)
    series = [np.asarray(s, dtype=np.float64).reshape(len(s), -1) for s in series]
    for i, s in enumerate(series):
        if len(s) <= horizon + 1:
            raise ValueError(f"{name}: series {i} has {len(s)} steps, too few to hold out a horizon of {horizon}")
    history = [s[:-horizon] for s in series]
    future = np.stack([s[-horizon:] for s in series])
    return Dataset(name, "forecast", history, None, list(history), future, {**meta, "horizon": horizon})
