"""Text from a known Markov chain over characters, with its entropy rate.

The chain has order ``order`` (the next character depends on the previous
``order`` characters) over ``alphabet``. Its transition table, one
``Dirichlet(concentration)`` row per context, is drawn from ``chain_seed``,
so the chain is fixed by the options while ``random_state`` draws the text.
Each string starts from the stationary distribution of the contexts, so every
position of every string follows the stationary process.

Oracle: the entropy rate ``H = sum_c pi(c) H(P(. | c))`` in bits per
character (analytic: ``pi`` is the stationary distribution over contexts),
and the true model's bits per character on the test split (the first
``order`` characters of a string scored under ``pi``, the rest under the
transition table), against the add-one unigram of the training split.
"""

from __future__ import annotations

import numpy as np

from ._dataset import Dataset

__all__ = ["make_markov_text", "MarkovChain"]


class MarkovChain:
    """An order-``k`` chain over ``V`` symbols: ``table`` ``(V**k, V)`` gives
    ``P(next | context)``; a context ``(a_1..a_k)`` has index
    ``sum_i a_i V**(k-i)`` (base-V number, oldest symbol first)."""

    def __init__(self, table: np.ndarray, order: int):
        self.table = np.asarray(table, dtype=np.float64)
        self.order = order
        self.n_symbols = self.table.shape[1]
        if self.table.shape[0] != self.n_symbols**order:
            raise ValueError(
                f"table has {self.table.shape[0]} rows; an order-{order} chain needs {self.n_symbols**order}"
            )

    def context_transitions(self) -> np.ndarray:
        """``(V**k, V**k)``: the chain on contexts (context -> shifted context)."""
        n_ctx, v = self.table.shape
        nxt = (np.arange(n_ctx)[:, None] * v) % n_ctx + np.arange(v)[None, :]
        q = np.zeros((n_ctx, n_ctx))
        np.add.at(q, (np.repeat(np.arange(n_ctx), v), nxt.ravel()), self.table.ravel())
        return q

    def stationary(self) -> np.ndarray:
        """``pi`` ``(V**k,)``: solves ``pi Q = pi``, ``sum pi = 1`` (least squares)."""
        q = self.context_transitions()
        n = len(q)
        a = np.vstack([q.T - np.eye(n), np.ones((1, n))])
        b = np.concatenate([np.zeros(n), [1.0]])
        pi = np.linalg.lstsq(a, b, rcond=None)[0]
        return np.clip(pi, 0.0, None) / np.clip(pi, 0.0, None).sum()

    def entropy_rate(self) -> float:
        """Bits per symbol: ``sum_c pi(c) H(P(. | c))``."""
        p = self.table
        h_rows = -np.sum(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0), axis=1)
        return float(self.stationary() @ h_rows)

    def sample(self, n: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """``(n, length)`` int64 symbol ids, each row a stationary path."""
        if length < self.order:
            raise ValueError(f"length ({length}) must be >= the chain's order ({self.order})")
        out = np.empty((n, length), dtype=np.int64)
        ctx = rng.choice(len(self.table), size=n, p=self.stationary())
        for i in range(self.order):  # unpack the start context, oldest symbol first
            out[:, i] = ctx // self.n_symbols ** (self.order - 1 - i) % self.n_symbols
        cdf = np.cumsum(self.table, axis=1)
        for t in range(self.order, length):
            u = rng.random(n)[:, None]
            out[:, t] = np.minimum((cdf[ctx] < u).sum(axis=1), self.n_symbols - 1)
            ctx = (ctx * self.n_symbols) % len(self.table) + out[:, t]
        return out

    def log2_likelihood(self, seqs: np.ndarray) -> float:
        """Total log2-probability of the rows of ``seqs`` ``(n, T)``."""
        k, v = self.order, self.n_symbols
        ctx = np.zeros(len(seqs), dtype=np.int64)
        for i in range(k):
            ctx = ctx * v + seqs[:, i]
        total = np.log2(self.stationary()[ctx]).sum()
        for t in range(k, seqs.shape[1]):
            total += np.log2(self.table[ctx, seqs[:, t]]).sum()
            ctx = (ctx * v) % len(self.table) + seqs[:, t]
        return float(total)


def make_markov_text(
    *, n_train=100, n_test=50, length=200, order=2, alphabet="abcdefg ", concentration=0.5, chain_seed=0,
    random_state=0,
) -> Dataset:  # fmt: skip
    """Language modelling on strings of ``length`` characters from a known
    order-``order`` Markov chain. ``meta["oracle"]["entropy_rate_bits"]`` is
    the analytic entropy rate; ``bits_per_symbol`` the true model on the test
    split; ``meta["params"]`` holds the transition table."""
    options = dict(locals())
    if len(set(alphabet)) != len(alphabet) or len(alphabet) < 2:
        raise ValueError(f"alphabet must hold at least 2 distinct characters, got {alphabet!r}")
    if order < 1 or concentration <= 0:
        raise ValueError(f"need order >= 1 and concentration > 0, got order={order}, concentration={concentration}")
    v = len(alphabet)
    table = np.random.default_rng(chain_seed).dirichlet(np.full(v, float(concentration)), size=v**order)
    chain = MarkovChain(table, order)
    ids = chain.sample(n_train + n_test, length, np.random.default_rng(random_state))
    chars = np.array(list(alphabet))
    texts = ["".join(chars[row]) for row in ids]
    counts = np.bincount(ids[:n_train].ravel(), minlength=v) + 1.0
    n_test_chars = ids[n_train:].size
    oracle = {
        "bits_per_symbol": -chain.log2_likelihood(ids[n_train:]) / n_test_chars,
        "entropy_rate_bits": chain.entropy_rate(),
        "baseline_bits_per_symbol": float(-np.log2(counts / counts.sum())[ids[n_train:]].sum() / n_test_chars),
    }
    meta = {"options": options, "oracle": oracle, "alphabet": alphabet, "params": {"table": table, "order": order}}
    return Dataset("markov_text", "language_model", texts[:n_train], None, texts[n_train:], None, meta)
