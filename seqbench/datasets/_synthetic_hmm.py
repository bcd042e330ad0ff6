"""Synthetic data from hidden Markov models with known parameters, and the
best achievable scores computed with those true parameters (hmmlearn).

Parameters are built deterministically from the options, so that the seed
(``random_state``) changes only the sample, never the model:

- transitions: ``stay`` on the diagonal; the rest spread evenly over the
  other states (tagging, language modelling), or, for classification, class
  ``c`` moves to state ``s + c + 1 (mod n_states)`` (the classes differ only
  in their dynamics, so the emissions alone cannot tell them apart);
- start probabilities: uniform;
- Gaussian emissions: means on a circle of radius ``separation`` in the first
  two features (on a line for one feature), unit variance (diagonal);
- categorical emissions: state ``s`` owns the symbols ``j`` with
  ``j % n_states == s`` and gives them probability ``purity`` in total; the
  remaining mass is spread evenly over the other symbols.

Oracles (on the test split): per-step accuracy of posterior (per-step MAP)
decoding, the Bayes rule for per-step accuracy, and of Viterbi decoding;
class accuracy of the Bayes rule ``argmax_c log p(x | model_c) + log 1/K``;
bits per symbol of the true model (forward algorithm). Each also gives the
trivial baseline's score.
"""

from __future__ import annotations

import numpy as np
from hmmlearn.hmm import CategoricalHMM, GaussianHMM

from ._dataset import Dataset

__all__ = [
    "make_gaussian_hmm",
    "make_categorical_hmm",
    "make_gaussian_hmm_classification",
    "make_categorical_hmm_classification",
    "make_categorical_hmm_lm",
    "sample_hmm_states",
]


# --------------------------------------------------------------------- parameters


def _check_hmm_options(n_states: int, stay: float, **sizes) -> None:
    if n_states < 2:
        raise ValueError(f"n_states must be >= 2, got {n_states}")
    if not 0.0 <= stay < 1.0:
        raise ValueError(f"stay (self-transition probability) must be in [0, 1), got {stay}")
    for key, value in sizes.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")


def sticky_transmat(n_states: int, stay: float) -> np.ndarray:
    """``(S, S)``: ``stay`` on the diagonal, ``(1 - stay) / (S - 1)`` elsewhere."""
    off = (1.0 - stay) / (n_states - 1)
    return np.full((n_states, n_states), off) + np.eye(n_states) * (stay - off)


def shift_transmat(n_states: int, stay: float, shift: int) -> np.ndarray:
    """``(S, S)``: stay with ``stay``, else move to ``s + shift (mod S)``."""
    perm = np.roll(np.eye(n_states), shift, axis=1)
    return stay * np.eye(n_states) + (1.0 - stay) * perm


def gaussian_means(n_states: int, n_features: int, separation: float) -> np.ndarray:
    """``(S, d)`` means on a circle of radius ``separation`` (a line if d == 1)."""
    means = np.zeros((n_states, n_features))
    if n_features == 1:
        means[:, 0] = separation * np.arange(n_states)
    else:
        angle = 2 * np.pi * np.arange(n_states) / n_states
        means[:, 0], means[:, 1] = separation * np.cos(angle), separation * np.sin(angle)
    return means


def categorical_emissions(n_states: int, n_symbols: int, purity: float) -> np.ndarray:
    """``(S, M)``: state s gives its own symbols (j % S == s) mass ``purity``."""
    if n_symbols < n_states:
        raise ValueError(f"n_symbols ({n_symbols}) must be >= n_states ({n_states}) so each state owns a symbol")
    if not 0.0 < purity <= 1.0:
        raise ValueError(f"purity must be in (0, 1], got {purity}")
    own = (np.arange(n_symbols)[None, :] % n_states) == np.arange(n_states)[:, None]
    n_own = own.sum(axis=1, keepdims=True)
    return np.where(own, purity / n_own, (1.0 - purity) / (n_symbols - n_own))


