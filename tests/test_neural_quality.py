"""What makes the recurrent estimators good on real data: pooling over valid
steps (mean, max, additive attention with inspectable weights), learning-rate
schedules, early stopping's minimum validation size, text input with a
minimum-count vocabulary, and the forecaster's loss at every step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seqbench.data import Tokenizer
from seqbench.models import RNNClassifier, RNNForecaster, RNNRegressor, RNNTagger
from seqbench.models.neural._batches import SequenceBatches
from seqbench.models.neural._engine import Trainer, TrainingConfig, torch_session
from seqbench.models.neural._estimator_base import MIN_VALIDATION_SEQUENCES
from seqbench.models.neural._forecaster import ForecastRNN
from seqbench.models.neural._modules import AdditiveAttention, PooledRNN, RNNConfig

SMALL = dict(hidden_size=16, batch_size=16, lr=0.02, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_session(num_threads=1):
        yield


def marker_task(n, seed, T=12):
    """Label = sign of feature 0 at the one step whose feature 1 is 1 (a
    marker at a random position); every other step is noise."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for _ in range(n):
        s = np.column_stack([rng.normal(size=T), np.zeros(T)])
        t = rng.integers(0, T)
        s[t, 1] = 1.0
        X.append(s)
        y.append(int(s[t, 0] > 0))
    return X, np.array(y)


# -- pooling ------------------------------------------------------------------------------
@pytest.mark.parametrize("pooling", ["mean", "max", "attention"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pooling_reads_valid_steps_only(pooling, bidirectional):
    """A padded, packed batch gives each sequence the output it gets alone."""
    torch.manual_seed(0)
    config = RNNConfig(n_inputs=3, n_outputs=2, cell="gru", hidden_size=8, pooling=pooling,
                       bidirectional=bidirectional)
    module = PooledRNN(config).eval()
    rng = np.random.default_rng(0)
    seqs = [torch.tensor(rng.normal(size=(L, 3)), dtype=torch.float32) for L in (2, 7, 4)]
    padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    padded[0, 2:] = 1e3  # loud padding: any pooling that reads it moves far
    with torch.no_grad():
        together, _ = module(padded, torch.tensor([2, 7, 4]))
        alone = torch.cat([module(s[None])[0] for s in seqs])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)


def test_max_pooling_is_the_elementwise_maximum_over_valid_steps():
    torch.manual_seed(0)
    config = RNNConfig(n_inputs=2, n_outputs=1, cell="rnn", hidden_size=4, pooling="max")
    module = PooledRNN(config).eval()
    x = torch.randn(1, 6, 2)
    with torch.no_grad():
        outputs, _ = module.encoder(x)
        features, weights = module.features(x)
    assert weights is None
    torch.testing.assert_close(features, outputs[0].max(dim=0).values[None])


def test_additive_attention_weights_are_a_softmax_over_valid_steps():
    torch.manual_seed(0)
    attention = AdditiveAttention(features=4, attention_size=3)
    outputs = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False]])
    pooled, weights = attention(outputs, mask)
    scores = (torch.tanh(outputs @ attention.project.weight.T + attention.project.bias) @ attention.score.weight.T)[..., 0]
    expected = torch.softmax(scores[1, :2], dim=0)  # by hand, on the 2 valid steps of sequence 1
    torch.testing.assert_close(weights[1, :2], expected)
    assert torch.all(weights[1, 2:] == 0)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(2))
    torch.testing.assert_close(pooled[1], expected @ outputs[1, :2])


def test_attention_classifier_learns_to_look_at_the_marker():
    X, y = marker_task(400, seed=0)
    X_test, y_test = marker_task(200, seed=1)
    clf = RNNClassifier("gru", pooling="attention", bidirectional=True, max_epochs=25, **SMALL).fit(X, y)
    assert clf.score(X_test, y_test) > 0.85
    weights = clf.attention_weights(X_test)
    assert [len(w) for w in weights] == [len(s) for s in X_test]
    np.testing.assert_allclose([w.sum() for w in weights], 1.0, atol=1e-5)
    marked = [w[int(np.argmax(s[:, 1]))] for w, s in zip(weights, X_test)]
    assert np.mean(marked) > 3 / 12  # the marker step gets at least 3x the uniform weight on average


