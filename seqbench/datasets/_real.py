"""Loaders for the fetched datasets: they read the verified files the fetcher
put in the cache (``files``: ``{role: path}`` from the card's members) and
never import the package that carried them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ._dataset import Dataset, forecast_dataset
from ._ts_reader import read_ts

__all__ = ["load_ts_classification", "load_csv_series", "load_rotten_tomatoes", "load_char_text", "load_ts_regression"]


def load_ts_classification(card, files: dict) -> Dataset:
    """The archive's own train/test split from ``<name>_TRAIN.ts`` and
    ``<name>_TEST.ts``; labels are the strings of the file, ``meta["classes"]``
    the header's order."""
    train, test = read_ts(files["train"]), read_ts(files["test"])
    if train.classes != test.classes:
        raise ValueError(
            f"{card.name}: train and test files declare different classes {train.classes} / {test.classes}"
        )
    meta = {**card.meta, "classes": list(train.classes)}
    return Dataset(card.name, "classify", train.X, train.y, test.X, test.y, meta)


def load_csv_series(card, files: dict) -> Dataset:
    """A two-column CSV (time label, value) with a header line, as one
    univariate series; the last ``meta.horizon`` steps are held out. The
    value's name is the card's ``meta.columns`` if given, else the header's."""
    df = pd.read_csv(files["data"])
    if df.shape[1] != 2:
        raise ValueError(f"{card.name}: expected 2 columns (time, value) in {files['data']}, got {list(df.columns)}")
    time, values = df.iloc[:, 0].astype(str).tolist(), df.iloc[:, 1].to_numpy(dtype=np.float64)
    horizon = card.meta["horizon"]
    columns = card.meta.get("columns", [str(df.columns[1])])
    meta = {**card.meta, "columns": columns, "test_start": time[-horizon], "test_end": time[-1]}
    return forecast_dataset(card.name, [values], horizon, meta)


def load_rotten_tomatoes(card, files: dict) -> Dataset:
    """Review snippets labelled ``fresh``/``rotten``: the ``plot`` rows
    dropped, exact duplicate snippets dropped (first kept) so that none sits
    in both splits, then a stratified split with the card's ``test_size``
    and ``random_state``."""
    df = pd.read_csv(files["data"])
    reviews = df[df["category"].isin(["fresh", "rotten"])].drop_duplicates("text")
    reviews = reviews[reviews["text"].str.strip().str.len() > 0]
    X_train, X_test, y_train, y_test = train_test_split(
        reviews["text"].tolist(),
        reviews["category"].to_numpy(dtype=str),
        test_size=card.split["test_size"],
        stratify=reviews["category"].to_numpy(dtype=str),
        random_state=card.split["random_state"],
    )
    meta = {**card.meta, "classes": ["fresh", "rotten"]}
    return Dataset(card.name, "classify", X_train, y_train, X_test, y_test, meta)


def load_char_text(card, files: dict) -> Dataset:
    """A text file for character-level language modelling: one training
    string and one test string, split at the first line break after the
    card's ``train_fraction`` of the characters (the test string starts a line)."""
    with open(files["data"], encoding="utf-8") as fh:
        text = fh.read()
    cut = text.find("\n", int(len(text) * card.split["train_fraction"])) + 1
    if not 0 < cut < len(text):
        raise ValueError(f"{card.name}: no line break after {card.split['train_fraction']:.0%} of {files['data']}")
    meta = {**card.meta, "alphabet": "".join(sorted(set(text)))}
    return Dataset(card.name, "language_model", [text[:cut]], None, [text[cut:]], None, meta)


def load_ts_regression(card, files: dict) -> Dataset:
    """A ``.ts`` regression problem (``@targetLabel true``): the archive's
    own train/test split, float64 targets."""
    train, test = read_ts(files["train"]), read_ts(files["test"])
    for part, data in (("train", train), ("test", test)):
        if data.classes or data.y.dtype != np.float64:
            raise ValueError(f"{card.name}: {files[part]} is not a regression file (it declares class labels)")
    return Dataset(card.name, "regress", train.X, train.y, test.X, test.y, dict(card.meta))
