"""Real-data and known-oracle figures for the HMM defaults, the statistical
forecasters and the classification baselines: the old setting next to the
new one, on the catalogue's own splits, each scored on the test split once.

Every choice made here is made on the training split only (cross-validation
or the tail of the training series); test scores are printed, never used.

    python benchmarks/bench_family_quality.py                 # everything, seed 0 (~20-40 min on 2 busy cores)
    python benchmarks/bench_family_quality.py --only hmm --seeds 0 1 2 3 4
    python benchmarks/bench_family_quality.py --only nn text forecast

Sections:

- ``hmm``: HMMClassifier at the old defaults (left-right for real values, 1
  restart, 100 EM iterations) and the new ones (ergodic, 5 restarts, 300
  iterations) on ``hmm_gaussian_classify`` and ``hmm_categorical_classify``
  at their card defaults (targets: within 0.02 of the Bayes rule), and on
  digits (target >= 0.92) at the new defaults, with 8 states, and with the
  standard suite's grid (n_components 4/8 x ergodic/left-right) chosen on a
  stratified 80/20 validation split of the training split.
- ``nn``: 1-NN Euclidean and DTW (full and a 10% band) on GunPoint,
  JapaneseVowels (ragged: DTW only) and digits.
- ``text``: FeatureClassifier on Rotten Tomatoes: the old features (word
  unigrams), the new default (word 1-2-grams + character 2-5-grams), and the
  new features with C chosen by 3-fold cross-validation on the training split.
- ``forecast``: MASE (period 1 scale, as the runner scores) of the naive,
  AR, ETS and theta forecasters on airline, co2 and sunspots' held-out tails.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, StratifiedShuffleSplit
from threadpoolctl import threadpool_limits

from seqbench import datasets
from seqbench.metrics import mase
from seqbench.models import (
    ARForecaster,
    ETSForecaster,
    FeatureClassifier,
    HMMClassifier,
    NaiveForecaster,
    NearestNeighborClassifier,
    ThetaForecaster,
)

OLD_HMM = dict(topology="auto", n_restarts=1, n_iter=100)


def timed_score(est, ds):
    """Fit on the training split, score the test split once: (accuracy, seconds)."""
    t0 = time.perf_counter()
    est.fit(ds.X_train, ds.y_train)
    return est.score(ds.X_test, ds.y_test), time.perf_counter() - t0


def row(dataset, setting, score, seconds, note=""):
    print(f"| {dataset} | {setting} | {score:.3f} | {seconds:.0f} | {note} |", flush=True)


def header(title, metric="accuracy"):
    print(f"\n{title}\n\n| dataset | setting | {metric} | fit+score s | note |\n|---|---|---|---|---|", flush=True)


def hmm_section(seeds):
    header("HMMClassifier, old and new defaults (test accuracy; oracle = Bayes rule with the true models)")
    for name in ("hmm_gaussian_classify", "hmm_categorical_classify"):
        ds = datasets.load(name)
        oracle = ds.meta["oracle"]["accuracy"]
        for label, params in (("old defaults " + str(OLD_HMM), OLD_HMM), ("new defaults", {})):
            scores = []
            for seed in seeds:
                acc, sec = timed_score(HMMClassifier(random_state=seed, **params), ds)
                scores.append(acc)
                row(name, f"{label}, random_state={seed}", acc, sec, f"oracle {oracle:.3f}, target >= {oracle - 0.02:.3f}")
            if len(seeds) > 1:
                print(f"|  | {label}: mean over seeds {list(seeds)} | {np.mean(scores):.3f} |  | min {min(scores):.3f} |")
    ds = datasets.load("digits")
    for label, params in (("new defaults", {}), ("new defaults, n_components=8", dict(n_components=8))):
        acc, sec = timed_score(HMMClassifier(random_state=0, **params), ds)
        row("digits", label, acc, sec, "target >= 0.92")
    grid = {"n_components": [4, 8], "topology": ["ergodic", "left-right"]}
    # one stratified 80/20 validation split of the training part (3-fold CV costs 3x as much)
    split = StratifiedShuffleSplit(1, test_size=0.2, random_state=0)
    search = GridSearchCV(HMMClassifier(random_state=0), grid, cv=split)
    acc, sec = timed_score(search, ds)
    row("digits", f"standard grid {grid}, chosen on a validation split of train", acc, sec,
        f"chose {search.best_params_}")


def nn_section():
    header("1-nearest-neighbour (test accuracy)")
    for name in ("gunpoint", "japanese_vowels", "digits"):
        ds = datasets.load(name)
        equal = len({len(s) for s in ds.X_train + ds.X_test}) == 1
        settings = [("dtw", None), ("dtw", 0.1)] + ([("euclidean", None)] if equal else [])
        for metric, window in settings:
            acc, sec = timed_score(NearestNeighborClassifier(metric, window=window), ds)
            row(name, f"metric={metric!r}, window={window}", acc, sec)


def text_section():
    header("FeatureClassifier on Rotten Tomatoes (test accuracy; target >= 0.79)")
    ds = datasets.load("rotten_tomatoes")
    old = FeatureClassifier(ngram_range=(1, 1), char_ngram_range=None)
    acc, sec = timed_score(old, ds)
    row("rotten_tomatoes", "old: word unigrams, C=1", acc, sec)
    acc, sec = timed_score(FeatureClassifier(), ds)
    row("rotten_tomatoes", "new default: word 1-2-grams + char 2-5-grams, C=1", acc, sec)
    search = GridSearchCV(FeatureClassifier(), {"C": [1.0, 3.0, 10.0]}, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    acc, sec = timed_score(search, ds)
    row("rotten_tomatoes", "new features, C in [1, 3, 10] by 3-fold CV on train", acc, sec,
        f"chose C={search.best_params_['C']}, CV {search.best_score_:.3f}")


def forecasters(season):
    yield "naive (last)", NaiveForecaster("last")
    yield "seasonal naive", NaiveForecaster("seasonal", season=season)
    yield "AR (AIC)", ARForecaster(order="aic")
    yield "AR (AIC), log", ARForecaster(order="aic", power_transform="log")
    if season > 1:
        yield f"AR (AIC), log, seasonal lag {season}", ARForecaster(
            order="aic", power_transform="log", seasonal_lags=1, period=season)
        yield f"ETS damped trend, mul. season {season}", ETSForecaster(seasonal="mul", period=season)
        yield f"theta, period {season}", ThetaForecaster(period=season)
    else:
        yield "ETS damped trend", ETSForecaster()
        yield "theta", ThetaForecaster()


def forecast_section():
    header("Forecasters on held-out tails (MASE, period-1 scale; lower is better)", metric="MASE")
    for name in ("airline", "co2", "sunspots"):
        ds = datasets.load(name)
        horizon, season = ds.meta["horizon"], ds.meta["season"]
        for label, est in forecasters(season):
            if name == "sunspots" and "log" in label:
                continue  # sunspot counts include zeros
            t0 = time.perf_counter()
            est = clone(est).set_params(horizon=horizon).fit(ds.X_train)
            pred = est.predict(ds.X_test)
            score = mase(ds.y_test, pred, y_train=[np.asarray(s) for s in ds.X_test], season=1)
            row(name, label, score, time.perf_counter() - t0, f"horizon {horizon}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=["hmm", "nn", "text", "forecast"],
                        default=["hmm", "nn", "text", "forecast"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0], help="random_state values for the HMM rows")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.filterwarnings("ignore", module="statsmodels")
    with threadpool_limits(1):
        for section in args.only:
            {"hmm": lambda: hmm_section(args.seeds), "nn": nn_section, "text": text_section,
             "forecast": forecast_section}[section]()


if __name__ == "__main__":
    main()
