"""RNNLanguageModel.fit against a minimal hand-written PyTorch loop (issue 4, part 10).

Both sides train the same network (embedding of V + 1 ids, fused nn.LSTM /
nn.GRU / nn.RNN, linear head over V symbols and the end of a text) with
Adam, the same learning rate, gradient clipping, one torch thread, on the
very same truncated-BPTT chunks: every text between boundary ids (a start
as an input, an end as a target), concatenated, cut into ``batch_size``
rows and ``bptt``-step chunks, the detached hidden state carried from chunk
to chunk. The
hand loop tokenizes with a dict and has no validation, no history and no
early stopping; the estimator's ``fit`` includes everything a user pays for
(validating the texts, fitting the tokenizer, building the tensors, the
module and the optimizer). Runs alternate (estimator, hand loop, ...) in one
process; the table shows training throughput in target symbols per second
(medians) and the ratio of the median fit times. Target: ratio <= 1.05 (the
hand loop with torch's fused Adam).

    .venv/bin/python benchmarks/bench_rnn_language_model.py           # ~3-4 minutes
    .venv/bin/python benchmarks/bench_rnn_language_model.py --quick   # ~30 seconds
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import clip_grad_norm_

from seqbench.models.neural._language_model import RNNLanguageModel

from _alternate import alternate  # benchmarks/_alternate.py (the script's own folder is on sys.path)

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'-"


def make_texts(n_texts: int, length: int, seed: int = 0) -> list[str]:
    """Characters drawn with skewed frequencies (speed does not depend on content)."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(len(ALPHABET), 0.5))
    letters = np.array(list(ALPHABET))
    return ["".join(letters[rng.choice(len(ALPHABET), size=length, p=p)]) for _ in range(n_texts)]


def hand_loop(texts, *, cell, hidden, embed, batch_size, bptt, epochs, lr, grad_clip, seed):
    """The minimal loop. Seeds torch the way the estimator derives its seed
    from ``random_state`` (one int drawn from a RandomState) and builds the
    layers in the estimator's order, so both start from the same weights."""
    torch.set_num_threads(1)
    rng = np.random.RandomState(seed)
    torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))
    # the estimator's vocabulary: <unk> = 0, then characters by frequency
    counts = {}
    for t in texts:
        for ch in t:
            counts[ch] = counts.get(ch, 0) + 1
    vocab = {ch: i + 1 for i, ch in enumerate(sorted(counts, key=lambda c: -counts[c]))}
    V = len(vocab) + 1
    stream = []
    for t in texts:
        stream.append(V)  # boundary: the start of this text, the end of the one before
        stream.extend(vocab[ch] for ch in t)
    stream.append(V)
    stream = torch.tensor(stream)
    rows = min(batch_size, len(stream) - 1)
    width = (len(stream) - 1) // rows
    inputs = stream[: rows * width].view(rows, width)
    targets = stream[1 : rows * width + 1].view(rows, width)
    embedding = nn.Embedding(V + 1, embed)
    rnn = CELLS[cell](embed, hidden, batch_first=True)
    head = nn.Linear(hidden, V + 1)
    params = [*embedding.parameters(), *rnn.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(params, lr=lr, fused=True)  # the fastest Adam torch has on CPU
    for _ in range(epochs):
        state = None
        for c in range(0, width, bptt):
            x, y = inputs[:, c : c + bptt].contiguous(), targets[:, c : c + bptt].contiguous()
            out, state = rnn(embedding(x), state)
            loss = F.cross_entropy(head(out).flatten(0, 1), y.flatten())
            optimizer.zero_grad()
            loss.backward()
            clip_grad_norm_(params, grad_clip)
            optimizer.step()
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
    return head


def estimator_fit(texts, *, cell, hidden, embed, batch_size, bptt, epochs, lr, grad_clip, seed):
    lm = RNNLanguageModel(
        cell,
        level="char",
        hidden_size=hidden,
        embedding_dim=embed,
        batch_size=batch_size,
        bptt=bptt,
        max_epochs=epochs,
        lr=lr,
        grad_clip=grad_clip,
        num_threads=1,
        device="cpu",
        random_state=seed,
    )
    return lm.fit(texts)


def compare(cell, texts, *, repeats, **kwargs):
    kwargs = dict(cell=cell, lr=2e-3, grad_clip=1.0, seed=0, **kwargs)
    # warm-up (lazy imports, oneDNN kernels) and a check that both do the same arithmetic
    est = estimator_fit(texts, **{**kwargs, "epochs": 1})
    hand_head = hand_loop(texts, **{**kwargs, "epochs": 1})
    torch.testing.assert_close(est.module_.head.weight, hand_head.weight, rtol=1e-4, atol=1e-5)
    n_symbols = sum(len(t) for t in texts) * kwargs["epochs"]
    (est_wall, est_cpu), (hand_wall, hand_cpu) = alternate(estimator_fit, hand_loop, (texts,), kwargs, repeats)
    return n_symbols / est_wall, n_symbols / hand_wall, est_wall / hand_wall, est_cpu / hand_cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40k characters, 1 epoch, 3 repeats")
    parser.add_argument("--cells", default="lstm,gru", help="comma-separated cells")
    args = parser.parse_args()
    if args.quick:
        n_texts, length, sizes = 20, 2000, dict(hidden=64, embed=32, batch_size=32, bptt=50, epochs=1, repeats=3)
    else:
        n_texts, length, sizes = 50, 4000, dict(hidden=128, embed=32, batch_size=32, bptt=100, epochs=2, repeats=5)
    texts = make_texts(n_texts, length)
    print(
        f"{n_texts} texts x {length} chars, vocabulary {len(ALPHABET) + 1}, hidden={sizes['hidden']} "
        f"embedding={sizes['embed']} batch={sizes['batch_size']} bptt={sizes['bptt']} epochs={sizes['epochs']} "
        f"repeats={sizes['repeats']} threads=1 torch={torch.__version__}"
    )
    print("medians over alternating runs; 'cpu ratio' uses process CPU time, steadier on a busy machine")
    print(f"{'cell':<6} {'estimator sym/s':>16} {'hand loop sym/s':>16} {'ratio':>7} {'cpu ratio':>10}")
    worst = 0.0
    for cell in args.cells.split(","):
        est, hand, ratio, cpu_ratio = compare(cell, texts, **sizes)
        worst = max(worst, ratio)
        print(f"{cell:<6} {est:>16,.0f} {hand:>16,.0f} {ratio:>7.3f} {cpu_ratio:>10.3f}", flush=True)
    print(f"worst wall-clock ratio {worst:.3f} ({'within' if worst <= 1.05 else 'ABOVE'} the 1.05 target)")


if __name__ == "__main__":
    main()
