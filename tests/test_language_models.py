"""Language models: NGramLanguageModel, HMMLanguageModel,
RNNLanguageModel.

Text is sampled here from a known order-2 Markov chain over four letters,
whose entropy rate (bits per symbol) is computed exactly from its stationary
distribution; the n-gram and recurrent models must come within 5% of it on
held-out text.
"""

from __future__ import annotations

import itertools
import math
import pickle

import numpy as np
import pytest
import torch
from hmmlearn.hmm import CategoricalHMM
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from seqbench.data import UNK, Tokenizer
from seqbench.models._lm_base import sample_from_log_proba
from seqbench.models.autoregressive._markov import encode_contexts
from seqbench.models.autoregressive._ngram_lm import NGramLanguageModel, next_log_proba
from seqbench.models.hmm._language_model import HMMLanguageModel
from seqbench.models.neural._engine import TrainingConfig
from seqbench.models.neural._language_model import BPTTTrainer, RNNLanguageModel, TokenStream, bos_stream

LETTERS = "abcd"
RNN_FAST = dict(hidden_size=16, max_epochs=2, lr=0.01, bptt=20, batch_size=8, random_state=0)
LMS = {
    NGramLanguageModel: dict(n=3),
    HMMLanguageModel: dict(n_components=3, n_iter=10, random_state=0),
    RNNLanguageModel: RNN_FAST,
}


class Order2Chain:
    """``P(c | a, b)`` for symbols ``a, b, c`` in ``0..V-1``, Dirichlet(1) rows."""

    def __init__(self, V=4, seed=0):
        self.V = V
        self.rng = np.random.default_rng(seed)
        self.P = self.rng.dirichlet(np.ones(V), size=(V, V))  # (V, V, V)

    def entropy_rate_bits(self) -> float:
        """``sum_{ab} pi(ab) H(P(. | a, b))`` with pi the stationary law of the pair chain."""
        V = self.V
        pair = np.zeros((V * V, V * V))
        for a, b in itertools.product(range(V), repeat=2):
            pair[a * V + b, b * V : b * V + V] = self.P[a, b]
        values, vectors = np.linalg.eig(pair.T)
        pi = np.real(vectors[:, np.argmin(np.abs(values - 1))])
        pi /= pi.sum()
        H = -(self.P * np.log2(self.P)).sum(axis=2).ravel()
        return float(pi @ H)

    def text(self, length: int) -> str:
        s = list(self.rng.integers(0, self.V, size=2))
        u = self.rng.random(length)
        cdf = np.cumsum(self.P, axis=2)
        for t in range(length - 2):
            s.append(min(int(np.searchsorted(cdf[s[-2], s[-1]], u[t])), self.V - 1))
        return "".join(LETTERS[i] for i in s)


@pytest.fixture(scope="module")
def chain_text():
    chain = Order2Chain()
    train = [chain.text(2000) for _ in range(10)]
    test = [chain.text(2500) for _ in range(2)]
    return chain.entropy_rate_bits(), train, test


# -- part 9: within 5% of the true entropy rate -----------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell", "add-k"])
def test_trigram_within_5_percent_of_the_entropy_rate(chain_text, smoothing):
    H, train, test = chain_text
    assert H > 1.0 and H < 1.9  # a chain with real structure, below log2(4) = 2 bits
    bits = NGramLanguageModel(n=3, smoothing=smoothing).fit(train).bits_per_symbol(test)
    assert abs(bits - H) / H < 0.05, (bits, H)
    # a bigram model cannot see the order-2 structure
    assert NGramLanguageModel(n=2, smoothing=smoothing).fit(train).bits_per_symbol(test) > H * 1.05


def test_rnn_language_model_within_5_percent_of_the_entropy_rate(chain_text):
    H, train, test = chain_text
    lm = RNNLanguageModel("lstm", hidden_size=32, max_epochs=6, lr=0.01, bptt=50, batch_size=16, random_state=0)
    bits = lm.fit(train).bits_per_symbol(test)
    assert abs(bits - H) / H < 0.05, (bits, H)
    losses = [h["train_loss"] for h in lm.history_]
    assert losses[-1] < losses[0]


