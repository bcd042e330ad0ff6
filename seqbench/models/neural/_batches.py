"""Numpy sequences to ready-to-use tensor mini-batches.

The tensors are built once per fit (or predict), grouped by sequence length
and already on the training device, so that an epoch costs one
``index_select`` per batch: no re-padding in Python, no per-sample loading.
A batch whose sequences all have the same length goes to the model as a
plain padded tensor (``lengths is None``); only a batch with differing
lengths carries ``lengths`` and is packed by the encoder.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ...data import length_buckets

__all__ = ["Batch", "SequenceBatches"]

# Pad value of per-step integer targets: cross-entropy's default ignore_index,
# so padded steps drop out of a tagger's loss.
IGNORE_INDEX = -100


@dataclass
class Batch:
    """One mini-batch.

    inputs : ``(B, T, d)`` float32 or ``(B, T)`` int64, right-padded
    lengths : ``(B,)`` int64 CPU tensor when lengths differ, else ``None``
    targets : ``(B, ...)`` per-sequence targets, ``(B, T, ...)`` per-step
        targets padded with ``IGNORE_INDEX`` (or 0 for floats), or ``None``
    index : ``(B,)`` int64 positions of the batch's sequences in the source
    weight : how many target values the batch's loss is a mean over: the
        sequences (per-sequence targets; the default) or the valid steps
        (per-step targets). The engine weights each batch's loss by it, so
        epoch losses are means per sequence or per step, whatever the batch
        sizes; a batch of weight 0 has no target to learn from.
    """

    inputs: torch.Tensor
    lengths: torch.Tensor | None
    targets: torch.Tensor | None
    index: np.ndarray
    weight: int | None = None

    def __post_init__(self):
        if self.weight is None:
            self.weight = len(self.index)

    def __len__(self) -> int:
        return len(self.index)


class _PaddedStore:
    """Sequences grouped by length; each group is one ``(n_L, L, ...)`` tensor."""

    def __init__(self, sequences, lengths: np.ndarray, dtype: torch.dtype, device, pad_value):
        self.dtype, self.device, self.pad_value = dtype, device, pad_value
        np_dtype = torch.empty((), dtype=dtype).numpy().dtype
        self.position = np.empty(len(lengths), dtype=np.int64)  # row inside its group
        self.groups: dict[int, torch.Tensor] = {}
        for length in np.unique(lengths):
            members = np.flatnonzero(lengths == length)
            self.position[members] = np.arange(len(members))
            block = np.stack([np.asarray(sequences[i]) for i in members]).astype(np_dtype, copy=False)
            self.groups[int(length)] = torch.from_numpy(block).to(device)
        self.feature_shape = next(iter(self.groups.values())).shape[2:]

    def _rows(self, length: int, idx: np.ndarray) -> torch.Tensor:
        pos = torch.from_numpy(self.position[idx]).to(self.device, non_blocking=True)
        return self.groups[length].index_select(0, pos)

    def gather(self, idx: np.ndarray, lengths: np.ndarray) -> torch.Tensor:
        """Rows ``idx`` (with lengths ``lengths``) as one right-padded tensor."""
        longest = int(lengths.max())
        if lengths.min() == longest:
            return self._rows(longest, idx)
        out = torch.full((len(idx), longest, *self.feature_shape), self.pad_value, dtype=self.dtype, device=self.device)
        for length in np.unique(lengths):
            rows = np.flatnonzero(lengths == length)
            out[torch.from_numpy(rows).to(self.device), :length] = self._rows(int(length), idx[rows])
        return out


class SequenceBatches:
    """A sequence collection (and its targets) as tensors, cut into batches.

    Parameters
    ----------
    sequences : list of ndarray
        ``(T_i, d)`` real steps (stored float32) or ``(T_i,)`` int symbol ids
        (stored int64), as the data contract returns them.
    targets : ndarray ``(n, ...)``, list of ``(T_i, ...)`` arrays, or None
        Per-sequence targets, or per-step targets aligned with the sequences
        (a tagger's), padded with ``IGNORE_INDEX`` (integers) or 0 (floats).
        Integers are stored int64, floats float32.
    device : torch device of every tensor built here
    """

    def __init__(self, sequences, targets=None, *, device="cpu"):
        self.device = torch.device(device)
        self.lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        self._sequences = sequences
        is_symbol = np.asarray(sequences[0]).dtype.kind in "iub"
        self.inputs = _PaddedStore(sequences, self.lengths, torch.int64 if is_symbol else torch.float32, self.device, 0)
        self.targets = self._store_targets(targets)
        self._fixed_order = None

    def _store_targets(self, targets):
        if targets is None:
            return None
        if isinstance(targets, np.ndarray) and targets.dtype != object:
            dtype = torch.int64 if targets.dtype.kind in "iub" else torch.float32
            return torch.as_tensor(targets, dtype=dtype).to(self.device)
        first = np.asarray(targets[0])
        is_int = first.dtype.kind in "iub"
        dtype, pad = (torch.int64, IGNORE_INDEX) if is_int else (torch.float32, 0.0)
        return _PaddedStore(targets, self.lengths, dtype, self.device, pad)

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def per_step(self) -> bool:
        """Whether the targets are per step (a tagger's), not per sequence."""
        return isinstance(self.targets, _PaddedStore)

    @property
    def total_weight(self) -> int:
        """Sum of the batches' :attr:`Batch.weight`: the valid steps with
        per-step targets, else the sequences."""
        return int(self.lengths.sum()) if self.per_step else len(self)

    def batch(self, idx: np.ndarray) -> Batch:
        """The sequences at positions ``idx`` as one :class:`Batch`."""
        idx = np.asarray(idx, dtype=np.int64)
        lengths = self.lengths[idx]
        inputs = self.inputs.gather(idx, lengths)
        if self.targets is None:
            targets = None
        elif self.per_step:
            targets = self.targets.gather(idx, lengths)
        else:
            targets = self.targets.index_select(0, torch.from_numpy(idx).to(self.device, non_blocking=True))
        packed = lengths.min() != lengths.max()
        weight = int(lengths.sum()) if self.per_step else len(idx)
        return Batch(inputs, torch.from_numpy(lengths) if packed else None, targets, idx, weight)

    def shuffled(self, batch_size: int, random_state) -> Iterator[Batch]:
        """One training epoch: length buckets in a random order (seeded)."""
        for idx in length_buckets(self.lengths, batch_size, shuffle=True, random_state=random_state):
            yield self.batch(idx)

    def in_order(self, batch_size: int) -> Iterator[Batch]:
        """Batches in a fixed order that depends on the sequences, not on their
        positions: sorted by length, then by a checksum of the content. The
        same sequences therefore meet the same batch-mates whatever order
        they come in, and float32 results do not change with sample order."""
        if self._fixed_order is None:
            checksum = np.fromiter(
                (zlib.crc32(np.ascontiguousarray(s).tobytes()) for s in self._sequences),
                dtype=np.int64,
                count=len(self),
            )
            self._fixed_order = np.lexsort((checksum, self.lengths))
        for start in range(0, len(self), batch_size):
            yield self.batch(self._fixed_order[start : start + batch_size])
