"""Fast dropout: counter-based random numbers, and no mask kept for the backward pass.

Introduced in notebooks/09_cost_of_dropout.ipynb.

Entry i of X is kept iff a word of Philox4x32-10 (Salmon et al., 2011; cuRAND's generator) keyed
by a 64-bit seed is >= round(p * 2**32) (`_keep`; fast_dropout.c explains the layout); each call
draws the seed from torch's generator, so `torch.manual_seed` repeats it. Backward regenerates the
mask: 0 bytes per element saved, against 4 for `F.dropout` and `dropout_layer` on the CPU.

Fast on the CPU only, in float32 and float64 (a C kernel, compiled once: `build`). Elsewhere (GPU,
meta, half types, no C compiler, backend='torch') the same bits cost hundreds of torch ops, slower
than `F.dropout` (`make bench`): on a GPU, a way to reproduce a CPU mask.
"""

import ctypes
import hashlib
import os
import platform
import subprocess
import warnings
from functools import cache
from pathlib import Path

import torch

from .data import replaced_atomically
from .dropout import Dropout, check_dropout_p, check_floating

__all__ = ['fast_dropout_layer', 'FastDropout', 'philox4x32_10', 'keep_mask', 'build',
           'native_available', 'saved_bytes', 'BLOCK', 'BACKENDS']

BLOCK = 2048  # elements per block of the mask layout (must match fast_dropout.c)
_CALLS = BLOCK // 8  # Philox calls per block: 4 words of two 16-bit lanes each
_M0, _M1 = 0xD2511F53, 0xCD9E8D57  # Philox4x32 multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85  # Weyl increments of the key (golden ratio, sqrt(3) - 1)
_U32 = 0xFFFFFFFF
_SOURCE = Path(__file__).with_suffix('.c')
_CFLAGS = ['-O3', '-std=gnu11', '-shared', '-fPIC', '-pthread']
_MIN_PER_THREAD = 1 << 16  # below this many elements per thread, threads cost more than they save
BACKENDS = ('auto', 'torch')  # auto: the C kernel where it applies; torch: torch ops everywhere


def philox4x32_10(counter, key):
    """4 random 32-bit words (int64) per 128-bit `counter` (..., 4), keyed by two ints `key`."""
    c0, c1, c2, c3 = counter.to(torch.int64).unbind(-1)
    k0, k1 = key
    for _ in range(10):
        # 32 x 32 -> 64-bit products: int64 wraps around, and the bits are those of the uint64.
        p0, p1 = c0 * _M0, c2 * _M1
        c0, c1, c2, c3 = ((p1 >> 32) & _U32) ^ c1 ^ k0, p1 & _U32, ((p0 >> 32) & _U32) ^ c3 ^ k1, \
            p0 & _U32
        k0, k1 = (k0 + _W0) & _U32, (k1 + _W1) & _U32
    return torch.stack([c0, c1, c2, c3], dim=-1)


def _keep(n, seed, threshold, device):
    """Keep-flags of element indices < n (bool, shape (n,)): u(i) >= threshold, as the C kernel.

    u(i) = hi(i) * 2**16 + lo(i): 16-bit lanes hi of Philox calls with counters (g, 0, 0), 8 per
    call, decide alone unless hi == threshold >> 16; only for those ties is lo(i) drawn.
    """
    key = seed & _U32, seed >> 32
    num_blocks = -(-n // BLOCK)
    g = torch.arange(num_blocks * _CALLS, device=device)  # one Philox counter per 8 elements
    zero = torch.zeros_like(g)
    words = philox4x32_10(torch.stack([g & _U32, g >> 32, zero, zero], dim=-1), key)
    halves = torch.stack([words & 0xFFFF, words >> 16], dim=-1)  # lane q = 2 * word + half
    # Element e of block b takes lane e // _CALLS of call b * _CALLS + e % _CALLS.
    hi = halves.reshape(num_blocks, _CALLS, 8).transpose(1, 2).reshape(-1)[:n]
    keep = hi > (threshold >> 16)
    if torch.device(device).type != 'meta':  # the meta device holds no values to settle
        ties = (hi == threshold >> 16).nonzero().squeeze(1)
        one, zero = torch.ones_like(ties), torch.zeros_like(ties)
        lo = philox4x32_10(torch.stack([ties & _U32, ties >> 32, one, zero], dim=-1), key)
        keep[ties] = (lo[:, 0] >> 16) >= (threshold & 0xFFFF)
    return keep


def _threshold(p):
    """Keep u iff u >= threshold: probability 1 - p up to 2**-33."""
    return min(round(p * 2 ** 32), _U32)


def keep_mask(shape, p, seed, device='cpu'):
    """The boolean keep-mask that dropout with probability `p` and `seed` uses, in torch ops."""
    n = torch.Size(shape).numel()
    return _keep(n, seed % 2 ** 64, _threshold(p), device).reshape(shape)


def build(verbose=False):
    """Compile the C kernel once into a cache keyed by its source; the library's path, or None
    with a warning where no C compiler works (the torch-ops version then does the work)."""
    cc = os.environ.get('CC', 'cc')
    source = _SOURCE.read_bytes()
    key = hashlib.sha256(b'\0'.join([source, ' '.join([cc, *_CFLAGS]).encode(),
                                     platform.machine().encode()])).hexdigest()[:16]
    root = os.environ.get('D2L_EXT_CACHE') or os.environ.get('XDG_CACHE_HOME')
    path = (Path(root) if root else Path.home() / '.cache') / 'd2l_ext' / f'fast_dropout-{key}.so'
    cached = path.exists()
    try:
        if not cached:  # written atomically: concurrent first uses never see half a file
            path.parent.mkdir(parents=True, exist_ok=True)
            with replaced_atomically(path) as tmp:
                subprocess.run([cc, *_CFLAGS, '-o', str(tmp), str(_SOURCE)], check=True,
                               capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, 'stderr', '') or str(e)
        warnings.warn(f'd2l_ext.fast_dropout: could not compile {_SOURCE.name} with {cc!r} '
                      f'({detail.strip()[:300]}); using the slower torch-ops version. Install a C '
                      f'compiler (e.g. apt-get install gcc) or set CC.', RuntimeWarning)
        return None
    if verbose:
        print(f'fast dropout kernel: {path} ({"cached" if cached else "compiled"})')
    return path


@cache
def _lib():
    path = build()
    if path is None:
        return None
    lib = ctypes.CDLL(str(path))
    lib.d2l_dropout.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_uint64,
                                ctypes.c_uint32, ctypes.c_double, ctypes.c_int, ctypes.c_int]
    lib.d2l_dropout.restype = ctypes.c_int
    return lib