# -- part 4: n-gram probabilities ---------------------------------------------------------


@pytest.mark.parametrize("smoothing", ["kneser-ney", "witten-bell", "add-k"])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_ngram_distributions_sum_to_one_in_every_context(smoothing, n):
    """Every context over the vocabulary plus BOS (seen or not), over the
    vocabulary (<unk> included) and the end of the sequence."""
    texts = ["the cat sat on the mat", "a dog ran", "the end"]
    lm = NGramLanguageModel(n=n, smoothing=smoothing).fit(texts)
    V = lm.n_symbols_
    assert lm.tokenizer_.symbols_[0] == "<unk>"
    assert lm.tables_.n_symbols == V + 1  # the end is outcome V; the tables' BOS is V + 1
    every = list(itertools.product([*range(V), V + 1], repeat=n - 1))  # [()] for n = 1
    contexts = np.array(every, dtype=np.int64).reshape(len(every), n - 1)
    proba = np.exp(next_log_proba(lm.tables_, encode_contexts(contexts, V + 1)))
    assert proba.shape == (len(contexts), V + 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert proba.min() > 0  # unseen symbols, <unk>, the end and unseen contexts keep some mass
    # the same through the public interface, the end in the last column
    public = np.exp(lm.next_symbol_log_proba(["the", "a dog", "zzz"]))
    assert public.shape == (3, V + 1)
    np.testing.assert_allclose(public.sum(axis=1), 1.0, atol=1e-12)


def _reference_kneser_ney(sequences, n, V, target, context, D):
    """Interpolated Kneser-Ney written the slow way, straight from the formula,
    with dictionaries of n-grams (BOS = V pads the start)."""
    grams = [dict() for _ in range(n)]  # grams[m][(context of length m, w)] = raw count
    for s in sequences:
        padded = [V] * (n - 1) + list(s)
        for t in range(n - 1, len(padded)):
            for m in range(n):
                key = (tuple(padded[t - m : t]), padded[t])
                grams[m][key] = grams[m].get(key, 0) + 1
    counts = [None] * n
    counts[n - 1] = grams[n - 1]
    for m in range(n - 1):  # continuation counts: distinct left extensions
        counts[m] = {}
        for ctx, w in grams[m + 1]:
            key = (ctx[1:], w)
            counts[m][key] = counts[m].get(key, 0) + 1
    p = 1.0 / V
    for m in range(n):
        ctx = tuple(context[len(context) - m :]) if m else ()
        row = {w: c for (h, w), c in counts[m].items() if h == ctx}
        total = sum(row.values())
        if total:
            p = (max(row.get(target, 0) - D[m], 0) + D[m] * len(row) * p) / total
    return p


def test_kneser_ney_matches_the_formula_written_out():
    seqs = [np.array([0, 1, 2, 1, 2, 3, 1, 2]), np.array([2, 3, 3, 1])]
    lm = NGramLanguageModel(n=3, smoothing="kneser-ney", discount=0.6).fit(seqs)
    V = lm.n_symbols_
    # the reference sees the end as symbol V after every sequence, over V + 1 outcomes (BOS = V + 1)
    ended = [np.append(s, V) for s in seqs]
    bos = V + 1
    for context in [(1, 2), (2, 3), (3, 3), (0, 0), (bos, bos), (bos, 2), (3, 0), (3, 1)]:
        got = np.exp(next_log_proba(lm.tables_, encode_contexts(np.array([context]), V + 1)))[0]
        want = [_reference_kneser_ney(ended, 3, V + 1, w, context, [0.6] * 3) for w in range(V + 1)]
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # after (3, 1) one of two sequences ended: (1 - D) / 2 + D P_2(end | 1), where the recursion
    # ends in the uniform 1/6 over ids 0..3, <unk> (id 4: the vocabulary is the ids seen plus <unk>)
    # and the end: P_1(end) = 0.14 + 0.3 / 6, P_2(end | 1) = 0.1 + 0.3 P_1(end)
    assert V == 5 and lm.vocabulary_.tolist() == [0, 1, 2, 3]
    assert got[V] == pytest.approx(0.2 + 0.6 * (0.1 + 0.3 * (0.14 + 0.3 / 6)))  # 0.2942


def test_add_k_known_answer():
    lm = NGramLanguageModel(n=2, smoothing="add-k", k=0.5).fit([np.array([0, 1, 0, 1, 1])])
    # 4 outcomes: symbols 0 and 1, <unk> (V = 3: the ids seen plus <unk>) and the end.
    # After symbol 1: seen 1 -> 0, 1 -> 1 and 1 -> end once each, <unk> never
    assert lm.n_symbols_ == 3
    expected = np.log([1.5 / 5, 1.5 / 5, 0.5 / 5, 1.5 / 5])
    np.testing.assert_allclose(lm.next_symbol_log_proba([np.array([1])])[0], expected)
    # [0]: 0 from BOS (seen once of 1), then the end after 0 (0 -> 1 seen twice, 0 -> end never)
    np.testing.assert_allclose(lm.score_samples([np.array([0])]), [np.log(1.5 / 3) + np.log(0.5 / 4)])
    # score and bits count the end as one predicted outcome per sequence
    assert lm.score([np.array([0])]) == pytest.approx((np.log(1.5 / 3) + np.log(0.5 / 4)) / 2)
    # an id never seen (5) is <unk>: 0 -> <unk> never seen, then <unk> -> end, an unseen context
    np.testing.assert_allclose(lm.score_samples([np.array([0, 5])]),
                               [np.log(1.5 / 3) + np.log(0.5 / 4) + np.log(0.25)])


# -- part 5: the HMM language model -------------------------------------------------------


def test_hmm_score_samples_equals_hmmlearn_score():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 5, size=rng.integers(5, 30)) for _ in range(25)]
    lm = HMMLanguageModel(n_components=3, n_iter=20, random_state=0).fit(X)
    # an independent hmmlearn model with the fitted parameters; ids 0..4 keep their numbers,
    # symbol 5 is <unk> and symbol 6 the end
    reference = CategoricalHMM(n_components=3, n_features=7)
    reference.startprob_ = lm.model_.startprob_
    reference.transmat_ = lm.model_.transmat_
    reference.emissionprob_ = lm.model_.emissionprob_
    assert lm.model_.emissionprob_.shape == (3, 7) and lm.n_symbols_ == 6
    expected = [reference.score(np.append(x, 6)[:, None]) for x in X]
    np.testing.assert_allclose(lm.score_samples(X), expected, rtol=1e-10)
    total = reference.score(np.concatenate([np.append(x, 6) for x in X])[:, None], [len(x) + 1 for x in X])
    assert lm.score(X) == pytest.approx(total / sum(len(x) + 1 for x in X), rel=1e-10)


