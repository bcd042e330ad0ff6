"""A worker process: ``python -m seqbench.bench._child READ_FD WRITE_FD [options]``
(a new interpreter), or ``serve`` in a process forked by multiprocessing's
forkserver.

It receives jobs over a pipe, runs each with ``run_job`` and sends back
``("ready", info)`` once at start, ``("phase", key, name)`` as a job moves
from loading to fitting to predicting, and ``("result", key, result)``.
``None`` or the pipe closing (the parent died) ends it.

Options:

- ``--threads N``: the process's thread budget, set before numpy or torch
  are imported (environment variables for OpenMP/BLAS, then threadpoolctl
  and ``torch.set_num_threads``);
- ``--preload a.b,c.d``: modules (the suite's estimator modules) to import
  before saying it is ready, so the first job's time is its own;
- ``--log PATH``: where its output goes from its first job on (created
  then, so a run that stops at a bad suite leaves no log folder behind);
- ``--pdeathsig``: ask Linux to kill it when the parent dies (the process
  executor's workers).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import signal
import sys
from multiprocessing.connection import Connection

from ._job import run_job
from ._resources import set_process_threads

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS")


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the closed pipe still ends the worker after its current job


def _redirect_output(path: str) -> None:
    """Send this process's stdout and stderr (fds 1 and 2) to ``path``."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _preload(modules: str | None) -> None:
    for module in (modules or "").split(","):
        if module:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - the jobs that need it report the import error
                pass


def main(argv: list[str]) -> int:
    """Entry point of a worker started as a new interpreter (``subprocess``)."""
    threads = _option(argv, "--threads")
    if threads is not None:  # before numpy, torch and their thread pools are loaded
        os.environ.update({var: threads for var in _THREAD_VARS})
    inbox, outbox = Connection(int(argv[0]), writable=False), Connection(int(argv[1]), readable=False)
    return serve(inbox, outbox, threads=None if threads is None else int(threads), log=_option(argv, "--log"),
                 preload=_option(argv, "--preload"), die_with_parent="--pdeathsig" in argv)


def serve(inbox, outbox, *, threads: int | None, log: str | None, preload: str | None,
          die_with_parent: bool) -> int:
    """Run jobs from ``inbox`` until ``None`` or the parent is gone; the
    entry point of forked workers too (``multiprocessing``'s forkserver)."""
    if die_with_parent:
        _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _preload(preload)
    if threads is not None:
        os.environ.update({var: str(threads) for var in _THREAD_VARS})
        set_process_threads(threads)
    try:
        outbox.send(("ready", {"pid": os.getpid()}))
        while (message := inbox.recv()) is not None:
            if log is not None:
                _redirect_output(log)
                log = None
            job = message[1]
            result = run_job(job, phase=lambda name, key=job.key: outbox.send(("phase", key, name)))
            outbox.send(("result", job.key, result))
    except (EOFError, OSError):  # the parent is gone
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
