"""The ``seqbench`` command line: one parser, one error path, one exit-status
convention.

Every command is one ``add_<name>_command(subparsers)`` function that adds
its parser and sets ``handler`` (a function of the parsed arguments that
returns the exit status) and, optionally, ``usage_check`` (a function that
returns a usage problem argparse cannot see, or None). ``COMMANDS`` lists
them; adding a command means writing its function and adding it there.

Handlers import the layer they drive (``seqbench.bench``,
``seqbench.report``, ...) when they run, on purpose: those layers load
numpy, pandas, matplotlib or torch, and ``seqbench --help`` should not.

Exit status: 0 the command did its work (a run whose jobs failed included:
failures are results, stored and listed); 1 a failure, with one line on
stderr and no traceback (bad input such as a malformed suite, a missing or
foreign store, an unknown dataset, a failed download); 2 bad usage (an
unknown command or option, a bad option value); 130 interrupted (Ctrl-C or
SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from ._args import CommandError
from ._bench import add_list_command, add_results_command, add_run_command
from ._datasets import add_datasets_command
from ._report import add_report_command

__all__ = ["main", "build_parser", "COMMANDS", "CommandError"]

COMMANDS = [add_run_command, add_results_command, add_report_command, add_list_command, add_datasets_command]

# Errors whose message is the whole story for a command-line user (bad input,
# seqbench.results.InputError, is a ValueError).
_FAILURES = (CommandError, LookupError, ValueError, OSError, RuntimeError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seqbench", description="Sequence models behind one scikit-learn interface, and a benchmark runner.",
        epilog="Exit status: 0 done; 1 failure (one line on stderr); 2 bad usage; 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"seqbench {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns
    the exit status (argparse exits 2 itself on bad usage)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "usage_check", None)
    problem = check(args) if check else None
    if problem:
        parser.error(problem)
    try:
        return args.handler(args)
    except KeyboardInterrupt as exc:
        print(f"seqbench: interrupted{'; ' + str(exc) if str(exc) else ''}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `seqbench results ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except _FAILURES as exc:
        print(f"seqbench: error: {exc}", file=sys.stderr)
        return 1
