"""Errors for bad input, raised before any work is done.

``InputError`` (a ``ValueError``) is the base the command line turns into
one clear line and exit status 1 (the runner's ``BenchError`` and ``SuiteError`` derive from
it); ``StoreError`` is a results file that cannot be used as a store.
"""

from __future__ import annotations

__all__ = ["InputError", "StoreError"]


class InputError(ValueError):
    """Bad input to seqbench (a suite, an output folder, a store, a scheduler)."""


class StoreError(InputError):
    """A results file that cannot be used as a seqbench results store."""
