"""ARClassifier: known answers against the true generating models and against
statsmodels, the pooled lag matrix, the Markov chain of symbols, errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.ar_model import AutoReg, ar_select_order
from statsmodels.tsa.api import VAR
from statsmodels.tsa.arima_process import ArmaProcess
from statsmodels.tsa.tsatools import lagmat

from seqbench.models import ARClassifier
from seqbench.models.autoregressive._gaussian import select_order
from seqbench.models.autoregressive._lags import lagged_rows, per_sequence_ar_features
from seqbench.models.autoregressive._markov import (
    count_ngrams,
    encode_contexts,
    next_symbol_log_proba,
    select_chain_order,
    sequence_log_likelihood,
)

# -- simulation helpers --------------------------------------------------------


def simulate_ar(phi, n, T, rng, *, c=0.0, sigma=1.0):
    """n stationary AR(p) sequences of length T, (n, T): burn-in 200 steps."""
    process = ArmaProcess(np.r_[1.0, -np.asarray(phi)], [1.0])
    x = process.generate_sample((n, T), scale=sigma, distrvs=rng.standard_normal, axis=1, burnin=200)
    return x + c / (1.0 - np.sum(phi))


def true_ar_loglik(x, phi, sigma=1.0):
    """Exact Gaussian log-likelihood of one zero-mean stationary AR(p) sequence
    (p <= len(x)): the stationary density of the first p values times the
    conditional densities of the rest."""
    p = len(phi)
    acov = ArmaProcess(np.r_[1.0, -np.asarray(phi)], [1.0]).acovf(p) * sigma**2
    toeplitz = acov[np.abs(np.subtract.outer(np.arange(p), np.arange(p)))]
    head = multivariate_normal(np.zeros(p), toeplitz).logpdf(x[:p])
    pred = sum(phi[k] * x[p - k - 1 : len(x) - k - 1] for k in range(p))
    return head + norm.logpdf(x[p:], loc=pred, scale=sigma).sum()


PHI = {0: [0.6, -0.2], 1: [0.3, 0.3]}


@pytest.fixture(scope="module")
def ar2_data():
    """Two classes of AR(2) sequences of 30 steps; 300 training and 300 test per class."""
    rng = np.random.default_rng(0)
    X, y = [], []
    for label, phi in PHI.items():
        X.append(simulate_ar(phi, 600, 30, rng))
        y.append(np.full(600, label))
    X, y = np.concatenate(X), np.concatenate(y)
    perm = rng.permutation(len(y))
    X, y = X[perm], y[perm]
    return X[:600], y[:600], X[600:], y[600:]


# -- generative AR: known answers ---------------------------------------------


def test_pooled_coefficients_recover_the_true_ar2(ar2_data):
    X_train, y_train, _, _ = ar2_data
    est = ARClassifier(order=2).fit(X_train, y_train)
    assert est.order_ == 2
    for label, phi in PHI.items():
        n_rows = (y_train == label).sum() * (30 - 2)
        # OLS standard error of an AR(2) coefficient is sqrt((1 - phi_2^2) / n_rows) <= 1/sqrt(n_rows)
        # (about 0.011 here); 4 standard errors
        tol = 4.0 / np.sqrt(n_rows)
        np.testing.assert_allclose(est.coef_[label, :, 0, 0], phi, atol=tol)
        assert abs(est.intercept_[label, 0]) < tol
        # residual variance 1 (plus the floor, 1% of the largest variance)
        assert abs(est.sigma2_[label, 0] - 1.0) < 0.1


def test_accuracy_close_to_bayes_classifier_with_true_coefficients(ar2_data):
    X_train, y_train, X_test, y_test = ar2_data
    est = ARClassifier(order=2).fit(X_train, y_train)
    accuracy = est.score(X_test, y_test)
    bayes = np.array([[true_ar_loglik(x, PHI[k]) for k in (0, 1)] for x in X_test]).argmax(axis=1)
    bayes_accuracy = np.mean(bayes == y_test)
    assert 0.7 < bayes_accuracy < 0.99  # the task is neither trivial nor hopeless
    # estimated coefficients are within ~0.02 of the truth, so the decisions
    # differ from Bayes' on a few borderline sequences only
    assert accuracy >= bayes_accuracy - 0.02, (accuracy, bayes_accuracy)
    np.testing.assert_allclose(est.predict_proba(X_test).sum(axis=1), 1.0)


def test_blobs_as_length_two_sequences_are_learned():
    """The training-accuracy part of sklearn's check_classifiers_train (the
    check itself is an expected failure: it also requires predict(X.T) to raise)."""
    X, y = make_blobs(n_samples=300, random_state=0)
    X = StandardScaler().fit_transform(X)
    for mask in (y != 2, np.ones(len(y), bool)):
        est = ARClassifier(order=1).fit(X[mask], y[mask])
        assert est.score(X[mask], y[mask]) > 0.83


def test_order_aic_picks_the_true_order_of_a_long_ar3():
    rng = np.random.default_rng(1)
    X = np.concatenate([simulate_ar([0.5, -0.3, 0.3], 2, 1500, rng), simulate_ar([0.2, 0.1, -0.3], 2, 1500, rng)])
    y = np.repeat([0, 1], 2)
    for criterion in ("aic", "bic"):
        est = ARClassifier(order=criterion, max_order=8).fit(X, y)
        assert est.order_ == 3, (criterion, est.order_)
        assert est.coef_.shape == (2, 3, 1, 1)


@pytest.mark.parametrize("seed", range(4))
def test_order_selection_agrees_with_statsmodels_ar_select_order(seed):
    """One class, one series, no variance floor: the same rows and the same
    likelihoods as statsmodels, so the same choice."""
    rng = np.random.default_rng(seed)
    x = simulate_ar([0.4, 0.0, 0.2], 1, 300, rng)[0]
    for ic in ("aic", "bic"):
        ours = select_order([[x[:, None]]], 6, "c", "per_channel", 0.0, ic)
        theirs = ar_select_order(x, 6, ic=ic, trend="c").ar_lags  # lags 1..p (statsmodels also tries 0)
        assert theirs is not None and ours == max(theirs), (ic, ours, theirs)


def test_log_likelihood_and_coefficients_equal_statsmodels_autoreg():
    rng = np.random.default_rng(2)
    a, b = simulate_ar([0.5, 0.2], 1, 200, rng, c=1.0)[0], simulate_ar([-0.3, 0.1], 1, 150, rng)[0]
    est = ARClassifier(order=2, initial="condition", var_smoothing=0.0).fit([a, b], [0, 1])
    for label, x in enumerate((a, b)):
        ref = AutoReg(x, lags=2, trend="c").fit()
        np.testing.assert_allclose(est.intercept_[label, 0], ref.params[0], rtol=1e-8)
        np.testing.assert_allclose(est.coef_[label, :, 0, 0], ref.params[1:], rtol=1e-8)
        np.testing.assert_allclose(est.sigma2_[label, 0], ref.sigma2, rtol=1e-8)
        loglik = est.predict_joint_log_proba([x])[0, label] - est.class_log_prior_[label]
        np.testing.assert_allclose(loglik, ref.llf, rtol=1e-10)


def test_var_log_likelihood_and_coefficients_equal_statsmodels_var():
    rng = np.random.default_rng(3)
    A = np.array([[0.5, 0.3], [-0.2, 0.4]])
    seqs = []
    for _ in range(2):
        x = np.zeros((250, 2))
        for t in range(1, 250):
            x[t] = A @ x[t - 1] + rng.normal(size=2)
        seqs.append(x)
    est = ARClassifier(order=2, multivariate="var", initial="condition", var_smoothing=0.0).fit(seqs, [0, 1])
    for label, x in enumerate(seqs):
        ref = VAR(x).fit(2, trend="c")
        np.testing.assert_allclose(est.coef_[label], ref.coefs, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(est.intercept_[label], ref.intercept, rtol=1e-7)
        np.testing.assert_allclose(est.covariance_[label], ref.sigma_u_mle, rtol=1e-7)
        loglik = est.predict_joint_log_proba([x])[0, label] - est.class_log_prior_[label]
        np.testing.assert_allclose(loglik, ref.llf, rtol=1e-10)


def test_initial_steps_are_modelled_by_regressions_on_their_predecessors():
    """initial="model" adds, for order 2, the Gaussian of step 0 and the OLS
    regression of step 1 on step 0, fitted on the class's sequences."""
    rng = np.random.default_rng(4)
    X = simulate_ar([0.5, 0.2], 80, 12, rng, c=2.0)
    y = np.repeat([0, 1], 40)
    cond = ARClassifier(order=2, initial="condition", var_smoothing=0.0).fit(X, y)
    full = ARClassifier(order=2, initial="model", var_smoothing=0.0).fit(X, y)
    extra = (full.predict_joint_log_proba(X) - cond.predict_joint_log_proba(X))[:, 0]
    x0, x1 = X[y == 0, 0], X[y == 0, 1]
    expected_train = norm.logpdf(x0, x0.mean(), x0.std()).sum() + OLS(x1, np.c_[np.ones(40), x0]).fit().llf
    np.testing.assert_allclose(extra[y == 0].sum(), expected_train, rtol=1e-9)


