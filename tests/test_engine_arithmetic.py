"""The training step does the same arithmetic as a plain PyTorch loop.

The engine keeps a module's parameters and gradients as views into one flat
tensor each (on CPU), slices an epoch's batches out of one gathered tensor
and builds validation batches once; none of that may change a number. Each
test trains one epoch with the engine and with a plain loop written the
obvious way (padded batches from ``length_buckets``, ``zero_grad``,
``backward``, clipping, ``step``) from the same seed, and compares every
weight. Where the arithmetic is the same the weights are equal bit for bit;
the one place it is not (the total norm summed over one flat vector instead
of as a norm of per-tensor norms, and fused instead of per-tensor Adam)
stays within float32 rounding of the code before the change, whose updates
are recorded below.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch.nn.utils import clip_grad_norm_

from seqbench.data import length_buckets, pad_sequences
from seqbench.models import RNNClassifier, RNNForecaster
from seqbench.models.neural._batches import SequenceBatches
from seqbench.models.neural._engine import Trainer, TrainingConfig, torch_session
from seqbench.models.neural._flat_parameters import FlatParameters, SeparateParameters
from seqbench.models.neural._forecaster import ForecastRNN
from seqbench.models.neural._modules import PooledRNN, RNNConfig

LR, BATCH = 0.01, 8


@pytest.fixture(autouse=True)
def one_torch_thread():
    with torch_session(num_threads=1):
        yield


def problem(ragged: bool):
    """40 sequences of 2 features, lengths 5..9 (within one length bucket's ratio) or all 8."""
    rng = np.random.default_rng(11)
    lengths = rng.integers(5, 10, size=40) if ragged else np.full(40, 8)
    X = [rng.normal(size=(int(L), 2)).astype(np.float32) for L in lengths]
    y = np.array([int(s[-1, 0] + s[0, 1] > 0) for s in X])
    return X, y


def new_module(cell: str) -> PooledRNN:
    torch.manual_seed(0)
    return PooledRNN(RNNConfig(n_inputs=2, n_outputs=2, cell=cell, hidden_size=8))


def flat_norm_clip(params, max_norm):
    """Clip by the 2-norm of all gradients as one vector (the engine's sum order on CPU)."""
    grads = torch.cat([p.grad.reshape(-1) for p in params])
    norm = torch.linalg.vector_norm(grads)
    for p in params:
        p.grad.mul_(torch.clamp(max_norm / (norm + 1e-6), max=1.0))


def plain_epoch(module, X, y, *, grad_clip, optimizer, clip=flat_norm_clip, rng=None):
    """One epoch written the obvious way, batch order from ``length_buckets``
    seeded like the engine (``rng``: the RandomState the engine orders batches with)."""
    params = list(module.parameters())
    opt = optimizer(params)
    module.train()
    lengths = np.array([len(s) for s in X])
    rng = np.random.RandomState(0) if rng is None else rng
    for idx in length_buckets(lengths, BATCH, random_state=rng):
        padded, lens = pad_sequences([X[i] for i in idx])
        packed = lens.min() != lens.max()
        opt.zero_grad(set_to_none=True)
        _, loss = module(torch.from_numpy(padded), torch.from_numpy(lens) if packed else None, torch.from_numpy(y[idx]))
        loss.backward()
        if grad_clip is not None:
            clip(params, grad_clip)
        opt.step()
    return module


def engine_epoch(module, X, y, *, grad_clip, trainer=Trainer):
    config = TrainingConfig(lr=LR, batch_size=BATCH, max_epochs=1, grad_clip=grad_clip)
    trainer(module, config, random_state=0).fit(SequenceBatches(X, y))
    return module


def fused_adam(params):
    return torch.optim.Adam(params, lr=LR, fused=True)


def per_tensor_adam(params):
    """The optimizer the engine used before: torch's default Adam on CPU (one tensor at a time)."""
    return torch.optim.Adam(params, lr=LR, foreach=False)


class PerTensorAdamTrainer(Trainer):
    def configure_optimizer(self):
        return per_tensor_adam(self.params)  # the module's tensors: views into the flat one


CASES = [("lstm", False, None), ("gru", True, None), ("lstm", False, 0.05), ("rnn", True, 0.05)]


@pytest.mark.parametrize("cell,ragged,grad_clip", CASES)
def test_one_epoch_equals_a_plain_loop_bit_for_bit(cell, ragged, grad_clip):
    X, y = problem(ragged)
    module = new_module(cell)
    reference = plain_epoch(copy.deepcopy(module), X, y, grad_clip=grad_clip, optimizer=fused_adam)
    trained = engine_epoch(module, X, y, grad_clip=grad_clip)
    for (name, got), want in zip(trained.named_parameters(), reference.parameters()):
        assert torch.equal(got, want), name
    assert not torch.equal(trained.head.weight, new_module(cell).head.weight)  # it did train


@pytest.mark.parametrize("cell,ragged", [("lstm", False), ("gru", True)])
def test_flat_gradients_and_sliced_batches_change_no_bit_of_the_old_arithmetic(cell, ragged):
    """With the old optimizer (per-tensor Adam) and no clipping, the arithmetic
    is exactly the one before the change: the weights must be identical."""
    X, y = problem(ragged)
    module = new_module(cell)
    reference = plain_epoch(copy.deepcopy(module), X, y, grad_clip=None, optimizer=per_tensor_adam)
    trained = engine_epoch(module, X, y, grad_clip=None, trainer=PerTensorAdamTrainer)
    for (name, got), want in zip(trained.named_parameters(), reference.parameters()):
        assert torch.equal(got, want), name


class SeparateParametersTrainer(Trainer):
    """The engine as it runs off CPU (one tensor per parameter), forced on CPU."""

    def __init__(self, module, config, **kwargs):
        super().__init__(module, config, **kwargs)
        self.trainable = SeparateParameters(self.params)
        self.optimizer = fused_adam(self.params)


@pytest.mark.parametrize("cell,ragged,grad_clip", [("gru", True, 0.05), ("lstm", False, None)])
def test_the_separate_parameter_path_equals_a_plain_loop_with_clip_grad_norm(cell, ragged, grad_clip):
    """Off CPU (CUDA) the engine keeps one tensor per parameter and torch's own
    clip_grad_norm_; no GPU here, so the same code is checked on CPU."""
    X, y = problem(ragged)
    module = new_module(cell)
    reference = plain_epoch(copy.deepcopy(module), X, y, grad_clip=grad_clip, optimizer=fused_adam,
                            clip=lambda params, c: clip_grad_norm_(params, c))
    trained = engine_epoch(module, X, y, grad_clip=grad_clip, trainer=SeparateParametersTrainer)
    for (name, got), want in zip(trained.named_parameters(), reference.parameters()):
        assert torch.equal(got, want), name


# Sum of |update| per parameter tensor after one epoch, recorded with the engine as
# it was before the flat parameters and fused Adam (single-tensor Adam, clip_grad_norm_).
RECORDED_BEFORE = {
    ("lstm", False, None): [1.8065676465630531, 6.928123231977224, 1.1391379870474339, 1.1391379982233047,
                            0.6344494372606277, 0.0859762504696846],
    ("gru", True, None): [1.5075935516506433, 6.465924968943, 0.930392649024725, 0.9237969368696213,
                          0.6183073297142982, 0.09122426062822342],
    ("lstm", False, 0.05): [1.8830514708533883, 7.084619162604213, 1.1420617811381817, 1.1420618928968906,
                            0.628554679453373, 0.08894500136375427],
}


@pytest.mark.parametrize("case", list(RECORDED_BEFORE))
def test_updates_match_the_engine_before_the_change_within_float32_rounding(case):
    cell, ragged, grad_clip = case
    X, y = problem(ragged)
    module = new_module(cell)
    before = [p.detach().clone() for p in module.parameters()]
    engine_epoch(module, X, y, grad_clip=grad_clip)
    updates = [float((p.detach() - b).abs().double().sum()) for p, b in zip(module.parameters(), before)]
    np.testing.assert_allclose(updates, RECORDED_BEFORE[case], rtol=1e-6)
    # and the old clipping arithmetic on the same flat weights agrees to rounding too
    if grad_clip is not None:
        old = plain_epoch(new_module(cell), X, y, grad_clip=grad_clip, optimizer=per_tensor_adam,
                          clip=lambda params, c: clip_grad_norm_(params, c))
        for got, want in zip(module.parameters(), old.parameters()):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_estimators_own_their_parameters_after_fit():
    """The flat buffer is released (and never bound by ``initialize``): every
    parameter has storage of its own (a pickle holds each weight once), and
    fitting twice gives the same model."""
    X, y = problem(True)
    fits = [RNNClassifier("gru", hidden_size=8, max_epochs=2, batch_size=BATCH, device="cpu", random_state=3).fit(X, y)
            for _ in range(2)]
    initialized = RNNClassifier("gru", hidden_size=8, device="cpu", random_state=3).initialize(X, y)  # no epoch
    for model in (fits[0], initialized):
        params = list(model.module_.parameters())
        assert len({p.untyped_storage().data_ptr() for p in params}) == len(params)
        assert all(p.untyped_storage().nbytes() == p.numel() * p.element_size() for p in params)
    params = list(fits[0].module_.parameters())
    for a, b in zip(params, fits[1].module_.parameters()):
        assert torch.equal(a, b)


def test_flat_parameters_are_views_until_released():
    module, untouched = new_module("lstm"), new_module("lstm")
    flat = FlatParameters(list(module.parameters()))
    with torch.no_grad():
        flat.flat.add_(1.0)  # not bound yet: the module keeps its weights
    assert torch.equal(module.head.bias, untouched.head.bias)
    flat.bind()
    with torch.no_grad():
        flat.flat.add_(1.0)  # what an optimizer step on the flat tensor does
    assert torch.equal(module.encoder.rnn.weight_hh_l0, untouched.encoder.rnn.weight_hh_l0 + 1.0)
    assert torch.equal(module.head.bias, untouched.head.bias + 1.0)
    flat.release()
    with torch.no_grad():
        flat.flat.add_(1.0)  # no longer the module's storage
    assert torch.equal(module.encoder.rnn.weight_hh_l0, untouched.encoder.rnn.weight_hh_l0 + 1.0)


def test_a_forecaster_fit_equals_the_plain_loop_on_its_windows():
    """RNNForecaster's own path (windows stacked at once from an ndarray,
    torch seeded from ``random_state``, default clipping) against the plain
    loop on the same standardised windows."""
    series = np.sin(np.arange(200) / 5.0) + 0.1 * np.random.default_rng(0).normal(size=200)
    fitted = RNNForecaster("lstm", window=12, hidden_size=8, batch_size=BATCH, max_epochs=1, lr=LR, grad_clip=0.5,
                           device="cpu", random_state=0).fit(series)
    z = (series - series.mean()) / series.std()
    block = sliding_window_view(z[:, None], 13, axis=0).transpose(0, 2, 1).astype(np.float32)  # (N, 13, 1)
    rng = np.random.RandomState(0)
    torch.manual_seed(int(rng.randint(np.iinfo(np.int32).max)))  # as the estimator seeds torch
    module = ForecastRNN(RNNConfig(n_inputs=1, n_outputs=1, cell="lstm", hidden_size=8, loss="mse"))
    reference = plain_epoch(module, list(block[:, :12]), block[:, -1], grad_clip=0.5, optimizer=fused_adam, rng=rng)
    for (name, got), want in zip(fitted.module_.named_parameters(), reference.parameters()):
        assert torch.equal(got, want), name


# ----------------------------------------------------------------- bad input: nothing new is accepted


@pytest.mark.parametrize("num_threads", [0, -2])
def test_num_threads_below_one_is_rejected_naming_the_value(num_threads):
    X, y = problem(False)
    with pytest.raises(ValueError, match=rf"'num_threads' parameter .* must be .*\[1, inf\).* Got {num_threads} instead"):
        RNNClassifier(num_threads=num_threads, max_epochs=1, device="cpu").fit(X, y)


@pytest.mark.parametrize("device", ["tpu:7", "banana", "meta", "mps", "cuda:-1"])
def test_a_device_that_does_not_exist_is_rejected_naming_the_value(device):
    X, y = problem(False)
    with pytest.raises(ValueError, match=rf"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got '{device}'"):
        RNNClassifier(device=device, max_epochs=1).fit(X, y)


def test_a_cuda_index_past_the_last_device_is_rejected(monkeypatch):
    X, y = problem(False)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match=r"device='cuda:7' asks for CUDA, but torch sees no CUDA device"):
            RNNClassifier(device="cuda:7", max_epochs=1).fit(X, y)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with two GPUs, as far as the check sees
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ValueError, match=r"device='cuda:7' does not exist: torch sees 2 CUDA device\(s\), cuda:0 to cuda:1"):
        RNNClassifier(device="cuda:7", max_epochs=1).fit(X, y)
