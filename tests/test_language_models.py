"""Language models (issue 4, parts 4-9): NGramLanguageModel, HMMLanguageModel,
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
    """Every context over the vocabulary plus BOS (seen or not), <unk> included."""
    texts = ["the cat sat on the mat", "a dog ran", "the end"]
    lm = NGramLanguageModel(n=n, smoothing=smoothing).fit(texts)
    V = lm.n_symbols_
    assert lm.tokenizer_.symbols_[0] == "<unk>"
    every = list(itertools.product(range(V + 1), repeat=n - 1))  # [()] for n = 1
    contexts = np.array(every, dtype=np.int64).reshape(len(every), n - 1)
    proba = np.exp(next_log_proba(lm.tables_, encode_contexts(contexts, V)))
    assert proba.shape == (len(contexts), V)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert proba.min() > 0  # unseen symbols, <unk> and unseen contexts keep some mass


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
    for context in [(1, 2), (2, 3), (3, 3), (0, 0), (V, V), (V, 2), (3, 0)]:
        got = np.exp(next_log_proba(lm.tables_, encode_contexts(np.array([context]), V)))[0]
        want = [_reference_kneser_ney(seqs, 3, V, w, context, [0.6] * 3) for w in range(V)]
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_add_k_known_answer():
    lm = NGramLanguageModel(n=2, smoothing="add-k", k=0.5).fit([np.array([0, 1, 0, 1, 1])])
    # after symbol 1: seen 1 -> 0 once, 1 -> 1 once; V = 2
    expected = np.log([(1 + 0.5) / (2 + 1.0), (1 + 0.5) / (2 + 1.0)])
    np.testing.assert_allclose(lm.next_symbol_log_proba([np.array([1])])[0], expected)
    # the first symbol is predicted from BOS: seen 0 once
    np.testing.assert_allclose(lm.score_samples([np.array([0])]), [np.log(1.5 / 2.0)])


# -- part 5: the HMM language model -------------------------------------------------------


def test_hmm_score_samples_equals_hmmlearn_score():
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 5, size=rng.integers(5, 30)) for _ in range(25)]
    lm = HMMLanguageModel(n_components=3, n_iter=20, random_state=0).fit(X)
    # an independent hmmlearn model with the fitted parameters
    reference = CategoricalHMM(n_components=3, n_features=5)
    reference.startprob_ = lm.model_.startprob_
    reference.transmat_ = lm.model_.transmat_
    reference.emissionprob_ = lm.model_.emissionprob_
    expected = [reference.score(x[:, None]) for x in X]
    np.testing.assert_allclose(lm.score_samples(X), expected, rtol=1e-10)
    total = reference.score(np.concatenate(X)[:, None], [len(x) for x in X])
    assert lm.score(X) == pytest.approx(total / sum(len(x) for x in X), rel=1e-10)


def test_hmm_language_model_learns_a_known_hmm_and_survives_unseen_symbols():
    true = CategoricalHMM(n_components=2, n_features=4)
    true.startprob_ = np.array([0.5, 0.5])
    true.transmat_ = np.array([[0.9, 0.1], [0.1, 0.9]])
    true.emissionprob_ = np.array([[0.7, 0.3, 0.0, 0.0], [0.0, 0.0, 0.3, 0.7]])
    rs = np.random.RandomState(0)
    X = [true.sample(50, random_state=rs)[0][:, 0] for _ in range(40)]
    X_test = [true.sample(50, random_state=rs)[0][:, 0] for _ in range(20)]
    lm = HMMLanguageModel(n_components=2, n_restarts=2, smoothing=0.1, random_state=0).fit(X)
    true_bits = -sum(true.score(x[:, None]) for x in X_test) / (50 * 20) / math.log(2)
    assert lm.bits_per_symbol(X_test) < true_bits * 1.03
    # a symbol never seen in training keeps a probability > 0: no underflow error
    text_lm = HMMLanguageModel(n_components=2, random_state=0).fit(["aaab", "abab"])
    assert np.isfinite(text_lm.score_samples(["abz"])).all()  # "z" -> <unk>, never in training


# -- parts 6-7: the shared interface -------------------------------------------------------


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_next_symbol_distribution_agrees_with_score_samples(cls, chain_text):
    """log P(w | prompt) = log P(prompt + w) - log P(prompt), and sums to one."""
    _, train, _ = chain_text
    lm = cls(**LMS[cls]).fit(train[:2])
    prompts = ["abca", "d", "bbacd"]
    log_proba = lm.next_symbol_log_proba(prompts)
    assert log_proba.shape == (3, lm.n_symbols_)
    np.testing.assert_allclose(np.exp(log_proba).sum(axis=1), 1.0, atol=1e-6)
    base = lm.score_samples(prompts)
    for j, symbol in enumerate(lm.tokenizer_.symbols_[1:], start=1):  # id 0 is "<unk>", not a character
        extended = lm.score_samples([p + symbol for p in prompts])
        np.testing.assert_allclose(log_proba[:, j], extended - base, atol=1e-5)
    assert lm.score(prompts) == pytest.approx(base.sum() / sum(map(len, prompts)))
    assert lm.bits_per_symbol(prompts) == pytest.approx(-lm.score(prompts) / math.log(2))


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_sampling_text_with_prompt_temperature_and_top_k(cls, chain_text):
    _, train, _ = chain_text
    lm = cls(**LMS[cls]).fit(train[:2])
    samples = lm.sample(n_samples=3, length=25, prompt="ab", temperature=0.8, random_state=0)
    assert len(samples) == 3
    for s in samples:
        generated = s[2:].replace("<unk>", "?")  # a sampled <unk> is written as "<unk>"
        assert s.startswith("ab") and len(generated) == 25 and set(generated) <= set(LETTERS + "?")
    assert samples == lm.sample(n_samples=3, length=25, prompt="ab", temperature=0.8, random_state=0)
    # top_k=1 is greedy: every sample is the same, the most probable continuation
    greedy = lm.sample(n_samples=2, length=5, prompt="ab", top_k=1, random_state=1)
    assert greedy[0] == greedy[1]
    first = int(np.argmax(lm.next_symbol_log_proba(["ab"])[0]))
    assert greedy[0][2] == lm.tokenizer_.symbols_[first]
    unprompted = lm.sample(length=4, random_state=0)[0]  # no prompt: from the start of a sequence
    assert len(unprompted.replace("<unk>", "?")) == 4


def test_sampler_draws_from_the_distribution():
    rng = np.random.RandomState(0)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    draws = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 1.0, None, rng)
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 20000, p, atol=0.01)
    sharp = sample_from_log_proba(np.tile(np.log(p), (20000, 1)), 0.5, 2, rng)
    q = p[:2] ** 2 / (p[:2] ** 2).sum()  # temperature 0.5 squares, top-2 drops the rest
    np.testing.assert_allclose(np.bincount(sharp, minlength=4) / 20000, [*q, 0, 0], atol=0.01)


@pytest.mark.parametrize("cls", list(LMS), ids=lambda c: c.__name__)
def test_symbol_ids_and_word_level(cls):
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 6, size=40) for _ in range(5)]
    lm = cls(**LMS[cls]).fit(X)
    assert lm.n_symbols_ == 6 and lm.input_kind_ == "symbol"
    (sample,) = lm.sample(length=7, prompt=[1, 2], random_state=0)
    assert sample.dtype == np.int64 and len(sample) == 9 and sample[:2].tolist() == [1, 2]
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


def test_symbol_models_reject_unknown_ids_and_real_values():
    lm = NGramLanguageModel(n=2).fit([np.array([0, 1, 2])])
    with pytest.raises(ValueError, match="sequence 0 holds symbol id 5, outside the fitted vocabulary"):
        lm.score_samples([np.array([0, 5])])
    with pytest.raises(ValueError, match="prompt: sequence 0 holds symbol id 7"):
        lm.sample(prompt=[7])
    with pytest.raises(ValueError, match="non-integer symbol ids"):
        NGramLanguageModel().fit([np.array([0.5, 1.0])])


# -- RNNLanguageModel: truncated BPTT -------------------------------------------------------


def test_token_stream_rows_chunks_and_ignored_bos_targets():
    stream = bos_stream([np.array([1, 2, 3]), np.array([0, 1]), np.array([2, 2, 2, 1])], 4)
    np.testing.assert_array_equal(stream, [4, 1, 2, 3, 4, 0, 1, 4, 2, 2, 2, 1])
    ts = TokenStream(stream, 4, rows=2, bptt=3, device="cpu")
    chunks = list(ts.chunks())
    assert [b.inputs.shape for b in chunks] == [(2, 3), (2, 2)]  # 11 steps -> 2 rows of 5
    # row 1 continues where row 0's stream left off; a BOS target is ignored
    np.testing.assert_array_equal(chunks[0].inputs.numpy(), [[4, 1, 2], [0, 1, 4]])
    np.testing.assert_array_equal(chunks[0].targets.numpy(), [[1, 2, 3], [1, -100, 2]])
    np.testing.assert_array_equal(chunks[1].targets.numpy(), [[-100, 0], [2, 2]])
    assert [b.weight for b in chunks] == [5, 3] and ts.total_weight == 8
    # a chunk whose targets are all sequence ends trains nothing but carries the state
    ends = TokenStream(bos_stream([np.array([1]), np.array([2])], 4), 4, rows=1, bptt=1, device="cpu")
    assert [b.weight for b in ends.chunks()] == [1, 0, 1]
    lm = RNNLanguageModel(hidden_size=4, max_epochs=2, bptt=1, batch_size=1, random_state=0)
    assert np.isfinite(lm.fit([np.array([1]), np.array([2])]).history_[-1]["train_loss"])


def test_bptt_carries_the_hidden_state_across_chunks():
    """Chunk k + 1 of a row starts from the state chunk k ended in: the chunked
    loss equals one full-length pass over each row, and differs from chunks
    that each start from zeros."""
    lm = RNNLanguageModel(hidden_size=8, max_epochs=1, bptt=10, batch_size=2, random_state=0)
    lm.fit([np.arange(5).repeat(8)])
    stream = TokenStream(bos_stream([np.arange(5).repeat(8)], 5), 5, rows=2, bptt=10, device="cpu")
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
