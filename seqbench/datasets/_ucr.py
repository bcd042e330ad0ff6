"""Loader for the UCR time series classification archive (2018 release) in
its tab-separated form: one series per line, the class label in the first
column, then the values.

Two kinds of NaN occur in the archive's files:

- padding: the variable-length problems (card ``meta.variable_length``) pad
  every row with NaN up to the longest series. The trailing NaNs are cut, so
  each row becomes a sequence of its own length.
- missing values: a few fixed-length problems (DodgerLoop*, MelbournePedestrian)
  have gaps. seqbench sequences hold no NaN, so a gap is filled by linear
  interpolation between its neighbours (the nearest value at either end), as the
  archive's own "adjusted" copies of these problems do; ``meta["n_filled"]``
  counts the filled values.

A label that is not in the card's ``meta.classes`` is refused with the file
and row, so a card and its files cannot silently disagree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ._dataset import Dataset

__all__ = ["load_ucr_tsv", "read_ucr_tsv"]


def load_ucr_tsv(card, files: dict) -> Dataset:
    """The archive's train/test split of one UCR problem.

    Returns ``X``: lists of float64 ``(T_i, 1)`` arrays, ``y``: str arrays
    of the labels as the files write them; ``meta["classes"]`` is the card's."""
    classes = [str(c) for c in card.meta["classes"]]
    variable = bool(card.meta.get("variable_length", False))
    X_train, y_train, filled_train = read_ucr_tsv(files["train"], classes, variable_length=variable)
    X_test, y_test, filled_test = read_ucr_tsv(files["test"], classes, variable_length=variable)
    meta = {**card.meta, "classes": classes, "n_filled": filled_train + filled_test}
    return Dataset(card.name, "classify", X_train, y_train, X_test, y_test, meta)


def read_ucr_tsv(path, classes, *, variable_length: bool) -> tuple[list, np.ndarray, int]:
    """Read one UCR ``.tsv`` file.

    Returns ``(X, y, n_filled)``: ``(T_i, 1)`` float64 arrays, the labels
    (str), and how many missing values were filled. Raises ValueError naming
    the file and the 1-based row for a label outside ``classes``, a value that
    is not a number, or a row with no values."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, sep="\t", header=None, dtype={0: str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"{path}: not a UCR tab-separated file: {exc}") from None
    labels = frame.iloc[:, 0].str.strip().to_numpy(dtype=str)
    allowed = set(classes)
    for row, label in enumerate(labels, 1):
        if label not in allowed:
            raise ValueError(
                f"{path}, row {row}: label {str(label)!r} is not one of the card's classes {classes}; "
                "the file or the card's meta.classes is wrong"
            )
    cells = frame.iloc[:, 1:]
    numeric = cells.apply(pd.to_numeric, errors="coerce")
    bad = (numeric.isna() & cells.notna()).to_numpy().any(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise ValueError(f"{path}, row {row}: a value is not a number")
    values = numeric.to_numpy(dtype=np.float64)
    X, n_filled = [], 0
    for row, series in enumerate(values, 1):
        seq, filled = _clean_row(series, variable_length)
        if seq is None:
            raise ValueError(f"{path}, row {row}: the row has no values (all NaN)")
        X.append(seq.reshape(-1, 1))
        n_filled += filled
    return X, labels, n_filled


def _clean_row(series: np.ndarray, variable_length: bool) -> tuple[np.ndarray | None, int]:
    """Cut trailing padding (variable-length problems), then fill the gaps
    left by linear interpolation; None for a row with no value at all."""
    present = ~np.isnan(series)
    if not present.any():
        return None, 0
    if variable_length:
        series = series[: np.flatnonzero(present)[-1] + 1]
        present = present[: len(series)]
    n_missing = int((~present).sum())
    if n_missing:
        steps = np.arange(len(series))
        series = series.copy()
        series[~present] = np.interp(steps[~present], steps[present], series[present])
    return series, n_missing
