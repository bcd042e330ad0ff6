"""Sequence collections: the data contract, batching and tokenizers."""

from ._batching import MAX_LENGTH_RATIO, bucket_bounds, bucket_plan, length_buckets, pad_sequences
from ._contract import (
    SequenceCollection,
    check_classification_targets,
    check_regression_targets,
    check_sequences,
)
from ._errors import SeriesTooShortError
from ._helpers import limit_threads, one_thread, plain_value
from ._tokenizer import UNK, Tokenizer

__all__ = [
    "SequenceCollection",
    "check_sequences",
    "check_classification_targets",
    "check_regression_targets",
    "pad_sequences",
    "length_buckets",
    "bucket_plan",
    "bucket_bounds",
    "MAX_LENGTH_RATIO",
    "Tokenizer",
    "UNK",
    "SeriesTooShortError",
    "plain_value",
    "limit_threads",
    "one_thread",
]