def _sample_ended(hmm: CategoricalHMM, end: int, n: int, rs) -> list[np.ndarray]:
    """``n`` sequences of a generating HMM whose symbol ``end`` ends a
    sequence: each runs to its first end (which is dropped)."""
    out = []
    while len(out) < n:
        symbols = hmm.sample(400, random_state=rs)[0][:, 0]
        stop = np.flatnonzero(symbols == end)
        if len(stop) and stop[0] > 0:  # an empty sequence is not a sequence
            out.append(symbols[: stop[0]])
    return out


def test_hmm_language_model_learns_a_known_hmm_and_survives_unseen_symbols():
    """Data from an HMM that also decides where sequences end (symbol 4):
    the fitted model, which models the end the same way, comes within 3% of
    the true model's bits per symbol (ends counted) on held-out sequences."""
    true = CategoricalHMM(n_components=2, n_features=5)
    true.startprob_ = np.array([0.5, 0.5])
    true.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
    true.emissionprob_ = np.array([[0.66, 0.3, 0.0, 0.0, 0.04], [0.0, 0.0, 0.3, 0.62, 0.08]])
    rs = np.random.RandomState(0)
    X, X_test = _sample_ended(true, 4, 80, rs), _sample_ended(true, 4, 40, rs)
    lm = HMMLanguageModel(n_components=2, n_restarts=2, smoothing=0.1, random_state=0).fit(X)
    true_nats = sum(true.score(np.append(x, 4)[:, None]) for x in X_test)
    true_bits = -true_nats / sum(len(x) + 1 for x in X_test) / math.log(2)
    assert lm.bits_per_symbol(X_test) < true_bits * 1.03
    # the end is learnt: about 1 in 17 steps ends a sequence in this HMM
    end_proba = np.exp(lm.next_symbol_log_proba(X_test)[:, lm.n_symbols_])  # ids 0..3, <unk>, then the end
    assert 0.02 < end_proba.mean() < 0.12
    # a symbol never seen in training keeps a probability > 0: no underflow error
    text_lm = HMMLanguageModel(n_components=2, random_state=0).fit(["aaab", "abab"])
    assert np.isfinite(text_lm.score_samples(["abz"])).all()  # "z" -> <unk>, never in training


