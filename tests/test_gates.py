"""Inside the cells: LSTM and GRU gate activations, their picture, and the
GRU-to-RNN reduction.

The gates are checked against references that do not share their code: the
cell equations written in numpy, and the fused PyTorch layers' own outputs
(the per-step output ``h_t`` of the top layer, and ``h_n`` / ``c_n`` of every
layer). Then the mechanism: on the adding problem a trained LSTM's forget
gate is higher once the first marked value has to be held than before it.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from seqbench.datasets import make_adding_problem
from seqbench.diagnostics import (
    GATE_NAMES,
    GateTrace,
    gate_activations,
    gru_as_tanh_rnn,
    saturate_gru_gates,
)
from seqbench.models import FeatureClassifier, RNNClassifier, RNNRegressor
from seqbench.models.autoregressive import NGramLanguageModel
from seqbench.models.hmm import HMMClassifier
from seqbench.models.neural import RNNForecaster, RNNLanguageModel, RNNTagger, torch_session
from seqbench.report import plot_gates

CPU = dict(device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_session(num_threads=1):
        yield


def sum_task(n, seed, T=8, d=2, ragged=False):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(3, T + 1, size=n) if ragged else np.full(n, T)
    X = [rng.normal(size=(int(L), d)) for L in lengths]
    return X, np.array([s[0, 0] + s[-1, -1] for s in X])


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


# ----------------------------------------------------------------- references
def numpy_cell(cell, weights, x):
    """One layer, one direction, from the equations: ``{name: (T, H)}``."""
    W_ih, W_hh, b_ih, b_hh = (w.detach().double().numpy() for w in weights)
    H = W_hh.shape[1]
    h, c = np.zeros(H), np.zeros(H)
    out = {name: [] for name in GATE_NAMES[cell]}
    for x_t in x:
        a_x, a_h = W_ih @ x_t + b_ih, W_hh @ h + b_hh
        if cell == "lstm":
            a = a_x + a_h
            i, f, g, o = sigmoid(a[:H]), sigmoid(a[H : 2 * H]), np.tanh(a[2 * H : 3 * H]), sigmoid(a[3 * H :])
            c = f * c + i * g
            h = o * np.tanh(c)
            step = dict(i=i, f=f, g=g, o=o, c=c, h=h)
        else:
            r, z = sigmoid(a_x[:H] + a_h[:H]), sigmoid(a_x[H : 2 * H] + a_h[H : 2 * H])
            n = np.tanh(a_x[2 * H :] + r * a_h[2 * H :])
            h = (1 - z) * n + z * h
            step = dict(r=r, z=z, n=n, h=h)
        for name, value in step.items():
            out[name].append(value)
    return {name: np.array(v) for name, v in out.items()}


def fused_run(estimator, inputs):
    """The fitted estimator's fused layer on one input ``(T, d)``: ``(output (T, D*H), h_n, c_n)``."""
    module = copy.deepcopy(estimator.module_).double().eval()
    encoder = module.encoder
    x = torch.as_tensor(inputs)[None]
    if not x.is_floating_point():  # symbol ids: the encoder's embedding, or the module's own (language model)
        x = (encoder.embedding if encoder.embedding is not None else module.embedding)(x)
    x = x.double()
    with torch.no_grad():
        out, state = encoder.rnn(x)
    h_n, c_n = state if isinstance(state, tuple) else (state, None)
    return out[0].numpy(), h_n[:, 0].numpy(), None if c_n is None else c_n[:, 0].numpy()


