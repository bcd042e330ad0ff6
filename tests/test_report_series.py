"""The report's "Across series" section: models ranked on every series of a
many-series forecasting dataset by the per-series MASE the runner stores,
with a Friedman test over the series (checked against scipy on the store)."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
from scipy.stats import friedmanchisquare, rankdata

from seqbench.bench import run_suite
from seqbench.metrics import mase, mase_per_series, smape, smape_per_series
from seqbench.report import write_report

SUITE = """
[suite]
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
