"""Attention on text, under a text-classification leaderboard.

A classifier with ``pooling="attention"`` stores, per job, a few test
sentences with a weight per word (the ``attention_text`` artefact; the
runner writes it). :func:`attention_section` shows them for one dataset:
each word shaded by its weight (the darkest is the sentence's largest), the
true and the predicted label under it. The words are plain text in
:class:`ShadedText` blocks, escaped by the writers like every other text.
"""

from __future__ import annotations

from ..results import ATTENTION_TEXT_ARTEFACT
from ._blocks import Paragraph, Section, ShadedText
from ._format import anchor

__all__ = ["attention_section"]


def _first_record(ctx, entry):
    """The record of the entry's ok job with the smallest seed, or None."""
    jobs = sorted((j for j in entry.jobs if j["status"] == "ok"), key=lambda j: str(j.get("seed")))
    for job in jobs:
        record = ctx.data.artefacts(job["key"]).get(ATTENTION_TEXT_ARTEFACT)
        if record and record.get("sentences"):
            return job, record
    return None, None


def _sentence(sentence: dict) -> ShadedText:
    tokens = [f"{t} (unknown)" if unknown else t for t, unknown in zip(sentence["tokens"], sentence["unknown"])]
    verdict = "right" if sentence["label"] == sentence["predicted"] else "wrong"
    weights = [0.0 if w is None else w for w in sentence["weights"]]
    top = max(range(len(weights)), key=weights.__getitem__)
    return ShadedText(tokens, weights,
                      caption=f"test sentence {sentence['index']}: true label {sentence['label']}, predicted "
                              f"{sentence['predicted']} ({verdict}); largest weight {weights[top]:.2f} on "
                              f"“{sentence['tokens'][top]}”")


def attention_section(ctx, task: str, dataset: str) -> Section | None:
    """Shaded test sentences of each attention model on ``dataset``, or None."""
    blocks = []
    for entry in ctx.groups.get((task, dataset), []):
        job, record = _first_record(ctx, entry)
        if record is None:
            continue
        blocks.append(Paragraph(f"{entry.model} (seed {job.get('seed')}):"))
        blocks += [_sentence(s) for s in record["sentences"]]
    if not blocks:
        return None
    return Section(anchor("attention", task, dataset), f"{dataset}: attention on text", blocks,
                   intro="Which words the prediction rests on: each word shaded by its attention weight (the darker, "
                         "the more the pooled features draw on that step's output; the darkest is the largest weight "
                         "in its sentence), on the first test sentences. Words outside the vocabulary were read as "
                         "<unk>. Attention shows where the model looked, which is not always why it decided.")
