"""Padding and length-bucketed batching for the neural engine (numpy only;
the engine turns batches into tensors and packs them when lengths differ)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["pad_sequences", "length_buckets", "bucket_plan", "bucket_bounds", "MAX_LENGTH_RATIO"]


def pad_sequences(sequences, *, dtype=np.float32, value=0) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad sequences to the longest one.

    Parameters
    ----------
    sequences : list of arrays ``(T_i, d)`` or ``(T_i,)``
    dtype : numpy dtype of the result
    value : padding value

    Returns
    -------
    padded : ndarray ``(n, T_max, d)`` (or ``(n, T_max)`` for 1-D sequences)
    lengths : int64 ndarray ``(n,)``
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    first = np.asarray(sequences[0])
    shape = (len(sequences), int(lengths.max()), *first.shape[1:])
    out = np.full(shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        out[i, : lengths[i]] = s
    return out, lengths


# Longest ÷ shortest sequence allowed in one batch (see bucket_bounds).
MAX_LENGTH_RATIO = 2.0


def bucket_bounds(sorted_lengths, batch_size: int, max_length_ratio: float = MAX_LENGTH_RATIO) -> np.ndarray:
    """Where to cut lengths sorted in ascending order into batches.

    The rule: a batch holds at most ``batch_size`` sequences, and its longest
    sequence is at most ``max_length_ratio`` times its shortest. The sorted
    lengths are split greedily into segments (a segment starts at the
    shortest sequence not yet placed and takes every sequence up to
    ``max_length_ratio`` times as long), and each segment into consecutive
    batches of ``batch_size``, so every segment ends with at most one short
    batch. Without the cap a batch holding a 100,000-step and a 50-step
    sequence runs the packed recurrent path for 100,000 steps, which on CPU
    cost about 130 times the same sequences in batches of equal length.

    Parameters
    ----------
    sorted_lengths : int array ``(n,)``, ascending, every entry >= 1
    batch_size : int >= 1
    max_length_ratio : float >= 1

    Returns
    -------
    bounds : int64 ndarray ``(n_batches + 1,)``, from 0 to n: batch ``k`` is
        positions ``bounds[k]:bounds[k + 1]`` of the sorted order.
    """
    sorted_lengths = np.asarray(sorted_lengths)
    if not max_length_ratio >= 1:
        raise ValueError(f"max_length_ratio must be >= 1, got {max_length_ratio!r}")
    n, starts, start = len(sorted_lengths), [], 0
    while start < n:  # one pass per segment: at most log2(longest / shortest) + 1 of them
        end = int(np.searchsorted(sorted_lengths, max_length_ratio * sorted_lengths[start], side="right"))
        starts.append(np.arange(start, end, batch_size))
        start = end
    return np.concatenate([*starts, [n]]).astype(np.int64)


def bucket_plan(lengths, batch_size: int, *, shuffle: bool = True, random_state=None,
                max_length_ratio: float = MAX_LENGTH_RATIO) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The batches of :func:`length_buckets` as three arrays (no per-batch copies).

    Returns
    -------
    order : int64 ``(n,)`` sequence indices sorted by length (ties broken at
        random when shuffling, else by index)
    bounds : int64 ``(n_batches + 1,)``: batch ``k`` is ``order[bounds[k]:bounds[k + 1]]``
        (:func:`bucket_bounds`)
    batch_order : int64 ``(n_batches,)``: the order the batches are visited
        in (a random permutation when shuffling)
    """
    lengths = np.asarray(lengths)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = check_random_state(random_state)
    tiebreak = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    order = np.lexsort((tiebreak, lengths))
    bounds = bucket_bounds(lengths[order], batch_size, max_length_ratio)
    n_batches = len(bounds) - 1
    batch_order = rng.permutation(n_batches) if shuffle else np.arange(n_batches)
    return order, bounds, batch_order


def length_buckets(lengths, batch_size: int, *, shuffle: bool = True, random_state=None,
                   max_length_ratio: float = MAX_LENGTH_RATIO) -> list[np.ndarray]:
    """Group sequence indices into batches of similar length.

    Indices are sorted by length (ties broken at random when shuffling) and
    cut into consecutive batches of at most ``batch_size`` whose longest
    sequence is at most ``max_length_ratio`` times the shortest
    (:func:`bucket_bounds`); the order of the batches is shuffled. Most
    batches then hold sequences of one length and need no packing, which on
    CPU roughly halves GRU/RNN cost (NOTES.md).

    Returns a list of int64 index arrays covering ``range(len(lengths))`` once.
    """
    order, bounds, batch_order = bucket_plan(lengths, batch_size, shuffle=shuffle, random_state=random_state,
                                             max_length_ratio=max_length_ratio)
    return [order[bounds[k] : bounds[k + 1]] for k in batch_order]
