"""Plug-ins (``module:object`` names in a suite) run only with the user's
permission, never from the standard library, and only classes and
functions; a suite's name cannot lead its output outside ``reports/``."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from seqbench.bench import BenchError, SuiteError, parse_suite, resolve_suite, run_suite
from seqbench.bench._runner import default_out_dir
from seqbench.cli import main


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "suite.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("section, extra", [("datasets", ""), ("models", "\n[[models]]\nname = \"os:system\"\n")])
@pytest.mark.parametrize("allow", [False, True])
def test_a_suite_naming_os_system_runs_nothing_and_says_why(section, extra, allow, tmp_path, capsys):
    marker = Path("/tmp") / f"PWNED_{uuid.uuid4().hex}"
    dataset = "os:system" if section == "datasets" else "digits"
    options = f'options = {{ command = "touch {marker}" }}\n' if section == "datasets" else ""
    suite = _write(tmp_path, f'[suite]\nname = "pwn"\n[[datasets]]\nname = "{dataset}"\n{options}'
                             f'[[models]]\nname = "FeatureClassifier"\n{extra}')
    argv = ["run", "--suite", str(suite), "--out", str(tmp_path / "out"), "--executor", "serial", "--no-progress"]
    assert main(argv + (["--allow-plugins"] if allow else [])) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    index = "datasets[0]" if section == "datasets" else "models[1]"
    assert f"key {index}.name: " in line
    assert "'os:system' comes from Python's standard library ('os')" in line
    assert not marker.exists() and not (tmp_path / "out").exists()


def _marker_module(tmp_path, monkeypatch) -> tuple[str, Path]:
    """A module that leaves a file behind when imported, on the path of this
    process and of the worker processes."""
    name = f"plugin_{uuid.uuid4().hex[:12]}"
    marker = tmp_path / "imported"
    (tmp_path / f"{name}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
        "from bench_helpers import tiny_classify, MeanClassifier\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}:{Path(__file__).parent}")
    return name, marker


def test_plug_ins_are_not_even_imported_unless_allowed(tmp_path, monkeypatch):
    name, marker = _marker_module(tmp_path, monkeypatch)
    text = (f'[suite]\nname = "mine"\n[[datasets]]\nname = "{name}:tiny_classify"\n'
            f'[[models]]\nname = "{name}:MeanClassifier"\n')
    with pytest.raises(SuiteError) as info:  # the process executor: its workers preload nothing either
        run_suite(parse_suite(text, path="mine.toml"), out=tmp_path / "out", progress=False)
    assert str(info.value) == (
        f"mine.toml, line 4, key datasets[0].name: dataset loader '{name}:tiny_classify' is a plug-in (an import "
        "path): a suite that names one runs that module's code, so seqbench imports it only when allowed; if you "
        f"trust it, add plugins = ['{name}'] to the [suite] table, or pass --allow-plugins "
        "(RunOptions(allow_plugins=True))")
    assert not marker.exists() and name not in sys.modules

    allowed = text.replace('name = "mine"\n', f'name = "mine"\nplugins = ["{name}"]\n')
    summary = run_suite(parse_suite(allowed), out=tmp_path / "out", executor="serial", progress=False)
    assert marker.exists() and summary.counts == {"ok": 1}
    marker.unlink()
    summary = run_suite(parse_suite(text), out=tmp_path / "out2", executor="serial", progress=False,
                        allow_plugins=True)
    assert summary.counts == {"ok": 1}


def test_the_plugins_list_accepts_a_full_path_or_a_parent_package():
    text = ('[suite]\nplugins = [{}]\n[[datasets]]\nname = "bench_helpers:tiny_classify"\n'
            '[[models]]\nname = "bench_helpers:MeanClassifier"\n')
    resolve_suite(parse_suite(text.format('"bench_helpers:tiny_classify", "bench_helpers:MeanClassifier"')))
    with pytest.raises(SuiteError, match=r"key models\[0\].name: model 'bench_helpers:MeanClassifier' is a plug-in"):
        resolve_suite(parse_suite(text.format('"bench_helpers:tiny_classify"')))
    with pytest.raises(SuiteError, match=r"key suite.plugins: must be a list of module names"):
        parse_suite(text.format('"../evil"'))


@pytest.mark.parametrize("path, says", [
    ("bench_helpers:np", "is module <module 'numpy'"),  # a module, not a class or function
    ("bench_helpers:time.sleep", "is builtin_function_or_method"),  # a builtin reached through a plug-in
    ("bench_helpers:dataclass", "is dataclasses.dataclass, from Python's standard library"),  # re-exported
    ("builtins:eval", "comes from Python's standard library ('builtins')"),
    ("subprocess:run", "comes from Python's standard library ('subprocess')"),
])
def test_only_classes_and_functions_from_outside_the_standard_library(path, says):
    text = f'[suite]\n[[datasets]]\nname = "bench_helpers:tiny_classify"\n[[models]]\nname = "{path}"\n'
    with pytest.raises(SuiteError) as info:
        resolve_suite(parse_suite(text), allow_plugins=True)
    assert info.value.key == "models[0].name" and says in str(info.value)


@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "..", "a/b", "~root", "a\\\\b"])
def test_a_suite_name_cannot_lead_outside_the_reports_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = f'[suite]\nname = "{name}"\n[[datasets]]\nname = "digits"\n[[models]]\nname = "FeatureClassifier"\n'
    with pytest.raises(SuiteError, match=r"line 2, key suite.name: must be a plain name"):
        run_suite(parse_suite(text), executor="serial")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["..", "../x", "/abs", "."])
def test_the_default_output_folder_refuses_escaping_names(name):
    with pytest.raises(BenchError, match="is not a plain folder name under reports/"):
        default_out_dir(name)
    assert default_out_dir("long-range") == Path("reports") / "long-range"
