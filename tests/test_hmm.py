"""HMMClassifier and the shared HMM fitting machinery.

Known-answer tests against true generating models (the Bayes-optimal
classifier computed from the true models' log-likelihoods), agreement with
hmmlearn's own scores, and each hmmlearn pitfall of NOTES.md handled on
purpose: the covariance floor during EM, honest convergence, restarts, empty
states, unseen symbols, the left-right zero pattern, short sequences.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hmmlearn.hmm import CategoricalHMM, GaussianHMM
from scipy.special import softmax
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils import shuffle
from threadpoolctl import threadpool_limits

from seqbench.models import HMMClassifier
from seqbench.models.hmm import HMMFitError
from seqbench.models.hmm import _fitting
from seqbench.models.hmm._fitting import (
    FlooredGaussianHMM,
    FlooredGMMHMM,
    HMMSpec,
    fit_hmm,
    run_seed,
    segment_steps,
    sequence_log_likelihoods,
)


@pytest.fixture(autouse=True)
def _one_thread():
    """hmmlearn calls made by the tests themselves run single-threaded, as
    HMMClassifier runs them (many threads on tiny arrays only contend)."""
    with threadpool_limits(limits=1):
        yield


# ---------------------------------------------------------------------------
# true generating models
# ---------------------------------------------------------------------------


def _gaussian_sources():
    """Two 3-state ergodic Gaussian HMMs (2-D) with the same emissions that
    differ only in their dynamics: sticky vs cyclic."""
    models = []
    for trans in ([[.8, .1, .1], [.1, .8, .1], [.1, .1, .8]], [[.2, .7, .1], [.1, .2, .7], [.7, .1, .2]]):
        m = GaussianHMM(3, covariance_type="diag")
        m.n_features = 2
        m.startprob_, m.transmat_ = np.array([.5, .3, .2]), np.array(trans)
        m.means_, m.covars_ = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]), np.ones((3, 2))
        models.append(m)
    return models


def _categorical_sources():
    """Two 2-state ergodic categorical HMMs over 5 symbols: same emissions,
    sticky vs memoryless switching."""
    models = []
    for trans in ([[.9, .1], [.1, .9]], [[.5, .5], [.5, .5]]):
        m = CategoricalHMM(2, n_features=5)
        m.startprob_, m.transmat_ = np.array([.5, .5]), np.array(trans)
        m.emissionprob_ = np.array([[.4, .3, .1, .1, .1], [.1, .1, .1, .3, .4]])
        models.append(m)
    return models


def _sample(models, n, seed, *, lengths=(10, 11)):
    """n sequences, alternating classes; symbols come back as 1-D int arrays."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % 2
    X = [models[k].sample(int(rng.randint(*lengths)), random_state=rng)[0] for k in y]
    if isinstance(models[0], CategoricalHMM):
        X = [s[:, 0] for s in X]
    return X, y


def _bayes_accuracy(models, X, y):
    """Accuracy of the Bayes-optimal rule (equal priors): the true models'
    per-sequence log-likelihoods, computed with hmmlearn's own score."""
    loglik = np.array([[m.score(np.reshape(s, (len(s), -1))) for m in models] for s in X])
    return np.mean(np.argmax(loglik, axis=1) == y)


# ---------------------------------------------------------------------------
# known answers
# ---------------------------------------------------------------------------


def test_gaussian_accuracy_close_to_bayes_optimal():
    models = _gaussian_sources()
    X_train, y_train = _sample(models, 200, 0)
    X_test, y_test = _sample(models, 600, 1)
    bayes = _bayes_accuracy(models, X_test, y_test)
    clf = HMMClassifier(3, topology="ergodic", n_restarts=3, random_state=0).fit(X_train, y_train)
    accuracy = clf.score(X_test, y_test)
    assert bayes > 0.85  # the task is learnable but not trivial
    assert bayes - 0.04 <= accuracy <= bayes + 0.02, (accuracy, bayes)


def test_categorical_accuracy_close_to_bayes_optimal():
    models = _categorical_sources()
    X_train, y_train = _sample(models, 200, 0, lengths=(8, 25))
    X_test, y_test = _sample(models, 600, 1, lengths=(8, 25))
    bayes = _bayes_accuracy(models, X_test, y_test)
    clf = HMMClassifier(2, random_state=0).fit(X_train, y_train)  # symbols: categorical, ergodic
    assert (clf.emission_, clf.topology_) == ("categorical", "ergodic")
    accuracy = clf.score(X_test, y_test)
    assert bayes > 0.65
    assert bayes - 0.04 <= accuracy <= bayes + 0.03, (accuracy, bayes)


