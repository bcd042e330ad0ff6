"""NGramLanguageModel: the order-``n`` Markov chain of symbols as a language
model, with Kneser-Ney, Witten-Bell or add-k smoothing.

The smoothing is written here as pure functions over count tables. The
contexts, their BOS padding and their integer codes are those of
``_markov`` (the AR family's chain): context of length ``m`` = the ``m``
symbols before a step, BOS = ``n_symbols`` before a sequence's start, code in
base ``n_symbols + 1`` with the most recent symbol in the lowest digit, so
the length-``m`` suffix of a code is ``code % (n_symbols + 1) ** m``.

The end of a sequence is an outcome like a symbol (``</s>`` of Chen &
Goodman): the estimator appends the end id ``V`` to every sequence and
counts over ``V + 1`` outcomes, so the tables' ``n_symbols`` is ``V + 1``
and their BOS is ``V + 1``. The end is predicted, never a context (nothing
follows it), so the functions below need no special case for it.

Why hand-written: no maintained Python library does interpolated
Kneser-Ney / Witten-Bell over integer symbol ids with vectorised scoring
(NLTK's ``nltk.lm`` works on strings one n-gram at a time and leaves
probability mass unassigned in unseen contexts). The formulas follow
Chen & Goodman (1998), "An empirical study of smoothing techniques for
language modeling":

- interpolated Kneser-Ney, one discount ``D_m`` per order:
  ``P_m(w|h) = max(c(h,w) - D_m, 0) / c(h) + D_m N1+(h•) / c(h) · P_{m-1}(w|h')``,
  where ``c`` is the raw count at the highest order and the continuation
  count ``N1+(•h w)`` (distinct left extensions) at lower orders, and
  ``h'`` drops the oldest symbol of ``h``;
- interpolated Witten-Bell:
  ``P_m(w|h) = (c(h,w) + N1+(h•) · P_{m-1}(w|h')) / (c(h) + N1+(h•))``;
- add-k (highest order only): ``(c(h,w) + k) / (c(h) + k V)``.

The recursion bottoms out in the uniform distribution ``1/V`` over the
tables' alphabet, and a context never seen falls back to the next lower
order, so every distribution sums to one over all its outcomes (every
symbol, ``<unk>`` and the end included) and gives each a probability above
zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities
from .._lm_base import LM_CAPABILITY_KINDS, LM_EXPECTED_FAILED_CHECKS, LanguageModelMixin, with_end
from ._markov import context_codes

__all__ = [
    "NGramLanguageModel",
    "OrderTable",
    "NGramTables",
    "build_tables",
    "step_log_proba",
    "next_log_proba",
    "last_context_codes",
    "SMOOTHINGS",
]

SMOOTHINGS = ("kneser-ney", "witten-bell", "add-k")
_MIN_DISCOUNT = 0.1


@dataclass(frozen=True)
class OrderTable:
    """Counts for contexts of one length ``m``.

    pairs : (p,) int64 sorted ``context_code * V + symbol`` codes seen
    counts : (p,) float64 raw counts (or continuation counts, Kneser-Ney lower orders)
    contexts : (c,) int64 sorted context codes seen
    totals : (c,) float64 sum of ``counts`` over the symbols of each context
    types : (c,) float64 number of distinct symbols seen after each context, ``N1+(h•)``
    discount : float, Kneser-Ney's ``D_m`` (0 for the other smoothings)
    """

    pairs: np.ndarray
    counts: np.ndarray
    contexts: np.ndarray
    totals: np.ndarray
    types: np.ndarray
    discount: float


@dataclass(frozen=True)
class NGramTables:
    """A fitted n-gram model: ``tables[m]`` for context length ``m = 0 .. n-1``."""

    n: int
    n_symbols: int
    smoothing: str
    k: float
    tables: tuple


def _table(pairs: np.ndarray, counts: np.ndarray, V: int, discount: float) -> OrderTable:
    contexts, inverse = np.unique(pairs // V, return_inverse=True)
    totals = np.bincount(inverse, weights=counts, minlength=len(contexts))
    types = np.bincount(inverse, minlength=len(contexts)).astype(np.float64)
    return OrderTable(pairs, counts, contexts, totals, types, discount)


def _kn_discount(counts: np.ndarray, fixed: float | None) -> float:
    """``n1 / (n1 + 2 n2)`` (Ney et al.), kept within ``[0.1, 1]``; ``fixed`` if given."""
    if fixed is not None:
        return float(fixed)
    n1, n2 = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
    estimate = n1 / (n1 + 2 * n2) if n1 + n2 else 0.5
    return float(min(max(estimate, _MIN_DISCOUNT), 1.0))


def build_tables(sequences, n: int, n_symbols: int, smoothing: str, *, k: float = 1.0, discount=None) -> NGramTables:
    """Count the n-grams of ``sequences`` (list of int64 ``(T_i,)``) for every
    context length ``0 .. n-1``.

    The highest order holds raw counts. Lower orders hold raw counts for
    Witten-Bell and continuation counts (number of distinct symbols seen
    before the n-gram) for Kneser-Ney; add-k uses the highest order only.
    """
    V, base = n_symbols, n_symbols + 1
    codes, targets, _ = context_codes(sequences, n - 1, V)
    pairs, counts = np.unique(codes * V + targets, return_counts=True)
    counts = counts.astype(np.float64)
    kn = smoothing == "kneser-ney"
    tables = [None] * n
    tables[n - 1] = _table(pairs, counts, V, _kn_discount(counts, discount) if kn else 0.0)
    if smoothing == "add-k":
        return NGramTables(n, V, smoothing, float(k), tuple(tables))
    for m in range(n - 2, -1, -1):
        upper = tables[m + 1]
        lower = (upper.pairs // V) % base**m * V + upper.pairs % V
        pairs, inverse = np.unique(lower, return_inverse=True)
        weights = None if kn else upper.counts  # distinct left extensions, or summed raw counts
        counts = np.bincount(inverse, weights=weights, minlength=len(pairs)).astype(np.float64)
        tables[m] = _table(pairs, counts, V, _kn_discount(counts, discount) if kn else 0.0)
    return NGramTables(n, V, smoothing, float(k), tuple(tables))


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values`` at ``query`` in sorted ``keys``; 0 where absent."""
    if len(keys) == 0:
        return np.zeros(len(query))
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return np.where(keys[pos] == query, values[pos], 0.0)


