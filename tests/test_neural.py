"""RNNClassifier / RNNRegressor and the shared training engine.

Real learning on small tasks built so that bugs show: the label of each
variable-length sequence depends on its last *valid* step, so reading the
padding instead of the final state fails the test. Plus the padding
arithmetic against single-sequence runs, clipping, early stopping,
reproducibility, errors, and a grid search over the three cells.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits, make_blobs
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import shuffle
from torch.nn.utils.rnn import pad_packed_sequence

from seqbench.data import Tokenizer
from seqbench.models import RNNClassifier, RNNForecaster, RNNLanguageModel, RNNRegressor, RNNTagger
from seqbench.models.neural._batches import IGNORE_INDEX, SequenceBatches
from seqbench.models.neural._engine import Trainer, TrainingConfig, iter_outputs, predict_outputs, torch_session
from seqbench.models.neural._estimator_base import NEURAL_CONSTRAINTS, ModuleOnCPUPickleMixin
from seqbench.models.neural._modules import PooledRNN, RecurrentEncoder, RNNConfig

SMALL = dict(hidden_size=16, batch_size=16, lr=0.02, random_state=0, device="cpu")  # exact repeatability is a CPU promise


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Engine-level tests run the Trainer directly: give them the estimators'
    default of one torch thread (several threads on a busy 2-core machine
    spend most of their time waiting on each other)."""
    with torch_session(num_threads=1):
        yield


def last_step_task(n, seed, d=2):
    """Lengths 3..12; label = sign of feature 0 at the sequence's last step."""
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(rng.integers(3, 13), d)) for _ in range(n)]
    y = np.array([int(s[-1, 0] > 0) for s in X])
    return X, y


@pytest.mark.parametrize(
    "params",
    [dict(cell="gru"), dict(cell="lstm", bidirectional=True), dict(cell="rnn", nonlinearity="relu")],
    ids=["gru", "lstm-bidirectional", "rnn-relu"],
)
def test_learns_label_of_last_valid_step(params):
    X, y = last_step_task(300, seed=0)
    X_test, y_test = last_step_task(200, seed=1)
    clf = RNNClassifier(**SMALL, max_epochs=15, **params).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.9
    if params["cell"] == "rnn":
        assert clf.module_.encoder.rnn.nonlinearity == "relu"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_padded_batch_equals_each_sequence_alone(cell, bidirectional, pooling):
    X, _ = last_step_task(9, seed=2, d=3)
    config = RNNConfig(n_inputs=3, n_outputs=4, cell=cell, hidden_size=5, bidirectional=bidirectional, pooling=pooling)
    torch.manual_seed(0)
    module = PooledRNN(config).eval()
    source = SequenceBatches(X)
    batch = source.batch(np.arange(len(X)))
    assert batch.lengths is not None  # lengths differ: this batch is packed
    with torch.no_grad():
        together, _ = module(batch.inputs, batch.lengths)
        for i, seq in enumerate(X):
            alone = source.batch(np.array([i]))
            assert alone.lengths is None  # one length: plain padded tensor
            expected, _ = module(alone.inputs, alone.lengths)
            np.testing.assert_allclose(together[i].numpy(), expected[0].numpy(), rtol=1e-5, atol=1e-6)
            if pooling == "last":
                # reference: read the per-step outputs of the unpacked sequence directly
                outputs, _ = module.encoder(torch.as_tensor(seq[None], dtype=torch.float32))
                h = config.hidden_size
                reference = outputs[0, -1, :h]  # forward direction at the last valid step
                if bidirectional:  # backward direction after reading back to step 0
                    reference = torch.cat([reference, outputs[0, 0, h:]])
                np.testing.assert_allclose(
                    module.head(reference).numpy(), together[i].numpy(), rtol=1e-5, atol=1e-6
                )


