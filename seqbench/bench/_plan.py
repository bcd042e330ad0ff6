"""From a parsed suite to the list of jobs (benchopt's "generate runs").

Two steps, both before any job runs:

1. ``resolve_suite`` checks every name and parameter without loading data:
   models (registry or ``module:Class``), parameters and grid values,
   datasets, ``models[i].datasets`` references, unique labels.
2. ``make_plan`` loads each dataset once per seed (synthetic ones draw a new
   sample per seed), fingerprints it, and expands datasets x models x seeds x
   folds into jobs with stable keys, plus the n/a rows: model-dataset
   pairings that do not exist (a family with no estimator for a task, a
   model that does not accept the dataset's kind of sequences).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
from dataclasses import dataclass

from .. import metrics
from ..results import json_safe
from ._datasets import accepts_seed, check_dataset_name, check_dataset_options, input_kind, load_dataset
from ._keys import derive_seed, job_key, na_key
from ._resolve import check_params, expand_grid, registry, resolve_model
from ._search_space import check_search
from ._suite import Suite

__all__ = ["Job", "Plan", "ResolvedSuite", "resolve_suite", "make_plan", "with_runtime", "job_cost"]


@dataclass(frozen=True)
class Job:
    """One (dataset, model with parameters, seed, fold): all plain values, so
    it pickles cheaply to any worker. ``threads`` and ``timeout`` are set by
    the runner when it dispatches the job."""

    key: str
    suite: str
    task: str
    dataset: str
    dataset_label: str
    dataset_options: dict
    dataset_random_state: int | None
    dataset_checksum: str
    model: str
    model_label: str
    family: str
    params: dict
    seed: int
    random_state: int
    fold: int
    n_folds: int
    protocol: dict
    threads: int | None = None
    timeout: float | None = None
    # a tuned job: {"space": {...}, "trials": N, "timeout", "validation_fraction",
    # "n_origins"} (bench._search_space); None for a fixed configuration. Not
    # named "tuning": that is the store's column for what tuning chose.
    search: dict | None = None


@dataclass(frozen=True)
class _ModelVariant:
    spec_index: int
    name: str
    cls: type
    params: dict
    label: str
    only: tuple | None
    search: dict | None = None

    @property
    def task(self) -> str:
        return self.cls.capabilities.task

    @property
    def family(self) -> str:
        return self.cls.capabilities.family


@dataclass(frozen=True)
class _DatasetInstance:
    spec_index: int
    name: str
    options: dict
    label: str
    seeded: bool


@dataclass(frozen=True)
class ResolvedSuite:
    suite: Suite
    datasets: tuple  # of _DatasetInstance
    models: tuple  # of _ModelVariant


@dataclass
class Plan:
    """Jobs to run, n/a rows, dataset records and warnings for one suite."""

    suite: Suite
    jobs: list
    na_rows: list
    datasets: list
    warnings: list


def _suffix(point: dict) -> str:
    return "" if not point else "(" + ", ".join(f"{k}={v}" for k, v in point.items()) + ")"


def resolve_suite(suite: Suite) -> ResolvedSuite:
    """Check every name and parameter of ``suite`` (no data loaded).

    Raises ``SuiteError`` with the key path (and line) of the first problem.
    """
    datasets = [inst for spec in suite.datasets for inst in _resolve_dataset(suite, spec)]
    _check_unique([("", d.label, d.spec_index) for d in datasets], suite, "datasets", "dataset")
    models = []
    for spec in suite.models:
        models += _resolve_model(suite, spec)
        _check_only(spec, suite, datasets)
    _check_unique([(m.task, m.label, m.spec_index) for m in models], suite, "models", "model")
    _check_one_contender(suite, models)
    return ResolvedSuite(suite, tuple(datasets), tuple(models))


def _resolve_dataset(suite: Suite, spec) -> list:
    """The dataset instances of one ``[[datasets]]`` entry (one per sweep point)."""
    key = f"datasets[{spec.index}]"
    try:
        check_dataset_name(spec.name)
        seeded = accepts_seed(spec.name)
    except LookupError as exc:
        raise suite.error(str(exc), f"{key}.name") from None
    if "random_state" in spec.options or "random_state" in spec.sweep:
        raise suite.error("random_state is set by the runner from the suite's seeds; remove it", f"{key}.options")

    def fail(message, option):
        raise suite.error(message, f"{key}.{'sweep' if option in spec.sweep else 'options'}.{option}")

    check_dataset_options(spec.name, spec.options, fail)
    for option, values in spec.sweep.items():
        for value in values:
            check_dataset_options(spec.name, {option: value}, fail)
    return [_DatasetInstance(spec.index, spec.name, options, (spec.label or spec.name) + _suffix(point), seeded)
            for options, point in expand_grid(spec.options, spec.sweep)]


def _resolve_model(suite: Suite, spec) -> list:
    """The model variants of one ``[[models]]`` entry (one per grid point)."""
    key = f"models[{spec.index}]"
    try:
        cls = resolve_model(spec.name)
    except (LookupError, TypeError) as exc:
        raise suite.error(str(exc), f"{key}.name") from None

    def fail(message, name):
        raise suite.error(message, f"{key}.{'grid' if name in spec.grid else 'params'}.{name}")

    check_params(cls, spec.params, fail)
    for name, values in spec.grid.items():
        for value in values:
            check_params(cls, {name: value}, fail)

    def fail_search(message, name, part):
        where = f"{key}.search.{name}" + (f".{part}" if part else "")
        raise suite.error(f"model {spec.name!r}: {message}", where)

    check_search(cls, spec.search, check_params, fail_search)
    base = spec.label or (cls.__name__ if ":" in spec.name else spec.name)
    return [_ModelVariant(spec.index, spec.name, cls, params, base + _suffix(point), spec.datasets, spec.search or None)
            for params, point in expand_grid(spec.params, spec.grid)]


def _check_one_contender(suite: Suite, models: list) -> None:
    """At most one tuned entry per task and family on any dataset: the
    report compares exactly one tuned contender per family."""
    tuned = [m for m in models if m.search]
    for i, a in enumerate(tuned):
        for b in tuned[i + 1:]:
            overlap = a.only is None or b.only is None or set(a.only) & set(b.only)
            if a.task == b.task and a.family == b.family and overlap:
                raise suite.error(
                    f"models[{a.spec_index}] ({a.label}) and models[{b.spec_index}] ({b.label}) are both tuned "
                    f"{a.family} contenders for the {a.task} task; a family gets one search space per task "
                    "(merge them into one search, or restrict each to other datasets)", f"models[{b.spec_index}].search")


def _check_unique(labels: list, suite: Suite, section: str, what: str) -> None:
    """Labels name rows of the results: unique per task (models) or suite (datasets)."""
    seen = {}
    for task, label, index in labels:
        if (task, label) in seen:
            first = seen[(task, label)]
            scope = f" for the {task} task" if task else ""
            raise suite.error(
                f"{section}[{first}] and {section}[{index}] are both labelled {label!r}{scope}; "
                f"give each its own label = \"...\"", f"{section}[{index}]")
        seen[(task, label)] = index


def _check_only(spec, suite: Suite, datasets: list) -> None:
    if spec.datasets is None:
        return
    known = {d.label for d in datasets} | {d.name for d in datasets}
    for i, ref in enumerate(spec.datasets):
        if ref not in known:
            close = difflib.get_close_matches(ref, sorted(known), n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else f"the suite's datasets: {', '.join(sorted(known))}"
            raise suite.error(f"dataset {ref!r} is not in this suite; {hint}", f"models[{spec.index}].datasets[{i}]")


def make_plan(resolved: ResolvedSuite) -> Plan:
    """Load the datasets and expand the suite into jobs and n/a rows."""
    suite = resolved.suite
    jobs, na_rows, records, warnings = [], [], [], []
    used = set()
    for inst in resolved.datasets:
        loaded = _load_all_seeds(inst, suite)
        task, kind = loaded[0][1].task, input_kind(loaded[0][1])
        for _, record, checksum, rs in {item[2]: item for item in loaded}.values():  # one row per content
            records.append(_dataset_row(inst, record, checksum, rs, kind))
        protocol = suite.protocol(task)
        n_folds = protocol.get("n_origins", 1) if protocol["protocol"] == "rolling_origin" else 1
        for variant in resolved.models:
            if variant.task != task or (variant.only and inst.label not in variant.only and inst.name not in variant.only):
                continue
            used.add(variant.label)
            if kind not in variant.cls.capabilities.input_kinds:
                reason = f"{variant.cls.__name__} does not accept {kind} sequences (it takes {sorted(variant.cls.capabilities.input_kinds)})"
                na_rows.append(_na_row(suite, inst, task, variant.name, variant.label, variant.family, variant.params, reason))
                continue
            for (seed, record, checksum, rs), fold in itertools.product(loaded, range(n_folds)):
                jobs.append(_job(suite, inst, task, checksum, rs, variant, seed, fold, n_folds, protocol))
        na_rows.extend(_family_na_rows(suite, inst, task, resolved.models))
    for variant in resolved.models:
        if variant.label not in used:
            warnings.append(f"model {variant.label!r} ({variant.task}) matches no dataset in this suite")
    return Plan(suite, jobs, na_rows, records, warnings)


def _load_all_seeds(inst: _DatasetInstance, suite: Suite) -> list:
    """``[(seed, record, checksum, random_state)]``: one load per seed for
    synthetic datasets, one shared load otherwise."""
    out = []
    seeds = suite.seeds if inst.seeded else suite.seeds[:1]
    for seed in seeds:
        rs = derive_seed("dataset", inst.name, inst.options, seed) if inst.seeded else None
        try:
            record, checksum = load_dataset(inst.name, inst.options, rs)
        except Exception as exc:  # noqa: BLE001 - any loading problem is this entry's, reported before any job
            raise suite.error(f"dataset {inst.label!r} cannot be loaded: {type(exc).__name__}: {exc}",
                              f"datasets[{inst.spec_index}]") from None
        out.append((seed, record, checksum, rs))
    if not inst.seeded:
        _, record, checksum, rs = out[0]
        out = [(seed, record, checksum, rs) for seed in suite.seeds]
    return out


def _job(suite, inst, task, checksum, rs, variant, seed, fold, n_folds, protocol) -> Job:
    search = {"space": variant.search, **suite.tuning} if variant.search else None
    key = job_key(
        dataset=inst.name, dataset_options=inst.options, dataset_checksum=checksum,
        model=variant.name, params=variant.params, seed=seed, fold=fold, protocol=protocol, tuning=search,
    )
    return Job(
        key=key, suite=suite.name, task=task, dataset=inst.name, dataset_label=inst.label,
        dataset_options=inst.options, dataset_random_state=rs, dataset_checksum=checksum,
        model=variant.name, model_label=variant.label, family=variant.family, params=variant.params,
        seed=seed, random_state=derive_seed("model", inst.name, inst.options, variant.name, seed),
        fold=fold, n_folds=n_folds, protocol=protocol, search=search,
    )


def _na_row(suite, inst, task, model, label, family, params, reason) -> dict:
    return {
        "key": na_key(dataset=inst.name, dataset_options=inst.options, model=model, params=params),
        "suite": suite.name, "task": task, "dataset": inst.name, "dataset_label": inst.label,
        "dataset_options": inst.options, "model": model, "model_label": label, "family": family,
        "params": params, "status": "n/a", "error": reason,
    }


def _family_na_rows(suite, inst, task, variants) -> list:
    """n/a rows for families of this suite that have no estimator for ``task``."""
    families = suite.families or tuple(dict.fromkeys(v.family for v in variants))
    rows = []
    for family in families:
        if any(v.family == family and v.task == task for v in variants):
            continue
        if registry().all_estimators(task=task, family=family):
            continue  # seqbench has one; this suite just does not run it
        reason = f"seqbench has no {family} estimator for the {task} task"
        rows.append(_na_row(suite, inst, task, family, family, family, {}, reason))
    return rows


def _dataset_row(inst, record, checksum, rs, kind) -> dict:
    meta = dict(getattr(record, "meta", {}) or {})
    return {
        "checksum": checksum, "name": inst.name, "label": inst.label, "options": inst.options,
        "random_state": rs, "task": record.task, "input_kind": kind,
        "n_train": len(record.X_train), "n_test": len(record.X_test), "meta": json_safe(meta),
    }


def job_cost(job: Job) -> int:
    """A rough rank of how long ``job`` takes (larger is longer): its
    family's ``cost`` (1 for a family seqbench does not know)."""
    known = metrics.family(job.family)
    return known.cost if known else 1


def with_runtime(job: Job, *, threads: int | None, timeout: float | None) -> Job:
    """``job`` with the run's thread budget and timeout."""
    return dataclasses.replace(job, threads=threads, timeout=timeout)
