"""Hostile and extreme input: typed errors instead of silent NaN models.

Each case was a silent NaN, an untyped exception or a numpy error before;
every one must now raise a ValueError or TypeError that names the problem.
"""

from __future__ import annotations

import numpy as np
import pytest

from seqbench.data import MAX_ABS_VALUE, check_sample_weight, check_sequences
from seqbench.models import (
    ARClassifier,
    FeatureClassifier,
    HMMClassifier,
    HMMForecaster,
    NaiveForecaster,
    RNNClassifier,
    RNNLanguageModel,
    RNNRegressor,
    WindowTagger,
)

RNG = np.random.default_rng(0)
X = [RNG.normal(size=(15, 2)) for _ in range(10)]
Y = np.arange(10) % 2


def _with(value, seq=3):
    out = [x.copy() for x in X]
    out[seq][0, 0] = value
    return out


@pytest.mark.parametrize(
    "make",
    [
        lambda: RNNClassifier(max_epochs=1, hidden_size=4, random_state=0),
        lambda: HMMClassifier(n_components=2, random_state=0),
        lambda: ARClassifier(),
        lambda: FeatureClassifier(),
    ],
    ids=["rnn", "hmm", "ar", "feature"],
)
def test_fit_refuses_finite_values_beyond_what_the_model_represents(make):
    with pytest.raises(ValueError, match=r"sequence 3, step 0, feature 0 holds 1e\+308.*rescale"):
        make().fit(_with(1e308), Y)


def test_float32_models_have_a_tighter_bound_than_float64_ones():
    big = _with(1e50)  # fine in float64, inf once a float32 network squares it
    FeatureClassifier().fit(big, Y)
    with pytest.raises(ValueError, match="1e\\+30"):
        RNNClassifier(max_epochs=1, hidden_size=4, random_state=0).fit(big, Y)


def test_predict_refuses_what_fit_would_refuse():
    reg = RNNRegressor(max_epochs=1, hidden_size=4, random_state=0).fit(X, Y.astype(float))
    with pytest.raises(ValueError, match="beyond the largest magnitude"):
        reg.predict([x * 1e200 for x in X])
    assert np.isfinite(reg.predict([x * 1e20 for x in X])).all()  # large but representable: finite


def test_forecasters_refuse_extreme_histories_instead_of_returning_nan_or_inf():
    series = np.sin(np.arange(120) / 3.0)
    with pytest.raises(ValueError, match="1e\\+308"):
        HMMForecaster(n_components=2, random_state=0).fit(series).predict(np.full(30, 1e308))
    with pytest.raises(ValueError, match="1e\\+308"):
        NaiveForecaster().fit(np.full(30, 1e308))
    low, high = NaiveForecaster(horizon=3).fit(series).predict_interval(series * 1e90)
    assert np.isfinite(low).all() and np.isfinite(high).all()


def test_integers_too_large_for_float64_are_a_value_error_not_overflow():
    with pytest.raises(ValueError, match="too large for float64"):
        FeatureClassifier().fit([[10**400, 1.0], [1.0, 2.0]], [0, 1])
    with pytest.raises(ValueError, match="too large for float64"):
        check_sequences(np.array([[10**400, 1]], dtype=object))


def test_symbol_ids_must_fit_int64():
    with pytest.raises(ValueError, match="does not fit int64"):
        check_sequences([np.array([0, 2**64 - 1], dtype=np.uint64)])
    assert check_sequences([np.array([0, 2**62])]).kind == "symbol"


def test_the_default_bound_is_stated_once_and_is_squarable_in_float64():
    assert np.isfinite(np.float64(MAX_ABS_VALUE) ** 2 * 1e6)
    check_sequences([np.full((3, 1), MAX_ABS_VALUE)])
    with pytest.raises(ValueError):
        check_sequences([np.full((3, 1), MAX_ABS_VALUE * 10)])


# -- labels and targets at score time ------------------------------------------------------
@pytest.fixture(scope="module")
def tagger():
    Xt = [RNG.normal(size=(12, 1)) for _ in range(6)]
    Yt = [(x[:, 0] > 0).astype(int) for x in Xt]
    return WindowTagger().fit(Xt, Yt), Xt, Yt


def test_tagger_score_refuses_continuous_and_complex_labels(tagger):
    model, Xt, Yt = tagger
    with pytest.raises(ValueError, match="continuous"):
        model.score(Xt, [y + 0.5 for y in Yt])
    with pytest.raises(ValueError, match="complex"):
        model.score(Xt, [y * 1j for y in Yt])


def test_tagger_score_checks_sample_weight_length(tagger):
    model, Xt, Yt = tagger
    with pytest.raises(ValueError, match="one weight per sequence"):
        model.score(Xt, Yt, sample_weight=[1.0, 2.0])
    full = model.score(Xt, Yt)
    assert model.score(Xt, Yt, sample_weight=np.full(len(Xt), 3.0)) == pytest.approx(full)


def test_forecaster_score_refuses_complex_futures():
    model = NaiveForecaster(horizon=2).fit(np.arange(20.0))
    with pytest.raises(ValueError, match="complex"):
        model.score(np.arange(20.0), np.array([1 + 1j, 2.0]))
    assert model.score(np.arange(20.0), np.array([20.0, 21.0])) <= 0


def test_mixed_label_types_name_both_types():
    y = np.array([1, "a"] * 5, dtype=object)
    with pytest.raises(TypeError, match=r"mixes label types: y\[1\] is a string \('a'\) and y\[0\] is int"):
        FeatureClassifier().fit(X, y)


@pytest.mark.parametrize("weights, message", [
    ([1.0, 2.0], "one weight per sequence"),
    ([1.0, np.nan, 1.0], "finite"),
    ([0.0, 0.0, 0.0], "sums to 0"),
    (["a", "b", "c"], "numeric"),
])
def test_check_sample_weight(weights, message):
    with pytest.raises(ValueError, match=message):
        check_sample_weight(weights, 3)
    np.testing.assert_array_equal(check_sample_weight([1, 2, 3], 3), [1.0, 2.0, 3.0])


@pytest.mark.parametrize("make, size", [
    (lambda: RNNLanguageModel(max_epochs=1), lambda m: m.module_.encoder.embedding.num_embeddings),
    (lambda: HMMClassifier(n_components=2, random_state=0), lambda m: m.models_[0].emissionprob_.shape[1]),
    (lambda: WindowTagger(window=1), lambda m: m.model_.coef_.shape[1]),
], ids=["rnn_lm", "hmm_classifier", "window_tagger"])
def test_a_huge_symbol_id_costs_one_symbol_not_the_largest_id(make, size):
    """Parameters follow the 3 distinct ids (0, 1, 10**9) plus <unk>, never
    the largest id: an embedding of 3 + <unk> + the start row, emissions over
    4 symbols, a window of 3 offsets with 4 symbols and "outside" each."""
    X = [np.array([0, 1, 10**9]), np.array([1, 0, 1])]
    model = make()
    if isinstance(model, WindowTagger):
        model.fit(X, [np.array([0, 1, 0]), np.array([1, 0, 1])])
    elif hasattr(model, "sample"):
        model.fit(X)
    else:
        model.fit(X, [0, 1])
    assert model.n_symbols_ == 4 and model.vocabulary_.tolist() == [0, 1, 10**9]
    assert size(model) == {"RNNLanguageModel": 5, "HMMClassifier": 4, "WindowTagger": 3 * 5}[type(model).__name__]