# ----------------------------------------------------------------- agreement
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gates_match_the_cell_equations_written_in_numpy(cell):
    X, y = sum_task(5, 1, T=7, ragged=True)
    reg = RNNRegressor(cell, hidden_size=4, max_epochs=2, **CPU).fit(X, y)
    rnn = reg.module_.encoder.rnn
    weights = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0)
    traces = gate_activations(reg, X)
    assert [t.index for t in traces] == list(range(5))
    for trace, x in zip(traces, X):
        assert trace.inputs.shape == x.shape  # the sequence as the network reads it (scaled, if the model scales)
        expected = numpy_cell(cell, weights, trace.inputs)
        assert set(trace.layers) == {0} and set(trace.layers[0]) == set(GATE_NAMES[cell])
        for name, value in expected.items():
            assert trace.layers[0][name].shape == (len(x), 4)
            np.testing.assert_allclose(trace.layers[0][name], value, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_gates_rebuild_the_fused_layers_outputs_in_every_layer(cell, bidirectional):
    X, y = sum_task(6, 2, T=9, ragged=True)
    clf = RNNClassifier(cell, hidden_size=5, num_layers=2, bidirectional=bidirectional, max_epochs=2, **CPU)
    clf.fit(X, y > 0)
    D = 2 if bidirectional else 1
    for trace in gate_activations(clf, X, index=[4, 0, -1]):
        out, h_n, c_n = fused_run(clf, trace.inputs)
        top = trace.layers[1]
        np.testing.assert_allclose(top["h"], out, atol=1e-9)  # the fused layer's per-step output
        for layer in (0, 1):
            h = trace.layers[layer]["h"]
            assert h.shape == (len(X[trace.index]), D * 5)
            np.testing.assert_allclose(h[-1, :5], h_n[D * layer], atol=1e-9)  # forward: final state at T-1
            if bidirectional:
                np.testing.assert_allclose(h[0, 5:], h_n[D * layer + 1], atol=1e-9)  # backward: ends at step 0
            if cell == "lstm":
                c = trace.layers[layer]["c"]
                np.testing.assert_allclose(c[-1, :5], c_n[D * layer], atol=1e-9)
                g = trace.layers[layer]
                np.testing.assert_allclose(g["o"] * np.tanh(g["c"]), g["h"], atol=1e-12)
            for name, value in trace.layers[layer].items():
                if name in "ifozr":
                    assert np.all((value > 0) & (value < 1)), name
        # the inputs are what predict feeds the network: its head on the last states gives predict_proba
        top_h = trace.layers[1]["h"]
        pooled = np.concatenate([top_h[-1, :5], top_h[0, 5:]]) if bidirectional else top_h[-1]
        head = clf.module_.head
        logits = pooled @ head.weight.detach().double().numpy().T + head.bias.detach().double().numpy()
        proba = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        np.testing.assert_allclose(proba, clf.predict_proba([X[trace.index]])[0], atol=1e-5)
    assert [t.index for t in gate_activations(clf, X, index=[4, 0, -1])] == [4, 0, 5]


def test_every_recurrent_estimator_fitted_and_unfitted():
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(8, 1)) for _ in range(8)]
    Y = [(s[:, 0] > 0).astype(int) for s in X]
    y = np.array([s[0, 0] > 0 for s in X])
    series = [np.cumsum(rng.normal(size=(30, 1)), axis=0) for _ in range(2)]
    text = ["abcab cabba", "bacca abcab", "cabab baca"]
    cases = [
        (RNNClassifier("gru", hidden_size=4, max_epochs=1, **CPU), X, y, [8] * 8),
        (RNNRegressor("lstm", hidden_size=4, max_epochs=1, **CPU), X, y.astype(float), [8] * 8),
        (RNNTagger("lstm", hidden_size=4, max_epochs=1, **CPU), X, Y, [8] * 8),
        (RNNForecaster("gru", window=6, horizon=2, strategy="direct", max_epochs=1, **CPU), series, None, [6, 6]),
        (RNNLanguageModel("lstm", hidden_size=4, max_epochs=1, bptt=5, batch_size=2, **CPU), text, None,
         [len(s) + 1 for s in text]),
    ]
    for est, data, target, lengths in cases:
        unfitted = gate_activations(est, data, target)
        again = gate_activations(est, data, target)
        fitted_est = clone(est).fit(data) if target is None else clone(est).fit(data, target)
        fitted = gate_activations(fitted_est, data)
        assert [t.length for t in fitted] == lengths, type(est).__name__
        for trace, twin, other in zip(unfitted, again, fitted):
            assert isinstance(trace, GateTrace) and trace.cell == est.cell
            for name in GATE_NAMES[est.cell]:
                np.testing.assert_array_equal(trace.layers[0][name], twin.layers[0][name])  # repeatable
            assert not np.allclose(trace.layers[0]["h"], other.layers[0]["h"], atol=1e-6)  # training moved it
        for trace in fitted:
            out, _, _ = fused_run(fitted_est, trace.inputs)
            np.testing.assert_allclose(trace.layers[0]["h"], out, atol=1e-9)
    assert fitted[0].tokens[0] == "<bos>" and "".join(fitted[0].tokens[1:]) == text[0]
    assert fitted[0].inputs[0] == fitted_est.n_symbols_  # the start symbol's id


