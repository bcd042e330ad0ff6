"""Compare the stored metrics of two results stores job by job (same job keys).

Used to show that a refactor changes no result: run the same suite before
and after it, with the same seeds, into two folders, then

    python benchmarks/compare_results.py BEFORE/results.sqlite AFTER/results.sqlite

It prints each job whose status or metrics differ, with the largest relative
difference, and a summary line; it exits 1 when a status differs or a metric
differs by more than ``--rtol`` (default 1e-12).
"""

from __future__ import annotations

import argparse
import math
import sys

from seqbench.results import ResultsStore


def _jobs(path) -> dict:
    with ResultsStore.open_reader(path) as store:
        return {row["key"]: row for row in store.jobs(run_id="latest")}


def _relative(a, b) -> float:
    if a == b:
        return 0.0
    if a is None or b is None:
        return math.inf
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rtol", type=float, default=1e-12)
    args = parser.parse_args(argv)
    before, after = _jobs(args.before), _jobs(args.after)
    common = sorted(set(before) & set(after))
    print(f"jobs: {len(before)} before, {len(after)} after, {len(common)} with the same key")
    identical = close = differ = 0
    worst = 0.0
    for key in common:
        a, b = before[key], after[key]
        where = f"{a['task']} / {a['dataset_label']} / {a['model_label']} seed {a['seed']} fold {a['fold']}"
        if a["status"] != b["status"]:
            differ += 1
            print(f"STATUS {where}: {a['status']} -> {b['status']}")
            continue
        ma, mb = a["metrics"] or {}, b["metrics"] or {}
        rel = max((_relative(ma.get(n), mb.get(n)) for n in set(ma) | set(mb)), default=0.0)
        worst = max(worst, rel)
        if rel == 0.0:
            identical += 1
            continue
        close, differ = (close + 1, differ) if rel <= args.rtol else (close, differ + 1)
        changed = {n: (ma.get(n), mb.get(n)) for n in set(ma) | set(mb) if ma.get(n) != mb.get(n)}
        print(f"{'close ' if rel <= args.rtol else 'DIFFER'} {where}: relative {rel:.2e} {changed}")
    print(f"identical: {identical}; within rtol {args.rtol:g}: {close}; different: {differ}; "
          f"largest relative difference {worst:.2e}; keys only before: {len(set(before) - set(after))}, "
          f"only after: {len(set(after) - set(before))}")
    return 1 if differ or set(before) ^ set(after) else 0


if __name__ == "__main__":
    sys.exit(main())
