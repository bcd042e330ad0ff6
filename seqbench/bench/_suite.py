"""Suite files: TOML parsing and schema validation (structure and types).

A suite names datasets, models with parameters (and small grids), seeds and
the evaluation protocol per task::

    [suite]
    name = "quick"
    description = "every family on every task, small data"
    seeds = [0, 1, 2]          # repetitions (or a count: seeds = 3)
    timeout = 300              # seconds per job (optional; --timeout wins)
    families = ["hmm", "autoregressive", "neural", "baseline"]   # optional

    [evaluation.forecast]      # per task; default is the dataset's own split
    protocol = "rolling_origin"
    n_origins = 3
    step = 4

    [[datasets]]
    name = "adding"            # catalogue name, or "package.module:loader"
    options = { n_train = 200 }
    sweep = { T = [50, 100] }  # one dataset per value (optional)
    label = "adding"           # display name (optional)

    [[models]]
    name = "RNNClassifier"     # registry name, or "package.module:Class"
    params = { hidden_size = 32, max_epochs = 5 }
    grid = { cell = ["rnn", "lstm", "gru"] }   # fixed rows, one per combination (ablations)
    datasets = ["digits"]      # only these datasets (optional)

    [tuning]                   # the budget every tuned contender gets
    trials = 12

    [[models]]
    name = "RNNClassifier"
    search = { hidden_size = [32, 64], lr = { low = 1e-4, high = 1e-2, log = true } }

A model entry with ``search`` is its family's tuned contender (see
``_search_space``); entries without one are fixed configurations, reported
as ablations.

This module checks the structure only; ``_resolve`` checks that the names
exist and that parameters fit their estimators.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..metrics import family_names
from ._errors import SuiteError
from ._search_space import parse_search, parse_tuning

__all__ = ["Suite", "DatasetSpec", "ModelSpec", "parse_suite", "load_suite", "shipped_suites", "TASK_PROTOCOLS"]

FAMILIES = family_names()
# protocol names each task accepts; the first is the default
TASK_PROTOCOLS = {
    "classify": ("split",),
    "regress": ("split",),
    "tag": ("split",),
    "forecast": ("split", "rolling_origin"),
    "language_model": ("split",),
}
_TOP_KEYS = ("suite", "evaluation", "tuning", "datasets", "models")
_SUITE_KEYS = ("name", "description", "seeds", "timeout", "families")
_DATASET_KEYS = ("name", "label", "options", "sweep")
_MODEL_KEYS = ("name", "label", "params", "grid", "search", "datasets")
_PROTOCOL_KEYS = ("protocol", "n_origins", "step")


@dataclass(frozen=True)
class DatasetSpec:
    """One ``[[datasets]]`` entry; ``index`` is its position in the file."""

    index: int
    name: str
    label: str | None = None
    options: dict = field(default_factory=dict)
    sweep: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSpec:
    """One ``[[models]]`` entry; ``index`` is its position in the file."""

    index: int
    name: str
    label: str | None = None
    params: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    datasets: tuple | None = None
    search: dict = field(default_factory=dict)  # name -> {"choices": [...]} or {"low", "high", "log", "int"}


@dataclass(frozen=True)
class Suite:
    """A parsed suite. ``text`` and ``sha256`` are the file's, for the record."""

    name: str
    description: str
    seeds: tuple
    timeout: float | None
    families: tuple | None
    evaluation: dict  # task -> {"protocol": ..., "n_origins": ..., "step": ...}
    datasets: tuple
    models: tuple
    path: str | None = None
    tuning: dict | None = None  # {"trials", "timeout", "validation_fraction", "n_origins"} or None
    text: str = ""
    sha256: str = ""

    def protocol(self, task: str) -> dict:
        """The evaluation protocol for ``task`` (the dataset's split by default)."""
        return dict(self.evaluation.get(task, {"protocol": "split"}))

    def error(self, message: str, key: str | None = None) -> SuiteError:
        """A ``SuiteError`` for this file, with the key's line when it can be found."""
        return SuiteError(message, path=self.path, key=key, line=locate_key(self.text, key))