def test_forecaster_reads_the_standardised_last_window():
    rng = np.random.default_rng(4)
    series = [10 + np.cumsum(rng.normal(size=(25, 1)), axis=0)]
    fc = RNNForecaster("lstm", window=5, horizon=1, max_epochs=1, **CPU).fit(series)
    (trace,) = gate_activations(fc, series)
    np.testing.assert_allclose(trace.inputs, (series[0][-5:] - fc.mean_) / fc.scale_)


# ----------------------------------------------------------------- bad input
def test_cells_without_gates_and_other_families_are_refused_by_name():
    X, y = sum_task(6, 7)
    for est in (RNNClassifier("rnn", hidden_size=4, max_epochs=1, **CPU),
                RNNClassifier("rnn", hidden_size=4, max_epochs=1, **CPU).fit(X, y > 0)):
        with pytest.raises(TypeError, match=r"cell='rnn'.*gates exist in LSTM and GRU cells only"):
            gate_activations(est, X, y > 0)
    with pytest.raises(TypeError, match=r"FeatureClassifier is not a recurrent network.*LSTM and GRU"):
        gate_activations(FeatureClassifier().fit(X, y > 0), X)
    with pytest.raises(TypeError, match=r"NGramLanguageModel is not a recurrent network.*LSTM and GRU"):
        gate_activations(NGramLanguageModel().fit(["abcab"]), ["abc"])
    with pytest.raises(TypeError, match=r"HMMClassifier is not a recurrent network.*LSTM and GRU"):
        gate_activations(HMMClassifier(), X, y > 0)


def test_out_of_range_requests_name_the_valid_range():
    X, y = sum_task(5, 8)
    reg = RNNRegressor("lstm", hidden_size=3, num_layers=2, max_epochs=1, **CPU).fit(X, y)
    with pytest.raises(ValueError, match=r"index=5 is out of range: X has 5 sequence\(s\), valid indices are 0\.\.4"):
        gate_activations(reg, X, index=5)
    with pytest.raises(ValueError, match=r"index=-6 .* 0\.\.4"):
        gate_activations(reg, X, index=[0, -6])
    with pytest.raises(ValueError, match=r"layer=2 does not exist: the network has 2 recurrent layer\(s\), valid "
                                         r"layers are 0\.\.1"):
        gate_activations(reg, X, layer=2)
    with pytest.raises(TypeError, match="index must be an int"):
        gate_activations(reg, X, index=1.5)
    with pytest.raises(ValueError, match="needs the targets y"):
        gate_activations(RNNRegressor("lstm", **CPU), X)
    (trace,) = gate_activations(reg, X, index=-1, layer=-1)
    assert trace.index == 4 and set(trace.layers) == {1}


# ----------------------------------------------------------------- picture
def test_plot_gates_draws_the_input_above_one_heat_map_per_array():
    X, y = sum_task(3, 9, T=12)
    reg = RNNRegressor("lstm", hidden_size=6, num_layers=2, max_epochs=1, **CPU).fit(X, y)
    trace = gate_activations(reg, X, index=1)[0]
    fig = plot_gates(trace)
    axes = fig.axes[: len(GATE_NAMES["lstm"]) + 1]  # colour bars follow
    assert [ax.get_title(loc="left") for ax in axes[:2]] == ["input", "input gate i"]
    assert len(axes[0].lines) == 2 and np.array_equal(axes[0].lines[1].get_ydata(), trace.inputs[:, 1])
    np.testing.assert_array_equal(axes[2].images[0].get_array(), trace.layers[1]["f"].T)  # top layer by default
    assert axes[2].images[0].get_clim() == (0.0, 1.0)
    fig0 = plot_gates(gate_activations(reg, X, index=1, layer=0)[0], names=["f", "c"])
    assert [ax.get_title(loc="left") for ax in fig0.axes[:3]] == ["input", "forget gate f", "long-term state c"]
    with pytest.raises(ValueError, match=r"layer=3 is not in this trace: it holds layer\(s\) \[0, 1\]"):
        plot_gates(trace, layer=3)
    with pytest.raises(ValueError, match="a LSTM trace holds i, f, g, o, c, h"):
        plot_gates(trace, names=["z"])
    with pytest.raises(TypeError, match="one GateTrace"):
        plot_gates([trace])


