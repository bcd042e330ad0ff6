"""HMMClassifier.fit against fitting the same hmmlearn models directly
(issue 2, part 8, HMM side); and, with ``--choices``, the accuracy
measurements behind HMMClassifier's defaults.

Speed: both sides fit one left-right GaussianHMM per class with the same
states, covariance type, ``n_iter``, ``tol``, one run per class, the same
seeds (``run_seed``), the same initial parameters (Bakis start, means from
a uniform left-to-right segmentation), the same scaling (``"global"``:
centre, divide by the root mean variance), hmmlearn's "scaling"
forward-backward, and each class's sequences concatenated into one call with
``lengths``. The direct side is plain ``hmmlearn.hmm.GaussianHMM`` (no
covariance floor, no repairs, no reports); the estimator's ``fit`` includes
everything a user pays for (validating the sequences, scaling, the floor
check after every M-step, restart bookkeeping, the fit report). Runs
alternate (estimator, direct, estimator, ...) in one process with one
BLAS/OpenMP thread on both sides (the estimator limits itself to one; the
direct side gets the same). Two data sets:

- synthetic left-right sources whose variances stay above the floor, so both
  sides do the very same arithmetic (checked: equal final log-likelihoods)
  and the ratio of medians is the estimator's overhead;
- digits read as 8 steps (image rows) of 8 pixels, where the floor is active
  and changes the EM path (iteration counts differ), so seconds per EM
  iteration are compared as well.

Target: ratio <= 1.05.

    .venv/bin/python benchmarks/bench_hmm_classifier.py            # ~1-2 minutes
    .venv/bin/python benchmarks/bench_hmm_classifier.py --quick    # ~25 seconds
    .venv/bin/python benchmarks/bench_hmm_classifier.py --choices  # defaults: ~1 minute
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
import warnings

import numpy as np
from hmmlearn.hmm import CategoricalHMM, GaussianHMM
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from seqbench.models import HMMClassifier
from seqbench.models.hmm._fitting import HMMSpec, left_right_start, n_states_for, run_seed, segment_steps


def digits_sequences():
    digits = load_digits()
    return list(digits.data.reshape(-1, 8, 8) / 16.0), digits.target


def left_right_sources(n_classes=4, n_per_class=250, seed=0):
    """Gesture-like data: each class a left-right 4-state Gaussian HMM in 3-D
    (random state means, unit variances, stay 0.8 / move 0.2), lengths 20-40.
    Every state's variance stays well above the floor, so the estimator's EM
    does the very same arithmetic as plain hmmlearn."""
    rng = np.random.RandomState(seed)
    X, y = [], []
    for c in range(n_classes):
        m = GaussianHMM(4, covariance_type="diag")
        m.n_features = 3
        m.startprob_, m.transmat_ = left_right_start(4)
        m.transmat_ = np.where(m.transmat_ == 0.5, np.where(np.eye(4) == 1, 0.8, 0.2), m.transmat_)
        m.means_, m.covars_ = rng.normal(scale=1.5, size=(4, 3)), np.ones((4, 3))
        for _ in range(n_per_class):
            X.append(m.sample(int(rng.randint(20, 41)), random_state=rng)[0])
            y.append(c)
    return X, np.array(y)


def direct_fit(X, y, *, n_components, covariance_type, n_iter, tol, covar_floor, base_seed):
    """Plain hmmlearn, one left-right GaussianHMM per class, set up as the
    estimator sets it up: global scaling, each class's sequences concatenated
    into one call with lengths, the estimator's seeds, initial start and
    transition probabilities and initial means (uniform left-to-right
    segmentation), hmmlearn's "scaling" forward-backward."""
    steps = np.concatenate(X)
    mean, std = steps.mean(axis=0), np.sqrt(steps.var(axis=0).mean())
    spec = HMMSpec("gaussian", n_components, topology="left-right")
    models = []
    for k, label in enumerate(np.unique(y)):
        members = [s for s, c in zip(X, y) if c == label]
        X_k = (np.concatenate(members) - mean) / std
        lengths = np.array([len(s) for s in members])
        n_states = n_states_for(spec, lengths)
        model = GaussianHMM(
            n_components=n_states, covariance_type=covariance_type, min_covar=covar_floor, n_iter=n_iter,
            tol=tol, random_state=run_seed(base_seed, k, 0), params="stmc", init_params="c",
            implementation="scaling",
        )
        model.startprob_, model.transmat_ = left_right_start(n_states)
        seg = segment_steps(lengths, n_states)
        model.means_ = np.stack([X_k[seg == i].mean(axis=0) for i in range(n_states)])
        models.append(model.fit(X_k, lengths))
    return models


