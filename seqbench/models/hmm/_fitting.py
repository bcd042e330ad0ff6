"""Shared HMM fitting machinery for every seqbench HMM estimator.

What hmmlearn 0.3.3 does not do on its own, and what this module adds:

- **A covariance floor during EM.** hmmlearn's ``min_covar`` only enters the
  *initial* covariances; a constant feature ends with a variance of ~2e-5
  whatever ``min_covar`` is, and full covariances then fail with "covars must
  be symmetric, positive-definite". The Gaussian and GMM models built here
  (:class:`FlooredGaussianHMM`, :class:`FlooredGMMHMM`) override hmmlearn's
  ``_do_mstep`` hook and, after hmmlearn's own M-step, lift every variance
  below ``covar_floor`` up to it (diagonal and spherical: elementwise; full
  and tied: every eigenvalue, so the matrix stays positive definite).
- **Empty states.** A state that receives no posterior mass in an E-step gets
  ``0/0 = NaN`` means from hmmlearn's M-step, and a row of ``transmat_`` that
  sums to zero makes hmmlearn's ``score`` raise. The same M-step hook keeps an
  empty state's emission parameters where they were and turns an all-zero
  transition row into a self-loop (an unreachable state: no effect on any
  likelihood). Both repairs are counted on the model.
- **A left-to-right (Bakis) topology**: start in state 0, from state ``i`` stay
  or move to ``i + 1``. hmmlearn's M-step never makes a zero transition
  non-zero, so the zero pattern set before EM is kept (``s``/``t`` are left
  out of ``init_params`` and kept in ``params``). Emissions start from a
  left-to-right segmentation of the sequences (hmmlearn's k-means ignores
  time and would hand the chain its states in arbitrary order).
- **Restarts keeping the best log-likelihood**, where a run that fails
  numerically (NaN start probabilities, non positive-definite covariances, a
  NaN likelihood) is replaced by a run from another seed, and a clear
  :class:`HMMFitError` naming the class when every run fails.
- **Honest convergence.** ``monitor_.converged`` is also true when EM merely
  hit ``n_iter``; here a run converged only when its last log-likelihood gain
  was below ``tol``.
- **Speed without fragility.** EM runs hmmlearn's "scaling" forward-backward
  (about 3x faster than "log", whose per-sequence logsumexp dominates) and
  falls back to "log" when emission probabilities underflow; fitted models
  score with "log". :func:`sequence_log_likelihoods` gives one
  log-likelihood per sequence without one hmmlearn call per sequence.

Everything else (E-step, M-step, k-means and random initialisation,
emission densities) is hmmlearn's. HMM estimators (classifier, tagger,
forecaster, language model) describe their models with :class:`HMMSpec` and
fit them with :func:`fit_best_hmm`.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import asdict, dataclass

import numpy as np
from hmmlearn.hmm import CategoricalHMM, GaussianHMM, GMMHMM
from sklearn.cluster import KMeans

__all__ = [
    "EMISSIONS",
    "TOPOLOGIES",
    "COVARIANCE_TYPES",
    "HMMSpec",
    "HMMFitError",
    "FitReport",
    "FlooredGaussianHMM",
    "FlooredGMMHMM",
    "RepairedCategoricalHMM",
    "floor_covariances",
    "n_states_for",
    "left_right_start",
    "segment_steps",
    "make_hmm",
    "fit_hmm",
    "fit_best_hmm",
    "run_seed",
    "sequence_log_likelihoods",
    "forward_log_likelihoods",
]

EMISSIONS = ("gaussian", "gmm", "categorical")
TOPOLOGIES = ("ergodic", "left-right")
COVARIANCE_TYPES = ("diag", "full", "spherical", "tied")

# A state whose expected number of steps in an E-step is below this has no
# data: its emission parameters are left as they were.
_EMPTY_STATE_MASS = 1e-10
# Extra runs from new seeds that may replace runs that failed numerically.
_MAX_REPLACEMENT_RUNS = 3
_HMMLEARN_LOGGERS = ("hmmlearn.base", "hmmlearn.hmm")


class HMMFitError(ValueError):
    """Every EM run for one model failed numerically."""


@dataclass(frozen=True)
class HMMSpec:
    """Everything that defines one HMM to fit, except its data and seed.

    emission : "gaussian" | "gmm" | "categorical"
    n_components : number of hidden states asked for (see :func:`n_states_for`)
    covariance_type : "diag" | "full" | "spherical" | "tied" (real emissions)
    n_mix : Gaussians per state (``"gmm"`` only)
    n_symbols : vocabulary size, the ``n_features`` of a categorical model
    topology : "ergodic" | "left-right"
    n_iter, tol : EM iterations at most; stop when the log-likelihood gain
        (nats, whole training set) is below ``tol``
    covar_floor : smallest variance kept after every M-step (units of the
        data the model sees, i.e. z-scored units when the caller standardises)
    emission_smoothing : additive (Dirichlet) pseudo-count per symbol and state
        for categorical emissions; > 0 keeps every symbol's probability > 0
    """

    emission: str
    n_components: int
    covariance_type: str = "diag"
    n_mix: int = 1
    n_symbols: int | None = None
    topology: str = "left-right"
    n_iter: int = 100
    tol: float = 1e-2
    covar_floor: float = 1e-3
    emission_smoothing: float = 1.0


@dataclass(frozen=True)
class FitReport:
    """What fitting one HMM did, for ``fit_report_`` and results stores.

    log_likelihood : training log-likelihood (nats, sum over the sequences)
        of the kept run, as computed in its last E-step
    converged : whether the last log-likelihood gain was below ``tol``
        (not merely ``n_iter`` reached)
    n_iter : EM iterations the kept run used
    n_states : hidden states fitted (``n_components`` or fewer, see
        :func:`n_states_for`)
    run_log_likelihoods : final log-likelihood of every successful run, in
        seed order; the kept run is the best of them
    failed_runs : one message per run that failed numerically and was replaced
    n_floored : variances (or eigenvalues) lifted to the floor in the kept
        run's last M-step
    n_repaired_states : states whose emission parameters were kept because
        they were empty, or whose zero transition row became a self-loop, in
        the kept run's last M-step
    messages : distinct messages hmmlearn logged while fitting (first
        sentence each), e.g. "Model is not converging"
    """

    log_likelihood: float
    converged: bool
    n_iter: int
    n_states: int
    run_log_likelihoods: tuple
    failed_runs: tuple
    n_floored: int
    n_repaired_states: int
    messages: tuple

    def as_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------
# covariance floor and M-step repairs (pure functions + hmmlearn hook overrides)
# ---------------------------------------------------------------------------


def floor_covariances(covars: np.ndarray, covariance_type: str, floor: float) -> tuple[np.ndarray, int]:
    """Lift every variance below ``floor`` up to ``floor``.

    Parameters
    ----------
    covars : ndarray
        hmmlearn's stored covariances: ``(..., d)`` per-feature variances for
        "diag", ``(...)`` or ``(..., d)`` for "spherical", ``(..., d, d)``
        matrices for "full" and "tied".
    covariance_type : str
    floor : float
        Smallest variance (data units squared).

    Returns
    -------
    covars : ndarray, same shape (the input itself when nothing was below)
    n_raised : int
        Number of variances (diag/spherical) or eigenvalues (full/tied) lifted.

    Notes
    -----
    For full and tied covariances the eigenvalues are clamped
    (``V max(L, floor) V^T``), so every direction keeps variance >= floor and
    the matrix stays positive definite; matrices already above the floor are
    returned untouched, so a well-estimated model is not biased.
    """
    if covariance_type in ("diag", "spherical"):
        low = covars < floor
        n_raised = int(np.count_nonzero(low))
        return (np.where(low, floor, covars) if n_raised else covars), n_raised
    d = covars.shape[-1]
    mats = covars.reshape(-1, d, d)
    mats = 0.5 * (mats + np.swapaxes(mats, -1, -2))
    eigval, eigvec = np.linalg.eigh(mats)
    low = eigval < floor
    n_raised = int(np.count_nonzero(low))
    if not n_raised:
        return covars, 0
    bad = low.any(axis=1)
    lifted = np.maximum(eigval[bad], floor)
    mats[bad] = np.einsum("kij,kj,klj->kil", eigvec[bad], lifted, eigvec[bad])
    return mats.reshape(covars.shape), n_raised


def _repair_transmat(transmat: np.ndarray) -> np.ndarray:
    """Turn all-zero rows (states never left nor entered) into self-loops, in
    place; returns the boolean mask of repaired rows ``(n_states,)``."""
    zero = transmat.sum(axis=1) == 0
    if zero.any():
        idx = np.flatnonzero(zero)
        transmat[idx, idx] = 1.0
    return zero


class FlooredGaussianHMM(GaussianHMM):
    """hmmlearn's GaussianHMM with a covariance floor applied after every
    M-step (and to the initial covariances), empty states kept in place and
    all-zero transition rows repaired.

    ``covar_floor`` is the smallest variance kept; every other parameter is
    hmmlearn's. After ``fit``: ``n_floored_`` and ``n_repaired_states_`` count
    what the last M-step changed.
    """

    def __init__(self, n_components=1, covariance_type="diag", min_covar=1e-3, startprob_prior=1.0,
                 transmat_prior=1.0, means_prior=0, means_weight=0, covars_prior=1e-2, covars_weight=1,
                 algorithm="viterbi", random_state=None, n_iter=10, tol=1e-2, verbose=False,
                 params="stmc", init_params="stmc", implementation="log", covar_floor=1e-3):
        super().__init__(
            n_components=n_components, covariance_type=covariance_type, min_covar=min_covar,
            startprob_prior=startprob_prior, transmat_prior=transmat_prior, means_prior=means_prior,
            means_weight=means_weight, covars_prior=covars_prior, covars_weight=covars_weight,
            algorithm=algorithm, random_state=random_state, n_iter=n_iter, tol=tol, verbose=verbose,
            params=params, init_params=init_params, implementation=implementation,
        )
        self.covar_floor = covar_floor

    def _init(self, X, lengths=None):
        super()._init(X, lengths)  # k-means means, np.cov + min_covar covariances
        self._covars_, _ = floor_covariances(self._covars_, self.covariance_type, self.covar_floor)

    def _do_mstep(self, stats):
        empty = stats["post"] < _EMPTY_STATE_MASS
        if empty.any():
            # hmmlearn divides by the state's mass: give each empty state an
            # infinitesimal pseudo-observation at its current mean so no 0/0
            # NaN reaches a tied covariance, then restore its old parameters.
            old_means, old_covars = self.means_.copy(), self._covars_.copy()
            eps = _EMPTY_STATE_MASS
            stats["post"][empty] = eps
            stats["obs"][empty] = eps * old_means[empty]
            stats["obs**2"][empty] = eps * old_means[empty] ** 2
            if "obs*obs.T" in stats:
                stats["obs*obs.T"][empty] = eps * np.einsum("ki,kj->kij", old_means[empty], old_means[empty])
        super()._do_mstep(stats)
        if empty.any():
            self.means_[empty] = old_means[empty]
            if self.covariance_type != "tied":
                self._covars_[empty] = old_covars[empty]
        self._covars_, self.n_floored_ = floor_covariances(self._covars_, self.covariance_type, self.covar_floor)
        self.n_repaired_states_ = int(np.count_nonzero(empty | _repair_transmat(self.transmat_)))


class FlooredGMMHMM(GMMHMM):
    """hmmlearn's GMMHMM with the same floor and repairs as
    :class:`FlooredGaussianHMM` (per state and mixture component), and a
    reproducible initialisation.

    hmmlearn 0.3.3's GMMHMM initialisation draws from NumPy's *global* random
    state when a state's k-means cluster has fewer than ``n_mix`` points;
    ``_init`` here seeds that draw from ``random_state`` and restores the
    global state afterwards, so equal seeds give equal models.
    """

    def __init__(self, n_components=1, n_mix=1, min_covar=1e-3, startprob_prior=1.0, transmat_prior=1.0,
                 weights_prior=1.0, means_prior=0.0, means_weight=0.0, covars_prior=None,
                 covars_weight=None, algorithm="viterbi", covariance_type="diag", random_state=None,
                 n_iter=10, tol=1e-2, verbose=False, params="stmcw", init_params="stmcw",
                 implementation="log", covar_floor=1e-3):
        super().__init__(
            n_components=n_components, n_mix=n_mix, min_covar=min_covar, startprob_prior=startprob_prior,
            transmat_prior=transmat_prior, weights_prior=weights_prior, means_prior=means_prior,
            means_weight=means_weight, covars_prior=covars_prior, covars_weight=covars_weight,
            algorithm=algorithm, covariance_type=covariance_type, random_state=random_state,
            n_iter=n_iter, tol=tol, verbose=verbose, params=params, init_params=init_params,
            implementation=implementation,
        )
        self.covar_floor = covar_floor

    def _init(self, X, lengths=None):
        with _seeded_global_numpy(self.random_state):
            super()._init(X, lengths)
        self.covars_, _ = floor_covariances(self.covars_, self.covariance_type, self.covar_floor)

    def _do_mstep(self, stats):
        empty_state = stats["post_sum"] < _EMPTY_STATE_MASS
        empty_mix = stats["post_mix_sum"] < _EMPTY_STATE_MASS
        repairs = empty_mix.any()
        if repairs:
            old = self.weights_.copy(), self.means_.copy(), self.covars_.copy()
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 of empty components, undone below
            super()._do_mstep(stats)
        if repairs:
            self.weights_[empty_state] = old[0][empty_state]
            self.means_[empty_mix] = old[1][empty_mix]
            covar_mask = empty_state if self.covariance_type == "tied" else empty_mix
            self.covars_[covar_mask] = old[2][covar_mask]
        self.covars_, self.n_floored_ = floor_covariances(self.covars_, self.covariance_type, self.covar_floor)
        self.n_repaired_states_ = int(np.count_nonzero(empty_state | _repair_transmat(self.transmat_)))


class RepairedCategoricalHMM(CategoricalHMM):
    """hmmlearn's CategoricalHMM with all-zero transition rows repaired after
    every M-step. Emission smoothing is hmmlearn's own Dirichlet prior
    (``emissionprob_prior = 1 + smoothing``), so no emission is ever 0."""

    def _do_mstep(self, stats):
        super()._do_mstep(stats)
        self.n_floored_ = 0
        self.n_repaired_states_ = int(np.count_nonzero(_repair_transmat(self.transmat_)))


@contextlib.contextmanager
def _seeded_global_numpy(seed):
    state = np.random.get_state()
    np.random.seed(seed if isinstance(seed, (int, np.integer)) else None)
    try:
        yield
    finally:
        np.random.set_state(state)


# ---------------------------------------------------------------------------
# building and fitting
# ---------------------------------------------------------------------------


def n_states_for(spec: HMMSpec, lengths: np.ndarray) -> int:
    """Hidden states a model gets on sequences of these lengths.

    A documented reduction instead of a crash inside hmmlearn: a left-right
    model cannot visit more states than its longest sequence has steps, and
    k-means initialisation of an ergodic model needs as many steps as states;
    so ``min(n_components, max(lengths))`` for "left-right" and
    ``min(n_components, sum(lengths))`` for "ergodic".
    """
    cap = int(np.max(lengths)) if spec.topology == "left-right" else int(np.sum(lengths))
    return max(1, min(spec.n_components, cap))


def left_right_start(n_states: int) -> tuple[np.ndarray, np.ndarray]:
    """Bakis start ``(startprob (S,), transmat (S, S))``: begin in state 0;
    each state stays or moves to the next with probability 1/2; the last stays."""
    startprob = np.zeros(n_states)
    startprob[0] = 1.0
    transmat = np.eye(n_states) * 0.5 + np.eye(n_states, k=1) * 0.5
    transmat[-1, -1] = 1.0
    return startprob, transmat


def segment_steps(lengths: np.ndarray, n_states: int, rng: np.random.RandomState | None = None) -> np.ndarray:
    """Left-to-right segmentation: the state index of every step, ``(sum T_i,)``.

    ``rng=None``: uniform segmentation (step ``t`` of a length-``T`` sequence
    goes to state ``floor(t * S / T)``; HTK's "flat start"). Otherwise each
    sequence's ``S - 1`` boundaries are drawn uniformly at random (the
    varied starts of restarts). Requires ``S <= max(lengths)`` for every
    state to get a step (see :func:`n_states_for`).
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    seq = np.repeat(np.arange(len(lengths)), lengths)
    position = (np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)) / lengths[seq]
    if rng is None:
        return np.minimum((position * n_states + 1e-9).astype(np.int64), n_states - 1)
    cuts = np.sort(rng.random_sample((len(lengths), n_states - 1)), axis=1)
    seg = (position[:, None] >= cuts[seq]).sum(axis=1)
    # a state no step fell into takes its uniform-segmentation steps back
    missing = np.setdiff1d(np.arange(n_states), seg)
    if missing.size:
        uniform = segment_steps(lengths, n_states)
        take = np.isin(uniform, missing)
        seg[take] = uniform[take]
    return seg