def _gaussian_model(transmat, means) -> GaussianHMM:
    n = len(transmat)
    model = GaussianHMM(n_components=n, covariance_type="diag")
    model.n_features = means.shape[1]  # hmmlearn sets it in fit; the covars_ getter needs it
    model.startprob_ = np.full(n, 1.0 / n)
    model.transmat_ = transmat
    model.means_ = means
    model.covars_ = np.ones_like(means)
    return model


def _categorical_model(transmat, emissionprob) -> CategoricalHMM:
    n, m = emissionprob.shape
    model = CategoricalHMM(n_components=n, n_features=m)
    model.startprob_ = np.full(n, 1.0 / n)
    model.transmat_ = transmat
    model.emissionprob_ = emissionprob
    return model


# ----------------------------------------------------------------------- sampling


def _draw(cdf_rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One categorical draw per row of ``cdf_rows`` ``(n, K)`` (cumulative)."""
    u = rng.random(len(cdf_rows))[:, None]
    return np.minimum((cdf_rows < u).sum(axis=1), cdf_rows.shape[1] - 1)


def sample_hmm_states(startprob, transmat, lengths, rng: np.random.Generator) -> list:
    """Hidden state paths, one int64 array ``(T_i,)`` per length.

    Written here rather than calling hmmlearn's ``sample``, which draws one
    step of one sequence at a time in Python (about 55 us per step with
    Gaussian emissions); this draws a step of all sequences at once.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n, t_max = len(lengths), int(lengths.max())
    cdf = np.cumsum(transmat, axis=1)
    states = np.empty((n, t_max), dtype=np.int64)
    states[:, 0] = _draw(np.tile(np.cumsum(startprob), (n, 1)), rng)
    for t in range(1, t_max):
        states[:, t] = _draw(cdf[states[:, t - 1]], rng)
    return [states[i, :T].copy() for i, T in enumerate(lengths)]


def _emit(model, states: list, rng: np.random.Generator) -> list:
    """Observations for each state path: ``(T_i, d)`` float64 (Gaussian) or
    ``(T_i,)`` int64 symbol ids (categorical)."""
    if isinstance(model, GaussianHMM):
        sd = np.sqrt(model.covars_[:, np.arange(model.n_features), np.arange(model.n_features)])
        return [model.means_[z] + sd[z] * rng.standard_normal((len(z), model.n_features)) for z in states]
    cdf = np.cumsum(model.emissionprob_, axis=1)
    return [_draw(cdf[z], rng) for z in states]


def true_params(model) -> dict:
    """The generating parameters, for ``meta["params"]``."""
    params = {"startprob": model.startprob_, "transmat": model.transmat_}
    if isinstance(model, GaussianHMM):
        params.update(means=model.means_, variances=np.ones_like(model.means_))
    else:
        params["emissionprob"] = model.emissionprob_
    return params


def _as_hmmlearn(X: list) -> tuple[np.ndarray, np.ndarray]:
    """hmmlearn's ``(X_concat, lengths)`` for real or symbol sequences."""
    Xc = np.concatenate([x if x.ndim == 2 else x[:, None] for x in X])
    return Xc, np.array([len(x) for x in X])


# ------------------------------------------------------------------------ oracles


def tagging_oracle(model, X_test: list, y_test: list, y_train: list) -> dict:
    """Per-step accuracy of posterior and Viterbi decoding with the true model,
    and of the majority training state (the trivial baseline)."""
    Xc, lengths = _as_hmmlearn(X_test)
    truth = np.concatenate(y_test)
    posterior = model.predict_proba(Xc, lengths).argmax(axis=1)
    _, viterbi = model.decode(Xc, lengths, algorithm="viterbi")
    majority = np.bincount(np.concatenate(y_train)).argmax()
    return {
        "accuracy": float(np.mean(posterior == truth)),
        "viterbi_accuracy": float(np.mean(viterbi == truth)),
        "baseline_accuracy": float(np.mean(truth == majority)),
    }


def bayes_classification_oracle(models: list, X_test: list, y_test, y_train) -> dict:
    """Accuracy of ``argmax_c log p(x | model_c) + log prior_c`` (uniform prior,
    as generated) and of the majority training class."""
    loglik = np.array([[m.score(*_as_hmmlearn([x])) for m in models] for x in X_test])
    pred = np.argmax(loglik + np.log(1.0 / len(models)), axis=1)
    majority = np.bincount(y_train).argmax()
    return {
        "accuracy": float(np.mean(pred == y_test)),
        "baseline_accuracy": float(np.mean(y_test == majority)),
    }


def language_model_oracle(model, X_test: list, X_train: list, n_symbols: int) -> dict:
    """Bits per symbol on the test split: the true model (forward algorithm)
    and the add-one-smoothed unigram of the training split."""
    Xc, lengths = _as_hmmlearn(X_test)
    nll_nats = -model.score(Xc, lengths)
    counts = np.bincount(np.concatenate(X_train), minlength=n_symbols) + 1.0
    unigram_bits = -np.log2(counts / counts.sum())[Xc[:, 0]].sum()
    return {
        "bits_per_symbol": float(nll_nats / np.log(2) / len(Xc)),
        "baseline_bits_per_symbol": float(unigram_bits / len(Xc)),
    }


# --------------------------------------------------------------------- generators


def _tagging_dataset(name, model, n_train, n_test, length, rng, options) -> Dataset:
    states = sample_hmm_states(model.startprob_, model.transmat_, [length] * (n_train + n_test), rng)
    X = _emit(model, states, rng)
    X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], states[:n_train], states[n_train:]
    meta = {"options": options, "oracle": tagging_oracle(model, X_test, y_test, y_train), "params": true_params(model)}
    return Dataset(name, "tag", X_train, y_train, X_test, y_test, meta)


