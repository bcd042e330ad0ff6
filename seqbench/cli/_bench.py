"""The runner's commands: ``run``, ``results`` and ``list``.

Each handler imports the layer it drives when it runs (see ``_main``).
"""

from __future__ import annotations

import signal
import threading

from ._args import positive_float, positive_int

__all__ = ["add_run_command", "add_results_command", "add_list_command"]

EXECUTORS = ("serial", "process", "dask")


def add_run_command(subparsers) -> None:
    """``seqbench run --suite SUITE [...]``."""
    run = subparsers.add_parser(
        "run", help="run a benchmark suite into a results store",
        description="Run every job of a suite (datasets x models x seeds x folds) and store each result "
                    "in OUT/results.sqlite. Jobs already stored are skipped, so an interrupted run resumes. "
                    "Failed jobs are results: they are stored and listed, and the command still exits 0.",
    )
    run.add_argument("--suite", required=True, help="a shipped suite (quick, standard, long-range) or a .toml file")
    run.add_argument("--jobs", type=positive_int, default=1, metavar="N",
                     help="worker processes (process executor) or local Dask workers (default 1)")
    run.add_argument("--executor", choices=EXECUTORS, default="process",
                     help="serial (in this process), process (local workers; default) or dask")
    run.add_argument("--address", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    run.add_argument("--timeout", type=positive_float, metavar="S",
                     help="seconds per job (default: the suite's, else none)")
    run.add_argument("--out", metavar="DIR", help="output folder (default reports/<suite name>/)")
    run.add_argument("--threads", type=positive_int, metavar="N",
                     help="threads per worker for torch and BLAS (default: the CPUs divided among the workers)")
    run.add_argument("--rerun-failed", action="store_true", help="run again the jobs stored as failed, timeout or diverged")
    run.add_argument("--force", action="store_true", help="run every job again, even those stored as ok")
    run.add_argument("--connect-timeout", type=positive_float, default=10.0, metavar="S",
                     help="seconds to wait for a Dask scheduler and its first worker (default 10)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (failed jobs are still printed)")
    run.add_argument("--no-report", action="store_true",
                     help="only store the results; `seqbench report` writes the report later")
    run.set_defaults(handler=_run, usage_check=_check_run)


def _check_run(args) -> str | None:
    """A usage problem argparse cannot see, or None."""
    if args.address and args.executor != "dask":
        return "--address is for --executor dask"
    return None


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: workers stopped, the run marked interrupted


def _run(args) -> int:
    from ..bench import RunOptions, run_suite
    from ..report import write_report

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    options = RunOptions(
        out=args.out, executor=args.executor, jobs=args.jobs, timeout=args.timeout, address=args.address,
        rerun_failed=args.rerun_failed, force=args.force, threads=args.threads, progress=not args.no_progress,
        connect_timeout=args.connect_timeout,
    )
    try:
        summary = run_suite(args.suite, options)
    except KeyboardInterrupt:
        raise KeyboardInterrupt("finished jobs are stored; run the same command to resume") from None
    print(summary.line())
    if not args.no_report:
        print(f"report: {write_report(summary.store)}")
    return 0


def add_results_command(subparsers) -> None:
    """``seqbench results FILE [--all-runs] [--jobs]``."""
    results = subparsers.add_parser("results", help="print what a results store holds, failed jobs included")
    results.add_argument("file", help="a results.sqlite written by seqbench run")
    results.add_argument("--all-runs", action="store_true", help="every stored job, not only the latest run's")
    results.add_argument("--jobs", action="store_true", help="also list every job")
    results.set_defaults(handler=_results)


def _results(args) -> int:
    from ..results import ResultsStore
    from ._results_table import format_results

    with ResultsStore.open_reader(args.file) as store:
        runs = store.runs()
        rows = store.jobs(run_id=None if args.all_runs else "latest")
    if runs:
        last = runs[-1]
        counts = ", ".join(f"{n} {s}" for s, n in sorted((last.get("counts") or {}).items()))
        header = (f"{args.file}: suite {last['suite']}, run {last['run_id']} of {len(runs)} ({last['status']}, "
                  f"{last['started_at']} to {last['finished_at'] or '-'}; {counts or 'no jobs'})")
    else:
        header = f"{args.file}: no runs stored"
    print(format_results(rows, header=header, every_job=args.jobs))
    return 0


def add_list_command(subparsers) -> None:
    """``seqbench list models | datasets | suites``."""
    lister = subparsers.add_parser("list", help="list models, datasets or suites")
    lister.add_argument("what", choices=("models", "datasets", "suites"))
    lister.set_defaults(handler=_list)


def _list(args) -> int:
    if args.what == "models":
        from ..models import REGISTRY

        lines = [(name, cls.capabilities.task, cls.capabilities.family, ",".join(sorted(cls.capabilities.input_kinds)))
                 for name, cls in sorted(REGISTRY.items())]
        print_columns(("model", "task", "family", "inputs"), lines)
    elif args.what == "datasets":
        from ..datasets import get_card, list_datasets

        cards = [get_card(name) for name in list_datasets()]
        print_columns(("dataset", "task", "source", "title"), [(c.name, c.task, c.kind, c.title) for c in cards])
    else:
        from ..bench import load_suite, shipped_suites

        lines = []
        for name in shipped_suites():
            suite = load_suite(name)
            lines.append((name, f"{len(suite.datasets)} datasets, {len(suite.models)} models, {len(suite.seeds)} seeds",
                          suite.description))
        print_columns(("suite", "size", "description"), lines)
    return 0


def print_columns(header, lines) -> None:
    """Left-aligned columns, two spaces apart."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    for line in [header, *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
