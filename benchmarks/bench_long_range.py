"""Honest expectations for recurrent memory (issue 8, part 4): a sanity check, not a test.

For the tanh RNN, the IRNN (ReLU RNN with identity recurrent weights, Le,
Jaitly & Hinton 2015), the LSTM and the GRU, under one fixed training budget
(same data, hidden size, batch size, Adam learning rate, gradient clipping
and number of epochs for every cell), on the adding problem at each length
``T``:

- the test MSE, and the first ``T`` at which the cell no longer beats one
  tenth of the trivial baseline (predicting the mean: MSE ≈ 1/6, so the bar
  is MSE < 0.0167, "solved") within the budget;
- the slope of log10 ||dLoss/dh_t|| against the number of steps back from
  the last step (orders of magnitude per step; negative = vanishing), at
  ``T = 100``, for the network at its initial weights and after training.

It prints what it measures, whatever it is: a cell that fails at a length
where the literature says it should succeed is reported as failing under
this budget. Fits run in worker processes (one torch thread each).

    .venv/bin/python benchmarks/bench_long_range.py            # T = 10, 50, 100, 200: ~10 min on 2 cores
    .venv/bin/python benchmarks/bench_long_range.py --quick    # T = 10, 50, 100, smaller budget: ~2 min
    .venv/bin/python benchmarks/bench_long_range.py --lengths 10 50 100 200 400 --seeds 3 --jobs 4
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np

CELLS = {
    "RNN (tanh)": dict(cell="rnn", nonlinearity="tanh"),
    "IRNN": dict(cell="rnn", nonlinearity="relu", init="identity"),
    "LSTM": dict(cell="lstm"),
    "GRU": dict(cell="gru"),
}
FULL = dict(lengths=(10, 50, 100, 200), n_train=2000, n_test=500, max_epochs=15)
QUICK = dict(lengths=(10, 50, 100), n_train=1000, n_test=200, max_epochs=8)
TRAINING = dict(hidden_size=64, batch_size=32, lr=3e-3, grad_clip=1.0, device="cpu", num_threads=1)
FLOW_T = 100
FLOW_SEQUENCES = 64


def run_one(name: str, T: int, budget: dict, seed: int) -> dict:
    """Fit one cell at one length; MSE, baseline, timings and (at FLOW_T) gradient slopes."""
    from seqbench.datasets import load
    from seqbench.diagnostics import gradient_decay_rate, gradient_norms_through_time
    from seqbench.models import RNNRegressor

    ds = load("adding_problem", T=T, n_train=budget["n_train"], n_test=budget["n_test"], random_state=seed)
    est = RNNRegressor(**CELLS[name], **TRAINING, max_epochs=budget["max_epochs"], random_state=seed)
    row = {"cell": name, "T": T, "seed": seed, "baseline_mse": ds.meta["oracle"]["baseline_mse"],
           "budget": {k: budget[k] for k in ("n_train", "n_test", "max_epochs")}}
    untrained = None
    if T == FLOW_T:
        X_flow, y_flow = ds.X_test[:FLOW_SEQUENCES], ds.y_test[:FLOW_SEQUENCES]
        untrained = gradient_norms_through_time(est, X_flow, y_flow)  # est is unfitted: its initial weights
    start = time.perf_counter()
    try:
        est.fit(ds.X_train, ds.y_train)
    except FloatingPointError as exc:
        row.update(mse=None, error=str(exc).splitlines()[0], fit_seconds=time.perf_counter() - start)
        est = None
    else:
        row["fit_seconds"] = time.perf_counter() - start
        row["mse"] = float(np.mean((est.predict(ds.X_test) - ds.y_test) ** 2))
        row["final_train_loss"] = est.history_[-1]["train_loss"]
        row["max_epoch_grad_norm"] = max(h["grad_norm"] for h in est.history_)
    if untrained is not None:
        row["slope_untrained"] = gradient_decay_rate(untrained)
        row["gradient_ratio_untrained"] = float(untrained[0] / untrained[-1])
        if est is not None:
            trained = gradient_norms_through_time(est, X_flow, y_flow)
            row["slope_trained"] = gradient_decay_rate(trained)
            row["gradient_ratio_trained"] = float(trained[0] / trained[-1])
    return row


def mean_over_seeds(rows: list, key: str):
    """Mean of ``key`` over the seeds' rows; None if any seed has none (a diverged fit)."""
    values = [r.get(key) for r in rows]
    return None if any(v is None for v in values) else float(np.mean(values))


def solved(row: dict) -> bool:
    return row["mse"] is not None and row["mse"] < row["baseline_mse"] / 10


