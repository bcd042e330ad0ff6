"""Part-of-speech tagging data from CoNLL-U treebanks (Universal
Dependencies format): a reader and the ``conllu_upos`` loader.

CoNLL-U: one token per line with 10 tab-separated columns (ID, FORM, LEMMA,
UPOS, XPOS, FEATS, HEAD, DEPREL, DEPS, MISC), ``#`` comment lines, and a
blank line after each sentence. Multi-word token lines (ID ``9-10``) and
empty nodes (ID ``8.1``) are skipped: the tags belong to the syntactic words.
A token line with another column count is refused with the file and line.

The loader turns words into symbol ids (``(T_i,)`` int64 arrays) with a
vocabulary built on the training sentences only, so no test word leaks into
it: words seen fewer than ``meta.min_count`` times in training, and every word
the training part never saw, become ``<unk>`` (id 0). Tags are ids into the
sorted UPOS list ``meta["classes"]``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ._dataset import Dataset

__all__ = ["read_conllu", "load_conllu_upos", "UNKNOWN"]

UNKNOWN = "<unk>"
_N_COLUMNS = 10


def read_conllu(path) -> list:
    """Sentences of ``path`` as lists of ``(form, upos)`` pairs.

    Raises ValueError naming the file and the 1-based line for a token line
    without 10 tab-separated columns, or an empty FORM or UPOS."""
    path = Path(path)
    sentences, current = [], []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if current:
                    sentences.append(current)
                    current = []
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) != _N_COLUMNS:
                raise ValueError(
                    f"{path}, line {lineno}: a CoNLL-U token line has {_N_COLUMNS} tab-separated columns, "
                    f"this one has {len(cols)}: {line[:80]!r}"
                )
            if "-" in cols[0] or "." in cols[0]:
                continue  # a multi-word token or an empty node
            if not cols[1] or cols[3] in ("", "_"):
                raise ValueError(f"{path}, line {lineno}: empty FORM or UPOS in {line[:80]!r}")
            current.append((cols[1], cols[3]))
    if current:
        sentences.append(current)
    if not sentences:
        raise ValueError(f"{path}: no sentences")
    return sentences


def load_conllu_upos(card, files: dict) -> Dataset:
    """UPOS tagging on one CoNLL-U file, split into training and test
    sentences as the card's ``[split]`` says (``test_size``, ``random_state``:
    a seeded split of whole sentences)."""
    sentences = read_conllu(files["data"])
    train, test = train_test_split(
        sentences, test_size=card.split["test_size"], random_state=card.split["random_state"], shuffle=True
    )
    counts = Counter(form for sent in train for form, _ in sent)
    vocabulary = [UNKNOWN] + sorted(w for w, c in counts.items() if c >= card.meta.get("min_count", 1))
    word_id = {w: i for i, w in enumerate(vocabulary)}
    tags = sorted({tag for sent in sentences for _, tag in sent})
    tag_id = {t: i for i, t in enumerate(tags)}

    def encode(part):
        X = [np.array([word_id.get(form, 0) for form, _ in sent], dtype=np.int64) for sent in part]
        Y = [np.array([tag_id[tag] for _, tag in sent], dtype=np.int64) for sent in part]
        return X, Y

    (X_train, y_train), (X_test, y_test) = encode(train), encode(test)
    unk_rate = float(np.mean(np.concatenate(X_test) == 0))
    meta = {**card.meta, "classes": tags, "n_symbols": len(vocabulary), "vocabulary": vocabulary,
            "test_unknown_rate": unk_rate}  # fmt: skip
    return Dataset(card.name, "tag", X_train, y_train, X_test, y_test, meta)
