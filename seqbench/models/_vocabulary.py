"""Symbol vocabularies: the ids a model saw in ``fit``, numbered densely.

Symbol ids are names, not sizes: a model fitted on ids ``{0, 1, 10**9}``
has three symbols, not a billion. Every symbol model therefore keeps the
sorted distinct ids it saw (its ``vocabulary_``, ``K`` of them) and works on
their positions ``0 .. K-1``; any other id reads as ``<unk>``, position
``K``. Its parameters follow ``K + 1``, never the largest id, and dense data
(ids ``0 .. K-1``, all seen) keeps its ids, so its columns keep their
meaning. Text needs none of this: the Tokenizer's ids are dense already,
with ``<unk>`` at 0.

Distinct symbols are never more than the steps of the training data, so no
cap is placed on their number: a model's memory is bounded by its per-symbol
width times the data the caller already holds, as for text.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_vocabulary", "encode_symbols", "decode_symbols"]


def fit_vocabulary(sequences) -> np.ndarray:
    """The sorted distinct ids of int64 symbol sequences ``(T_i,)``: int64 ``(K,)``."""
    return np.unique(np.concatenate(sequences))


def encode_symbols(sequences, vocabulary: np.ndarray) -> list[np.ndarray]:
    """Each sequence's ids as positions in ``vocabulary``, int64 ``(T_i,)``;
    an id outside it becomes ``len(vocabulary)``, the ``<unk>`` position."""
    flat = np.concatenate(sequences)
    position = np.searchsorted(vocabulary, flat)
    seen = vocabulary[np.minimum(position, len(vocabulary) - 1)] == flat
    codes = np.where(seen, position, len(vocabulary)).astype(np.int64)
    return np.split(codes, np.cumsum([len(s) for s in sequences])[:-1])


def decode_symbols(codes, vocabulary: np.ndarray) -> np.ndarray:
    """Positions ``0 .. K-1`` back to the original ids, int64, same shape."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= len(vocabulary)):
        raise ValueError(
            f"positions must lie in 0..{len(vocabulary) - 1}; position {len(vocabulary)} is <unk>, which stands "
            "for every unseen id and has no id of its own"
        )
    return vocabulary[codes]
