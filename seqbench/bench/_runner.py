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

import dataclasses
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..results import FAILED_STATUSES, ResultsStore
from ._errors import BenchError
from ._executors import make_executor
from ._plan import job_cost, make_plan, resolve_suite, with_runtime
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
    return Path("reports") / suite_name


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

    def check(self) -> None:
        """Raise ``BenchError`` for values no run can use."""
        if self.jobs < 1:
            raise BenchError(f"jobs must be at least 1, got {self.jobs}")
        if self.timeout is not None and self.timeout <= 0:
            raise BenchError(f"timeout must be a positive number of seconds, got {self.timeout}")

    def recorded(self) -> dict:
        """The options stored with the run."""
        return {"executor": self.executor, "jobs": self.jobs, "address": self.address,
                "rerun_failed": self.rerun_failed, "force": self.force}


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
        resolved = resolve_suite(suite)
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
    stored = store.statuses()
    store.record_plan(run_id, plan)
    todo = [j for j in plan.jobs if _should_run(stored.get(j.key), rerun_failed=opts.rerun_failed, force=opts.force)]
    todo.sort(key=job_cost, reverse=True)  # slow families first: better packing on the workers
    todo = [with_runtime(j, threads=opts.threads, timeout=opts.timeout) for j in todo]
    bar = Progress(len(todo), bar=opts.progress, stream=opts.stream, description=plan.suite.name)
    status = "interrupted"
    try:
        for job, result in ex.map(todo):
            store.write_result(run_id, job, result)
            bar.update(job, result)
        status = "finished"
    finally:
        bar.close()
        counts = _plan_counts(store, run_id)
        store.end_run(run_id, status=status, counts=counts)
    summary = RunSummary(store=store.path, run_id=run_id, planned=len(plan.jobs), skipped=len(plan.jobs) - len(todo),
                         ran=len(todo), counts={s: n for s, n in counts.items() if s != "n/a"},
                         n_na=counts.get("n/a", 0), seconds=time.monotonic() - started, warnings=plan.warnings)
    return summary


def _should_run(status: str | None, *, rerun_failed: bool, force: bool) -> bool:
    if force or status is None:
        return True
    return rerun_failed and status in FAILED_STATUSES


def _plan_counts(store, run_id: int) -> dict:
    return store.status_counts(run_id)
