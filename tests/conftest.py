"""Shared pytest fixtures, and a clean machine around every test.

Dropout implementations under test
----------------------------------
`tests/test_dropout.py` checks every entry of `DROPOUT_IMPLS` against one contract, through the
fixture `dropout_impl`. To test another implementation, append a `DropoutImpl` to the list:

    DROPOUT_IMPLS.append(DropoutImpl('fast', fast_fn, FastDropout))

An entry is `DropoutImpl(name, fn, module)` with

- `fn(X, p, training) -> Tensor`: functional dropout. With `training=False` it returns X's values
  unchanged. With `training=True` each entry is, independently of all others, 0 with probability
  p and X / (1 - p) otherwise (p = 0: X; p = 1: zeros, and backward still works, giving zero
  gradients). The output has X's shape, dtype, device and strides (those of `torch.empty_like(X)`),
  for float16, bfloat16, float32 and float64, on any device (the mask is made on X's device, so the
  `meta` device works) and for empty tensors. The gradient is the mask times 1 / (1 - p).
  Randomness comes from torch's default generator (directly, or through a seed drawn from it), so
  `torch.manual_seed` makes a call repeatable, and successive calls draw new masks.
  p that is not a real number in [0, 1] (nan, a string, None, a bool) raises ValueError; a
  non-floating-point X (integers, bool) raises TypeError whose message says so.
- `module(p=0.5, inplace=False) -> nn.Module`: a drop-in for `torch.nn.Dropout`: validates p in its
  constructor (ValueError), has nn.Dropout's repr under its own class name (settings of its own may
  follow: `FastDropout(p=0.5, inplace=False, backend='auto')`), no parameters or buffers, is the
  identity in `eval()`, behaves as `fn` in `train()`, and with `inplace=True` writes into X and
  returns it.

`TORCH_DROPOUT` is PyTorch's own dropout in the same shape; the fixture `dropout_or_torch` adds it
to the list for the tests it passes too (statistics, dtypes, layouts, gradients), which shows that
those tests ask for what PyTorch delivers.

Every test starts from `torch.manual_seed(0)` (fixture `_seed`), so the statistical tests are
deterministic; their thresholds (|z| < 5 on about 10^6 draws) still catch a real bias.

The machine is left as it was found
-----------------------------------
`d2l_ext.setup` changes process-wide settings (torch's thread count, matplotlib's rcParams,
SOURCE_DATE_EPOCH): the fixture `_restore_process_state` puts them back after each test. The fast
dropout kernel is compiled into a temporary cache for the session, never into `~/.cache`.

Tiny problems for training tests
--------------------------------
`Blobs` (a d2l.DataModule of two Gaussian blobs) and `BlobNet` (a d2l.Classifier with a dropout
layer) learn in a few epochs; the fixtures `blobs` and `blob_net` hand out the classes.
"""

import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, NamedTuple

import matplotlib
import pytest
import torch
from d2l import torch as d2l
from playwright.sync_api import sync_playwright
from torch import nn
from torch.nn import functional as F

_KERNEL_CACHE = tempfile.TemporaryDirectory(prefix='d2l_ext-test-cache-')
os.environ['D2L_EXT_CACHE'] = _KERNEL_CACHE.name  # before d2l_ext compiles anything

import d2l_ext  # noqa: E402


def pytest_unconfigure(config):
    _KERNEL_CACHE.cleanup()


class DropoutImpl(NamedTuple):
    name: str
    fn: Callable  # fn(X, p, training) -> Tensor
    module: Callable  # module(p=0.5, inplace=False) -> nn.Module


def _scratch_fn(X, p, training):
    return d2l_ext.dropout_layer(X, p) if training else X


DROPOUT_IMPLS = [
    DropoutImpl('scratch', _scratch_fn, d2l_ext.Dropout),
    DropoutImpl('fast', lambda X, p, training: d2l_ext.fast_dropout_layer(X, p) if training else X,
                d2l_ext.FastDropout),
]

TORCH_DROPOUT = DropoutImpl('torch', lambda X, p, training: F.dropout(X, p, training), nn.Dropout)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _restore_process_state(monkeypatch):
    """Undo what d2l_ext.setup changes for the whole process."""
    threads = torch.get_num_threads()
    # setenv records the variable's state (absent included) and restores it at teardown.
    monkeypatch.setenv('SOURCE_DATE_EPOCH', os.environ.get('SOURCE_DATE_EPOCH', '0'))
    with matplotlib.rc_context():
        yield
    torch.set_num_threads(threads)


class Blobs(d2l.DataModule):
    """Two Gaussian blobs in `num_inputs` dimensions: `n` points, half for training."""
    def __init__(self, n=512, num_inputs=2, batch_size=64):
        super().__init__()
        self.save_hyperparameters()
        gen = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (n,), generator=gen)
        X = torch.randn(n, num_inputs, generator=gen) + 2.0 * y[:, None]
        self.train, self.val = (X[: n // 2], y[: n // 2]), (X[n // 2:], y[n // 2:])

    def get_dataloader(self, train):
        return self.get_tensorloader(self.train if train else self.val, train)


class BlobNet(d2l.Classifier):
    def __init__(self, dropout=0.2, lr=0.5, num_inputs=2):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(num_inputs, 16), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(16, 2))


@pytest.fixture(scope='session')
def blobs():
    return Blobs


@pytest.fixture(scope='session')
def blob_net():
    return BlobNet


@pytest.fixture(params=DROPOUT_IMPLS, ids=lambda impl: impl.name)
def dropout_impl(request):
    """Each implementation in DROPOUT_IMPLS."""
    return request.param


@pytest.fixture(params=DROPOUT_IMPLS + [TORCH_DROPOUT], ids=lambda impl: impl.name)
def dropout_or_torch(request):
    """Each implementation in DROPOUT_IMPLS, and PyTorch's own dropout as the reference."""
    return request.param


# ---------------------------------------------------------------- the browser tests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import build_handout  # noqa: E402  (tools/ is no package; Chromium is found and started there)


def _unavailable(reason):
    """Skip, or fail under CI, where a missing browser or build must not pass silently."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def unavailable():
    """unavailable(reason): skip the test, or fail it under CI=true."""
    return _unavailable


@pytest.fixture(scope="module")
def browser_on():
    """browser_on(index, command): headless Chromium (the system's, driven by Playwright) for the
    tests of the built page `index`; they skip, or fail under CI=true, without Chromium or the
    build (`command` makes it)."""
    with ExitStack() as stack:
        def start(index, command):
            binary = build_handout.chromium_path()
            if binary is None:
                _unavailable("Chromium not found (apt-get install chromium, or set CHROMIUM=/path)")
            if not index.exists():
                _unavailable(f"{index} is missing: run `{command}` first")
            return build_handout.launch(stack.enter_context(sync_playwright()), binary)
        yield start
