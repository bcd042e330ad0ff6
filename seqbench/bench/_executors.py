"""Executors: where jobs run. Each has ``start()`` (may raise ``BenchError``
before any job runs), ``map(jobs)`` yielding ``(job, result)`` in completion
order, and ``close()``.

- ``serial``: in this process, one job after another. A timeout is enforced
  with SIGALRM (POSIX, main thread) and stops Python code at the next
  bytecode; a job that kills its process kills the run (use ``process``).
- ``process``: ``n`` worker processes on this machine, each limited to its
  share of the CPUs (``cpus // n`` threads for torch, BLAS and OpenMP). A
  job that exceeds its timeout or kills its worker is recorded and the
  worker replaced.
- ``dask``: Dask distributed (``_dask``; dask itself is imported only when chosen).

A job's timeout covers all of it: loading the dataset (cached per worker),
fitting and predicting.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

from ._dask import DaskExecutor
from ._errors import BenchError
from ._job import JobTimeout, failure_result, run_job
from ._pool import ChildWorker, can_fork, run_pool, start_forkserver

__all__ = ["SerialExecutor", "ProcessExecutor", "make_executor", "EXECUTORS"]

EXECUTORS = ("serial", "process", "dask")


class SerialExecutor:
    name = "serial"

    def __init__(self, *, threads: int | None):
        self.threads = threads
        self.n_workers = 1

    def start(self) -> None:
        pass

    def map(self, jobs):
        for job in jobs:
            state = {"phase": "load"}

            def phase(name, _state=state):
                _state["phase"] = name

            try:
                with _alarm(job, state):
                    result = run_job(job, phase=phase)
            except JobTimeout as exc:  # fired outside run_job's own handler
                result = failure_result(job, "timeout", str(exc), worker="main process")
            yield job, result

    def close(self) -> None:
        pass


@contextlib.contextmanager
def _alarm(job, state: dict):
    usable = (job.timeout and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        doing = {"load": "loading the dataset", "fit": "fitting", "predict": "predicting"}.get(state["phase"])
        raise JobTimeout(f"timed out after {job.timeout:g} s while {doing or state['phase']}")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, job.timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class ProcessExecutor:
    name = "process"

    def __init__(self, *, n_workers: int, threads: int, log_dir: Path | None = None, preload: tuple = ()):
        if n_workers < 1:
            raise BenchError(f"n_workers must be at least 1, got {n_workers}")
        self.n_workers = n_workers
        self.threads = threads
        self.log_dir = log_dir
        self.preload = tuple(preload)
        self.workers: list = []

    def _make(self, i: int) -> ChildWorker:
        log = None if self.log_dir is None else self.log_dir / f"worker-{i}.log"
        return ChildWorker(threads=self.threads, log_path=log, die_with_parent=True, preload=self.preload,
                           fork=can_fork())

    def start(self) -> None:
        """Start importing the workers' libraries now, while the runner checks
        the suite and plans: the forkserver (workers are forked from it when
        the jobs are ready), or else the worker interpreters themselves."""
        if can_fork():
            start_forkserver(self.preload)
        else:
            self.workers = [self._make(i) for i in range(self.n_workers)]

    def map(self, jobs):
        jobs = list(jobs)
        if jobs and not self.workers:
            self.workers = [self._make(i) for i in range(min(self.n_workers, len(jobs)))]
        yield from run_pool(jobs, workers=self.workers, make_worker=self._make)

    def close(self) -> None:
        for w in self.workers:
            w.close(grace=2.0)
        self.workers = []


def make_executor(name: str, *, n_workers: int, threads: int | None, address: str | None = None,
                  connect_timeout: float = 10.0, log_dir: Path | None = None, preload: tuple = ()):
    """The executor called ``name`` ("serial", "process" or "dask"). ``preload``:
    modules worker processes import before their first job."""
    if name == "serial":
        if address:
            raise BenchError(f"a scheduler address ({address!r}) is for the dask executor, not {name!r}")
        return SerialExecutor(threads=threads)
    if name == "process":
        if address:
            raise BenchError(f"a scheduler address ({address!r}) is for the dask executor, not {name!r}")
        return ProcessExecutor(n_workers=n_workers, threads=threads, log_dir=log_dir, preload=preload)
    if name == "dask":
        return DaskExecutor(n_workers=n_workers, threads=threads, address=address, connect_timeout=connect_timeout,
                            preload=preload)
    raise BenchError(f"unknown executor {name!r}; use one of {', '.join(EXECUTORS)}")