def parse_suite(text: str, *, path=None, default_name: str = "suite") -> Suite:
    """Parse and structurally validate suite TOML ``text``.

    Raises ``SuiteError`` naming the file, line and key path of the first
    problem (tomllib reports the line of syntax errors).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of_decode_error(exc)
        raise SuiteError(f"malformed TOML: {exc}", path=path, line=line) from None
    checker = _Checker(text, path)
    checker.keys(doc, _TOP_KEYS, "")
    head = checker.table(doc.get("suite", {}), "suite")
    checker.keys(head, _SUITE_KEYS, "suite")
    datasets = checker.array_of_tables(doc, "datasets")
    models = checker.array_of_tables(doc, "models")
    evaluation = checker.table(doc.get("evaluation", {}), "evaluation")
    tuning = parse_tuning(doc.get("tuning"), "tuning", checker.fail)
    models = tuple(checker.model(entry, i) for i, entry in enumerate(models))
    for spec in models:
        if spec.search and tuning is None:
            checker.fail(f"model {spec.name!r} searches parameters but the suite has no budget; add [tuning] with trials = N",
                         f"models[{spec.index}].search")
    return Suite(
        name=checker.string(head.get("name", default_name), "suite.name"),
        description=checker.string(head.get("description", ""), "suite.description"),
        seeds=checker.seeds(head.get("seeds", [0]), "suite.seeds"),
        timeout=checker.timeout(head.get("timeout"), "suite.timeout"),
        families=checker.families(head.get("families"), "suite.families"),
        evaluation={task: checker.protocol(spec, task) for task, spec in evaluation.items()},
        datasets=tuple(checker.dataset(entry, i) for i, entry in enumerate(datasets)),
        models=models,
        path=None if path is None else str(path),
        tuning=tuning,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


class _Checker:
    """Type checks that raise ``SuiteError`` with the key path and line."""

    def __init__(self, text: str, path):
        self.text, self.path = text, path

    def fail(self, message: str, key: str):
        raise SuiteError(message, path=self.path, key=key or None, line=locate_key(self.text, key))

    def keys(self, table: dict, allowed: tuple, where: str) -> None:
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
                self.fail(f"unknown key {key!r}; {hint}", f"{where}.{key}" if where else key)

    def table(self, value, key: str) -> dict:
        if not isinstance(value, dict):
            self.fail(f"must be a table, got {_kind(value)}", key)
        return value

    def string(self, value, key: str) -> str:
        if not isinstance(value, str) or (key.endswith(".name") and not value.strip()):
            self.fail(f"must be a non-empty string, got {_kind(value)} {value!r}", key)
        return value

    def array_of_tables(self, doc: dict, key: str) -> list:
        value = doc.get(key)
        if value is None:
            self.fail(f"the suite has no [[{key}]] entries; add at least one", key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(f"must be an array of tables ([[{key}]] sections), got {_kind(value)}", key)
        if not value:
            self.fail(f"is empty; add at least one [[{key}]] entry", key)
        return value

    def seeds(self, value, key: str) -> tuple:
        if _is_int(value):
            if value < 1:
                self.fail(f"a count of seeds must be >= 1, got {value}", key)
            return tuple(range(value))
        if not isinstance(value, list) or not value or not all(_is_int(v) and v >= 0 for v in value):
            self.fail(f"must be a count or a non-empty list of integers >= 0, got {value!r}", key)
        if len(set(value)) != len(value):
            self.fail(f"lists a seed twice: {value!r}", key)
        return tuple(value)

    def timeout(self, value, key: str) -> float | None:
        if value is None:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            self.fail(f"must be a positive number of seconds, got {value!r}", key)
        return float(value)

    def families(self, value, key: str) -> tuple | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f"must be a list of family names, got {value!r}", key)
        for i, fam in enumerate(value):
            if fam not in FAMILIES:
                close = difflib.get_close_matches(fam, FAMILIES, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(FAMILIES)}"
                self.fail(f"unknown family {fam!r}; {hint}", f"{key}[{i}]")
        return tuple(value)

    def protocol(self, spec, task: str) -> dict:
        key = f"evaluation.{task}"
        if task not in TASK_PROTOCOLS:
            close = difflib.get_close_matches(task, TASK_PROTOCOLS, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}?" if close else f"tasks: {', '.join(TASK_PROTOCOLS)}"
            self.fail(f"unknown task {task!r}; {hint}", key)
        spec = self.table(spec, key)
        self.keys(spec, _PROTOCOL_KEYS, key)
        name = spec.get("protocol", "split")
        if name not in TASK_PROTOCOLS[task]:
            self.fail(f"protocol {name!r} is not available for {task}; use one of {TASK_PROTOCOLS[task]}", f"{key}.protocol")
        out = {"protocol": name}
        if name == "rolling_origin":
            for part, default in (("n_origins", 3), ("step", 1)):
                value = spec.get(part, default)
                if not _is_int(value) or value < 1:
                    self.fail(f"must be an integer >= 1, got {value!r}", f"{key}.{part}")
                out[part] = value
        elif set(spec) - {"protocol"}:
            extra = sorted(set(spec) - {"protocol"})[0]
            self.fail(f"{extra!r} applies only to protocol 'rolling_origin'", f"{key}.{extra}")
        return out

    def dataset(self, entry: dict, i: int) -> DatasetSpec:
        key = f"datasets[{i}]"
        self.keys(entry, _DATASET_KEYS, key)
        if "name" not in entry:
            self.fail("has no name; add name = \"<dataset>\"", key)
        return DatasetSpec(
            index=i,
            name=self.string(entry["name"], f"{key}.name"),
            label=self._label(entry, key),
            options=dict(self.table(entry.get("options", {}), f"{key}.options")),
            sweep=self._axes(entry.get("sweep", {}), f"{key}.sweep"),
        )

    def model(self, entry: dict, i: int) -> ModelSpec:
        key = f"models[{i}]"
        self.keys(entry, _MODEL_KEYS, key)
        if "name" not in entry:
            self.fail("has no name; add name = \"<registry name or module:Class>\"", key)
        params = dict(self.table(entry.get("params", {}), f"{key}.params"))
        grid = self._axes(entry.get("grid", {}), f"{key}.grid")
        for both in sorted(set(params) & set(grid)):
            self.fail(f"parameter {both!r} is set in both params and grid; keep one", f"{key}.grid.{both}")
        named = lambda message, where: self.fail(f"model {entry['name']!r}: {message}", where)  # noqa: E731
        search = parse_search(entry.get("search", {}), f"{key}.search", named)
        for both in sorted(set(params) & set(search)):
            named(f"parameter {both!r} is both fixed (params) and searched; keep one", f"{key}.search.{both}")
        if search and grid:
            named("an entry with a search space cannot also have a grid: a grid makes fixed-configuration "
                  "rows (ablations); move the grid's axes into search, or use a separate entry", f"{key}.grid")
        only = entry.get("datasets")
        if only is not None and (not isinstance(only, list) or not only or not all(isinstance(v, str) for v in only)):
            self.fail(f"must be a non-empty list of dataset names or labels, got {only!r}", f"{key}.datasets")
        return ModelSpec(
            index=i,
            name=self.string(entry["name"], f"{key}.name"),
            label=self._label(entry, key),
            params=params,
            grid=grid,
            datasets=None if only is None else tuple(only),
            search=search,
        )

    def _label(self, entry: dict, key: str) -> str | None:
        return None if "label" not in entry else self.string(entry["label"], f"{key}.label")

    def _axes(self, value, key: str) -> dict:
        table = self.table(value, key)
        for name, values in table.items():
            if not isinstance(values, list) or not values:
                self.fail(f"must be a non-empty list of values, got {values!r}", f"{key}.{name}")
            if len(values) > 20:
                self.fail(f"has {len(values)} values; grids are meant to be small (at most 20 per axis)", f"{key}.{name}")
        return dict(table)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(type(value), type(value).__name__)


def _line_of_decode_error(exc: tomllib.TOMLDecodeError) -> int | None:
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return int(lineno)
    match = re.search(r"line (\d+)", str(exc))
    return int(match.group(1)) if match else None


_PART = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")


def locate_key(text: str, key: str | None) -> int | None:
    """Best-effort 1-based line of a dotted key path (``models[2].params.lr``).

    Finds the table or array-of-tables section the path starts in (the
    ``n``-th ``[[models]]`` for ``models[n]``), then the first line below it,
    before the next section, that assigns the deepest key found. Returns None
    when the key cannot be placed (the error still names the key path).
    """
    if not text or not key:
        return None
    parts = [(m.group(1), m.group(2)) for m in _PART.finditer(key)]
    lines = text.splitlines()
    start, end = 0, len(lines)
    first, index = parts[0]
    if len(parts) > 1 or index is not None:
        header = re.compile(r"^\s*\[\[\s*%s\s*\]\]" % re.escape(first)) if index is not None else None
        if header is not None:
            hits = [i for i, line in enumerate(lines) if header.match(line)]
            if int(index) >= len(hits):
                return None
            start = hits[int(index)]
        else:
            sect = re.compile(r"^\s*\[\s*%s(\.|\s*\])" % re.escape(first))
            hits = [i for i, line in enumerate(lines) if sect.match(line)]
            start = hits[0] if hits else 0
        nxt = re.compile(r"^\s*\[")
        following = [i for i in range(start + 1, len(lines)) if nxt.match(lines[i])]
        section = [i for i in following if not re.match(r"^\s*\[\s*%s\." % re.escape(first), lines[i])]
        end = section[0] if section else len(lines)
        parts = parts[1:]
    for name, _ in reversed(parts):
        pattern = re.compile(r"(^|[{,\s.\[])\"?%s\"?\s*[=.\]]" % re.escape(name))
        for i in range(start, end):
            if pattern.search(lines[i]):
                return i + 1
    return start + 1 if parts == [] or start else None


def shipped_suites() -> dict:
    """``{name: path}`` of the suites shipped with seqbench."""
    folder = resources.files("seqbench.bench") / "suites"
    return {p.name[:-5]: p for p in sorted(folder.iterdir(), key=lambda p: p.name) if p.name.endswith(".toml")}


def load_suite(ref) -> Suite:
    """A suite from a ``Suite``, a path to a TOML file, or a shipped suite's name.

    Raises ``SuiteError`` for a file that is missing, unreadable or malformed,
    and for an unknown name (with close matches among the shipped suites).
    """
    if isinstance(ref, Suite):
        return ref
    ref_str = str(ref)
    path = Path(ref_str)
    shipped = shipped_suites()
    if not path.exists() and ref_str in shipped:
        return parse_suite(shipped[ref_str].read_text(encoding="utf-8"), path=str(shipped[ref_str]), default_name=ref_str)
    if not path.exists():
        looks_like_path = ref_str.endswith(".toml") or "/" in ref_str or "\\" in ref_str
        close = difflib.get_close_matches(ref_str, list(shipped), n=2, cutoff=0.5)
        if looks_like_path:
            raise SuiteError(f"suite file {ref_str} does not exist", path=ref_str)
        hint = f"did you mean {', '.join(close)}?" if close else f"shipped suites: {', '.join(shipped)}"
        raise SuiteError(f"unknown suite {ref_str!r}; {hint} (or give a path to a .toml file)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"cannot read the suite file: {exc}", path=path) from None
    return parse_suite(text, path=path, default_name=path.stem)
