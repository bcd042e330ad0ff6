"""Stable job keys and seeds derived by hashing (benchopt style).

Everything here is a pure function of JSON-able values, so the same suite
gives the same keys and seeds on any machine, in any process, on any run.
"""

from __future__ import annotations

import hashlib

from ..results import canonical_json

__all__ = ["derive_seed", "job_key", "na_key"]


def _digest(*parts) -> str:
    return hashlib.sha256(canonical_json(list(parts)).encode("ascii")).hexdigest()


def derive_seed(*parts) -> int:
    """A seed in ``[0, 2**31)`` from any JSON-able parts, e.g.
    ``derive_seed("model", dataset, options, model, repetition)``."""
    return int(_digest("seqbench-seed", *parts)[:8], 16) & 0x7FFFFFFF


def job_key(*, dataset: str, dataset_options: dict, dataset_checksum: str, model: str, params: dict,
            seed: int, fold: int, protocol: dict, tuning: dict | None = None) -> str:
    """32 hex digits identifying one job: dataset name, options and content
    checksum; model name and parameters; repetition seed; fold; protocol;
    and, for a tuned job only (fixed jobs keep their keys), the search space
    and budget."""
    extra = {} if tuning is None else {"tuning": tuning}
    return _digest(
        "seqbench-job-v1",
        {
            **extra,
            "dataset": dataset,
            "dataset_options": dataset_options,
            "dataset_checksum": dataset_checksum,
            "model": model,
            "params": params,
            "seed": seed,
            "fold": fold,
            "protocol": protocol,
        },
    )[:32]


def na_key(*, dataset: str, dataset_options: dict, model: str, params: dict) -> str:
    """Key of an n/a row (a model-dataset pairing that does not exist; it
    does not depend on the data's content or the seed)."""
    return _digest(
        "seqbench-na-v1",
        {"dataset": dataset, "dataset_options": dataset_options, "model": model, "params": params},
    )[:32]