def step_log_proba(model: NGramTables, codes: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Smoothed ``log P(target | context)`` in nats for each step.

    codes : (N,) int64 codes of full contexts (length ``n - 1``);
    targets : (N,) int64 symbol ids. Returns (N,) float64.
    """
    V, base = model.n_symbols, model.n_symbols + 1
    codes, targets = np.asarray(codes, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    if model.smoothing == "add-k":
        t = model.tables[-1]
        c_hw = _lookup(t.pairs, t.counts, codes * V + targets)
        c_h = _lookup(t.contexts, t.totals, codes)
        return np.log(c_hw + model.k) - np.log(c_h + model.k * V)
    p = np.full(len(codes), 1.0 / V)
    for m, t in enumerate(model.tables):
        ctx = codes % base**m
        c_hw = _lookup(t.pairs, t.counts, ctx * V + targets)
        c_h = _lookup(t.contexts, t.totals, ctx)
        types = _lookup(t.contexts, t.types, ctx)
        seen = c_h > 0
        c_h = np.where(seen, c_h, 1.0)  # unseen contexts keep the lower order (masked below)
        if model.smoothing == "kneser-ney":
            higher = (np.maximum(c_hw - t.discount, 0.0) + t.discount * types * p) / c_h
        else:  # witten-bell
            higher = (c_hw + types * p) / (c_h + types)
        p = np.where(seen, higher, p)
    return np.log(p)


def next_log_proba(model: NGramTables, codes: np.ndarray) -> np.ndarray:
    """Log-distribution of the next symbol after each full context, ``(m, V)``."""
    codes = np.asarray(codes, dtype=np.int64)
    V = model.n_symbols
    grid_codes = np.repeat(codes, V)
    grid_targets = np.tile(np.arange(V, dtype=np.int64), len(codes))
    return step_log_proba(model, grid_codes, grid_targets).reshape(len(codes), V)


def last_context_codes(sequences, order: int, n_symbols: int) -> np.ndarray:
    """Code of the context that follows each sequence: its last ``order``
    symbols, BOS-padded when shorter (an empty sequence gives the
    start-of-sequence context). Returns ``(n,)`` int64."""
    base = n_symbols + 1
    weights = base ** np.arange(order, dtype=np.int64)  # most recent symbol in the lowest digit
    out = np.zeros(len(sequences), dtype=np.int64)
    for i, s in enumerate(sequences):
        padded = np.concatenate([np.full(order, n_symbols, dtype=np.int64), np.asarray(s, dtype=np.int64)])
        out[i] = padded[len(padded) - order :][::-1] @ weights
    return out


class NGramLanguageModel(LanguageModelMixin, BaseEstimator):
    """Order-``n`` Markov chain of symbols (an n-gram model) as a language model.

    ``P(s_t | s_{t-n+1} .. s_{t-1})``, with contexts before a sequence's
    start padded by a start symbol and the end of the sequence predicted
    after its last symbol like a symbol, smoothed so that every symbol of
    the vocabulary (``<unk>`` included) and the end have a
    probability above zero in every context, and the probabilities sum to one.

    Parameters
    ----------
    n : int >= 1, default=3
        Order of the model: the symbol and ``n - 1`` symbols of context
        (``n=1``: unigram, ``n=3``: trigram).
    smoothing : {"kneser-ney", "witten-bell", "add-k"}, default="kneser-ney"
        Interpolated Kneser-Ney or Witten-Bell (back to lower orders and
        finally the uniform distribution), or add-k on the highest order.
    k : float > 0, default=1.0
        Pseudo-count of add-k smoothing (add-one by default); unused otherwise.
    discount : float in (0, 1] or None, default=None
        Kneser-Ney's absolute discount; None estimates one per order as
        ``n1 / (n1 + 2 n2)`` (counts of counts), kept within ``[0.1, 1]``.
    level : {"char", "word"}, default="char"
        Tokenizer level for text input.
    tokenizer : Tokenizer or None, default=None
        For text; None means ``Tokenizer(level=level)``. When given it is
        cloned and used as it is (its own ``level`` wins).

    Attributes
    ----------
    tables_ : NGramTables, the counts of every order over ``V + 1`` outcomes
        (the end is id ``V``; the tables' BOS is ``V + 1``)
    n_symbols_ : int, vocabulary size ``V`` (``<unk>`` included)
    input_kind_ : "symbol" or "text"; tokenizer_ : fitted Tokenizer (text);
    vocabulary_ : sorted ids seen in ``fit`` (symbol ids; see LanguageModelMixin)

    Examples
    --------
    >>> lm = NGramLanguageModel(n=3).fit(["abracadabra", "cadabra"])
    >>> round(lm.bits_per_symbol(["abracadabra"]), 2) < 2.5
    True
    """

    capabilities = Capabilities(
        task="language_model", family="autoregressive", input_kinds=LM_CAPABILITY_KINDS, probabilistic=True
    )
    _expected_failed_checks = LM_EXPECTED_FAILED_CHECKS

    _parameter_constraints: dict = {
        "n": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [StrOptions(set(SMOOTHINGS))],
        "k": [Interval(Real, 0, None, closed="neither")],
        "discount": [Interval(Real, 0, 1, closed="right"), None],
        "level": [StrOptions({"char", "word"})],
        "tokenizer": [HasMethods(["fit", "transform"]), None],
    }

    def __init__(self, n=3, *, smoothing="kneser-ney", k=1.0, discount=None, level="char", tokenizer=None):
        self.n = n
        self.smoothing = smoothing
        self.k = k
        self.discount = discount
        self.level = level
        self.tokenizer = tokenizer

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Count the n-grams of ``X`` (strings or symbol-id sequences)."""
        seqs = with_end(self._validate_lm_fit_X(X).sequences, self.n_symbols_)
        self.tables_ = build_tables(seqs, self.n, self.n_symbols_ + 1, self.smoothing, k=self.k, discount=self.discount)
        return self

    def _log_likelihoods(self, sequences) -> np.ndarray:
        check_is_fitted(self, "tables_")
        codes, targets, seq_index = context_codes(
            with_end(sequences, self.n_symbols_), self.n - 1, self.tables_.n_symbols
        )
        ll = step_log_proba(self.tables_, codes, targets)
        return np.bincount(seq_index, weights=ll, minlength=len(sequences))

    def _start(self, prompts, n=None):
        check_is_fitted(self, "tables_")
        if prompts is None:
            prompts = [np.zeros(0, dtype=np.int64)] * n
        codes = last_context_codes(prompts, self.n - 1, self.tables_.n_symbols)
        return next_log_proba(self.tables_, codes), codes

    def _step(self, codes, symbols):
        base = self.tables_.n_symbols + 1
        codes = (codes * base + symbols) % base ** (self.n - 1)
        return next_log_proba(self.tables_, codes), codes
