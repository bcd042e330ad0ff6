"""Running suites: the three executors agree, results are complete, failures
of every kind are stored with their reasons, finished jobs are skipped, and
bad input fails before any job runs.

Tiny data and tiny models (tests/bench_helpers.py, one real RNNClassifier
with 2 epochs) keep each run to a few seconds; most of that is starting the
worker processes.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from seqbench.bench import BenchError, ResultsStore, StoreError, SuiteError, parse_suite, run_suite
from seqbench.bench._resources import thread_budget

SUITE = """
[suite]
plugins = ["bench_helpers"]
name = "agree"
seeds = [0, 1]

[evaluation.forecast]
protocol = "rolling_origin"
n_origins = 2
step = 2

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "classify"
[[datasets]]
name = "bench_helpers:tiny_regress"
label = "regress"
[[datasets]]
name = "bench_helpers:tiny_forecast"
label = "forecast"

[[models]]
name = "bench_helpers:MeanClassifier"
[[models]]
name = "bench_helpers:NoisyMeanClassifier"
[[models]]
name = "bench_helpers:ThreadProbe"
[[models]]
name = "RNNClassifier"
label = "GRU"
params = { cell = "gru", hidden_size = 4, max_epochs = 2, batch_size = 16 }
[[models]]
name = "bench_helpers:MeanRegressor"
[[models]]
name = "bench_helpers:LastValueForecaster"
"""
N_JOBS = 2 * 4 + 2 + 2 * 2  # classify 4 models x 2 seeds, regress 2, forecast 2 seeds x 2 folds


def _quiet(**kwargs):
    return dict(progress=False, stream=io.StringIO(), **kwargs)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """The same suite through serial, process (2 workers) and dask (a local
    cluster of 2): the same thread budget per job in each."""
    root = tmp_path_factory.mktemp("agree")
    suite = parse_suite(SUITE, path="agree.toml")
    budget = thread_budget(2)
    summaries = {
        "serial": run_suite(suite, out=root / "serial", executor="serial", threads=budget, **_quiet()),
        "process": run_suite(suite, out=root / "process", executor="process", jobs=2, **_quiet()),
        "dask": run_suite(suite, out=root / "dask", executor="dask", jobs=2, **_quiet()),
    }
    return {name: (summary, root / name / "results.sqlite") for name, summary in summaries.items()}


def _rows(path, **kw):
    """Job rows by key (n/a rows, rewritten by every run, left out)."""
    with ResultsStore.open_reader(path) as store:
        return {r["key"]: r for r in store.jobs(**kw) if r["status"] != "n/a"}


def test_every_executor_gives_identical_metrics(stores):
    metrics = {}
    for name, (summary, path) in stores.items():
        assert summary.planned == summary.ran == N_JOBS
        assert summary.counts == {"ok": N_JOBS}
        rows = _rows(path)
        metrics[name] = {k: r["metrics"] for k, r in rows.items()}
    assert len(metrics["serial"]) == N_JOBS
    assert metrics["serial"] == metrics["process"] == metrics["dask"]
    # the seed matters: the noisy model scores differently on the two seeds
    noisy = sorted(r["metrics"]["accuracy"] for r in _rows(stores["serial"][1]).values()
                   if r["model_label"] == "NoisyMeanClassifier")
    assert noisy[0] != noisy[1]


def test_rows_hold_timings_memory_parameters_and_provenance(stores):
    _, path = stores["process"]
    rows = [r for r in _rows(path).values() if r["status"] == "ok"]
    for r in rows:
        assert r["fit_seconds"] >= 0 and r["predict_seconds"] >= 0
        assert r["peak_memory_mb"] > 10 and r["memory_method"] in ("vmhwm", "ru_maxrss")
        assert r["versions"]["seqbench"] and r["versions"]["numpy"]
        assert r["host"] == socket.gethostname() and r["worker"].startswith("pid ")
        assert r["started_at"] <= r["finished_at"]
        assert r["threads"] == thread_budget(2)
        assert r["main_metric"] in r["metrics"]
    by_model = {r["model_label"]: r for r in rows}
    assert by_model["MeanClassifier"]["n_parameters"] == 3  # coef (1, 2) + intercept
    with ResultsStore.open_reader(path) as store:
        gru = store.artefacts(by_model["GRU"]["key"])
        assert by_model["GRU"]["n_parameters"] > 0
        assert len(gru["learning_curve"]) == 2 and "train_loss" in gru["learning_curve"][0]
        cm = store.artefacts(by_model["MeanClassifier"]["key"])["confusion_matrix"]
        assert sum(map(sum, cm["matrix"])) == 20 and cm["labels"] == ["0", "1"]
        forecast = store.artefacts(by_model["LastValueForecaster"]["key"])["forecasts"]
        assert len(forecast["series"]) == 3 and len(forecast["series"][0]["forecast"]) == 4
        probe = store.artefacts(by_model["ThreadProbe"]["key"])["learning_curve"][0]
        run = store.runs()[-1]
        datasets = store.datasets()
    # each worker process applied its share of the CPUs to torch, BLAS and OpenMP
    budget = thread_budget(2)
    assert probe == {"torch_threads": budget, "blas_threads": budget, "omp_env": str(budget)}
    assert run["status"] == "finished" and run["suite_sha256"] and "[[datasets]]" in run["suite_text"]
    assert run["environment"]["versions"]["seqbench"] and run["environment"]["cpu_count"] >= 1
    assert {d["label"] for d in datasets} == {"classify", "regress", "forecast"}
    assert next(d for d in datasets if d["label"] == "classify")["meta"]["oracle"]["accuracy"] == 0.9


def test_finished_jobs_are_skipped_and_force_reruns_them(stores, tmp_path):
    suite = parse_suite(SUITE, path="agree.toml")
    _, path = stores["serial"]
    before = _rows(path)
    again = run_suite(suite, out=path.parent, executor="serial", **_quiet())
    assert (again.skipped, again.ran) == (N_JOBS, 0)
    assert _rows(path) == before  # nothing rewritten
    forced = run_suite(suite, out=path.parent, executor="serial", force=True, **_quiet())
    assert forced.ran == N_JOBS
    after = _rows(path)
    assert all(after[k]["attempts"] == 2 and after[k]["metrics"] == before[k]["metrics"] for k in before)
    with ResultsStore.open_reader(path) as store:
        assert [r["status"] for r in store.runs()] == ["finished"] * 3
        assert store.integrity_check() == "ok"


def test_results_command_prints_the_table(stores):
    _, path = stores["process"]
    out = subprocess.run([sys.executable, "-m", "seqbench", "results", str(path)],
                         capture_output=True, text=True, check=True).stdout
    rows = _rows(path)
    assert "classify / classify" in out and "forecast / forecast" in out and "failed jobs: 0" in out
    mean = [r for r in rows.values() if r["model_label"] == "MeanClassifier"]
    acc = sum(r["metrics"]["accuracy"] for r in mean) / len(mean)
    assert f"{acc:.3f}" in next(line for line in out.splitlines() if line.startswith("MeanClassifier "))


# ---------------------------------------------------------------- failures
FAILING = """
[suite]
plugins = ["bench_helpers"]
name = "failing"
seeds = [0]
timeout = 3

