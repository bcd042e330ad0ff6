"""Datasets for the runner tests of the Mechanisms section and of attention on
text (suites name them as ``mechanism_helpers:<loader>``; the runner imports
this module through the ``PYTHONPATH`` the tests run with)."""

from __future__ import annotations

import numpy as np

from seqbench.datasets import Dataset

_GOOD = ["a fine warm film", "warm and fine", "a moving film", "fine acting and a warm story"]
_BAD = ["a dull film", "dull and flat", "a flat story", "dull acting and a flat plot"]
_MARKUP = "a <b>dull</b> film <script>alert(1)</script>"


def tiny_reviews() -> Dataset:
    """Eight short "reviews" (words decide the label) to train on; the same
    to test on, after a first test review holding markup that the report
    must show as text."""
    X = _GOOD + _BAD
    y = np.array(["positive"] * len(_GOOD) + ["negative"] * len(_BAD))
    return Dataset("tiny_reviews", "classify", X * 3, np.concatenate([y] * 3), [_MARKUP, *X],
                   np.concatenate([["negative"], y]), {})
