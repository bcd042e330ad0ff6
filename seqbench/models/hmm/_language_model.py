"""HMMLanguageModel: a categorical hidden Markov model over the vocabulary
as a language model: exact likelihood by the forward algorithm; sampling.

The end of a sequence is one more emission symbol, id ``V``: every training
sequence is followed by it, so EM learns in which states sequences end, and
``P(s_1 .. s_T, end)`` is the forward probability of the sequence with its
end appended. Generating symbols until the first end is a distribution over
finite sequences (the usual HMM gives each length's sequences probability
one by itself)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import Capabilities
from .._lm_base import LM_CAPABILITY_KINDS, LM_EXPECTED_FAILED_CHECKS, LanguageModelMixin, with_end
from ._fitting import HMMSpec, fit_best_hmm, sequence_log_likelihoods

__all__ = ["HMMLanguageModel", "predictive_log_proba", "filter_step"]


def predictive_log_proba(log_prior: np.ndarray, log_emission: np.ndarray) -> np.ndarray:
    """Next-symbol log-distribution from a log state distribution.

    log_prior : ``(m, K)`` log P(next state | symbols so far);
    log_emission : ``(K, V + 1)`` (symbols and the end). Returns ``(m, V + 1)``:
    ``log sum_k P(state k) P(symbol | k)``.
    """
    return logsumexp(log_prior[:, :, None] + log_emission[None], axis=1)


def filter_step(log_prior: np.ndarray, symbols: np.ndarray, log_emission: np.ndarray, log_transmat: np.ndarray):
    """One step of the forward filter: condition the state distribution on
    the observed ``symbols`` ``(m,)`` and move it one step on; ``(m, K)``."""
    post = log_prior + log_emission[:, symbols].T  # (m, K), unnormalised
    post -= logsumexp(post, axis=1, keepdims=True)
    return logsumexp(post[:, :, None] + log_transmat[None], axis=1)


class HMMLanguageModel(LanguageModelMixin, BaseEstimator):
    """A categorical HMM over the vocabulary, fitted by EM (hmmlearn).

    All training sequences, each followed by the end symbol (id ``V``, see
    the module docstring), go to hmmlearn's ``CategoricalHMM`` in one call
    (concatenated, with ``lengths``). Emissions are smoothed with a Dirichlet
    pseudo-count over the *whole* vocabulary (``<unk>`` and the end
    included), so no symbol has probability zero: with hmmlearn's default
    prior, a symbol never emitted in training makes ``score`` fail with an
    underflow error (measured with hmmlearn 0.3.3). The log-likelihood of a
    sequence is exact (forward algorithm, hmmlearn's ``score``, over the
    sequence and its end).

    ``sample`` draws each symbol from the model's predictive distribution
    given the symbols so far (the forward filter: the state posterior after
    the prompt from hmmlearn's ``predict_proba``, then one filter step per
    drawn symbol), so that temperature, top-k and a prompt apply as for the
    other language models; with ``temperature=1`` and no ``top_k`` this is
    the same distribution as hmmlearn's ancestral ``sample``.

    Parameters
    ----------
    n_components : int >= 1, default=8
        Hidden states (fewer when the training data have fewer steps).
    smoothing : float > 0, default=1.0
        Pseudo-count added to every symbol's emission count in each M-step
        (hmmlearn's ``emissionprob_prior = 1 + smoothing``).
    n_iter : int, default=100
        Most EM iterations per run.
    tol : float, default=1e-2
        EM stops when the training log-likelihood gain (nats) is below ``tol``.
    n_restarts : int, default=1
        EM runs from different seeds; the best training log-likelihood is kept.
    level : {"char", "word"}, default="char"
    tokenizer : Tokenizer or None, default=None
        For text; None means ``Tokenizer(level=level)`` (a given tokenizer
        is used as it is, its own ``level`` included).
    random_state : int, RandomState or None

    Attributes
    ----------
    model_ : the fitted hmmlearn ``CategoricalHMM`` over ``V + 1`` symbols,
        the last one the end (all-zero transition rows of states EM left
        empty are repaired to self-loops)
    fit_report_ : FitReport (log-likelihood, convergence, restarts, messages)
    n_symbols_, input_kind_, tokenizer_, vocabulary_ : see LanguageModelMixin
    """

    capabilities = Capabilities(
        task="language_model", family="hmm", input_kinds=LM_CAPABILITY_KINDS, probabilistic=True
    )
    _expected_failed_checks = LM_EXPECTED_FAILED_CHECKS

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="neither")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_restarts": [Interval(Integral, 1, None, closed="left")],
        "level": [StrOptions({"char", "word"})],
        "tokenizer": [HasMethods(["fit", "transform"]), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=8,
        *,
        smoothing=1.0,
        n_iter=100,
        tol=1e-2,
        n_restarts=1,
        level="char",
        tokenizer=None,
        random_state=None,
    ):
        self.n_components = n_components
        self.smoothing = smoothing
        self.n_iter = n_iter
        self.tol = tol
        self.n_restarts = n_restarts
        self.level = level
        self.tokenizer = tokenizer
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the HMM by EM on ``X`` (strings or symbol-id sequences)."""
        sequences = with_end(self._validate_lm_fit_X(X).sequences, self.n_symbols_)
        X_cat, lengths = _concatenated(sequences)
        spec = HMMSpec(
            emission="categorical",
            n_components=self.n_components,
            n_symbols=self.n_symbols_ + 1,
            topology="ergodic",
            n_iter=self.n_iter,
            tol=self.tol,
            emission_smoothing=self.smoothing,
        )
        base_seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.model_, self.fit_report_ = fit_best_hmm(
            spec, X_cat, lengths, n_restarts=self.n_restarts, base_seed=base_seed
        )
        return self

    def _log_likelihoods(self, sequences) -> np.ndarray:
        """hmmlearn's ``score`` (forward algorithm) of each sequence and its end, nats."""
        check_is_fitted(self, "model_")
        X_cat, lengths = _concatenated(with_end(sequences, self.n_symbols_))
        return sequence_log_likelihoods(self.model_, X_cat, lengths)

    def _logs(self):
        with np.errstate(divide="ignore"):
            return np.log(self.model_.emissionprob_), np.log(self.model_.transmat_)

    def _start(self, prompts, n=None):
        check_is_fitted(self, "model_")
        log_emission, log_transmat = self._logs()
        if prompts is None:
            with np.errstate(divide="ignore"):
                log_prior = np.tile(np.log(self.model_.startprob_), (n, 1))
        else:
            # hmmlearn's forward-backward: the posterior at a prompt's last step
            # is the filtered state distribution; one transition gives the prior
            # of the next state.
            lengths = np.fromiter((len(p) for p in prompts), dtype=np.int64, count=len(prompts))
            with np.errstate(under="ignore"):
                post = self.model_.predict_proba(np.concatenate(prompts)[:, None], lengths)[np.cumsum(lengths) - 1]
            with np.errstate(divide="ignore"):
                log_prior = np.log(post @ self.model_.transmat_)
        return predictive_log_proba(log_prior, log_emission), log_prior

    def _step(self, log_prior, symbols):
        log_emission, log_transmat = self._logs()
        log_prior = filter_step(log_prior, symbols, log_emission, log_transmat)
        return predictive_log_proba(log_prior, log_emission), log_prior


def _concatenated(sequences) -> tuple[np.ndarray, np.ndarray]:
    """hmmlearn's input: symbol ids ``(sum T_i, 1)`` and ``lengths`` ``(n,)``."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    return np.concatenate(sequences)[:, None], lengths
