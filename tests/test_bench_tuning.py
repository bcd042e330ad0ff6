"""Tuning inside jobs: search-space validation, trials on validation data
only, the one refit and test, the store's record, failed trials, and the
proof that the test split never influences what tuning chooses."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqbench.bench import ResultsStore, SuiteError, make_plan, parse_suite, resolve_suite, run_suite
from seqbench.bench._datasets import load_dataset
from seqbench.bench._inner_split import training_part, validation_folds
from seqbench.bench._tuning import tune, tuned_evaluate
from seqbench.datasets import Dataset

HERE = Path(__file__).parent

BASE = """
[suite]
name = "tuned"
seeds = [0]

[tuning]
trials = 3

[[datasets]]
name = "bench_helpers:tiny_classify"

[[models]]
name = "bench_helpers:MeanClassifier"
search = { C = { low = 0.01, high = 10.0, log = true } }
"""


def _error(text: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        resolve_suite(parse_suite(text, path="bad.toml"), allow_plugins=True)
    return info.value


@pytest.mark.parametrize("search, key, expected", [
    ('{ gamma = [1, 2] }', "models[0].search.gamma", "has no parameter 'gamma'"),
    ('{ C = [] }', "models[0].search.C", "empty list of choices"),
    ('{ C = { low = 10.0, high = 1.0 } }', "models[0].search.C.low", "greater than high"),
    ('{ C = { low = 0.0, high = 1.0, log = true } }', "models[0].search.C.low", "log range needs low > 0"),
    ('{ C = { low = 0.1 } }', "models[0].search.C", "needs both low and high"),
    ('{ C = { low = 0.1, high = 1.0, step = 2 } }', "models[0].search.C.step", "unknown key 'step'"),
    ('{ C = "big" }', "models[0].search.C", "list of choices or a range"),
    ('{ C = ["a", "b"] }', "models[0].search.C", "C must be"),
])
def test_bad_search_spaces_name_file_model_and_key(search, key, expected):
    err = _error(BASE.replace('{ C = { low = 0.01, high = 10.0, log = true } }', search))
    assert err.path == "bad.toml" and err.key == key
    assert expected in str(err) and "MeanClassifier" in str(err)
    assert err.line is not None and "bad.toml" in str(err)


@pytest.mark.parametrize("budget, key, expected", [
    ("trials = 0", "tuning.trials", "trials > 0"),
    ("trials = -2", "tuning.trials", "trials > 0"),
    ("trials = 2.5", "tuning.trials", "integer number of trials"),
    ("trials = 3\ntimeout = 0", "tuning.timeout", "positive number of seconds"),
    ("timeout = 5", "tuning", "has no trials"),
    ("trials = 3\nvalidation_fraction = 1.5", "tuning.validation_fraction", "(0, 1)"),
])
def test_bad_budgets_are_rejected(budget, key, expected):
    err = _error(BASE.replace("trials = 3", budget))
    assert err.key == key and expected in str(err)


def test_a_parameter_both_fixed_and_searched_is_rejected():
    err = _error(BASE.replace("search =", "params = { C = 1.0 }\nsearch ="))
    assert err.key == "models[0].search.C" and "both fixed (params) and searched" in str(err)


def test_search_without_budget_grid_with_search_and_two_contenders_are_rejected():
    err = _error(BASE.replace("[tuning]\ntrials = 3", ""))
    assert err.key == "models[0].search" and "add [tuning] with trials = N" in str(err)
    err = _error(BASE.replace("search =", "grid = { random_state = [0, 1] }\nsearch ="))
    assert err.key == "models[0].grid" and "ablations" in str(err)
    twice = BASE + '\n[[models]]\nname = "bench_helpers:PickyClassifier"\nsearch = { C = [0.5, 1.0] }\n'
    err = _error(twice)
    assert err.key == "models[1].search" and "one search space per task" in str(err)


def test_tuned_jobs_have_their_own_keys_and_fixed_jobs_keep_theirs():
    fixed = make_plan(resolve_suite(parse_suite(BASE.replace("search", "params").replace(
        "{ C = { low = 0.01, high = 10.0, log = true } }", "{ C = 1.0 }").replace("[tuning]\ntrials = 3", "")), allow_plugins=True))
    tuned = make_plan(resolve_suite(parse_suite(BASE), allow_plugins=True))
    more = make_plan(resolve_suite(parse_suite(BASE.replace("trials = 3", "trials = 4")), allow_plugins=True))
    assert fixed.jobs[0].search is None and tuned.jobs[0].search["trials"] == 3
    assert len({fixed.jobs[0].key, tuned.jobs[0].key, more.jobs[0].key}) == 3


# ------------------------------------------------------------------ running
def _plan(text: str):
    return make_plan(resolve_suite(parse_suite(text), allow_plugins=True))


def test_a_tuned_run_stores_every_trial_and_the_chosen_configuration(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    text = BASE.replace("trials = 3", "trials = 5").replace("seeds = [0]", "seeds = [0, 1]")
    suite = tmp_path / "tuned.toml"
    suite.write_text(text)
    summary = run_suite(str(suite), out=tmp_path / "out", executor="serial", progress=False, allow_plugins=True)
    with ResultsStore.open_reader(summary.store) as store:
        rows = store.jobs()
        trials = {r["key"]: store.artefacts(r["key"])["trials"] for r in rows}
    assert [r["status"] for r in rows] == ["ok", "ok"]
    for row in rows:
        record, mine = row["tuning"], trials[row["key"]]
        assert len(mine) == record["n_trials"] == 5 and record["n_complete"] == 5
        values = [t["value"] for t in mine]
        best = mine[int(np.argmax(values))]
        assert record["validation_score"] == pytest.approx(max(values))
        assert record["chosen"] == best["params"] and 0.01 <= record["chosen"]["C"] <= 10.0
        assert record["tuning_seconds"] > 0 and record["refit_seconds"] > 0
        assert row["params"] == {}  # the fixed parameters; the chosen ones are in the tuning record
    out = subprocess.run([sys.executable, "-m", "seqbench", "results", str(summary.store)],
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(HERE), **_env()}).stdout
    assert "tuned MeanClassifier: validation accuracy" in out
    assert f"C={rows[0]['tuning']['chosen']['C']:.4f}" in out
    from seqbench.report import write_report

    write_report(summary.store)
    with open(summary.store.parent / "results.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert {json.loads(r["chosen_params"])["C"] for r in table} == {r["tuning"]["chosen"]["C"] for r in rows}
    assert {float(r["validation_score"]) for r in table} == {r["tuning"]["validation_score"] for r in rows}


def _env() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}


def test_failed_trials_are_recorded_and_tuning_goes_on(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    text = BASE.replace("MeanClassifier", "PickyClassifier").replace(
        "{ C = { low = 0.01, high = 10.0, log = true } }", "{ C = [0.1, 5.0, 0.5, 50.0] }").replace("trials = 3", "trials = 8")
    job = _plan(text).jobs[0]
    dataset, _ = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
    result = tune(job, dataset)
    failed = [t for t in result.trials if t["state"] == "failed"]
    assert failed and all("deliberate failure" in t["error"] for t in failed)
    assert all(t["params"]["C"] > 1 for t in failed)
    assert len(result.trials) == 8 and result.chosen["C"] <= 1


def test_a_job_whose_every_trial_fails_is_stored_failed_with_reasons(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    text = BASE.replace("MeanClassifier", "Misbehaving").replace(
        "{ C = { low = 0.01, high = 10.0, log = true } }", '{ mode = ["raise", "nan"] }')
    suite = tmp_path / "bad.toml"
    suite.write_text(text)
    summary = run_suite(str(suite), out=tmp_path / "out", executor="serial", progress=False, allow_plugins=True)
    with ResultsStore.open_reader(summary.store) as store:
        (row,) = store.jobs()
        trials = store.artefacts(row["key"])["trials"]
    assert row["status"] == "failed" and "every one of 3 tuning trials failed" in row["error"]
    assert "deliberate failure in fit" in row["error"] or "NaN" in row["error"]
    assert [t["state"] for t in trials] == ["failed"] * 3 and row["tuning"]["n_failed"] == 3


# --------------------------------------------- the test split is never read
PROOF = """
[suite]
name = "proof"
seeds = [3]

