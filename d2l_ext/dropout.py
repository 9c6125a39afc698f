"""Inverted dropout written from scratch: a function and an `nn.Dropout` drop-in.

Introduced in notebooks/03_dropout_from_scratch.ipynb.
"""

import numbers

import torch
from torch import nn

__all__ = ['check_dropout_p', 'check_floating', 'dropout_layer', 'Dropout']


def check_dropout_p(dropout, allow_one=True):
    """`dropout` as a float; ValueError unless a real in [0, 1] (below 1 if not allow_one)."""
    # bool is an int in Python; `dropout=True` is a slip, not a probability.
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise ValueError(f'dropout probability must be a real number in [0, 1], got '
                         f'{dropout!r} of type {type(dropout).__name__}; pass e.g. 0.5')
    p = float(dropout)
    if not 0.0 <= p <= 1.0:  # also rejects nan
        raise ValueError(f'dropout probability has to be between 0 and 1, but got {dropout}')
    if p == 1 and not allow_one:
        raise ValueError('dropout probability has to be below 1 here (p = 1 drops everything and '
                         f'the 1/(1 - p) rescaling divides by zero), but got {dropout}')
    return p


def check_floating(X):
    """Raise TypeError unless X is a floating-point tensor (dropout rescales it by 1/(1 - p))."""
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        got = X.dtype if isinstance(X, torch.Tensor) else type(X).__name__
        raise TypeError(f'dropout needs a floating-point tensor, got {got}; e.g. X.float()')


def dropout_layer(X, dropout, *, inplace=False):
    """Zero each entry of X with probability `dropout` and scale the rest by 1/(1 - dropout)."""
    p = check_dropout_p(dropout)
    check_floating(X)
    if p == 0 or X.numel() == 0:
        return X
    if p == 1:  # multiply rather than zeros_like, so gradients (all zero) still flow back
        zero = torch.zeros((), dtype=X.dtype, device=X.device)
        return X.mul_(zero) if inplace else X * zero
    # Draw the uniforms on X's device with X's layout, in at least float32: bfloat16 uniforms
    # (8 significant bits) drop 30.35% instead of 30% at p = 0.3 (notebook 03, section 2.2).
    mask_dtype = torch.promote_types(X.dtype, torch.float32)
    keep = (torch.rand_like(X, dtype=mask_dtype) > p).to(X.dtype)  # X's shape, device, strides
    return X.mul_(keep).div_(1.0 - p) if inplace else X * keep / (1.0 - p)


class Dropout(nn.Module):
    """Drop-in for `torch.nn.Dropout`: inverted dropout in training mode, identity in eval mode."""
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        check_dropout_p(p)
        self.p = p  # kept as given, as nn.Dropout does (it shows up in the repr)
        self.inplace = inplace

    def forward(self, X):
        if not self.training:
            return X
        return dropout_layer(X, self.p, inplace=self.inplace)

    def extra_repr(self):
        return f'p={self.p}, inplace={self.inplace}'
