"""The runner's subcommands: ``run``, ``results`` and ``list``.

``add_subcommands(subparsers)`` adds them to the ``seqbench`` command's
subparsers (each sets ``handler``, which returns the exit status, as
``seqbench.cli`` expects); ``python -m seqbench.bench`` runs them on their
own. Exit status: 0 when the command did its work (a run whose jobs failed
still exits 0: failures are results, stored and listed), 1 for bad input
(one line on stderr, no traceback), 2 for bad usage (argparse), 130 when
interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ._errors import BenchError
from ._executors import EXECUTORS

__all__ = ["add_subcommands", "main"]


def add_subcommands(subparsers) -> None:
    """Add ``run``, ``results`` and ``list`` to an argparse subparsers object."""
    run = subparsers.add_parser(
        "run", help="run a benchmark suite into a results store",
        description="Run every job of a suite (datasets x models x seeds x folds) and store each result "
                    "in OUT/results.sqlite. Jobs already stored are skipped, so an interrupted run resumes.",
    )
    run.add_argument("--suite", required=True, help="a shipped suite (quick, standard, long-range) or a .toml file")
    run.add_argument("--jobs", type=int, default=1, metavar="N",
                     help="worker processes (process executor) or local Dask workers (default 1)")
    run.add_argument("--executor", choices=EXECUTORS, default="process",
                     help="serial (in this process), process (local workers; default) or dask")
    run.add_argument("--address", help="Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)")
    run.add_argument("--timeout", type=float, metavar="S", help="seconds per job (default: the suite's, else none)")
    run.add_argument("--out", metavar="DIR", help="output folder (default reports/<suite name>/)")
    run.add_argument("--threads", type=int, metavar="N",
                     help="threads per worker for torch and BLAS (default: the CPUs divided among the workers)")
    run.add_argument("--rerun-failed", action="store_true", help="run again the jobs stored as failed, timeout or diverged")
    run.add_argument("--force", action="store_true", help="run every job again, even those stored as ok")
    run.add_argument("--connect-timeout", type=float, default=10.0, metavar="S",
                     help="seconds to wait for a Dask scheduler and its first worker (default 10)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar (failed jobs are still printed)")
    run.add_argument("--no-report", action="store_true",
                     help="only store the results; `seqbench report` writes the report later")
    run.set_defaults(handler=_cmd_run)

    results = subparsers.add_parser("results", help="print what a results store holds, failed jobs included")
    results.add_argument("file", help="a results.sqlite written by seqbench run")
    results.add_argument("--all-runs", action="store_true", help="every stored job, not only the latest run's")
    results.add_argument("--jobs", action="store_true", help="also list every job")
    results.set_defaults(handler=_cmd_results)

    lister = subparsers.add_parser("list", help="list models, datasets or suites")
    lister.add_argument("what", choices=("models", "datasets", "suites"))
    lister.set_defaults(handler=_cmd_list)


def _guard(func):
    def wrapped(args) -> int:
        try:
            return func(args)
        except BenchError as exc:
            print(f"seqbench: error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("seqbench: interrupted; finished jobs are stored, run the same command to resume", file=sys.stderr)
            return 130
        except BrokenPipeError:  # `seqbench results ... | head`: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    return wrapped


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # SIGTERM ends a run like Ctrl-C: workers stopped, the run marked interrupted


@_guard
def _cmd_run(args) -> int:
    from ._runner import run_suite

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)
    summary = run_suite(
        args.suite, out=args.out, executor=args.executor, jobs=args.jobs, timeout=args.timeout,
        address=args.address, rerun_failed=args.rerun_failed, force=args.force, threads=args.threads,
        progress=not args.no_progress, connect_timeout=args.connect_timeout,
    )
    print(summary.line())
    if not args.no_report:
        from ..report import write_report

        print(f"report: {write_report(summary.store)}")
    return 0


@_guard
def _cmd_results(args) -> int:
    from ._store import ResultsStore
    from ._table import format_results

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


@_guard
def _cmd_list(args) -> int:
    if args.what == "models":
        from ..models import REGISTRY

        lines = [(name, cls.capabilities.task, cls.capabilities.family, ",".join(sorted(cls.capabilities.input_kinds)))
                 for name, cls in sorted(REGISTRY.items())]
        _print_columns(("model", "task", "family", "inputs"), lines)
    elif args.what == "datasets":
        from ..datasets import get_card, list_datasets

        cards = [get_card(name) for name in list_datasets()]
        _print_columns(("dataset", "task", "source", "title"),
                       [(c.name, c.task, c.kind, c.title) for c in cards])
    else:
        from ._suite import load_suite, shipped_suites

        lines = []
        for name in shipped_suites():
            suite = load_suite(name)
            lines.append((name, f"{len(suite.datasets)} datasets, {len(suite.models)} models, {len(suite.seeds)} seeds",
                          suite.description))
        _print_columns(("suite", "size", "description"), lines)
    return 0


def _print_columns(header, lines) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    for line in [header, *lines]:
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())


def main(argv=None) -> int:
    """``python -m seqbench.bench run|results|list ...``."""
    parser = argparse.ArgumentParser(prog="python -m seqbench.bench", description="seqbench's benchmark runner")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)