def _segment_emissions(spec: HMMSpec, X: np.ndarray, seg: np.ndarray, n_states: int, seed: int) -> dict:
    """Initial emission parameters of a left-right model from a segmentation.

    Gaussian: each state's mean is the mean of its segment's steps; GMM:
    k-means (``n_mix`` clusters) within the segment; categorical: the
    segment's symbol frequencies, smoothed. Covariances and mixture weights
    keep hmmlearn's initialisation.
    """
    counts = np.bincount(seg, minlength=n_states).astype(np.float64)
    if spec.emission == "categorical":
        freq = np.full((n_states, spec.n_symbols), spec.emission_smoothing)
        np.add.at(freq, (seg, X[:, 0]), 1.0)
        return {"emissionprob_": freq / freq.sum(axis=1, keepdims=True)}
    sums = np.zeros((n_states, X.shape[1]))
    np.add.at(sums, seg, X)
    means = sums / counts[:, None]
    if spec.emission == "gaussian":
        return {"means_": means}
    mix = np.repeat(means[:, None, :], spec.n_mix, axis=1)
    for i in range(n_states):
        X_i = X[seg == i]
        if len(np.unique(X_i, axis=0)) >= spec.n_mix:
            mix[i] = KMeans(spec.n_mix, n_init=1, random_state=seed).fit(X_i).cluster_centers_
    return {"means_": mix}


