"""``run_suite``: validate, plan, skip what is stored, run the rest, record.

Order of work, so that bad input fails before any job runs:

1. the suite is parsed; local worker processes (``process`` executor) start
   importing their libraries meanwhile, and are stopped if anything below
   fails;
2. every name and parameter of the suite is checked;
3. the output folder is created and a write is tried;
4. the store is opened (or created) and its writer lock taken;
5. the ``dask`` executor connects (a scheduler must answer within the
   bounded wait);
6. the datasets are loaded and fingerprinted and the jobs planned;
7. jobs already stored are skipped (all of them by default; failed ones are
   rerun with ``rerun_failed``; everything with ``force``), the rest run,
   most expensive families first, and each result is committed as it comes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..results import FAILED_STATUSES, ResultsStore, StoreError
from ._errors import BenchError
from ._executors import make_executor
from ._job import failure_result
from ._plan import check_plugins, job_cost, make_plan, resolve_suite, with_runtime
from ._progress import Progress
from ._resources import available_cpus, environment, thread_budget
from ._suite import load_suite

__all__ = ["run_suite", "RunOptions", "RunSummary", "default_out_dir"]


@dataclass
class RunSummary:
    """What a run did. ``counts`` maps each status to the number of jobs of
    this run's plan stored with it (skipped ones included)."""

    store: Path
    run_id: int
    planned: int
    skipped: int
    ran: int
    counts: dict = field(default_factory=dict)
    n_na: int = 0
    seconds: float = 0.0
    warnings: list = field(default_factory=list)

    def line(self) -> str:
        parts = ", ".join(f"{n} {s}" for s, n in sorted(self.counts.items()))
        return (f"{self.planned} jobs ({self.skipped} already stored, {self.ran} run): {parts or 'none'}; "
                f"{self.n_na} n/a pairings; {self.seconds:.1f} s; results in {self.store}")


def default_out_dir(suite_name: str) -> Path:
    """``reports/<suite_name>``; a name that would lead elsewhere (``..``,
    a path) is refused, whatever the suite parser let through."""
    root = Path("reports")
    out = root / suite_name
    if suite_name in ("", ".", "..") or out.parent != root or out.resolve().parent != root.resolve():
        raise BenchError(f"the suite name {suite_name!r} is not a plain folder name under {root}/; "
                         "rename the suite or choose an output folder")
    return out


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".seqbench-write-test-"):
            pass
    except OSError as exc:
        raise BenchError(f"cannot write to the output folder {folder}: {exc.strerror or exc}; "
                         "choose another output folder") from None


@dataclass(frozen=True)
class RunOptions:
    """How to run a suite.

    out : output folder (default ``reports/<suite name>/``); the store is
        ``out/results.sqlite``
    executor : "serial", "process" (default) or "dask"
    jobs : worker processes (process) or local Dask workers
    timeout : seconds per job (default: the suite's ``timeout``, else none)
    address : a Dask scheduler's address (dask only; default a local cluster)
    rerun_failed : run again the jobs stored as failed, timeout or diverged
    force : run every job again, even those stored as ok
    threads : per-worker thread budget; default all CPUs for ``serial``,
        ``cpus // jobs`` for ``process`` and each machine's share under ``dask``
    progress : show a progress bar on ``stream``
    connect_timeout : seconds to wait for a Dask scheduler and its first worker
    stream : where warnings and progress go (default ``sys.stderr``)
    command : the command line recorded with the run (default ``sys.argv``)
    allow_plugins : import any plug-in (``module:object``) the suite names,
        not only those its ``plugins`` list allows (see ``_plugins``)
    """

    out: str | Path | None = None
    executor: str = "process"
    jobs: int = 1
    timeout: float | None = None
    address: str | None = None
    rerun_failed: bool = False
    force: bool = False
    threads: int | None = None
    progress: bool = True
    connect_timeout: float = 10.0
    stream: object = None
    command: str | None = None
    allow_plugins: bool = False

    def check(self) -> None:
        """Raise ``BenchError`` for values no run can use."""
        if self.jobs < 1:
            raise BenchError(f"jobs must be at least 1, got {self.jobs}")
        # nan compares false with everything, so each bound is spelled to fail for it
        if self.timeout is not None and not 0 < self.timeout < math.inf:
            raise BenchError(f"timeout must be a positive, finite number of seconds (None for no limit), "
                             f"got {self.timeout}")
        if not 0 < self.connect_timeout < math.inf:
            raise BenchError(f"connect_timeout must be a positive, finite number of seconds, "
                             f"got {self.connect_timeout}")

    def recorded(self) -> dict:
        """The options stored with the run."""
        return {"executor": self.executor, "jobs": self.jobs, "address": self.address,
                "rerun_failed": self.rerun_failed, "force": self.force, "allow_plugins": self.allow_plugins}


