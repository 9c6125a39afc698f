"""Tests of d2l_ext.fast_dropout beyond the contract all dropouts share (tests/test_dropout.py).

What is specific: Philox matches its published known answers, the C kernel and the torch-ops
version give the same bits, the mask is a function of the seed alone (so backward regenerates it
and saves nothing), and devices, dtypes and layouts the kernel does not handle fall back correctly.
"""

import ctypes
import math

import pytest
import torch
from torch.nn import functional as F

import d2l_ext
from d2l_ext import fast_dropout as fd

needs_native = pytest.mark.skipif(not fd.native_available(), reason='no C compiler')

# Known-answer tests of Philox4x32-10 from Random123 (kat_vectors): counter, key, output.
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


# --- the generator ------------------------------------------------------------------------------

@pytest.mark.parametrize('counter, key, expected', PHILOX_KAT)
def test_philox_known_answers_in_torch_ops(counter, key, expected):
    out = fd.philox4x32_10(torch.tensor([counter]), key)
    assert out[0].tolist() == list(expected)


@needs_native
@pytest.mark.parametrize('counter, key, expected', PHILOX_KAT)
def test_philox_known_answers_in_c(counter, key, expected):
    out = (ctypes.c_uint32 * 4)()
    fd._lib().d2l_philox4x32_10((ctypes.c_uint32 * 4)(*counter), (ctypes.c_uint32 * 2)(*key),
                                out)
    assert list(out) == list(expected)


def test_philox_words_are_uniform():
    words = fd.philox4x32_10(torch.stack([torch.arange(2 ** 16)] + [torch.zeros(2 ** 16,
                             dtype=torch.int64)] * 3, dim=-1), (7, 9)).flatten()
    assert words.min() >= 0 and words.max() < 2 ** 32
    for bit in [0, 15, 31]:  # each bit is a fair coin
        ones = ((words >> bit) & 1).sum().item()
        n = words.numel()
        assert abs(ones - n / 2) / math.sqrt(n / 4) < 5


# --- the C kernel and the torch-ops version agree -------------------------------------------------

@needs_native
@pytest.mark.parametrize('n', [1, 3, 2047, 2048, 2049, 3 * 2048 + 5, 2 ** 20 + 1])
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize('p', [0.1, 0.5, 1.0])
def test_kernel_and_torch_ops_give_the_same_bits(n, dtype, p):
    X = torch.randn(n, dtype=dtype)
    native = fd.fast_dropout_layer(X, p, seed=2024)
    assert torch.equal(native, fd.fast_dropout_layer(X, p, seed=2024, backend='torch'))


def test_ties_of_the_high_halves_are_settled_by_the_low_halves():
    # With 2**20 elements about 16 high halves equal the threshold's; of those, the low halves
    # keep the fraction 1 - frac(0.3 * 2**16) = 0.2.
    n, p, seed = 2 ** 20, 0.3, 12
    t = fd._threshold(p)
    keep = fd.keep_mask((n,), p, seed)
    index = torch.arange(n)
    for i in range(0, n, 2048 * 64):  # spot-check u(i) >= t against a direct computation
        b, e = divmod(i, fd.BLOCK)
        q, j = divmod(e, fd._CALLS)
        word = fd.philox4x32_10(torch.tensor([[b * fd._CALLS + j, 0, 0, 0]]), (seed, 0))[0]
        hi = (word[q // 2].item() >> (16 * (q % 2))) & 0xFFFF
        lo = fd.philox4x32_10(torch.tensor([[i, 0, 1, 0]]), (seed, 0))[0, 0].item() >> 16
        assert keep[i].item() == (hi * 2 ** 16 + lo >= t)
    hi = fd._keep(n, seed, t & ~0xFFFF, 'cpu') & ~fd._keep(n, seed, t | 0xFFFF, 'cpu')
    ties = index[hi]  # elements whose high half equals t >> 16
    assert 4 <= ties.numel() <= 40
    assert 0 < keep[ties].sum() < ties.numel()


@needs_native
def test_result_does_not_depend_on_the_thread_count():
    X = torch.ones(5 * fd._MIN_PER_THREAD + 17)
    old = torch.get_num_threads()
    try:
        outs = []
        for threads in [1, 2, 3]:
            torch.set_num_threads(threads)
            outs.append(fd.fast_dropout_layer(X, 0.5, seed=1))
    finally:
        torch.set_num_threads(old)
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])


def test_keep_mask_is_the_mask_that_dropout_applies():
    X = torch.rand(37, 41) + 0.5
    out = fd.fast_dropout_layer(X, 0.3, seed=99)
    assert torch.equal(out != 0, fd.keep_mask(X.shape, 0.3, seed=99))


# --- counter-based: the mask is a function of the seed --------------------------------------------

def test_same_seed_same_mask_different_seed_different_mask():
    X = torch.ones(10_000)
    a, b, c = (fd.fast_dropout_layer(X, 0.5, seed=s) for s in [5, 5, 6])
    assert torch.equal(a, b)
    assert (a != c).float().mean().item() == pytest.approx(0.5, abs=0.03)


def test_manual_seed_makes_calls_repeatable_and_successive_calls_differ():
    X = torch.ones(10_000)
    torch.manual_seed(3)
    first, second = fd.fast_dropout_layer(X, 0.5), fd.fast_dropout_layer(X, 0.5)
    torch.manual_seed(3)
    assert torch.equal(first, fd.fast_dropout_layer(X, 0.5)) and not torch.equal(first, second)


