"""Built-in datasets read from packages seqbench already depends on
(statsmodels, scikit-learn); nothing is downloaded.

Each loader takes the dataset's card (``horizon``, ``season`` and the split
parameters live there) and returns a :class:`Dataset`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from ._dataset import Dataset, forecast_dataset

__all__ = ["load_sunspots", "load_nile", "load_co2", "load_elnino", "load_macrodata", "load_digits_sequences"]


def _statsmodels_frame(module: str) -> pd.DataFrame:
    import statsmodels.datasets as smd  # statsmodels is slow to import; only when asked

    return getattr(smd, module).load_pandas().data


def _series_dataset(card, values: np.ndarray, time: list, columns: list, **extra) -> Dataset:
    horizon = card.meta["horizon"]
    meta = {**card.meta, "columns": columns, "test_start": time[-horizon], "test_end": time[-1], **extra}
    return forecast_dataset(card.name, [values], horizon, meta)


def load_sunspots(card) -> Dataset:
    """Yearly mean sunspot numbers, 1700-2008 (309 years)."""
    df = _statsmodels_frame("sunspots")
    return _series_dataset(card, df["SUNACTIVITY"].to_numpy(), [str(int(y)) for y in df["YEAR"]], ["SUNACTIVITY"])


def load_nile(card) -> Dataset:
    """Yearly Nile flow at Aswan, 1871-1970 (100 years)."""
    df = _statsmodels_frame("nile")
    return _series_dataset(card, df["volume"].to_numpy(), [str(int(y)) for y in df["year"]], ["volume"])


def load_co2(card) -> Dataset:
    """Mauna Loa CO2, weekly 1958-2001, as monthly means.

    Each month is the mean of its available weekly values. The 5 months with
    no value at all (1958-06, 1958-10, 1964-02 to 1964-04) are filled by
    linear interpolation in time; their labels are in ``meta["imputed"]``.
    """
    weekly = _statsmodels_frame("co2")["co2"]
    monthly = weekly.resample("MS").mean()
    missing = monthly.index[monthly.isna()]
    monthly = monthly.interpolate(method="time")
    labels = [d.strftime("%Y-%m") for d in monthly.index]
    imputed = [d.strftime("%Y-%m") for d in missing]
    return _series_dataset(card, monthly.to_numpy(), labels, ["co2"], imputed=imputed)


def load_elnino(card) -> Dataset:
    """Nino 1+2 sea-surface temperature, monthly 1950-2010, from the year x
    month table (rows are years, columns JAN..DEC) read row by row."""
    df = _statsmodels_frame("elnino")
    months = df.columns[1:]
    values = df[months].to_numpy().ravel()
    labels = [f"{int(y)}-{m:02d}" for y in df["YEAR"] for m in range(1, 13)]
    return _series_dataset(card, values, labels, ["sst"])


def load_macrodata(card) -> Dataset:
    """US quarterly macro data, 1959Q1-2009Q3: quarterly growth rates in
    percent, ``100 * diff(log(x))``, of the card's ``meta.columns`` (the first
    quarter is lost to the difference)."""
    df = _statsmodels_frame("macrodata")
    columns = list(card.meta["columns"])
    growth = 100.0 * np.diff(np.log(df[columns].to_numpy()), axis=0)
    labels = [f"{int(y)}Q{int(q)}" for y, q in zip(df["year"], df["quarter"])][1:]
    return _series_dataset(card, growth, labels, columns)


def load_digits_sequences(card) -> Dataset:
    """scikit-learn's 8x8 digits as 8 steps (image rows) of 8 features (the
    pixels of a row), scaled from 0..16 to [0, 1]; fixed stratified split."""
    digits = load_digits()
    images = digits.images / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        images,
        digits.target,
        test_size=card.split["test_size"],
        stratify=digits.target,
        random_state=card.split["random_state"],
    )
    meta = {**card.meta, "classes": list(range(10))}
    return Dataset(card.name, "classify", list(X_train), y_train, list(X_test), y_test, meta)
