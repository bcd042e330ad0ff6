"""Padding and length-bucketed batching for the neural engine (numpy only;
the engine turns batches into tensors and packs them when lengths differ)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["pad_sequences", "length_buckets"]


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


def length_buckets(lengths, batch_size: int, *, shuffle: bool = True, random_state=None) -> list[np.ndarray]:
    """Group sequence indices into batches of similar length.

    Indices are sorted by length (ties broken at random when shuffling) and
    cut into consecutive batches of ``batch_size``; the order of the batches
    is shuffled. Most batches then hold sequences of one length and need no
    packing, which on CPU roughly halves GRU/RNN cost (measured).

    Returns a list of int64 index arrays covering ``range(len(lengths))`` once.
    """
    lengths = np.asarray(lengths)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = check_random_state(random_state)
    tiebreak = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    order = np.lexsort((tiebreak, lengths))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches
