"""Finding models by name and checking their parameters.

A suite names a model by its registry name (``RNNClassifier``) or by an
importable path ``package.module:Class`` (so tests and users can benchmark
their own estimators without touching the registry). Parameters are checked
against the class before any job runs: unknown names get close matches,
wrong types the class's own constraint message (scikit-learn's
``_parameter_constraints``) or, without constraints, a check against the
type of the default value.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import itertools

__all__ = ["registry", "resolve_model", "check_params", "coerce_params", "expand_grid", "import_object", "param_names"]


def import_object(path: str, what: str):
    """Import ``package.module:attr`` (``attr`` may be dotted). Raises ``LookupError``."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise LookupError(f"{what} path {path!r} must look like 'package.module:Name'")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise LookupError(f"cannot import module {module_name!r} for {what} {path!r}: {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            close = difflib.get_close_matches(part, names, n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise LookupError(f"module {module_name!r} has no {what} {part!r}{hint}")
        obj = getattr(obj, part)
    return obj


def registry():
    """``seqbench.models`` (its ``get_estimator`` and ``all_estimators``).

    Imported on first use, on purpose: it loads torch (seconds), and the
    runner starts its worker processes before that so they import it
    meanwhile; ``seqbench results`` and ``list suites`` never need it."""
    from .. import models

    return models


def resolve_model(name: str) -> type:
    """The estimator class for a registry name or a ``module:Class`` path.

    Raises ``LookupError`` (unknown name, with close matches) or
    ``TypeError`` (the object is not a seqbench estimator class).
    """
    if ":" in name:
        cls = import_object(name, "model")
    else:
        try:
            cls = registry().get_estimator(name)
        except KeyError as exc:
            raise LookupError(exc.args[0]) from None
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise TypeError(f"model {name!r} is {cls!r}, not an estimator class with fit")
    caps = getattr(cls, "capabilities", None)
    if caps is None or not hasattr(caps, "task") or not hasattr(caps, "family"):
        raise TypeError(
            f"model {name!r} ({cls.__module__}.{cls.__qualname__}) has no `capabilities` "
            "(seqbench.models._base.Capabilities); the runner needs its task and family"
        )
    return cls


def param_names(cls: type) -> list[str]:
    """Constructor parameter names (scikit-learn's ``_get_param_names`` when present)."""
    getter = getattr(cls, "_get_param_names", None)
    if getter is not None:
        return list(getter())
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _defaults(cls: type) -> dict:
    sig = inspect.signature(cls.__init__)
    return {p.name: p.default for p in sig.parameters.values() if p.default is not inspect.Parameter.empty}


def coerce_params(cls: type, params: dict) -> dict:
    """TOML has arrays but no tuples: a list given for a parameter whose
    default is a tuple (``ngram_range``, ``seasonal_order``) becomes a tuple."""
    defaults = _defaults(cls)
    return {k: tuple(v) if isinstance(v, list) and isinstance(defaults.get(k), tuple) else v for k, v in params.items()}


def check_params(cls: type, params: dict, fail) -> None:
    """Check parameter names and values against ``cls`` (after ``coerce_params``).

    ``fail(message, name)`` raises the caller's error for parameter ``name``.
    """
    params = coerce_params(cls, params)
    names = param_names(cls)
    for name in params:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else f"its parameters: {', '.join(names)}"
            fail(f"{cls.__name__} has no parameter {name!r}; {hint}", name)
    constraints = getattr(cls, "_parameter_constraints", None)
    defaults = _defaults(cls)
    for name, value in params.items():
        if constraints and name in constraints:
            _check_constraint(cls, constraints, name, value, fail)
        elif name in defaults:
            problem = type_problem(defaults[name], value)
            if problem:
                fail(f"{cls.__name__}.{name} {problem}", name)


def _check_constraint(cls, constraints: dict, name: str, value, fail) -> None:
    from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints

    try:
        validate_parameter_constraints({name: constraints[name]}, {name: value}, caller_name=cls.__name__)
    except InvalidParameterError as exc:
        fail(str(exc), name)


def type_problem(default, value) -> str | None:
    """Why ``value`` does not fit a parameter whose default is ``default`` (or None)."""
    if default is None:
        return None
    if isinstance(default, bool):
        ok = isinstance(value, bool)
        want = "a boolean"
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
        want = "an integer"
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        want = "a number"
    elif isinstance(default, str):
        ok = isinstance(value, str) or value is None
        want = "a string"
    else:
        return None
    return None if ok else f"must be {want} (its default is {default!r}), got {value!r}"


def expand_grid(params: dict, grid: dict) -> list[tuple[dict, dict]]:
    """``[(all_params, grid_point)]``: the cartesian product of the grid axes
    (in the file's order) merged over ``params``; one entry when no grid."""
    if not grid:
        return [(dict(params), {})]
    axes = list(grid)
    out = []
    for combo in itertools.product(*(grid[a] for a in axes)):
        point = dict(zip(axes, combo))
        out.append(({**params, **point}, point))
    return out