[[datasets]]
name = "bench_helpers:tiny_classify"

[[models]]
name = "bench_helpers:Misbehaving"
grid = { mode = ["raise", "nan", "sleep", "exit"] }

[[models]]
name = "bench_helpers:MeanClassifier"
grid = { C = [0.5, 1.0, 2.0] }
"""


def test_four_kinds_of_failure_are_stored_and_the_rest_run(tmp_path):
    stream = io.StringIO()
    summary = run_suite(parse_suite(FAILING, path="failing.toml"), out=tmp_path, jobs=2, progress=False,
                        stream=stream)
    assert summary.counts == {"ok": 3, "failed": 2, "diverged": 1, "timeout": 1}
    rows = {r["model_label"]: r for r in _rows(tmp_path / "results.sqlite").values()}
    raised = rows["Misbehaving(mode=raise)"]
    assert raised["status"] == "failed" and raised["error"] == "ValueError: deliberate failure in fit"
    assert "raise ValueError" in raised["traceback"]
    assert rows["Misbehaving(mode=nan)"]["status"] == "diverged"
    assert "NaN" in rows["Misbehaving(mode=nan)"]["error"]
    assert rows["Misbehaving(mode=sleep)"]["status"] == "timeout"
    assert rows["Misbehaving(mode=sleep)"]["error"].startswith("timed out after 3 s while fitting")
    assert rows["Misbehaving(mode=exit)"]["status"] == "failed"
    assert "exited with status 3 while fitting" in rows["Misbehaving(mode=exit)"]["error"]
    for c in ("0.5", "1.0", "2.0"):
        assert rows[f"MeanClassifier(C={c})"]["status"] == "ok"
        assert rows[f"MeanClassifier(C={c})"]["metrics"]["accuracy"] == 0.9
    lines = stream.getvalue().splitlines()  # one line per failed job, with its reason
    assert sorted(line.split()[0] for line in lines) == ["DIVERGED", "FAILED", "FAILED", "TIMEOUT"]
    assert any("deliberate failure in fit" in line for line in lines)

    # --rerun-failed runs exactly the four again (a shorter timeout keeps it quick)
    rerun = run_suite(parse_suite(FAILING, path="failing.toml"), out=tmp_path, jobs=2, timeout=1,
                      rerun_failed=True, **_quiet())
    assert (rerun.ran, rerun.skipped) == (4, 3)
    attempts = {r["model_label"]: r["attempts"] for r in _rows(tmp_path / "results.sqlite").values()}
    assert {k for k, n in attempts.items() if n == 2} == {k for k in rows if k.startswith("Misbehaving")}
    out = subprocess.run([sys.executable, "-m", "seqbench", "results", str(tmp_path / "results.sqlite")],
                         capture_output=True, text=True, check=True).stdout
    assert "failed jobs: 4" in out and "TIMEOUT" in out and "timed out after 1 s" in out


# --------------------------------------------------------------- bad input
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unwritable_output_folder_fails_before_any_job(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(BenchError, match="cannot write to the output folder"):
        run_suite(parse_suite(FAILING), out=blocker / "out", **_quiet())


def test_foreign_results_file_fails_before_any_job(tmp_path):
    (tmp_path / "results.sqlite").write_text("not a database")
    with pytest.raises(StoreError, match="not a seqbench results store"):
        run_suite(parse_suite(FAILING), out=tmp_path, executor="serial", **_quiet())
    assert (tmp_path / "results.sqlite").read_text() == "not a database"


def test_unreachable_scheduler_fails_within_the_bounded_wait(tmp_path):
    start = time.monotonic()
    with pytest.raises(BenchError, match="cannot reach the Dask scheduler"):
        run_suite(parse_suite(FAILING), out=tmp_path, executor="dask", address=f"tcp://127.0.0.1:{_free_port()}",
                  connect_timeout=2, **_quiet())
    assert time.monotonic() - start < 20
    with ResultsStore.open_reader(tmp_path / "results.sqlite") as store:
        assert store.jobs(run_id=None) == []


def test_cli_reports_bad_input_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(textwrap.dedent("""
        [suite]
        name = "bad"
        [[datasets]]
        name = "digits"
        [[models]]
        name = "RNNClassifier"
        params = { hiden_size = 8 }
    """))
    cmd = [sys.executable, "-m", "seqbench"]
    run = subprocess.run(cmd + ["run", "--suite", str(bad), "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert run.returncode == 1
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"seqbench: error: {bad}, line 8, key models[0].params.hiden_size: RNNClassifier has no "
                           "parameter 'hiden_size'; did you mean 'hidden_size'")
    assert not (tmp_path / "o").exists()
    (tmp_path / "x.sqlite").write_text("text")
    res = subprocess.run(cmd + ["results", str(tmp_path / "x.sqlite")], capture_output=True, text=True)
    assert res.returncode == 1 and "not a seqbench results store" in res.stderr
    listing = subprocess.run(cmd + ["list", "suites"], capture_output=True, text=True, check=True).stdout
    assert all(name in listing for name in ("quick", "standard", "long-range"))


def test_suite_errors_are_raised_before_the_output_folder_is_made(tmp_path):
    with pytest.raises(SuiteError):
        run_suite(parse_suite(FAILING.replace("MeanClassifier", "MeanClasifier")), out=tmp_path / "never", **_quiet())
    assert not (tmp_path / "never").exists()


def test_serial_executor_records_failures_and_enforces_the_timeout(tmp_path):
    suite = FAILING.replace('grid = { mode = ["raise", "nan", "sleep", "exit"] }', 'grid = { mode = ["raise", "nan", "sleep"] }')
    start = time.monotonic()
    summary = run_suite(parse_suite(suite), out=tmp_path, executor="serial", timeout=1, **_quiet())
    assert time.monotonic() - start < 15  # the 30 s sleep was cut at 1 s
    assert summary.counts == {"ok": 3, "failed": 1, "diverged": 1, "timeout": 1}
    sleep = next(r for r in _rows(tmp_path / "results.sqlite").values() if r["model_label"] == "Misbehaving(mode=sleep)")
    assert sleep["error"] == "timed out after 1 s while fitting"