def mse_cell(rows: list) -> str:
    """Mean MSE over seeds, with the seeds that solved it when there are several: ``0.0145 (2/3)``."""
    text = fmt(mean_over_seeds(rows, "mse"))
    return text if len(rows) < 2 else f"{text} ({sum(map(solved, rows))}/{len(rows)})"


def stops_beating(by_T: dict, lengths) -> str:
    """The first T at which the mean MSE >= baseline / 10 (or a fit diverged); "-" if it beats it at every T."""
    for T in lengths:
        mse, baseline = mean_over_seeds(by_T[T], "mse"), mean_over_seeds(by_T[T], "baseline_mse")
        if mse is None or mse >= baseline / 10:
            return str(T)
    return f"- (solved up to {max(lengths)})"


def fmt(value, spec=".4f") -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, spec)


def print_table(results: list, lengths, budget: dict, n_seeds: int) -> None:
    baselines = {T: mean_over_seeds([r for r in results if r["T"] == T], "baseline_mse") for T in lengths}
    print(f"\nadding problem, budget: {budget['n_train']} training sequences x {budget['max_epochs']} epochs, "
          f"hidden {TRAINING['hidden_size']}, batch {TRAINING['batch_size']}, Adam lr {TRAINING['lr']}, "
          f"grad_clip {TRAINING['grad_clip']}; {budget['n_test']} test sequences; mean over {n_seeds} seed(s)")
    print("trivial baseline MSE (test split): " + ", ".join(f"T={T}: {baselines[T]:.4f}" for T in lengths)
          + "; 'solved' = MSE < baseline / 10" + ("; (k/n): seeds that solved it" if n_seeds > 1 else ""))
    header = ["cell"] + [f"MSE T={T}" for T in lengths] + [
        "stops beating base/10 at T", f"slope untrained (T={FLOW_T})", f"slope trained (T={FLOW_T})",
        f"max epoch grad norm (T={FLOW_T})", f"fit s (T={max(lengths)})"]
    rows = []
    for name in CELLS:
        by_T = {T: [r for r in results if r["cell"] == name and r["T"] == T] for T in lengths}
        flow = by_T.get(FLOW_T, [])
        rows.append([name] + [mse_cell(by_T[T]) for T in lengths] + [
            stops_beating(by_T, lengths), fmt(mean_over_seeds(flow, "slope_untrained"), "+.3f"),
            fmt(mean_over_seeds(flow, "slope_trained"), "+.3f"),
            fmt(mean_over_seeds(flow, "max_epoch_grad_norm"), ".3g"),
            fmt(mean_over_seeds(by_T[max(lengths)], "fit_seconds"), ".0f")])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for line in [header, ["-" * w for w in widths], *rows]:
        print(" | ".join(str(x).ljust(w) for x, w in zip(line, widths)))
    print(f"\nslope: least-squares slope of log10 ||dL/dh_t|| against steps back from the last step at T = {FLOW_T} "
          f"({FLOW_SEQUENCES} test sequences; orders of magnitude per step, negative = vanishing).")
    for r in results:
        if r.get("error"):
            print(f"  {r['cell']} at T={r['T']}: {r['error']}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T = 10, 50, 100 and a smaller budget (~2 minutes)")
    parser.add_argument("--lengths", type=int, nargs="+", help="sequence lengths T (default 10 50 100 200)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1; numbers are means over seeds (default 1)")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    parser.add_argument("--table-from", metavar="JSON", help="print the table of a JSON file written by --json; no fits")
    args = parser.parse_args(argv)
    budget = dict(QUICK if args.quick else FULL)
    if args.table_from:
        with open(args.table_from) as fh:
            results = json.load(fh)
        lengths = tuple(sorted({r["T"] for r in results}))
        print_table(results, lengths, results[0].get("budget", budget), len({r["seed"] for r in results}))
        return
    lengths = tuple(sorted(args.lengths)) if args.lengths else budget["lengths"]
    tasks = sorted(((name, T, seed) for name in CELLS for T in lengths for seed in range(args.seeds)),
                   key=lambda task: -task[1])  # long ones first
    start = time.perf_counter()
    results = []
    context = multiprocessing.get_context("spawn")  # fresh torch per worker
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
        futures = [pool.submit(run_one, name, T, budget, seed) for name, T, seed in tasks]
        for future in as_completed(futures):
            row = future.result()
            results.append(row)
            print(f"  {row['cell']:<11} T={row['T']:<4} seed {row['seed']}  MSE {fmt(row['mse'])}  "
                  f"fit {row['fit_seconds']:.0f} s", flush=True)
    print_table(results, lengths, budget, args.seeds)
    print(f"\ntotal wall time {time.perf_counter() - start:.0f} s with {args.jobs} worker process(es)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(sorted(results, key=lambda r: (r["cell"], r["T"], r["seed"])), fh, indent=1)


if __name__ == "__main__":
    main()