def test_blobs_as_length_two_sequences_reach_sklearn_accuracy():
    """The training part of sklearn's check_classifiers_train (declared as an
    expected failure only for its predict(X.T) step) with the FAST_PARAMS."""
    X_m, y_m = make_blobs(n_samples=300, random_state=0)
    X_m, y_m = shuffle(X_m, y_m, random_state=7)
    X_m = StandardScaler().fit_transform(X_m)
    for X, y in [(X_m[y_m != 2], y_m[y_m != 2]), (X_m, y_m)]:
        clf = RNNClassifier(hidden_size=16, max_epochs=30, batch_size=32, lr=0.02, random_state=0)
        clf.fit(X.tolist(), y.tolist())
        assert clf.predict(X).shape == (len(y),)
        assert np.mean(clf.predict(X) == y) > 0.83


def test_stacked_layers_with_dropout_learn_and_predict_deterministically():
    X, y = last_step_task(300, seed=3)
    clf = RNNClassifier("gru", **SMALL, num_layers=2, dropout=0.2, max_epochs=15).fit(X, y)
    assert clf.module_.encoder.rnn.num_layers == 2 and clf.module_.encoder.rnn.dropout == 0.2
    assert clf.score(*last_step_task(200, seed=4)) >= 0.85
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))  # dropout off in predict


def test_symbol_input_goes_through_an_embedding():
    rng = np.random.default_rng(5)
    X = [rng.integers(0, 6, size=rng.integers(4, 10)) for _ in range(300)]
    y = np.array([int(s[-1] >= 3) for s in X])  # label read from the last symbol
    clf = RNNClassifier(**SMALL, embedding_dim=8, max_epochs=10).fit(X[:200], y[:200])
    embedding = clf.module_.encoder.embedding
    assert (embedding.num_embeddings, embedding.embedding_dim) == (7, 8)  # ids 0..5 and <unk>
    assert clf.n_symbols_ == 7 and clf.n_features_in_ == 1
    assert clf.score(X[200:], y[200:]) >= 0.9


def test_text_input_is_tokenized():
    good = ["a good film", "good and fun", "really good", "fun film", "good fun"]
    bad = ["a bad film", "bad and dull", "really bad", "dull film", "bad dull"]
    texts, y = good * 8 + bad * 8, np.array([1] * 40 + [0] * 40)
    clf = RNNClassifier(**SMALL, max_epochs=10).fit(texts, y)
    assert clf.tokenizer_.level == "word" and clf.n_symbols_ == len(clf.tokenizer_.symbols_)
    np.testing.assert_array_equal(clf.predict(["good film", "so bad", "unseen words good"]), [1, 0, 1])
    char = RNNClassifier(**SMALL, max_epochs=10, tokenizer=Tokenizer(level="char")).fit(texts, y)
    assert char.tokenizer_.level == "char" and char.score(texts, y) == 1.0


def test_regressor_learns_a_sum_and_undoes_the_standardisation():
    rng = np.random.default_rng(6)
    X = [rng.uniform(-1, 1, size=(rng.integers(3, 9), 1)) for _ in range(400)]
    y = np.array([s.sum() for s in X])
    reg = RNNRegressor("gru", **SMALL, max_epochs=20).fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) >= 0.9
    scaled = RNNRegressor("gru", **SMALL, max_epochs=20).fit(X[:300], 1000 * y[:300] + 5)
    assert abs(scaled.y_mean_ - (1000 * reg.y_mean_ + 5)) < 1e-6
    np.testing.assert_allclose(scaled.predict(X[300:]), 1000 * reg.predict(X[300:]) + 5, rtol=1e-3, atol=1.0)


def test_grad_clip_bounds_the_first_adam_step():
    """Adam moves each weight by lr * g / (|g| + eps), so with the total
    gradient norm clipped to c the step's norm is at most lr * c / eps."""
    X, y = last_step_task(32, seed=7)
    X = [s[-6:] for s in X]  # lengths 3..6, labels kept: one batch (longest at most twice the shortest)
    config = RNNConfig(n_inputs=2, n_outputs=2, cell="gru", hidden_size=8)
    changes = {}
    for clip in (1e-10, None):
        torch.manual_seed(0)
        module = PooledRNN(config)
        before = torch.cat([p.detach().flatten().clone() for p in module.parameters()])
        trainer = Trainer(module, TrainingConfig(lr=0.01, batch_size=32, max_epochs=1, grad_clip=clip), random_state=0)
        history = trainer.fit(SequenceBatches(X, y)).history
        after = torch.cat([p.detach().flatten() for p in module.parameters()])
        changes[clip] = float((after - before).norm())
        assert history[0]["grad_norm"] > 1e-3  # logged before clipping
    assert changes[1e-10] <= 0.01 * 1e-10 / 1e-8
    assert changes[None] > 100 * changes[1e-10]


