"""Training controls of the shared engine: gradient
clipping by norm and by value, truncated BPTT, recurrent weight
initialisation (orthogonal, identity / IRNN), the LSTM forget-gate bias, and
the per-epoch gradient norm in ``history_``.

Each control is checked on the quantity it promises to bound or set: the
size of an optimizer update, which steps receive gradient, the initial
matrices. Tiny networks and data: the file runs in seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch.nn.utils.rnn import pad_packed_sequence

from seqbench.models import RNNClassifier, RNNForecaster, RNNLanguageModel, RNNRegressor, RNNTagger
from seqbench.models.neural._batches import SequenceBatches
from seqbench.models.neural._engine import Trainer, TrainingConfig, torch_session
from seqbench.models.neural._modules import PooledRNN, RNNConfig, init_recurrent_weights


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_session(num_threads=1):
        yield


def sum_task(n, seed, T=12, ragged=False):
    """Sequences of 1 feature; target = sum of the first 3 steps (long-range-ish)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(6, T + 1, size=n) if ragged else np.full(n, T)
    X = [rng.uniform(-1, 1, size=(int(L), 1)) for L in lengths]
    return X, np.array([s[:3].sum() for s in X])


class SGDTrainer(Trainer):
    """The engine with plain SGD, so an update is exactly ``-lr * gradient``
    (the engine's steps are overridable; Adam would normalise the step)."""

    def configure_optimizer(self):
        return torch.optim.SGD(self.params, lr=self.config.lr)


def one_update(config: TrainingConfig, seed=0):
    """(update vector, pre-clip grad norm logged) of one SGD step on one batch."""
    X, y = sum_task(16, seed)
    torch.manual_seed(seed)
    module = PooledRNN(RNNConfig(n_inputs=1, n_outputs=1, cell="rnn", hidden_size=8, loss="mse"))
    before = torch.cat([p.detach().flatten().clone() for p in module.parameters()])
    history = SGDTrainer(module, config, random_state=0).fit(SequenceBatches(X, y.astype(np.float32))).history
    after = torch.cat([p.detach().flatten() for p in module.parameters()])
    return after - before, history[0]["grad_norm"]


def test_clipping_by_norm_bounds_the_update_norm():
    lr = 0.5
    free, norm = one_update(TrainingConfig(lr=lr, batch_size=16, max_epochs=1, grad_clip=None))
    assert float(free.norm()) == pytest.approx(lr * norm, rel=1e-4)  # the logged norm is the gradient's
    clip = 0.1 * norm
    clipped, logged = one_update(TrainingConfig(lr=lr, batch_size=16, max_epochs=1, grad_clip=clip))
    assert logged == pytest.approx(norm, rel=1e-6)  # logged before clipping
    assert float(clipped.norm()) == pytest.approx(lr * clip, rel=1e-4)
    # clipping by norm rescales: same direction
    cosine = float(torch.dot(clipped, free) / (clipped.norm() * free.norm()))
    assert cosine == pytest.approx(1.0, abs=1e-5)


def test_clipping_by_value_bounds_every_element_of_the_update():
    lr = 0.5
    free, _ = one_update(TrainingConfig(lr=lr, batch_size=16, max_epochs=1, grad_clip=None))
    value = 0.2 * float(free.abs().max()) / lr
    clipped, _ = one_update(TrainingConfig(lr=lr, batch_size=16, max_epochs=1, grad_clip=None, grad_clip_value=value))
    assert float(clipped.abs().max()) <= lr * value * (1 + 1e-5)
    assert float(clipped.abs().max()) == pytest.approx(lr * value, rel=1e-4)  # some elements were clipped
    small = free.abs() < lr * value * 0.99
    torch.testing.assert_close(clipped[small], free[small])  # the others are untouched
    # both: value first, then the total norm
    both, _ = one_update(TrainingConfig(lr=lr, batch_size=16, max_epochs=1, grad_clip=1e-3, grad_clip_value=value))
    assert float(both.norm()) == pytest.approx(lr * 1e-3, rel=1e-4)


def test_history_logs_the_mean_pre_clip_gradient_norm_of_each_epoch():
    seen = []

    class Recording(Trainer):
        def clip_gradients(self):
            norm = super().clip_gradients()
            seen.append(float(norm))
            return norm

    X, y = sum_task(48, 1)
    torch.manual_seed(0)
    module = PooledRNN(RNNConfig(n_inputs=1, n_outputs=1, cell="gru", hidden_size=8, loss="mse"))
    config = TrainingConfig(lr=0.01, batch_size=16, max_epochs=3, grad_clip=1e-3)
    history = Recording(module, config, random_state=0).fit(SequenceBatches(X, y.astype(np.float32))).history
    per_epoch = np.array(seen).reshape(3, 3).mean(axis=1)  # 3 batches per epoch
    np.testing.assert_allclose([h["grad_norm"] for h in history], per_epoch, rtol=1e-5)
    assert min(seen) > 1e-3  # every step was clipped, yet the log shows the true norms


