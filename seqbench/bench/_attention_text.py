"""The attention record a text-classification job stores for the report.

A recurrent classifier with ``pooling="attention"`` weighs every step's
output before its head reads them; on text each step is a word, so its
weights say which words the prediction rests on. While the runner holds the
fitted estimator, :func:`attention_text_artefact` keeps, for a few test
sentences, the words, their weights, the true and the predicted label: a
small JSON-ready dict the report's classification section shades.
"""

from __future__ import annotations

import numpy as np

from ..results import ATTENTION_TEXT_ARTEFACT

__all__ = ["attention_text_artefact", "add_attention_text"]

_SENTENCES = 5
_MAX_TOKENS = 40  # longer sentences are skipped: the report shows a few readable ones
_DIGITS = 4


def _reads_attention(estimator) -> bool:
    return (callable(getattr(estimator, "attention_weights", None)) and getattr(estimator, "pooling", None) ==
            "attention" and getattr(estimator, "input_kind_", None) == "text" and hasattr(estimator, "tokenizer_"))


def attention_text_artefact(estimator, X_eval, y_eval, *, n_sentences: int = _SENTENCES,
                            max_tokens: int = _MAX_TOKENS) -> dict | None:
    """Attention weights of a fitted text classifier on its first test sentences.

    Parameters
    ----------
    estimator : fitted classifier with ``pooling="attention"`` on text
        (anything else: None).
    X_eval, y_eval : test sentences (strings) and their labels; the first
        ``n_sentences`` with 1 to ``max_tokens`` words are read, in test order.

    Returns
    -------
    dict or None: ``{"sentences": [{"index", "tokens", "unknown", "weights",
    "label", "predicted"}]}``; ``tokens`` are the words as the tokenizer
    splits them (``unknown[k]``: word ``k`` was out of vocabulary, read as
    ``<unk>``), ``weights`` sum to 1 over the sentence.
    """
    if not _reads_attention(estimator):
        return None
    tokenizer = estimator.tokenizer_
    chosen = []
    for i, text in enumerate(X_eval):
        words = tokenizer.split(text) if isinstance(text, str) else []
        if 1 <= len(words) <= max_tokens:
            chosen.append((i, words))
        if len(chosen) == n_sentences:
            break
    if not chosen:
        return None
    texts = [X_eval[i] for i, _ in chosen]
    weights = estimator.attention_weights(texts)
    predicted = estimator.predict(texts)
    vocabulary = tokenizer.vocabulary_
    sentences = []
    for (i, words), w, p in zip(chosen, weights, predicted):
        sentences.append({"index": i, "tokens": words, "unknown": [word not in vocabulary for word in words],
                          "weights": [round(float(v), _DIGITS) for v in np.asarray(w)],
                          "label": str(y_eval[i]), "predicted": str(p)})
    return {"sentences": sentences}


def add_attention_text(estimator, dataset, artefacts: dict) -> None:
    """Store the attention record of a fitted attention classifier on a
    text dataset in a job's ``artefacts``; a failure becomes a warning (a
    diagnostic must not fail a finished job)."""
    if dataset.task != "classify" or not _reads_attention(estimator):
        return
    try:
        record = attention_text_artefact(estimator, dataset.X_test, dataset.y_test)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must not fail a finished job
        artefacts.setdefault("warnings", []).append(f"attention weights not recorded: {exc}")
        return
    if record:
        artefacts[ATTENTION_TEXT_ARTEFACT] = record
