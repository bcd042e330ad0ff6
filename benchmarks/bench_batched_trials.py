"""Would training K same-shape trials as one batched network pay?

K recurrent networks of the same shape (K seeds, or K trials that differ
only in their initial weights) can train as one network whose hidden state
is the K hidden states side by side: every weight matrix block-diagonal
(one gate block per trial), trial k's batch in input column k, the loss the
sum of the K losses. Off-diagonal weights start at 0 and their gradients
are masked to 0 every step, so the K trials never mix and each one follows
its own gradient. This script times one full training step (forward,
backward, masking, one fused Adam step) of the batched network against K
separate steps, on the Darts-comparison shape (windows of 24 steps, batch
16, hidden 32, one torch thread), with the median of thread-CPU time.

    .venv/bin/python benchmarks/bench_batched_trials.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def block_mask(cell: str, k: int, hidden: int, inputs: int) -> dict[str, torch.Tensor]:
    """1 where trial j's weights live, 0 between trials, for each parameter of the batched layer."""
    gates = GATES[cell]
    owner_rows = torch.arange(gates * k * hidden) % (k * hidden) // hidden  # trial of each gate row
    return {
        "weight_ih_l0": (owner_rows[:, None] == torch.arange(k * inputs)[None] // inputs).float(),
        "weight_hh_l0": (owner_rows[:, None] == torch.arange(k * hidden)[None] // hidden).float(),
        "head": (torch.arange(k)[:, None] == torch.arange(k * hidden)[None] // hidden).float(),
    }


class Net(nn.Module):
    def __init__(self, cell: str, inputs: int, hidden: int, outputs: int):
        super().__init__()
        self.cell, self.rnn, self.head = cell, CELLS[cell](inputs, hidden, batch_first=True), nn.Linear(hidden, outputs)

    def loss(self, x, y):
        _, state = self.rnn(x)
        h = state[0] if self.cell == "lstm" else state
        return F.mse_loss(self.head(h[-1]), y, reduction="sum") / len(y)  # sum over trials of each trial's mean


def median_us(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.thread_time_ns()
        fn()
        times.append(time.thread_time_ns() - start)
    return statistics.median(times) / 1e3


def compare(cell: str, k: int, *, batch=16, window=24, hidden=32, repeats=40) -> tuple[float, float]:
    """(µs of K separate steps, µs of one batched step)."""
    torch.manual_seed(0)
    separate = [Net(cell, 1, hidden, 1) for _ in range(k)]
    optimizers = [torch.optim.Adam(n.parameters(), lr=1e-3, fused=True) for n in separate]
    x, y = torch.randn(batch, window, 1), torch.randn(batch, 1)

    def separate_steps():
        for net, opt in zip(separate, optimizers):
            opt.zero_grad()
            net.loss(x, y).backward()
            opt.step()

    batched = Net(cell, k, k * hidden, k)
    masks = block_mask(cell, k, hidden, 1)
    with torch.no_grad():
        batched.rnn.weight_ih_l0.mul_(masks["weight_ih_l0"])
        batched.rnn.weight_hh_l0.mul_(masks["weight_hh_l0"])
        batched.head.weight.mul_(masks["head"])
    opt = torch.optim.Adam(batched.parameters(), lr=1e-3, fused=True)
    xk, yk = torch.randn(batch, window, k), torch.randn(batch, k)  # trial j's batch in column j

    def batched_step():
        opt.zero_grad()
        batched.loss(xk, yk).backward()
        batched.rnn.weight_ih_l0.grad.mul_(masks["weight_ih_l0"])
        batched.rnn.weight_hh_l0.grad.mul_(masks["weight_hh_l0"])
        batched.head.weight.grad.mul_(masks["head"])
        opt.step()

    separate_steps(), batched_step()  # warm-up
    return median_us(separate_steps, repeats), median_us(batched_step, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", default="2,4,8")
    parser.add_argument("--cells", default="lstm,gru")
    parser.add_argument("--quick", action="store_true", help="K = 2 and 4 only")
    args = parser.parse_args()
    if args.quick:
        args.trials = "2,4"
    torch.set_num_threads(1)
    print(f"{'cell':<5} {'K':>2} {'K separate µs':>14} {'batched µs':>11} {'speed-up':>9}")
    for cell in args.cells.split(","):
        for k in map(int, args.trials.split(",")):
            sep, bat = compare(cell, k)
            print(f"{cell:<5} {k:>2} {sep:>14.0f} {bat:>11.0f} {sep / bat:>8.2f}x", flush=True)


if __name__ == "__main__":
    main()