def test_truncated_forward_computes_the_same_values_and_cuts_gradients_after_bptt_steps():
    """With variable lengths (packed) and stacked layers: outputs and final
    states equal full BPTT; the gradient of the final state reaches exactly
    the steps of each sequence's last chunk, with full BPTT's values there."""
    torch.manual_seed(0)
    lengths = torch.tensor([11, 7, 3, 9, 8])
    for cell in ("rnn", "lstm", "gru"):
        module = PooledRNN(RNNConfig(n_inputs=2, n_outputs=1, cell=cell, hidden_size=5, num_layers=2)).double()
        module.train()
        x = torch.randn(5, 11, 2, dtype=torch.float64, requires_grad=True)
        full_out, full_state = module.encoder(x, lengths)
        cut_out, cut_state = module.encoder(x, lengths, bptt=4)
        torch.testing.assert_close(pad_packed_sequence(cut_out, batch_first=True)[0],
                                   pad_packed_sequence(full_out, batch_first=True)[0])
        full_h = full_state[0] if cell == "lstm" else full_state
        cut_h = cut_state[0] if cell == "lstm" else cut_state
        torch.testing.assert_close(cut_h, full_h)
        (g_full,) = torch.autograd.grad(full_h[-1].sum(), x)
        (g_cut,) = torch.autograd.grad(cut_h[-1].sum(), x)
        for i, n in enumerate(lengths.tolist()):
            chunk = (n - 1) // 4 * 4  # first step of the sequence's last chunk
            torch.testing.assert_close(g_cut[i, chunk:n], g_full[i, chunk:n])
            assert torch.all(g_cut[i, :chunk] == 0)
            assert chunk == 0 or float(g_full[i, :chunk].abs().sum()) > 0


@pytest.mark.parametrize("ragged", [False, True], ids=["equal-lengths", "ragged"])
def test_tbptt_of_the_sequence_length_equals_full_bptt(ragged):
    X, y = sum_task(40, 2, T=12, ragged=ragged)
    params = dict(cell="gru", hidden_size=8, batch_size=16, max_epochs=3, lr=0.01, random_state=0, device="cpu")
    full = RNNRegressor(**params).fit(X, y)
    for steps in (12, 50):
        same = RNNRegressor(**params, tbptt=steps).fit(X, y)
        assert [h["grad_norm"] for h in same.history_] == [h["grad_norm"] for h in full.history_]
        np.testing.assert_array_equal(same.predict(X), full.predict(X))
    short = RNNRegressor(**params, tbptt=3).fit(X, y)
    assert [h["grad_norm"] for h in short.history_] != [h["grad_norm"] for h in full.history_]
    assert np.isfinite(short.predict(X)).all()
    assert not hasattr(short.module_.encoder, "bptt")  # nothing set from outside: the module predicts as it is


def test_tbptt_needs_a_unidirectional_network():
    X, y = sum_task(8, 3)
    with pytest.raises(ValueError, match="unidirectional"):
        RNNRegressor(bidirectional=True, tbptt=4, max_epochs=1).fit(X, y)


