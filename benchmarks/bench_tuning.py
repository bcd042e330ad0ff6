"""Cost of the fair (tuned) protocol.

Usage:
    python benchmarks/bench_tuning.py quick [--untuned] [--jobs 2]
    python benchmarks/bench_tuning.py standard --datasets digits sunspots ... [--seeds 1] [--jobs 2]

Runs ``seqbench run`` (process executor, fresh output folder, the command a
user types, without the report) on the named suite and prints:

- the wall time and the load average before and after (on a shared
  machine other people's load inflates every time here);
- the job-seconds (tuning + refit + predict summed over jobs) and their
  ratio to refit + predict alone: the cost of tuning against an untuned run
  of the same contenders, measured within one run, so under one load;
- where the time goes: per task and family, the jobs' summed seconds of
  tuning (all trials), refit and prediction;
- the fraction of neural trials pruned, and trial counts by state;
- with ``--untuned``: the same suite with every ``search`` and the
  ``[tuning]`` table removed (each contender at its fixed parameters), for
  the cost of tuning against an untuned run.

``--datasets`` keeps only those datasets of the suite and ``--seeds N``
overrides its seeds (a measured subset, from which the cost of the whole
suite is estimated by the caller; see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _dump(doc: dict) -> str:
    """Enough TOML for a suite (tables, arrays of tables, inline values)."""
    lines = []
    for name, value in doc.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            for entry in value:
                lines.append(f"[[{name}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
                lines.append("")
        elif isinstance(value, dict):
            flat = {k: v for k, v in value.items() if not isinstance(v, dict)}
            nested = {k: v for k, v in value.items() if isinstance(v, dict)}
            lines.append(f"[{name}]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in flat.items()]
            for sub, table in nested.items():
                lines.append(f"[{name}.{sub}]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
            lines.append("")
    return "\n".join(lines)


def make_suite(name: str, *, untuned: bool, datasets: list | None, seeds: int | None) -> str:
    from seqbench.bench import shipped_suites

    doc = tomllib.loads(shipped_suites()[name].read_text(encoding="utf-8"))
    if datasets:
        doc["datasets"] = [d for d in doc["datasets"] if d["name"] in datasets]
        missing = set(datasets) - {d["name"] for d in doc["datasets"]}
        if missing:
            sys.exit(f"not in the {name} suite: {sorted(missing)}")
        keep = set(datasets)  # models restricted to datasets that are left out go too
        doc["models"] = [m for m in doc["models"] if "datasets" not in m or keep & set(m["datasets"])]
    if seeds is not None:
        doc["suite"]["seeds"] = seeds
    if untuned:
        doc.pop("tuning", None)
        for model in doc["models"]:
            model.pop("search", None)
    return _dump(doc)


def run(suite_text: str, jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "suite.toml"
        path.write_text(suite_text)
        load_before = os.getloadavg()
        start = time.perf_counter()
        cmd = [sys.executable, "-m", "seqbench", "run", "--suite", str(path), "--jobs", str(jobs),
               "--out", str(Path(tmp) / "out"), "--no-progress"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(done.stderr)
        rows = _rows(Path(tmp) / "out" / "results.sqlite")
    return {"wall": wall, "load": (load_before, os.getloadavg()), "rows": rows,
            "summary": done.stdout.strip().splitlines()[-1]}


def _rows(store: Path) -> list:
    with sqlite3.connect(store) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(
            "SELECT j.task, j.family, j.model_label, j.status, j.fit_seconds, j.predict_seconds, j.tuning, "
            "(SELECT data FROM artefacts a WHERE a.key = j.key AND a.name = 'trials') AS trials "
            "FROM jobs j WHERE j.status != 'n/a'")]


def report(result: dict) -> None:
    import json

    print(result["summary"])
    (l1, _, _), (l2, _, _) = result["load"]
    print(f"wall {result['wall']:.1f} s, load average {l1:.1f} before, {l2:.1f} after")
    cost = defaultdict(lambda: [0, 0.0, 0.0, 0.0])
    states = defaultdict(lambda: defaultdict(int))
    for r in result["rows"]:
        tuning = json.loads(r["tuning"]) if r["tuning"] else {}
        c = cost[(r["task"], r["family"])]
        c[0] += 1
        c[1] += tuning.get("tuning_seconds") or 0.0
        c[2] += r["fit_seconds"] or 0.0
        c[3] += r["predict_seconds"] or 0.0
        for t in json.loads(r["trials"]) if r["trials"] else []:
            states[r["family"]][t["state"]] += 1
    total = sum(c[1] + c[2] + c[3] for c in cost.values()) or 1.0
    untuned = sum(c[2] + c[3] for c in cost.values()) or 1.0
    print(f"job-seconds {total:.0f}; against refit + predict alone {total / untuned:.1f}x")
    print("\n| task | family | jobs | tuning s | refit (fit) s | predict s | share |\n|---|---|---|---|---|---|---|")
    for (task, family), (n, tune_s, fit_s, pred_s) in sorted(cost.items(), key=lambda kv: -sum(kv[1][1:])):
        print(f"| {task} | {family} | {n} | {tune_s:.1f} | {fit_s:.1f} | {pred_s:.1f} | "
              f"{(tune_s + fit_s + pred_s) / total:.0%} |")
    for family, by_state in sorted(states.items()):
        n = sum(by_state.values())
        print(f"{family}: {n} trials, " + ", ".join(f"{s} {k}" for s, k in sorted(by_state.items()))
              + (f"; pruned {by_state['pruned'] / n:.0%}" if n else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite")
    parser.add_argument("--untuned", action="store_true")
    parser.add_argument("--datasets", nargs="*")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    text = make_suite(args.suite, untuned=args.untuned, datasets=args.datasets, seeds=args.seeds)
    report(run(text, args.jobs))


if __name__ == "__main__":
    main()