def make_hmm(spec: HMMSpec, X: np.ndarray, lengths: np.ndarray, seed: int, *, run: int = 0,
             implementation: str = "scaling"):
    """An unfitted hmmlearn model (floored/repaired subclass) for ``spec`` and
    this data, with ``n_states_for(spec, lengths)`` states.

    ``seed`` is the run's integer seed (k-means, random initial parameters);
    ``implementation`` hmmlearn's forward-backward variant ("scaling" or
    "log"). Ergodic models start from hmmlearn's own initialisation (k-means
    means, random start and transition probabilities). Left-right models
    start from :func:`left_right_start` and emissions estimated on a
    left-to-right segmentation of the sequences: uniform for ``run == 0``,
    random boundaries for later runs (:func:`segment_steps`). hmmlearn's
    k-means ignores time, so its states would come in arbitrary order, which
    a left-right chain cannot undo.
    """
    n_states = n_states_for(spec, lengths)
    common = dict(n_components=n_states, n_iter=spec.n_iter, tol=spec.tol, random_state=seed,
                  implementation=implementation)
    if spec.emission == "gaussian":
        model = FlooredGaussianHMM(covariance_type=spec.covariance_type, min_covar=spec.covar_floor,
                                   covar_floor=spec.covar_floor, params="stmc", init_params="stmc", **common)
    elif spec.emission == "gmm":
        model = FlooredGMMHMM(n_mix=spec.n_mix, covariance_type=spec.covariance_type, min_covar=spec.covar_floor,
                              covar_floor=spec.covar_floor, params="stmcw", init_params="stmcw", **common)
    elif spec.emission == "categorical":
        model = RepairedCategoricalHMM(n_features=spec.n_symbols, emissionprob_prior=1.0 + spec.emission_smoothing,
                                       params="ste", init_params="ste", **common)
    else:
        raise ValueError(f"emission must be one of {EMISSIONS}, got {spec.emission!r}")
    if spec.topology == "left-right":
        model.startprob_, model.transmat_ = left_right_start(n_states)
        seg = segment_steps(lengths, n_states, None if run == 0 else np.random.RandomState(seed))
        for name, value in _segment_emissions(spec, X, seg, n_states, seed).items():
            setattr(model, name, value)
        given = "st" + ("e" if spec.emission == "categorical" else "m")
        model.init_params = "".join(c for c in model.init_params if c not in given)
    return model


