"""seqbench's dataset catalogue: built-in, fetched-and-verified real datasets,
and synthetic datasets with oracle scores.

Usage::

    from seqbench import datasets
    datasets.list_datasets(task="classify")
    ds = datasets.load("japanese_vowels")   # fetched into the cache on first use
    ds = datasets.load("hmm_gaussian", random_state=0)
    ds.meta["oracle"]                        # {"accuracy": 0.92, ...}

Every dataset is described by a TOML card in ``datasets/`` (``seqbench
datasets info NAME`` prints it). ``load`` returns a :class:`Dataset` with
``name, task, X_train, y_train, X_test, y_test, meta``. Every ``X`` passes
:func:`seqbench.data.check_sequences` (text with ``allow_text=True``).

Conventions per task (the runner relies on them):

``classify``
    ``X``: list of ``(T_i, d)`` float64 arrays, symbol-id arrays or strings;
    ``y``: ndarray ``(n,)`` of labels (ints or strings); ``meta["classes"]``.
``regress``
    ``X`` as above; ``y``: float64 ndarray ``(n,)``.
``tag``
    ``X`` as above; ``y``: list of int64 arrays ``(T_i,)``, one label per step
    of the matching sequence.
``forecast``
    ``X_train``: list of training series ``(T_i, d)`` (one series is a list of
    one array); ``X_test``: the same histories; ``y_test``: the held-out
    continuations, float64 ``(n_series, horizon, d)``; ``y_train``: None.
    ``meta["horizon"]`` (steps to forecast) and ``meta["season"]`` (the
    seasonal period for seasonal-naive forecasts and MASE; 1 if none).
``language_model``
    ``X``: list of strings (character text) or of int64 symbol-id arrays;
    ``y``: None. Scores are bits per symbol on ``X_test``.

``meta["oracle"]`` (synthetic datasets) holds the best achievable scores on
the test split, computed from the true generating model, under the metric
names the task uses (``accuracy``, ``mse``, ``mase``, ``bits_per_symbol``),
plus ``baseline_*`` scores of a trivial predictor. ``meta["options"]`` holds
the generator's options; ``meta["params"]`` the true parameters.

Fetched datasets are cached under ``$SEQBENCH_DATA`` (default
``~/.cache/seqbench``), one folder per dataset; see :mod:`._fetch`.
"""

from ._catalogue import (
    LOADERS,
    DatasetCard,
    UnknownDatasetError,
    accepts_random_state,
    cards,
    fetch,
    fetch_many,
    get_card,
    is_cached,
    list_datasets,
    load,
    resolve_loader,
)
from ._dataset import TASKS, Dataset, content_fingerprint
from ._fetch import ChecksumError, DatasetFetchError, cache_root
from ._references import METRIC_RANGES, Reference
from ._ts_reader import TsFormatError, read_ts


def __getattr__(name: str):
    """The generators (``make_*``), imported on first use: they need
    hmmlearn and statsmodels, which listing datasets does not."""
    if name in LOADERS["synthetic"]:
        return resolve_loader("synthetic", name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "TASKS",
    "Dataset",
    "content_fingerprint",
    "Reference",
    "METRIC_RANGES",
    "DatasetCard",
    "UnknownDatasetError",
    "DatasetFetchError",
    "ChecksumError",
    "TsFormatError",
    "cache_root",
    "cards",
    "get_card",
    "list_datasets",
    "load",
    "fetch",
    "fetch_many",
    "is_cached",
    "accepts_random_state",
    "read_ts",
    "make_gaussian_hmm",
    "make_categorical_hmm",
    "make_gaussian_hmm_classification",
    "make_categorical_hmm_classification",
    "make_categorical_hmm_lm",
    "make_markov_text",
    "make_ar_series",
    "make_setar_series",
    "make_adding_problem",
    "make_copy_memory",
]
