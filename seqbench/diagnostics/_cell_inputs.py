"""What an estimator's recurrent network reads, sequence by sequence.

The gate diagnostic runs the network on each sequence of ``X`` as the
estimator would at predict time:

- many-to-one models and taggers read the validated sequences themselves
  (real values ``(T, d)``, or symbol ids ``(T,)``, text tokenized with the
  fitted tokenizer);
- a forecaster reads the last ``window`` steps of each history,
  standardised with the fitted ``mean_`` / ``scale_`` (what ``predict``
  feeds its encoder);
- a language model reads the start symbol and then the sequence (what
  ``score_samples`` feeds it).
"""

from __future__ import annotations

import numpy as np

from ..models.neural import RNNForecaster, RNNLanguageModel

__all__ = ["network_inputs", "BOS_TOKEN"]

BOS_TOKEN = "<bos>"


def network_inputs(estimator, X) -> tuple[list[np.ndarray], list[list[str]] | None]:
    """``(inputs, tokens)``: per sequence of ``X``, the array the network reads
    (``(T, d)`` float64 or ``(T,)`` int64) and, for text, its symbols (else None)."""
    if isinstance(estimator, RNNForecaster):
        coll = estimator._validate_histories(X)
        window = estimator.window
        inputs = [(s[-window:] - estimator.mean_) / estimator.scale_ for s in coll.sequences]
        return [np.asarray(a, dtype=np.float64) for a in inputs], None
    if isinstance(estimator, RNNLanguageModel):
        bos = estimator.n_symbols_
        inputs = [np.concatenate([[bos], s]).astype(np.int64) for s in estimator._sequences(X)]
        return inputs, _tokens(estimator, inputs, bos)
    coll = estimator._validate_predict_X(X)
    if coll.kind == "real":
        return [np.asarray(s, dtype=np.float64) for s in coll.sequences], None
    inputs = [np.asarray(s, dtype=np.int64) for s in coll.sequences]
    return inputs, _tokens(estimator, inputs)


def _tokens(estimator, inputs, bos=None) -> list[list[str]] | None:
    tokenizer = getattr(estimator, "tokenizer_", None)
    if tokenizer is None:
        return None
    symbols = tokenizer.symbols_
    return [[BOS_TOKEN if i == bos else symbols[i] for i in seq] for seq in inputs]
