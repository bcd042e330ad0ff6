"""Worker processes that can be killed: the isolation under the process and
Dask executors.

Each ``ChildWorker`` is a process talking over two pipes: forked from
multiprocessing's forkserver (the process executor: fast to start and to
replace), or a fresh interpreter (``python -m seqbench.bench._child``)
started with ``subprocess`` (inside Dask workers, which are daemonic and may
not use multiprocessing). A job that exceeds its timeout gets its worker
killed (SIGKILL) and replaced; a worker that dies (``os._exit``, a
segfault, the OOM killer) is noticed by its pipe closing. Either way the
job gets a result that says what happened and in which phase, and the
other jobs go on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections import deque
from multiprocessing import forkserver
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ._child import serve
from ._errors import BenchError
from ..results import now_iso
from ._job import failure_result

__all__ = ["ChildWorker", "run_pool", "can_fork", "start_forkserver"]

_START_TIMEOUT = 180.0  # seconds for a worker to import its libraries
_PHASES = {"load": "loading the dataset", "fit": "fitting", "predict": "predicting"}


def _child_env() -> dict:
    """The parent's environment, with its ``sys.path`` on ``PYTHONPATH`` so a
    ``module:Class`` the parent can import, the worker can import too."""
    env = dict(os.environ)
    paths = [os.path.abspath(p) for p in sys.path if p] + [os.getcwd()]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


class _ForkedProcess:
    """A ``multiprocessing.Process`` seen through ``subprocess.Popen``'s methods."""

    def __init__(self, proc):
        self._proc = proc
        self.pid = proc.pid
        self.args = ["forkserver", "seqbench.bench._child.serve"]

    def poll(self):
        return self._proc.exitcode

    @property
    def returncode(self):
        return self._proc.exitcode

    def kill(self) -> None:
        self._proc.kill()

    def wait(self, timeout=None):
        self._proc.join(timeout)
        if self._proc.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout)
        return self._proc.exitcode


_FORKSERVER = None


def _forkserver_context(preload: tuple):
    """multiprocessing's forkserver, preloading the worker code and the
    suite's estimator modules once per runner process: each worker is then a
    fork of an interpreter that already imported them (milliseconds, not the
    seconds a fresh interpreter needs), and the server itself never runs a
    job, so no thread pool is forked in a running state."""
    global _FORKSERVER
    if _FORKSERVER is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["seqbench.bench._job", "seqbench.bench._child", *preload])
        # the server imports its preload list with the sys.path of a fresh
        # interpreter (Python 3.11 ignores the parent's): start it with ours
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = _child_env()["PYTHONPATH"]
        try:
            forkserver.ensure_running()
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved
        _FORKSERVER = ctx
    return _FORKSERVER


def can_fork() -> bool:
    return "forkserver" in multiprocessing.get_all_start_methods()


def start_forkserver(preload: tuple) -> None:
    """Start the forkserver now (it returns at once; the server imports its
    preload list in the background while the runner plans)."""
    _forkserver_context(preload)