def make_gaussian_hmm(
    *, n_train=100, n_test=100, length=100, n_states=3, n_features=2, stay=0.8, separation=1.5, random_state=0
) -> Dataset:
    """Tagging: ``(length, n_features)`` observations, per-step hidden states as
    labels. ``meta["oracle"]["accuracy"]``: posterior decoding with the true
    parameters (the best per-step accuracy achievable)."""
    options = dict(locals())
    _check_hmm_options(n_states, stay, n_train=n_train, n_test=n_test, length=length, n_features=n_features)
    model = _gaussian_model(sticky_transmat(n_states, stay), gaussian_means(n_states, n_features, separation))
    return _tagging_dataset(
        "hmm_gaussian", model, n_train, n_test, length, np.random.default_rng(random_state), options
    )


def make_categorical_hmm(
    *, n_train=100, n_test=100, length=100, n_states=3, n_symbols=6, stay=0.8, purity=0.8, random_state=0
) -> Dataset:
    """Tagging: ``(length,)`` symbol-id sequences, per-step hidden states as labels."""
    options = dict(locals())
    _check_hmm_options(n_states, stay, n_train=n_train, n_test=n_test, length=length)
    model = _categorical_model(sticky_transmat(n_states, stay), categorical_emissions(n_states, n_symbols, purity))
    ds = _tagging_dataset(
        "hmm_categorical", model, n_train, n_test, length, np.random.default_rng(random_state), options
    )
    ds.meta["n_symbols"] = n_symbols
    return ds