# -- parts 6-7: the shared interface -------------------------------------------------------


def _prefix_log_proba(lm, texts) -> np.ndarray:
    """log P(the sequence starts with ``text``): its score minus its end."""
    return lm.score_samples(texts) - lm.next_symbol_log_proba(texts)[:, lm.n_symbols_]


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_next_symbol_distribution_agrees_with_score_samples(cls, chain_text):
    """log P(w | prompt) = log P(prompt + w ...) - log P(prompt ...), the end
    is the last column, and each row sums to one over symbols and the end."""
    _, train, _ = chain_text
    lm = cls(**LMS[cls]).fit(train[:2])
    prompts = ["abca", "d", "bbacd"]
    log_proba = lm.next_symbol_log_proba(prompts)
    assert log_proba.shape == (3, lm.n_symbols_ + 1)
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0, atol=1e-6)
    base = _prefix_log_proba(lm, prompts)
    for j, symbol in enumerate(lm.tokenizer_.symbols_[1:], start=1):  # id 0 is "<unk>", not a character
        extended = _prefix_log_proba(lm, [p + symbol for p in prompts])
        np.testing.assert_allclose(log_proba[:, j], extended - base, atol=1e-5)
    scores = lm.score_samples(prompts)
    assert np.all(scores < base)  # ending where it does costs probability
    assert lm.score(prompts) == pytest.approx(scores.sum() / (sum(map(len, prompts)) + len(prompts)))
    assert lm.bits_per_symbol(prompts) == pytest.approx(-lm.score(prompts) / math.log(2))


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_sequences_of_every_length_sum_to_one(cls):
    """With the end modelled, a language model is a distribution over finite
    sequences: P(empty) + the probabilities of every sequence of length 1..L
    over the vocabulary (two symbols and <unk>) approach 1 from below
    (trained on short sequences, so little mass is left beyond L)."""
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 2, size=rng.integers(1, 4)) for _ in range(300)]
    params = {**LMS[cls], "max_epochs": 15} if cls is RNNLanguageModel else LMS[cls]
    lm = cls(**params).fit(X)
    assert lm.n_symbols_ == 3  # 0, 1 and <unk>, which the unseen id 2 reads as
    every = [np.array(s) for L in range(1, 10) for s in itertools.product([0, 1, 2], repeat=L)]
    log_empty = lm._start(None, 1)[0][0, lm.n_symbols_]  # the end straight after the start
    total = np.exp(log_empty) + np.exp(lm.score_samples(every)).sum()
    assert 0.99 < total <= 1 + 1e-9, total
    short = np.exp(lm.score_samples([s for s in every if len(s) <= 3])).sum()
    assert short > 0.9  # the mass sits where the training sequences are


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_sampling_text_with_prompt_temperature_and_top_k(cls, chain_text):
    _, train, _ = chain_text
    lm = cls(**LMS[cls]).fit(train[:2])
    samples = lm.sample(n_samples=3, length=25, prompt="ab", temperature=0.8, random_state=0)
    assert len(samples) == 3
    for s in samples:  # no "<unk>" and no end: exactly 25 characters of the alphabet
        assert s.startswith("ab") and len(s[2:]) == 25 and set(s[2:]) <= set(LETTERS)
    assert samples == lm.sample(n_samples=3, length=25, prompt="ab", temperature=0.8, random_state=0)
    # top_k=1 is greedy: every sample is the same, the most probable continuation
    greedy = lm.sample(n_samples=2, length=5, prompt="ab", top_k=1, random_state=1)
    assert greedy[0] == greedy[1]
    first = int(np.argmax(lm.next_symbol_log_proba(["ab"])[0]))
    assert greedy[0][2] == lm.tokenizer_.symbols_[first]
    unprompted = lm.sample(length=4, random_state=0)[0]  # no prompt: from the start of a sequence
    assert len(unprompted) == 4 and set(unprompted) <= set(LETTERS)


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_sampling_never_emits_unk(cls):
    """A tokenizer with min_count=4 maps most characters of this text to
    <unk>, so <unk> is by far the commonest symbol; samples still never hold
    it, greedy ones included (the distribution is renormalised without it)."""
    text = ["aaabbbqwertyuiopasdfghjklzxcvnm" * 2, "abcdefghijklmnopqrstuvwxyz"]
    lm = cls(**LMS[cls], tokenizer=Tokenizer(min_count=4)).fit(text)
    assert lm.tokenizer_.symbols_[0] == "<unk>" and lm.n_symbols_ == 3  # <unk>, a, b
    assert np.mean(np.concatenate(lm.tokenizer_.transform(text)) == 0) > 0.8  # 72 of 88 characters
    for top_k in (None, 1):
        samples = lm.sample(n_samples=20, length=30, top_k=top_k, random_state=0)
        assert all(len(s) == 30 and set(s) <= {"a", "b"} for s in samples)
    ended = lm.sample(n_samples=20, length=30, stop_at_end=True, random_state=0)
    assert all(set(s) <= {"a", "b"} for s in ended)


