"""Numpy sequences to ready-to-use tensor mini-batches.

The tensors are built once per fit (or predict), grouped by sequence length
and already on the training device. A training epoch puts each length
group's rows in the epoch's order with one ``index_select`` (the bucket plan
of :func:`seqbench.data.bucket_plan` sorts by length, so every batch is a
run of consecutive rows), and a batch is then a slice of that tensor: no
per-batch copy, no re-padding in Python, no per-sample loading. A batch
whose sequences all have the same length goes to the model as a plain
tensor (``lengths is None``); only a batch with differing lengths (at most
:data:`seqbench.data.MAX_LENGTH_RATIO` apart) carries ``lengths``, is
padded from the slices, and is packed by the encoder.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from ...data import bucket_bounds, bucket_plan

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
            self.groups[int(length)] = torch.from_numpy(_stack(sequences, members, np_dtype)).to(device)
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

    def arrange(self, order: np.ndarray, sorted_lengths: np.ndarray) -> "_Arranged":
        """Every row in ``order`` (sequence indices sorted by length, with
        their lengths ``sorted_lengths``): one ``index_select`` per length group."""
        lengths, first = np.unique(sorted_lengths, return_index=True)
        groups = {}
        for length, start, end in zip(lengths.tolist(), first.tolist(), [*first[1:].tolist(), len(order)]):
            groups[length] = (start, self._rows(length, order[start:end]))
        return _Arranged(self, groups, sorted_lengths)


class _Arranged:
    """A :class:`_PaddedStore`'s rows in one sorted order; :meth:`rows` slices them.

    groups : length -> (position of the group's first row in the order, its rows ``(n_L, L, ...)``)
    """

    def __init__(self, store: _PaddedStore, groups: dict, sorted_lengths: np.ndarray):
        self.store, self.groups, self.sorted_lengths = store, groups, sorted_lengths

    def rows(self, a: int, b: int) -> torch.Tensor:
        """Rows ``a:b`` of the order as one right-padded tensor (a view when their lengths are equal)."""
        shortest, longest = int(self.sorted_lengths[a]), int(self.sorted_lengths[b - 1])
        if shortest == longest:
            start, block = self.groups[longest]
            return block[a - start : b - start]
        store = self.store
        out = torch.full((b - a, longest, *store.feature_shape), store.pad_value, dtype=store.dtype, device=store.device)
        for length in np.unique(self.sorted_lengths[a:b]).tolist():
            start, block = self.groups[length]
            lo, hi = max(a, start), min(b, start + len(block))
            out[lo - a : hi - a, :length] = block[lo - start : hi - start]
        return out


class _Sliced:
    """Per-sequence targets ``(n, ...)`` already in an epoch's order: ``rows(a, b)`` is a view."""

    def __init__(self, tensor: torch.Tensor):
        self.tensor = tensor

    def rows(self, a: int, b: int) -> torch.Tensor:
        return self.tensor[a:b]


def _stack(sequences, members: np.ndarray, np_dtype) -> np.ndarray:
    """Sequences ``members`` (all of one length) as one array ``(n, L, ...)``;
    an ndarray collection (a forecaster's windows) is indexed at once, not row by row."""
    if isinstance(sequences, np.ndarray):
        return np.ascontiguousarray(sequences[members], dtype=np_dtype)
    return np.stack([np.asarray(sequences[i]) for i in members]).astype(np_dtype, copy=False)


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
        """One training epoch: length buckets in a random order (seeded;
        :func:`seqbench.data.bucket_plan`, the batches of
        :func:`seqbench.data.length_buckets`)."""
        order, bounds, batch_order = bucket_plan(self.lengths, batch_size, shuffle=True, random_state=random_state)
        sorted_lengths = self.lengths[order]
        inputs, targets = self.inputs.arrange(order, sorted_lengths), self._arranged_targets(order, sorted_lengths)
        for k in batch_order.tolist():
            a, b = int(bounds[k]), int(bounds[k + 1])
            lengths = sorted_lengths[a:b]
            packed = lengths[0] != lengths[-1]
            yield Batch(
                inputs.rows(a, b),
                torch.from_numpy(lengths) if packed else None,
                None if targets is None else targets.rows(a, b),
                order[a:b],
                int(lengths.sum()) if self.per_step else b - a,
            )

    def _arranged_targets(self, order: np.ndarray, sorted_lengths: np.ndarray):
        """The targets in ``order``, sliced by ``rows(a, b)`` like the inputs (None without targets)."""
        if self.targets is None:
            return None
        if self.per_step:
            return self.targets.arrange(order, sorted_lengths)
        return _Sliced(self.targets.index_select(0, torch.from_numpy(order).to(self.device, non_blocking=True)))

    def in_order(self, batch_size: int) -> Iterator[Batch]:
        """Batches in a fixed order that depends on the sequences, not on their
        positions: sorted by length, then by a checksum of the content, and cut
        by :func:`seqbench.data.bucket_bounds`. The same sequences therefore
        meet the same batch-mates whatever order they come in, and float32
        results do not change with sample order."""
        if self._fixed_order is None:
            checksum = np.fromiter(
                (zlib.crc32(np.ascontiguousarray(s).tobytes()) for s in self._sequences),
                dtype=np.int64,
                count=len(self),
            )
            self._fixed_order = np.lexsort((checksum, self.lengths))
        bounds = bucket_bounds(self.lengths[self._fixed_order], batch_size)
        for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            yield self.batch(self._fixed_order[a:b])