def native_available():
    """Whether the compiled CPU kernel is in use (False: the torch-ops version does the work)."""
    return _lib() is not None


def _apply(X, seed, threshold, scale, out, backend):
    """out = X * (word >= threshold ? scale : 0), elementwise in X's logical (row-major) order."""
    lib = _lib() if backend == 'auto' else None
    if lib is not None and X.device.type == 'cpu' and X.dtype in (torch.float32, torch.float64):
        src = X.contiguous()
        dst = out if out.is_contiguous() else torch.empty_like(src)
        threads = max(1, min(torch.get_num_threads(), X.numel() // _MIN_PER_THREAD))
        lib.d2l_dropout(src.data_ptr(), dst.data_ptr(), X.numel(), seed, threshold, scale,
                        int(X.dtype == torch.float64), threads)
        if dst is not out:
            out.copy_(dst)
        return out
    # Same bits with torch ops, on X's device; half types are multiplied in float32.
    compute = torch.promote_types(X.dtype, torch.float32)
    keep = _keep(X.numel(), seed, threshold, X.device).reshape(X.shape)
    factor = torch.where(keep, torch.tensor(scale, dtype=compute, device=X.device),
                         torch.tensor(0, dtype=compute, device=X.device))
    if compute == X.dtype:
        return torch.mul(X, factor, out=out)
    return out.copy_(X.to(compute) * factor)


class _FastDropoutFunction(torch.autograd.Function):
    """Dropout as a fixed linear map: backward applies the same mask, regenerated from the seed."""
    @staticmethod
    def forward(ctx, X, seed, threshold, scale, inplace, backend):
        ctx.params, ctx.backend = (seed, threshold, scale), backend  # no tensor is saved
        if inplace:
            ctx.mark_dirty(X)
        return _apply(X, seed, threshold, scale, X if inplace else torch.empty_like(X), backend)

    @staticmethod
    def backward(ctx, grad):
        # Through .apply again, so that the backward pass is differentiable too (double backward).
        return _FastDropoutFunction.apply(grad, *ctx.params, False, ctx.backend), *[None] * 5


def _check_backend(backend):
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    return backend


def fast_dropout_layer(X, dropout, *, inplace=False, seed=None, backend='auto'):
    """`dropout_layer(X, dropout)` with a counter-based mask that backward regenerates; an int
    `seed` fixes the mask (default: one drawn per call); backend='torch' skips the C kernel."""
    p = check_dropout_p(dropout)
    check_floating(X)
    _check_backend(backend)
    if p == 0 or X.numel() == 0:
        return X
    if seed is None:
        seed = torch.randint(-2 ** 63, 2 ** 63 - 1, ()).item()
    seed %= 2 ** 64
    # p = 1: keep every word (threshold 0) but scale by 0, so gradients (all zero) still flow.
    threshold, scale = (_threshold(p), 1.0 / (1.0 - p)) if p < 1 else (0, 0.0)
    return _FastDropoutFunction.apply(X, seed, threshold, scale, inplace, backend)


class FastDropout(Dropout):
    """Drop-in for `nn.Dropout` that uses `fast_dropout_layer`: fast on the CPU only (see above)."""
    def __init__(self, p=0.5, inplace=False, backend='auto'):
        super().__init__(p, inplace)
        self.backend = _check_backend(backend)

    def forward(self, X):
        if not self.training:
            return X
        return fast_dropout_layer(X, self.p, inplace=self.inplace, backend=self.backend)

    def extra_repr(self):
        return f'{super().extra_repr()}, backend={self.backend!r}'


def saved_bytes(fn, *args):
    """Bytes that autograd keeps for the backward pass while computing fn(*args)."""
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        fn(*args)
    return sum(t.numel() * t.element_size() for t in saved)
