"""Property-based probe of every family with malformed and extreme input.

For each family, hypothesis draws collections that mix good steps with NaN,
inf, huge or tiny values, huge integers, complex numbers, strings, None,
empty or ragged sequences, and labels of the wrong count or type. Whatever
comes in, each estimator must either work (and then give finite outputs) or
raise a typed error: ValueError, TypeError, or the documented
FloatingPointError for a fit that diverges. Anything else (IndexError,
OverflowError, a numpy broadcasting error, a NaN prediction) fails.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqbench.models import (
    ARClassifier,
    ARForecaster,
    FeatureClassifier,
    FeatureRegressor,
    HMMClassifier,
    HMMForecaster,
    HMMLanguageModel,
    HMMTagger,
    NaiveForecaster,
    NGramLanguageModel,
    RNNClassifier,
    RNNForecaster,
    RNNLanguageModel,
    RNNRegressor,
    RNNTagger,
    WindowTagger,
)

TYPED = (ValueError, TypeError, FloatingPointError)
EXAMPLES = 300  # per family
SLOW = 30.0  # seconds: no single case may take longer

# One small, fast configuration per task and family.
FAMILIES = {
    "hmm": {
        "classify": lambda: HMMClassifier(n_components=2, n_iter=5, random_state=0),
        "tag": lambda: HMMTagger(),
        "forecast": lambda: HMMForecaster(n_components=2, n_iter=5, horizon=2, random_state=0),
        "language_model": lambda: HMMLanguageModel(n_components=2, n_iter=3, random_state=0),
    },
    "autoregressive": {
        "classify": lambda: ARClassifier(),
        "forecast": lambda: ARForecaster(order=1, horizon=2),
        "language_model": lambda: NGramLanguageModel(order=2),
    },
    "neural": {
        "classify": lambda: RNNClassifier(hidden_size=3, max_epochs=1, random_state=0),
        "regress": lambda: RNNRegressor(hidden_size=3, max_epochs=1, random_state=0),
        "tag": lambda: RNNTagger(hidden_size=3, max_epochs=1, random_state=0),
        "forecast": lambda: RNNForecaster(hidden_size=3, max_epochs=1, window=3, horizon=2, random_state=0),
        "language_model": lambda: RNNLanguageModel(hidden_size=3, max_epochs=1, random_state=0),
    },
    "baseline": {
        "classify": lambda: FeatureClassifier(),
        "regress": lambda: FeatureRegressor(),
        "tag": lambda: WindowTagger(),
        "forecast": lambda: NaiveForecaster(horizon=2),
    },
}

_SPECIAL = [np.nan, np.inf, -np.inf, 1e308, -1e308, 1e200, 1e40, 1e-308, 0.0, -0.0, 10**400, 2**70, 1 + 2j, "x", None, True]
values = st.one_of(
    st.floats(-5, 5, allow_nan=False).map(float),
    st.floats(-5, 5, allow_nan=False).map(float),
    st.sampled_from(_SPECIAL),
)
symbols = st.one_of(st.integers(0, 4), st.sampled_from([-1, 2**62, 2**63 - 1, 10**30, 1.5, np.nan, "a", None]))


clean_values = st.floats(-5, 5, allow_nan=False).map(float)


@st.composite
def real_sequence(draw, d, hostile):
    T = draw(st.integers(1, 7) if not hostile else st.integers(0, 7))
    dd = draw(st.sampled_from([d, d, d, d + 1])) if hostile else d  # occasionally ragged features
    rows = [[draw(values if hostile else clean_values) for _ in range(dd)] for _ in range(T)]
    return rows if draw(st.booleans()) else _array(rows)


def _array(rows):
    try:
        return np.array(rows)
    except (ValueError, TypeError, OverflowError):
        return rows


@st.composite
def real_collection(draw, hostile):
    d = draw(st.integers(1, 2))
    n = draw(st.integers(0, 6) if hostile else st.integers(2, 6))
    seqs = [draw(real_sequence(d, hostile)) for _ in range(n)]
    form = draw(st.sampled_from(["list", "list", "array", "odd"] if hostile else ["list", "array"]))
    if form == "array":
        return _array(seqs)
    if form == "odd":
        return draw(st.sampled_from([None, 3.0, "text", {"a": 1}, [[]], [None], np.zeros((2, 0)), np.zeros((1, 2, 2, 2))]))
    return seqs


@st.composite
def symbol_collection(draw, hostile):
    n = draw(st.integers(0, 5) if hostile else st.integers(1, 5))
    ids = symbols if hostile else st.integers(0, 4)
    seqs = [[draw(ids) for _ in range(draw(st.integers(0 if hostile else 1, 8)))] for _ in range(n)]
    return [np.array(s) if draw(st.booleans()) else s for s in seqs]


@st.composite
def labels(draw, n, hostile):
    count = draw(st.sampled_from([n, n, n, max(n - 1, 0), n + 1])) if hostile else n
    pools = [[0, 1], [0, 1], ["a", "b"], [0, "a"], [0.5, 1.5], [np.nan, 1], [1 + 1j, 2], [0]]
    pool = draw(st.sampled_from(pools if hostile else pools[:3]))
    return [draw(st.sampled_from(pool)) for _ in range(count)]


@st.composite
def case(draw, family):
    task = draw(st.sampled_from(sorted(FAMILIES[family])))
    hostile = draw(st.integers(0, 3)) > 0  # one case in four is well-formed, to reach predict and score
    X = draw(symbol_collection(hostile) if task == "language_model" else real_collection(hostile))
    items = _items(X)
    n = len(items)
    if task in ("classify", "regress"):
        y = draw(labels(n, hostile))
        if task == "regress":
            y = [draw(st.sampled_from([v, 1.0, 2.5])) for v in y]
    elif task == "tag":
        y = [draw(labels(len(s) if hasattr(s, "__len__") else 1, hostile)) for s in items]
    else:
        y = None
    return task, X, y


def _items(X) -> list:
    """The drawn collection's entries (one for a malformed non-collection)."""
    if isinstance(X, list) or (isinstance(X, np.ndarray) and X.ndim > 0):
        return list(X)
    return [X]


