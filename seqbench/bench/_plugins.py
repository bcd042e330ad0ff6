"""Plug-ins: models and dataset loaders a suite names by import path
(``package.module:Object``) instead of by registry or catalogue name.

Importing a module runs its code, and the runner calls a loader with the
suite's options, so a suite file that names plug-ins is code. The rules:

- a plug-in is imported only when the user allowed it: ``--allow-plugins``
  (``RunOptions(allow_plugins=True)``), or the suite's ``plugins = [...]``
  list names its module, a package above it, or its full path. Otherwise
  the suite is refused before anything is imported or called;
- nothing from Python's standard library (``sys.stdlib_module_names``),
  allowed or not: its top-level module is refused before the import;
- the object must be a class or a function defined outside the standard
  library (a builtin such as ``os.system``, or a standard-library function
  re-exported by another module, is refused after the import, before any
  call).

Allowed plug-ins are then used like registered ones: model classes are
constructed with their parameters at plan time (``__init__`` only stores
them) and loaders called once per seed to fingerprint their data.
"""

from __future__ import annotations

import inspect
import sys

__all__ = ["is_plugin", "plugin_permission_problem", "standard_library_problem", "check_plugin_object"]

_STDLIB = frozenset(sys.stdlib_module_names) | {"builtins", "__main__"}


def is_plugin(name: str) -> bool:
    """Whether ``name`` is an import path (``module:object``), not a registry name."""
    return ":" in name


def _module(path: str) -> str:
    return path.partition(":")[0]


def plugin_permission_problem(path: str, what: str, *, allowed: tuple, allow_all: bool) -> str | None:
    """Why plug-in ``path`` may not be imported (or None), without importing
    anything. ``allowed``: the suite's ``plugins`` list; ``allow_all``: the
    user passed ``--allow-plugins``."""
    problem = standard_library_problem(path, what)
    if problem or allow_all:
        return problem
    module = _module(path)
    if any(entry in (path, module) or module.startswith(entry + ".") for entry in allowed):
        return None
    return (f"{what} {path!r} is a plug-in (an import path): a suite that names one runs that module's code, so "
            f"seqbench imports it only when allowed; if you trust it, add plugins = [{module!r}] to the [suite] "
            "table, or pass --allow-plugins (RunOptions(allow_plugins=True))")


def standard_library_problem(path: str, what: str) -> str | None:
    """Why ``path`` names a standard-library module (or None); no import."""
    top = _module(path).split(".")[0]
    if top in _STDLIB:
        return (f"{what} {path!r} comes from Python's standard library ({top!r}); a plug-in must be a class "
                "or function of your own package")
    return None


def check_plugin_object(obj, path: str, what: str) -> None:
    """Raise ``TypeError`` unless ``obj`` (imported from ``path``) is a class
    or a plain Python function, defined outside the standard library.
    Calls nothing."""
    if not (inspect.isclass(obj) or inspect.isfunction(obj)):
        raise TypeError(f"{what} {path!r} is {type(obj).__name__} {obj!r}, not a class or function defined in "
                        "your package")
    home = str(getattr(obj, "__module__", "") or "")
    if home.split(".")[0] in _STDLIB:
        raise TypeError(f"{what} {path!r} is {home}.{obj.__qualname__}, from Python's standard library; a plug-in "
                        "must be a class or function of your own package")
