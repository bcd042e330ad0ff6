"""The field's standard classification baselines: 1-nearest-neighbour with
Euclidean distance and DTW, and TF-IDF of word and character n-grams."""

from __future__ import annotations

import numpy as np
import pytest

from seqbench.models import REGISTRY, FeatureClassifier, NearestNeighborClassifier
from seqbench.models.baseline._neighbors import dtw_distances, window_steps


def reference_dtw(a: np.ndarray, b: np.ndarray, band: int | None) -> float:
    """Textbook DTW by dynamic programming: sqrt of the least sum of squared
    step differences, with the band of ``dtw_distances``' docstring."""
    n, m = len(a), len(b)
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            if band is not None and (j - i > band + max(0, m - n) or i - j > band + max(0, n - m)):
                continue
            D[i, j] = np.sum((a[i - 1] - b[j - 1]) ** 2) + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return float(np.sqrt(D[n, m]))


@pytest.mark.parametrize("d", [1, 3])
@pytest.mark.parametrize("band", [None, 0, 2])
def test_dtw_distances_match_the_textbook_recursion(d, band):
    rng = np.random.default_rng(d * 10 + (band or 0))
    A = [rng.normal(size=(rng.integers(4, 11), d)) for _ in range(4)]
    B = [rng.normal(size=(rng.integers(4, 11), d)) for _ in range(3)]
    expected = np.array([[reference_dtw(a, b, band) for b in B] for a in A])
    np.testing.assert_allclose(dtw_distances(A, B, band), expected, rtol=1e-10)


def test_window_zero_on_equal_lengths_is_the_euclidean_distance():
    rng = np.random.default_rng(1)
    A, B = [rng.normal(size=(9, 2)) for _ in range(3)], [rng.normal(size=(9, 2)) for _ in range(2)]
    euclid = np.array([[np.linalg.norm(a - b) for b in B] for a in A])
    np.testing.assert_allclose(dtw_distances(A, B, 0), euclid, rtol=1e-10)


def test_window_is_a_fraction_of_the_longest_length_or_a_step_count():
    assert window_steps(None, 40) is None
    assert window_steps(0.1, 45) == 5  # rounded up
    assert window_steps(1.0, 45) == 45
    assert window_steps(0, 45) == 0 and window_steps(7, 45) == 7


@pytest.mark.parametrize("window", [-1, 1.5, -0.1, "wide", True, [3]])
def test_a_bad_window_names_parameter_and_value(window):
    X, y = _shifted_bumps(np.random.default_rng(0), 10)
    with pytest.raises(ValueError, match=r"window") as caught:
        NearestNeighborClassifier(window=window).fit(X, y)
    assert repr(window) in str(caught.value)


def _shifted_bumps(rng, n, T=40):
    """Class 0: one bump, class 1: two bumps, each at a random position, so
    the classes differ in shape, not in where things happen."""
    X, y = [], []
    t = np.arange(T)
    for i in range(n):
        label = i % 2
        centres = rng.uniform(8, T - 8, size=1 + label)
        s = sum(np.exp(-0.5 * ((t - c) / 1.5) ** 2) for c in centres) + 0.05 * rng.normal(size=T)
        X.append(s[:, None])
        y.append(label)
    return X, np.array(y)


def test_dtw_sees_shape_where_euclidean_sees_position():
    rng = np.random.default_rng(0)
    X_train, y_train = _shifted_bumps(rng, 40)
    X_test, y_test = _shifted_bumps(rng, 100)
    dtw_acc = NearestNeighborClassifier("dtw").fit(X_train, y_train).score(X_test, y_test)
    euclid_acc = NearestNeighborClassifier("euclidean").fit(X_train, y_train).score(X_test, y_test)
    assert dtw_acc >= 0.95 and euclid_acc <= 0.85, (dtw_acc, euclid_acc)


def test_one_nearest_neighbour_recalls_its_training_set_and_votes_with_k():
    rng = np.random.default_rng(2)
    X, y = _shifted_bumps(rng, 30)
    est = NearestNeighborClassifier("dtw", window=0.25).fit(X, y)
    assert est.band_ == 10 and est.score(X, y) == 1.0
    proba = NearestNeighborClassifier("dtw", n_neighbors=3).fit(X, y).predict_proba(X)
    assert set(np.round(proba.ravel() * 3).astype(int)) <= {0, 1, 2, 3}
    assert REGISTRY["NearestNeighborClassifier"] is NearestNeighborClassifier
    assert NearestNeighborClassifier.capabilities.family == "baseline"


def test_euclidean_needs_one_length_and_says_so():
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(8, 1)), rng.normal(size=(8, 1)), rng.normal(size=(9, 1))]
    with pytest.raises(ValueError, match=r"metric='euclidean'.*sequence 2 has 9 steps.*metric='dtw'"):
        NearestNeighborClassifier("euclidean").fit(X, [0, 1, 0])
    est = NearestNeighborClassifier("euclidean").fit(X[:2], [0, 1])
    with pytest.raises(ValueError, match=r"sequence 0 has 9 steps and the training sequences have 8"):
        est.predict([X[2]])


def test_symbols_are_compared_one_hot():
    """A symbol sequence is nearest to the one that differs in fewest places:
    one mismatch costs 2 in squared distance whatever the symbol ids are."""
    train = [np.array([0, 1, 2, 3]), np.array([5, 5, 5, 5])]
    est = NearestNeighborClassifier("dtw", window=0).fit(train, ["a", "b"])
    # 3 and 4 are numerically close, but as categories 4 is as far from 3 as 5 is
    assert est.predict([np.array([0, 1, 2, 4]), np.array([5, 5, 4, 5])]).tolist() == ["a", "b"]
    # id 4 was never seen: it is <unk>, the last column after the ids seen (0, 1, 2, 3, 5)
    assert est.vocabulary_.tolist() == [0, 1, 2, 3, 5] and est.n_symbols_ == 6
    one_hot = np.eye(est.n_symbols_)[[0, 1, 2, 5]]
    np.testing.assert_allclose(dtw_distances([one_hot], est.X_fit_[:1], 0), [[np.sqrt(2)]])


# ----------------------------------------------------------------- text


def test_character_ngrams_carry_unseen_words():
    """Training words "enjoyable"/"dreadful" never occur at test time; their
    relatives "enjoyably"/"dreadfully" share character n-grams only, so only
    the character features can classify the test texts."""
    train = ["an enjoyable film", "truly enjoyable", "dreadful film", "truly dreadful"] * 5
    y = [1, 1, 0, 0] * 5
    test, y_test = ["enjoyably made", "dreadfully made"], [1, 0]
    with_chars = FeatureClassifier(C=10.0).fit(train, y)
    words_only = FeatureClassifier(C=10.0, char_ngram_range=None).fit(train, y)
    assert with_chars.score(test, y_test) == 1.0
    blind = words_only.predict_proba(test)  # no known word: both texts get the intercept alone
    np.testing.assert_allclose(blind[0], blind[1])
    assert words_only.score(test, y_test) == 0.5
    union = with_chars.pipeline_.named_steps["tfidf"]
    words = union.transformer_list[0][1]
    assert words.ngram_range == (1, 2) and "enjoyable film" in words.vocabulary_


def test_a_bad_character_ngram_range_names_the_parameter():
    with pytest.raises(ValueError, match=r"char_ngram_range must be a pair.*\(3, 2\)"):
        FeatureClassifier(char_ngram_range=(3, 2)).fit(["a b", "c d"], [0, 1])