class _OnlyUnkTokenizer(Tokenizer):
    """A custom tokenizer whose vocabulary is <unk> alone (seqbench's own refuses to build one)."""

    def fit(self, texts, y=None):
        self.symbols_ = [UNK]
        self.vocabulary_ = {UNK: 0}
        return self


def test_sampling_an_only_unk_vocabulary_is_refused():
    with pytest.raises(ValueError, match="min_count=5 leaves no char in the vocabulary"):
        NGramLanguageModel(n=2, tokenizer=Tokenizer(min_count=5)).fit(["abc"])
    lm = NGramLanguageModel(n=2, tokenizer=_OnlyUnkTokenizer()).fit(["abc"])
    assert lm.n_symbols_ == 1
    with pytest.raises(ValueError, match="holds only <unk>, which is never sampled"):
        lm.sample(length=3)
    assert lm.sample(length=3, stop_at_end=True, random_state=0) == [""]  # only the end is left


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_sample_stops_at_the_end_when_asked(cls):
    """Trained on sequences of 2 to 5 symbols, samples that may end are
    about as short; without stop_at_end every sample has ``length`` symbols."""
    rng = np.random.default_rng(1)
    X = [rng.integers(0, 3, size=rng.integers(2, 6)) for _ in range(300)]
    params = {**LMS[cls], "max_epochs": 15} if cls is RNNLanguageModel else LMS[cls]
    lm = cls(**params).fit(X)
    ended = lm.sample(n_samples=200, length=60, stop_at_end=True, random_state=0)
    lengths = np.array([len(s) for s in ended])
    assert all(s.dtype == np.int64 and set(s.tolist()) <= {0, 1, 2} for s in ended)  # the end is not written
    assert lengths.max() < 60 and 2 <= np.median(lengths) <= 6, np.bincount(lengths)
    full = lm.sample(n_samples=5, length=60, random_state=0)
    assert all(len(s) == 60 and set(s.tolist()) <= {0, 1, 2} for s in full)
    prompted = lm.sample(n_samples=50, length=60, prompt=[0, 1], stop_at_end=True, random_state=0)
    assert all(s[:2].tolist() == [0, 1] for s in prompted)
    assert np.median([len(s) for s in prompted]) <= 8