def test_early_stopping_stops_and_restores_the_best_weights():
    rng = np.random.default_rng(8)
    X = [rng.normal(size=(6, 2)) for _ in range(80)]
    y = rng.integers(0, 2, size=80)  # noise: the validation loss soon rises
    clf = RNNClassifier(
        **{**SMALL, "lr": 0.05, "hidden_size": 32}, max_epochs=200, early_stopping=True, n_iter_no_change=3,
        validation_fraction=0.25,  # 20 validation sequences: the least early stopping accepts
    ).fit(X, y)
    val = [h["val_loss"] for h in clf.history_]
    assert clf.n_iter_ < 200 and clf.n_iter_ == len(val)
    assert clf.best_epoch_ == int(np.argmin(val)) + 1
    assert clf.n_iter_ == clf.best_epoch_ + 3

    # the engine restores the best weights: their validation loss is the best one logged
    config = RNNConfig(n_inputs=2, n_outputs=2, hidden_size=32)
    torch.manual_seed(0)
    trainer = Trainer(PooledRNN(config), TrainingConfig(lr=0.05, batch_size=16, max_epochs=200, n_iter_no_change=3))
    val_source = SequenceBatches(X[60:], y[60:])
    result = trainer.fit(SequenceBatches(X[:60], y[:60]), val_source)
    assert result.n_epochs < 200
    best = result.history[result.best_epoch - 1]["val_loss"]
    assert min(h["val_loss"] for h in result.history) == best
    assert trainer.evaluate(val_source) == pytest.approx(best, rel=1e-6)


def test_early_stopping_with_too_few_sequences_says_so_and_trains_max_epochs():
    X, _ = last_step_task(12, seed=9)
    y = np.arange(12) % 3  # 3 classes, but 10% of 12 sequences is 2 validation sequences
    clf = RNNClassifier(early_stopping=True, validation_fraction=0.1, max_epochs=2, **SMALL).fit(X, y)
    assert not clf.early_stopping_ and clf.n_iter_ == 2
    assert "12 sequences gives 2 for validation" in clf.stopping_
    reg = RNNRegressor(early_stopping=True, validation_fraction=0.5, max_epochs=1, **SMALL).fit(X[:1], [1.0])
    assert not reg.early_stopping_ and "1 sequences gives 1 for validation" in reg.stopping_