def test_predict_proba_is_softmax_of_hmmlearn_scores_plus_log_prior():
    models = _gaussian_sources()
    X, y = _sample(models, 60, 2, lengths=(1, 15))  # ragged, including length 1
    y = (np.arange(60) >= 40).astype(int)  # unequal priors: 40 vs 20
    clf = HMMClassifier(3, random_state=0).fit(X, y)
    scaled = [(s - clf.scale_mean_) / clf.scale_std_ for s in X]
    loglik = np.array([[m.score(s) for m in clf.models_] for s in scaled])
    expected = softmax(loglik + np.log([40 / 60, 20 / 60]), axis=1)
    np.testing.assert_allclose(clf.class_log_prior_, np.log([40 / 60, 20 / 60]))
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(expected, axis=1)])


@pytest.mark.parametrize("kind", ["gaussian", "gmm-full", "categorical-left-right", "long-categorical"])
def test_sequence_log_likelihoods_match_hmmlearn_score(kind):
    """Many short sequences: the batched forward pass; few long ones: hmmlearn's."""
    rng = np.random.RandomState(0)
    lengths = np.array([1, 2, 7, 3, 12, 1]) if kind != "long-categorical" else np.array([300, 5])
    if "categorical" in kind:
        X = rng.randint(0, 4, size=(lengths.sum(), 1))
        spec = HMMSpec("categorical", 3, n_symbols=4, topology="left-right" if "left" in kind else "ergodic",
                       n_iter=5)
    else:
        X = rng.normal(size=(lengths.sum(), 2))
        spec = HMMSpec(kind.split("-")[0], 3, covariance_type="full" if "full" in kind else "diag",
                       n_mix=2, topology="ergodic", n_iter=5)
    model = fit_hmm(spec, X, lengths, seed=0)[0]
    starts = np.cumsum(lengths) - lengths
    expected = [model.score(X[a:a + n]) for a, n in zip(starts, lengths)]
    np.testing.assert_allclose(sequence_log_likelihoods(model, X, lengths), expected, rtol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_blobs_as_length_2_sequences_reach_sklearn_training_accuracy():
    """The accuracy part of sklearn's check_classifiers_train (declared an
    expected failure only for its predict(X.T) clause): > 0.83 on blobs read as
    univariate sequences of length 2, binary and 3-class, arrays and lists."""
    X, y = make_blobs(n_samples=300, random_state=0)
    X, y = shuffle(X, y, random_state=7)
    X = StandardScaler().fit_transform(X)
    for X_p, y_p in ((X[y != 2], y[y != 2]), (X, y)):
        clf = HMMClassifier(n_components=2, n_iter=10, random_state=0)
        assert clf.fit(X_p, y_p).score(X_p, y_p) > 0.83
        assert clf.fit(X_p.tolist(), y_p.tolist()).score(X_p, y_p) > 0.83


# ---------------------------------------------------------------------------
# hmmlearn pitfalls handled on purpose
# ---------------------------------------------------------------------------


def _with_constant_channel(n=30, seed=0):
    """Two classes of 3-channel sequences whose channel 2 is always 0."""
    rng = np.random.RandomState(seed)
    X, y = [], []
    for i in range(n):
        s = rng.normal(size=(12, 3))
        s[:, 0] += 2.0 * (i % 2)
        s[:, 2] = 0.0
        X.append(s)
        y.append(i % 2)
    return X, np.array(y)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied", "spherical"])
def test_covariance_floor_holds_after_fit(covariance_type):
    X, y = _with_constant_channel()
    floor = 0.05
    clf = HMMClassifier(3, covariance_type=covariance_type, covar_floor=floor, scaling=None, random_state=0)
    clf.fit(X, y)
    for model, report in zip(clf.models_, clf.fit_report_):
        covars = model.covars_  # full matrices (n_states, d, d)
        assert np.linalg.eigvalsh(covars).min() >= floor * (1 - 1e-9)
        assert np.diagonal(covars, axis1=1, axis2=2).min() >= floor * (1 - 1e-9)
        if covariance_type != "spherical":  # one variance averaged over channels stays above it
            assert report.n_floored > 0  # the constant channel sits on the floor
    # without the floor, hmmlearn lets the constant channel collapse below it
    X_0 = np.concatenate([s for s, label in zip(X, y) if label == 0])
    plain = GaussianHMM(3, covariance_type="diag", min_covar=floor, n_iter=20, random_state=0)
    plain.fit(X_0, [12] * (len(X_0) // 12))
    assert plain.covars_[:, 2, 2].min() < floor


def test_gmm_emission_fits_floors_and_classifies():
    X, y = _with_constant_channel(n=40)
    clf = HMMClassifier(2, emission="gmm", n_mix=2, covar_floor=0.05, random_state=0).fit(X, y)
    assert all(isinstance(m, FlooredGMMHMM) and m.means_.shape == (2, 2, 3) for m in clf.models_)
    assert min(m.covars_.min() for m in clf.models_) >= 0.05
    assert clf.score(X, y) >= 0.9
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_restarts_keep_the_best_log_likelihood():
    models = _gaussian_sources()
    X, y = _sample(models, 60, 3)
    best = HMMClassifier(3, topology="ergodic", n_restarts=3, n_iter=30, random_state=0).fit(X, y)
    single = HMMClassifier(3, topology="ergodic", n_restarts=1, n_iter=30, random_state=0).fit(X, y)
    base_seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    spec = HMMSpec("gaussian", 3, topology="ergodic", n_iter=30, covar_floor=0.1)
    for k, report in enumerate(best.fit_report_):
        X_k, lengths_k = best._model_input(best._validate_predict_X([s for s, c in zip(X, y) if c == k]))
        # each of the three runs, refitted alone from its seed
        singles = [fit_hmm(spec, X_k, lengths_k, run_seed(base_seed, k, r), run=r)[1] for r in range(3)]
        np.testing.assert_allclose(report.run_log_likelihoods, singles)
        np.testing.assert_allclose(report.log_likelihood, max(singles), rtol=1e-12)
        assert report.log_likelihood >= single.fit_report_[k].log_likelihood
        np.testing.assert_allclose(single.fit_report_[k].log_likelihood, singles[0])
    assert any(len(set(np.round(r.run_log_likelihoods, 6))) > 1 for r in best.fit_report_)  # seeds differ


def test_non_convergence_is_reported_not_hidden():
    models = _gaussian_sources()
    X, y = _sample(models, 40, 4)
    with pytest.warns(ConvergenceWarning, match=r"n_iter=2"):
        clf = HMMClassifier(3, n_iter=2, tol=0.0, random_state=0).fit(X, y)
    for model, report in zip(clf.models_, clf.fit_report_):
        assert model.monitor_.converged  # hmmlearn says "converged" merely because n_iter was hit
        assert not report.converged and report.n_iter == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = HMMClassifier(3, n_iter=500, tol=1e-2, random_state=0).fit(X, y)
    assert all(r.converged and r.n_iter < 500 for r in clf.fit_report_)


def test_failed_runs_are_replaced_and_total_failure_names_the_class(monkeypatch):
    X, y = _with_constant_channel(n=20)
    y = np.where(y == 1, "spam", "ham")
    real_make = _fitting.make_hmm
    calls = []

    def flaky(spec, X, lengths, seed, **kw):  # the first run of every class fails like hmmlearn does
        calls.append(seed)
        if kw.get("run", 0) == 0:
            raise ValueError("startprob_ must sum to 1 (got nan)")
        return real_make(spec, X, lengths, seed, **kw)

    monkeypatch.setattr(_fitting, "make_hmm", flaky)
    clf = HMMClassifier(2, n_restarts=1, random_state=0).fit(X, y)
    for report in clf.fit_report_:
        assert len(report.failed_runs) == 1 and "got nan" in report.failed_runs[0]
        assert len(report.run_log_likelihoods) == 1 and np.isfinite(report.log_likelihood)

    def broken(*args, **kw):
        raise ValueError("component 0 of 'full' covars must be symmetric, positive-definite")

    monkeypatch.setattr(_fitting, "make_hmm", broken)
    with pytest.raises(HMMFitError, match=r"class 'ham'.*positive-definite"):
        HMMClassifier(2, n_restarts=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("covariance_type", ["diag", "tied", "full"])
def test_empty_states_keep_parameters_and_transition_rows_are_repaired(covariance_type):
    """State 2 is unreachable (zero start and zero incoming transitions): hmmlearn
    gives it NaN means (0/0) and a zero transition row; here it keeps its
    parameters and gets a self-loop, and the model still scores."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))

    def unreachable(cls, **kw):
        m = cls(3, covariance_type=covariance_type, n_iter=3, init_params="c", random_state=0, **kw)
        m.startprob_ = np.array([.5, .5, 0.0])
        m.transmat_ = np.array([[.5, .5, 0.0], [.5, .5, 0.0], [.4, .3, .3]])
        m.means_ = np.array([[-1.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
        return m

    with np.errstate(all="ignore"):
        try:
            plain_mean = unreachable(GaussianHMM).fit(X, [20, 20, 20]).means_[2]
        except ValueError:  # full/tied: the NaN reaches the covariances and hmmlearn raises
            plain_mean = np.full(2, np.nan)
    assert np.isnan(plain_mean).all()  # the pitfall
    model = unreachable(FlooredGaussianHMM, covar_floor=1e-3).fit(X, [20, 20, 20])
    np.testing.assert_array_equal(model.means_[2], [5.0, 5.0])
    np.testing.assert_array_equal(model.transmat_[2], [0.0, 0.0, 1.0])
    assert model.n_repaired_states_ == 1
    assert np.isfinite(model.means_).all() and np.isfinite(model.covars_).all()
    assert np.isfinite(model.score(X))


def test_symbol_unseen_in_one_class_keeps_finite_log_likelihood():
    rng = np.random.RandomState(0)
    X = [rng.randint(0, 4, size=10) for _ in range(20)] + [rng.randint(2, 6, size=10) for _ in range(20)]
    y = np.repeat([0, 1], 20)  # symbols 4, 5 never occur in class 0; 0, 1 never in class 1
    clf = HMMClassifier(2, random_state=0).fit(X, y)
    assert clf.n_symbols_ == 7  # ids 0..5 and <unk>
    for model in clf.models_:
        assert model.n_features == 7 and model.emissionprob_.min() > 0
    joint = clf.predict_joint_log_proba([np.array([0, 1, 4, 5, 5]), np.array([5, 5, 5])])
    assert np.isfinite(joint).all()
    np.testing.assert_array_equal(clf.predict([np.array([4, 5, 5, 4]), np.array([0, 1, 0])]), [1, 0])


@pytest.mark.parametrize("emission", ["gaussian", "categorical"])
def test_left_right_topology_keeps_its_zero_pattern(emission):
    rng = np.random.RandomState(0)
    if emission == "gaussian":
        X = [np.cumsum(rng.normal(size=(15, 2)), axis=0) for _ in range(20)]
    else:
        X = [np.sort(rng.randint(0, 5, size=15)) for _ in range(20)]
    y = np.arange(20) % 2
    clf = HMMClassifier(4, emission=emission, topology="left-right", random_state=0).fit(X, y)
    allowed = np.eye(4, dtype=bool) | np.eye(4, k=1, dtype=bool)
    for model in clf.models_:
        np.testing.assert_array_equal(model.startprob_, [1.0, 0.0, 0.0, 0.0])
        assert np.all(model.transmat_[~allowed] == 0.0)
        assert np.all(model.transmat_[np.eye(4, k=1, dtype=bool)] > 0)  # the chain is still used
        np.testing.assert_allclose(model.transmat_.sum(axis=1), 1.0)


def test_segment_steps_is_left_to_right():
    lengths = np.array([8, 3, 5])
    seg = segment_steps(lengths, 4)
    np.testing.assert_array_equal(seg[:8], [0, 0, 1, 1, 2, 2, 3, 3])
    np.testing.assert_array_equal(seg[8:11], [0, 1, 2])
    random_seg = segment_steps(lengths, 4, np.random.RandomState(0))
    for part in np.split(random_seg, np.cumsum(lengths)[:-1]):
        assert np.all(np.diff(part) >= 0)  # never moves backwards
    assert set(random_seg) == {0, 1, 2, 3}


def test_very_short_sequences_and_state_reduction():
    rng = np.random.RandomState(0)
    X = [rng.normal(size=(rng.randint(1, 3), 2)) + 3 * (i % 2) for i in range(30)]  # lengths 1 and 2
    y = np.arange(30) % 2
    clf = HMMClassifier(4, topology="left-right", random_state=0).fit(X, y)  # at most 2 states fit in length 2
    assert [r.n_states for r in clf.fit_report_] == [2, 2]
    assert clf.score(X, y) >= 0.9
    ergodic = HMMClassifier(4, topology="ergodic", random_state=0).fit(X[:4], y[:4])  # 2-4 steps per class
    assert all(r.n_states <= 4 for r in ergodic.fit_report_)
    assert np.isfinite(ergodic.predict_log_proba(X)).all()
    with pytest.raises(ValueError, match=r"class 1 has a single step"):
        HMMClassifier(2).fit([np.ones((3, 1)), np.ones((1, 1)) * 2], [0, 1])


def test_scaling_makes_the_floor_scale_free():
    X, y = _with_constant_channel()
    clf = HMMClassifier(3, random_state=0).fit(X, y)
    big = HMMClassifier(3, random_state=0).fit([1000.0 * s for s in X], y)
    np.testing.assert_allclose(big.predict_proba([1000.0 * s for s in X]), clf.predict_proba(X), atol=1e-6)
    steps = np.concatenate(X)
    np.testing.assert_allclose(clf.scale_mean_, steps.mean(axis=0))
    np.testing.assert_allclose(clf.scale_std_, np.sqrt(steps.var(axis=0).mean()))
    per_feature = HMMClassifier(3, scaling="feature", random_state=0).fit(X, y)
    np.testing.assert_allclose(per_feature.scale_std_, np.where(steps.std(axis=0) > 0, steps.std(axis=0), 1.0))
    assert HMMClassifier(3, scaling=None, random_state=0).fit(X, y).scale_mean_ is None


def test_text_input_uses_categorical_emissions():
    texts = ["the cat sat on the mat", "a cat and a hat", "the dog ran", "a cat sat"] * 5
    texts += ["buy cheap pills now", "cheap pills buy now now", "now buy pills", "pills now"] * 5
    y = np.repeat(["ham", "spam"], 20)
    clf = HMMClassifier(2, random_state=0).fit(texts, y)
    assert clf.emission_ == "categorical" and clf.n_symbols_ == clf.tokenizer_.n_symbols_
    np.testing.assert_array_equal(clf.predict(["the cat ran", "buy pills", "zebra"])[:2], ["ham", "spam"])


def test_underflow_in_scaling_falls_back_to_log():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 800))  # 800-dimensional steps: every emission density underflows exp()
    model, ll, _, messages = fit_hmm(HMMSpec("gaussian", 2, topology="ergodic", n_iter=3), X, [20, 20], 0)
    assert any("refitted with implementation='log'" in m for m in messages)
    assert np.isfinite(ll) and model.implementation == "log"


# ---------------------------------------------------------------------------
# clear errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(emission="poisson"), "emission"),
        (dict(n_components=0), "n_components"),
        (dict(covariance_type="banded"), "covariance_type"),
        (dict(covar_floor=0.0), "covar_floor"),
        (dict(emission_smoothing=0.0), "emission_smoothing"),
        (dict(n_restarts=0), "n_restarts"),
        (dict(topology="circular"), "topology"),
    ],
)
def test_bad_parameters_raise_naming_the_parameter(params, match):
    X, y = _with_constant_channel(n=6)
    with pytest.raises(ValueError, match=match):
        HMMClassifier(**params).fit(X, y)


def test_emission_and_input_kind_must_agree():
    X, y = _with_constant_channel(n=6)
    with pytest.raises(TypeError, match=r"accepts \['symbol', 'text'\] sequences, got real"):
        HMMClassifier(emission="categorical").fit(X, y)
    symbols = [np.array([0, 1, 2, 1]), np.array([2, 2, 0])] * 3
    with pytest.raises(TypeError, match=r"accepts \['real'\] sequences, got symbol"):
        HMMClassifier(emission="gaussian").fit(symbols, y)


def test_predict_with_a_different_number_of_features_raises():
    X, y = _with_constant_channel(n=10)
    clf = HMMClassifier(2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"sequence 0 has 2 features per step, but the estimator was fitted with 3"):
        clf.predict([s[:, :2] for s in X])