def test_ngram_samples_end_exactly_where_the_counts_say():
    """Bigram, add-k with a tiny k: after "b" the text ended in 3 of 4
    training sequences and went on with "c" once; after "c" it always ended."""
    lm = NGramLanguageModel(n=2, smoothing="add-k", k=1e-6).fit(["ab", "ab", "ab", "abc"])
    samples = lm.sample(n_samples=4000, length=10, stop_at_end=True, random_state=0)
    assert set(samples) == {"ab", "abc"}
    assert np.mean([s == "ab" for s in samples]) == pytest.approx(0.75, abs=0.02)


def test_sampler_draws_from_the_distribution():
    rng = np.random.RandomState(0)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    draws = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 1.0, None, rng)
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, p, atol=0.01)
    sharp = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 0.5, 2, rng)
    q = p[:2] ** 2 / (p[:2] ** 2).sum()  # temperature 0.5 squares, top-2 drops the rest
    np.testing.assert_allclose(np.bincount(sharp, minlength=4) / 20000, [*q, 0, 0], atol=0.01)
    # excluded ids are never drawn; the rest keep their proportions
    rest = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 1.0, None, rng, exclude=[0])
    np.testing.assert_allclose(np.bincount(rest, minlength=4) / 20000, [0, *p[1:] / p[1:].sum()], atol=0.01)
    # top-k picks among the allowed ids: the two likeliest after dropping id 0
    top = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 1.0, 2, rng, exclude=[0])
    np.testing.assert_allclose(np.bincount(top, minlength=4) / 20000, [0, 2 / 3, 1 / 3, 0], atol=0.01)


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_symbol_ids_and_word_level(cls):
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 6, size=40) for _ in range(5)]
    lm = cls(**LMS[cls]).fit(X)
    assert lm.n_symbols_ == 7 and lm.input_kind_ == "symbol"  # 6 ids seen, and <unk>
    (sample,) = lm.sample(length=7, prompt=[1, 2], random_state=0)
    assert sample.dtype == np.int64 and len(sample) == 9 and sample[:2].tolist() == [1, 2]
    assert set(sample[2:].tolist()) <= set(range(6))  # the ids seen; <unk> is never drawn
    assert np.isfinite(lm.score_samples(np.stack(X))).all()  # a 2-D integer array: one sequence per row
    words = cls(**LMS[cls], level="word").fit(["the cat sat", "the dog sat down"])
    assert words.tokenizer_.level == "word" and words.n_symbols_ == 6  # <unk> + 5 words
    text = words.sample(length=3, prompt="the cat", random_state=0)[0]
    assert text.startswith("the cat ") and len(text.split()) == 5


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_language_model_contract_pickle_clone_unfitted(cls, chain_text, tmp_path):
    _, train, test = chain_text
    lm = cls(**LMS[cls])
    with pytest.raises(NotFittedError):
        lm.score_samples(test)
    with pytest.raises(NotFittedError):
        lm.sample()
    assert lm.fit(train[:2]) is lm
    path = tmp_path / "lm.pkl"
    path.write_bytes(pickle.dumps(lm))
    loaded = pickle.loads(path.read_bytes())
    np.testing.assert_array_equal(loaded.score_samples(test), lm.score_samples(test))
    assert loaded.sample(2, 10, random_state=0) == lm.sample(2, 10, random_state=0)
    twin = clone(lm)
    assert twin.get_params() == lm.get_params() and not hasattr(twin, "n_symbols_")
    np.testing.assert_array_equal(twin.fit(train[:2]).score_samples(test), lm.score_samples(test))


# -- part 8: bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_bad_input_gets_a_clear_error(cls):
    lm = cls(**LMS[cls]).fit(["abcab", "bca"])
    with pytest.raises(ValueError, match="sequence 1 is an empty string"):
        cls(**LMS[cls]).fit(["abc", ""])
    with pytest.raises(ValueError, match="sequence 0 is an empty string"):
        lm.score_samples([""])
    with pytest.raises(ValueError, match="no symbol in the model's vocabulary"):
        lm.sample(prompt="xyz")
    with pytest.raises(ValueError, match="temperature must be a finite number > 0, got 0"):
        lm.sample(temperature=0)
    with pytest.raises(ValueError, match="temperature"):
        lm.sample(temperature=-1.0)
    with pytest.raises(ValueError, match="top_k"):
        lm.sample(top_k=0)
    with pytest.raises(ValueError, match="length"):
        lm.sample(length=0)
    # a prompt with *some* unknown symbols conditions on <unk> for them
    assert lm.sample(prompt="axb", length=3, random_state=0)[0].startswith("axb")


