"""The runner's edge paths: non-finite timeouts, a full disk, read-only
media, a killed run, ``sys.exit`` and a segfault inside a job, parameters
that only a model's ``fit`` used to check, and very large grids."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from seqbench.bench import BenchError, ResultsStore, StoreError, SuiteError, parse_suite, run_suite
from seqbench.cli import main

HERE = Path(__file__).parent

SUITE = """
[suite]
plugins = ["bench_helpers"]
name = "edges"
seeds = [0]

[[datasets]]
name = "bench_helpers:tiny_classify"
options = { n_train = 12, n_test = 6 }

[[models]]
name = "bench_helpers:MeanClassifier"
"""


def _suite(tmp_path, extra: str = "", head: str = "") -> Path:
    path = tmp_path / "edges.toml"
    path.write_text(SUITE.replace('seeds = [0]\n', f"seeds = [0]\n{head}") + extra)
    return path


# ---------------------------------------------------------------- timeouts


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_non_finite_suite_timeouts_are_rejected_at_validation(value):
    with pytest.raises(SuiteError, match=r"line 6, key suite.timeout: must be a positive, finite number") as info:
        parse_suite(SUITE.replace("seeds = [0]\n", f"seeds = [0]\ntimeout = {value}\n"))
    assert value.lstrip("-") in str(info.value)


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_run_timeouts_are_rejected_before_anything(value, tmp_path):
    with pytest.raises(BenchError, match="timeout must be a positive, finite number of seconds"):
        run_suite(_suite(tmp_path), timeout=value, out=tmp_path / "out", executor="serial")
    with pytest.raises(BenchError, match="connect_timeout must be a positive, finite number"):
        run_suite(_suite(tmp_path), connect_timeout=value, out=tmp_path / "out", executor="serial")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["inf", "nan", "Infinity"])
def test_non_finite_timeout_flags_are_usage_errors(value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--suite", "quick", "--timeout", value])
    assert exit_.value.code == 2
    assert f"--timeout: must be a positive, finite number, got {value}" in capsys.readouterr().err


# ------------------------------------------------------- disk and media


def test_a_full_disk_is_one_line_and_exit_1_and_the_store_stays_sound(tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    suite = _suite(tmp_path, '[[models]]\nname = "bench_helpers:NoisyMeanClassifier"\n')
    assert main(["run", "--suite", str(suite), "--out", str(out), "--executor", "serial", "--no-progress",
                 "--no-report", "--force"]) == 0
    capsys.readouterr()

    def full(self, row, *, artefacts):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ResultsStore, "_replace_job", full)
    code = main(["run", "--suite", str(suite), "--out", str(out), "--executor", "serial", "--no-progress",
                 "--no-report", "--force"])
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert code == 1
    assert line.startswith(f"seqbench: error: cannot write to the results store {out / 'results.sqlite'}: "
                           "database or disk is full; free some disk space")
    monkeypatch.undo()
    with ResultsStore.open_reader(out / "results.sqlite") as store:
        assert store.integrity_check() == "ok"
        assert [r["status"] for r in store.runs()] == ["finished", "interrupted"]
        assert sorted(r["status"] for r in store.jobs()) == ["ok", "ok"]  # the first run's, untouched


def test_a_read_only_store_is_reported_in_one_line(tmp_path):
    with ResultsStore.open_writer(tmp_path / "results.sqlite"):
        pass
    # a real SQLite refusal: the file opened read-only, as on read-only media
    conn = sqlite3.connect(f"file:{tmp_path / 'results.sqlite'}?mode=ro", uri=True, isolation_level=None)
    store = ResultsStore(tmp_path / "results.sqlite", conn=conn)
    with pytest.raises(StoreError, match=r"attempt to write a readonly database; the file or its folder is not "
                                         r"writable \(read-only media\?\); choose another output folder"):
        store.mark_in_flight("x")
    store.close()


def test_stores_on_read_only_media_are_read_without_writing_beside_them(tmp_path, monkeypatch, capsys):
    out = tmp_path / "media"
    assert main(["run", "--suite", str(_suite(tmp_path)), "--out", str(out), "--executor", "serial",
                 "--no-progress", "--no-report"]) == 0
    before = sorted(p.name for p in out.iterdir())
    assert "results.sqlite-wal" not in before and "results.sqlite-shm" not in before
    real_access = os.access
    # the tests run as root, for whom chmod does not bite: the media says "not writable" through os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p).resolve().is_relative_to(out.resolve())
                        else real_access(p, mode, **kw))
    capsys.readouterr()
    assert main(["results", str(out / "results.sqlite")]) == 0
    assert "bench_helpers:MeanClassifier" not in capsys.readouterr().err
    assert main(["report", str(out / "results.sqlite"), "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "index.html").is_file()
    # a normal (WAL) reader creates results.sqlite-shm beside the file; an immutable one writes nothing
    assert sorted(p.name for p in out.iterdir()) == before


# ----------------------------------------------------- killed and crashed runs


def test_a_killed_runs_running_row_is_marked_interrupted_on_resume(tmp_path):
    path = tmp_path / "results.sqlite"
    suite = parse_suite(SUITE)
    store = ResultsStore.open_writer(path)
    store.begin_run(suite=suite, executor="serial", n_workers=1, threads=1, timeout=None, options={},
                    command="x", environment={})
    store.close()  # no end_run: the process was killed
    with ResultsStore.open_reader(path) as reader:
        assert [r["status"] for r in reader.runs()] == ["running"]
    with ResultsStore.open_writer(path):
        pass
    with ResultsStore.open_reader(path) as reader:
        assert [r["status"] for r in reader.runs()] == ["interrupted"]


def test_sys_exit_in_a_serial_job_is_recorded_failed_and_the_run_goes_on(tmp_path):
    suite = _suite(tmp_path, '[[models]]\nname = "bench_helpers:Misbehaving"\nparams = { mode = "sysexit" }\n')
    summary = run_suite(suite, out=tmp_path / "out", executor="serial", progress=False)
    assert (summary.ran, summary.counts) == (2, {"ok": 1, "failed": 1})
    with ResultsStore.open_reader(summary.store) as store:
        (failed,) = store.jobs(status="failed")
        assert failed["error"] == "SystemExit: the job called sys.exit(0)"
        assert [r["status"] for r in store.runs()] == ["finished"]


def test_a_segfaulting_serial_job_is_recorded_failed_and_skipped_on_resume(tmp_path):
    suite = _suite(tmp_path, '[[models]]\nname = "bench_helpers:Misbehaving"\nparams = { mode = "segfault" }\n'
                             '[[models]]\nname = "bench_helpers:MeanClassifier"\nlabel = "after"\nparams = { C = 0.5 }\n')
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "seqbench", "run", "--suite", str(suite), "--out", str(out), "--executor", "serial",
           "--no-progress", "--no-report"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == -11, first.stderr  # SIGSEGV took the whole process down
    # the resume records the crashed job and runs the rest; then a run with nothing left to do
    for says in ("3 jobs (2 already stored, 1 run): 1 failed, 2 ok", "3 jobs (3 already stored, 0 run): 1 failed, 2 ok"):
        again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert says in again.stdout
    with ResultsStore.open_reader(out / "results.sqlite") as store:
        (failed,) = store.jobs(status="failed")
        assert failed["model"] == "bench_helpers:Misbehaving" and failed["attempts"] == 1
        assert failed["error"].startswith("the process died while running this job under the serial executor")
        assert "--rerun-failed --executor process" in failed["error"]
        assert store.in_flight() is None
        assert [r["status"] for r in store.runs()] == ["interrupted", "finished", "finished"]


# ------------------------------------------------ parameters at plan time


@pytest.mark.parametrize("model, says, key, line", [
    ('name = "RNNClassifier"\nparams = { device = "tpu:7" }',
     "RNNClassifier: device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got 'tpu:7'", "models[1].params.device", 15),
    ('name = "FeatureClassifier"\nparams = { ngram_range = [3, 1] }',
     "FeatureClassifier: ngram_range must be a pair of integers (lo, hi) with 1 <= lo <= hi, got (3, 1)",
     "models[1].params.ngram_range", 15),
    ('name = "RNNClassifier"\nparams = { tbptt = 5 }\ngrid = { bidirectional = [false, true] }',
     "RNNClassifier(bidirectional=True): RNNClassifier: tbptt=5 needs a unidirectional network",
     "models[1].params.tbptt", 15),  # the grid point is named in the message
])
def test_parameters_only_fit_used_to_check_fail_at_plan_time(model, says, key, line, tmp_path):
    from seqbench.bench._plan import resolve_suite

    path = _suite(tmp_path, f"[[models]]\n{model}\n")
    with pytest.raises(SuiteError) as info:
        resolve_suite(parse_suite(path.read_text(), path=path))
    assert (info.value.key, info.value.line) == (key, line)
    assert says in str(info.value) and str(path) in str(info.value)


def test_too_many_rolling_origins_fail_at_plan_time(tmp_path):
    out = tmp_path / "out"
    suite = ('[suite]\nname = "origins"\nplugins = ["bench_helpers"]\n'
             '[evaluation.forecast]\nprotocol = "rolling_origin"\nn_origins = 1000\n'
             '[[datasets]]\nname = "bench_helpers:tiny_forecast"\n'
             '[[models]]\nname = "bench_helpers:LastValueForecaster"\n')
    (tmp_path / "origins.toml").write_text(suite)
    with pytest.raises(SuiteError) as info:
        run_suite(tmp_path / "origins.toml", out=out, executor="serial")
    assert (info.value.key, info.value.line) == ("evaluation.forecast.n_origins", 6)
    assert ("dataset 'bench_helpers:tiny_forecast': rolling origin fold 0: series 0: a series of 44 steps is too "
            "short for 1000 origins") in str(info.value)
    with ResultsStore.open_reader(out / "results.sqlite") as store:
        assert (store.runs(), store.jobs(run_id=None)) == ([], [])  # no job ran


def test_a_large_plan_starts_with_one_warning_line(tmp_path, monkeypatch):
    import io

    from seqbench.bench import _plan

    monkeypatch.setattr(_plan, "MANY_JOBS", 3)
    stream = io.StringIO()
    summary = run_suite(_suite_seeds(tmp_path, 4), out=tmp_path / "out", executor="serial", progress=False, stream=stream)
    assert summary.planned == 4
    (line,) = [ln for ln in stream.getvalue().splitlines() if ln.startswith("warning:")]
    assert line == ("warning: this suite plans 4 jobs (more than 3): check its grids, sweeps and seeds, "
                    "or stop it with Ctrl-C (finished jobs are kept)")


def _suite_seeds(tmp_path, n: int) -> Path:
    path = tmp_path / "seeds.toml"
    path.write_text(SUITE.replace("seeds = [0]", f"seeds = {n}"))
    return path
