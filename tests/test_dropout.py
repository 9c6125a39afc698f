"""Tests of dropout implementations: every entry of conftest.DROPOUT_IMPLS, and PyTorch's own.

The contract the fixtures `dropout_impl` and `dropout_or_torch` check is in tests/conftest.py.
Statistical tests draw at least 2**20 entries from a fixed seed and require |z| < Z_MAX.
"""

import ast
import inspect
import json
import math
import numbers
import re
from pathlib import Path

import pytest
import torch
from torch import nn

import d2l_ext

N = 2 ** 20  # draws per statistical test
PS = [0.1, 0.5, 0.9]
Z_MAX = 5.0  # a fair coin exceeds it once in ~2 million tests; a real bias of 0.3% does not hide
FLOAT_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


def binomial_z(k, n, p):
    """z-score of k successes in n Bernoulli(p) trials."""
    return (k - n * p) / math.sqrt(n * p * (1 - p))


def lag_z(keep, lag):
    """Lag-`lag` autocorrelation of a 0/1 sequence as a z-score (about N(0, 1) if independent)."""
    m = keep.double().flatten()
    m = m - m.mean()
    r = (m[:-lag] * m[lag:]).sum() / (m * m).sum()
    return r.item() * math.sqrt(m.numel())


def nonzero_input(*shape, dtype=torch.float32):
    """Entries in [0.5, 1.5): never zero, so `out == 0` is exactly the dropped set."""
    return (torch.rand(*shape, dtype=torch.float64) + 0.5).to(dtype)


def assert_dropout_values(out, X, p):
    """Each entry of `out` is 0 or X / (1 - p) (rounded to X's dtype); returns the kept mask."""
    assert out.shape == X.shape and out.dtype == X.dtype and out.device == X.device
    kept = out != 0
    expected = (X.double() / (1 - p)).to(X.dtype)
    torch.testing.assert_close(out[kept], expected[kept])
    return kept


# --- statistics -----------------------------------------------------------------------------------

@pytest.mark.parametrize('p', PS)
def test_dropped_fraction_is_binomial(dropout_or_torch, p):
    out = dropout_or_torch.fn(torch.ones(N), p, True)
    dropped = (out == 0).sum().item()
    assert abs(binomial_z(dropped, N, p)) < Z_MAX, dropped / N


@pytest.mark.parametrize('p', PS)
def test_mean_is_unbiased(dropout_or_torch, p):
    X = nonzero_input(N)
    out = dropout_or_torch.fn(X, p, True)
    # E[h'] = h and Var[h'] = p / (1 - p) h^2, independently per entry.
    diff = (out.double() - X.double()).sum()
    sd = math.sqrt(p / (1 - p) * (X.double() ** 2).sum())
    assert abs(diff.item() / sd) < Z_MAX


@pytest.mark.parametrize('p', PS)
def test_kept_entries_are_scaled_by_one_over_keep_probability(dropout_or_torch, p):
    X = nonzero_input(1000, 100)
    assert_dropout_values(dropout_or_torch.fn(X, p, True), X, p)


@pytest.mark.parametrize('p', PS)
def test_neighbouring_mask_entries_are_independent(dropout_or_torch, p):
    rows = cols = 1024
    keep = dropout_or_torch.fn(torch.ones(rows, cols), p, True) != 0
    for lag in [1, 2, 3, 4, 8, 16, 64]:  # along a row, including SIMD-lane-sized strides
        assert abs(lag_z(keep, lag)) < Z_MAX, lag
    assert abs(lag_z(keep, cols)) < Z_MAX  # vertical neighbours: rows are not copies
    assert abs(lag_z(keep.t(), 1)) < Z_MAX


def test_successive_calls_draw_independent_masks(dropout_or_torch):
    X = torch.ones(N)
    first, second = (dropout_or_torch.fn(X, 0.5, True) != 0 for _ in range(2))
    assert abs(lag_z(torch.cat([first, second]), N)) < Z_MAX


def test_same_seed_same_mask(dropout_or_torch):
    X = nonzero_input(100, 100)
    torch.manual_seed(1)
    first = dropout_or_torch.fn(X, 0.5, True)
    torch.manual_seed(1)
    assert torch.equal(first, dropout_or_torch.fn(X, 0.5, True))


@pytest.mark.parametrize('p', PS)
def test_module_in_training_mode_drops_a_binomial_fraction(dropout_or_torch, p):
    out = dropout_or_torch.module(p).train()(torch.ones(N))
    assert abs(binomial_z((out == 0).sum().item(), N, p)) < Z_MAX


# --- dtypes, shapes, layouts, devices -------------------------------------------------------------