class _CaptureHMMLearnLog(logging.Filter):
    """Swallow hmmlearn's log records during a fit and keep their first sentence."""

    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record):
        first = record.getMessage().split(".")[0].strip()
        if first not in self.messages:
            self.messages.append(first)
        return False


@contextlib.contextmanager
def _captured_hmmlearn_log():
    capture = _CaptureHMMLearnLog()
    loggers = [logging.getLogger(name) for name in _HMMLEARN_LOGGERS]
    for lg in loggers:
        lg.addFilter(capture)
    try:
        yield capture.messages
    finally:
        for lg in loggers:
            lg.removeFilter(capture)


def _is_finite_model(model) -> bool:
    names = ("startprob_", "transmat_", "means_", "_covars_", "covars_", "weights_", "emissionprob_")
    return all(np.isfinite(getattr(model, n)).all() for n in names if hasattr(model, n))


def fit_hmm(spec: HMMSpec, X: np.ndarray, lengths: np.ndarray, seed: int, *, run: int = 0):
    """One EM run (``run``-th of its model, see :func:`make_hmm`):
    ``(model, log_likelihood, converged, messages)``.

    X : ``(sum T_i, d)`` float64 (real emissions) or ``(sum T_i, 1)`` int64
        symbol ids; lengths : int ``(n,)``, one call to hmmlearn for all.

    EM runs with hmmlearn's "scaling" forward-backward, about 3x faster than
    "log" here (scipy's logsumexp per sequence dominates "log"); when a
    step's emission probabilities all underflow to 0 (far outliers, many
    features) hmmlearn raises, and the run is redone with "log" from the same
    seed. The returned model scores with "log", which cannot underflow.

    Raises ValueError (hmmlearn's, or a NaN/inf log-likelihood or parameter)
    when the run fails numerically; :func:`fit_best_hmm` retries those.
    """
    with _captured_hmmlearn_log() as messages, np.errstate(under="ignore"):
        try:
            model = make_hmm(spec, X, lengths, seed, run=run).fit(X, lengths)
        except ValueError as exc:
            if "underflow" not in str(exc):
                raise
            messages.append("Scaling forward pass underflowed: refitted with implementation='log'")
            model = make_hmm(spec, X, lengths, seed, run=run, implementation="log").fit(X, lengths)
    model.implementation = "log"
    history = list(model.monitor_.history)
    if not history or not np.isfinite(history[-1]) or not _is_finite_model(model):
        raise ValueError("EM produced a NaN or infinite log-likelihood or parameter")
    # hmmlearn's monitor_.converged is also true when EM merely hit n_iter
    converged = len(history) >= 2 and history[-1] - history[-2] < spec.tol
    return model, float(history[-1]), bool(converged), tuple(messages)


