"""Character- and word-level tokenizer: strings to symbol-id sequences."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["Tokenizer", "UNK"]

UNK = "<unk>"
_WORD_RE = re.compile(r"\w+|[^\w\s]")


class Tokenizer(BaseEstimator):
    """Turn strings into sequences of symbol ids; id 0 is ``<unk>``.

    Parameters
    ----------
    level : {"char", "word"}
        Characters, or words and punctuation marks (``\\w+|[^\\w\\s]``).
    lowercase : bool
        Lower-case the text before splitting.
    min_count : int
        Symbols seen fewer times in ``fit`` map to ``<unk>``. A value that
        keeps no symbol at all raises a ValueError naming it.
    max_vocab : int or None
        Keep only the most frequent symbols (``<unk>`` included in the count).

    Attributes
    ----------
    vocabulary_ : dict[str, int]
    symbols_ : list[str], ``symbols_[i]`` is the symbol of id ``i``
    """

    def __init__(self, level="char", *, lowercase=False, min_count=1, max_vocab=None):
        self.level = level
        self.lowercase = lowercase
        self.min_count = min_count
        self.max_vocab = max_vocab

    def split(self, text: str) -> list[str]:
        """The symbols of one string in order (lower-cased if asked), before
        they become ids: ``transform`` maps the k-th of them to the k-th id."""
        if not isinstance(text, str):
            raise TypeError(f"split reads one string, got {type(text).__name__}")
        return self._split(text)

    def _split(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        return list(text) if self.level == "char" else _WORD_RE.findall(text)

    def _check_texts(self, texts) -> list[str]:
        if isinstance(texts, str):
            raise TypeError("texts is a single string; pass a list of strings")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts: item {i} is {type(t).__name__}, not a string")
        return texts

    def fit(self, texts, y=None):
        if self.level not in ("char", "word"):
            raise ValueError(f"level must be 'char' or 'word', got {self.level!r}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be >= 1, got {self.min_count}")
        if self.max_vocab is not None and self.max_vocab < 2:
            raise ValueError(f"max_vocab must be None or >= 2 (room for <unk>), got {self.max_vocab}")
        counts = Counter()
        for t in self._check_texts(texts):
            counts.update(self._split(t))
        counts.pop(UNK, None)
        # most frequent first, ties in first-seen order (Counter keeps insertion order)
        kept = [s for s, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= self.min_count]
        if not kept:
            raise ValueError(_no_vocabulary_message(self.min_count, self.level, counts))
        if self.max_vocab is not None:
            kept = kept[: self.max_vocab - 1]
        self.symbols_ = [UNK, *kept]
        self.vocabulary_ = {s: i for i, s in enumerate(self.symbols_)}
        return self

    @property
    def n_symbols_(self) -> int:
        check_is_fitted(self, "vocabulary_")
        return len(self.symbols_)

    def transform(self, texts) -> list[np.ndarray]:
        """List of int64 arrays ``(T_i,)``; unseen symbols become 0 (``<unk>``)."""
        check_is_fitted(self, "vocabulary_")
        vocab = self.vocabulary_
        return [
            np.fromiter((vocab.get(s, 0) for s in self._split(t)), dtype=np.int64)
            for t in self._check_texts(texts)
        ]

    def fit_transform(self, texts, y=None):
        return self.fit(texts).transform(texts)

    def inverse_transform(self, sequences) -> list[str]:
        """Join ids back into strings (characters joined with "", words with " ")."""
        check_is_fitted(self, "vocabulary_")
        sep = "" if self.level == "char" else " "
        return [sep.join(self.symbols_[int(i)] for i in seq) for seq in sequences]


def _no_vocabulary_message(min_count: int, level: str, counts: Counter) -> str:
    """Why ``min_count`` left no symbol, and the largest value that keeps one."""
    if not counts:
        return f"the texts hold no {level} at all (each is empty or blank); pass texts with {level}s in them"
    most = max(counts.values())
    return (f"min_count={min_count} leaves no {level} in the vocabulary: the most frequent one occurs {most} "
            f"time(s) in the {len(counts)} distinct {level}s seen; lower min_count to at most {most}")
