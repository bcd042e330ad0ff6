"""Symbol ids are names: every symbol model numbers the ids it saw in ``fit``
densely (``vocabulary_``) and reads any other id as ``<unk>``.

So a model fitted on relabelled ids (an order-preserving injective map of
dense ids 0..K-1, as large as the int64 limit) gives the same numbers as on
the dense ids, with parameters sized by the K distinct ids plus ``<unk>``;
an id unseen in ``fit`` is ``<unk>`` at predict and score time; and a
language model samples the caller's own ids, never ``<unk>``.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqbench.models import (
    ARClassifier,
    FeatureClassifier,
    FeatureRegressor,
    HMMClassifier,
    HMMLanguageModel,
    HMMTagger,
    NearestNeighborClassifier,
    NGramLanguageModel,
    RNNClassifier,
    RNNLanguageModel,
    RNNRegressor,
    RNNTagger,
    WindowTagger,
)
from seqbench.models._vocabulary import decode_symbols, encode_symbols, fit_vocabulary

K = 4  # distinct symbols of the dense data, ids 0..3

RELABELLINGS = {
    "times_1e12_plus_7": lambda ids: ids * 10**12 + 7,
    "from_2_62": lambda ids: 2**62 + 3 * ids,
    "up_to_int64_max": lambda ids: (2**63 - 1) - (K - 1 - ids),
}


def _dense_data():
    """Symbol sequences over ids 0..3 (all seen), class labels, per-step tags, targets."""
    rng = np.random.default_rng(0)
    X, y = [], []
    for i in range(24):
        label = i % 2
        p = [0.4, 0.3, 0.2, 0.1] if label == 0 else [0.1, 0.2, 0.3, 0.4]
        X.append(rng.choice(K, size=rng.integers(6, 11), p=p).astype(np.int64))
        y.append(label)
    tags = [(s >= 2).astype(int) ^ (rng.random(len(s)) < 0.1) for s in X]
    targets = np.array([s.mean() for s in X])
    return X, np.array(y), tags, targets


X_DENSE, Y_CLASS, Y_TAGS, Y_REG = _dense_data()
X_TEST = [np.array([0, 1, 2, 3, 3, 1]), np.array([3, 3, 2]), np.array([1, 0, 0, 2, 1])]


def _embedding_rows(m):
    return m.module_.encoder.embedding.num_embeddings


# (factory, task, fitted size and the size it must have: K seen ids + <unk> (+ the models' own extras))
CASES = {
    "HMMClassifier": (lambda: HMMClassifier(n_components=2, n_restarts=1, n_iter=200, random_state=0), "classify",
                      lambda m: m.models_[0].emissionprob_.shape[1], K + 1),
    "ARClassifier": (lambda: ARClassifier(order=1), "classify", lambda m: m.models_[0].n_symbols, K + 1),
    "ARClassifier_discriminative": (lambda: ARClassifier("discriminative", order=1), "classify",
                                    lambda m: m.n_symbols_, K + 1),
    "RNNClassifier": (lambda: RNNClassifier(hidden_size=4, max_epochs=2, random_state=0), "classify",
                      _embedding_rows, K + 1),
    "FeatureClassifier": (lambda: FeatureClassifier(), "classify", lambda m: m.n_symbols_, K + 1),
    "NearestNeighborClassifier": (lambda: NearestNeighborClassifier(), "classify",
                                  lambda m: m.X_fit_[0].shape[1], K + 1),  # one-hot width
    "RNNRegressor": (lambda: RNNRegressor(hidden_size=4, max_epochs=2, random_state=0), "regress",
                     _embedding_rows, K + 1),
    "FeatureRegressor": (lambda: FeatureRegressor(), "regress", lambda m: m.n_symbols_, K + 1),
    "HMMTagger": (lambda: HMMTagger(), "tag", lambda m: m.model_.emissionprob_.shape[1], K + 1),
    "HMMTagger_unsupervised": (lambda: HMMTagger(mode="unsupervised", n_iter=200, random_state=0), "tag",
                               lambda m: m.model_.emissionprob_.shape[1], K + 1),
    "RNNTagger": (lambda: RNNTagger(hidden_size=4, max_epochs=2, random_state=0), "tag", _embedding_rows, K + 1),
    # 3 offsets, each with the K ids, <unk> and "outside the sequence"
    "WindowTagger": (lambda: WindowTagger(window=1), "tag", lambda m: m.model_.coef_.shape[1], 3 * (K + 2)),
    # language models: + the end as an outcome (and the start as an input for the network)
    "NGramLanguageModel": (lambda: NGramLanguageModel(n=2), "language_model", lambda m: m.tables_.n_symbols, K + 2),
    "HMMLanguageModel": (lambda: HMMLanguageModel(n_components=2, n_iter=5, random_state=0), "language_model",
                         lambda m: m.model_.emissionprob_.shape[1], K + 2),
    "RNNLanguageModel": (lambda: RNNLanguageModel(hidden_size=4, max_epochs=1, random_state=0), "language_model",
                         _embedding_rows, K + 2),
}
LANGUAGE_MODELS = [name for name, case in CASES.items() if case[1] == "language_model"]


def _fit(name, X):
    make, task, _, _ = CASES[name]
    model = make()
    if task == "classify":
        return model.fit(X, Y_CLASS)
    if task == "regress":
        return model.fit(X, Y_REG)
    if task == "tag":
        return model.fit(X, Y_TAGS)
    return model.fit(X)


def _outputs(name, model, X) -> list[np.ndarray]:
    """The model's numbers on ``X``: probabilities, predictions or log-likelihoods."""
    task = CASES[name][1]
    if name == "NearestNeighborClassifier":  # 1-NN votes are 0 or 1: compare the distances they come from
        return [model.predict_proba(X), model._test_distances(X)]
    if task == "classify":
        return [model.predict_proba(X)]
    if task == "regress":
        return [model.predict(X)]
    if task == "tag":
        return [np.concatenate(model.predict_proba(X))]
    return [model.score_samples(X), model.next_symbol_log_proba(X)]


