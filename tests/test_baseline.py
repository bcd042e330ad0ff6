"""FeatureClassifier: the summary features by hand, TF-IDF on text and on
symbol ids, variable lengths, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from seqbench.models import FeatureClassifier
from seqbench.models._features import SUMMARY_NAMES, summary_features, symbol_ngrams


def test_summary_features_equal_hand_computed_values():
    a = np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 8.0]])  # channel 0: 1 3 2; channel 1: 5 5 8
    b = np.array([[4.0, -1.0]])  # one step
    feats = summary_features([a, b])
    assert feats.shape == (2, 2 * len(SUMMARY_NAMES))
    # channel 0 of a: mean 2, std sqrt(2/3), min 1, max 3, last 2,
    # slope of (0,1) (1,3) (2,2): sum (t-1)(x-2) / sum (t-1)^2 = (1 + 0) / 2 = 0.5
    np.testing.assert_allclose(feats[0, :6], [2.0, np.sqrt(2 / 3), 1.0, 3.0, 2.0, 0.5])
    # channel 1 of a: mean 6, std sqrt(2), min 5, max 8, last 8, slope (1*2 + (-1)*(-1)) / 2 = 1.5
    np.testing.assert_allclose(feats[0, 6:], [6.0, np.sqrt(2.0), 5.0, 8.0, 8.0, 1.5])
    # a one-step sequence: no spread, no slope
    np.testing.assert_allclose(feats[1], [4.0, 0, 4.0, 4.0, 4.0, 0, -1.0, 0, -1.0, -1.0, -1.0, 0])


def test_slope_is_the_least_squares_slope_against_time():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(T, 3)) for T in (2, 7, 30)]
    feats = summary_features(seqs).reshape(3, 3, 6)
    for s, f in zip(seqs, feats):
        for j in range(3):
            np.testing.assert_allclose(f[j, 5], np.polyfit(np.arange(len(s)), s[:, j], 1)[0], rtol=1e-10)
            np.testing.assert_allclose(f[j, 1], s[:, j].std(), rtol=1e-10)


def test_symbol_ngrams():
    assert symbol_ngrams(np.array([3, 17, 3]), (1, 2)) == ["3", "17", "3", "3 17", "17 3"]
    assert symbol_ngrams([5], (2, 3)) == []


def test_learns_a_trend_with_variable_lengths():
    rng = np.random.default_rng(1)
    X, y = [], []
    for i in range(120):
        T, label = rng.integers(5, 40), i % 2
        X.append((0.3 * (2 * label - 1)) * np.arange(T) + rng.normal(size=T) * 2.0)
        y.append(label)
    est = FeatureClassifier().fit(X[:80], y[:80])
    assert est.score(X[80:], y[80:]) >= 0.9
    assert [name for name, _ in est.pipeline_.steps] == ["features", "scale", "logreg"]
    assert est.n_iter_ >= 1 and est.n_features_in_ == 1


def test_blobs_as_length_two_sequences_are_learned():
    """The training-accuracy part of sklearn's check_classifiers_train (the
    check is an expected failure: it also requires predict(X.T) to raise)."""
    X, y = make_blobs(n_samples=300, random_state=0)
    X = StandardScaler().fit_transform(X)
    for mask in (y != 2, np.ones(len(y), bool)):
        assert FeatureClassifier().fit(X[mask], y[mask]).score(X[mask], y[mask]) > 0.83


def _word_presence(rng, n):
    """Texts of 4..15 random words; the label is whether "banana" occurs."""
    words = np.array(["apple", "cherry", "grape", "lemon", "mango", "melon", "peach", "plum", "a", "I"])
    texts, y = [], []
    for i in range(n):
        t = list(rng.choice(words, size=rng.integers(4, 16)))
        if i % 2:
            t.insert(rng.integers(0, len(t) + 1), "Banana" if i % 4 == 1 else "banana")
        texts.append(" ".join(t))
        y.append(i % 2)
    return texts, np.array(y)


def test_tfidf_on_text_learns_word_presence():
    rng = np.random.default_rng(2)
    texts, y = _word_presence(rng, 200)
    est = FeatureClassifier(C=10.0).fit(texts[:100], y[:100])
    assert est.input_kind_ == "text" and not hasattr(est, "tokenizer_")
    assert est.score(texts[100:], y[100:]) >= 0.95
    # words the vectorizer has never seen are ignored, not an error
    assert est.predict(["kiwi banana", "kiwi kiwi"]).tolist() == [1, 0]
    # one-letter words are features too (scikit-learn's default pattern drops them)
    words = est.pipeline_.named_steps["tfidf"].transformer_list[0][1]  # word n-grams beside character n-grams
    assert {"a", "i"} <= set(words.vocabulary_)


def test_tfidf_on_symbol_ids_learns_symbol_presence_and_bigrams():
    rng = np.random.default_rng(3)
    X, y = [], []
    for i in range(200):
        s = rng.integers(0, 7, size=rng.integers(4, 16))
        if i % 2:
            s[rng.integers(0, len(s))] = 7  # symbol 7 present
        X.append(s)
        y.append(i % 2)
    est = FeatureClassifier(C=10.0).fit(X[:100], y[:100])
    assert est.input_kind_ == "symbol" and est.n_symbols_ == 9  # ids 0..7 and <unk>
    assert est.score(X[100:], y[100:]) >= 0.95
    # bigrams: the label is the ORDER of 1 and 2 (1 then 2 vs 2 then 1); unigrams cannot tell
    X2 = [np.array([0, 1, 2, 0]) if i % 2 else np.array([0, 2, 1, 0]) for i in range(40)]
    y2 = np.arange(40) % 2
    assert FeatureClassifier(ngram_range=(1, 1)).fit(X2, y2).score(X2, y2) == 0.5
    assert FeatureClassifier(ngram_range=(1, 2)).fit(X2, y2).score(X2, y2) == 1.0


def test_errors():
    rng = np.random.default_rng(4)
    texts, y = _word_presence(rng, 20)
    est = FeatureClassifier().fit(texts, y)
    with pytest.raises(TypeError, match="fitted on text"):
        est.predict(rng.normal(size=(3, 5)))
    with pytest.raises(ValueError, match="ngram_range"):
        FeatureClassifier(ngram_range=(2, 1)).fit(texts, y)
    with pytest.raises(ValueError, match="parameter of FeatureClassifier must be"):
        FeatureClassifier(C=0.0).fit(texts, y)
    real = FeatureClassifier().fit(rng.normal(size=(10, 6, 2)), [0, 1] * 5)
    with pytest.raises(ValueError, match="fitted with 2"):
        real.predict(rng.normal(size=(3, 6, 4)))
    with pytest.raises(ValueError, match="empty string"):
        est.predict(["banana", ""])


def test_feature_regressor_learns_a_summary_target_on_ragged_sequences():
    """Target = mean of channel 0 + 2 * last value of channel 1: linear in the
    summary features, so ridge on them fits it almost exactly."""
    from seqbench.models import FeatureRegressor

    rng = np.random.default_rng(0)
    X = [rng.normal(size=(rng.integers(5, 30), 2)) for _ in range(300)]
    y = np.array([s[:, 0].mean() + 2 * s[-1, 1] for s in X])
    model = FeatureRegressor(alpha=1e-3).fit(X[:200], y[:200])
    assert model.score(X[200:], y[200:]) > 0.99
    assert model.predict(X[200:]).shape == (100,)
    with pytest.raises(ValueError, match="y has 199 targets but X has 200 sequences"):
        FeatureRegressor().fit(X[:200], y[:199])
