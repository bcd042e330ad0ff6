"""Speed of the benchmark runner itself.

Usage: python benchmarks/bench_runner.py [--quick]

1. The quick suite's wall time with ``--jobs 1`` and ``--jobs 2`` (process
   executor, fresh output folder each, the command a user types), and the
   speed-up (target: at least 1.7x on a 2-core machine).
2. The runner's own overhead per job: suites of trivial jobs (a model that
   does nothing on a 4-sequence dataset) with 20 and 1020 seeds; the slope
   (extra wall time / extra jobs) is the marginal cost of one job: planning,
   keying, dispatch, the worker's bookkeeping (thread limits, peak-memory
   reset, warnings capture), the result's trip back and its SQLite commit.
   Measured for the serial and the process executor (1 worker).

``--quick`` skips part 1. On a shared machine the speed-up is capped by
the cores other processes leave free: the script prints the load average
and, before and after the two runs, the "parallel capacity" (the speed-up
two plain CPU-bound processes get at that moment; 2.00 on a quiet 2-core
machine), so a low figure can be told apart from a runner problem.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so workers can import this module's trivial model


class _Caps:
    task, family, input_kinds, probabilistic = "classify", "baseline", frozenset({"real"}), False


class TrivialClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the first training label; costs nothing, so the runner's own time shows."""

    capabilities = _Caps()

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class _Record:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def trivial_dataset():
    """Four one-step sequences, two classes."""
    X = [np.zeros((1, 1)), np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1))]
    y = np.array([0, 1, 0, 1])
    return _Record(name="trivial", task="classify", X_train=X, y_train=y, X_test=X, y_test=y, meta={})


TRIVIAL_SUITE = """
[suite]
name = "trivial"
seeds = {n}
[[datasets]]
name = "bench_runner:trivial_dataset"
[[models]]
name = "bench_runner:TrivialClassifier"
"""


def _run_quick(jobs: int) -> float:
    """Wall time of the quick suite through the command line, in a fresh folder."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "seqbench", "run", "--suite", "quick", "--jobs", str(jobs), "--out", out,
               "--no-progress"]
        load0, start = os.getloadavg()[0], time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"quick suite failed with --jobs {jobs}:\n{done.stderr[-2000:]}")
        print(f"  --jobs {jobs}: {wall:6.1f} s (load average {load0:.1f} before, {os.getloadavg()[0]:.1f} after)"
              f"\n      {done.stdout.strip()}", flush=True)
        return wall


_SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 3.0: pass"


def _parallel_capacity() -> float:
    """How many cores two CPU-bound processes get now: 2 * (one alone) / (two together),
    each spinning for 3 s of CPU. 2.0 on a quiet 2-core machine; the best --jobs 2 can do."""
    def spin(n):
        start = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(n)]
        for p in procs:
            p.wait()
        return time.perf_counter() - start

    return 2 * spin(1) / spin(2)


def _run_trivial(n: int, executor: str) -> float:
    from seqbench.bench import parse_suite, run_suite

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        summary = run_suite(parse_suite(TRIVIAL_SUITE.format(n=n)), out=out, executor=executor, jobs=1,
                            progress=False, stream=io.StringIO())
        wall = time.perf_counter() - start
    assert summary.counts == {"ok": n}, summary.counts
    return wall


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print(f"cpus {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} (1 min) at start")
    if not quick:
        print(f"parallel capacity now: {_parallel_capacity():.2f} (two CPU-bound processes' speed-up; 2.00 when quiet)")
        print("quick suite, process executor:")
        t1 = _run_quick(1)
        t2 = _run_quick(2)
        print(f"  speed-up --jobs 2 over --jobs 1: {t1 / t2:.2f}x (target >= 1.7x)")
        print(f"parallel capacity now: {_parallel_capacity():.2f}")
    print("runner overhead per job (trivial jobs; slope between 20 and 1020 jobs):")
    for executor in ("serial", "process"):
        small, large = _run_trivial(20, executor), _run_trivial(1020, executor)
        per_job = (large - small) / 1000
        print(f"  {executor:8s} {per_job * 1000:7.1f} ms per job   (20 jobs: {small:5.1f} s, 1020 jobs: {large:5.1f} s,"
              f" fixed cost ~{small - 20 * per_job:4.1f} s)", flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} (1 min) at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
