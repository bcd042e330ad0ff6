"""Sequence collections: the data contract, batching and tokenizers."""

from ._batching import length_buckets, pad_sequences
from ._contract import (
    SequenceCollection,
    check_classification_targets,
    check_regression_targets,
    check_sequences,
)
from ._errors import SeriesTooShortError
from ._tokenizer import UNK, Tokenizer

__all__ = [
    "SequenceCollection",
    "check_sequences",
    "check_classification_targets",
    "check_regression_targets",
    "pad_sequences",
    "length_buckets",
    "Tokenizer",
    "UNK",
    "SeriesTooShortError",
]
