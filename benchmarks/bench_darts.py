"""RNNForecaster against Darts' RNNModel at equal configuration.

Both sides train the same recurrent cell (LSTM or GRU, one layer, hidden 32)
with Adam (lr 1e-3, no gradient clipping: Darts' default) on batches of 16
windows for 100 epochs, one torch thread, float32, on the same standardised
training series (mean and standard deviation of the training part), and
forecast the held-out years: sunspots (last 30 of 309 years), airline (last
24 of 144 months) and lynx (last 14 of 114 years). seqbench reads windows of
24 steps and predicts the next one (``strategy="recursive"``) with, by
default, the loss on the one-step forecast after every step of the window
(``loss_steps="all"``), the objective Darts' ``RNNModel`` trains (teacher
forcing over ``training_length=24`` steps); ``--loss-steps last`` trains
seqbench on the last step only. Darts predicts from the last 12 steps
(``input_chunk_length=12``, which Darts requires to be below
``training_length``). Darts runs in its own virtual environment
(``/work/venvs/darts`` or ``$DARTS_PYTHON``: ``pip install torch==2.13.0
'darts[torch]==0.48.1'``), as one long-lived worker process, so imports and
start-up are not timed; it times its own ``fit`` like this process times
seqbench's, after one untimed warm-up fit per cell on each side. Each
(dataset, cell, seed) alternates which side runs first.

Reported per dataset x cell: median fit seconds of each side over the seeds,
the fit-time ratio Darts / seqbench (target: median over the six cases at
least 2.0) and the MASE of the forecasts (mean over seeds; in-sample naive
scale with the dataset's season; target: seqbench no worse than Darts).

    .venv/bin/python benchmarks/bench_darts.py                 # 3 seeds, ~10 minutes on a quiet machine
    .venv/bin/python benchmarks/bench_darts.py --seeds 1 --epochs 10   # a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch

from seqbench import datasets
from seqbench.metrics import mase
from seqbench.models import RNNForecaster

DARTS_PYTHON = Path(os.environ.get("DARTS_PYTHON", "/work/venvs/darts/bin/python"))
DATASETS = ("sunspots", "airline", "lynx")
CELLS = ("lstm", "gru")
CONFIG = dict(hidden=32, batch_size=16, window=24, darts_input_chunk=12, lr=1e-3)

# The Darts side: reads one JSON job per line, answers one JSON line.
DARTS_WORKER = textwrap.dedent(
    """
    import json, logging, sys, time, warnings
    import numpy as np, torch
    warnings.filterwarnings("ignore")
    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "darts"):
        logging.getLogger(name).setLevel(logging.ERROR)
    torch.set_num_threads(1)
    from darts import TimeSeries
    from darts.models import RNNModel
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        series = TimeSeries.from_values(np.asarray(job["z"], dtype=np.float32))
        model = RNNModel(
            model=job["cell"].upper(), hidden_dim=job["hidden"], n_rnn_layers=1, dropout=0.0,
            input_chunk_length=job["input_chunk"], training_length=job["window"], batch_size=job["batch_size"],
            n_epochs=job["epochs"], optimizer_kwargs={"lr": job["lr"]}, random_state=job["seed"],
            pl_trainer_kwargs={"accelerator": "cpu", "enable_progress_bar": False, "enable_model_summary": False,
                               "logger": False, "enable_checkpointing": False},
        )
        wall, cpu = time.perf_counter(), time.process_time()
        model.fit(series, verbose=False)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        forecast = model.predict(job["horizon"], series=series, verbose=False).values()[:, 0]
        print(json.dumps({"wall": wall, "cpu": cpu, "forecast": forecast.astype(float).tolist()}), flush=True)
    """
)


class DartsWorker:
    """The Darts worker process: ``fit(job) -> dict`` (wall, cpu, forecast)."""

    def __init__(self, python: Path):
        self.log = tempfile.TemporaryFile("w+")  # Lightning's banners; shown only if the worker fails
        self.proc = subprocess.Popen([str(python), "-c", DARTS_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        self._read()

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError(f"the Darts worker ended (exit status {self.proc.wait()}):\n{self.log.read()[-3000:]}")
        return json.loads(line)

    def fit(self, job: dict) -> dict:
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def seqbench_fit(job: dict) -> dict:
    """seqbench's side of one job; ``job["z"]`` is already standardised
    (RNNForecaster standardises again: mean 0 and scale 1 leave it as it is)."""
    model = RNNForecaster(
        job["cell"], window=job["window"], strategy="recursive", horizon=job["horizon"], hidden_size=job["hidden"],
        batch_size=job["batch_size"], max_epochs=job["epochs"], lr=job["lr"], grad_clip=None, num_threads=1,
        device="cpu", random_state=job["seed"], loss_steps=job["loss_steps"],
    )
    z = np.asarray(job["z"], dtype=np.float32)
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(z)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall": wall, "cpu": cpu, "forecast": model.predict(z)[0, :, 0].astype(float).tolist(),
            "steps_per_epoch": -(-model.n_windows_ // job["batch_size"])}


def warm_up(worker: DartsWorker) -> None:
    """One untimed 1-epoch fit on each side: lazy imports and first-call kernel set-up
    (about a second of CPU on seqbench's side) are not part of any timed fit."""
    z = np.sin(np.arange(60) / 3.0).tolist()
    job = dict(z=z, cell="lstm", epochs=1, horizon=3, input_chunk=CONFIG["darts_input_chunk"], window=CONFIG["window"],
               hidden=CONFIG["hidden"], batch_size=CONFIG["batch_size"], lr=CONFIG["lr"], loss_steps="all", seed=0)
    for cell in CELLS:
        seqbench_fit({**job, "cell": cell})
        worker.fit({**job, "cell": cell})


def run_case(worker: DartsWorker, name: str, cell: str, seeds: int, epochs: int, flip: bool, loss_steps: str) -> dict:
    ds = datasets.load(name)
    train, test = ds.X_train[0][:, 0].astype(float), ds.y_test[0][:, 0].astype(float)
    mean, std = train.mean(), train.std()
    job = dict(z=((train - mean) / std).tolist(), cell=cell, epochs=epochs, horizon=len(test),
               input_chunk=CONFIG["darts_input_chunk"], window=CONFIG["window"], hidden=CONFIG["hidden"],
               batch_size=CONFIG["batch_size"], lr=CONFIG["lr"], loss_steps=loss_steps)
    season = int(ds.meta.get("season", 1))
    rows = {"seqbench": [], "darts": []}
    for seed in range(seeds):
        job["seed"] = seed
        order = [("seqbench", seqbench_fit), ("darts", worker.fit)]
        if (seed + flip) % 2:
            order.reverse()
        for side, fit in order:
            out = fit(job)
            forecast = np.asarray(out["forecast"]) * std + mean
            out["mase"] = mase(test, forecast, y_train=train, season=season)
            rows[side].append(out)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--cells", default=",".join(CELLS))
    parser.add_argument("--loss-steps", default="all", choices=("all", "last"), help="seqbench's loss_steps")
    parser.add_argument("--quick", action="store_true", help="1 seed, 10 epochs (a smoke run, not the figures)")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.epochs = 1, 10
    if not DARTS_PYTHON.exists():
        print(f"SKIPPED: no Darts environment at {DARTS_PYTHON} (set DARTS_PYTHON, or create it with: python3 -m venv "
              "/work/venvs/darts && /work/venvs/darts/bin/pip install torch==2.13.0 'darts[torch]==0.48.1')")
        return
    torch.set_num_threads(1)
    print(f"seqbench RNNForecaster vs Darts RNNModel: hidden {CONFIG['hidden']}, batch {CONFIG['batch_size']}, window "
          f"{CONFIG['window']} (Darts input chunk {CONFIG['darts_input_chunk']}), {args.epochs} epochs, lr "
          f"{CONFIG['lr']}, 1 thread, {args.seeds} seed(s), alternating order, seqbench loss_steps="
          f"{args.loss_steps!r}; torch {torch.__version__}")
    print(f"{'case':<15} {'steps/ep':>8} {'seqbench s':>10} {'darts s':>8} {'ratio':>6} {'cpu ratio':>9} "
          f"{'MASE seqbench':>13} {'MASE darts':>10}")
    worker = DartsWorker(DARTS_PYTHON)
    warm_up(worker)
    ratios, cpu_ratios, flip = [], [], 0
    try:
        for name in args.datasets.split(","):
            for cell in args.cells.split(","):
                rows = run_case(worker, name, cell, args.seeds, args.epochs, bool(flip), args.loss_steps)
                flip += 1
                med = {side: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")} for side, rs in rows.items()}
                mases = {side: float(np.mean([r["mase"] for r in rs])) for side, rs in rows.items()}
                ratio = med["darts"]["wall"] / med["seqbench"]["wall"]
                ratios.append(ratio)
                cpu_ratios.append(med["darts"]["cpu"] / med["seqbench"]["cpu"])
                print(f"{name + ' ' + cell:<15} {rows['seqbench'][0]['steps_per_epoch']:>8} "
                      f"{med['seqbench']['wall']:>10.2f} {med['darts']['wall']:>8.2f} {ratio:>6.2f} "
                      f"{med['darts']['cpu'] / med['seqbench']['cpu']:>9.2f} {mases['seqbench']:>13.3f} "
                      f"{mases['darts']:>10.3f}", flush=True)
    finally:
        worker.close()
    for label, values in (("wall", ratios), ("CPU", cpu_ratios)):
        median = statistics.median(values)
        print(f"median {label} fit-time ratio Darts/seqbench over {len(values)} cases: {median:.2f} "
              f"({'meets' if median >= 2.0 else 'BELOW'} the 2.0 target)")


if __name__ == "__main__":
    sys.exit(main())
