"""The n-gram Markov chain of symbols: the autoregressive model of text.

Pure functions over symbol-id sequences (int64 arrays ``(T_i,)`` with ids in
``0..n_symbols-1``), so that the classifier here and a language model can
share them.

An order-``n`` chain predicts symbol ``s_t`` from its context
``(s_{t-n}, …, s_{t-1})``. Steps before a sequence's start are the padding
symbol ``BOS = n_symbols`` (a context symbol only, never predicted), so the
first ``n`` symbols of a sequence are modelled too, by their own
start-of-sequence contexts. A context is stored as one int64 code in base
``n_symbols + 1``, most recent symbol in the lowest digit; a (context, next)
pair as ``code * n_symbols + next``. Counts are kept only for what was seen
(sorted code arrays), so the memory is linear in the data, not in
``n_symbols ** n``.

Add-``alpha`` smoothing over the full vocabulary:
``P(s | ctx) = (count(ctx, s) + alpha) / (count(ctx) + alpha * n_symbols)``,
which sums to 1 over ``s`` in every context and gives unseen symbols and
unseen contexts probability > 0 (an unseen context gets the uniform
distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from statsmodels.tools import eval_measures

__all__ = [
    "NGramCounts",
    "context_codes",
    "encode_contexts",
    "count_ngrams",
    "transition_log_proba",
    "next_symbol_log_proba",
    "sequence_log_likelihood",
    "mle_log_likelihood",
    "n_free_parameters",
    "select_chain_order",
]

_MAX_CODE = 2**62


@dataclass(frozen=True)
class NGramCounts:
    """Counts of an order-``order`` chain over ``n_symbols`` symbols.

    contexts : (n_seen_contexts,) int64, sorted context codes
    context_totals : (n_seen_contexts,) float64, transitions out of each
    pairs : (n_seen_pairs,) int64, sorted ``context * n_symbols + next`` codes
    pair_counts : (n_seen_pairs,) float64
    """

    order: int
    n_symbols: int
    contexts: np.ndarray
    context_totals: np.ndarray
    pairs: np.ndarray
    pair_counts: np.ndarray

    @property
    def n_transitions(self) -> int:
        return int(self.pair_counts.sum())


def _check_code_range(order: int, n_symbols: int) -> None:
    if (n_symbols + 1) ** order * n_symbols >= _MAX_CODE:
        raise ValueError(
            f"an order-{order} chain over {n_symbols} symbols has too many contexts to encode in 64 bits; "
            "lower the order or the vocabulary size (Tokenizer max_vocab)"
        )


def encode_contexts(contexts: np.ndarray, n_symbols: int) -> np.ndarray:
    """Codes of explicit contexts ``(m, order)`` (oldest symbol first; ``n_symbols`` = BOS), (m,) int64."""
    contexts = np.asarray(contexts, dtype=np.int64)
    order = contexts.shape[1]
    _check_code_range(order, n_symbols)
    weights = (n_symbols + 1) ** np.arange(order - 1, -1, -1, dtype=np.int64)
    return contexts @ weights


def context_codes(sequences, order: int, n_symbols: int, *, start: int = 0):
    """Every modelled step of ``sequences`` as (context code, next symbol).

    Parameters
    ----------
    sequences : list of int64 arrays (T_i,)
    order : int >= 0
    n_symbols : vocabulary size; ids must be below it
    start : first step modelled in each sequence; ``0`` models every symbol
        (contexts padded with BOS), ``order`` only those with a full history

    Returns
    -------
    codes : (n_steps,) int64, targets : (n_steps,) int64, seq_index : (n_steps,) int64
    """
    _check_code_range(order, n_symbols)
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    padded_lengths = lengths + order
    padded = np.full(int(padded_lengths.sum()), n_symbols, dtype=np.int64)  # BOS everywhere …
    position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    real = np.repeat(np.cumsum(padded_lengths) - padded_lengths + order, lengths) + position
    padded[real] = np.concatenate(sequences)  # … then each sequence after its own `order` BOS
    idx = real[position >= start]
    codes = np.zeros(len(idx), dtype=np.int64)
    base = n_symbols + 1
    for k in range(order):  # most recent symbol (k = 0) in the lowest digit
        codes += padded[idx - k - 1] * base**k
    seq_index = np.repeat(np.arange(len(sequences)), lengths)[position >= start]
    return codes, padded[idx], seq_index


def count_ngrams(sequences, order: int, n_symbols: int, *, start: int = 0) -> NGramCounts:
    """Transition counts of ``sequences`` (see :func:`context_codes` for ``start``)."""
    codes, targets, _ = context_codes(sequences, order, n_symbols, start=start)
    pairs, pair_counts = np.unique(codes * n_symbols + targets, return_counts=True)
    contexts, context_totals = np.unique(codes, return_counts=True)
    return NGramCounts(order, n_symbols, contexts, context_totals.astype(float), pairs, pair_counts.astype(float))


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values`` at ``query`` in sorted ``keys``; 0 where absent."""
    if len(keys) == 0:
        return np.zeros(len(query))
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, values[pos], 0.0)