[tuning]
trials = {trials}

[evaluation.forecast]
protocol = "rolling_origin"
n_origins = 2
step = 3

[[datasets]]
name = "{dataset}"
{options}

[[models]]
name = "{model}"
params = {params}
search = {search}
"""

CASES = {
    "classify-baseline": ("bench_helpers:tiny_classify", "", "bench_helpers:MeanClassifier", "{}",
                          "{ C = { low = 0.001, high = 100.0, log = true } }", 6),
    "classify-neural": ("bench_helpers:tiny_classify", "", "RNNClassifier",
                        "{ max_epochs = 4, hidden_size = 8, n_iter_no_change = 2 }",
                        '{ cell = ["gru", "lstm"], lr = { low = 1e-3, high = 5e-2, log = true } }', 4),
    "forecast": ("bench_helpers:tiny_forecast", "", "ARForecaster", "{}",
                 '{ order = { low = 1, high = 6 }, trend = ["n", "c", "ct"] }', 6),
    "language-model": ("hmm_categorical_lm", "options = { n_train = 12, n_test = 6, length = 40 }",
                       "NGramLanguageModel", "{}", "{ n = [1, 2, 3, 4], k = { low = 0.01, high = 1.0 } }", 6),
}


def _scrambled(dataset, rng):
    """The same dataset with its test part replaced: labels shuffled and
    flipped, forecast futures and test text drawn at random."""
    if dataset.task == "classify":
        y = np.asarray(dataset.y_test)
        return dataclasses.replace(dataset, y_test=1 - rng.permutation(y))
    if dataset.task == "forecast":
        return dataclasses.replace(dataset, y_test=rng.normal(size=np.shape(dataset.y_test)) * 100)
    symbols = np.unique(np.concatenate([np.asarray(s) for s in dataset.X_test]))
    return dataclasses.replace(dataset, X_test=[rng.choice(symbols, size=len(s)) for s in dataset.X_test])


def _as_dataclass(record):
    return record if dataclasses.is_dataclass(record) else Dataset(
        record.name, record.task, record.X_train, record.y_train, record.X_test, record.y_test, dict(record.meta))


@pytest.mark.parametrize("case", list(CASES))
def test_the_test_split_never_changes_what_tuning_chooses(case, monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    dataset_name, options, model, params, search, trials = CASES[case]
    job = _plan(PROOF.format(dataset=dataset_name, options=options, model=model, params=params, search=search,
                             trials=trials)).jobs[-1]
    real, _ = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
    real = _as_dataclass(real)
    fake = _scrambled(real, np.random.default_rng(0))
    outcomes = []
    for dataset in (real, fake):
        outcome, _, record, trial_rows = tuned_evaluate(job, dataset)
        outcomes.append((outcome.metrics, record, [(t["params"], t["value"], t["state"]) for t in trial_rows]))
    (real_metrics, real_record, real_trials), (fake_metrics, fake_record, fake_trials) = outcomes
    assert real_record["chosen"] == fake_record["chosen"] and real_record["refit"] == fake_record["refit"]
    assert real_record["validation_score"] == fake_record["validation_score"]
    assert real_trials == fake_trials and len(real_trials) == trials
    main = real_record["metric"]
    assert real_metrics[main] != fake_metrics[main]  # the test part did change, and only the test score saw it


def test_validation_folds_come_from_the_training_part_only(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    job = _plan(PROOF.format(dataset="bench_helpers:tiny_forecast", options="", model="ARForecaster", params="{}",
                             search="{ order = [1, 2] }", trials=2)).jobs[0]  # fold 0 of 2 rolling origins
    dataset, _ = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
    train, _ = training_part(dataset, job)
    folds = validation_folds(dataset, job, fraction=0.2, n_origins=2)
    for series, fold_hist, fold_truth in zip(train, folds[-1].X_test, folds[-1].y_test):
        n = len(fold_hist)
        assert np.array_equal(np.vstack([fold_hist, fold_truth]), series[: n + len(fold_truth)])
    assert len(folds[0].X_train[0]) == len(folds[1].X_train[0]) - 3  # origins `step` steps apart
    assert max(len(s) for s in train) <= len(dataset.X_test[0])  # never past the job's own origin


def test_neural_trials_are_pruned_on_the_validation_loss_and_refit_uses_the_chosen_epochs(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    # 100 training sequences: 80 inner-train, of which a quarter (20, the
    # estimator's minimum) is its early-stopping split, whose loss is pruned on
    job = _plan(PROOF.format(dataset="bench_helpers:tiny_classify", options="options = { n_train = 100 }",
                             model="RNNClassifier",
                             params="{ max_epochs = 6, hidden_size = 8, n_iter_no_change = 6, validation_fraction = 0.25 }",
                             search='{ lr = { low = 1e-4, high = 1e-1, log = true } }', trials=8)).jobs[0]
    dataset, _ = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
    outcome, estimator, record, trials = tuned_evaluate(job, dataset)
    states = [t["state"] for t in trials]
    assert "pruned" in states and record["n_pruned"] == states.count("pruned")
    best = max((t for t in trials if t["state"] == "complete"), key=lambda t: t["value"])
    assert record["refit"] == {"max_epochs": best["epochs"], "early_stopping": False}
    assert estimator.n_iter_ == best["epochs"] and len(estimator.history_) == best["epochs"]
    assert math.isfinite(outcome.metrics["accuracy"])


def test_epoch_callback_sees_every_epoch_and_can_stop_the_fit():
    from seqbench.models import RNNClassifier

    seen = []
    X = [np.random.default_rng(i).normal(size=(5, 1)) for i in range(12)]
    y = np.arange(12) % 2
    RNNClassifier(hidden_size=4, max_epochs=3, epoch_callback=seen.append, random_state=0).fit(X, y)
    assert [r["epoch"] for r in seen] == [1, 2, 3] and all("train_loss" in r for r in seen)

    def stop(record):
        raise KeyError(f"stop at {record['epoch']}")

    with pytest.raises(KeyError, match="stop at 1"):
        RNNClassifier(hidden_size=4, max_epochs=3, epoch_callback=stop, random_state=0).fit(X, y)


# ------------------------------------------------------------------- report
REPORTED = """
[suite]
name = "reported"
seeds = [0, 1]

