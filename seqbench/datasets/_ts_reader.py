"""Reader for the ``.ts`` time-series classification format (the UEA & UCR
archive, sktime and aeon), so seqbench never imports aeon to read one.

The format: ``#`` comment lines; ``@key value`` header lines
(``@problemName``, ``@timeStamps``, ``@missing``, ``@univariate``,
``@dimensions``, ``@equalLength``, ``@seriesLength``,
``@classLabel true L1 L2 …`` or ``@targetLabel true``), then ``@data`` and
one case per line: the dimensions separated by ``:``, each a comma-separated
list of values, and the label as the last ``:`` field. ``?`` marks a missing
value where ``@missing true``.

Supported: classification and regression labels, univariate and
multivariate series, unequal lengths across cases. Not supported (rejected
with the line number): ``@timeStamps true``, and dimensions of one case with
different lengths (seqbench sequences are ``(T, d)`` arrays).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["TsData", "TsFormatError", "read_ts"]

_BOOL_KEYS = {"timestamps", "missing", "univariate", "equallength"}
_INT_KEYS = {"dimensions", "serieslength"}
_KNOWN_KEYS = _BOOL_KEYS | _INT_KEYS | {"problemname", "classlabel", "targetlabel", "data"}


class TsFormatError(ValueError):
    """A malformed ``.ts`` file; the message names the file and line."""


@dataclass(frozen=True)
class TsData:
    """What a ``.ts`` file holds.

    X : list of float64 arrays ``(T_i, d)``
    y : ndarray ``(n,)`` of str (class labels) or float64 (regression targets)
    classes : tuple of str, in the order the header declares them (empty for
        regression)
    header : dict of the parsed ``@`` keys (lower-case names)
    """

    X: list
    y: np.ndarray
    classes: tuple
    header: dict


def read_ts(path) -> TsData:
    """Read one ``.ts`` file.

    Raises
    ------
    TsFormatError
        Naming the file, the 1-based line number and what is wrong.
    """
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    header, data_start = _parse_header(lines, path)
    X, y = [], []
    for lineno in range(data_start + 1, len(lines) + 1):
        line = lines[lineno - 1].strip()
        if not line or line.startswith("#"):
            continue
        seq, label = _parse_case(line, header, _Where(path, lineno))
        X.append(seq)
        y.append(label)
    if not X:
        raise TsFormatError(f"{path}: no cases after @data (line {data_start})")
    if header["classlabel"]:
        y_arr = np.asarray(y, dtype=str)
    else:
        y_arr = np.asarray(y, dtype=np.float64)
    return TsData(X, y_arr, tuple(header["classes"]), header)


@dataclass(frozen=True)
class _Where:
    path: Path
    lineno: int

    def error(self, message: str) -> TsFormatError:
        return TsFormatError(f"{self.path}, line {self.lineno}: {message}")


def _parse_header(lines: list, path: Path) -> tuple[dict, int]:
    """Header keys (lower-case) and the 1-based line number of ``@data``."""
    header = {"timestamps": False, "missing": False, "classlabel": False, "targetlabel": False, "classes": []}
    for lineno, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = _Where(path, lineno)
        if not line.startswith("@"):
            raise where.error(f"expected a header line starting with '@' before @data, got {line[:40]!r}")
        key, _, value = line[1:].partition(" ")
        key, value = key.lower(), value.strip()
        if key not in _KNOWN_KEYS:
            raise where.error(f"unknown header key @{key}")
        if key == "data":
            return _checked_header(header, where), lineno
        _set_header_value(header, key, value, where)
    raise TsFormatError(f"{path}: no @data line; a .ts file needs a header ending in @data, then the cases")


def _set_header_value(header: dict, key: str, value: str, where: _Where) -> None:
    if key in _BOOL_KEYS or key in ("classlabel", "targetlabel"):
        flag, *rest = value.split() or [""]
        if flag.lower() not in ("true", "false"):
            raise where.error(f"@{key} must be true or false, got {value!r}")
        header[key] = flag.lower() == "true"
        if key == "classlabel":
            header["classes"] = rest
            if header[key] and not rest:
                raise where.error("@classLabel true must list the class labels")
    elif key in _INT_KEYS:
        try:
            header[key] = int(value)
        except ValueError:
            raise where.error(f"@{key} must be an integer, got {value!r}") from None
        if header[key] < 1:
            raise where.error(f"@{key} must be >= 1, got {value}")
    else:
        header[key] = value


def _checked_header(header: dict, where: _Where) -> dict:
    if header["timestamps"]:
        raise where.error("@timeStamps true is not supported; convert the file to plain values")
    if header["classlabel"] and header["targetlabel"]:
        raise where.error("the header declares both @classLabel true and @targetLabel true")
    if not (header["classlabel"] or header["targetlabel"]):
        raise where.error("the header declares no labels (@classLabel true … or @targetLabel true)")
    return header


def _parse_case(line: str, header: dict, where: _Where) -> tuple[np.ndarray, object]:
    """One data line -> ``((T, d) float64 array, label)``."""
    *dims, label = line.split(":")
    n_dims = header.get("dimensions", 1 if header.get("univariate", True) else None)
    if not dims:
        raise where.error("a case needs at least one dimension and a label, separated by ':'")
    if n_dims is not None and len(dims) != n_dims:
        raise where.error(f"{len(dims)} dimension(s), but the header declares {n_dims}")
    columns = [_parse_values(d, k, header["missing"], where) for k, d in enumerate(dims)]
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:
        raise where.error(
            f"dimensions have different lengths {sorted(lengths)}; every dimension of a case needs the same length"
        )
    if header.get("equallength") and "serieslength" in header and columns[0].size != header["serieslength"]:
        raise where.error(
            f"series length {columns[0].size}, but the header declares @seriesLength {header['serieslength']}"
        )
    return np.stack(columns, axis=1), _parse_label(label.strip(), header, where)


def _parse_values(text: str, k: int, allow_missing: bool, where: _Where) -> np.ndarray:
    parts = [p.strip() for p in text.split(",")]
    if parts == [""]:
        raise where.error(f"dimension {k} is empty")
    if "?" in parts and not allow_missing:
        raise where.error(f"dimension {k} holds a missing value '?', but the header says @missing false")
    try:
        return np.array([np.nan if p == "?" else float(p) for p in parts], dtype=np.float64)
    except ValueError:
        bad = next(p for p in parts if p != "?" and not _is_float(p))
        raise where.error(f"dimension {k} holds a non-numeric value {bad!r}") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_label(label: str, header: dict, where: _Where):
    if header["classlabel"]:
        if label not in header["classes"]:
            raise where.error(f"class label {label!r} is not among those the header declares {header['classes']}")
        return label
    try:
        return float(label)
    except ValueError:
        raise where.error(f"regression target {label!r} is not a number") from None