def _classification_dataset(name, models, n_train, n_test, min_length, max_length, rng, options) -> Dataset:
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got {min_length} and {max_length}")
    n, k = n_train + n_test, len(models)
    y = rng.permutation(np.arange(n) % k)
    lengths = rng.integers(min_length, max_length + 1, size=n)
    X = [None] * n
    for c, model in enumerate(models):
        idx = np.flatnonzero(y == c)
        states = sample_hmm_states(model.startprob_, model.transmat_, lengths[idx], rng)
        for i, x in zip(idx, _emit(model, states, rng)):
            X[i] = x
    X_train, X_test, y_train, y_test = X[:n_train], X[n_train:], y[:n_train], y[n_train:]
    oracle = bayes_classification_oracle(models, X_test, y_test, y_train)
    meta = {"options": options, "oracle": oracle, "classes": list(range(k)), "params": [true_params(m) for m in models]}
    return Dataset(name, "classify", X_train, y_train, X_test, y_test, meta)


def _check_classes(n_classes: int, n_states: int) -> None:
    if not 2 <= n_classes <= n_states - 1:
        raise ValueError(
            f"n_classes must be between 2 and n_states - 1 = {n_states - 1} (one transition shift per class), "
            f"got {n_classes}; raise n_states for more classes"
        )


def make_gaussian_hmm_classification(
    *, n_train=150, n_test=150, min_length=30, max_length=60, n_classes=3, n_states=4, n_features=2,
    stay=0.6, separation=1.0, random_state=0,
) -> Dataset:  # fmt: skip
    """Classification by generating model: one Gaussian HMM per class, same
    emissions, different transitions; labels ``0..n_classes-1`` (balanced).
    ``meta["oracle"]["accuracy"]``: the Bayes rule with the true models."""
    options = dict(locals())
    _check_hmm_options(n_states, stay, n_train=n_train, n_test=n_test, n_features=n_features)
    _check_classes(n_classes, n_states)
    means = gaussian_means(n_states, n_features, separation)
    models = [_gaussian_model(shift_transmat(n_states, stay, c + 1), means) for c in range(n_classes)]
    rng = np.random.default_rng(random_state)
    return _classification_dataset(
        "hmm_gaussian_classify", models, n_train, n_test, min_length, max_length, rng, options
    )


def make_categorical_hmm_classification(
    *, n_train=150, n_test=150, min_length=30, max_length=60, n_classes=3, n_states=4, n_symbols=8,
    stay=0.6, purity=0.6, random_state=0,
) -> Dataset:  # fmt: skip
    """Classification by generating model with categorical emissions (symbol ids)."""
    options = dict(locals())
    _check_hmm_options(n_states, stay, n_train=n_train, n_test=n_test)
    _check_classes(n_classes, n_states)
    emissions = categorical_emissions(n_states, n_symbols, purity)
    models = [_categorical_model(shift_transmat(n_states, stay, c + 1), emissions) for c in range(n_classes)]
    rng = np.random.default_rng(random_state)
    ds = _classification_dataset(
        "hmm_categorical_classify", models, n_train, n_test, min_length, max_length, rng, options
    )
    ds.meta["n_symbols"] = n_symbols
    return ds


def make_categorical_hmm_lm(
    *, n_train=100, n_test=50, length=100, n_states=3, n_symbols=6, stay=0.8, purity=0.9, random_state=0
) -> Dataset:
    """Language modelling: symbol-id sequences from a categorical HMM, ``y`` None.
    ``meta["oracle"]["bits_per_symbol"]``: the true model's negative
    log2-likelihood per symbol on the test split (forward algorithm)."""
    options = dict(locals())
    _check_hmm_options(n_states, stay, n_train=n_train, n_test=n_test, length=length)
    model = _categorical_model(sticky_transmat(n_states, stay), categorical_emissions(n_states, n_symbols, purity))
    rng = np.random.default_rng(random_state)
    states = sample_hmm_states(model.startprob_, model.transmat_, [length] * (n_train + n_test), rng)
    X = _emit(model, states, rng)
    X_train, X_test = X[:n_train], X[n_train:]
    meta = {
        "options": options,
        "oracle": language_model_oracle(model, X_test, X_train, n_symbols),
        "n_symbols": n_symbols,
        "params": true_params(model),
    }
    return Dataset("hmm_categorical_lm", "language_model", X_train, None, X_test, None, meta)
