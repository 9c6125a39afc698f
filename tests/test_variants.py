"""Tests of d2l_ext.variants: DropConnectLinear, GaussianDropout, eval_nondeterminism."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from d2l_ext import DropConnectLinear, GaussianDropout, eval_nondeterminism


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# DropConnectLinear

def test_dropconnect_eval_is_plain_linear():
    layer = DropConnectLinear(8, 4, p=0.5).eval()
    X = torch.randn(3, 8)
    assert torch.equal(layer(X), F.linear(X, layer.weight, layer.bias))


def test_dropconnect_drops_weights_with_one_mask_per_call():
    layer = DropConnectLinear(1000, 200, p=0.3, bias=False).train()
    X = torch.eye(1000)  # row i of the output is column i of the masked weight
    W_masked = layer(X).T  # (200, 1000)
    dropped = (W_masked == 0).double().mean().item()
    assert abs(dropped - 0.3) < 0.01
    kept = W_masked != 0
    assert torch.allclose(W_masked[kept], (layer.weight / 0.7)[kept])
    # The same mask serves every example of the minibatch: a repeated input gives repeated rows.
    X = torch.randn(1, 1000).repeat(4, 1)
    Y = layer(X)
    assert torch.equal(Y[0], Y[3])


def test_dropconnect_is_unbiased():
    layer = DropConnectLinear(16, 4, p=0.5).train()
    X = torch.randn(2, 16)
    with torch.no_grad():
        mean = torch.stack([layer(X) for _ in range(20000)]).mean(0)
        target = layer.eval()(X)
    assert torch.allclose(mean, target, atol=0.1)


def test_dropconnect_gradient_flows_through_kept_weights_only():
    layer = DropConnectLinear(50, 10, p=0.5, bias=False).train()
    X = torch.randn(1, 50)
    torch.manual_seed(1)
    layer(X).sum().backward()
    torch.manual_seed(1)
    mask = torch.rand_like(layer.weight) > 0.5  # the draw dropout_layer made
    assert torch.allclose(layer.weight.grad, mask * X / 0.5)


def test_dropconnect_p0_and_repr():
    layer = DropConnectLinear(5, 3, p=0.0).train()
    X = torch.randn(2, 5)
    assert torch.equal(layer(X), F.linear(X, layer.weight, layer.bias))
    assert 'p=0.0' in repr(layer) and 'in_features=5' in repr(layer)


@pytest.mark.parametrize('p', [1, 1.0, -0.1, 1.5, float('nan'), '0.5', None, True])
def test_dropconnect_rejects_bad_p(p):
    with pytest.raises(ValueError):
        DropConnectLinear(4, 2, p=p)


# GaussianDropout

def test_gaussian_dropout_matches_moments_of_inverted_dropout():
    p = 0.3
    X = torch.ones(2 ** 20)
    Y = GaussianDropout(p).train()(X)
    var = p / (1 - p)  # variance of inverted dropout's factor
    assert abs(Y.mean().item() - 1) < 5 * math.sqrt(var / X.numel())
    assert abs(Y.var().item() / var - 1) < 0.01
    B = nn.Dropout(p).train()(X)
    assert abs(B.var().item() / Y.var().item() - 1) < 0.01


def test_gaussian_dropout_eval_identity_and_keeps_shape():
    layer = GaussianDropout(0.5)
    X = torch.randn(4, 3, 2)
    assert layer.eval()(X) is X
    Y = layer.train()(X)
    assert Y.shape == X.shape and not torch.equal(Y, X)
    assert torch.equal(GaussianDropout(0.0).train()(X), X)
    assert repr(layer) == 'GaussianDropout(p=0.5)'


def test_gaussian_dropout_rejects_bad_input():
    with pytest.raises(ValueError, match='below 1'):
        GaussianDropout(1.0)
    with pytest.raises(ValueError):
        GaussianDropout(2)
    with pytest.raises(TypeError, match='floating-point'):
        GaussianDropout(0.5).train()(torch.arange(4))


# eval_nondeterminism

class _LeakyNet(nn.Module):
    """Dropout through F.dropout without training=self.training: still active in eval mode."""
    def forward(self, X):
        return F.dropout(X, 0.5)


class _SDPANet(nn.Module):
    def __init__(self, respect_mode):
        super().__init__()
        self.respect_mode = respect_mode

    def forward(self, X):  # X: (batch, heads, steps, head_dim)
        p = 0.1 if self.training or not self.respect_mode else 0.0
        return F.scaled_dot_product_attention(X, X, X, dropout_p=p)


def test_eval_nondeterminism_detects_the_traps():
    X = torch.randn(2, 16)
    assert eval_nondeterminism(nn.Sequential(nn.Linear(16, 4), nn.Dropout(0.5)), X) == 0.0
    assert eval_nondeterminism(_LeakyNet(), X) > 0
    Q = torch.randn(2, 2, 8, 4)
    assert eval_nondeterminism(_SDPANet(respect_mode=False), Q) > 0
    assert eval_nondeterminism(_SDPANet(respect_mode=True), Q) == 0.0


def test_eval_nondeterminism_restores_mode_and_checks_args():
    net = nn.Dropout(0.5).train()
    eval_nondeterminism(net, torch.ones(3))
    assert net.training
    with pytest.raises(ValueError, match='input'):
        eval_nondeterminism(net)
    with pytest.raises(TypeError, match='nn.Module'):
        eval_nondeterminism(lambda X: X, torch.ones(3))