def time_both(X, y, params, repeats):
    """Alternate estimator and direct fits; return both time lists and the last fits."""
    # the estimator draws its base seed from random_state=0 exactly like this
    base_seed = int(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    est_times, direct_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        clf = HMMClassifier(random_state=0, **params).fit(X, y)
        est_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        direct = direct_fit(X, y, base_seed=base_seed, **params)
        direct_times.append(time.perf_counter() - t0)
    return est_times, direct_times, clf, direct


def speed(args):
    logging.getLogger("hmmlearn").setLevel(logging.ERROR)  # the direct side's "not converging" lines
    warnings.simplefilter("ignore", ConvergenceWarning)
    params = dict(n_components=4, covariance_type="diag", n_iter=args.n_iter, tol=1e-2, covar_floor=0.1)
    datasets = {
        "left-right sources (4 x 250 seqs, T 20-40, d 3)": left_right_sources(n_per_class=args.n_per_class),
        "digits as 8x8 sequences (1797 seqs)": digits_sequences(),
    }
    print(f"HMMClassifier(random_state=0, {params}) vs plain hmmlearn, one BLAS/OpenMP thread, "
          f"{args.repeats} alternating runs each")
    print(f"{'data':<48}{'estimator s':>12}{'direct s':>10}{'ratio':>7}{'iters est/direct':>18}"
          f"{'ratio/iter':>12}  same fit")
    with threadpool_limits(1):
        for name, (X, y) in datasets.items():
            est_times, direct_times, clf, direct = time_both(X, y, params, args.repeats)
            est, dirt = statistics.median(est_times), statistics.median(direct_times)
            est_iters = sum(r.n_iter for r in clf.fit_report_)
            direct_iters = sum(int(m.monitor_.iter) for m in direct)
            same = all(np.isclose(r.log_likelihood, m.monitor_.history[-1], rtol=1e-9, atol=0)
                       for r, m in zip(clf.fit_report_, direct))
            per_iter = (est / est_iters) / (dirt / direct_iters)
            print(f"{name:<48}{est:>12.3f}{dirt:>10.3f}{est / dirt:>7.3f}{f'{est_iters}/{direct_iters}':>18}"
                  f"{per_iter:>12.3f}  {'yes' if same else 'no: the floor changed the EM path'}")
    print("(medians of seconds; ratio = estimator / direct; 'same fit': every class's final training "
          "log-likelihood equal on both sides, so both did the same arithmetic; where the floor changes "
          "the EM path the iteration counts differ and ratio/iter compares seconds per EM iteration)")


def regime_switching(kind, n, seed):
    """Two classes of sequences from ergodic HMMs that differ only in their
    transitions (sticky vs switching): Gaussian (3 states, 2-D, length 10) or
    categorical (2 states, 5 symbols, lengths 8-24). Returns X, y, true models."""
    rng = np.random.RandomState(seed)
    if kind == "gaussian":
        models = []
        for trans in ([[.8, .1, .1], [.1, .8, .1], [.1, .1, .8]], [[.2, .7, .1], [.1, .2, .7], [.7, .1, .2]]):
            m = GaussianHMM(3, covariance_type="diag")
            m.n_features = 2
            m.startprob_, m.transmat_ = np.array([.5, .3, .2]), np.array(trans)
            m.means_, m.covars_ = np.array([[0.0, 0], [2, 0], [0, 2]]), np.ones((3, 2))
            models.append(m)
        lengths = np.full(n, 10)
    else:
        models = []
        for trans in ([[.9, .1], [.1, .9]], [[.5, .5], [.5, .5]]):
            m = CategoricalHMM(2, n_features=5)
            m.startprob_, m.transmat_ = np.array([.5, .5]), np.array(trans)
            m.emissionprob_ = np.array([[.4, .3, .1, .1, .1], [.1, .1, .1, .3, .4]])
            models.append(m)
        lengths = rng.randint(8, 25, size=n)
    y = np.arange(n) % 2
    X = [models[k].sample(int(L), random_state=rng)[0] for k, L in zip(y, lengths)]
    if kind != "gaussian":
        X = [s[:, 0] for s in X]
    return X, y, models


def choices(args):
    """Test accuracy for the settings the defaults were chosen from."""
    X, y = digits_sequences()
    X = np.stack(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    warnings.simplefilter("ignore", ConvergenceWarning)
    base = dict(n_iter=20, random_state=0)
    grid = [dict(n_components=c, topology=t) for c in (2, 4, 8) for t in ("left-right", "ergodic")]
    grid += [dict(scaling=s, covar_floor=f) for s in ("global", "feature", None) for f in (1e-3, 1e-2, 0.1, 0.3)]
    print(f"digits as 8x8 sequences, 70/30 split, base {base}, other parameters default")
    with threadpool_limits(1):
        for overrides in grid:
            t0 = time.perf_counter()
            clf = HMMClassifier(**{**base, **overrides}).fit(X_train, y_train)
            fit_s = time.perf_counter() - t0
            print(f"  {str(overrides):<48} accuracy {clf.score(X_test, y_test):.3f}   fit {fit_s:5.1f} s", flush=True)
        for kind, n_components in (("gaussian", 3), ("categorical", 2)):
            X_train, y_train, models = regime_switching(kind, 200, 0)
            X_test, y_test, _ = regime_switching(kind, 600, 1)
            bayes = np.mean(
                np.argmax([[m.score(np.reshape(s, (len(s), -1))) for m in models] for s in X_test], axis=1) == y_test
            )
            print(f"{kind} regime-switching sources, 200 train / 600 test, Bayes accuracy {bayes:.3f}")
            for topology in ("left-right", "ergodic"):
                clf = HMMClassifier(n_components, topology=topology, random_state=0).fit(X_train, y_train)
                print(f"  topology={topology:<12} accuracy {clf.score(X_test, y_test):.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and iterations")
    parser.add_argument("--choices", action="store_true", help="accuracy behind the defaults instead of speed")
    args = parser.parse_args()
    args.repeats, args.n_iter, args.n_per_class = (3, 10, 100) if args.quick else (7, 20, 250)
    choices(args) if args.choices else speed(args)


if __name__ == "__main__":
    main()
