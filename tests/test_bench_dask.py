"""The Dask executor against a real `dask scheduler` and two `dask worker`
processes on 127.0.0.1, started here (free ports, bounded waits, stopped in
a finalizer): the same metrics as the serial executor, and a job that kills
its process is stored as failed while the workers go on."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqbench.bench import ResultsStore, parse_suite, run_suite

HERE = Path(__file__).parent

SUITE = """
[suite]
plugins = ["bench_helpers"]
name = "dask"
seeds = [0, 1]

[[datasets]]
name = "bench_helpers:tiny_classify"

[[models]]
name = "bench_helpers:MeanClassifier"
[[models]]
name = "bench_helpers:NoisyMeanClassifier"
"""
KILLER = """
[[models]]
name = "bench_helpers:Misbehaving"
params = { mode = "exit" }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_workers(address: str, n: int, timeout: float) -> None:
    from distributed import Client

    with Client(address, timeout=f"{timeout}s") as client:
        client.wait_for_workers(n, timeout=timeout)


@pytest.fixture
def dask_cluster(request, tmp_path):
    """``tcp://127.0.0.1:PORT`` of a scheduler with two single-threaded workers."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    logs = open(tmp_path / "dask.log", "wb")
    procs = []

    def stop():  # each worker, then the scheduler (closing them together can hang a worker)
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        logs.close()

    request.addfinalizer(stop)
    procs.append(subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], env=env, stdout=logs, stderr=subprocess.STDOUT))
    for _ in range(2):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny",
             "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60"],
            env=env, stdout=logs, stderr=subprocess.STDOUT))
    try:
        _wait_for_workers(address, 2, timeout=90)
    except (OSError, TimeoutError) as exc:
        pytest.fail(f"the test's Dask cluster did not start: {exc}\n{(tmp_path / 'dask.log').read_text()[-3000:]}")
    return address


def test_dask_scheduler_and_two_workers(dask_cluster, tmp_path):
    start = time.monotonic()
    summary = run_suite(parse_suite(SUITE + KILLER), out=tmp_path / "dask", executor="dask", address=dask_cluster,
                        progress=False, stream=io.StringIO())
    assert time.monotonic() - start < 120
    assert summary.counts == {"ok": 4, "failed": 2}
    with ResultsStore.open_reader(tmp_path / "dask" / "results.sqlite") as store:
        rows = store.jobs()
        assert store.integrity_check() == "ok"
    for killed in (r for r in rows if r["model_label"] == "Misbehaving"):
        assert killed["status"] == "failed" and "exited with status 3" in killed["error"]
    ok = {r["key"]: r for r in rows if r["status"] == "ok"}
    assert all(r["worker"].startswith("dask tcp://127.0.0.1:") for r in ok.values())

    serial = run_suite(parse_suite(SUITE), out=tmp_path / "serial", executor="serial", progress=False,
                       stream=io.StringIO())
    assert serial.counts == {"ok": 4}
    with ResultsStore.open_reader(tmp_path / "serial" / "results.sqlite") as store:
        expected = {r["key"]: r["metrics"] for r in store.jobs()}
    assert {k: r["metrics"] for k, r in ok.items()} == expected