@pytest.mark.parametrize('dtype', FLOAT_DTYPES, ids=str)
def test_dtypes(dropout_or_torch, dtype):
    # p = 0.3: a mask drawn from 8-bit bfloat16 uniforms would drop 30.5%, z > 10 at this size.
    p = 0.3
    X = nonzero_input(N, dtype=dtype)
    kept = assert_dropout_values(dropout_or_torch.fn(X, p, True), X, p)
    assert abs(binomial_z(N - kept.sum().item(), N, p)) < Z_MAX


@pytest.mark.parametrize('shape', [(0,), (3, 0, 2)])
def test_empty_tensors(dropout_or_torch, shape):
    X = torch.ones(shape, requires_grad=True)
    out = dropout_or_torch.fn(X, 0.5, True)
    assert out.shape == X.shape and out.dtype == X.dtype
    out.sum().backward()
    assert X.grad.shape == X.shape


def _layouts():
    base = nonzero_input(4, 6, 8, 10)
    return {
        'transposed': base[0, 0].t(),
        'sliced': base[:, :, ::2, 1:],
        'channels_last': base.contiguous(memory_format=torch.channels_last),
        'channels_last_3d': base[None].contiguous(memory_format=torch.channels_last_3d),
    }


@pytest.mark.parametrize('layout', ['transposed', 'sliced', 'channels_last', 'channels_last_3d'])
def test_layout_is_preserved(dropout_or_torch, layout):
    X = _layouts()[layout]
    out = dropout_or_torch.fn(X, 0.5, True)
    assert out.stride() == torch.empty_like(X).stride()
    assert_dropout_values(out, X, 0.5)  # each kept entry is its own input's entry, rescaled


DEVICES = ['cpu', 'meta'] + ['cuda'] * torch.cuda.is_available()


@pytest.mark.parametrize('device', DEVICES)
def test_mask_is_made_on_the_input_device(dropout_or_torch, device):
    # The meta device has no data: a mask made on the CPU cannot be combined with it.
    X = torch.ones(64, 32, device=device)
    out = dropout_or_torch.fn(X, 0.5, True)
    assert out.device == X.device and out.shape == X.shape and out.dtype == X.dtype
    assert dropout_or_torch.module(0.5)(X).device == X.device


# --- gradients ------------------------------------------------------------------------------------

@pytest.mark.parametrize('p', PS)
def test_gradient_flows_through_kept_units_only(dropout_or_torch, p):
    X = nonzero_input(500, 20).requires_grad_()
    out = dropout_or_torch.fn(X, p, True)
    G = torch.randn_like(out)
    out.backward(G)
    kept = out.detach() != 0
    torch.testing.assert_close(X.grad, G * kept / (1 - p))


def test_gradcheck_with_the_mask_held_fixed(dropout_or_torch):
    def f(X):
        torch.manual_seed(1)  # the same mask on every call, so dropout is a fixed linear map
        return dropout_or_torch.fn(X, 0.4, True)

    X = torch.randn(6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(f, (X,))
    assert torch.autograd.gradgradcheck(f, (X,))


def test_p0_is_the_identity(dropout_or_torch):
    X = torch.randn(100, 10)
    assert torch.equal(dropout_or_torch.fn(X, 0.0, True), X)


def test_p1_gives_zeros_and_zero_gradients(dropout_or_torch):
    X = torch.randn(100, 10, requires_grad=True)
    out = dropout_or_torch.fn(X, 1.0, True)
    assert torch.equal(out, torch.zeros_like(X))
    out.sum().backward()
    assert torch.equal(X.grad, torch.zeros_like(X))


# --- the module -----------------------------------------------------------------------------------

def test_eval_mode_is_the_identity(dropout_or_torch):
    X = torch.randn(100, 10)
    assert torch.equal(dropout_or_torch.fn(X, 0.5, False), X)
    layer = dropout_or_torch.module(0.5).eval()
    assert torch.equal(layer(X), X)
    assert layer.train().training and not torch.equal(layer(X), X)  # train() switches back


@pytest.mark.parametrize('kwargs', [{}, {'p': 0.1}, {'p': 0.2, 'inplace': True}, {'p': 1}])
def test_module_looks_like_nn_dropout(dropout_or_torch, kwargs):
    layer = dropout_or_torch.module(**kwargs)
    fields = repr(nn.Dropout(**kwargs)).removeprefix('Dropout(').removesuffix(')')
    assert re.fullmatch(rf'{type(layer).__name__}\({re.escape(fields)}(, .+)?\)', repr(layer))
    assert list(layer.parameters()) == [] and layer.state_dict() == {}


def test_module_works_inside_sequential(dropout_or_torch):
    net = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), dropout_or_torch.module(0.5),
                        nn.Linear(30, 5))
    X = torch.randn(8, 20)
    net(X).sum().backward()
    assert all(param.grad is not None for param in net.parameters())
    net.eval()
    assert torch.equal(net(X), net(X))  # no dropout in eval mode