def test_attention_weights_keep_input_order_and_lengths():
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(L, 2)) for L in (3, 9, 5, 9, 1)]
    y = np.array([0, 1, 0, 1, 1])
    clf = RNNClassifier("lstm", pooling="attention", max_epochs=2, **SMALL).fit(X, y)
    weights = clf.attention_weights(X)
    alone = [clf.attention_weights([s])[0] for s in X]
    for w, a, s in zip(weights, alone, X):
        assert w.shape == (len(s),) and w.dtype == np.float64
        np.testing.assert_allclose(w, a, atol=1e-6)
    assert weights[4].tolist() == [pytest.approx(1.0)]  # one step gets all the weight


def test_attention_weights_on_text_are_per_token():
    texts = ["a fine film", "a dull film", "fine acting", "dull plot"] * 10
    labels = [1, 0, 1, 0] * 10
    clf = RNNClassifier(pooling="attention", max_epochs=3, **SMALL).fit(texts, labels)
    (weights,) = clf.attention_weights(["a fine and dull film indeed"])
    assert weights.shape == (6,)
    assert weights.sum() == pytest.approx(1.0, abs=1e-5)


def test_attention_errors_name_the_parameters():
    X, y = marker_task(30, seed=2)
    with pytest.raises(ValueError, match=r'pooling="attention" with tbptt=4'):
        RNNClassifier(pooling="attention", tbptt=4, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r'pooling="attention" with tbptt=4'):
        RNNRegressor(pooling="attention", tbptt=4, max_epochs=1).fit(X, y.astype(float))
    clf = RNNClassifier(pooling="mean", max_epochs=1, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="pooling='mean'"):
        clf.attention_weights(X)
    with pytest.raises(ValueError, match="pooling"):
        RNNClassifier(pooling="median").fit(X, y)


@pytest.mark.parametrize("pooling", ["max", "attention"])
def test_new_poolings_fit_regressors_and_pickle(pooling):
    import pickle

    X, y = marker_task(120, seed=4)
    target = np.array([s[int(np.argmax(s[:, 1])), 0] for s in X])
    reg = RNNRegressor("gru", pooling=pooling, max_epochs=30, **SMALL).fit(X, target)
    assert reg.score(X, target) > 0.5
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))


# -- learning-rate schedules ------------------------------------------------------------------
def test_cosine_and_step_schedules_set_each_epochs_rate():
    X, y = marker_task(40, seed=5)
    cosine = RNNClassifier(max_epochs=6, lr_schedule="cosine", **SMALL).fit(X, y)
    expected = [0.02 * (1 + math.cos(math.pi * e / 6)) / 2 for e in range(6)]
    assert [h["lr"] for h in cosine.history_] == pytest.approx(expected)
    step = RNNRegressor(max_epochs=8, lr_schedule="step", **SMALL).fit(X, y.astype(float))
    assert [h["lr"] for h in step.history_] == pytest.approx([0.02] * 4 + [0.002] * 2 + [0.0002] * 2)
    constant = RNNClassifier(max_epochs=3, **SMALL).fit(X, y)
    assert [h["lr"] for h in constant.history_] == [0.02] * 3


def test_plateau_schedule_halves_the_rate_when_the_monitored_loss_stalls():
    """On pure noise with a large rate the validation loss soon stops improving."""
    rng = np.random.default_rng(8)
    X = [rng.normal(size=(6, 2)) for _ in range(120)]
    y = rng.integers(0, 2, size=120)
    clf = RNNClassifier(max_epochs=30, lr_schedule="plateau", early_stopping=True, validation_fraction=0.25,
                        n_iter_no_change=30, **{**SMALL, "lr": 0.05, "hidden_size": 32}).fit(X, y)
    rates = [h["lr"] for h in clf.history_]
    assert rates[0] == 0.05 and min(rates) <= 0.025
    first_drop = next(i for i, r in enumerate(rates) if r < 0.05)
    val = [h["val_loss"] for h in clf.history_[:first_drop]]
    assert min(val[-3:]) >= min(val)  # the 3 epochs before the drop did not improve on the best


def test_every_engine_estimator_takes_lr_schedule_and_rejects_unknown_names():
    rng = np.random.default_rng(9)
    X = [rng.normal(size=(5, 1)) for _ in range(10)]
    tags = [np.array([0, 1, 0, 1, 0]) for _ in X]
    tagger = RNNTagger(max_epochs=2, lr_schedule="cosine", **SMALL).fit(X, tags)
    assert [h["lr"] for h in tagger.history_] == pytest.approx([0.02, 0.01])
    forecaster = RNNForecaster(window=4, max_epochs=2, lr_schedule="step", **SMALL).fit(np.sin(np.arange(60.0)))
    assert [h["lr"] for h in forecaster.history_] == pytest.approx([0.02, 0.002])
    with pytest.raises(ValueError, match="lr_schedule"):
        RNNClassifier(lr_schedule="linear").fit(X, [0, 1] * 5)
    with pytest.raises(ValueError, match="lr_schedule"):  # the engine alone, without the estimator's check
        Trainer(PooledRNN(RNNConfig(n_inputs=1, n_outputs=2)), TrainingConfig(lr_schedule="linear"))