def test_a_trained_lstm_holds_its_forget_gate_after_the_first_marker():
    """Adding problem, T = 40: once the first marked value is stored, the
    forget gate rises so that ``c`` keeps it (averaged over units, and over
    the test sequences whose first marker is not at step 0).

    The inputs are read as the task defines them (values in [0, 1], marker
    0 or 1): with per-feature standardisation the marker becomes a large
    input (about +4.4) that drives the gates at the marked step itself, and
    the unit-averaged forget gate separates before from after by less
    (+0.001 to +0.025 over four seeds, against +0.019 to +0.053 unscaled)."""
    data = make_adding_problem(T=40, n_train=800, n_test=40, random_state=1)
    lstm = RNNRegressor("lstm", hidden_size=8, max_epochs=20, batch_size=32, lr=0.01, standardize=False,
                        device="cpu", random_state=1)
    lstm.fit(data.X_train, data.y_train)
    mse = float(np.mean((lstm.predict(data.X_test) - data.y_test) ** 2))
    assert mse < 0.05  # learned the task (the mean predictor scores ~1/6), so its gates are worth reading
    before, after = [], []
    for trace, x in zip(gate_activations(lstm, data.X_test), data.X_test):
        marker = int(np.flatnonzero(x[:, 1])[0])
        if marker == 0:
            continue
        f = trace.layers[0]["f"]  # (T, H)
        before.append(f[:marker].mean())
        after.append(f[marker + 1 :].mean())
    assert np.mean(after) > np.mean(before) + 0.01, (np.mean(before), np.mean(after))


# ----------------------------------------------------------------- GRU -> RNN
@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
def test_a_gru_with_saturated_gates_is_the_tanh_rnn_of_its_candidate_weights(num_layers, bidirectional):
    torch.manual_seed(0)
    gru = nn.GRU(3, 8, num_layers=num_layers, bidirectional=bidirectional, batch_first=True).double()
    x = torch.randn(4, 30, 3, dtype=torch.float64)
    with torch.no_grad():
        assert (gru(x)[0] - gru_as_tanh_rnn(gru)(x)[0]).abs().max() > 0.1  # free gates: not an RNN
        saturate_gru_gates(gru)
        out, h_n = gru(x)
        rnn = gru_as_tanh_rnn(gru)
        rnn_out, rnn_h_n = rnn(x)
    assert isinstance(rnn, nn.RNN) and rnn.nonlinearity == "tanh"
    np.testing.assert_allclose(out.numpy(), rnn_out.numpy(), atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), rnn_h_n.numpy(), atol=1e-12)


def test_saturated_gates_read_back_as_reset_open_and_update_closed():
    X, y = sum_task(4, 10)
    reg = RNNRegressor("gru", hidden_size=5, max_epochs=1, **CPU).fit(X, y)
    saturate_gru_gates(reg.module_.encoder.rnn)
    for trace in gate_activations(reg, X):
        np.testing.assert_allclose(trace.layers[0]["r"], 1.0, atol=1e-12)
        np.testing.assert_allclose(trace.layers[0]["z"], 0.0, atol=1e-12)
        np.testing.assert_allclose(trace.layers[0]["h"], trace.layers[0]["n"], atol=1e-12)
    with pytest.raises(TypeError, match="expected a torch.nn.GRU"):
        gru_as_tanh_rnn(nn.LSTM(2, 3))
    with pytest.raises(ValueError, match="no biases"):
        saturate_gru_gates(nn.GRU(2, 3, bias=False))