def transition_log_proba(counts: NGramCounts, codes: np.ndarray, targets: np.ndarray, alpha: float) -> np.ndarray:
    """Smoothed ``log P(target | context)`` (nats) of each step, (n_steps,)."""
    V = counts.n_symbols
    pair = _lookup(counts.pairs, counts.pair_counts, codes * V + targets)
    total = _lookup(counts.contexts, counts.context_totals, codes)
    return np.log(pair + alpha) - np.log(total + alpha * V)


def next_symbol_log_proba(counts: NGramCounts, codes: np.ndarray, alpha: float) -> np.ndarray:
    """Smoothed log-distribution of the next symbol after each context, (m, n_symbols)."""
    V = counts.n_symbols
    codes = np.asarray(codes, dtype=np.int64)
    grid = codes[:, None] * V + np.arange(V)
    pair = _lookup(counts.pairs, counts.pair_counts, grid.ravel()).reshape(grid.shape)
    total = _lookup(counts.contexts, counts.context_totals, codes)
    return np.log(pair + alpha) - np.log(total + alpha * V)[:, None]


def sequence_log_likelihood(counts: NGramCounts, sequences, alpha: float, *, start: int = 0) -> np.ndarray:
    """Smoothed log-likelihood (nats) of each sequence's steps ``t >= start``, (n,)."""
    codes, targets, seq_index = context_codes(sequences, counts.order, counts.n_symbols, start=start)
    ll = transition_log_proba(counts, codes, targets, alpha)
    return np.bincount(seq_index, weights=ll, minlength=len(sequences))


def mle_log_likelihood(counts: NGramCounts) -> float:
    """Maximised (unsmoothed) log-likelihood of the counted transitions, nats."""
    totals = _lookup(counts.contexts, counts.context_totals, counts.pairs // counts.n_symbols)
    return float((counts.pair_counts * np.log(counts.pair_counts / totals)).sum())


def n_free_parameters(order: int, n_symbols: int) -> int:
    """Free parameters of a full order-``order`` chain: ``V**order * (V - 1)``."""
    return n_symbols**order * (n_symbols - 1)


def select_chain_order(sequences_by_class, max_order: int, n_symbols: int, criterion: str) -> int:
    """The chain order in ``1..max_order`` with the smallest AIC or BIC.

    Each class's chain is scored by its maximised log-likelihood on the same
    steps for every candidate (``t >= max_order``, so no BOS contexts), with
    :func:`n_free_parameters` parameters and the number of those steps as
    ``nobs``; the criteria (statsmodels' ``eval_measures``) are summed over
    classes.

    Raises
    ------
    ValueError
        When a class has no sequence longer than ``max_order`` symbols.
    """
    ic = eval_measures.aic if criterion == "aic" else eval_measures.bic
    scores = np.zeros(max_order)
    for k, seqs in enumerate(sequences_by_class):
        for p in range(1, max_order + 1):
            counts = count_ngrams(seqs, p, n_symbols, start=max_order)
            if counts.n_transitions == 0:
                raise ValueError(
                    f"order={criterion!r}: class {k} has no sequence longer than max_order={max_order} symbols, "
                    "so chain orders cannot be compared on it; lower max_order or pass a fixed order"
                )
            scores[p - 1] += ic(mle_log_likelihood(counts), counts.n_transitions, n_free_parameters(p, n_symbols))
    return int(np.argmin(scores)) + 1
