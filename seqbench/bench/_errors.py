"""Errors the runner raises for bad input, before any job runs.

``BenchError`` is what the command line turns into one clear message and
exit status 1; ``SuiteError`` also carries the suite file, the key path
(``models[2].params.hidden_size``) and, where it can be found, the line.
"""

from __future__ import annotations

from ..results import InputError

__all__ = ["BenchError", "SuiteError"]


class BenchError(InputError):
    """Bad input to the runner (suite, output folder, scheduler)."""


class SuiteError(BenchError):
    """A suite that cannot run: malformed TOML, schema errors, unknown names.

    Parameters
    ----------
    message : str
        What is wrong and what to do.
    path : str or None
        The suite file.
    key : str or None
        Dotted key path inside the suite (``models[2].params.hidden_size``).
    line : int or None
        1-based line of the key in the file, when it could be located.
    """

    def __init__(self, message: str, *, path=None, key: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.key = key
        self.line = line
        self.problem = message
        where = [self.path] if self.path else []
        if line is not None:
            where.append(f"line {line}")
        if key:
            where.append(f"key {key}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