def test_same_random_state_same_predictions_and_no_global_side_effects():
    X, y = last_step_task(100, seed=10)
    params = dict(**SMALL, max_epochs=3, dropout=0.3)
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    with torch_session(num_threads=2):
        first = RNNClassifier(**params).fit(X, y)  # trains on num_threads=1 torch thread ...
        assert torch.get_num_threads() == 2  # ... and gives the caller's setting back
    assert torch.equal(torch.rand(3), expected_draw)  # fit does not consume the global torch RNG
    second = RNNClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert [h["train_loss"] for h in first.history_] == [h["train_loss"] for h in second.history_]
    other = RNNClassifier(**{**params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_history_records_every_epoch():
    X, y = last_step_task(100, seed=11)
    clf = RNNClassifier(**SMALL, max_epochs=6).fit(X, y)
    assert clf.n_iter_ == clf.best_epoch_ == 6 and clf.device_ == "cpu"
    assert [h["epoch"] for h in clf.history_] == list(range(1, 7))
    for h in clf.history_:
        assert set(h) == {"epoch", "train_loss", "val_loss", "grad_norm", "seconds", "lr"}
        assert h["lr"] == SMALL["lr"]  # no lr_schedule: constant
        assert h["val_loss"] is None and h["seconds"] > 0 and h["grad_norm"] > 0
    assert clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]
    assert json.loads(json.dumps(clf.history_)) == clf.history_


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(cell="transformer"), "cell"),
        (dict(nonlinearity="sigmoid"), "nonlinearity"),
        (dict(hidden_size=0), "hidden_size"),
        (dict(num_layers=0), "num_layers"),
        (dict(dropout=1.0), "dropout"),
        (dict(pooling="median"), "pooling"),
        (dict(lr=0.0), "lr"),
        (dict(batch_size=0), "batch_size"),
        (dict(grad_clip=-1.0), "grad_clip"),
        (dict(validation_fraction=1.5), "validation_fraction"),
        (dict(validation_fraction=0.0), "validation_fraction"),
        (dict(device="tpu"), "device"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X, y = last_step_task(10, seed=12)
    with pytest.raises(ValueError, match=match):
        RNNClassifier(max_epochs=1, **params).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    X, y = last_step_task(10, seed=12)
    with pytest.raises(ValueError, match="no CUDA device"):
        RNNClassifier(max_epochs=1, device="cuda").fit(X, y)


def test_predicting_with_a_different_feature_count_is_an_error():
    X, y = last_step_task(20, seed=13, d=2)
    clf = RNNClassifier(**SMALL, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="fitted with 2"):
        clf.predict([np.zeros((4, 3))])


def test_pickle_keeps_predictions_and_module_on_cpu():
    X, y = last_step_task(40, seed=14)
    reg = RNNRegressor(**SMALL, max_epochs=2).fit(X, y.astype(float))
    loaded = pickle.loads(pickle.dumps(reg))
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_per_step_targets_are_padded_for_a_tagger():
    """Engine plumbing for a later tagger: aligned per-step labels come
    padded with the cross-entropy ignore index, inputs with zeros."""
    X = [np.ones((2, 1)), np.ones((4, 1))]
    tags = [np.array([1, 2]), np.array([3, 4, 5, 6])]
    batch = SequenceBatches(X, tags).batch(np.array([0, 1]))
    assert batch.targets.tolist() == [[1, 2, IGNORE_INDEX, IGNORE_INDEX], [3, 4, 5, 6]]
    assert batch.inputs[0, 2:].abs().sum() == 0 and batch.lengths.tolist() == [2, 4]


def test_predict_outputs_follow_source_order():
    X, y = last_step_task(30, seed=15)
    with torch_session(seed=0):
        module = PooledRNN(RNNConfig(n_inputs=2, n_outputs=2, hidden_size=4))
    full = predict_outputs(module, SequenceBatches(X), batch_size=7)
    reversed_ = predict_outputs(module, SequenceBatches(X[::-1]), batch_size=7)
    np.testing.assert_array_equal(full, reversed_[::-1])


def test_grid_search_over_cells_on_digits():
    digits = load_digits()
    X, y = digits.data[:600].reshape(-1, 8, 8) / 16.0, digits.target[:600]
    rnn = RNNClassifier(hidden_size=32, max_epochs=12, lr=0.01, batch_size=32, random_state=0, device="cpu")
    search = GridSearchCV(Pipeline([("rnn", rnn)]), {"rnn__cell": ["rnn", "lstm", "gru"]}, cv=2).fit(X, y)
    assert search.best_score_ >= 0.6  # chance is 0.1
    assert set(search.cv_results_["param_rnn__cell"]) == {"rnn", "lstm", "gru"}


class _PerStepTagger(torch.nn.Module):
    """What a tagger's module looks like: per-step logits, padding ignored."""

    def __init__(self, config):
        super().__init__()
        self.encoder = RecurrentEncoder(config)
        self.head = torch.nn.Linear(config.feature_size, config.n_outputs)

    def forward(self, inputs, lengths=None, targets=None):
        outputs, _ = self.encoder(inputs, lengths)
        if lengths is not None:
            outputs, _ = pad_packed_sequence(outputs, batch_first=True)
        logits = self.head(outputs)  # (B, T, C)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=IGNORE_INDEX)


def test_engine_trains_a_per_step_module_unchanged():
    rng = np.random.default_rng(16)
    X = [rng.normal(size=(rng.integers(3, 10), 1)) for _ in range(200)]
    tags = [(s[:, 0] > 0).astype(np.int64) for s in X]  # tag every step with its sign
    torch.manual_seed(0)
    module = _PerStepTagger(RNNConfig(n_inputs=1, n_outputs=2, hidden_size=8))
    config = TrainingConfig(lr=0.02, batch_size=16, max_epochs=8)
    history = Trainer(module, config, random_state=0).fit(SequenceBatches(X, tags)).history
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    correct = total = 0
    for batch, logits in iter_outputs(module, SequenceBatches(X, tags)):
        mask = batch.targets != IGNORE_INDEX
        correct += int((logits.argmax(-1)[mask] == batch.targets[mask]).sum())
        total += int(mask.sum())
    assert total == sum(len(s) for s in X) and correct / total >= 0.95


def test_epoch_and_validation_losses_are_means_per_step_for_per_step_targets():
    """Batches of 2 short and 3 long sequences: the engine weights each
    batch's mean loss by its valid steps, so the epoch loss is the mean
    cross-entropy over all 31 steps, not over the 5 sequences."""
    rng = np.random.default_rng(18)
    X = [rng.normal(size=(L, 2)) for L in (2, 2, 9, 9, 9)]
    tags = [rng.integers(0, 3, size=len(s)) for s in X]
    source = SequenceBatches(X, tags)
    assert source.total_weight == 31 and [source.batch(np.array([i])).weight for i in (0, 2)] == [2, 9]
    assert SequenceBatches(X, np.zeros(5)).total_weight == 5  # per-sequence targets: the sequences
    torch.manual_seed(0)
    module = _PerStepTagger(RNNConfig(n_inputs=2, n_outputs=3, hidden_size=5))
    with torch.no_grad():
        logits = [module(torch.as_tensor(s, dtype=torch.float32)[None])[0][0] for s in X]
    per_step = F.cross_entropy(torch.cat(logits), torch.as_tensor(np.concatenate(tags))).item()
    per_sequence = np.mean([F.cross_entropy(z, torch.as_tensor(t)).item() for z, t in zip(logits, tags)])
    assert abs(per_step - per_sequence) > 0.01  # the two averages differ on these data
    config = TrainingConfig(lr=0.0, batch_size=2, eval_batch_size=2, max_epochs=1)  # lr 0: weights unchanged
    history = Trainer(module, config, random_state=0).fit(source, source).history
    assert history[0]["val_loss"] == pytest.approx(per_step, rel=1e-5)
    assert history[0]["train_loss"] == pytest.approx(per_step, rel=1e-5)


@pytest.mark.parametrize("cls", [RNNClassifier, RNNRegressor, RNNTagger, RNNForecaster, RNNLanguageModel],
                         ids=lambda c: c.__name__)
def test_neural_estimators_share_one_constraint_catalogue_and_pickling(cls):
    constraints = cls._parameter_constraints
    assert set(constraints) == set(cls().get_params())  # every parameter checked, none invented
    shared = set(constraints) & set(NEURAL_CONSTRAINTS)
    assert {"cell", "hidden_size", "lr", "grad_clip_value", "init", "forget_bias", "device"} <= shared
    assert all(constraints[name] is NEURAL_CONSTRAINTS[name] for name in shared)
    assert issubclass(cls, ModuleOnCPUPickleMixin)


class _NaNLoss(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, lengths=None, targets=None):
        output = self.w * inputs.mean()
        return output, output * float("nan")


def test_engine_reports_divergence():
    X, y = last_step_task(8, seed=17)
    trainer = Trainer(_NaNLoss(), TrainingConfig(max_epochs=3))
    with pytest.raises(FloatingPointError, match="diverged at epoch 1"):
        trainer.fit(SequenceBatches(X, y.astype(float)))