def run_seed(base_seed: int, key: int, run: int) -> int:
    """Seed of run ``run`` for model ``key`` (e.g. class index).

    Independent of how many runs are made, so the first run of
    ``n_restarts=3`` is the run of ``n_restarts=1`` with the same base seed.
    """
    return int(np.random.SeedSequence([base_seed, key, run]).generate_state(1)[0] >> 1)


def fit_best_hmm(spec: HMMSpec, X, lengths, *, n_restarts: int, base_seed: int, key: int = 0, label=None):
    """Fit ``n_restarts`` EM runs from different seeds; keep the best.

    A run that fails numerically is replaced by one from a new seed (at most
    ``_MAX_REPLACEMENT_RUNS`` replacements). ``label`` names the model in the
    error raised when every run fails.

    Returns
    -------
    model : fitted hmmlearn model (the run with the largest training
        log-likelihood)
    report : FitReport
    """
    best, lls, failures, messages = None, [], [], []
    run = 0
    while len(lls) < n_restarts and run < n_restarts + _MAX_REPLACEMENT_RUNS:
        seed = run_seed(base_seed, key, run)
        run += 1
        try:
            model, ll, converged, msgs = fit_hmm(spec, X, lengths, seed, run=run - 1)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            failures.append(f"seed {seed}: {type(exc).__name__}: {exc}")
            continue
        lls.append(ll)
        messages.extend(m for m in msgs if m not in messages)
        if best is None or ll > best[1]:
            best = (model, ll, converged)
    if best is None:
        name = "" if label is None else f" for class {label!r}"
        raise HMMFitError(
            f"every EM run{name} failed numerically ({run} runs); last error: {failures[-1]}. "
            "Try a larger covar_floor, fewer n_components, covariance_type='diag', or standardized inputs"
        )
    model, ll, converged = best
    report = FitReport(
        log_likelihood=ll, converged=converged, n_iter=int(model.monitor_.iter), n_states=int(model.n_components),
        run_log_likelihoods=tuple(lls), failed_runs=tuple(failures), n_floored=int(model.n_floored_),
        n_repaired_states=int(model.n_repaired_states_), messages=tuple(messages),
    )
    return model, report