def test_scheduler_steps_after_the_epoch_on_the_engine():
    config = RNNConfig(n_inputs=2, n_outputs=2, hidden_size=4)
    torch.manual_seed(0)
    X, y = marker_task(20, seed=6)
    trainer = Trainer(PooledRNN(config), TrainingConfig(lr=0.1, max_epochs=4, lr_schedule="step"))
    history = trainer.fit(SequenceBatches(X, y)).history
    assert [h["lr"] for h in history] == pytest.approx([0.1, 0.1, 0.01, 0.001])
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.001)


# -- early stopping's minimum validation size ---------------------------------------------------
def test_early_stopping_refuses_a_tiny_validation_split_and_trains_max_epochs():
    X, y = marker_task(50, seed=7)  # GunPoint's size: 10% is 5 validation sequences
    clf = RNNClassifier(max_epochs=4, early_stopping=True, **SMALL).fit(X, y)
    assert clf.early_stopping_ is False
    assert clf.n_iter_ == clf.best_epoch_ == 4 and all(h["val_loss"] is None for h in clf.history_)
    assert "refused" in clf.stopping_ and "gives 5 for validation" in clf.stopping_
    assert f"at least {MIN_VALIDATION_SEQUENCES}" in clf.stopping_
    # the same data with a split of 20 is accepted
    used = RNNClassifier(max_epochs=4, early_stopping=True, validation_fraction=0.4, **SMALL).fit(X, y)
    assert used.early_stopping_ is True and used.history_[0]["val_loss"] is not None
    assert "early stopping on 0.4 of 50 sequences" in used.stopping_
    off = RNNClassifier(max_epochs=2, **SMALL).fit(X, y)
    assert off.early_stopping_ is False and "early_stopping=False" in off.stopping_


def test_early_stopping_needs_two_validation_sequences_of_every_class():
    rng = np.random.default_rng(10)
    X = [rng.normal(size=(4, 1)) for _ in range(100)]
    y = np.array([2] * 5 + [0] * 45 + [1] * 50)  # 25% is 25 validation sequences, but class 2 gets only 1
    clf = RNNClassifier(max_epochs=2, early_stopping=True, validation_fraction=0.25, **SMALL).fit(X, y)
    assert clf.early_stopping_ is False and "smallest of 3 classes holds 5" in clf.stopping_
    reg = RNNRegressor(max_epochs=2, early_stopping=True, validation_fraction=0.25, **SMALL).fit(X, y.astype(float))
    assert reg.early_stopping_ is True  # a regressor has no classes to balance


def test_forecaster_early_stopping_counts_windows():
    series = np.sin(np.arange(100) / 3.0)
    small = RNNForecaster(window=10, max_epochs=2, early_stopping=True, **SMALL).fit(series)  # 90 windows: 9
    assert small.early_stopping_ is False and "90 windows gives 9" in small.stopping_
    big = RNNForecaster(window=10, max_epochs=2, early_stopping=True, validation_fraction=0.25, **SMALL).fit(series)
    assert big.early_stopping_ is True and big.history_[0]["val_loss"] is not None


# -- text ---------------------------------------------------------------------------------------
def test_text_vocabulary_keeps_words_seen_min_count_times():
    texts = ["A fine film", "a dull film", "fine acting", "dull plot", "rare gem"]
    labels = [1, 0, 1, 0, 1]
    clf = RNNClassifier(min_count=2, embedding_dim=8, dropout=0.5, bidirectional=True, max_epochs=2, **SMALL)
    clf.fit(texts, labels)
    assert clf.tokenizer_.symbols_ == ["<unk>", "a", "fine", "film", "dull"]  # lower-cased, counted, ordered
    assert clf.n_symbols_ == 5 and clf.module_.encoder.embedding.num_embeddings == 5
    assert clf.module_.encoder.embedding_dropout.p == 0.5
    assert clf.predict(["rare plot, never seen"]).shape == (1,)