def test_negative_and_huge_seeds_are_taken_modulo_2_to_64():
    X = torch.ones(5000)
    assert torch.equal(fd.fast_dropout_layer(X, 0.5, seed=-1),
                       fd.fast_dropout_layer(X, 0.5, seed=2 ** 64 - 1))


@pytest.mark.parametrize('backend', fd.BACKENDS)
def test_backward_regenerates_the_forward_mask(backend):
    X = torch.randn(3000, requires_grad=True)
    G = torch.randn(3000)
    fd.fast_dropout_layer(X, 0.25, seed=11, backend=backend).backward(G)
    keep = fd.keep_mask(X.shape, 0.25, seed=11)
    torch.testing.assert_close(X.grad, G * keep / 0.75)


# --- memory kept for backward ---------------------------------------------------------------------

def test_nothing_per_element_is_saved_for_backward():
    X = torch.randn(4096, requires_grad=True)
    assert d2l_ext.saved_bytes(lambda X: fd.fast_dropout_layer(X, 0.5), X) == 0
    # The references it is measured against keep a float32 mask on the CPU: 4 bytes per element.
    assert d2l_ext.saved_bytes(lambda X: F.dropout(X, 0.5), X) == 4 * X.numel()
    assert d2l_ext.saved_bytes(lambda X: d2l_ext.dropout_layer(X, 0.5), X) == 4 * X.numel()


def test_module_saves_nothing_inside_a_network():
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), d2l_ext.FastDropout(0.5))
    X = torch.randn(4, 8)
    with_fast = d2l_ext.saved_bytes(net, X)
    net[1] = torch.nn.Identity()
    assert with_fast == d2l_ext.saved_bytes(net, X)  # only the Linear layer's saved input


# --- fallbacks: dtypes, devices, layouts ----------------------------------------------------------

@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16], ids=str)
def test_half_types_use_the_same_mask(dtype):
    X = torch.rand(5000) + 0.5
    out = fd.fast_dropout_layer(X.to(dtype), 0.4, seed=8)
    assert out.dtype == dtype
    assert torch.equal(out != 0, fd.fast_dropout_layer(X, 0.4, seed=8) != 0)


def test_meta_device_works():
    X = torch.empty(300, 7, device='meta', requires_grad=True)
    out = fd.fast_dropout_layer(X, 0.5)
    assert out.device.type == 'meta' and out.shape == X.shape
    out.sum().backward()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='no CUDA device')
def test_cuda_gives_the_cpu_mask():
    X = torch.rand(10_000) + 0.5
    out = fd.fast_dropout_layer(X.cuda(), 0.3, seed=4)
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), fd.fast_dropout_layer(X, 0.3, seed=4))


def test_torch_ops_version_drops_a_binomial_fraction():
    n, p = 2 ** 20, 0.3
    dropped = (fd.fast_dropout_layer(torch.ones(n), p, backend='torch') == 0).sum().item()
    assert abs(dropped - n * p) / math.sqrt(n * p * (1 - p)) < 5


def test_mask_follows_logical_order_whatever_the_layout():
    X = torch.rand(64, 48) + 0.5
    out = fd.fast_dropout_layer(X.t(), 0.5, seed=3)  # a transposed view
    assert out.stride() == X.t().stride()
    assert torch.equal(out, fd.fast_dropout_layer(X.t().contiguous(), 0.5, seed=3))


def test_inplace_on_a_non_contiguous_view_writes_into_it():
    base = torch.ones(100, 100)
    view = base[:, ::2]
    out = fd.fast_dropout_layer(view, 0.5, inplace=True, seed=0)
    assert out.data_ptr() == view.data_ptr()
    assert set(base[:, ::2].unique().tolist()) == {0.0, 2.0}
    assert torch.equal(base[:, 1::2], torch.ones(100, 50))  # the entries between are untouched


# --- building the kernel ------------------------------------------------------------------------

@needs_native
def test_build_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv('D2L_EXT_CACHE', str(tmp_path))
    path = fd.build()
    assert path.parent == tmp_path / 'd2l_ext' and path.exists()
    built = path.stat().st_mtime_ns
    assert fd.build() == path and path.stat().st_mtime_ns == built  # not compiled again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_build_without_a_compiler_warns_and_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv('D2L_EXT_CACHE', str(tmp_path))
    monkeypatch.setenv('CC', str(tmp_path / 'no-such-compiler'))
    with pytest.warns(RuntimeWarning, match='torch-ops'):
        assert fd.build() is None
    assert list((tmp_path / 'd2l_ext').iterdir()) == []  # no half-written library left behind


# --- the backend switch and an honest name --------------------------------------------------------

def test_module_and_function_take_the_backend_and_name_it():
    X = torch.randn(5000)
    torch.manual_seed(5)
    auto = d2l_ext.FastDropout(0.3)(X)
    torch.manual_seed(5)
    layer = d2l_ext.FastDropout(0.3, backend='torch')
    assert torch.equal(layer(X), auto)  # the same bits, whichever backend computes them
    assert repr(layer) == "FastDropout(p=0.3, inplace=False, backend='torch')"
    for bad in ('cuda', None):
        with pytest.raises(ValueError, match=r"backend must be one of \('auto', 'torch'\)"):
            d2l_ext.FastDropout(0.5, backend=bad)
        with pytest.raises(ValueError, match='backend must be one of'):
            fd.fast_dropout_layer(X, 0.5, backend=bad)