def test_order_below_one_is_rejected():
    with pytest.raises(ValueError, match="'n' parameter of NGramLanguageModel must be an int in the range"):
        NGramLanguageModel(n=0).fit(["abc"])


def test_symbol_models_read_unknown_ids_as_unk_and_reject_real_values():
    lm = NGramLanguageModel(n=2).fit([np.array([0, 1, 2])])
    unk = 3  # the ids seen are 0, 1, 2; <unk> comes after them
    scores = lm.score_samples([np.array([0, 5]), np.array([0, 2**63 - 1])])
    assert np.isfinite(scores).all() and scores[0] == scores[1]  # both ids read as <unk>
    # P(0 | start) P(<unk> | 0) P(end | <unk>), read off the next-outcome distributions
    parts = lm.next_symbol_log_proba([np.array([0])])[0, unk] + lm.next_symbol_log_proba([np.array([0, 5])])[0, 4]
    assert scores[0] == pytest.approx(lm.score_samples([np.array([0])])[0]
                                      - lm.next_symbol_log_proba([np.array([0])])[0, 4] + parts)
    with pytest.raises(ValueError, match=r"prompt \[7, 9\] has no symbol in the model's vocabulary"):
        lm.sample(prompt=[7, 9])
    (sample,) = lm.sample(prompt=[7, 1], length=4, random_state=0)  # 7 conditions the model as <unk>
    assert sample[:2].tolist() == [7, 1] and set(sample[2:].tolist()) <= {0, 1, 2}
    with pytest.raises(ValueError, match="non-integer symbol ids"):
        NGramLanguageModel().fit([np.array([0.5, 1.0])])


# -- RNNLanguageModel: truncated BPTT -------------------------------------------------------


def test_token_stream_rows_chunks_and_end_targets():
    stream = bos_stream([np.array([1, 2, 3]), np.array([0, 1]), np.array([2, 2, 2, 1])], 4)
    np.testing.assert_array_equal(stream, [4, 1, 2, 3, 4, 0, 1, 4, 2, 2, 2, 1, 4])
    ts = TokenStream(stream, rows=2, bptt=4, device="cpu")
    chunks = list(ts.chunks())
    assert [b.inputs.shape for b in chunks] == [(2, 4), (2, 2)]  # 12 steps -> 2 rows of 6
    # row 1 continues where row 0's stream left off; a boundary target (4) is the end of a sequence
    np.testing.assert_array_equal(chunks[0].inputs.numpy(), [[4, 1, 2, 3], [1, 4, 2, 2]])
    np.testing.assert_array_equal(chunks[0].targets.numpy(), [[1, 2, 3, 4], [4, 2, 2, 2]])
    np.testing.assert_array_equal(chunks[1].targets.numpy(), [[0, 1], [1, 4]])
    assert [b.weight for b in chunks] == [8, 4] and ts.total_weight == 12  # 9 symbols and 3 ends
    lm = RNNLanguageModel(hidden_size=4, max_epochs=2, bptt=1, batch_size=1, random_state=0)
    lm.fit([np.array([1]), np.array([2])])
    assert lm.module_.head.out_features == 4  # symbols 0, 1, 2 and the end
    assert np.isfinite(lm.history_[-1]["train_loss"])


