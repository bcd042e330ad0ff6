"""Published results carried by a dataset card (``[[reference]]`` entries),
checked when the card is read.

A card may list any number of them::

    [[reference]]
    method = "1-NN, Euclidean distance"
    metric = "accuracy"              # a metric of the card's task (METRIC_RANGES)
    value = 0.9133                   # in the metric's range
    protocol = "the archive's train/test split, one split, no resampling"
    source = "UCR time series archive, DataSummary table (Dau et al., 2019)"  # with a year
    matches_split = true             # the result was measured on the card's own split
    note = "optional"

The report shows them beside seqbench's results as "published" rows, never
ranked; ``matches_split = false`` flags a protocol that differs from
seqbench's split (for example 10-fold cross-validation), so the figures are
only indicative.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["Reference", "METRIC_RANGES", "parse_references"]

_INF = math.inf
# Per task, the metrics a reference may report and their closed ranges. The
# names are the results store's (see seqbench.bench's evaluation protocol),
# plus perplexity, which language-modelling papers report instead of bits.
METRIC_RANGES = {
    "classify": {"accuracy": (0.0, 1.0), "f1_macro": (0.0, 1.0), "log_loss": (0.0, _INF)},
    "regress": {"r2": (-_INF, 1.0), "mse": (0.0, _INF), "rmse": (0.0, _INF)},
    "tag": {"accuracy": (0.0, 1.0), "f1_macro": (0.0, 1.0)},
    "forecast": {"mase": (0.0, _INF), "smape": (0.0, 200.0), "mae": (0.0, _INF), "rmse": (0.0, _INF)},
    "language_model": {"bits_per_symbol": (0.0, _INF), "perplexity": (1.0, _INF)},
}
_TEXT_FIELDS = ("method", "metric", "protocol", "source")
_FIELDS = (*_TEXT_FIELDS, "value", "matches_split")
_OPTIONAL = ("note",)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class Reference:
    """One published result: ``value`` of ``metric`` reached by ``method``
    under ``protocol``, as reported by ``source`` (which names its year)."""

    method: str
    metric: str
    value: float
    protocol: str
    source: str
    matches_split: bool
    note: str = ""

    @property
    def year(self) -> int:
        """The (first) year named in ``source``."""
        return int(_YEAR.search(self.source).group(1))


def parse_references(card: str, task: str, raw) -> tuple:
    """The card's ``[[reference]]`` entries as :class:`Reference` records.

    ``card`` names the card in messages. Raises ValueError naming the card,
    the entry (1-based) and the field for a missing or unknown field, a
    metric the task does not have, a value outside the metric's range, or a
    source without a year."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ValueError(f"dataset card {card}: 'reference' must be an array of tables ([[reference]]), got {raw!r}")
    return tuple(_parse_one(f"dataset card {card}: reference {i}", task, entry) for i, entry in enumerate(raw, 1))


def _parse_one(where: str, task: str, entry: dict) -> Reference:
    missing = [f for f in _FIELDS if f not in entry]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}; every entry needs {', '.join(_FIELDS)}")
    unknown = sorted(set(entry) - set(_FIELDS) - set(_OPTIONAL))
    if unknown:
        known = ", ".join(_FIELDS + _OPTIONAL)
        raise ValueError(f"{where}: unknown field(s) {', '.join(unknown)}; the fields are {known}")
    for name in _TEXT_FIELDS + tuple(f for f in _OPTIONAL if f in entry):
        if not isinstance(entry[name], str) or not entry[name].strip():
            raise ValueError(f"{where}: field {name} must be a non-empty string, got {entry[name]!r}")
    ranges = METRIC_RANGES[task]
    metric = entry["metric"]
    if metric not in ranges:
        raise ValueError(
            f"{where}: field metric: unknown metric {metric!r} for task {task}; use one of {', '.join(ranges)}"
        )
    value = entry["value"]
    low, high = ranges[metric]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValueError(f"{where}: field value: {value!r} is outside the range of {metric} [{low:g}, {high:g}]")
    if not _YEAR.search(entry["source"]):
        raise ValueError(f"{where}: field source: {entry['source']!r} names no year; add the year of publication")
    if not isinstance(entry["matches_split"], bool):
        raise ValueError(f"{where}: field matches_split must be true or false, got {entry['matches_split']!r}")
    return Reference(
        method=entry["method"].strip(), metric=metric, value=float(value), protocol=" ".join(entry["protocol"].split()),
        source=" ".join(entry["source"].split()), matches_split=entry["matches_split"],
        note=" ".join(entry.get("note", "").split()),
    )  # fmt: skip