def test_module_inplace(dropout_or_torch):
    X = torch.ones(10_000)
    out = dropout_or_torch.module(0.5, inplace=True)(X)
    assert out.data_ptr() == X.data_ptr() and torch.equal(out, X)
    assert set(X.unique().tolist()) == {0.0, 2.0}
    Y = torch.ones(10_000)
    out = dropout_or_torch.module(0.5, inplace=False)(Y)
    assert torch.equal(Y, torch.ones(10_000)) and (out == 0).any()


# --- bad input: clear errors (our contract; PyTorch's own messages differ) ------------------------

BAD_PS = [-0.1, 1.1, float('nan'), float('inf'), '0.5', None, True]


@pytest.mark.parametrize('p', BAD_PS, ids=repr)
def test_invalid_p_raises_value_error(dropout_impl, p):
    with pytest.raises(ValueError):
        dropout_impl.fn(torch.ones(3), p, True)
    with pytest.raises(ValueError):
        dropout_impl.module(p)


@pytest.mark.parametrize('dtype', [torch.int64, torch.int32, torch.uint8, torch.bool], ids=str)
def test_integer_input_raises_type_error(dropout_impl, dtype):
    X = torch.ones(3, 4, dtype=dtype)
    with pytest.raises(TypeError, match='float'):
        dropout_impl.fn(X, 0.5, True)
    with pytest.raises(TypeError, match='float'):
        dropout_impl.module(0.5)(X)


# --- d2l_ext.dropout_layer itself -----------------------------------------------------------------

def test_lecture_quick_check():
    X = torch.arange(16, dtype=torch.float32).reshape((2, 8))
    assert torch.equal(d2l_ext.dropout_layer(X, 0), X)
    assert torch.equal(d2l_ext.dropout_layer(X, 1), torch.zeros_like(X))
    out = d2l_ext.dropout_layer(X, 0.5)
    assert torch.all((out == 0) | (out == 2 * X))


@pytest.mark.parametrize('p', [0, 1, 0.25, 0.5])
def test_check_dropout_p_accepts_reals_in_unit_interval(p):
    assert d2l_ext.check_dropout_p(p) == float(p)
    assert isinstance(d2l_ext.check_dropout_p(p), float)


@pytest.mark.parametrize('p', BAD_PS, ids=repr)
def test_check_dropout_p_message_names_the_value(p):
    with pytest.raises(ValueError, match=r'dropout probability .*(0.*1|\[0, 1\])') as info:
        d2l_ext.check_dropout_p(p)
    assert str(p) in str(info.value)


def test_dropout_layer_inplace_keyword():
    X = torch.ones(1000)
    out = d2l_ext.dropout_layer(X, 0.5, inplace=True)
    assert out.data_ptr() == X.data_ptr() and set(X.unique().tolist()) == {0.0, 2.0}


def test_module_validates_p_again_on_each_call():
    layer = d2l_ext.Dropout(0.5)
    layer.p = 2.0
    with pytest.raises(ValueError):
        layer(torch.ones(3))


# --- one validator for p, one for X: the same errors from every layer -----------------------------

P_TAKERS = {  # how each public layer or function is handed a dropout probability
    'dropout_layer': lambda p: d2l_ext.dropout_layer(torch.ones(3), p),
    'Dropout': d2l_ext.Dropout,
    'fast_dropout_layer': lambda p: d2l_ext.fast_dropout_layer(torch.ones(3), p),
    'FastDropout': d2l_ext.FastDropout,
}
BELOW_ONE = {  # those whose 1/(1 - p) rescaling must stay finite: p = 1 is rejected too
    'GaussianDropout': d2l_ext.GaussianDropout,
    'DropConnectLinear': lambda p: d2l_ext.DropConnectLinear(2, 2, p),
    'mask_probs': lambda p: d2l_ext.mask_probs(d2l_ext.all_masks(2), p),
    'masked_outputs': lambda p: d2l_ext.masked_outputs(nn.Identity(), torch.ones(1, 2),
                                                       d2l_ext.all_masks(2), p),
}


