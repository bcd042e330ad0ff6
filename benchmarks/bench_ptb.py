"""Language models on the Penn Treebank (word level, Mikolov's split): what
each family costs on 887k training words with a 10k-word vocabulary, and the
perplexity it reaches at a small, fixed budget.

This measures why ``ptb_words`` is not in the ``standard`` suite: the suite
tunes every contender with 6 trials per job and 5 seeds, so a family's cost
there is about 6 x (its one-fit seconds) per seed. The settings are fixed
(no tuning): n-gram orders 3 and 4 with Kneser-Ney smoothing (order 5 over
a 10,000-word vocabulary overflows the n-gram model's 64-bit context codes
and is refused with a ValueError saying so), a 16-state
HMM for a few EM iterations, a one-layer LSTM for one epoch. Perplexity per
word on the test part, the end of each sentence counted as one word (the
models predict it; it plays the published figures' ``<eos>``).

    .venv/bin/python benchmarks/bench_ptb.py            # every model
    .venv/bin/python benchmarks/bench_ptb.py --only ngram
"""

from __future__ import annotations

import argparse
import time

from seqbench import datasets
from seqbench.models import HMMLanguageModel, NGramLanguageModel, RNNLanguageModel

MODELS = {
    "ngram": [
        ("3-gram, Kneser-Ney", lambda: NGramLanguageModel(n=3, smoothing="kneser-ney")),
        ("4-gram, Kneser-Ney", lambda: NGramLanguageModel(n=4, smoothing="kneser-ney")),
    ],
    "hmm": [
        ("HMM, 16 states, 5 EM iterations", lambda: HMMLanguageModel(16, n_iter=5, random_state=0)),
    ],
    "rnn": [
        (
            "LSTM 128, 1 epoch",
            lambda: RNNLanguageModel("lstm", hidden_size=128, embedding_dim=64, max_epochs=1, bptt=35, batch_size=32, random_state=0, device="cpu"),
        ),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MODELS), action="append")
    args = parser.parse_args()
    data = datasets.load("ptb_words")
    n_words = sum(len(x) for x in data.X_train)
    print(f"ptb_words: {len(data.X_train)} training sentences, {n_words} words; {len(data.X_test)} test sentences")
    print("| model | fit CPU s | fit wall s | test perplexity |")
    print("|---|---|---|---|")
    for family in args.only or list(MODELS):
        for label, make in MODELS[family]:
            model = make()
            cpu, wall = time.process_time(), time.perf_counter()
            model.fit(data.X_train)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            ppl = 2.0 ** model.bits_per_symbol(data.X_test)
            print(f"| {label} | {cpu:.1f} | {wall:.1f} | {ppl:.1f} |", flush=True)


if __name__ == "__main__":
    main()
