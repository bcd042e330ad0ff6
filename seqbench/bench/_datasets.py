"""How the runner reaches datasets: catalogue names or ``module:loader`` paths,
loading with a small per-process cache, fingerprints and input kinds.

A catalogue dataset is loaded with ``seqbench.datasets.load(name, **options)``;
a ``package.module:loader`` path is called as ``loader(**options)`` and must
return a record with ``name, task, X_train, y_train, X_test, y_test, meta``
(:class:`seqbench.datasets.Dataset` or anything shaped like it). Loaders
that take ``random_state`` (the synthetic datasets) get one derived from the
suite's seed, so each seed draws a new sample that every model shares.
"""

from __future__ import annotations

import difflib
import inspect
import json
from collections import OrderedDict

from ..data import check_sequences
from ..datasets import accepts_random_state, content_fingerprint, get_card, load
from ._resolve import import_object, type_problem

__all__ = [
    "check_dataset_name",
    "accepts_seed",
    "check_dataset_options",
    "load_dataset",
    "fingerprint",
    "input_kind",
    "forget_cached",
]

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 6


def check_dataset_name(name: str) -> None:
    """Raise ``LookupError`` (with close matches) for an unknown dataset."""
    if ":" in name:
        _loader(name)
        return
    try:
        get_card(name)
    except (KeyError, ValueError) as exc:
        raise LookupError(f"{exc.args[0] if exc.args else exc} (or give a 'package.module:loader' path)") from None


def _loader(name: str):
    obj = import_object(name, "dataset loader")
    if not callable(obj):
        raise LookupError(f"dataset loader {name!r} is {obj!r}, not a function")
    return obj


def _signature_params(func) -> dict | None:
    try:
        return dict(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return None


def accepts_seed(name: str) -> bool:
    """Whether the dataset is drawn at random (its loader takes ``random_state``)."""
    if ":" in name:
        params = _signature_params(_loader(name)) or {}
        return "random_state" in params
    return bool(accepts_random_state(name))


def check_dataset_options(name: str, options: dict, fail) -> None:
    """Check option names (and, against the defaults, value types) before
    loading; ``fail(message, option)`` raises the caller's error."""
    if ":" in name:
        params = _signature_params(_loader(name))
        if params is None or any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return
        accepted = {k: p.default for k, p in params.items() if k != "random_state"}
    else:
        card = get_card(name)
        if card.kind != "synthetic":
            if options:
                fail(f"dataset {name!r} has a fixed split and takes no options", sorted(options)[0])
            return
        accepted = {k: v for k, v in card.options.items() if k != "random_state"}
        for k in _signature_params(card.loader_function()) or {}:
            accepted.setdefault(k, None)
        accepted.pop("random_state", None)
    for option, value in options.items():
        if option not in accepted:
            close = difflib.get_close_matches(option, list(accepted), n=3, cutoff=0.6)
            hint = f"did you mean {', '.join(close)}?" if close else f"its options: {', '.join(accepted) or 'none'}"
            fail(f"dataset {name!r} has no option {option!r}; {hint}", option)
        default = accepted[option]
        problem = type_problem(default, value) if default is not inspect.Parameter.empty else None
        if problem:
            fail(f"option {option!r} of dataset {name!r} {problem}", option)


def load_dataset(name: str, options: dict, random_state: int | None):
    """``(record, fingerprint)`` for ``name`` with ``options``, cached per process.

    ``random_state`` is passed only when not None. The cache holds the last
    few datasets, so a worker running many jobs on one dataset loads and
    fingerprints it once.
    """
    cache_key = (name, json.dumps(options, sort_keys=True, default=str), random_state)
    if cache_key in _CACHE:
        _CACHE.move_to_end(cache_key)
        return _CACHE[cache_key]
    kwargs = dict(options)
    if random_state is not None:
        kwargs["random_state"] = random_state
    if ":" in name:
        record = _loader(name)(**kwargs)
    else:
        record = load(name, **kwargs)
    for attr in ("task", "X_train", "y_train", "X_test", "y_test"):
        if not hasattr(record, attr):
            raise TypeError(f"dataset {name!r} returned {type(record).__name__} without {attr!r}; return a seqbench Dataset")
    _CACHE[cache_key] = (record, fingerprint(record))
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return _CACHE[cache_key]


def forget_cached() -> None:
    """Empty this process's dataset cache."""
    _CACHE.clear()


def fingerprint(record) -> str:
    """sha256 hex of a dataset's task, inputs and targets (its ``fingerprint()``
    when it has one): the same content gives the same value on any machine."""
    method = getattr(record, "fingerprint", None)
    if callable(method):
        return str(method())
    parts = (record.X_train, record.y_train, record.X_test, record.y_test)
    return content_fingerprint(getattr(record, "name", ""), record.task, parts)


def input_kind(record) -> str:
    """"text", "symbol" or "real": what the dataset's sequences hold."""
    if record.task == "forecast":  # series are values, even when they are counts
        return "real"
    return check_sequences(list(record.X_train[:20]), allow_text=True).kind
