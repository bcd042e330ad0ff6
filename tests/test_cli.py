"""The ``seqbench`` command line: one error path, one exit-status convention
(0 done, 1 failure in one line, 2 bad usage)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seqbench.bench import BenchError, run_suite
from seqbench.cli import main


@pytest.mark.parametrize("argv, says", [
    ([], "required: COMMAND"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["run"], "the following arguments are required: --suite"),
    (["run", "--suite", "quick", "--jobs", "0"], "--jobs: must be at least 1, got 0"),
    (["run", "--suite", "quick", "--jobs", "two"], "--jobs: 'two' is not a whole number"),
    (["run", "--suite", "quick", "--timeout", "-5"], "--timeout: must be a positive, finite number, got -5"),
    (["run", "--suite", "quick", "--executor", "serial", "--address", "tcp://h:8786"],
     "--address is for --executor dask"),
    (["report", "x.sqlite", "--alpha", "0"], "--alpha: must be between 0 and 1, got 0"),
    (["list", "everything"], "invalid choice: 'everything'"),
])
def test_usage_errors_exit_2_with_the_usage_line(argv, says, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert says in err and err.startswith("usage: seqbench")


def test_failures_exit_1_with_one_line_and_no_traceback(tmp_path, capsys):
    (tmp_path / "foreign.sqlite").write_text("not a database")
    cases = [
        (["run", "--suite", "no_such_suite", "--out", str(tmp_path / "o")], "no_such_suite"),
        (["results", str(tmp_path / "missing.sqlite")], "missing.sqlite does not exist"),
        (["results", str(tmp_path / "foreign.sqlite")], "not a seqbench results store"),
        (["report", str(tmp_path / "missing.sqlite")], "missing.sqlite does not exist"),
        (["datasets", "info", "no_such_dataset"], "no_such_dataset"),
    ]
    for argv, says in cases:
        assert main(argv) == 1, argv
        err = capsys.readouterr().err
        (line,) = err.strip().splitlines()
        assert line.startswith("seqbench: error: ") and says in line, (argv, err)
    assert not (tmp_path / "o").exists()  # a bad suite fails before anything is written


def test_library_errors_name_parameters_not_flags(tmp_path):
    with pytest.raises(BenchError, match=r"^jobs must be at least 1, got 0$"):
        run_suite("quick", jobs=0, out=tmp_path)
    with pytest.raises(BenchError, match=r"^timeout must be a positive, finite number of seconds \(None for no "
                                         r"limit\), got -1"):
        run_suite("quick", timeout=-1, out=tmp_path)


def test_the_module_entry_point_runs_the_command_line():
    module = "seqbench"
    done = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("seqbench ")
    usage = subprocess.run([sys.executable, "-m", module, "run"], capture_output=True, text=True, timeout=120)
    assert usage.returncode == 2 and "--suite" in usage.stderr
