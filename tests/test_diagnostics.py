"""Gradient flow through time: the diagnostic, the job record and the report section.

The diagnostic is checked against references that do not share its code:
finite differences of a hand-written numpy tanh RNN (the equations, not
torch) for ``dLoss/dh_t``, and autograd through PyTorch's fused layers for
``dLoss/dx_t`` (inputs are leaves there, so the fused kernel's backward
gives the true per-step input gradient). Then the theory: an untrained tanh
RNN with small recurrent weights loses gradient geometrically, never faster
than the bound ``||W_hh||^k`` allows to be slower than; the IRNN does not.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from sklearn.base import clone

from seqbench.bench import dataset_gradient_flow, gradient_flow_artefact
from seqbench.diagnostics import UnrolledRecurrent, gradient_decay_rate, gradient_norms_through_time
from seqbench.models import FeatureClassifier, MeanRegressor, RNNClassifier, RNNRegressor
from seqbench.models.neural import torch_session
from seqbench.report import plot_gradient_flow, recurrent_dynamics_section
from seqbench.models.neural._forecaster import RNNForecaster
from seqbench.models.neural._tagger import RNNTagger

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


# ----------------------------------------------------------------- references
def numpy_rnn_loss(params, x, z, perturb_t=None, delta=None, where="hidden"):
    """Squared error of a one-layer tanh RNN + linear head on one sequence,
    written from the equations; ``delta`` is added to ``h_t`` (or ``x_t``)."""
    W_ih, W_hh, b_ih, b_hh, w, b = params
    h = np.zeros(W_hh.shape[0])
    for t in range(len(x)):
        x_t = x[t] + (delta if where == "input" and t == perturb_t else 0.0)
        h = np.tanh(W_ih @ x_t + b_ih + W_hh @ h + b_hh)
        if where == "hidden" and t == perturb_t:
            h = h + delta
    return float((w @ h + b - z) ** 2)


def finite_difference_norms(params, X, Z, where, eps=1e-6):
    T = len(X[0])
    width = params[0].shape[0] if where == "hidden" else params[0].shape[1]
    norms = np.zeros((len(X), T))
    for i, (x, z) in enumerate(zip(X, Z)):
        for t in range(T):
            grad = np.zeros(width)
            for k in range(width):
                e = np.zeros(width)
                e[k] = eps
                up, down = numpy_rnn_loss(params, x, z, t, e, where), numpy_rnn_loss(params, x, z, t, -e, where)
                grad[k] = (up - down) / (2 * eps)
            norms[i, t] = np.linalg.norm(grad)
    return norms.mean(axis=0)


def fused_input_norms(estimator, X, y):
    """``mean_i ||dL_i/dx_t||`` by autograd through the fused layer (equal lengths)."""
    module = copy.deepcopy(estimator.module_).double().eval()
    batches = estimator.training_batches(X, y)  # every recurrent estimator has the hook
    batch = batches.batch(np.arange(len(batches)))
    x = batch.inputs.double().requires_grad_()
    targets = batch.targets.double() if batch.targets.is_floating_point() else batch.targets
    _, loss = module(x, None, targets)
    (grad,) = torch.autograd.grad(loss * len(batch), x)
    return grad.norm(dim=2).mean(dim=0).numpy()


# ----------------------------------------------------------------- agreement
def test_hidden_and_input_gradients_match_finite_differences_of_the_equations():
    """On the raw inputs: standardize=False, so the module reads X itself."""
    X, y = sum_task(5, 0, T=6)
    reg = RNNRegressor("rnn", hidden_size=3, max_epochs=3, batch_size=5, lr=0.05, standardize=False, **CPU).fit(X, y)
    rnn, head = reg.module_.encoder.rnn, reg.module_.head
    params = [p.detach().double().numpy() for p in
              (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, head.weight[0], head.bias[0])]
    Z = (y - reg.y_mean_) / reg.y_scale_  # the loss is on standardised targets, as in fit
    for where in ("hidden", "input"):
        expected = finite_difference_norms(params, X, Z, where)
        got = gradient_norms_through_time(reg, X, y, wrt=where)
        np.testing.assert_allclose(got, expected, rtol=1e-6, err_msg=where)
    # hand-computed at the last step: dL/dh_T = 2 (w.h_T + b - z) w
    outs = reg.module_(torch.as_tensor(np.stack(X), dtype=torch.float32))[0].detach().double().numpy()[:, 0]
    last = np.mean(np.abs(2 * (outs - Z)) * np.linalg.norm(params[4]))
    assert gradient_norms_through_time(reg, X, y)[-1] == pytest.approx(last, rel=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda: RNNClassifier("lstm", hidden_size=6, num_layers=2, max_epochs=2, **CPU),
        lambda: RNNClassifier("gru", hidden_size=6, bidirectional=True, pooling="mean", max_epochs=2, **CPU),
        lambda: RNNRegressor("rnn", nonlinearity="relu", init="identity", hidden_size=6, max_epochs=2, **CPU),
        lambda: RNNTagger("gru", hidden_size=6, bidirectional=True, max_epochs=2, **CPU),
    ],
    ids=["lstm-2-layers", "gru-bidirectional-mean", "irnn", "tagger-bidirectional"],
)
def test_input_gradients_match_autograd_through_the_fused_layer(make):
    est = make()
    X, y = sum_task(12, 1, T=7)
    if isinstance(est, RNNTagger):
        y = [(s[:, 0] > 0).astype(int) for s in X]
    elif isinstance(est, RNNClassifier):
        y = (y > 0).astype(int)
    est.fit(X, y)
    np.testing.assert_allclose(gradient_norms_through_time(est, X, y, wrt="input"), fused_input_norms(est, X, y),
                               rtol=1e-7)


def test_unrolled_cells_compute_what_the_fused_layers_compute():
    torch.manual_seed(0)
    for layer_cls, kwargs in [(torch.nn.RNN, {}), (torch.nn.RNN, {"nonlinearity": "relu"}), (torch.nn.LSTM, {}),
                              (torch.nn.GRU, {})]:
        fused = layer_cls(3, 4, num_layers=2, bidirectional=True, batch_first=True, **kwargs).double()
        unrolled = UnrolledRecurrent(fused)
        assert {id(p) for p in unrolled.parameters()} == {id(p) for p in fused.parameters()}  # shared, not copied
        x = torch.randn(2, 6, 3, dtype=torch.float64)
        expected, got = fused(x), unrolled(x)
        torch.testing.assert_close(got[0], expected[0])
        torch.testing.assert_close(got[1], expected[1])


# ----------------------------------------------------------------- the theory
def test_untrained_tanh_rnn_with_small_recurrent_weights_decays_geometrically():
    from seqbench.diagnostics._adapters import initial_estimator

    X, y = sum_task(16, 2, T=40)
    default = RNNRegressor("rnn", hidden_size=16, **CPU)
    assert gradient_decay_rate(gradient_norms_through_time(default, X, y)) < -0.05  # PyTorch's init already decays
    assert not hasattr(default, "module_")  # the estimator itself stays unfitted
    rnn = initial_estimator(default, X, y)  # as fit starts it, then with the recurrent weights halved
    W = rnn.module_.encoder.rnn.weight_hh_l0
    with torch.no_grad():
        W.mul_(0.5)
    sigma = np.linalg.norm(W.detach().double().numpy(), 2)
    assert sigma < 0.7
    g = gradient_norms_through_time(rnn, X, y)
    assert gradient_decay_rate(g) < np.log10(0.7)  # negative slope, at least as steep as the bound below
    assert np.all(np.diff(g) > 0)  # smaller at every step further from the loss
    logs = np.log10(g[:-1])
    fit = np.polyval(np.polyfit(np.arange(len(logs)), logs, 1), np.arange(len(logs)))
    r_squared = 1 - np.sum((logs - fit) ** 2) / np.sum((logs - logs.mean()) ** 2)
    assert r_squared > 0.95  # a straight line on a log scale
    # each step back multiplies by W_hh^T diag(tanh'), whose norm is at most ||W_hh||_2 = sigma
    k = np.arange(len(g))[::-1]
    assert np.all(g <= g[-1] * sigma**k * (1 + 1e-9))


def test_irnn_and_forget_bias_keep_the_gradient_alive():
    X, y = sum_task(16, 3, T=40)
    rates = {
        name: gradient_decay_rate(gradient_norms_through_time(est, X, y))
        for name, est in {
            "rnn": RNNRegressor("rnn", hidden_size=16, **CPU),
            "irnn": RNNRegressor("rnn", nonlinearity="relu", init="identity", hidden_size=16, **CPU),
            "lstm": RNNRegressor("lstm", hidden_size=16, **CPU),
            "lstm-forget-1": RNNRegressor("lstm", forget_bias=1.0, hidden_size=16, **CPU),
        }.items()
    }
    # default init: tanh RNN and LSTM lose about 10 orders of magnitude over 40 steps;
    # the IRNN loses less than one; a forget-gate bias of 1 sits between
    assert rates["rnn"] < -0.1 and rates["lstm"] < -0.1
    assert rates["irnn"] > -0.02
    assert rates["lstm"] < rates["lstm-forget-1"] < rates["irnn"]


# ----------------------------------------------------------------- estimators
def test_unfitted_estimator_is_read_at_the_weights_fit_starts_from():
    X, y = sum_task(24, 4, T=10)
    g0 = gradient_norms_through_time(RNNClassifier("gru", hidden_size=8, **CPU), X, y > 0)
    barely = RNNClassifier("gru", hidden_size=8, lr=1e-12, max_epochs=1, batch_size=64, **CPU).fit(X, y > 0)
    np.testing.assert_allclose(gradient_norms_through_time(barely, X, y > 0), g0, rtol=1e-6)
    trained = RNNClassifier("gru", hidden_size=8, lr=0.05, max_epochs=5, **CPU).fit(X, y > 0)
    assert not np.allclose(gradient_norms_through_time(trained, X, y > 0), g0, rtol=1e-3)


def test_tagger_and_forecaster_fitted_and_unfitted():
    rng = np.random.default_rng(5)
    X = [rng.normal(size=(9, 1)) for _ in range(10)]
    Y = [(s[:, 0] > 0).astype(int) for s in X]
    tagger = RNNTagger("lstm", hidden_size=6, bidirectional=False, max_epochs=2, **CPU)
    for est in (tagger, clone(tagger).fit(X, Y)):
        g = gradient_norms_through_time(est, X, Y)
        assert g.shape == (9,) and np.all(np.isfinite(g)) and np.all(g > 0)
        # hand-computed at the last step of a causal tagger, whose loss is the mean cross-entropy
        # over the T steps: dL/dh_T = W_head^T (softmax(logits_T) - onehot(y_T)) / T
        from seqbench.diagnostics._adapters import initial_estimator

        module = (est if hasattr(est, "module_") else initial_estimator(est, X, Y)).module_.double()
        logits = module(torch.as_tensor(np.stack(X)))[0][:, -1].detach()  # (n, C)
        residual = torch.softmax(logits, 1) - torch.nn.functional.one_hot(torch.as_tensor([y[-1] for y in Y]), 2)
        expected = (residual @ module.head.weight.detach()).norm(dim=1).mean().item() / 9
        assert g[-1] == pytest.approx(expected, rel=1e-9)
        # with the loss on the last step only, that term is the whole loss (not 1/T of it)
        assert gradient_norms_through_time(est, X, Y, last_steps=1)[-1] == pytest.approx(9 * expected, rel=1e-9)
    series = [np.cumsum(rng.normal(size=(40, 1)), axis=0) for _ in range(2)]
    for strategy in ("recursive", "direct"):
        forecaster = RNNForecaster("gru", window=10, strategy=strategy, horizon=3, max_epochs=1, **CPU)
        for est in (forecaster, clone(forecaster).fit(series)):
            g = gradient_norms_through_time(est, series)
            assert g.shape == (10,) and np.all(np.isfinite(g)) and gradient_decay_rate(g) < 0


def test_ragged_lengths_are_averaged_per_aligned_step_whatever_the_batch_size():
    X, y = sum_task(9, 6, T=8, ragged=True)
    clf = RNNClassifier("rnn", hidden_size=5, max_epochs=1, **CPU).fit(X, y > 0)
    labels = (y > 0)
    lengths = np.array([len(s) for s in X])
    for align in ("start", "end"):
        got = gradient_norms_through_time(clf, X, labels, align=align, batch_size=2)
        total, count = np.zeros(8), np.zeros(8)
        for s, label in zip(X, labels):  # each sequence alone
            g = gradient_norms_through_time(clf, [s], [label], align=align)
            sl = slice(0, len(s)) if align == "start" else slice(8 - len(s), 8)
            total[sl] += g
            count[sl] += 1
        np.testing.assert_allclose(got, total / count, rtol=1e-9)
        assert got.shape == (lengths.max(),)


def test_bad_requests_are_named():
    X, y = sum_task(6, 7)
    reg = RNNRegressor("gru", hidden_size=4, max_epochs=1, **CPU).fit(X, y)
    with pytest.raises(ValueError, match="wrt"):
        gradient_norms_through_time(reg, X, y, wrt="cell")
    with pytest.raises(ValueError, match="layer=3"):
        gradient_norms_through_time(reg, X, y, layer=3)
    with pytest.raises(ValueError, match="targets"):
        gradient_norms_through_time(reg, X)
    with pytest.raises(ValueError, match="per-step class targets"):
        gradient_norms_through_time(reg, X, y, last_steps=2)
    clf = RNNClassifier("gru", hidden_size=4, max_epochs=1, **CPU).fit(X, y > 0)
    with pytest.raises(ValueError, match="not one of the classes"):
        gradient_norms_through_time(clf, X, np.full(6, 7))
    with pytest.raises(TypeError, match="FeatureClassifier"):
        gradient_norms_through_time(FeatureClassifier().fit(X, y > 0), X, y > 0)
    Y = [(s[:, 0] > 0).astype(int) for s in X]
    tagger = RNNTagger("gru", hidden_size=4, bidirectional=False, max_epochs=1, **CPU).fit(X, Y)
    Y[2] = np.where(np.arange(len(Y[2])) == 3, 7, Y[2])
    with pytest.raises(ValueError, match=r"Y\[2\]\[3\] = 7 is not one of the classes seen in fit: \[0, 1\]"):
        gradient_norms_through_time(tagger, X, Y)


# ----------------------------------------------------------------- picture and record
def test_plot_gradient_flow_is_a_log_scale_figure_with_one_line_per_curve():
    from matplotlib.figure import Figure

    g = np.logspace(-20, 0, 50)
    fig = plot_gradient_flow({"rnn": g, "lstm": np.sqrt(g), "irnn $": np.r_[0.0, np.ones(49)],
                              "seeds": np.stack([g, 2 * g])}, x="distance", title="T = 50")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["rnn", "lstm", r"irnn \$", "seeds"]
    assert np.isnan(lines[2].get_ydata()[0])  # a zero norm is a gap, not -inf
    np.testing.assert_allclose(lines[3].get_ydata(), np.sqrt(2) * g)  # geometric mean over seeds
    assert len(ax.collections) == 1  # the seeds' band
    assert ax.get_xlim()[0] > ax.get_xlim()[1]  # distance axis runs towards the loss
    with pytest.raises(ValueError, match="shape"):
        plot_gradient_flow({"bad": np.ones((2, 2, 2))})


def test_gradient_flow_artefact_records_trained_and_initial_networks():
    X, y = sum_task(40, 8, T=12)
    reg = RNNRegressor("lstm", hidden_size=6, max_epochs=3, lr=0.02, **CPU)
    assert gradient_flow_artefact(reg, X, y, X, y) is None  # unfitted: nothing to record
    reg.fit(X, y)
    record = gradient_flow_artefact(reg, X, y, X[:30], y[:30], max_sequences=10)
    assert json.loads(json.dumps(record)) == record
    assert record["n_sequences"] == 10 and record["steps"] == 12
    np.testing.assert_allclose(record["trained"], gradient_norms_through_time(reg, X[:10], y[:10], align="end"))
    from seqbench.diagnostics._adapters import initial_estimator

    start = initial_estimator(reg, X, y)  # as fit(X, y) started: same weights, same target scaling
    barely = clone(reg).set_params(max_epochs=1, lr=1e-12).fit(X, y)
    np.testing.assert_allclose(start.module_.encoder.rnn.weight_hh_l0.detach(),
                               barely.module_.encoder.rnn.weight_hh_l0.detach(), atol=1e-9)
    initial = gradient_norms_through_time(start, X[:10], y[:10], align="end")
    np.testing.assert_allclose(record["untrained"], initial)
    assert not np.allclose(record["trained"], record["untrained"])
    assert record["decay_rate_untrained"] == pytest.approx(gradient_decay_rate(initial))
    assert gradient_flow_artefact(MeanRegressor().fit(X, y), X, y, X, y) is None


def test_dataset_gradient_flow_reads_copy_memory_at_its_recall_steps():
    from seqbench.datasets import load

    ds = load("copy_memory", T=6, n_train=30, n_test=8, n_memorize=3, n_symbols=4, random_state=0)
    tagger = RNNTagger("gru", hidden_size=8, bidirectional=False, max_epochs=1, **CPU).fit(ds.X_train, ds.y_train)
    record = dataset_gradient_flow(tagger, ds)
    assert record["last_steps"] == 3 and record["steps"] == 6 + 2 * 3
    np.testing.assert_allclose(record["trained"], gradient_norms_through_time(tagger, ds.X_test, ds.y_test,
                                                                              align="end", last_steps=3))
    assert dataset_gradient_flow(tagger, type("LM", (), {"task": "language_model"})()) is None


def _fake_context(with_flow=True):
    """A report context for a long-range run: adding problem at T = 10, 100
    for two models (one failing at T = 100), a family with no estimator (n/a)."""
    from seqbench.report import Context
    from seqbench.report._load import ReportData

    jobs, artefacts, datasets = [], {}, {}
    rng = np.random.default_rng(0)
    for T in (10, 100):
        checksum = f"adding-{T}"
        datasets[checksum] = {"checksum": checksum, "meta": {"oracle": {"baseline_mse_expected": 1 / 6}}}
        for model, family in (("RNNRegressor(cell=lstm)", "neural"), ("MeanRegressor", "baseline")):
            for seed in (0, 1):
                key = f"{T}-{model}-{seed}"
                failed = model == "RNNRegressor(cell=lstm)" and T == 100 and seed == 1
                jobs.append({"key": key, "task": "regress", "dataset": "adding_problem",
                             "dataset_label": f"adding(T={T})", "dataset_options": {"T": T},
                             "dataset_checksum": checksum, "model": model, "model_label": model, "family": family,
                             "seed": seed, "fold": 0, "status": "failed" if failed else "ok",
                             "error": "FloatingPointError: diverged" if failed else None,
                             "metrics": None if failed else {"mse": 0.001 * T + 0.01 * seed, "r2": 0.5}})
                if with_flow and family == "neural" and not failed:
                    curve = np.logspace(-10, 0, T).tolist()
                    artefacts[key] = {"gradient_flow": {"untrained": curve, "trained": curve,
                                                        "decay_rate_untrained": -0.1, "decay_rate_trained": -0.1}}
        jobs.append({"key": f"na-{T}", "task": "regress", "dataset": "adding_problem",
                     "dataset_label": f"adding(T={T})", "dataset_options": {"T": T}, "model": "hmm", "model_label": "hmm", "family": "hmm", "seed": None,
                     "fold": None, "status": "n/a", "error": "seqbench has no hmm estimator for the regress task"})
    metrics = {"regress": {"main": "r2", "greater_is_better": {"r2": True, "mse": False}}}
    data = ReportData(path=None, jobs=jobs, datasets=datasets, metrics=metrics, run=None, runs=[], meta={},
                      _artefacts={j["key"]: artefacts.get(j["key"], {}) for j in jobs})
    return Context(data)


def test_report_section_plots_metric_against_length_and_gradient_flow():
    from seqbench.report import Figure, Section, Table

    section = recurrent_dynamics_section(_fake_context())
    assert isinstance(section, Section) and section.id == "recurrent-dynamics"
    adding, flow = section.blocks
    figure, table = adding.blocks
    assert isinstance(figure, Figure) and figure.png.startswith(b"\x89PNG") and figure.width > 0
    assert isinstance(table, Table) and table.columns == ["model", "family", "T = 10", "T = 100"]
    rows = {table.cell(r, 0).text: [table.cell(r, c) for c in range(len(table.columns))]
            for r in range(len(table.rows))}
    assert rows["RNNRegressor(cell=lstm)"][2].text == "0.015 ± 0.007"
    assert rows["RNNRegressor(cell=lstm)"][2].best  # below one tenth of 1/6: solved
    assert rows["RNNRegressor(cell=lstm)"][3].text == "0.100"  # the failed seed does not count ...
    assert "failed 1/2" in rows["RNNRegressor(cell=lstm)"][3].note  # ... and the cell says so
    assert rows["hmm"][2].text == "n/a" and "no hmm estimator" in rows["hmm"][2].note
    assert rows["trivial baseline (dataset card)"][2].text == "0.167"
    flow_figure, rates = flow.blocks
    assert "T = 100" in flow.title and isinstance(flow_figure, Figure)
    assert rates.cell(0, 1).text == "-0.100"


def test_report_section_is_left_out_without_long_range_data_and_says_when_flow_is_missing():
    from seqbench.report import Context, Paragraph
    from seqbench.report._load import ReportData

    empty = ReportData(path=None, jobs=[], datasets={}, metrics={}, run=None, runs=[], meta={})
    assert recurrent_dynamics_section(Context(empty)) is None
    section = recurrent_dynamics_section(_fake_context(with_flow=False))
    assert isinstance(section.blocks[-1], Paragraph) and "gradient-flow record" in section.blocks[-1].text
