"""RNNClassifier.fit against a minimal hand-written PyTorch loop (issue 2, part 8).

Both sides train the same architecture (fused nn.RNN/LSTM/GRU + Linear on the
last layer's final state) with Adam, the same learning rate, batch size,
epochs, gradient clipping, one torch thread, and the same length-bucketed
batches (``seqbench.data.length_buckets`` with a seeded RandomState). The
hand loop has no validation, no history and no input validation; the
estimator's ``fit`` includes everything a user pays for (validating the
sequences, building tensors, the module and the optimizer). Runs alternate
(estimator, hand loop, estimator, ...) in one process; the table shows the
median seconds of each and their ratio. Target: ratio <= 1.05.
The hand loop uses torch's fused Adam (one kernel for all tensors), the
fastest a careful user gets from torch without restructuring the loop.

    .venv/bin/python benchmarks/bench_rnn_classifier.py           # ~2-3 minutes
    .venv/bin/python benchmarks/bench_rnn_classifier.py --quick   # ~20 seconds
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import clip_grad_norm_
from torch.nn.utils.rnn import pack_padded_sequence

from seqbench.data import length_buckets
from seqbench.models import RNNClassifier

from _alternate import alternate  # benchmarks/_alternate.py (the script's own folder is on sys.path)

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_data(n, T, d, *, ragged, seed=0):
    """Two classes whose channel-0 mean differs; lengths T (or T/2..T if ragged)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(T // 2, T + 1, size=n) if ragged else np.full(n, T)
    y = rng.integers(0, 2, size=n)
    X = [rng.normal(size=(L, d)) + 0.3 * label * np.eye(d)[0] for L, label in zip(lengths, y)]
    return X, y


def hand_loop(X, y, *, cell, hidden, batch_size, epochs, lr, grad_clip, seed):
    """The minimal loop: pad once, slice batch rows, pack only mixed-length batches.

    Seeds torch and the batch order the way the estimator derives them from
    ``random_state`` (one int drawn from a RandomState, which then orders the
    batches), so both sides do the very same arithmetic: ``main`` checks that
    they end with the same weights.
    """
    torch.set_num_threads(1)
    rng = np.random.RandomState(seed)
    torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
    lengths = np.array([len(s) for s in X])
    padded = np.zeros((len(X), lengths.max(), X[0].shape[1]), dtype=np.float32)
    for i, s in enumerate(X):
        padded[i, : len(s)] = s
    inputs, targets = torch.from_numpy(padded), torch.from_numpy(y)
    rnn = CELLS[cell](X[0].shape[1], hidden, batch_first=True)
    head = nn.Linear(hidden, int(y.max()) + 1)
    params = [*rnn.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr, fused=True)  # the fastest Adam torch has on CPU
    for _ in range(epochs):
        for idx in length_buckets(lengths, batch_size, random_state=rng):
            batch_lengths = lengths[idx]
            xb = inputs[torch.from_numpy(idx), : batch_lengths.max()]
            if batch_lengths.min() != batch_lengths.max():
                xb = pack_padded_sequence(xb, torch.from_numpy(batch_lengths), batch_first=True, enforce_sorted=False)
            _, state = rnn(xb)
            h = state[0] if cell == "lstm" else state
            loss = F.cross_entropy(head(h[-1]), targets[torch.from_numpy(idx)])
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(params, grad_clip)
            optimizer.step()
    return head


def estimator_fit(X, y, *, cell, hidden, batch_size, epochs, lr, grad_clip, seed):
    return RNNClassifier(
        cell,
        hidden_size=hidden,
        batch_size=batch_size,
        max_epochs=epochs,
        lr=lr,
        grad_clip=grad_clip,
        early_stopping=False,
        num_threads=1,
        device="cpu",
        random_state=seed,
    ).fit(X, y)


def compare(case, *, n, T, d, hidden, batch_size, epochs, repeats):
    cell, ragged = case.split("-")[0], case.endswith("ragged")
    X, y = make_data(n, T, d, ragged=ragged)
    kwargs = dict(cell=cell, hidden=hidden, batch_size=batch_size, epochs=epochs, lr=1e-3, grad_clip=1.0, seed=0)
    # warm-up (lazy imports, oneDNN kernels) and a check that both do the same arithmetic
    est_head = estimator_fit(X, y, **{**kwargs, "epochs": 1}).module_.head
    hand_head = hand_loop(X, y, **{**kwargs, "epochs": 1})
    torch.testing.assert_close(est_head.weight, hand_head.weight, rtol=1e-4, atol=1e-5)
    (est_wall, est_cpu), (hand_wall, hand_cpu) = alternate(estimator_fit, hand_loop, (X, y,), kwargs, repeats)
    steps = epochs * len(length_buckets([len(s) for s in X], batch_size, random_state=0))
    return est_wall, hand_wall, est_wall / hand_wall, est_cpu / hand_cpu, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small data, 2 epochs, 3 repeats")
    parser.add_argument("--cases", default="lstm,gru,rnn,gru-ragged", help="comma-separated cell[-ragged] cases")
    args = parser.parse_args()
    if args.quick:
        sizes = dict(n=256, T=30, d=8, hidden=64, batch_size=64, epochs=2, repeats=3)
    else:
        sizes = dict(n=1024, T=50, d=8, hidden=64, batch_size=64, epochs=5, repeats=5)
    print(
        f"n={sizes['n']} T={sizes['T']} d={sizes['d']} hidden={sizes['hidden']} batch={sizes['batch_size']} "
        f"epochs={sizes['epochs']} repeats={sizes['repeats']} threads=1 torch={torch.__version__}"
    )
    print("medians over alternating runs; 'cpu ratio' uses process CPU time, steadier on a busy machine")
    print(f"{'case':<12} {'estimator s':>12} {'hand loop s':>12} {'est µs/step':>12} {'hand µs/step':>12} "
          f"{'ratio':>7} {'cpu ratio':>10}")
    worst = 0.0
    for case in args.cases.split(","):
        est, hand, ratio, cpu_ratio, steps = compare(case, **sizes)
        worst = max(worst, ratio)
        print(f"{case:<12} {est:>12.3f} {hand:>12.3f} {est / steps * 1e6:>12.0f} {hand / steps * 1e6:>12.0f} "
              f"{ratio:>7.3f} {cpu_ratio:>10.3f}", flush=True)
    print(f"worst wall-clock ratio {worst:.3f} ({'within' if worst <= 1.05 else 'ABOVE'} the 1.05 target)")


if __name__ == "__main__":
    main()
