"""What every language model shares (the one-to-many task):
text handling through the tokenizer at ``level="char" | "word"``, the
scoring methods, and sampling with temperature, top-k and a prompt.

A language model gives every symbol of a sequence a probability given the
symbols before it, starting from the beginning of the sequence (the first
symbol is predicted from the start-of-sequence context), and then gives the
*end* of the sequence a probability too: after the last symbol the model
predicts the end-of-sequence outcome, id ``V = n_symbols_``. Every
next-symbol distribution is over ``V + 1`` outcomes (the vocabulary, and the
end), so the model is a distribution over finite sequences: the sequences
of every length together have probability one, as in a probabilistic
grammar or an n-gram model with ``</s>`` (Chen & Goodman 1998; KenLM, SRILM),
and a short sequence is not favoured just because it has fewer symbols to
pay for. ``X`` is a list of strings (tokenized by the model's tokenizer,
``<unk>`` = id 0) or of symbol-id sequences (a 2-D integer array is read as
one symbol sequence per row; the ids seen in ``fit`` become ``0 .. K-1`` in
sorted order and every other id ``<unk>`` = ``K``, see ``_vocabulary``, so
``V = K + 1``). ``<unk>`` is never sampled. Units: natural log (nats) for log-likelihoods,
bits for :meth:`bits_per_symbol`.

A concrete model implements three hooks over int64 symbol-id arrays:

- ``_log_likelihoods(sequences) -> (n,)``: log-likelihood of each sequence,
  its end included;
- ``_start(prompts) -> (log_proba (n, V + 1), state)``: the next-outcome
  distribution after each prompt (``prompts=None``: after the start of a
  sequence, for ``n`` copies), and a state to continue from;
- ``_step(state, symbols) -> (log_proba (n, V + 1), state)``: feed one
  symbol per row, get the next distribution.
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
from ._vocabulary import decode_symbols

__all__ = [
    "LanguageModelMixin",
    "sample_from_log_proba",
    "with_end",
    "LM_CAPABILITY_KINDS",
    "LM_EXPECTED_FAILED_CHECKS",
]

LM_CAPABILITY_KINDS = frozenset({"symbol", "text"})

_NOT_SYMBOLS = (
    "scikit-learn's check fits on real-valued (non-integer) 2-D data; a language model reads each row as a "
    "sequence of symbol ids, so fit raises a ValueError naming the row with a non-integer id"
)
LM_EXPECTED_FAILED_CHECKS: dict[str, str] = {name: _NOT_SYMBOLS for name in SKLEARN_DATA_CHECKS}


def with_end(sequences, end: int) -> list[np.ndarray]:
    """Each int64 sequence ``(T_i,)`` followed by the end id, ``(T_i + 1,)``."""
    return [np.append(np.asarray(s, dtype=np.int64), np.int64(end)) for s in sequences]


def sample_from_log_proba(log_proba: np.ndarray, temperature: float, top_k, rng, exclude=()) -> np.ndarray:
    """Draw one symbol per row of a next-symbol log-distribution.

    Parameters
    ----------
    log_proba : ``(m, V)`` natural-log probabilities (rows sum to 1 in probability)
    temperature : float > 0; the distribution is ``softmax(log_proba / temperature)``
    top_k : int >= 1 or None; keep only the ``top_k`` most probable symbols of
        each row (ties with the ``top_k``-th are kept too)
    rng : numpy RandomState
    exclude : ids never drawn; the distribution is renormalised over the
        others (before ``top_k`` picks among them)

    Returns
    -------
    int64 array ``(m,)`` of symbol ids.
    """
    z = np.asarray(log_proba, dtype=np.float64) / temperature
    V = z.shape[1]
    if len(exclude):
        z = z.copy()
        z[:, list(exclude)] = -np.inf
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
        size ``V``, ``<unk>`` included), ``n_features_in_`` (1) and, for
        text, ``tokenizer_``, for symbol ids ``vocabulary_`` (the sorted ids
        seen). Returns symbol-id sequences in the model's numbering.
        """
        coll = check_sequences(X, kind="symbol", allow_text=True)
        self.input_kind_ = coll.kind
        if coll.kind == "text":
            tok = clone(self.tokenizer) if self.tokenizer is not None else Tokenizer(level=self.level)
            self.tokenizer_ = tok.fit(coll.sequences)
            coll = _tokenized(self.tokenizer_, coll)
            self.n_symbols_ = self.tokenizer_.n_symbols_
        else:
            coll = self._fit_symbol_vocabulary(coll)
        self.n_features_in_ = 1
        return coll

    def _sequences(self, X) -> list[np.ndarray]:
        """Validated symbol-id sequences of ``X`` at scoring time, in the
        model's numbering (unseen symbols read as ``<unk>``)."""
        check_is_fitted(self, "input_kind_")
        return self._validate_predict_X(X).sequences

    # -- scoring ------------------------------------------------------------------------
    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each sequence, ``(n,)``, in nats (natural log):
        the sum over its symbols of ``log P(symbol | symbols before it)``,
        plus ``log P(end | all its symbols)``, the probability that it ends
        where it does."""
        return np.asarray(self._log_likelihoods(self._sequences(X)), dtype=np.float64)

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per predicted outcome (nats) over ``X``: the
        total log-likelihood over the number of symbols plus one end per
        sequence (``sum T_i + n``, as perplexity counts ``</s>``); higher is
        better."""
        seqs = self._sequences(X)
        return float(np.sum(self._log_likelihoods(seqs)) / (sum(len(s) for s in seqs) + len(seqs)))

    def bits_per_symbol(self, X) -> float:
        """Cross-entropy of ``X`` under the model in bits per symbol, the end
        of each sequence counted as one symbol (``-score(X) / ln 2``); lower
        is better."""
        return -self.score(X) / math.log(2)

    def next_symbol_log_proba(self, X) -> np.ndarray:
        """Log-distribution (nats) of what follows each sequence of ``X``,
        ``(n, n_symbols_ + 1)``: columns ``0 .. n_symbols_ - 1`` are the
        vocabulary (text: ``tokenizer_.symbols_``, ``<unk>`` first; symbol
        ids: ``vocabulary_`` in order, then ``<unk>``), column ``n_symbols_``
        is the end of the sequence. Every row sums to 1 in probability."""
        log_proba, _ = self._start(self._sequences(X))
        return log_proba

    # -- sampling -----------------------------------------------------------------------
    def sample(
        self, n_samples=1, length=100, *, prompt=None, temperature=1.0, top_k=None, stop_at_end=False,
        random_state=None,
    ):
        """Generate sequences from the model.

        Parameters
        ----------
        n_samples : int >= 1
        length : int >= 1
            Symbols generated after the prompt (characters or words for
            text); with ``stop_at_end`` the most generated.
        prompt : str, array-like of symbol ids, or None
            The beginning of every sample; the model continues it as if it
            were the start of a sequence. A text prompt is tokenized like the
            training text: symbols outside the vocabulary become ``<unk>`` and
            condition the model as ``<unk>`` does; a prompt with *only*
            unknown symbols raises a ValueError (the model would condition on
            nothing but ``<unk>``). The same holds for symbol ids: an id not
            seen in ``fit`` conditions the model as ``<unk>``.
        temperature : float > 0
            Divides the log-probabilities before sampling: < 1 sharper, > 1 flatter.
        top_k : int >= 1 or None
            Sample among the ``top_k`` most probable symbols only.
        stop_at_end : bool, default=False
            True: the end of the sequence is drawn like a symbol, and a sample
            stops there (it is then shorter than ``length``; the end itself is
            not written). False: the end is never drawn (each distribution is
            renormalised over the symbols) and every sample has ``length``
            generated symbols.
        random_state : int, RandomState or None

        Returns
        -------
        list of ``n_samples`` strings (text models: the prompt followed by the
        generated characters, or words joined by spaces) or int64 arrays
        (symbol models: the prompt's ids as given followed by the generated
        ids, both the caller's original ids). No model draws ``<unk>``: it
        stands for many symbols and writes none, so each distribution is
        renormalised without it.
        """
        check_is_fitted(self, "input_kind_")
        _check_sampling_args(n_samples, length, temperature, top_k, stop_at_end)
        prompt, prompt_ids = self._prompt_ids(prompt)
        rng = check_random_state(random_state)
        exclude = self._never_sampled(stop_at_end)
        if prompt_ids is None:
            log_proba, state = self._start(None, n_samples)
        else:
            log_proba, state = self._start([prompt_ids] * n_samples)
        end = self.n_symbols_
        out = np.empty((n_samples, length), dtype=np.int64)
        n_drawn = np.full(n_samples, length)  # symbols each sample keeps (before its end)
        for t in range(length):  # generation: one step at a time by nature
            out[:, t] = sample_from_log_proba(log_proba, temperature, top_k, rng, exclude)
            ending = (out[:, t] == end) & (n_drawn == length)
            n_drawn[ending] = t
            if (n_drawn < length).all():
                break
            if t + 1 < length:
                log_proba, state = self._step(state, out[:, t])
        return self._decode_samples([row[:k] for row, k in zip(out, n_drawn)], prompt)

    def _unknown_id(self) -> int:
        """The model's id of ``<unk>``: 0 for text (the Tokenizer's), ``K`` for symbol ids."""
        return 0 if self.input_kind_ == "text" else len(self.vocabulary_)

    def _never_sampled(self, stop_at_end: bool) -> list[int]:
        """Ids ``sample`` never draws: ``<unk>``, and the end unless
        ``stop_at_end``; a ValueError when nothing else is left."""
        exclude = [self._unknown_id()]
        if not stop_at_end:
            exclude.append(self.n_symbols_)
        if len(exclude) >= self.n_symbols_ + 1:
            raise ValueError(
                "sample: the fitted vocabulary holds only <unk>, which is never sampled, so there is no symbol "
                "to generate; fit on more text or lower the tokenizer's min_count"
            )
        return exclude

    def _prompt_ids(self, prompt) -> tuple:
        """``(prompt, ids)``: the prompt as the samples will begin (validated
        int64 ids for symbol models) and its ids in the model's numbering;
        ``(None, None)`` without a prompt. A prompt of nothing but
        ``<unk>`` is refused: there would be nothing to condition on."""
        if prompt is None:
            return None, None
        if self.input_kind_ == "text":
            if not isinstance(prompt, str):
                raise TypeError(
                    f"prompt must be a string (or None) for a model fitted on text, got {type(prompt).__name__}"
                )
            if not prompt:
                raise ValueError("prompt is an empty string; pass None to sample from the start of a sequence")
            ids = self.tokenizer_.transform([prompt])[0]
            shown, unit = repr(prompt[:40]), self.tokenizer_.level
            fix = "symbols seen in training"
        else:
            if isinstance(prompt, str):
                raise TypeError("prompt is a string, but the model was fitted on symbol ids; pass an array of ids")
            prompt = check_sequences([prompt], kind="symbol", name="prompt")[0]
            ids = self._encoded(SequenceCollection([prompt], "symbol", 1))[0]
            shown, unit, fix = str(prompt[:10].tolist()), "id", "ids from vocabulary_"
        if (ids == self._unknown_id()).all():
            raise ValueError(
                f"prompt {shown} has no symbol in the model's vocabulary (every {unit} of it maps to <unk>, or it "
                f"has no tokens), so there is nothing to condition on; use {fix} or prompt=None"
            )
        return prompt, ids

    def _decode_samples(self, out: list[np.ndarray], prompt):
        """Samples (generated ids per row, any lengths; never ``<unk>``) as
        the caller's kind: text, or the original symbol ids after ``prompt``."""
        if self.input_kind_ != "text":
            head = np.zeros(0, dtype=np.int64) if prompt is None else prompt
            return [np.concatenate([head, decode_symbols(row, self.vocabulary_)]) for row in out]
        texts = self.tokenizer_.inverse_transform(out)
        if prompt is None:
            return texts
        sep = "" if self.tokenizer_.level == "char" else " "
        return [prompt + sep + t if t else prompt for t in texts]

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


def _check_sampling_args(n_samples, length, temperature, top_k, stop_at_end) -> None:
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
    if not isinstance(stop_at_end, (bool, np.bool_)):
        raise TypeError(f"stop_at_end must be True or False, got {stop_at_end!r}")