def test_bptt_carries_the_hidden_state_across_chunks():
    """Chunk k + 1 of a row starts from the state chunk k ended in: the chunked
    loss equals one full-length pass over each row, and differs from chunks
    that each start from zeros."""
    lm = RNNLanguageModel(hidden_size=8, max_epochs=1, bptt=10, batch_size=2, random_state=0)
    lm.fit([np.arange(5).repeat(8)])
    stream = TokenStream(bos_stream([np.arange(5).repeat(8)], 5), rows=2, bptt=10, device="cpu")
    trainer = BPTTTrainer(lm.module_, TrainingConfig(), device="cpu")
    carried = trainer.evaluate(stream)
    with torch.no_grad():
        fresh = sum(lm.module_(b.inputs, None, b.targets, None)[1].item() * b.weight for b in stream.chunks())
    assert carried != pytest.approx(fresh / stream.total_weight, rel=1e-6)
    # the same loss as one full-length pass over each row (no truncation at evaluation)
    inputs = torch.cat([b.inputs for b in stream.chunks()], dim=1)
    targets = torch.cat([b.targets for b in stream.chunks()], dim=1)
    with torch.no_grad():
        full = lm.module_(inputs, None, targets, None)[1].item()
    assert carried == pytest.approx(full, rel=1e-5)


def test_rnn_language_model_early_stopping_restores_the_best_epoch(chain_text):
    _, train, _ = chain_text
    lm = RNNLanguageModel(hidden_size=8, max_epochs=4, lr=0.01, bptt=20, early_stopping=True,
                          n_iter_no_change=2, random_state=0).fit(train[:2])
    val = [h["val_loss"] for h in lm.history_]
    assert all(v is not None and np.isfinite(v) for v in val)
    assert lm.best_epoch_ == int(np.argmin(val)) + 1


# -- RNNLanguageModel: dropout and the learning-rate schedule ----------------------------


def test_rnn_language_model_drops_out_the_embedded_inputs():
    """With one layer, the only dropout before the recurrent layer is the one
    on the embedded inputs: in training mode two passes feed the layer
    different inputs; in eval mode they are the embedding's vectors."""
    lm = RNNLanguageModel(hidden_size=8, num_layers=1, dropout=0.5, max_epochs=1, random_state=0)
    module = lm.fit(["abcabcabd"]).module_
    seen = []
    module.encoder.rnn.register_forward_hook(lambda mod, args, out: seen.append(args[0].detach().clone()))
    x = torch.tensor([[3, 0, 1, 2]])
    module.train()
    module(x), module(x)
    assert not torch.equal(seen[0], seen[1])
    assert (seen[0] == 0).float().mean() > 0.2  # about half the embedded values dropped
    module.eval()
    module(x), module(x)
    torch.testing.assert_close(seen[2], seen[3])
    torch.testing.assert_close(seen[2], torch.nn.functional.embedding(x, module.encoder.embedding.weight))


def test_cosine_schedule_anneals_the_rate_once_per_epoch(chain_text):
    _, train, _ = chain_text
    lm = RNNLanguageModel(**{**RNN_FAST, "max_epochs": 4, "lr": 0.02}, lr_schedule="cosine").fit(train[:1])
    lrs = [h["lr"] for h in lm.history_]
    expected = [0.02 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(4)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)  # 0.02, 0.0171, 0.01, 0.0029
    constant = RNNLanguageModel(**{**RNN_FAST, "max_epochs": 2, "lr": 0.02}).fit(train[:1])
    assert [h["lr"] for h in constant.history_] == [0.02, 0.02]


def test_plateau_schedule_follows_the_validation_loss_in_fit(chain_text):
    _, train, _ = chain_text
    lm = RNNLanguageModel(**{**RNN_FAST, "max_epochs": 6, "lr": 0.05}, lr_schedule="plateau",
                          early_stopping=True, n_iter_no_change=6).fit(train[:2])
    # the engine's plateau schedule (halve after 2 epochs without a lower validation
    # loss), replayed on the same validation losses with torch's own scheduler
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.05)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=2)
    for h in lm.history_:  # each epoch trained with the rate the epochs before it left
        assert h["lr"] == pytest.approx(optimizer.param_groups[0]["lr"])
        reference.step(h["val_loss"])


def test_bad_lr_schedule_is_refused():
    with pytest.raises(ValueError, match="'lr_schedule' parameter of RNNLanguageModel must be"):
        RNNLanguageModel(lr_schedule="linear").fit(["abc"])