def sequence_log_likelihoods(model, X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Log-likelihood (nats) of each sequence under a fitted hmmlearn model, ``(n,)``.

    X : ``(sum T_i, d)`` (or ``(sum T_i, 1)`` symbol ids), lengths : ``(n,)``.

    hmmlearn's ``score`` returns only the sum over the sequences it is given,
    and one call per sequence costs ~0.2 ms of fixed overhead (input and
    parameter checks), far more than the arithmetic of a short sequence. So
    for many short sequences the emission log-probabilities come from
    hmmlearn once for all steps (its ``_compute_log_likelihood`` hook, the
    one its subclasses override) and :func:`forward_log_likelihoods` runs the
    forward algorithm over all sequences at once (~15 us per time step). For
    few long sequences (longest > 10x the number of sequences, e.g. a corpus
    of text) hmmlearn's compiled forward pass, one ``score`` per sequence, is
    faster and is used. tests/test_hmm.py checks both against ``score``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    if lengths.max() > 10 * len(lengths):
        ends = np.cumsum(lengths)
        with np.errstate(under="ignore"):
            return np.array([model.score(X[end - n:end]) for end, n in zip(ends, lengths)])
    model._check()
    log_frameprob = model._compute_log_likelihood(X)
    return forward_log_likelihoods(model.startprob_, model.transmat_, log_frameprob, lengths)


def forward_log_likelihoods(startprob, transmat, log_frameprob, lengths) -> np.ndarray:
    """The forward algorithm for many sequences at once.

    Parameters
    ----------
    startprob : ``(S,)`` initial state probabilities
    transmat : ``(S, S)`` transition probabilities, rows sum to 1
    log_frameprob : ``(sum T_i, S)`` log emission probability of each step
        (concatenated sequences) under each state
    lengths : ``(n,)`` sequence lengths, ``sum(lengths) == len(log_frameprob)``

    Returns
    -------
    ``(n,)`` log-likelihood of each sequence (nats).

    Sequences are processed longest first, so step ``t`` updates a prefix of
    the state array: one vectorised update per time step, none per sequence.
    Each update is ``log(exp(alpha - max) @ transmat) + max`` (probability
    space after a per-sequence max shift), which cannot underflow and keeps
    zero transitions (left-right models) exactly zero.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths, sorted_starts = lengths[order], starts[order]
    with np.errstate(divide="ignore", under="ignore", invalid="ignore"):
        alpha = np.log(startprob) + log_frameprob[sorted_starts]  # (n, S)
        for t in range(1, int(sorted_lengths[0]) if len(lengths) else 0):
            n_active = int(np.count_nonzero(sorted_lengths > t))
            a = alpha[:n_active]
            top = _finite_max(a)
            alpha[:n_active] = np.log(np.exp(a - top) @ transmat) + top + log_frameprob[sorted_starts[:n_active] + t]
        top = _finite_max(alpha)
        out = np.empty(len(lengths))
        out[order] = np.log(np.exp(alpha - top).sum(axis=1, keepdims=True))[:, 0] + top[:, 0]
    return out


def _finite_max(a: np.ndarray) -> np.ndarray:
    """Row maxima ``(n, 1)``, 0 where a row is all -inf (keeps -inf, not NaN)."""
    top = a.max(axis=1, keepdims=True)
    top[~np.isfinite(top)] = 0.0
    return top