def _finite(out) -> bool:
    if isinstance(out, tuple):
        return all(_finite(o) for o in out)
    if isinstance(out, list):
        return all(_finite(o) for o in out)
    arr = np.asarray(out)
    return arr.dtype.kind not in "fc" or bool(np.isfinite(arr).all())


def _exercise(family, task, X, y):
    model = FAMILIES[family][task]()
    model.fit(X) if y is None else model.fit(X, y)
    outs = []
    if task == "language_model":
        outs += [model.score_samples(X), model.score(X)]
        outs.append(model.sample(2, 3, random_state=0))
    elif task == "forecast":
        outs.append(model.predict(X))
        if hasattr(model, "predict_interval"):
            outs.append(model.predict_interval(X))
    else:
        outs += [model.predict(X), model.score(X, y)]
        if hasattr(model, "predict_proba"):
            outs.append(model.predict_proba(X))
    for out in outs:
        assert _finite(out), f"{type(model).__name__} returned non-finite output {out!r}"


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_malformed_input_gets_typed_errors_and_finite_outputs(family):
    seen = {"ok": 0, "typed": 0}

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case(family))
    def probe(drawn):
        task, X, y = drawn
        start = time.perf_counter()
        try:
            _exercise(family, task, X, y)
            seen["ok"] += 1
        except TYPED:
            seen["typed"] += 1
        elapsed = time.perf_counter() - start
        assert elapsed < SLOW, f"{family}/{task} took {elapsed:.1f} s on {X!r}"

    probe()
    # the probe reached both sides: some inputs are valid and fit, most are refused
    assert seen["typed"] > 0 and seen["ok"] > 0, seen
    assert seen["ok"] + seen["typed"] >= EXAMPLES
