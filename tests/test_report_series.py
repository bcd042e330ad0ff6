"""The report's "Across series" section: models ranked on every series of a
many-series forecasting dataset by the per-series MASE the runner stores,
with a Friedman test over the series (checked against scipy on the store)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from scipy.stats import friedmanchisquare, rankdata

from seqbench.bench import run_suite
from seqbench.metrics import mase, mase_per_series, smape, smape_per_series
from seqbench.report import write_report

SUITE = """
[suite]
plugins = ["bench_helpers"]
name = "series-tiny"
seeds = [0]

[[datasets]]
name = "bench_helpers:tiny_forecast"
label = "waves"
options = { n_series = 12 }

[[models]]
name = "bench_helpers:LastValueForecaster"
label = "Last value"
params = { horizon = 4 }

[[models]]
name = "NaiveForecaster"
label = "Drift"
params = { strategy = "drift", horizon = 4 }

[[models]]
name = "NaiveForecaster"
label = "Seasonal 5"
params = { strategy = "seasonal", season = 5, horizon = 4 }
"""


def test_per_series_metrics_average_to_the_dataset_metrics():
    rng = np.random.default_rng(0)
    truth, pred = rng.normal(5, 1, size=(6, 3, 1)), rng.normal(5, 1, size=(6, 3, 1))
    hist = [rng.normal(5, 1, size=(10 + i, 1)) for i in range(6)]
    per = mase_per_series(truth, pred, y_train=hist, season=2)
    assert per.shape == (6,) and per.mean() == mase(truth, pred, y_train=hist, season=2)
    assert per[3] == mase(truth[3:4], pred[3:4], y_train=hist[3:4], season=2)
    assert np.isclose(smape_per_series(truth, pred).mean(), smape(truth, pred))


def test_report_ranks_models_across_series(tmp_path):
    suite = tmp_path / "series.toml"
    suite.write_text(SUITE)
    summary = run_suite(suite, out=tmp_path / "run", executor="serial", progress=False, threads=1,
                        stream=open(tmp_path / "run.log", "w"))
    with sqlite3.connect(summary.store) as conn:
        rows = conn.execute("SELECT j.model_label, a.data FROM jobs j JOIN artefacts a ON a.key = j.key "
                            "WHERE a.name = 'per_series'").fetchall()
    per_model = {label: json.loads(data)["mase"] for label, data in rows}
    assert sorted(per_model) == ["Drift", "Last value", "Seasonal 5"] and {len(v) for v in per_model.values()} == {12}
    models = sorted(per_model)
    ranks = rankdata(np.column_stack([per_model[m] for m in models]), axis=1)
    stat = friedmanchisquare(*ranks.T).statistic
    write_report(summary.store, tmp_path / "report")
    md = (tmp_path / "report" / "summary.md").read_text()
    assert "Across series" in md and f"Friedman test over 12 series and 3 models: χ² = {stat:.2f}" in md
    best = models[int(np.argmin(ranks.mean(axis=0)))]
    table = md[md.index("Across series"):]
    assert table.index(best) < min(table.index(m) for m in models if m != best)


def test_a_series_too_short_for_a_model_is_na_with_its_reason(tmp_path):
    from seqbench.bench import ResultsStore

    suite = tmp_path / "short.toml"
    suite.write_text(SUITE.replace('name = "series-tiny"', 'name = "short"').replace("season = 5", "season = 60"))
    summary = run_suite(suite, out=tmp_path / "run", executor="serial", progress=False, threads=1,
                        stream=open(tmp_path / "run.log", "w"))
    with ResultsStore.open_reader(summary.store) as store:
        jobs = {j["model_label"]: j for j in store.jobs()}
    assert jobs["Drift"]["status"] == "ok"
    short = jobs["Seasonal 5"]
    assert short["status"] == "n/a" and short["error"].startswith("series too short: X: series 0 has 40 steps")
    assert "one full season of 60 steps" in short["error"]


def test_a_series_too_short_for_a_model_is_na_alone_and_the_others_are_scored(tmp_path):
    from bench_helpers import tiny_forecast

    from seqbench.bench import ResultsStore
    from seqbench.models import NaiveForecaster

    suite = tmp_path / "one-short.toml"
    suite.write_text(SUITE.replace('name = "series-tiny"', 'name = "one-short"')
                     .replace("options = { n_series = 12 }", "options = { n_series = 12, short = 4 }"))
    summary = run_suite(suite, out=tmp_path / "run", executor="serial", progress=False, threads=1,
                        stream=open(tmp_path / "run.log", "w"))
    with ResultsStore.open_reader(summary.store) as store:
        jobs = {j["model_label"]: j for j in store.jobs()}
        artefacts = {label: store.artefacts(j["key"]) for label, j in jobs.items()}
    assert {j["status"] for j in jobs.values()} == {"ok"}
    # series 0 has 4 steps: one short of the season of 5, enough for the last value and the drift
    na = artefacts["Seasonal 5"]["series_na"]
    reason = "NaiveForecaster(strategy='seasonal', season=5) needs at least 5 steps (one full season of 5 steps)"
    assert (na["n_series"], na["n_na"], na["series"], na["reasons"]) == (12, 1, [0], {reason: 1})
    assert na["why"] == [f"4 steps; {reason}"]
    assert "series_na" not in artefacts["Drift"] and "series_na" not in artefacts["Last value"]
    per_series = artefacts["Seasonal 5"]["per_series"]["mase"]
    assert per_series[0] is None and None not in per_series[1:] and len(per_series) == 12
    # the job's MASE is the one of the 11 other series, as the model scores them by itself
    ds = tiny_forecast(n_series=12, short=4)
    model = NaiveForecaster("seasonal", season=5, horizon=4).fit(ds.X_train[1:])
    expected = mase(ds.y_test[1:], model.predict(ds.X_test[1:]), y_train=ds.X_test[1:], season=1)
    assert jobs["Seasonal 5"]["metrics"]["mase"] == expected
    assert np.mean(per_series[1:]) == expected
    assert len(artefacts["Drift"]["per_series"]["mase"]) == 12 and None not in artefacts["Drift"]["per_series"]["mase"]

    write_report(summary.store, tmp_path / "report")
    md = (tmp_path / "report" / "summary.md").read_text()
    table = md[md.index("Across series"):]
    assert "Friedman test over 11 series and 3 models" in table
    assert "1 of the 12 series are left out of the ranks: n/a for Seasonal 5 (1 series too short)" in table
    assert "n/a on 1 of 12 series" in md  # the leaderboard's jobs cell


def test_a_forecasting_job_is_na_only_when_no_series_is_left():
    from seqbench.bench._evaluate import _predict_scorable
    from seqbench.data import SeriesTooShortError
    from seqbench.models import NaiveForecaster

    model = NaiveForecaster("last", horizon=2).fit([np.arange(10.0)])
    histories = [np.arange(3.0)[:, None], np.arange(8.0)[:, None], np.arange(4.0)[:, None]]
    kept, pred, left_out = _predict_scorable(model, histories, season=4)  # MASE's scale needs 5 steps
    assert kept == [1] and pred[0, :, 0].tolist() == [7.0, 7.0]
    assert left_out == {0: "3 steps; MASE's seasonal naive scale needs more than 4",
                        2: "4 steps; MASE's seasonal naive scale needs more than 4"}
    seasonal = NaiveForecaster("seasonal", season=5, horizon=2).fit([np.arange(10.0)])
    with pytest.raises(SeriesTooShortError, match=r"history 0 has 3 steps \(and 1 more\) but") as info:
        seasonal.predict(histories)
    assert info.value.series == (0, 2)
    kept, _, left_out = _predict_scorable(seasonal, histories, season=1)
    assert kept == [1] and left_out[2] == "4 steps; " + info.value.reason
    with pytest.raises(SeriesTooShortError, match=r"every one of the 3 series is too short: "
                                                  r"MASE's seasonal naive scale needs more than 9 \(3 series\)"):
        _predict_scorable(model, histories, season=9)

    class Silent(NaiveForecaster):  # a forecaster that cannot say which history is short
        def predict(self, X):
            raise SeriesTooShortError("X: some history is too short")

    silent = Silent("last", horizon=2).fit([np.arange(10.0)])
    with pytest.raises(SeriesTooShortError, match="some history is too short"):
        _predict_scorable(silent, histories, season=1)
