"""One epoch on two sequences of very different length, with and without the length-ratio cap.

A sequence of L steps and one of 50 steps, RNNClassifier (LSTM, hidden 4,
batch 32, one epoch, one thread). Before the cap, length buckets put both
in one batch, which runs PyTorch's packed path for L steps; with the cap
(``seqbench.data.MAX_LENGTH_RATIO``: the longest sequence of a batch is at
most twice the shortest) each goes in a batch of its own. The reference is
the equal-length version: two sequences of L steps. "before" is emulated by
lifting the cap (``max_length_ratio=inf``) for the run. Process CPU seconds,
median of ``--repeats`` fits, each variant in turn.

    .venv/bin/python benchmarks/bench_extreme_lengths.py                      # L = 2,000 and 10,000
    .venv/bin/python benchmarks/bench_extreme_lengths.py --lengths 100000 --no-before
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
from unittest import mock

import numpy as np
import torch

from seqbench.data import bucket_plan
from seqbench.models import RNNClassifier
from seqbench.models.neural import _batches

from _alternate import timed  # benchmarks/_alternate.py (the script's own folder is on sys.path)


def fit(lengths, cell: str, *, uncapped: bool = False) -> None:
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 1)).astype(np.float32) for n in lengths]
    y = np.arange(len(X)) % 2
    model = RNNClassifier(cell, hidden_size=4, max_epochs=1, num_threads=1, device="cpu", random_state=0)
    if not uncapped:
        model.fit(X, y)
        return
    with mock.patch.object(_batches, "bucket_plan", functools.partial(bucket_plan, max_length_ratio=math.inf)):
        model.fit(X, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="2000,10000", help="comma-separated L")
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-before", action="store_true", help="skip the uncapped run (minutes at L = 100,000)")
    parser.add_argument("--quick", action="store_true", help="L = 2,000, one fit each")
    args = parser.parse_args()
    if args.quick:
        args.lengths, args.repeats = "2000", 1
    torch.set_num_threads(1)
    fit([60, 50], args.cell)  # warm-up
    print(f"{args.cell}, hidden 4, one epoch; median process CPU seconds of {args.repeats} fit(s)")
    print(f"{'L':>8} {'L + 50, capped':>15} {'L + 50, one packed batch':>25} {'L + L':>8} {'capped / L + L':>15}")
    for L in map(int, args.lengths.split(",")):
        cpu = lambda *a, **k: statistics.median(timed(fit, *a, **k)[1] for _ in range(args.repeats))  # noqa: E731
        capped, equal = cpu([L, 50], args.cell), cpu([L, L], args.cell)
        before = "skipped" if args.no_before else f"{cpu([L, 50], args.cell, uncapped=True):.2f}"
        print(f"{L:>8} {capped:>15.2f} {before:>25} {equal:>8.2f} {capped / equal:>15.2f}", flush=True)


if __name__ == "__main__":
    main()