def test_min_count_that_leaves_no_word_is_refused():
    texts = ["a fine film", "a dull film"]
    with pytest.raises(ValueError, match=r"min_count=3 leaves no word .* occurs 2 time\(s\).* at most 2"):
        RNNClassifier(min_count=3, max_epochs=1).fit(texts, [1, 0])
    with pytest.raises(ValueError, match="min_count=5 leaves no char"):
        Tokenizer("char", min_count=5).fit(["ab", "ba"])
    with pytest.raises(ValueError, match="set min_count on that tokenizer"):
        RNNClassifier(min_count=2, tokenizer=Tokenizer("word"), max_epochs=1).fit(texts, [1, 0])


def test_embedding_dropout_acts_in_training_only():
    torch.manual_seed(0)
    config = RNNConfig(n_inputs=10, n_outputs=2, input_kind="symbol", hidden_size=4, embedding_dropout=0.9)
    module = PooledRNN(config)
    ids = torch.randint(0, 10, (3, 5))
    module.eval()
    a, b = module(ids)[0], module(ids)[0]
    torch.testing.assert_close(a, b)
    module.train()
    assert not torch.allclose(module(ids)[0], module(ids)[0])
    assert PooledRNN(RNNConfig(n_inputs=10, n_outputs=2, input_kind="symbol")).encoder.embedding_dropout is None


# -- forecaster: a loss at every step of the window ---------------------------------------------
def test_every_step_loss_is_the_mean_over_the_shifted_window():
    torch.manual_seed(0)
    config = RNNConfig(n_inputs=1, n_outputs=1, cell="lstm", hidden_size=6, loss="mse")
    module = ForecastRNN(config, every_step=True).eval()
    x = torch.randn(4, 7, 1)
    targets = torch.randn(4, 7, 1)
    with torch.no_grad():
        output, loss = module(x, None, targets)
        outputs, _ = module.encoder(x)
        per_step = module.head(outputs)
    torch.testing.assert_close(output, per_step[:, -1])
    torch.testing.assert_close(loss, F.mse_loss(per_step, targets))
    last = ForecastRNN(config)
    last.load_state_dict(module.state_dict())
    torch.testing.assert_close(last.eval()(x)[0], output)  # same weights, same one-step forecast


def test_forecaster_all_steps_trains_on_the_shifted_windows_and_forecasts():
    series = np.sin(np.arange(300) / 4.0) + 0.05 * np.random.default_rng(0).normal(size=300)
    f = RNNForecaster("gru", window=12, horizon=20, loss_steps="all", max_epochs=30, **SMALL).fit(series[:-20])
    inputs, targets, _ = f._windows([(series[:-20, None] - f.mean_) / f.scale_])
    np.testing.assert_array_equal(targets[:, :-1], inputs[:, 1:])  # the window shifted one step ahead
    assert -f.score(series[:-20], series[-20:]) < 1.0  # MASE: better than the naive forecast
    with pytest.raises(ValueError, match=r'loss_steps="all".*strategy=\'direct\''):
        RNNForecaster(strategy="direct", loss_steps="all").fit(series)


# -- standardised real input ---------------------------------------------------------------------
def test_standardize_makes_the_fit_blind_to_each_features_units():
    X, y = marker_task(60, seed=11)
    rescaled = [s * np.array([100.0, 0.01]) + np.array([5.0, -3.0]) for s in X]
    a = RNNClassifier(max_epochs=3, **SMALL).fit(X, y)
    b = RNNClassifier(max_epochs=3, **SMALL).fit(rescaled, y)
    np.testing.assert_allclose(b.predict_proba(rescaled), a.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(b.input_scale_, a.input_scale_ * [100.0, 0.01])
    raw = RNNClassifier(max_epochs=3, standardize=False, **SMALL).fit(rescaled, y)
    assert raw.input_mean_ is None
    assert not np.allclose(raw.predict_proba(rescaled), a.predict_proba(X), atol=1e-3)
    texts = RNNClassifier(max_epochs=1, **SMALL).fit(["a b", "b a"], [0, 1])
    assert texts.input_mean_ is None and texts.input_scale_ is None  # nothing to scale in symbols


def test_predictions_on_a_subset_match_the_full_batch_to_float32_precision():
    """What scikit-learn's check_methods_subset_invariance asks, on other data and at float32's
    tolerance: rows predicted in batches of another size, or in another order, agree."""
    rng = np.random.default_rng(12)
    X = rng.normal(size=(40, 2, 2)) * [3.0, 0.5]
    y = (X[:, -1, 0] > 0).astype(int)
    clf = RNNClassifier(max_epochs=5, **SMALL).fit(X, y)
    full = clf.predict_proba(X)
    np.testing.assert_allclose(np.vstack([clf.predict_proba(X[i : i + 7]) for i in range(0, 40, 7)]), full, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[::-1])[::-1], full, atol=1e-6)