def _relabel(X, f) -> list[np.ndarray]:
    return [f(np.asarray(s, dtype=np.int64)) for s in X]


@pytest.mark.parametrize("relabelling", sorted(RELABELLINGS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_relabelled_ids_give_the_dense_results_with_parameters_sized_by_distinct_ids(name, relabelling):
    f = RELABELLINGS[relabelling]
    dense = _fit(name, X_DENSE)
    relabelled = _fit(name, _relabel(X_DENSE, f))
    assert dense.vocabulary_.tolist() == list(range(K))
    assert relabelled.vocabulary_.tolist() == f(np.arange(K)).tolist()
    assert relabelled.vocabulary_.dtype == np.int64 and relabelled.n_symbols_ == dense.n_symbols_ == K + 1
    _, _, size, expected = CASES[name]
    assert size(relabelled) == size(dense) == expected
    for got, want in zip(_outputs(name, relabelled, _relabel(X_TEST, f)), _outputs(name, dense, X_TEST)):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_an_id_unseen_in_fit_reads_as_unk(name):
    """Ids K (next to the dense ones), 10**18 and the int64 maximum were never
    seen: each is <unk>, so all three give one finite result, no error."""
    model = _fit(name, X_DENSE)
    results = []
    for unseen in (K, 10**18, 2**63 - 1):
        X = [s.copy() for s in X_TEST]
        X[0][2] = X[1][0] = unseen
        results.append(_outputs(name, model, X))
    for got in results:
        for g, want in zip(got, results[0]):
            assert np.isfinite(g).all()
            np.testing.assert_array_equal(g, want)
    # and <unk> is not one of the seen symbols: a seen id in its place changes the result
    X = [s.copy() for s in X_TEST]
    X[0][2] = X[1][0] = 0
    assert not all(np.array_equal(a, b) for a, b in zip(_outputs(name, model, X), results[0]))


@pytest.mark.parametrize("name", LANGUAGE_MODELS)
def test_language_models_sample_the_callers_ids_and_never_unk(name):
    f = RELABELLINGS["up_to_int64_max"]
    dense = _fit(name, X_DENSE)
    relabelled = _fit(name, _relabel(X_DENSE, f))
    for kwargs in ({}, {"stop_at_end": True}, {"temperature": 3.0}):
        want = dense.sample(20, 12, random_state=0, **kwargs)
        got = relabelled.sample(20, 12, random_state=0, **kwargs)
        # the same draws, written in the caller's ids
        assert [g.tolist() for g in got] == [f(w).tolist() for w in want]
        drawn = np.concatenate(got)
        assert drawn.dtype == np.int64 and set(drawn.tolist()) <= set(relabelled.vocabulary_.tolist())
    # a flat distribution (high temperature) still never draws <unk>
    flat = np.concatenate(dense.sample(50, 40, temperature=50.0, random_state=1))
    assert set(flat.tolist()) == set(range(K))
    # a prompt keeps the caller's ids, unseen ones included (they condition the model as <unk>)
    prompt = np.array([f(1), 10**15])
    (sample,) = relabelled.sample(1, 5, prompt=prompt, random_state=0)
    assert sample[:2].tolist() == prompt.tolist() and set(sample[2:].tolist()) <= set(relabelled.vocabulary_.tolist())
    (same,) = relabelled.sample(1, 5, prompt=np.array([f(1), 5]), random_state=0)  # 5 is <unk> too
    assert same[2:].tolist() == sample[2:].tolist()
    with pytest.raises(ValueError, match="has no symbol in the model's vocabulary"):
        relabelled.sample(1, 5, prompt=[1, 2])  # ids of the dense data: all unseen here


def test_the_vocabulary_helpers_known_answers():
    seqs = [np.array([10**9, 0, 2**62]), np.array([0, 7])]
    vocabulary = fit_vocabulary(seqs)
    assert vocabulary.tolist() == [0, 7, 10**9, 2**62]
    codes = encode_symbols([np.array([2**62, 5, 0]), np.array([2**63 - 1]), np.array([7])], vocabulary)
    assert [c.tolist() for c in codes] == [[3, 4, 0], [4], [1]]  # unseen 5 and 2**63 - 1: <unk> = 4
    assert decode_symbols(np.array([3, 0, 2]), vocabulary).tolist() == [2**62, 0, 10**9]
    with pytest.raises(ValueError, match="position 4 is <unk>"):
        decode_symbols([4], vocabulary)