def test_identity_init_is_the_irnn():
    X, y = sum_task(8, 4)
    irnn = RNNRegressor("rnn", nonlinearity="relu", init="identity", hidden_size=6, num_layers=2,
                        random_state=0).initialize(X, y)
    assert irnn.n_iter_ == 0 and irnn.history_ == []
    rnn = irnn.module_.encoder.rnn
    for layer in range(2):
        torch.testing.assert_close(getattr(rnn, f"weight_hh_l{layer}").detach(), torch.eye(6))
        biases = torch.cat([getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")]).detach()
        assert not biases.any()
    assert rnn.weight_ih_l0.detach().abs().sum() > 0  # input weights keep PyTorch's initialisation
    # the IRNN copies its state forward: a zero input keeps a positive state unchanged
    h = torch.rand(1, 1, 6)
    with torch.no_grad():
        _, h_next = rnn(torch.zeros(1, 5, 1), torch.cat([h, h]))
    torch.testing.assert_close(h_next[0], h[0])


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_orthogonal_and_identity_init_act_on_every_gate_block(cell, gates):
    H = 5
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](3, H, bidirectional=True)
    init_recurrent_weights(layer, "orthogonal")
    for name in ("weight_hh_l0", "weight_hh_l0_reverse"):
        W = getattr(layer, name).detach()
        assert W.shape == (gates * H, H)
        for g in range(gates):
            block = W[g * H : (g + 1) * H]
            torch.testing.assert_close(block @ block.T, torch.eye(H), atol=1e-5, rtol=0)
    init_recurrent_weights(layer, "identity")
    torch.testing.assert_close(layer.weight_hh_l0.detach(), torch.eye(H).repeat(gates, 1))


def test_forget_bias_sets_the_lstm_forget_gate_only():
    X, y = sum_task(8, 5)
    lstm = RNNClassifier("lstm", forget_bias=1.0, hidden_size=4, num_layers=2, random_state=0).initialize(X, y > 0)
    default = RNNClassifier("lstm", hidden_size=4, num_layers=2, random_state=0).initialize(X, y > 0)
    rnn, ref = lstm.module_.encoder.rnn, default.module_.encoder.rnn
    for layer in range(2):
        total = getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")
        torch.testing.assert_close(total[4:8].detach(), torch.ones(4))  # gate order: input, forget, cell, output
        default_total = getattr(ref, f"bias_ih_l{layer}") + getattr(ref, f"bias_hh_l{layer}")
        torch.testing.assert_close(total[:4], default_total[:4])
        torch.testing.assert_close(total[8:], default_total[8:])
    # ignored by the GRU (as nonlinearity is ignored by gated cells)
    gru = RNNClassifier("gru", forget_bias=1.0, hidden_size=4, random_state=0).initialize(X, y > 0)
    gru_default = RNNClassifier("gru", hidden_size=4, random_state=0).initialize(X, y > 0)
    for a, b in zip(gru.module_.parameters(), gru_default.module_.parameters()):
        torch.testing.assert_close(a, b)


def test_defaults_leave_pytorch_initialisation_untouched():
    torch.manual_seed(3)
    module = PooledRNN(RNNConfig(n_inputs=2, n_outputs=2, cell="lstm", hidden_size=4))
    torch.manual_seed(3)
    plain = torch.nn.LSTM(2, 4, batch_first=True)
    for (name, a), b in zip(module.encoder.rnn.named_parameters(), plain.parameters()):
        torch.testing.assert_close(a, b, msg=name)
    assert TrainingConfig().grad_clip_value is None and TrainingConfig().tbptt is None


def test_controls_are_constructor_parameters():
    est = RNNRegressor(grad_clip_value=0.5, tbptt=10, init="orthogonal", forget_bias=1.0)
    params = clone(est).get_params()
    controls = (params["grad_clip_value"], params["tbptt"], params["init"], params["forget_bias"])
    assert controls == (0.5, 10, "orthogonal", 1.0)
    X, y = sum_task(8, 6)
    bad_values = [(dict(init="zeros"), "init"), (dict(tbptt=0), "tbptt"), (dict(grad_clip_value=-1.0), "grad_clip_value"),
                  (dict(forget_bias="one"), "forget_bias")]
    for bad, name in bad_values:
        with pytest.raises(ValueError, match=name):
            RNNRegressor(max_epochs=1, **bad).fit(X, y)


# -- the controls on the tagger, the forecaster and the language model ------------------------


def tag_task(n=8, T=6, seed=7):
    rng = np.random.default_rng(seed)
    X = [rng.normal(size=(T, 1)) for _ in range(n)]
    return X, [(x[:, 0] > 0).astype(int) for x in X]


def wave(n_steps=40, seed=8):
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n_steps) / 3.0) + 0.1 * rng.normal(size=n_steps)


TEXT = ["abcabdabcabd" * 3]
CPU_SEED = dict(random_state=0, device="cpu")
SMALL = dict(hidden_size=4, **CPU_SEED)
# (class, constructor arguments, fit(est, step="fit" or "initialize")): one step of one batch per epoch for each
ESTIMATORS = {
    "tagger": (RNNTagger, dict(bidirectional=False, batch_size=8), lambda est, step="fit": getattr(est, step)(*tag_task())),
    "forecaster": (RNNForecaster, dict(window=5, strategy="direct", horizon=2, batch_size=64),
                   lambda est, step="fit": getattr(est, step)(wave())),
    "language-model": (RNNLanguageModel, dict(bptt=100, batch_size=1), lambda est, step="fit": getattr(est, step)(TEXT)),
}


def build(name, **params):
    cls, kwargs, fit = ESTIMATORS[name]
    return cls(**{**SMALL, **kwargs, **params}), fit


