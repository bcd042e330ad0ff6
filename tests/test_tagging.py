"""Taggers (issue 4, parts 1-3, 8, 9): HMMTagger, RNNTagger, WindowTagger.

Data come from hidden Markov models built here with hmmlearn, so the
accuracy of Viterbi decoding with the *true* parameters is known and is the
ceiling the supervised HMMTagger is held to.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hmmlearn.hmm import CategoricalHMM, GaussianHMM
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from seqbench.models._tagging_base import check_tag_targets
from seqbench.models.baseline._tagger import WindowTagger, window_indices
from seqbench.models.hmm._tagger import HMMTagger, count_transitions
from seqbench.models.neural._tagger import RNNTagger

START = np.array([0.5, 0.3, 0.2])
TRANSMAT = np.array([[0.8, 0.1, 0.1], [0.1, 0.7, 0.2], [0.2, 0.2, 0.6]])

RNN_FAST = dict(hidden_size=16, max_epochs=8, lr=0.03, batch_size=32, random_state=0)
TAGGERS = {
    HMMTagger: dict(),
    WindowTagger: dict(window=1),
    RNNTagger: RNN_FAST,
}


def _categorical_hmm() -> CategoricalHMM:
    model = CategoricalHMM(n_components=3, n_features=6)
    model.startprob_, model.transmat_ = START, TRANSMAT
    model.emissionprob_ = np.random.default_rng(0).dirichlet(np.full(6, 0.7), size=3)
    return model


def _gaussian_hmm() -> GaussianHMM:
    model = GaussianHMM(n_components=3, covariance_type="diag")
    model.startprob_, model.transmat_ = START, TRANSMAT
    model.means_ = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]])
    model.covars_ = np.array([[1.0, 1.0], [0.5, 1.5], [1.5, 0.7]])
    return model


def _draw(model, n, length, seed, *, symbols):
    rng = np.random.RandomState(seed)
    X, Y = [], []
    for _ in range(n):
        x, states = model.sample(int(rng.randint(length // 2, length + 1)), random_state=rng)
        X.append(x[:, 0] if symbols else x)
        Y.append(states)
    return X, Y


def _true_viterbi_accuracy(model, X, Y, *, symbols) -> float:
    X_cat = np.concatenate(X)[:, None] if symbols else np.concatenate(X)
    _, states = model.decode(X_cat, [len(x) for x in X], algorithm="viterbi")
    return float(np.mean(states == np.concatenate(Y)))


@pytest.fixture(scope="module")
def categorical_data():
    model = _categorical_hmm()
    train = _draw(model, 300, 60, seed=1, symbols=True)
    test = _draw(model, 150, 60, seed=2, symbols=True)
    return model, train, test


@pytest.fixture(scope="module")
def gaussian_data():
    model = _gaussian_hmm()
    train = _draw(model, 150, 40, seed=3, symbols=False)
    test = _draw(model, 100, 40, seed=4, symbols=False)
    return model, train, test


# -- HMMTagger: correctness against the true model ------------------------------------


@pytest.mark.parametrize("algorithm", ["viterbi", "map"])
def test_supervised_hmm_tagger_within_one_point_of_true_viterbi_symbols(categorical_data, algorithm):
    model, (X, Y), (X_test, Y_test) = categorical_data
    ceiling = _true_viterbi_accuracy(model, X_test, Y_test, symbols=True)
    accuracy = HMMTagger(algorithm=algorithm).fit(X, Y).score(X_test, Y_test)
    assert ceiling > 0.55  # the task is learnable but not trivial
    assert accuracy >= ceiling - 0.01, (accuracy, ceiling)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_supervised_hmm_tagger_within_one_point_of_true_viterbi_gaussian(gaussian_data, covariance_type):
    model, (X, Y), (X_test, Y_test) = gaussian_data
    ceiling = _true_viterbi_accuracy(model, X_test, Y_test, symbols=False)
    tagger = HMMTagger(algorithm="viterbi", covariance_type=covariance_type).fit(X, Y)
    accuracy = tagger.score(X_test, Y_test)
    assert accuracy >= ceiling - 0.01, (accuracy, ceiling)


def test_supervised_counts_recover_the_generating_parameters(categorical_data):
    model, (X, Y), _ = categorical_data
    tagger = HMMTagger(smoothing=1.0).fit(X, Y)
    hmm, K = tagger.model_, model.emissionprob_.shape[1]
    np.testing.assert_allclose(hmm.transmat_, model.transmat_, atol=0.03)
    # the data's ids 0..K-1 are all seen, so they keep their columns; <unk> comes last,
    # never emitted in training: its share is the pseudo-count alone, 1 / (steps in state + K + 1)
    assert tagger.vocabulary_.tolist() == list(range(K)) and hmm.emissionprob_.shape[1] == K + 1
    np.testing.assert_allclose(hmm.emissionprob_[:, :K], model.emissionprob_, atol=0.03)
    steps_in_state = np.bincount(np.concatenate(Y), minlength=len(tagger.classes_))
    np.testing.assert_allclose(hmm.emissionprob_[:, K], 1.0 / (steps_in_state + K + 1))


def test_count_transitions_known_answer():
    start, trans = count_transitions([np.array([0, 0, 1]), np.array([1, 0])], 2, smoothing=1.0)
    # starts: state 0 once, state 1 once (+1 each); transitions 0->0, 0->1, 1->0 (+1 each)
    np.testing.assert_allclose(start, [0.5, 0.5])
    np.testing.assert_allclose(trans, [[2 / 4, 2 / 4], [2 / 3, 1 / 3]])


def test_map_predictions_are_argmax_of_predict_proba(categorical_data):
    _, (X, Y), (X_test, _) = categorical_data
    labels = ["x", "y", "z"]
    Y_named = [np.array(labels)[y] for y in Y]
    tagger = HMMTagger(algorithm="map").fit(X, Y_named)
    proba = tagger.predict_proba(X_test[:20])
    pred = tagger.predict(X_test[:20])
    for p, labels_i, x in zip(proba, pred, X_test):
        assert p.shape == (len(x), 3)
        np.testing.assert_allclose(p.sum(axis=1), 1.0)
        np.testing.assert_array_equal(tagger.classes_[p.argmax(axis=1)], labels_i)


def test_unsupervised_matches_states_to_labels():
    """EM knows nothing of label names: relabel the states with a permutation
    and names; the one-to-one matching must find them back. Well separated
    emissions; restarts keep EM out of a local optimum (seed 0 alone merges two states)."""
    model = _gaussian_hmm()
    model.means_ = model.means_ * 3.0
    (X, Y), (X_test, Y_test) = _draw(model, 60, 30, 5, symbols=False), _draw(model, 40, 30, 6, symbols=False)
    names = np.array(["c", "a", "b"])  # state 0 -> "c", 1 -> "a", 2 -> "b"
    Y_named, Y_test_named = [names[y] for y in Y], [names[y] for y in Y_test]
    tagger = HMMTagger(mode="unsupervised", n_iter=60, n_restarts=3, random_state=0).fit(X, Y_named)
    supervised = HMMTagger().fit(X, Y_named).score(X_test, Y_test_named)
    accuracy = tagger.score(X_test, Y_test_named)
    assert sorted(tagger.state_labels_) == [0, 1, 2]  # one-to-one
    assert accuracy >= supervised - 0.02, (accuracy, supervised)
    assert accuracy > 0.9


def test_hmm_tagger_on_text_tags_tokens():
    X = ["the cat sat", "a dog ran", "the dog sat", "a cat ran"] * 5
    Y = [["D", "N", "V"]] * 20
    Y = [np.array(y) for y in Y]
    tagger = HMMTagger().fit(X, Y)
    assert tagger.score(X, Y) == 1.0
    (pred,) = tagger.predict(["the cat ran"])
    np.testing.assert_array_equal(pred, ["D", "N", "V"])


# -- WindowTagger ---------------------------------------------------------------------


def test_window_indices_stay_inside_each_sequence():
    index = window_indices(np.array([2, 3]), 1)
    expected = [[-1, 0, 1], [0, 1, -1], [-1, 2, 3], [2, 3, 4], [3, 4, -1]]
    np.testing.assert_array_equal(index, expected)


def test_window_tagger_needs_the_window_to_see_the_previous_symbol():
    """Label = the symbol one step back: a window of 1 learns it exactly,
    a window of 0 cannot do better than guessing."""
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 4, size=rng.integers(5, 15)) for _ in range(200)]
    Y = [np.r_[0, x[:-1]] for x in X]
    X_test = [rng.integers(0, 4, size=12) for _ in range(50)]
    Y_test = [np.r_[0, x[:-1]] for x in X_test]
    assert WindowTagger(window=1).fit(X, Y).score(X_test, Y_test) == 1.0
    assert WindowTagger(window=0).fit(X, Y).score(X_test, Y_test) < 0.45


def test_window_tagger_real_valued(gaussian_data):
    model, (X, Y), (X_test, Y_test) = gaussian_data
    accuracy = WindowTagger(window=2).fit(X, Y).score(X_test, Y_test)
    ceiling = _true_viterbi_accuracy(model, X_test, Y_test, symbols=False)
    assert 0.5 < accuracy <= ceiling + 0.02


# -- the contract shared by every tagger ----------------------------------------------


@pytest.mark.parametrize("cls", list(TAGGERS), ids=lambda c: c.__name__)
def test_labels_of_the_wrong_length_name_the_sequence(cls):
    X = [np.array([0, 1, 2]), np.array([1, 2]), np.array([2, 0, 1, 1])]
    Y = [np.array([0, 1, 0]), np.array([1, 0]), np.array([1, 0, 1])]  # sequence 2: 3 labels for 4 steps
    with pytest.raises(ValueError, match="sequence 2 has 3 labels but X sequence 2 has 4 steps"):
        cls(**TAGGERS[cls]).fit(X, Y)
    with pytest.raises(ValueError, match="Y has 2 label arrays but X has 3 sequences"):
        cls(**TAGGERS[cls]).fit(X, Y[:2])
    with pytest.raises(ValueError, match="single label"):
        cls(**TAGGERS[cls]).fit(X, np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="at least 2 labels"):
        cls(**TAGGERS[cls]).fit(X, [np.zeros(len(x)) for x in X])
    with pytest.raises(ValueError, match="requires y to be passed"):
        cls(**TAGGERS[cls]).fit(X, None)


def test_check_tag_targets_names_missing_labels():
    with pytest.raises(ValueError, match="sequence 1 has a NaN or inf label at step 2"):
        check_tag_targets([2, 3], [[0, 1], [1.0, 0.0, np.nan]])
    with pytest.raises(ValueError, match="continuous"):
        check_tag_targets([2], [[0.5, 1.5]])


@pytest.mark.parametrize("cls", list(TAGGERS), ids=lambda c: c.__name__)
def test_tagger_contract_pickle_clone_unfitted(cls, categorical_data, tmp_path):
    _, (X, Y), (X_test, Y_test) = categorical_data
    X, Y = X[:80], Y[:80]
    tagger = cls(**TAGGERS[cls])
    with pytest.raises(NotFittedError):
        tagger.predict(X_test)
    assert tagger.fit(X, Y) is tagger
    pred = tagger.predict(X_test)
    assert [len(p) for p in pred] == [len(x) for x in X_test]
    manual = np.mean(np.concatenate(pred) == np.concatenate(Y_test))
    assert tagger.score(X_test, Y_test) == pytest.approx(manual)
    assert tagger.score(X_test, Y_test) > 0.45  # the majority label covers ~0.4 of steps
    path = tmp_path / "tagger.pkl"
    path.write_bytes(pickle.dumps(tagger))
    loaded = pickle.loads(path.read_bytes())
    for a, b in zip(loaded.predict(X_test), pred):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.predict_proba(X_test), tagger.predict_proba(X_test)):
        np.testing.assert_array_equal(a, b)
    twin = clone(tagger)
    assert twin.get_params() == tagger.get_params()
    assert not hasattr(twin, "classes_")
    # refitting gives the same predictions (random_state fixed where there is one)
    for a, b in zip(clone(tagger).fit(X, Y).predict(X_test), pred):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cls", list(TAGGERS), ids=lambda c: c.__name__)
def test_tagger_accepts_real_symbol_and_text_input(cls):
    rng = np.random.default_rng(0)
    X_real = [rng.normal(size=(n, 2)) for n in rng.integers(4, 9, size=30)]
    Y_real = [(x[:, 0] > 0).astype(int) for x in X_real]
    texts = ["the cat sat", "a dog ran fast"] * 10
    Y_text = [np.array(["D", "N", "V"]), np.array(["D", "N", "V", "A"])] * 10
    for X, Y in ((X_real, Y_real), (texts, Y_text)):
        tagger = cls(**TAGGERS[cls]).fit(X, Y)
        pred = tagger.predict(X)
        assert [len(p) for p in pred] == [len(y) for y in Y]
        assert tagger.score(X, Y) > 0.7


# -- RNNTagger ------------------------------------------------------------------------


def test_rnn_tagger_bidirectional_sees_the_next_step():
    """Label = the *next* symbol: only a tagger that reads backwards can know it."""
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 3, size=rng.integers(6, 12)) for _ in range(120)]
    Y = [np.r_[x[1:], 0] for x in X]
    X_test = [rng.integers(0, 3, size=10) for _ in range(40)]
    Y_test = [np.r_[x[1:], 0] for x in X_test]
    params = dict(hidden_size=16, max_epochs=25, lr=0.03, batch_size=16, random_state=0)
    both = RNNTagger(bidirectional=True, **params).fit(X, Y).score(X_test, Y_test)
    forward = RNNTagger(bidirectional=False, **params).fit(X, Y).score(X_test, Y_test)
    assert both > 0.95, both
    assert forward < 0.5, forward  # chance is 1/3 (+ the known last step)


def test_rnn_tagger_padding_is_masked_out_of_loss_and_predictions():
    import torch

    from seqbench.models.neural._batches import SequenceBatches
    from seqbench.models.neural._lm_modules import StepRNN
    from seqbench.models.neural._modules import RNNConfig

    torch.manual_seed(0)
    config = RNNConfig(n_inputs=5, n_outputs=3, input_kind="symbol", hidden_size=8, bidirectional=True, cell="gru")
    module = StepRNN(config).eval()
    X = [np.array([1, 2, 3, 4, 0, 1]), np.array([2, 2, 1])]
    Y = [np.array([0, 1, 2, 0, 1, 2]), np.array([2, 1, 0])]
    batch = SequenceBatches(X, Y).batch(np.array([0, 1]))
    assert batch.lengths is not None  # ragged: padded and packed
    logits, loss = module(batch.inputs, batch.lengths, batch.targets)
    alone = [module(torch.as_tensor(x)[None], None, torch.as_tensor(y)[None]) for x, y in zip(X, Y)]
    # each sequence's logits are those it gets alone (the backward pass starts at its own end) ...
    torch.testing.assert_close(logits[1, :3], alone[1][0][0], rtol=1e-5, atol=1e-6)
    # ... and the loss is the mean over the 9 real steps only
    expected = (alone[0][1] * 6 + alone[1][1] * 3) / 9
    torch.testing.assert_close(loss, expected, rtol=1e-5, atol=1e-6)


def test_rnn_tagger_approaches_the_hmm_ceiling(categorical_data):
    model, (X, Y), (X_test, Y_test) = categorical_data
    ceiling = _true_viterbi_accuracy(model, X_test, Y_test, symbols=True)
    tagger = RNNTagger(hidden_size=32, max_epochs=5, lr=0.01, batch_size=32, random_state=0).fit(X, Y)
    accuracy = tagger.score(X_test, Y_test)
    assert accuracy >= ceiling - 0.04, (accuracy, ceiling)
    assert len(tagger.history_) == 5 and tagger.history_[-1]["train_loss"] < tagger.history_[0]["train_loss"]
