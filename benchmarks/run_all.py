"""Run every speed benchmark in this folder, one after another.

Usage: python benchmarks/run_all.py [--quick]

Each ``bench_*.py`` prints its own table of medians and ratios; this script
only runs them in turn (in separate processes, so one benchmark's threads and
caches do not affect the next) and exits non-zero if one of them crashed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.run([sys.executable, str(script), *argv]).returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"\nbenchmarks that crashed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
