"""Suites, validation, job keys, seeds and the results store (no workers).

Every bad suite must fail before any job runs, naming the file, the line
where it can be found and the key path, with close matches for names.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seqbench.bench import (
    ResultsStore,
    StoreError,
    SuiteError,
    load_suite,
    make_plan,
    parse_suite,
    resolve_suite,
    shipped_suites,
)
from seqbench.bench._keys import derive_seed
from seqbench.bench._resources import count_parameters, thread_budget
from seqbench.metrics import metric_directions

HERE = Path(__file__).parent

TINY = """
[suite]
name = "tiny"
seeds = [0, 1]
families = ["baseline", "neural", "hmm"]

[evaluation.forecast]
protocol = "rolling_origin"
n_origins = 2
step = 2

[[datasets]]
name = "bench_helpers:tiny_classify"
label = "classify"

[[datasets]]
name = "bench_helpers:tiny_forecast"
label = "forecast"

[[datasets]]
name = "bench_helpers:tiny_text"
label = "text"

[[datasets]]
name = "bench_helpers:tiny_regress"
label = "regress"

[[models]]
name = "bench_helpers:MeanClassifier"
grid = { C = [0.1, 1.0] }

[[models]]
name = "bench_helpers:LastValueForecaster"

[[models]]
name = "bench_helpers:MeanRegressor"
"""


def _error(text: str) -> SuiteError:
    with pytest.raises(SuiteError) as info:
        resolve_suite(parse_suite(textwrap.dedent(text), path="bad.toml"))
    return info.value


# -------------------------------------------------------------- parsing
def test_malformed_toml_names_file_and_line():
    err = _error('[suite]\nname = "x"\nseeds = [0, 1\n\n[[models]]\nname = "a"\n')
    assert err.path == "bad.toml"
    assert err.line is not None and 3 <= err.line <= 5
    assert "line" in str(err) and "malformed TOML" in str(err)


def test_unknown_key_gets_close_match_key_path_and_line():
    text = TINY.replace('name = "bench_helpers:LastValueForecaster"',
                        'name = "bench_helpers:LastValueForecaster"\nparmas = { horizon = 2 }')
    err = _error(text)
    assert err.key == "models[1].parmas"
    assert "did you mean 'params'" in str(err)
    assert text.splitlines()[err.line - 1].startswith("parmas")


@pytest.mark.parametrize(
    "replace, key, expected",
    [
        (("seeds = [0, 1]", 'seeds = "three"'), "suite.seeds", "count or a non-empty list"),
        (("seeds = [0, 1]", "seeds = [0, 0]"), "suite.seeds", "seed twice"),
        (('families = ["baseline", "neural", "hmm"]', 'families = ["nueral"]'), "suite.families[0]", "'neural'"),
        (('protocol = "rolling_origin"', 'protocol = "bootstrap"'), "evaluation.forecast.protocol", "not available"),
        (("n_origins = 2", "n_origins = 0"), "evaluation.forecast.n_origins", ">= 1"),
        (('grid = { C = [0.1, 1.0] }', "grid = { C = [] }"), "models[0].grid.C", "non-empty list"),
    ],
)
def test_schema_errors_name_the_key(replace, key, expected):
    err = _error(TINY.replace(*replace))
    assert err.key == key
    assert expected in str(err)
    assert err.line is not None


def test_unknown_task_in_evaluation():
    err = _error(TINY.replace("[evaluation.forecast]", "[evaluation.forcast]"))
    assert err.key == "evaluation.forcast" and "did you mean 'forecast'" in str(err)


# -------------------------------------------------------- names and types
def test_unknown_registry_model_gets_close_matches():
    err = _error(TINY.replace("bench_helpers:LastValueForecaster", "RNNClasifier"))
    assert err.key == "models[1].name"
    assert "RNNClassifier" in str(err)


def test_unknown_class_in_module_gets_close_matches():
    err = _error(TINY.replace("bench_helpers:LastValueForecaster", "bench_helpers:LastValueForcaster"))
    assert "did you mean LastValueForecaster" in str(err)


def test_unknown_dataset_gets_close_matches():
    err = _error(TINY.replace("bench_helpers:tiny_text", "digts"))
    assert err.key == "datasets[2].name" and "digits" in str(err)


def test_unknown_parameter_gets_close_matches_and_line():
    text = TINY.replace("grid = { C = [0.1, 1.0] }", "params = { CC = 2.0 }")
    err = _error(text)
    assert err.key == "models[0].params.CC"
    assert "did you mean 'C'" in str(err)
    assert "CC" in text.splitlines()[err.line - 1]


def test_wrong_type_against_the_default():
    err = _error(TINY.replace("grid = { C = [0.1, 1.0] }", 'grid = { C = [0.1, "big"] }'))
    assert err.key == "models[0].grid.C" and "must be a number" in str(err)


def test_wrong_type_against_sklearn_constraints_of_a_registered_model():
    text = TINY + '\n[[models]]\nname = "RNNClassifier"\nparams = { hidden_size = "big" }\n'
    err = _error(text)
    assert err.key == "models[3].params.hidden_size"
    assert "hidden_size" in str(err) and "int" in str(err)


def test_dataset_options_are_checked_before_loading():
    err = _error(TINY + '\n[[datasets]]\nname = "adding_problem"\noptions = { TT = 10 }\n')
    assert err.key == "datasets[4].options.TT" and "did you mean T" in str(err)
    err = _error(TINY + '\n[[datasets]]\nname = "adding_problem"\nsweep = { T = [10, "long"] }\n')
    assert err.key == "datasets[4].sweep.T" and "integer" in str(err)
    err = _error(TINY + '\n[[datasets]]\nname = "digits"\noptions = { n_train = 10 }\n')
    assert "fixed split" in str(err)


def test_model_restricted_to_an_unknown_dataset():
    err = _error(TINY.replace("grid = { C = [0.1, 1.0] }", 'datasets = ["clasify"]'))
    assert err.key == "models[0].datasets[0]" and "did you mean classify" in str(err)


def test_duplicate_labels_within_a_task_are_rejected():
    err = _error(TINY + '\n[[models]]\nname = "bench_helpers:MeanClassifier"\nlabel = "MeanClassifier(C=0.1)"\n')
    assert "both labelled" in str(err) and err.key == "models[3]"


def test_unknown_suite_name_gets_close_matches():
    with pytest.raises(SuiteError, match="did you mean quick"):
        load_suite("quik")


def test_shipped_suites_validate_completely():
    assert {"quick", "standard", "long-range"} <= set(shipped_suites())
    for name in shipped_suites():
        resolved = resolve_suite(load_suite(name))
        assert resolved.models and resolved.datasets


# ---------------------------------------------------------------- planning
@pytest.fixture(scope="module")
def tiny_plan():
    return make_plan(resolve_suite(parse_suite(TINY, path="tiny.toml")))


def test_plan_expands_grid_seeds_and_rolling_origin_folds(tiny_plan):
    jobs = tiny_plan.jobs
    classify = [j for j in jobs if j.task == "classify"]
    forecast = [j for j in jobs if j.task == "forecast"]
    assert len(classify) == 2 * 2  # 2 grid points x 2 seeds
    assert sorted((j.seed, j.fold) for j in forecast) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert {j.model_label for j in classify} == {"MeanClassifier(C=0.1)", "MeanClassifier(C=1.0)"}
    assert len({j.key for j in jobs}) == len(jobs)


def test_na_rows_for_missing_families_and_unaccepted_inputs(tiny_plan):
    na = {(r["dataset_label"], r["model_label"]): r["error"] for r in tiny_plan.na_rows}
    # MeanClassifier reads real sequences only: the text dataset is n/a for it
    assert "does not accept text" in na[("text", "MeanClassifier(C=0.1)")]
    assert not any(j.dataset_label == "text" for j in tiny_plan.jobs)
    # the suite lists the hmm and neural families: seqbench has no HMM regressor
    # (n/a), but it has an RNN regressor, which this suite just does not run
    assert na[("regress", "hmm")] == "seqbench has no hmm estimator for the regress task"
    assert ("regress", "neural") not in na
    assert {r["status"] for r in tiny_plan.na_rows} == {"n/a"}


def test_keys_are_stable_across_processes():
    text = TINY.replace('families = ["baseline", "neural", "hmm"]', "")  # no registry import: a lighter process
    code = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(HERE)!r})
        from seqbench.bench import make_plan, parse_suite, resolve_suite
        plan = make_plan(resolve_suite(parse_suite({text!r})))
        print(json.dumps([j.key for j in plan.jobs]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = make_plan(resolve_suite(parse_suite(text)))
    assert json.loads(out.stdout) == [j.key for j in here.jobs]


def test_keys_change_with_what_changes_the_result(tiny_plan):
    other = make_plan(resolve_suite(parse_suite(TINY.replace("seeds = [0, 1]", "seeds = [0, 2]"))))
    same_seed = {(j.model_label, j.fold) : j.key for j in tiny_plan.jobs if j.seed == 0}
    assert same_seed == {(j.model_label, j.fold): j.key for j in other.jobs if j.seed == 0}
    assert not {j.key for j in tiny_plan.jobs if j.seed == 1} & {j.key for j in other.jobs}
    changed = make_plan(resolve_suite(parse_suite(TINY.replace("step = 2", "step = 3"))))
    assert not {j.key for j in changed.jobs if j.task == "forecast"} & {j.key for j in tiny_plan.jobs}


def test_seeds_are_derived_by_hashing_and_shared_by_grid_points(tiny_plan):
    classify = [j for j in tiny_plan.jobs if j.task == "classify"]
    by_seed = {}
    for j in classify:
        by_seed.setdefault(j.seed, set()).add(j.random_state)
    assert all(len(states) == 1 for states in by_seed.values())  # grid points share the seed
    assert by_seed[0] != by_seed[1]
    assert derive_seed("a", 1) == derive_seed("a", 1) != derive_seed("a", 2)
    assert 0 <= derive_seed("x") < 2**31


def test_synthetic_datasets_draw_one_sample_per_seed():
    text = """
    [suite]
    seeds = 2
    [[datasets]]
    name = "adding_problem"
    options = { T = 8, n_train = 20, n_test = 10 }
    [[models]]
    name = "RNNRegressor"
    """
    plan = make_plan(resolve_suite(parse_suite(textwrap.dedent(text))))
    states = {j.seed: j.dataset_random_state for j in plan.jobs}
    checksums = {j.seed: j.dataset_checksum for j in plan.jobs}
    assert states[0] != states[1] and checksums[0] != checksums[1]
    assert len(plan.datasets) == 2 and {d["random_state"] for d in plan.datasets} == set(states.values())
    assert all("oracle" in d["meta"] for d in plan.datasets)


def test_thread_budget_shares_the_cpus():
    assert thread_budget(2, cpus=8) == 4
    assert thread_budget(3, cpus=8) == 2
    assert thread_budget(4, cpus=2) == 1


def test_parameter_counts():
    import numpy as np
    import torch
    from bench_helpers import MeanClassifier, tiny_classify
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    ds = tiny_classify()
    est = MeanClassifier().fit(ds.X_train, ds.y_train)
    assert count_parameters(est) == 2 + 1  # coef (1, 2) + intercept (1,)

    class Wrapper:
        def __init__(self):
            self.pipeline_ = make_pipeline(StandardScaler(), est.model_)
            self.module_ = None

    assert count_parameters(Wrapper()) == 3

    class Torchy:
        module_ = torch.nn.Linear(4, 3)

    assert count_parameters(Torchy()) == 4 * 3 + 3
    assert count_parameters(object()) is None
    assert np.isfinite(est.predict_proba(ds.X_test)).all()


# ------------------------------------------------------------------- store
def test_store_rejects_files_that_are_not_seqbench_stores(tmp_path):
    text = tmp_path / "notes.sqlite"
    text.write_text("just some text\n")
    with pytest.raises(StoreError, match="not a seqbench results store .not an SQLite database"):
        ResultsStore.open_reader(text)
    with pytest.raises(StoreError, match="not a seqbench results store"):
        ResultsStore.open_writer(text)
    foreign = tmp_path / "other.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE people (name TEXT)")
    with pytest.raises(StoreError, match="SQLite database but not a seqbench results store"):
        ResultsStore.open_writer(foreign)
    with pytest.raises(StoreError, match="does not exist"):
        ResultsStore.open_reader(tmp_path / "missing.sqlite")


def test_store_schema_version_lock_and_integrity(tmp_path):
    path = tmp_path / "results.sqlite"
    with ResultsStore.open_writer(path) as store:
        assert store.integrity_check() == "ok"
        assert store.meta()["schema_version"] == "2"
        assert store.meta()["metrics"] == json.loads(json.dumps(metric_directions()))
        with pytest.raises(StoreError, match="another seqbench run"):
            ResultsStore.open_writer(path)
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE seqbench_meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(StoreError, match="newer seqbench"):
        ResultsStore.open_reader(path)


def test_dask_is_imported_only_when_chosen():
    code = "import sys, seqbench.bench, seqbench.cli; print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
