"""Relatives of dropout: DropConnect, Gaussian dropout, a check for dropout left on in eval mode.

Introduced in notebooks/07_dropout_in_practice.ipynb and 08_dropout_in_modern_networks.ipynb.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from .dropout import check_dropout_p, check_floating, dropout_layer

__all__ = ['DropConnectLinear', 'GaussianDropout', 'eval_nondeterminism']


class DropConnectLinear(nn.Linear):
    """nn.Linear that drops weights, not units: W * mask / (1 - p) in training, W in eval mode (not
    the moment-matching inference of Wan et al., 2013); one mask per call, not per example."""
    def __init__(self, in_features, out_features, p=0.5, bias=True):
        super().__init__(in_features, out_features, bias=bias)
        self.p = check_dropout_p(p, allow_one=False)

    def forward(self, X):
        weight = self.weight
        if self.training and self.p > 0:
            weight = dropout_layer(weight, self.p)  # (out_features, in_features)
        return F.linear(X, weight, self.bias)

    def extra_repr(self):
        return f'{super().extra_repr()}, p={self.p}'


class GaussianDropout(nn.Module):
    """Multiply each entry by noise from N(1, p / (1 - p)), the mean and variance of inverted
    dropout's factor (Srivastava et al., 2014, section 10), in training; identity in eval mode."""
    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_dropout_p(p, allow_one=False)

    def forward(self, X):
        if self.training:
            check_floating(X)  # also at p = 0, as dropout_layer does
        if not self.training or self.p == 0:
            return X
        std = math.sqrt(self.p / (1 - self.p))
        return X * (1 + std * torch.randn_like(X))

    def extra_repr(self):
        return f'p={self.p}'


def eval_nondeterminism(model, *inputs):
    """Largest |difference| between two eval-mode passes of `model` on `inputs` (mode restored):
    anything but 0.0 means randomness, typically a dropout that ignores `self.training`, is on."""
    if not isinstance(model, nn.Module):
        raise TypeError(f'model must be a torch.nn.Module, got {type(model).__name__}')
    if not inputs:
        raise ValueError('pass at least one input tensor: eval_nondeterminism(model, X)')
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            first, second = model(*inputs), model(*inputs)
    finally:
        model.train(was_training)
    return (first - second).abs().max().item()
