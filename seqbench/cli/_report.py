"""``seqbench report RESULTS.sqlite [--out DIR]``: (re)write a store's report."""

from __future__ import annotations

import sys
import warnings

from ._args import fraction

__all__ = ["add_report_command"]


def add_report_command(subparsers) -> None:
    """Add ``report`` to the ``seqbench`` command's subparsers (sets ``handler``)."""
    parser = subparsers.add_parser(
        "report", help="write the HTML, Markdown and CSV report of a results store",
        description="Read a results store written by `seqbench run` (nothing is refitted) and write DIR/index.html "
                    "(self-contained: plots embedded, no network needed), DIR/summary.md and DIR/results.csv. "
                    "The files are replaced only once all three are complete.",
    )
    parser.add_argument("store", metavar="RESULTS.sqlite", help="a results.sqlite written by seqbench run")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: the store's folder)")
    parser.add_argument("--alpha", type=fraction, default=0.05,
                        help="significance level of the Friedman and Nemenyi tests (default 0.05)")
    parser.set_defaults(handler=_report)


def _report(args) -> int:
    from ..report import write_report

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        index = write_report(args.store, args.out, alpha=args.alpha)
    for warning in caught:
        if issubclass(warning.category, RuntimeWarning) and "seqbench report" in str(warning.message):
            print(f"warning: {warning.message}", file=sys.stderr)
    print(f"report: {index} (and summary.md, results.csv beside it)")
    return 0