def _error(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return type(info.value), str(info.value)


@pytest.mark.parametrize('name', list(P_TAKERS) + list(BELOW_ONE))
@pytest.mark.parametrize('p', BAD_PS, ids=repr)
def test_every_layer_rejects_a_bad_p_with_the_same_error(name, p):
    take = {**P_TAKERS, **BELOW_ONE}[name]
    assert _error(take, p) == _error(d2l_ext.check_dropout_p, p)


@pytest.mark.parametrize('name', BELOW_ONE)
@pytest.mark.parametrize('p', [1, 1.0])
def test_layers_that_rescale_by_1_over_1_minus_p_reject_p_1_with_the_same_error(name, p):
    assert _error(BELOW_ONE[name], p) == _error(d2l_ext.check_dropout_p, p, False)
    assert 'below 1' in _error(BELOW_ONE[name], p)[1]


X_TAKERS = {  # how each layer or function that draws a mask is handed X (training mode, p=0.5)
    'dropout_layer': lambda X: d2l_ext.dropout_layer(X, 0.5),
    'Dropout': lambda X: d2l_ext.Dropout(0.5)(X),
    'fast_dropout_layer': lambda X: d2l_ext.fast_dropout_layer(X, 0.5),
    'FastDropout': lambda X: d2l_ext.FastDropout(0.5)(X),
    'GaussianDropout': lambda X: d2l_ext.GaussianDropout(0.5)(X),
    'GaussianDropout(0)': lambda X: d2l_ext.GaussianDropout(0)(X),  # checked before the shortcut
}


@pytest.mark.parametrize('name', X_TAKERS)
@pytest.mark.parametrize('X', [torch.arange(4), torch.ones(2, dtype=torch.bool), [1.0, 2.0]],
                         ids=['int64', 'bool', 'list'])
def test_every_layer_rejects_a_non_float_input_with_the_same_error(name, X):
    assert _error(X_TAKERS[name], X) == _error(d2l_ext.check_floating, X)
    assert _error(X_TAKERS[name], X)[0] is TypeError


# --- the notebooks that derive the package's code and the package agree ---------------------------

NOTEBOOKS = Path(__file__).resolve().parents[1] / 'notebooks'


def notebook_definition(notebook, name):
    """The source of the top-level `def name` or `class name` in a code cell of `notebook`."""
    found = []
    for cell in json.loads((NOTEBOOKS / notebook).read_text())['cells']:
        source = ''.join(cell['source'])
        if cell['cell_type'] == 'code' and re.search(rf'^(def|class) {name}\b', source, re.M):
            found += [ast.get_source_segment(source, node) for node in ast.parse(source).body
                      if getattr(node, 'name', None) == name]
    assert len(found) == 1, f'{notebook} should define {name} once, found {len(found)}'
    return found[0]


@pytest.fixture(scope='module')
def notebook_03():
    """The functions notebook 03 defines in its code cells (the package's derivation)."""
    namespace = {'torch': torch, 'numbers': numbers, 'nn': nn}
    for name in ('check_dropout_p', 'dropout_layer'):
        exec(notebook_definition('03_dropout_from_scratch.ipynb', name), namespace)
    return namespace


@pytest.mark.parametrize('notebook, name', [
    ('04_dropout_mlp_scratch.ipynb', 'DropoutMLPScratch'),
    ('05_dropout_mlp_concise.ipynb', 'DropoutMLP'),
    *[('06_why_dropout_works.ipynb', name) for name in ('spiral', 'Spiral', 'TinyMLP', 'tv')],
    *[('07_dropout_in_practice.ipynb', name) for name in ('SGDClassifier', 'AdamWClassifier')],
])
def test_models_are_their_notebook_cells(notebook, name):
    """d2l_ext ships each model as the notebook that introduces it writes it (d2l's #@save)."""
    shipped = inspect.getsource(getattr(d2l_ext, name)).rstrip('\n')
    assert shipped == notebook_definition(notebook, name)


@pytest.mark.parametrize('call', [
    (torch.arange(16.).reshape(2, 8), 0.5), (torch.randn(300, dtype=torch.float64), 0.3),
    (torch.randn(300, dtype=torch.bfloat16), 0.3), (torch.randn(4, 6).t(), 0.2),
    (torch.randn(5), 0), (torch.randn(5), 1), (torch.empty(0), 0.5),
    (torch.ones(2, 8, device='meta'), 0.5), (torch.ones(5), 0.5, True),
    (torch.ones(3), 1.5), (torch.ones(3), float('nan')), (torch.ones(3), '0.5'),
    (torch.ones(3), True), (torch.arange(16), 0.5), ([1.0], 0.5),
], ids=lambda call: ', '.join(f'{a.dtype} {tuple(a.shape)}' if isinstance(a, torch.Tensor)
                              else repr(a) for a in call))
def test_notebook_03_dropout_layer_is_the_shipped_one(notebook_03, call):
    """Same outputs from the same seed, same errors: the notebook's cell and d2l_ext agree."""
    X, p, *inplace = call
    results = []
    for fn in (notebook_03['dropout_layer'], d2l_ext.dropout_layer):
        torch.manual_seed(1)
        arg = X.clone() if isinstance(X, torch.Tensor) else X
        try:
            out = fn(arg, p, inplace=bool(inplace))
            values = None if out.device.type == 'meta' else out.tolist()  # meta holds none
            results.append((out.dtype, out.device, out.shape, out.stride(), out is arg, values))
        except (TypeError, ValueError) as error:
            results.append((type(error), str(error)))
    assert results[0] == results[1]