def run_suite(suite, options: RunOptions | None = None, **fields) -> RunSummary:
    """Run a suite (a ``Suite``, a path or a shipped suite's name) with
    ``options`` (a :class:`RunOptions`; keyword ``fields`` replace its
    fields: ``run_suite("quick", jobs=2)``) into ``out/results.sqlite``.

    Raises ``BenchError`` (or its subclasses) for bad input, before any job runs.
    """
    opts = dataclasses.replace(options or RunOptions(), **fields)
    opts.check()
    started = time.monotonic()
    suite = load_suite(suite)
    check_plugins(suite, allow_plugins=opts.allow_plugins)  # before workers preload the plug-ins' modules
    out_dir = Path(opts.out) if opts.out is not None else default_out_dir(suite.name)
    threads = opts.threads
    if threads is None and opts.executor != "dask":
        threads = available_cpus() if opts.executor == "serial" else thread_budget(opts.jobs)
    opts = dataclasses.replace(opts, threads=threads, stream=opts.stream or sys.stderr,
                               timeout=opts.timeout if opts.timeout is not None else suite.timeout)
    ex = make_executor(opts.executor, n_workers=opts.jobs, threads=threads, address=opts.address,
                       connect_timeout=opts.connect_timeout, log_dir=out_dir / "logs", preload=_preload_modules(suite))
    early = opts.executor == "process"  # local workers import their libraries while the suite is checked
    if early:
        ex.start()
    try:
        resolved = resolve_suite(suite, allow_plugins=opts.allow_plugins)
        _check_writable(out_dir)
        with ResultsStore.open_writer(out_dir / "results.sqlite") as store:
            if not early:
                ex.start()
            plan = make_plan(resolved)
            for warning in plan.warnings:
                print(f"warning: {warning}", file=opts.stream)
            return _execute(store, plan, ex, opts, started=started)
    finally:
        ex.close()


def _preload_modules(suite) -> tuple:
    """Modules a worker imports before its first job, from the model names
    alone (nothing is imported here): the registry's package, or the module
    of each ``module:Class``."""
    return tuple(sorted({m.name.partition(":")[0] if ":" in m.name else "seqbench.models" for m in suite.models}))


def _execute(store, plan, ex, opts: RunOptions, *, started: float) -> RunSummary:
    run_id = store.begin_run(
        suite=plan.suite, executor=ex.name, n_workers=ex.n_workers, threads=opts.threads, timeout=opts.timeout,
        options=opts.recorded(), command=opts.command or " ".join(sys.argv), environment=environment(),
    )
    store.record_plan(run_id, plan)
    _record_crashed_job(store, run_id, plan)
    stored = store.statuses()
    todo = [j for j in plan.jobs if _should_run(stored.get(j.key), rerun_failed=opts.rerun_failed, force=opts.force)]
    todo.sort(key=job_cost, reverse=True)  # slow families first: better packing on the workers
    todo = [with_runtime(j, threads=opts.threads, timeout=opts.timeout) for j in todo]
    bar = Progress(len(todo), bar=opts.progress, stream=opts.stream, description=plan.suite.name)
    try:
        for job, result in ex.map(_noting_in_flight(store, todo) if ex.name == "serial" else todo):
            store.write_result(run_id, job, result)
            bar.update(job, result)
    except BaseException:
        bar.close()
        # a full disk may refuse these too: the error already raised is the one to report
        with contextlib.suppress(StoreError):
            store.mark_in_flight(None)  # stopped (Ctrl-C, an error), not crashed
            store.end_run(run_id, status="interrupted", counts=_plan_counts(store, run_id))
        raise
    bar.close()
    counts = _plan_counts(store, run_id)
    store.end_run(run_id, status="finished", counts=counts)
    summary = RunSummary(store=store.path, run_id=run_id, planned=len(plan.jobs), skipped=len(plan.jobs) - len(todo),
                         ran=len(todo), counts={s: n for s, n in counts.items() if s != "n/a"},
                         n_na=counts.get("n/a", 0), seconds=time.monotonic() - started, warnings=plan.warnings)
    return summary


def _noting_in_flight(store, jobs):
    """The serial executor runs each job in this process and takes the next
    job from this iterator just before running it: noting its key here lets
    the next run know which job killed the process (a segfault, an abort)."""
    for job in jobs:
        store.mark_in_flight(job.key)
        yield job


def _record_crashed_job(store, run_id: int, plan) -> None:
    """The rule for a job during which a serial run's process died: the next
    run records it ``failed`` (saying so) instead of running it again, so one
    crashing job cannot crash every resume; ``rerun_failed`` or ``force``
    runs it again, best under the ``process`` executor, which isolates it."""
    key = store.in_flight()
    if key is None:
        return
    job = next((j for j in plan.jobs if j.key == key), None)
    if job is not None:
        message = ("the process died while running this job under the serial executor (a crash such as a "
                   "segfault, or a kill); it is recorded failed and not run again; run it with "
                   "--rerun-failed --executor process to isolate it")
        store.write_result(run_id, job, failure_result(job, "failed", message, worker="main process"))
    else:
        store.mark_in_flight(None)


def _should_run(status: str | None, *, rerun_failed: bool, force: bool) -> bool:
    if force or status is None:
        return True
    return rerun_failed and status in FAILED_STATUSES


def _plan_counts(store, run_id: int) -> dict:
    return store.status_counts(run_id)
