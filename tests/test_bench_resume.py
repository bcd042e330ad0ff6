"""A run killed with SIGKILL in the middle resumes: the same command finishes
the suite with no job lost or duplicated, the jobs finished before the kill
are kept as they were, and ``PRAGMA integrity_check`` is clean. The same
holds for tuned jobs, whose trials are stored with the job's row."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqbench.bench import ResultsStore

HERE = Path(__file__).parent
N_SEEDS = 24

SUITE = f"""
[suite]
name = "resume"
plugins = ["bench_helpers"]
seeds = {N_SEEDS}

[[datasets]]
name = "bench_helpers:tiny_classify"

[[models]]
name = "bench_helpers:SlowClassifier"
params = {{ seconds = 0.4 }}
"""
N_TRIALS = 3
TUNED = f"""
[suite]
name = "resume"
plugins = ["bench_helpers"]
seeds = {N_SEEDS}

[tuning]
trials = {N_TRIALS}

[[datasets]]
name = "bench_helpers:tiny_classify"

[[models]]
name = "bench_helpers:SlowClassifier"
params = {{ seconds = 0.1 }}
search = {{ C = {{ low = 0.01, high = 10.0, log = true }} }}
"""


def _ok_count(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM jobs WHERE status = 'ok'").fetchone()[0]
    except sqlite3.Error:  # not created yet, or schema not yet written
        return 0


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return any(line.startswith("State:") and "Z" in line for line in fh)
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("text", [SUITE, TUNED], ids=["fixed", "tuned"])
def test_sigkill_in_the_middle_then_resume(tmp_path, text):
    suite = tmp_path / "resume.toml"
    suite.write_text(text)
    out = tmp_path / "out"
    store_path = out / "results.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "seqbench", "run", "--suite", str(suite), "--jobs", "2", "--out", str(out),
           "--no-progress"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while _ok_count(store_path) < 3:
        assert first.poll() is None, first.stdout.read().decode()
        assert time.monotonic() < deadline, "the first run stored no results within 120 s"
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    with ResultsStore.open_reader(store_path) as store:
        before = {r["key"]: r for r in store.jobs()}
        workers = {int(r["worker"].split()[1]) for r in before.values()}
    assert 3 <= len(before) < N_SEEDS, "the kill must land in the middle of the run"
    # the workers die with their parent (PR_SET_PDEATHSIG): nothing is left running
    deadline = time.monotonic() + 15
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in workers)

    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"{N_SEEDS} jobs ({len(before)} already stored, {N_SEEDS - len(before)} run)" in second.stdout
    with ResultsStore.open_reader(store_path) as store:
        assert store.integrity_check() == "ok"
        after = {r["key"]: r for r in store.jobs()}
        runs = store.runs()
        total, distinct = store._conn.execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM jobs").fetchone()
        trials = {key: store.artefacts(key).get("trials") for key in after}
    assert (total, distinct) == (N_SEEDS, N_SEEDS)
    assert sorted(r["seed"] for r in after.values()) == list(range(N_SEEDS))
    assert all(r["status"] == "ok" and r["attempts"] == 1 for r in after.values())
    for key, row in before.items():  # kept exactly as the killed run wrote them
        assert after[key] == row
    assert [r["status"] for r in runs] == ["interrupted", "finished"]  # the resume closed the killed run
    if text is TUNED:  # every job has its whole set of trials, once, and the record that matches them
        for key, row in after.items():
            assert len(trials[key]) == row["tuning"]["n_trials"] == N_TRIALS
            assert [t["number"] for t in trials[key]] == list(range(N_TRIALS))
            assert row["tuning"]["chosen"] == max((t for t in trials[key] if t["state"] == "complete"),
                                                  key=lambda t: t["value"])["params"]