def test_var_beats_per_channel_when_channels_drive_each_other():
    """Channel 0 follows +0.6 or -0.6 times channel 1's last value: each
    channel alone looks the same in both classes; only the VAR sees the sign."""
    rng = np.random.default_rng(5)

    def simulate(sign, n=120, T=25):
        A = np.array([[0.3, 0.6 * sign], [0.0, 0.5]])
        x = np.zeros((n, T, 2))
        for t in range(1, T):
            x[:, t] = x[:, t - 1] @ A.T + rng.normal(size=(n, 2))
        return x

    X = np.concatenate([simulate(+1), simulate(-1)])
    y = np.repeat([0, 1], 120)
    train, test = np.arange(240) % 2 == 0, np.arange(240) % 2 == 1
    var = ARClassifier(order=1, multivariate="var").fit(X[train], y[train]).score(X[test], y[test])
    per_channel = ARClassifier(order=1).fit(X[train], y[train]).score(X[test], y[test])
    assert var > 0.9
    assert per_channel < 0.7
    assert var > per_channel + 0.2


# -- the pooled lag matrix -----------------------------------------------------


def test_pooled_lag_rows_never_cross_sequence_boundaries():
    # sequence i holds 1000*i + t: a lag taken from the previous sequence
    # would differ from its target by about 1000, not by the lag
    lengths = [5, 1, 3, 7, 2]
    seqs = [(1000.0 * i + np.arange(T))[:, None] for i, T in enumerate(lengths)]
    rows = lagged_rows(seqs, 2)
    assert len(rows) == sum(max(T - 2, 0) for T in lengths)
    for k in range(2):
        np.testing.assert_array_equal(rows.target[:, 0] - rows.lags[:, k, 0], k + 1)
    np.testing.assert_array_equal(rows.target[:, 0] // 1000, rows.seq_index)
    # the same rows as statsmodels' lagmat, one sequence at a time
    per_seq = [lagmat(s, 2, trim="both", original="sep") for s in seqs if len(s) > 2]
    np.testing.assert_array_equal(rows.lags[:, :, 0], np.concatenate([lags for lags, _ in per_seq]))
    np.testing.assert_array_equal(rows.target, np.concatenate([lead for _, lead in per_seq]))


def test_class_fit_does_not_bridge_sequences():
    """Two sequences of one class: AR(1) around +10 and around -10. Glued end
    to start they would add a jump of 20; pooled without crossing, the fit is
    the within-sequence AR, the same as fitting the shifted halves."""
    rng = np.random.default_rng(6)
    a, b = simulate_ar([0.5], 2, 200, rng)
    X = [a + 10.0, b - 10.0, rng.normal(size=200), rng.normal(size=200)]
    est = ARClassifier(order=1, trend="n", var_smoothing=0.0).fit(X, [0, 0, 1, 1])
    rows_y = np.r_[X[0][1:], X[1][1:]]
    rows_x = np.r_[X[0][:-1], X[1][:-1]]
    expected = OLS(rows_y, rows_x).fit().params[0]
    glued = OLS(np.r_[X[0], X[1]][1:], np.r_[X[0], X[1]][:-1]).fit().params[0]
    np.testing.assert_allclose(est.coef_[0, 0, 0, 0], expected, rtol=1e-10)
    assert abs(glued - expected) > 1e-4


# -- discriminative -------------------------------------------------------------


def test_per_sequence_features_equal_statsmodels_autoreg():
    rng = np.random.default_rng(7)
    seqs = [simulate_ar([0.4, 0.3], 1, T, rng, c=0.5)[0][:, None] for T in (40, 40, 55)]
    feats = per_sequence_ar_features(seqs, 2, "c", "per_channel")  # [mean, c, phi1, phi2, sigma2]
    for row, s in zip(feats, seqs):
        ref = AutoReg(s[:, 0], lags=2, trend="c").fit()
        np.testing.assert_allclose(row, np.r_[s.mean(), ref.params, ref.sigma2], rtol=1e-8)
    pair = [np.c_[s, s[::-1]] for s in seqs]
    var_feats = per_sequence_ar_features(pair, 1, "c", "var")
    ref = VAR(pair[2]).fit(1, trend="c")
    iu = np.triu_indices(2)
    expected = np.r_[pair[2].mean(axis=0), ref.intercept, ref.coefs.ravel(), ref.sigma_u_mle[iu]]
    np.testing.assert_allclose(var_feats[2], expected, rtol=1e-7)


def test_discriminative_learns_ar2_classes(ar2_data):
    X_train, y_train, X_test, y_test = ar2_data
    est = ARClassifier(method="discriminative", order=2).fit(X_train, y_train)
    assert est.score(X_test, y_test) > 0.75
    proba = est.predict_proba(X_test)
    np.testing.assert_array_equal(est.classes_[proba.argmax(axis=1)], est.predict(X_test))
    assert not hasattr(est, "predict_joint_log_proba")


def test_discriminative_short_sequence_errors_name_index_and_minimum():
    rng = np.random.default_rng(8)
    X = [rng.normal(size=10) for _ in range(6)]
    y = [0, 1] * 3
    X_bad = X[:3] + [rng.normal(size=3)] + X[4:]
    with pytest.raises(ValueError, match=r"sequence 3 has 3 steps.*at least 4"):
        ARClassifier(method="discriminative", order=2).fit(X_bad, y)
    est = ARClassifier(method="discriminative", order=2).fit(X, y)
    with pytest.raises(ValueError, match=r"sequence 1 has 2 steps.*at least 4"):
        est.predict([X[0], X[0][:2]])


# -- symbols: the Markov chain ---------------------------------------------------


def test_chain_probabilities_sum_to_one_in_every_context():
    rng = np.random.default_rng(9)
    V, order = 4, 2
    counts = count_ngrams([rng.integers(0, V, size=20) for _ in range(5)], order, V)
    grid = np.stack(np.meshgrid(*[np.arange(V + 1)] * order, indexing="ij"), -1).reshape(-1, order)  # BOS = V
    proba = np.exp(next_symbol_log_proba(counts, encode_contexts(grid, V), alpha=0.5))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert proba.min() > 0


def test_chain_counts_and_smoothing_by_hand():
    # one sequence 0 1 0 1 1 over V = 3, order 1, BOS-padded: contexts
    # BOS->0, 0->1, 1->0, 0->1, 1->1; P(1 | 0) = (2 + a) / (2 + 3a)
    a = 0.5
    counts = count_ngrams([np.array([0, 1, 0, 1, 1])], 1, 3)
    logp = next_symbol_log_proba(counts, encode_contexts([[0], [1], [2], [3]], 3), a)
    np.testing.assert_allclose(np.exp(logp[0]), [a / 3.5, 2.5 / 3.5, a / 3.5])
    np.testing.assert_allclose(np.exp(logp[1]), [1.5 / 3.5, 1.5 / 3.5, a / 3.5])
    np.testing.assert_allclose(np.exp(logp[2]), [1 / 3] * 3)  # symbol 2 never seen: uniform
    np.testing.assert_allclose(np.exp(logp[3]), [1.5 / 2.5, a / 2.5, a / 2.5])  # BOS context
    ll = sequence_log_likelihood(counts, [np.array([0, 1, 0, 1, 1])], a)
    np.testing.assert_allclose(ll[0], np.log([1.5 / 2.5, 2.5 / 3.5, 1.5 / 3.5, 2.5 / 3.5, 1.5 / 3.5]).sum())


def _simulate_chain(P, start, n, T, rng):
    """n first-order chains of T symbols, (n, T) int64, simulated in parallel."""
    cum_start, cum_P = np.cumsum(start), np.cumsum(P, axis=1)
    x = np.empty((n, T), dtype=np.int64)
    x[:, 0] = np.minimum((rng.random((n, 1)) > cum_start).sum(axis=1), len(start) - 1)
    for t in range(1, T):
        x[:, t] = np.minimum((rng.random((n, 1)) > cum_P[x[:, t - 1]]).sum(axis=1), len(start) - 1)
    return list(x)


def test_chain_classification_matches_bayes_classifier():
    rng = np.random.default_rng(10)
    V, n_train, n_test = 4, 1000, 300
    P = [rng.dirichlet(np.full(V, 2.0), size=V) for _ in range(2)]
    start = np.full(V, 1 / V)
    X_train = _simulate_chain(P[0], start, n_train, 12, rng) + _simulate_chain(P[1], start, n_train, 12, rng)
    X_test = _simulate_chain(P[0], start, n_test, 12, rng) + _simulate_chain(P[1], start, n_test, 12, rng)
    y_train, y_test = np.repeat([0, 1], n_train), np.repeat([0, 1], n_test)
    est = ARClassifier(order=1, alpha=0.5).fit(X_train, y_train)
    bayes = np.array([[np.log(start[s[0]]) + np.log(P[k][s[:-1], s[1:]]).sum() for k in (0, 1)] for s in X_test])
    bayes_accuracy = np.mean(bayes.argmax(axis=1) == y_test)
    accuracy = est.score(X_test, y_test)
    assert 0.7 < bayes_accuracy < 1.0
    # 11 000 transitions per class for 16 probabilities (about 700 per row of
    # the transition matrix, standard error <= 0.02 each)
    assert accuracy >= bayes_accuracy - 0.03, (accuracy, bayes_accuracy)
    # discriminative: transition frequencies into logistic regression
    disc = ARClassifier(method="discriminative", order=1).fit(X_train, y_train)
    assert disc.score(X_test, y_test) >= bayes_accuracy - 0.1


def test_chain_order_selection_finds_a_second_order_chain():
    rng = np.random.default_rng(11)
    V = 3
    P2 = rng.dirichlet(np.full(V, 0.5), size=(V, V))  # P2[a, b] = P(next | a, b)
    seqs = []
    for _ in range(2):
        s = list(rng.integers(0, V, size=2))
        for _ in range(3000):
            s.append(rng.choice(V, p=P2[s[-2], s[-1]]))
        seqs.append(np.array(s))
    assert select_chain_order([seqs[:1], seqs[1:]], 5, V, "bic") == 2
    est = ARClassifier(order="aic", max_order=4).fit(seqs, [0, 1])
    assert est.order_ == 2


def test_text_goes_through_the_tokenizer():
    texts = ["the cat sat on the mat", "the cat ate the rat", "a dog ran to a log", "a dog sat on a log"] * 5
    y = [0, 0, 1, 1] * 5
    est = ARClassifier(order=1).fit(texts, y)
    assert est.input_kind_ == "text" and est.n_symbols_ == est.tokenizer_.n_symbols_
    assert list(est.predict(["the cat sat", "a dog ran", "zebra"])[:2]) == [0, 1]


# -- short sequences and errors ---------------------------------------------------


def test_one_step_sequences_fit_and_longer_ones_are_refused_clearly():
    X = np.array([[0.1], [0.2], [2.0], [2.2]])
    est = ARClassifier(order=1).fit(X, [0, 0, 1, 1])
    np.testing.assert_array_equal(est.predict(X), [0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"sequence 0 has 3 steps.*at most 1 steps"):
        est.predict([np.array([0.1, 0.2, 0.3])])


def test_condition_needs_a_sequence_longer_than_the_order_per_class():
    X = [np.arange(5.0), np.arange(2.0)]
    with pytest.raises(ValueError, match=r"class 1 has no sequence longer than order_=2"):
        ARClassifier(order=2, initial="condition").fit(X, [0, 1])


@pytest.mark.parametrize(
    "params",
    [dict(order=0), dict(order="hqic"), dict(method="mle"), dict(alpha=0.0), dict(multivariate="full"), dict(C=-1.0)],
)
def test_bad_parameters_are_rejected(params):
    with pytest.raises(ValueError, match="parameter of ARClassifier must be"):
        ARClassifier(**params).fit(np.ones((4, 6)) + np.arange(4)[:, None], [0, 0, 1, 1])


def test_an_unseen_symbol_reads_as_unk_with_its_smoothed_share():
    """Vocabulary {0, 1, 2} plus <unk>: V = 4 outcomes under add-one smoothing.
    Class 0 saw BOS->0, 0->1, 1->2; class 1 saw BOS->2, 2->1, 1->0 (nothing after 0)."""
    sym = ARClassifier(order=1, alpha=1.0).fit([np.array([0, 1, 2]), np.array([2, 1, 0])], [0, 1])
    assert sym.n_symbols_ == 4 and sym.vocabulary_.tolist() == [0, 1, 2]
    joint = sym.predict_joint_log_proba([np.array([0, 5]), np.array([0, 2**63 - 1])])
    # class 0: P(0 | BOS) = 2/5, P(<unk> | 0) = 1/5; class 1: P(0 | BOS) = 1/5, P(<unk> | 0) = 1/4
    expected = np.log([[2 / 5 * 1 / 5, 1 / 5 * 1 / 4]] * 2) + np.log(0.5)
    np.testing.assert_allclose(joint, expected)


def test_bad_input_errors():
    rng = np.random.default_rng(12)
    est = ARClassifier(order=1).fit(rng.normal(size=(6, 8, 2)), [0, 1] * 3)
    with pytest.raises(ValueError, match="fitted with 2"):
        est.predict(rng.normal(size=(2, 8, 3)))
    with pytest.raises(ValueError, match="NaN"):
        est.predict([np.full((4, 2), np.nan)])
    with pytest.raises(ValueError, match="negative symbol id"):
        ARClassifier(order=1).fit([np.array([0, 1, 2]), np.array([2, 1, -1])], [0, 1])
    with pytest.raises(ValueError, match="y has 3 labels but X has 6 sequences"):
        ARClassifier().fit(rng.normal(size=(6, 8)), [0, 1, 0])
