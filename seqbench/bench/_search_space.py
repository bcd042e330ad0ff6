"""Search spaces and the tuning budget of a suite.

A model entry declares what tuning may choose, and the suite one budget
that every family's contender gets::

    [tuning]
    trials = 12                # trials per job, the same for every family
    timeout = 600              # seconds of tuning per job (optional)
    validation_fraction = 0.2  # held-out share of the training part (optional)
    n_origins = 2              # forecast: rolling origins on the training tail (optional)

    [[models]]
    name = "RNNClassifier"
    params = { max_epochs = 30 }                      # fixed
    search = { hidden_size = [32, 64],                # choices
               lr = { low = 1e-4, high = 1e-2, log = true },   # a range
               num_layers = { low = 1, high = 2 } }   # integer bounds: an integer range

A range whose bounds are both integers is an integer range unless it says
``int = false``. ``parse_search`` and ``parse_tuning`` check the structure
(``_suite`` calls them); ``check_search`` checks names and values against
the estimator class (``_plan`` calls it); ``suggest`` draws one
configuration from an Optuna trial.
"""

from __future__ import annotations

import math

from ._resolve import param_names

__all__ = ["parse_search", "parse_tuning", "check_search", "suggest", "TUNING_DEFAULTS"]

_RANGE_KEYS = ("low", "high", "log", "int")
_TUNING_KEYS = ("trials", "timeout", "validation_fraction", "n_origins")
TUNING_DEFAULTS = {"timeout": None, "validation_fraction": 0.2, "n_origins": 2}
_MAX_CHOICES = 50
# Optuna stores these natively as categorical choices; anything else (a list
# for a tuple parameter such as ngram_range) is drawn by its index.
_PLAIN = (bool, int, float, str, type(None))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_search(value, key: str, fail) -> dict:
    """The checked ``search`` table of one model entry.

    Returns ``{name: {"choices": [...]}}`` or ``{name: {"low", "high",
    "log", "int"}}``. ``fail(message, key)`` raises the caller's error for
    the dotted ``key`` (``models[2].search.lr.low``).
    """
    if not isinstance(value, dict):
        fail(f"must be a table of parameter = [choices] or {{ low = ..., high = ... }}, got {value!r}", key)
    space = {}
    for name, spec in value.items():
        where = f"{key}.{name}"
        if isinstance(spec, list):
            if not spec:
                fail("is an empty list of choices; give at least one value (or move the parameter to params)", where)
            if len(spec) > _MAX_CHOICES:
                fail(f"has {len(spec)} choices; at most {_MAX_CHOICES} (use a range for numbers)", where)
            space[name] = {"choices": list(spec)}
        elif isinstance(spec, dict):
            space[name] = _parse_range(spec, where, fail)
        else:
            fail(f"must be a list of choices or a range {{ low = ..., high = ..., log = true }}, got {spec!r}", where)
    return space


def _parse_range(spec: dict, where: str, fail) -> dict:
    for extra in spec:
        if extra not in _RANGE_KEYS:
            fail(f"unknown key {extra!r} in a range; allowed: {', '.join(_RANGE_KEYS)}", f"{where}.{extra}")
    for bound in ("low", "high"):
        if bound not in spec:
            fail(f"a range needs both low and high; {bound} is missing", where)
        if not _is_number(spec[bound]) or not math.isfinite(spec[bound]):
            fail(f"must be a finite number, got {spec[bound]!r}", f"{where}.{bound}")
    for flag in ("log", "int"):
        if flag in spec and not isinstance(spec[flag], bool):
            fail(f"must be true or false, got {spec[flag]!r}", f"{where}.{flag}")
    low, high, log = spec["low"], spec["high"], spec.get("log", False)
    if low > high:
        fail(f"low = {low} is greater than high = {high}; swap them", f"{where}.low")
    if log and low <= 0:
        fail(f"a log range needs low > 0, got low = {low}; raise low or set log = false", f"{where}.low")
    integer = spec.get("int", _is_int(low) and _is_int(high))
    if integer and not (float(low).is_integer() and float(high).is_integer()):
        fail(f"an integer range needs whole-number bounds, got low = {low}, high = {high}", where)
    return {"low": int(low) if integer else float(low), "high": int(high) if integer else float(high),
            "log": bool(log), "int": bool(integer)}


def parse_tuning(value, key: str, fail) -> dict | None:
    """The checked ``[tuning]`` table (None when the suite has none)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        fail(f"must be a table ([tuning] with trials = N), got {value!r}", key)
    for extra in value:
        if extra not in _TUNING_KEYS:
            fail(f"unknown key {extra!r}; allowed: {', '.join(_TUNING_KEYS)}", f"{key}.{extra}")
    if "trials" not in value:
        fail("has no trials; add trials = N (the budget every family's contender gets)", key)
    trials = value["trials"]
    if not _is_int(trials) or trials <= 0:
        fail(f"the budget must be an integer number of trials > 0, got {trials!r}", f"{key}.trials")
    out = {**TUNING_DEFAULTS, "trials": trials}
    timeout = value.get("timeout")
    if timeout is not None and (not _is_number(timeout) or timeout <= 0):
        fail(f"must be a positive number of seconds, got {timeout!r}", f"{key}.timeout")
    out["timeout"] = None if timeout is None else float(timeout)
    fraction = value.get("validation_fraction", TUNING_DEFAULTS["validation_fraction"])
    if not _is_number(fraction) or not 0 < fraction < 1:
        fail(f"must be a number in (0, 1), got {fraction!r}", f"{key}.validation_fraction")
    out["validation_fraction"] = float(fraction)
    origins = value.get("n_origins", TUNING_DEFAULTS["n_origins"])
    if not _is_int(origins) or origins < 1:
        fail(f"must be an integer >= 1, got {origins!r}", f"{key}.n_origins")
    out["n_origins"] = origins
    return out


def check_search(cls: type, space: dict, check_params, fail) -> None:
    """Check every searched name and value against ``cls``.

    ``check_params(cls, {name: value}, fail_param)`` is the runner's own
    parameter check; ``fail(message, name, part)`` raises for the key
    ``search.<name>[.<part>]``.
    """
    names = param_names(cls)
    for name, spec in space.items():
        if name not in names:  # the name is the problem, whatever its values
            check_params(cls, {name: None}, lambda message, _name: fail(message, name, None))
        values = spec["choices"] if "choices" in spec else [spec["low"], spec["high"]]
        parts = [None] * len(values) if "choices" in spec else ["low", "high"]
        for value, part in zip(values, parts):
            check_params(cls, {name: value}, lambda message, _name, part=part: fail(message, name, part))


def suggest(trial, space: dict) -> dict:
    """One configuration of ``space`` drawn from an Optuna ``trial``."""
    params = {}
    for name, spec in space.items():
        if "choices" in spec:
            choices = spec["choices"]
            if all(isinstance(c, _PLAIN) for c in choices):
                params[name] = trial.suggest_categorical(name, choices)
            else:
                params[name] = choices[trial.suggest_categorical(f"{name}#index", list(range(len(choices))))]
        elif spec["int"]:
            params[name] = trial.suggest_int(name, spec["low"], spec["high"], log=spec["log"])
        else:
            params[name] = trial.suggest_float(name, spec["low"], spec["high"], log=spec["log"])
    return params