[tuning]
trials = 3

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "a"

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "b"
options = { length = 3 }

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "c"
options = { length = 12 }

[[models]]
name = "bench_helpers:MeanClassifier"
label = "tuned LR"
search = { C = { low = 0.01, high = 10.0, log = true } }

[[models]]
name = "bench_helpers:MeanClassifier"
label = "fixed LR"
grid = { C = [0.001, 100.0] }

[[models]]
name = "bench_helpers:NoisyMeanClassifier"
label = "noisy"
"""


def test_only_tuned_contenders_decide_and_the_tuning_section_reports_them(tmp_path, monkeypatch):
    from seqbench.report import build_report
    from seqbench.report._context import Context
    from seqbench.report._load import open_report_data
    from seqbench.report._stats import compare_task

    monkeypatch.syspath_prepend(str(HERE))
    suite = tmp_path / "reported.toml"
    suite.write_text(REPORTED)
    summary = run_suite(str(suite), out=tmp_path / "out", executor="serial", progress=False, allow_plugins=True)
    with open_report_data(summary.store) as data:
        ctx = Context(data)
        assert [e.model for e in ctx.contenders("classify", "a")] == ["tuned LR"]
        comparison = compare_task(ctx, "classify")
        assert list(comparison.scores.columns) == ["tuned LR"]  # ablations and the untuned family never rank
        assert set(comparison.excluded) == {"fixed LR(C=0.001)", "fixed LR(C=100.0)", "noisy"}
        jobs = [j for j in data.jobs if j["model_label"] == "tuned LR" and j["dataset_label"] == "a"]
        validation = sum(j["tuning"]["validation_score"] for j in jobs) / len(jobs)
    report = build_report(summary.store)
    sections = {s.id: s for s in report.sections}
    overview = sections["overview"].blocks[0].blocks[0]
    baseline = overview.columns.index("baseline")
    neural = overview.columns.index("RNN / LSTM / GRU")
    assert {overview.cell(r, baseline).sub for r in range(3)} == {"tuned LR"}
    assert {overview.cell(r, neural).text for r in range(3)} == {"no tuned contender"}
    tuning = sections["tuning"].blocks[0]
    note, table = tuning.blocks[0], tuning.blocks[1]
    assert note.text == "Budget: 3 trials per job. Search spaces: tuned LR: C in [0.01, 10] (log)."
    assert table.caption == "a: tuned contenders" and [table.cell(0, 0).text] == ["tuned LR"]
    assert table.cell(0, 3).text == f"{validation:.3f}" and table.cell(0, 5).text == "6"
    assert any(type(b).__name__ == "Figure" for b in tuning.blocks)


def test_a_family_tuned_under_another_label_on_one_dataset_still_ranks_as_one_contender(tmp_path, monkeypatch):
    """A search space sized to one dataset (standard's Penn Treebank entries)
    gives the family's contender another label there; across datasets it is
    still the family's one tuned contender, so it ranks as one column named
    by both labels instead of dropping out as "not run on" each dataset."""
    from seqbench.report._context import Context
    from seqbench.report._load import open_report_data
    from seqbench.report._stats import compare_task

    monkeypatch.syspath_prepend(str(HERE))
    text = REPORTED.replace(
        'search = { C = { low = 0.01, high = 10.0, log = true } }\n',
        'search = { C = { low = 0.01, high = 10.0, log = true } }\ndatasets = ["a", "b"]\n\n'
        '[[models]]\nname = "bench_helpers:MeanClassifier"\nlabel = "tuned LR (c budget)"\n'
        'search = { C = [0.1, 1.0] }\ndatasets = ["c"]\n', 1)
    suite = tmp_path / "reported.toml"
    suite.write_text(text)
    summary = run_suite(str(suite), out=tmp_path / "out", executor="serial", progress=False, allow_plugins=True)
    with open_report_data(summary.store) as data:
        comparison = compare_task(Context(data), "classify")
        column = "tuned LR / tuned LR (c budget)"
        assert list(comparison.scores.columns) == [column]
        assert comparison.scores[column].notna().all() and list(comparison.scores.index) == ["a", "b", "c"]
        assert comparison.families[column] == "baseline"
        assert not any(label.startswith("tuned LR") for label in comparison.excluded)


def test_best_so_far_keeps_the_best_complete_value():
    from seqbench.report._tuning_section import best_so_far

    trials = [{"number": 0, "state": "failed", "value": None}, {"number": 1, "state": "complete", "value": 0.5},
              {"number": 2, "state": "pruned", "value": None}, {"number": 3, "state": "complete", "value": 0.4},
              {"number": 4, "state": "complete", "value": 0.7}]
    assert best_so_far(trials, greater=True) == [None, 0.5, 0.5, 0.5, 0.7]
    assert best_so_far(trials, greater=False) == [None, 0.5, 0.5, 0.4, 0.4]


def test_holdouts_are_stratified_and_a_single_text_validates_on_its_tail():
    from seqbench.bench._inner_split import validation_folds

    X = [np.full((3, 1), i, float) for i in range(40)]
    y = np.array([0] * 30 + [1] * 10)
    job = _plan(BASE).jobs[0]
    classify = Dataset("d", "classify", X, y, X[:4], y[:4], {})
    (fold,) = validation_folds(classify, job, fraction=0.2, n_origins=2)
    assert len(fold.X_test) == 8 and sorted(fold.y_test.tolist()) == [0] * 6 + [1] * 2
    seen = sorted(int(x[0, 0]) for x in list(fold.X_train) + list(fold.X_test))
    assert seen == list(range(40))  # a partition of the training sequences
    text = Dataset("t", "language_model", ["abcdefghij" * 10], None, ["zzzz"], None, {})
    (fold,) = validation_folds(text, job, fraction=0.2, n_origins=2)
    assert fold.X_train == ["abcdefghij" * 8] and fold.X_test == ["abcdefghij" * 2]


def test_a_tuning_time_limit_stops_new_trials_but_keeps_the_first_one(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    text = PROOF.format(dataset="bench_helpers:tiny_classify", options="", model="RNNClassifier",
                        params="{ max_epochs = 3, hidden_size = 4 }", search='{ cell = ["gru", "lstm"] }', trials=5)
    job = _plan(text.replace("trials = 5", "trials = 5\ntimeout = 0.001")).jobs[0]
    dataset, _ = load_dataset(job.dataset, job.dataset_options, job.dataset_random_state)
    result = tune(job, dataset)
    assert [t["state"] for t in result.trials] == ["complete"]  # started past the limit, it still completes
