"""Generating processes whose best possible score is known, written in plain
numpy so the oracles do not depend on the code under test.

- :func:`ar1_sequences` and :func:`ar1_log_likelihood`: the stationary
  Gaussian AR(1) process and its exact likelihood (the first step under the
  stationary law, every later step given the one before), for the Bayes rule
  between classes that differ in their parameters.
- :class:`EndingChain`: a first-order Markov chain over ``V`` symbols that
  ends after each symbol with a probability of its own, so the end of a
  sequence is an outcome as predictable as a symbol, and its entropy rate
  per outcome (symbols and ends) in closed form.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def ar1_sequences(n: int, length: int, phi: float, rng: np.random.Generator, *, mu: float = 0.0,
                  sigma: float = 1.0) -> np.ndarray:
    """``(n, length)`` stationary paths of ``x_t - mu = phi (x_{t-1} - mu) + e_t``, ``e_t ~ N(0, sigma^2)``."""
    x = np.empty((n, length))
    x[:, 0] = mu + sigma / np.sqrt(1.0 - phi**2) * rng.normal(size=n)
    for t in range(1, length):
        x[:, t] = mu + phi * (x[:, t - 1] - mu) + sigma * rng.normal(size=n)
    return x


def ar1_log_likelihood(x: np.ndarray, phi: float, *, mu: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """Exact log-likelihood (nats) of each row of ``x`` ``(n, T)`` under the stationary AR(1), ``(n,)``."""
    z = x - mu
    first = norm.logpdf(z[:, 0], scale=sigma / np.sqrt(1.0 - phi**2))
    return first + norm.logpdf(z[:, 1:] - phi * z[:, :-1], scale=sigma).sum(axis=1)


def _entropy_bits(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


class EndingChain:
    """Symbols ``0..V-1``: the first from ``start``; after symbol ``s`` the
    sequence ends with probability ``end[s]``, else the next symbol is drawn
    from ``transitions[s]``. ``outcomes[s]`` ``(V + 1,)`` is that next-outcome
    distribution, the end last (id ``V``, as seqbench's language models
    number it)."""

    def __init__(self, start, transitions, end):
        self.start = np.asarray(start, dtype=np.float64)
        self.end = np.asarray(end, dtype=np.float64)
        self.V = len(self.start)
        self.outcomes = np.hstack([np.asarray(transitions) * (1.0 - self.end)[:, None], self.end[:, None]])

    def expected_visits(self) -> np.ndarray:
        """``(V,)`` expected occurrences of each symbol in a sequence:
        ``start (I - Q)^-1``, ``Q`` the symbol-to-symbol part of ``outcomes``
        (the fundamental matrix of the absorbing chain)."""
        return self.start @ np.linalg.inv(np.eye(self.V) - self.outcomes[:, : self.V])

    def mean_length(self) -> float:
        return float(self.expected_visits().sum())

    def entropy_rate_bits(self) -> float:
        """Bits per outcome: the expected information of a sequence (its first
        symbol, then one outcome after each symbol) over its expected number
        of outcomes (length + 1, the end counted), which is what a language
        model's ``bits_per_symbol`` converges to on many sequences."""
        visits = self.expected_visits()
        info = _entropy_bits(self.start) + visits @ np.array([_entropy_bits(row) for row in self.outcomes])
        return float(info / (visits.sum() + 1.0))

    def bits_per_outcome(self, sequences) -> float:
        """The true model's score on ``sequences`` in bits per outcome (the end counted)."""
        total, outcomes = 0.0, 0
        for s in sequences:
            total += np.log2(self.start[s[0]]) + np.log2(self.outcomes[s[:-1], s[1:]]).sum()
            total += np.log2(self.outcomes[s[-1], self.V])
            outcomes += len(s) + 1
        return -total / outcomes

    def sample(self, n: int, rng: np.random.Generator) -> list[np.ndarray]:
        """``n`` int64 sequences (lengths >= 1, drawn by the chain)."""
        out = []
        for _ in range(n):
            s = [rng.choice(self.V, p=self.start)]
            while (k := rng.choice(self.V + 1, p=self.outcomes[s[-1]])) != self.V:
                s.append(k)
            out.append(np.array(s, dtype=np.int64))
        return out


def ending_chain() -> EndingChain:
    """The chain the language-model tests share: 4 symbols, Dirichlet(0.7)
    transitions drawn from seed 0, end probabilities 0.02 to 0.2 (mean length
    about 11 symbols, entropy rate about 1.83 bits per outcome)."""
    transitions = np.random.default_rng(0).dirichlet(np.full(4, 0.7), size=4)
    return EndingChain([0.4, 0.3, 0.2, 0.1], transitions, [0.02, 0.05, 0.1, 0.2])


def mean_end_probability(lm, sequences, V: int) -> np.ndarray:
    """``(V,)``: a fitted language model's probability of the end after every
    prefix of ``sequences``, averaged over the prefixes that end in each
    symbol; for an :class:`EndingChain` the truth is ``end``."""
    prefixes = [s[:k] for s in sequences for k in range(1, len(s) + 1)]
    last = np.array([p[-1] for p in prefixes])
    # the end is the column after the vocabulary: after the V symbols seen and
    # the model's own <unk> (``n_symbols_ = V + 1`` when every symbol was seen)
    p_end = np.exp(lm.next_symbol_log_proba(prefixes)[:, lm.n_symbols_])
    return np.array([p_end[last == s].mean() for s in range(V)])