@contextlib.contextmanager
def _main_module_hidden():
    """multiprocessing makes each worker import the parent's ``__main__``
    (and fails when it is ``<stdin>``, or re-runs a user's script that has
    no ``if __name__ == "__main__"`` guard). Workers need nothing from it:
    their code lives in seqbench. So ``__main__`` shows no file or spec
    while a worker is started."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved_file = main.__dict__.pop("__file__", None)
    saved_spec = getattr(main, "__spec__", None)
    main.__spec__ = None
    try:
        yield
    finally:
        main.__spec__ = saved_spec
        if saved_file is not None:
            main.__file__ = saved_file


class ChildWorker:
    """One worker process and the job it is running (if any).

    ``fork=True`` forks it from multiprocessing's forkserver (the process
    executor); otherwise it is a new interpreter started with ``subprocess``,
    which also works inside daemonic processes such as Dask workers.
    """

    def __init__(self, *, threads: int | None, log_path: Path | None = None, die_with_parent: bool = False,
                 preload: tuple = (), fork: bool = False):
        self.preload = tuple(preload)
        self.log_path = log_path
        options = dict(threads=threads, log=None if log_path is None else str(log_path),
                       preload=",".join(preload), die_with_parent=die_with_parent)
        start = self._fork if fork else self._spawn
        self.proc, self.inbox, self._outbox = start(options)
        self.threads = threads
        self.ready = False
        self.born = time.monotonic()
        self.job = None
        self.phase = None
        self.started = 0.0
        self.started_at = None

    @staticmethod
    def _spawn(options: dict):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        cmd = [sys.executable, "-m", "seqbench.bench._child", str(to_child_r), str(from_child_w)]
        if options["threads"] is not None:
            cmd += ["--threads", str(options["threads"])]
        if options["die_with_parent"]:
            cmd.append("--pdeathsig")
        if options["preload"]:
            cmd += ["--preload", options["preload"]]
        if options["log"] is not None:
            cmd += ["--log", options["log"]]
        try:
            proc = subprocess.Popen(cmd, pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
                                    env=_child_env(), close_fds=True)
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        return proc, Connection(from_child_r, writable=False), Connection(to_child_w, readable=False)

    def _fork(self, options: dict):
        ctx = _forkserver_context(self.preload)
        to_child_r, to_child_w = ctx.Pipe(duplex=False)
        from_child_r, from_child_w = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=serve, args=(to_child_r, from_child_w), kwargs=options, name="seqbench-worker")
        with _main_module_hidden():
            proc.start()
        to_child_r.close()  # the parent keeps only its own ends, so a dead worker reads as EOF
        from_child_w.close()
        return _ForkedProcess(proc), from_child_r, to_child_w

    # -------------------------------------------------------------- control
    @property
    def busy(self) -> bool:
        return self.job is not None

    @property
    def name(self) -> str:
        return f"pid {self.proc.pid}"

    def assign(self, job) -> None:
        self._outbox.send(("job", job))
        self.job, self.phase = job, "load"
        self.started, self.started_at = time.monotonic(), now_iso()

    def deadline(self) -> float | None:
        if self.job is None or not self.job.timeout:
            return None
        return self.started + self.job.timeout

    def receive(self):
        """The next message; raises ``EOFError`` when the worker has died."""
        try:
            message = self.inbox.recv()
        except OSError as exc:
            raise EOFError(str(exc)) from None
        if message[0] == "ready":
            self.ready = True
        elif message[0] == "phase":
            self.phase = message[2]
        return message

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self._wait()
        self._close_pipes()

    def close(self, grace: float = 5.0) -> None:
        """Ask the worker to stop; kill it if it has not within ``grace`` seconds."""
        try:
            self._outbox.send(None)
        except OSError:
            pass
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self._wait()
        self._close_pipes()

    def _wait(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def _close_pipes(self) -> None:
        for conn in (self.inbox, self._outbox):
            try:
                conn.close()
            except OSError:
                pass

    # -------------------------------------------------------------- results
    def how_it_died(self) -> str:
        self._wait()
        rc = self.proc.returncode
        if rc is None:
            return "stopped answering"
        if rc < 0:
            try:
                return f"was killed by {signal.Signals(-rc).name}"
            except ValueError:
                return f"was killed by signal {-rc}"
        return f"exited with status {rc}"

    def _doing(self) -> str:
        return _PHASES.get(self.phase, self.phase or "starting")

    def death_result(self) -> dict:
        """The current job's result after the worker died under it."""
        error = f"worker process {self.how_it_died()} while {self._doing()}; the job did not finish"
        return failure_result(self.job, "failed", error, started_at=self.started_at, worker=self.name)

    def timeout_result(self) -> dict:
        error = f"timed out after {self.job.timeout:g} s while {self._doing()}; the worker was killed"
        return failure_result(self.job, "timeout", error, started_at=self.started_at, worker=self.name)

    def start_failure(self) -> BenchError:
        """The error for a worker that died or hung before its first job
        (its own messages are above: it writes to the terminal until then)."""
        return BenchError(f"a worker process could not start: it {self.how_it_died()}; "
                          f"its messages are above (command: {' '.join(self.proc.args[:3])} ...)")

    # ----------------------------------------------------- one job, blocking
    def run_one(self, job) -> dict:
        """Run ``job`` here and wait for its result, timeout or death (the
        Dask executor's per-worker path). The caller replaces a worker that
        is no longer alive afterwards (``alive``)."""
        while not self.ready:
            if not wait([self.inbox], timeout=_START_TIMEOUT):
                self.kill()
                raise self.start_failure()
            try:
                self.receive()
            except EOFError:
                raise self.start_failure() from None
        self.assign(job)
        while True:
            deadline = self.deadline()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not wait([self.inbox], timeout=remaining):
                result = self.timeout_result()
                self.kill()
                self.job = None
                return result
            try:
                message = self.receive()
            except EOFError:
                result = self.death_result()
                self.kill()
                self.job = None
                return result
            if message[0] == "result":
                self.job = None
                return message[2]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.inbox.closed


def run_pool(jobs: list, *, workers: list, make_worker):
    """Run ``jobs`` on ``workers`` (ChildWorkers, possibly still starting);
    yield ``(job, result)`` as each finishes, in completion order.

    ``make_worker(i)`` starts the replacement for slot ``i`` after a timeout
    or a death. Raises ``BenchError`` if workers cannot start at all.
    """
    pending = deque(jobs)
    start_failures = 0
    while pending or any(w.busy for w in workers):
        for w in workers:
            if w.ready and not w.busy and pending:
                w.assign(pending.popleft())
        now = time.monotonic()
        deadlines = [d for d in (w.deadline() for w in workers) if d is not None]
        deadlines += [w.born + _START_TIMEOUT for w in workers if not w.ready]
        timeout = max(0.0, min(deadlines) - now) if deadlines else None
        ready = wait([w.inbox for w in workers], timeout=timeout)
        for i, w in enumerate(workers):
            if w.inbox not in ready:
                continue
            try:
                message = w.receive()
            except EOFError:
                if not w.busy:
                    start_failures += 1
                    if start_failures >= 2:
                        raise w.start_failure()
                    workers[i] = make_worker(i)
                    continue
                job, result = w.job, w.death_result()
                w.kill()
                workers[i] = make_worker(i)
                yield job, result
                continue
            if message[0] == "ready":
                start_failures = 0
            elif message[0] == "result":
                job, w.job = w.job, None
                yield job, message[2]
        now = time.monotonic()
        for i, w in enumerate(workers):
            deadline = w.deadline()
            if deadline is not None and now >= deadline:
                job, result = w.job, w.timeout_result()
                w.kill()
                workers[i] = make_worker(i)
                yield job, result
            elif not w.ready and now >= w.born + _START_TIMEOUT:
                w.kill()
                raise w.start_failure()