def recurrent_layers(est):
    """Every fused recurrent layer of the fitted module (the forecaster's decoder included)."""
    return [m for m in est.module_.modules() if isinstance(m, torch.nn.RNNBase)]


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_every_neural_estimator_takes_the_controls(name):
    est, _ = build(name, grad_clip_value=0.5, init="orthogonal", forget_bias=1.0)
    params = clone(est).get_params()
    assert (params["grad_clip_value"], params["init"], params["forget_bias"]) == (0.5, "orthogonal", 1.0)
    defaults = type(est)().get_params()
    assert (defaults["grad_clip_value"], defaults["init"], defaults["forget_bias"]) == (None, "default", None)
    # the language model's bptt is its truncation; the others take tbptt (None by default)
    assert ("tbptt" in params) == (name != "language-model")
    for bad, param in [(dict(init="zeros"), "init"), (dict(grad_clip_value=0.0), "grad_clip_value"),
                       (dict(forget_bias="one"), "forget_bias")]:
        est, fit = build(name, max_epochs=1, **bad)
        with pytest.raises(ValueError, match=param):
            fit(est)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_identity_init_reaches_every_recurrent_layer(name, cell):
    est, fit = build(name, cell=cell, init="identity")
    fit(est, "initialize")
    layers = recurrent_layers(est)
    assert len(layers) == (2 if name == "forecaster" else 1)  # the forecaster: encoder and decoder
    for layer in layers:
        gates = {"rnn": 1, "gru": 3}[cell]
        for pname, param in layer.named_parameters():
            if pname.startswith("weight_hh"):
                torch.testing.assert_close(param.detach(), torch.eye(4).repeat(gates, 1), msg=pname)
            elif pname.startswith("bias"):
                assert not param.any(), pname


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_forget_bias_reaches_every_lstm_layer(name):
    est, fit = build(name, cell="lstm", forget_bias=2.0)
    fit(est, "initialize")
    for layer in recurrent_layers(est):
        total = layer.bias_ih_l0 + layer.bias_hh_l0
        torch.testing.assert_close(total[4:8].detach(), torch.full((4,), 2.0))


def sgd_update(monkeypatch, name, **params):
    """The change of every weight in one epoch (one batch) of plain SGD: the
    estimator's own fit, with the engine's optimizer swapped for SGD so that
    the update is exactly ``-lr * gradient`` (Adam would normalise it)."""
    monkeypatch.setattr(Trainer, "configure_optimizer", lambda self: torch.optim.SGD(self.params, lr=self.config.lr))
    est, fit = build(name, max_epochs=1, lr=0.5, grad_clip=None, **params)
    before = torch.cat([p.detach().flatten().clone() for p in fit(clone(est), "initialize").module_.parameters()])
    after = torch.cat([p.detach().flatten() for p in fit(est).module_.parameters()])
    assert est.n_iter_ == 1
    return after - before


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_clipping_by_value_bounds_every_element_of_each_estimators_update(monkeypatch, name):
    free = sgd_update(monkeypatch, name)
    value = 0.25 * float(free.abs().max()) / 0.5
    clipped = sgd_update(monkeypatch, name, grad_clip_value=value)
    assert float(clipped.abs().max()) == pytest.approx(0.5 * value, rel=1e-4)  # the bound is reached, not passed
    small = free.abs() < 0.5 * value * 0.99
    assert small.any() and not small.all()
    torch.testing.assert_close(clipped[small], free[small])  # elements under the bound are untouched


def test_tagger_tbptt_of_the_sequence_length_equals_full_bptt():
    X, Y = tag_task(n=24, T=10)
    params = dict(cell="gru", bidirectional=False, hidden_size=6, batch_size=8, max_epochs=3, lr=0.02, **CPU_SEED)
    full = RNNTagger(**params).fit(X, Y)
    same = RNNTagger(**params, tbptt=10).fit(X, Y)
    assert [h["grad_norm"] for h in same.history_] == [h["grad_norm"] for h in full.history_]
    np.testing.assert_array_equal(np.concatenate(same.predict_proba(X)), np.concatenate(full.predict_proba(X)))
    short = RNNTagger(**params, tbptt=3).fit(X, Y)
    assert [h["grad_norm"] for h in short.history_] != [h["grad_norm"] for h in full.history_]
    assert not hasattr(short.module_.encoder, "bptt")


def test_tagger_tbptt_needs_a_unidirectional_network():
    X, Y = tag_task()
    with pytest.raises(ValueError, match=r"tbptt=4 needs a unidirectional network.*bidirectional=False"):
        RNNTagger(tbptt=4, max_epochs=1).fit(X, Y)  # bidirectional=True is the tagger's default


def test_forecaster_tbptt_truncates_the_encoder_window():
    params = dict(cell="gru", window=8, hidden_size=6, batch_size=16, max_epochs=2, **CPU_SEED)
    full = RNNForecaster(**params).fit(wave(60))
    same = RNNForecaster(**params, tbptt=8).fit(wave(60))
    np.testing.assert_array_equal(same.predict(wave(60)), full.predict(wave(60)))
    short = RNNForecaster(**params, tbptt=2).fit(wave(60))
    assert [h["grad_norm"] for h in short.history_] != [h["grad_norm"] for h in full.history_]

