"""RNNForecaster.fit against a minimal hand-written PyTorch loop (issue 3, part 8).

Both sides train the same architecture on the same windows: every window of
``window`` steps of one standardised series with the next step as target
(``recursive``: fused nn.RNN/LSTM/GRU + Linear on the last layer's final
state), or with the next ``horizon`` steps (``direct``: encoder, then a
decoder of the same cell started from the encoder's state and fed the one-hot
step index, + Linear on every decoder output). Same Adam learning rate,
batch size, epochs, gradient clipping, one torch thread, and the same seeded
batch order, so both do the very same arithmetic (``compare`` checks the
weights after one epoch). The hand loop has no validation, no history and no
input checks; the estimator's ``fit`` includes everything a user pays for
(validating the series, standardising, cutting windows, building tensors,
the module and the optimizer). Runs alternate in one process; the table
shows medians and their ratio. Target: ratio <= 1.05.
The hand loop uses torch's fused Adam (one kernel for all tensors), the
fastest a careful user gets from torch without restructuring the loop.

    .venv/bin/python benchmarks/bench_rnn_forecaster.py           # ~2-3 minutes
    .venv/bin/python benchmarks/bench_rnn_forecaster.py --quick   # ~20 seconds
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn
from torch.nn.utils import clip_grad_norm_

from seqbench.data import length_buckets
from seqbench.models.neural._forecaster import RNNForecaster

from _alternate import alternate  # benchmarks/_alternate.py (the script's own folder is on sys.path)

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_series(n_steps: int, seed: int = 0) -> np.ndarray:
    """A threshold AR(1) (the SETAR of tests/test_forecast_rnn.py)."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n_steps)
    for t in range(1, n_steps):
        y[t] = 1.0 + (0.8 if y[t - 1] <= 0 else -0.8) * y[t - 1] + 0.5 * rng.normal()
    return y


def hand_loop(y, *, cell, window, horizon, hidden, batch_size, epochs, lr, grad_clip, seed):
    """The minimal loop: standardise, cut windows once, slice batch rows, train.

    ``horizon`` None: recursive one-step model; an int: direct encoder-decoder.
    Seeds torch and the batch order the way the estimator derives them from
    ``random_state`` (one int drawn from a RandomState, which then orders the
    batches with ``length_buckets``).
    """
    torch.set_num_threads(1)
    rng = np.random.RandomState(seed)
    torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
    z = ((y - y.mean()) / y.std())[:, None]
    ahead = horizon or 1
    block = sliding_window_view(z, window + ahead, axis=0).transpose(0, 2, 1).astype(np.float32)
    inputs = torch.from_numpy(np.ascontiguousarray(block[:, :window]))
    targets = torch.from_numpy(np.ascontiguousarray(block[:, window:] if horizon else block[:, -1]))
    encoder = CELLS[cell](1, hidden, batch_first=True)
    decoder = CELLS[cell](horizon, hidden, batch_first=True) if horizon else None
    head = nn.Linear(hidden, 1)
    modules = [m for m in (encoder, decoder, head) if m is not None]
    params = [p for m in modules for p in m.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr, fused=True)  # the fastest Adam torch has on CPU
    steps = torch.eye(horizon) if horizon else None
    lengths = np.full(len(inputs), window)
    for _ in range(epochs):
        for idx in length_buckets(lengths, batch_size, random_state=rng):
            rows = torch.from_numpy(idx)
            _, state = encoder(inputs[rows])
            if horizon:
                decoded, _ = decoder(steps.expand(len(idx), -1, -1), state)
                output = head(decoded)
            else:
                h = state[0] if cell == "lstm" else state
                output = head(h[-1])
            loss = F.mse_loss(output, targets[rows])
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(params, grad_clip)
            optimizer.step()
    return head


def estimator_fit(y, *, cell, window, horizon, hidden, batch_size, epochs, lr, grad_clip, seed):
    return RNNForecaster(
        cell,
        window=window,
        strategy="direct" if horizon else "recursive",
        horizon=horizon or 1,
        hidden_size=hidden,
        batch_size=batch_size,
        max_epochs=epochs,
        lr=lr,
        grad_clip=grad_clip,
        num_threads=1,
        device="cpu",
        random_state=seed,
    ).fit(y)


def compare(case, *, n_steps, window, horizon, hidden, batch_size, epochs, repeats):
    cell, direct = case.split("-")[0], case.endswith("direct")
    y = make_series(n_steps)
    kwargs = dict(cell=cell, window=window, horizon=horizon if direct else None, hidden=hidden,
                  batch_size=batch_size, epochs=epochs, lr=1e-3, grad_clip=1.0, seed=0)
    # warm-up (lazy imports, oneDNN kernels) and a check that both do the same arithmetic
    est_head = estimator_fit(y, **{**kwargs, "epochs": 1}).module_.head
    hand_head = hand_loop(y, **{**kwargs, "epochs": 1})
    torch.testing.assert_close(est_head.weight, hand_head.weight, rtol=1e-4, atol=1e-5)
    (est_wall, est_cpu), (hand_wall, hand_cpu) = alternate(estimator_fit, hand_loop, (y,), kwargs, repeats)
    n_windows = n_steps - window - (horizon if direct else 1) + 1
    steps = epochs * -(-n_windows // batch_size)
    return est_wall, hand_wall, est_wall / hand_wall, est_cpu / hand_cpu, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a shorter series, 2 epochs, 3 repeats")
    parser.add_argument("--cases", default="lstm,gru,rnn,lstm-direct", help="comma-separated cases")
    args = parser.parse_args()
    if args.quick:
        sizes = dict(n_steps=2000, window=24, horizon=12, hidden=32, batch_size=64, epochs=2, repeats=3)
    else:
        sizes = dict(n_steps=6000, window=24, horizon=12, hidden=32, batch_size=64, epochs=5, repeats=5)
    print(
        f"series={sizes['n_steps']} window={sizes['window']} direct horizon={sizes['horizon']} "
        f"hidden={sizes['hidden']} batch={sizes['batch_size']} epochs={sizes['epochs']} "
        f"repeats={sizes['repeats']} threads=1 torch={torch.__version__}"
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
