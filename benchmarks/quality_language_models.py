"""Language models on Hamlet: bits per character on the held-out end of the play.

The catalogue dataset ``hamlet`` (its own split: the first 90% of the play,
up to a line break, to train; the rest of Act V to test). Every setting is
chosen on the *tail of the training text* (its last 10%, the same cut the
estimator's ``early_stopping`` holds out), never on the test text; the
chosen setting is then refit on the whole training text and scored on the
test text once. Bits per character count the end of the text as one more
predicted symbol (the language models model it).

- n-gram (interpolated Kneser-Ney): the order with the lowest tail bits,
  among 2 .. 8; the 5- and 6-gram rows are shown too, as fixed ablations.
- RNNLanguageModel: each candidate of ``CANDIDATES`` trains on the first 90%
  with the tail as its validation set (``early_stopping=True``, patience as
  long as the run, the weights of the best epoch kept); the candidate with
  the lowest validation loss wins and is refit on the whole training text
  for its best epoch count (a cosine schedule then anneals over that many
  epochs).

CPU time is process time (torch uses one thread), so it is fair on a shared
machine; wall time is printed beside it.

    .venv/bin/python benchmarks/quality_language_models.py                  # tune every candidate, refit the best
    .venv/bin/python benchmarks/quality_language_models.py --tune lstm256   # one candidate's tail run only
    .venv/bin/python benchmarks/quality_language_models.py --refit lstm512 --epochs 15   # refit + test only
    .venv/bin/python benchmarks/quality_language_models.py --quick          # n-grams + a 2-epoch LSTM (a smoke run)
"""

from __future__ import annotations

import argparse
import math
import time

from seqbench import datasets
from seqbench.models import NGramLanguageModel, RNNLanguageModel

# Tail-of-training candidates; the names are what --tune / --refit take.
CANDIDATES = {
    "lstm256": dict(cell="lstm", hidden_size=256, embedding_dim=64, dropout=0.2, lr=0.003, lr_schedule="cosine",
                    bptt=64, batch_size=16, max_epochs=25),
    "lstm512": dict(cell="lstm", hidden_size=512, embedding_dim=64, dropout=0.3, lr=0.002, lr_schedule="cosine",
                    bptt=64, batch_size=16, max_epochs=15),
}
QUICK = dict(cell="lstm", hidden_size=64, embedding_dim=32, lr=0.005, bptt=64, batch_size=16, max_epochs=2)
TAIL = 0.1
OLD_BEST_RNN = 2.402  # bits/char of the best RNN LM of the standard suite before dropout and the schedule


def _bits(nats: float) -> float:
    return nats / math.log(2)


def head_and_tail(text: str) -> tuple[str, str]:
    """The training text without its last ``TAIL`` and that tail."""
    cut = len(text) - math.ceil(TAIL * len(text))
    return text[:cut], text[cut:]


def ngram_rows(train: str, test: str) -> list[tuple[str, float | None, float]]:
    """(name, tail bits, test bits): the order chosen on the tail, then the fixed 5- and 6-grams."""
    head, tail = head_and_tail(train)
    tail_bits = {n: NGramLanguageModel(n=n).fit([head]).bits_per_symbol([tail]) for n in range(2, 9)}
    best = min(tail_bits, key=tail_bits.get)
    rows = [(f"{best}-gram KN (order chosen on the tail)", tail_bits[best],
             NGramLanguageModel(n=best).fit([train]).bits_per_symbol([test]))]
    for n in (5, 6):
        test_bits = NGramLanguageModel(n=n).fit([train]).bits_per_symbol([test])
        rows.append((f"{n}-gram KN (fixed)", tail_bits[n], test_bits))
    return rows


def tune(name: str, params: dict, train: str) -> dict:
    """One candidate trained on the head, validated on the tail after every epoch."""
    lm = RNNLanguageModel(**params, early_stopping=True, validation_fraction=TAIL,
                          n_iter_no_change=params["max_epochs"], num_threads=1, device="cpu", random_state=0)
    wall, cpu = time.perf_counter(), time.process_time()
    lm.fit([train])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    curve = " ".join(f"{_bits(h['val_loss']):.3f}" for h in lm.history_)
    best = min(h["val_loss"] for h in lm.history_)
    print(f"tune {name}: tail bits per epoch {curve}", flush=True)
    print(f"tune {name}: best {_bits(best):.4f} at epoch {lm.best_epoch_}; cpu {cpu:.0f} s, wall {wall:.0f} s",
          flush=True)
    return dict(name=name, tail_bits=_bits(best), epochs=lm.best_epoch_, cpu=cpu)


def refit(name: str, params: dict, epochs: int, train: str, test: str) -> dict:
    """The chosen candidate on the whole training text for ``epochs`` epochs; test bits once."""
    lm = RNNLanguageModel(**{**params, "max_epochs": epochs}, num_threads=1, device="cpu", random_state=0)
    wall, cpu = time.perf_counter(), time.process_time()
    lm.fit([train])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    bits = lm.bits_per_symbol([test])
    print(f"refit {name} for {epochs} epochs: test {bits:.4f} bits/char; cpu {cpu:.0f} s, wall {wall:.0f} s",
          flush=True)
    sample = lm.sample(1, 200, prompt="HAMLET\n", temperature=0.8, stop_at_end=True, random_state=0)[0]
    print("sample (temperature 0.8):\n" + sample, flush=True)
    return dict(name=name, test_bits=bits, cpu=cpu, epochs=epochs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", choices=sorted(CANDIDATES), help="run this candidate's tail run only")
    parser.add_argument("--refit", choices=sorted(CANDIDATES), help="refit this candidate and score the test text")
    parser.add_argument("--epochs", type=int, help="epochs of --refit (its tail run's best epoch)")
    parser.add_argument("--quick", action="store_true", help="n-grams and a small 2-epoch LSTM only")
    args = parser.parse_args()
    ds = datasets.load("hamlet")
    (train,), (test,) = ds.X_train, ds.X_test
    print(f"hamlet: {len(train)} training characters (tail {len(head_and_tail(train)[1])}), {len(test)} test")
    if args.tune:
        tune(args.tune, CANDIDATES[args.tune], train)
        return
    if args.refit:
        refit(args.refit, CANDIDATES[args.refit], args.epochs or CANDIDATES[args.refit]["max_epochs"], train, test)
        return
    for name, tail_bits, test_bits in ngram_rows(train, test):
        print(f"{name}: tail {tail_bits:.4f}, test {test_bits:.4f} bits/char", flush=True)
    candidates = {"quick": QUICK} if args.quick else CANDIDATES
    tuned = [tune(name, params, train) for name, params in candidates.items()]
    chosen = min(tuned, key=lambda r: r["tail_bits"])
    result = refit(chosen["name"], candidates[chosen["name"]], chosen["epochs"], train, test)
    tuning_cpu = sum(r["cpu"] for r in tuned)
    print(f"chosen on the tail: {chosen['name']}; test {result['test_bits']:.4f} bits/char "
          f"(the standard suite's best RNN LM before: {OLD_BEST_RNN:.3f}); refit cpu {result['cpu']:.0f} s, "
          f"tuning cpu {tuning_cpu:.0f} s", flush=True)


if __name__ == "__main__":
    main()
