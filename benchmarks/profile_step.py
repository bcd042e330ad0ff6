"""Where one training step's time goes: microseconds per part, before and after
the engine's overhead was removed.

The step of the shared engine (``seqbench/models/neural/_engine.py``) on the
configuration of the Darts comparison: windows of 24 steps of the sunspot
series (255 windows, 16 batches an epoch), batch 16, hidden 32, Adam, the
gradient norm clipped to 1 (the estimators' default), one torch thread.
Each part is timed with the thread's CPU clock (``time.thread_time_ns``:
steadier than wall time when other processes share the cores) and the table
shows the median over every step of ``--epochs`` epochs.

"before" is the step as the engine did it before (one tensor per parameter:
``zero_grad(set_to_none=True)``, ``clip_grad_norm_``, torch's default Adam,
which on CPU updates one tensor at a time; each batch gathered with its own
``index_select``); "after" is the engine as it is (parameters and gradients
as views into one flat tensor each, fused Adam, batches sliced from one
gathered tensor per epoch). Both run in this process, epochs alternating.

    .venv/bin/python benchmarks/profile_step.py               # ~1 minute on a quiet machine
    .venv/bin/python benchmarks/profile_step.py --ops          # plus torch.profiler's operator table
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from seqbench import datasets
from seqbench.data import length_buckets
from seqbench.models.neural._batches import SequenceBatches
from seqbench.models.neural._engine import Trainer, TrainingConfig
from seqbench.models.neural._flat_parameters import SeparateParameters
from seqbench.models.neural._forecaster import ForecastRNN
from seqbench.models.neural._modules import RNNConfig

PARTS = ("batch", "zero grad", "forward + loss", "backward", "grad norm + clip", "Adam step", "bookkeeping")


def windows(window: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Standardised sunspot windows ``(N, window, 1)`` and next steps ``(N, 1)``, float32."""
    y = datasets.load("sunspots").X_train[0][:, 0]
    z = (y - y.mean()) / y.std()
    block = np.lib.stride_tricks.sliding_window_view(z, window + 1)[:, :, None].astype(np.float32)
    return np.ascontiguousarray(block[:, :window]), np.ascontiguousarray(block[:, window])


def trainer(cell: str, mode: str, batch_size: int) -> Trainer:
    torch.manual_seed(0)
    module = ForecastRNN(RNNConfig(n_inputs=1, n_outputs=1, cell=cell, hidden_size=32, loss="mse"))
    t = Trainer(module, TrainingConfig(lr=1e-3, batch_size=batch_size, grad_clip=1.0), random_state=0)
    if mode == "before":
        t.trainable = SeparateParameters(t.params)
        t.optimizer = torch.optim.Adam(t.params, lr=1e-3, foreach=False)  # CPU default: one tensor at a time
    else:
        t.trainable.bind()  # what Trainer.fit does first
    return t


def batches(t: Trainer, train: SequenceBatches, mode: str, batch_size: int):
    if mode == "after":
        yield from train.shuffled(batch_size, t.rng)
        return
    for idx in length_buckets(train.lengths, batch_size, random_state=t.rng):
        yield train.batch(idx)  # the old path: one index_select per batch


def timed_epoch(t: Trainer, train: SequenceBatches, mode: str, batch_size: int, times: dict) -> None:
    """One epoch of the engine's step, split into PARTS (CPU ns appended to ``times``)."""
    clock = time.thread_time_ns
    t.module.train()
    source = batches(t, train, mode, batch_size)
    losses = []
    while True:
        t0 = clock()
        batch = next(source, None)
        if batch is None:
            return
        t1 = clock()
        if mode == "before":
            t.optimizer.zero_grad(set_to_none=True)
        else:
            t.trainable.zero_grad()
        t2 = clock()
        _, loss = t.compute_loss(batch)
        t3 = clock()
        loss.backward()
        t4 = clock()
        t.clip_gradients()
        t5 = clock()
        t.optimizer.step()
        t6 = clock()
        losses.append(loss.detach() * batch.weight if mode == "before" else loss.detach())
        t7 = clock()
        for part, a, b in zip(PARTS, (t0, t1, t2, t3, t4, t5, t6), (t1, t2, t3, t4, t5, t6, t7)):
            times[part].append(b - a)


def profile_cell(cell: str, epochs: int, batch_size: int) -> dict:
    inputs, targets = windows()
    train = SequenceBatches(inputs, targets)
    trainers = {mode: trainer(cell, mode, batch_size) for mode in ("before", "after")}
    times = {mode: {part: [] for part in PARTS} for mode in trainers}
    for _ in range(epochs):
        for mode, t in trainers.items():
            timed_epoch(t, train, mode, batch_size, times[mode])
    return {mode: {part: statistics.median(v) / 1e3 for part, v in parts.items()} for mode, parts in times.items()}


def operator_table(cell: str, batch_size: int) -> str:
    inputs, targets = windows()
    train = SequenceBatches(inputs, targets)
    t = trainer(cell, "after", batch_size)
    t.run_epoch(train)  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            t.run_epoch(train)
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--ops", action="store_true", help="also print torch.profiler's operator table (after)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; median thread-CPU microseconds per step over {args.epochs} epochs")
    for cell in args.cells.split(","):
        medians = profile_cell(cell, args.epochs, args.batch_size)
        print(f"\n{cell}: {'part':<18} {'before':>8} {'after':>8}")
        for part in PARTS:
            print(f"      {part:<18} {medians['before'][part]:>8.0f} {medians['after'][part]:>8.0f}")
        before, after = sum(medians["before"].values()), sum(medians["after"].values())
        print(f"      {'sum':<18} {before:>8.0f} {after:>8.0f}   ({after / before:.2f}x)")
        if args.ops:
            print(operator_table(cell, args.batch_size))


if __name__ == "__main__":
    main()
