"""What every language model shares (the one-to-many task):
text handling through the tokenizer at ``level="char" | "word"``, the
scoring methods, and sampling with temperature, top-k and a prompt.

A language model gives every symbol of a sequence a probability given the
symbols before it, starting from the beginning of the sequence (the first
symbol is predicted from the start-of-sequence context; the end of a
sequence is not modelled). ``X`` is a list of strings (tokenized by the
model's tokenizer, ``<unk>`` = id 0) or of symbol-id sequences (a 2-D
integer array is read as one symbol sequence per row). Units: natural log
(nats) for log-likelihoods, bits for :meth:`bits_per_symbol`.

A concrete model implements three hooks over int64 symbol-id arrays:

- ``_log_likelihoods(sequences) -> (n,)``: log-likelihood of each sequence;
- ``_start(prompts) -> (log_proba (n, V), state)``: the next-symbol
  distribution after each prompt (``prompts=None``: after the start of a
  sequence, for ``n`` copies), and a state to continue from;
- ``_step(state, symbols) -> (log_proba (n, V), state)``: feed one symbol
  per row, get the next distribution.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..data import SequenceCollection, Tokenizer, check_sequences
from ._base import Capabilities, SequenceInputMixin, _tokenized
from ._tagging_base import SKLEARN_DATA_CHECKS

__all__ = ["LanguageModelMixin", "sample_from_log_proba", "LM_CAPABILITY_KINDS", "LM_EXPECTED_FAILED_CHECKS"]

LM_CAPABILITY_KINDS = frozenset({"symbol", "text"})

_NOT_SYMBOLS = (
    "scikit-learn's check fits on real-valued (non-integer) 2-D data; a language model reads each row as a "
    "sequence of symbol ids, so fit raises a ValueError naming the row with a non-integer id"
)
LM_EXPECTED_FAILED_CHECKS: dict[str, str] = {name: _NOT_SYMBOLS for name in SKLEARN_DATA_CHECKS}


def sample_from_log_proba(log_proba: np.ndarray, temperature: float, top_k, rng) -> np.ndarray:
    """Draw one symbol per row of a next-symbol log-distribution.

    Parameters
    ----------
    log_proba : ``(m, V)`` natural-log probabilities (rows sum to 1 in probability)
    temperature : float > 0; the distribution is ``softmax(log_proba / temperature)``
    top_k : int >= 1 or None; keep only the ``top_k`` most probable symbols of
        each row (ties with the ``top_k``-th are kept too)
    rng : numpy RandomState

    Returns
    -------
    int64 array ``(m,)`` of symbol ids.
    """
    z = np.asarray(log_proba, dtype=np.float64) / temperature
    V = z.shape[1]
    if top_k is not None and top_k < V:
        kth = np.partition(z, V - top_k, axis=1)[:, V - top_k : V - top_k + 1]
        z = np.where(z >= kth, z, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    cdf = np.cumsum(p, axis=1)
    u = rng.random_sample(len(z))[:, None] * cdf[:, -1:]
    return np.minimum((cdf <= u).sum(axis=1), V - 1).astype(np.int64)


class LanguageModelMixin(SequenceInputMixin):
    """Validation, scoring and sampling shared by every language model.

    Expects the parameters ``level`` ("char" or "word") and ``tokenizer``
    (a Tokenizer, or None for ``Tokenizer(level=level)``; when given, it is
    used as it is, its own ``level`` included).
    """

    capabilities: Capabilities

    # -- validation ---------------------------------------------------------------------
    def _validate_lm_fit_X(self, X) -> SequenceCollection:
        """Validate training sequences; fit the tokenizer on text.

        Sets ``input_kind_`` ("symbol" or "text"), ``n_symbols_`` (vocabulary
        size ``V``, ``<unk>`` included for text), ``n_features_in_`` (1) and,
        for text, ``tokenizer_``. Returns symbol-id sequences.
        """
        coll = check_sequences(X, kind="symbol", allow_text=True)
        self.input_kind_ = coll.kind
        if coll.kind == "text":
            tok = clone(self.tokenizer) if self.tokenizer is not None else Tokenizer(level=self.level)
            self.tokenizer_ = tok.fit(coll.sequences)
            coll = _tokenized(self.tokenizer_, coll)
            self.n_symbols_ = self.tokenizer_.n_symbols_
        else:
            self.n_symbols_ = coll.n_symbols
        self.n_features_in_ = 1
        return coll

    def _sequences(self, X) -> list[np.ndarray]:
        """Validated symbol-id sequences of ``X`` at scoring time."""
        check_is_fitted(self, "input_kind_")
        return self._validate_predict_X(X).sequences

    # -- scoring ------------------------------------------------------------------------
    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each sequence, ``(n,)``, in nats (natural log):
        the sum over its symbols of ``log P(symbol | symbols before it)``."""
        return np.asarray(self._log_likelihoods(self._sequences(X)), dtype=np.float64)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per symbol (nats) over all symbols of ``X``
        (total log-likelihood / total number of symbols); higher is better."""
        seqs = self._sequences(X)
        return float(np.sum(self._log_likelihoods(seqs)) / sum(len(s) for s in seqs))

    def bits_per_symbol(self, X) -> float:
        """Cross-entropy of ``X`` under the model in bits per symbol
        (``-score(X) / ln 2``); lower is better."""
        return -self.score(X) / math.log(2)

    def next_symbol_log_proba(self, X) -> np.ndarray:
        """Log-distribution (nats) of the symbol that follows each sequence of
        ``X``, ``(n, n_symbols_)``; columns are symbol ids (``tokenizer_.symbols_``
        for text). Every row sums to 1 in probability."""
        log_proba, _ = self._start(self._sequences(X))
        return log_proba

    # -- sampling -----------------------------------------------------------------------
    def sample(self, n_samples=1, length=100, *, prompt=None, temperature=1.0, top_k=None, random_state=None):
        """Generate sequences from the model.

        Parameters
        ----------
        n_samples : int >= 1
        length : int >= 1
            Symbols generated after the prompt (characters or words for text).
        prompt : str, array-like of symbol ids, or None
            The beginning of every sample; the model continues it as if it
            were the start of a sequence. A text prompt is tokenized like the
            training text: symbols outside the vocabulary become ``<unk>`` and
            condition the model as ``<unk>`` does; a prompt with *only*
            unknown symbols raises a ValueError (the model would condition on
            nothing but ``<unk>``). Symbol ids must lie in ``0..n_symbols_-1``.
        temperature : float > 0
            Divides the log-probabilities before sampling: < 1 sharper, > 1 flatter.
        top_k : int >= 1 or None
            Sample among the ``top_k`` most probable symbols only.
        random_state : int, RandomState or None

        Returns
        -------
        list of ``n_samples`` strings (text models: the prompt followed by the
        generated characters, or words joined by spaces) or int64 arrays
        (symbol models: prompt ids followed by ``length`` generated ids).
        ``<unk>`` is a symbol of the vocabulary like any other: a text model
        may draw it (with the small probability it has) and writes it as
        ``"<unk>"``.
        """
        check_is_fitted(self, "input_kind_")
        _check_sampling_args(n_samples, length, temperature, top_k)
        prompt_ids = self._prompt_ids(prompt)
        rng = check_random_state(random_state)
        if prompt_ids is None:
            log_proba, state = self._start(None, n_samples)
        else:
            log_proba, state = self._start([prompt_ids] * n_samples)
        out = np.empty((n_samples, length), dtype=np.int64)
        for t in range(length):  # generation: one step at a time by nature
            out[:, t] = sample_from_log_proba(log_proba, temperature, top_k, rng)
            if t + 1 < length:
                log_proba, state = self._step(state, out[:, t])
        return self._decode_samples(out, prompt, prompt_ids)

    def _prompt_ids(self, prompt) -> np.ndarray | None:
        if prompt is None:
            return None
        if self.input_kind_ == "text":
            if not isinstance(prompt, str):
                raise TypeError(
                    f"prompt must be a string (or None) for a model fitted on text, got {type(prompt).__name__}"
                )
            if not prompt:
                raise ValueError("prompt is an empty string; pass None to sample from the start of a sequence")
            ids = self.tokenizer_.transform([prompt])[0]
            if len(ids) == 0 or not ids.any():
                raise ValueError(
                    f"prompt {prompt[:40]!r} has no symbol in the model's vocabulary (every {self.tokenizer_.level} "
                    "of it maps to <unk>, or it has no tokens), so there is nothing to condition on; use symbols "
                    "seen in training or prompt=None"
                )
            return ids
        if isinstance(prompt, str):
            raise TypeError("prompt is a string, but the model was fitted on symbol ids; pass an array of ids")
        return check_sequences([prompt], kind="symbol", n_symbols=self.n_symbols_, name="prompt")[0]

    def _decode_samples(self, out: np.ndarray, prompt, prompt_ids):
        if self.input_kind_ != "text":
            head = np.zeros(0, dtype=np.int64) if prompt_ids is None else prompt_ids
            return [np.concatenate([head, row]) for row in out]
        texts = self.tokenizer_.inverse_transform(out)
        if prompt is None:
            return texts
        sep = "" if self.tokenizer_.level == "char" else " "
        return [prompt + sep + t for t in texts]

    # -- hooks ----------------------------------------------------------------------------
    def _log_likelihoods(self, sequences) -> np.ndarray:
        raise NotImplementedError

    def _start(self, prompts, n=None):
        raise NotImplementedError

    def _step(self, state, symbols):
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        return tags


def _check_sampling_args(n_samples, length, temperature, top_k) -> None:
    if not isinstance(n_samples, Integral) or isinstance(n_samples, bool) or n_samples < 1:
        raise ValueError(f"n_samples must be an int >= 1, got {n_samples!r}")
    if not isinstance(length, Integral) or isinstance(length, bool) or length < 1:
        raise ValueError(f"length must be an int >= 1, got {length!r}")
    if not isinstance(temperature, Real) or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be a finite number > 0, got {temperature!r}; use a small value such as 0.1 "
            "for nearly greedy sampling, 1.0 for the model's own distribution"
        )
    if top_k is not None and (not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
