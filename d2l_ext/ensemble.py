"""Dropout as an ensemble: every thinned subnetwork, their averages, and Monte-Carlo dropout.

Introduced in notebooks/06_why_dropout_works.ipynb.
"""

import contextlib

import torch
from torch import nn

from .dropout import check_dropout_p

__all__ = ['MAX_UNITS', 'all_masks', 'mask_probs', 'masked_outputs', 'arithmetic_mean',
           'geometric_mean', 'dropout_active', 'mc_predict', 'predictive_entropy', 'auroc']

# 2**20 masks is already a million subnetworks; beyond that, enumerating is the wrong tool.
MAX_UNITS = 20


def all_masks(n, dtype=torch.float32):
    """Every keep-mask over `n` units (1 = kept), one per row: (2**n, n), row k = bits of k."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f'n must be an int, got {type(n).__name__}')
    if not 0 <= n <= MAX_UNITS:
        raise ValueError(f'n must be in [0, {MAX_UNITS}] (2**n masks), got {n}: for wider '
                         'layers sample masks (mc_predict) instead of enumerating them')
    bits = (torch.arange(2 ** n).unsqueeze(1) >> torch.arange(n)) & 1  # (2**n, n)
    return bits.to(dtype)


def mask_probs(masks, dropout):
    """Probability of each row of `masks` when each unit is dropped independently w.p. `dropout`."""
    check_dropout_p(dropout, allow_one=False)
    if masks.dim() != 2:
        raise ValueError(f'masks must have shape (num_masks, n), got {tuple(masks.shape)}')
    kept = masks.double().sum(dim=1)
    return (1 - dropout) ** kept * dropout ** (masks.shape[1] - kept)  # (num_masks,), float64


def masked_outputs(head, H, masks, dropout, chunk=256):
    """`head` of H (batch_size, n) thinned by each of `masks` (num_masks, n), inverted dropout:
    shape (num_masks, *head(H).shape), computed `chunk` masks at a time to bound the memory."""
    check_dropout_p(dropout, allow_one=False)
    if H.shape[-1] != masks.shape[-1]:
        raise ValueError(f'H has {H.shape[-1]} units but the masks have {masks.shape[-1]}')
    scaled = masks.to(H.dtype) / (1 - dropout)
    return torch.cat([head(H * m.unsqueeze(1)) for m in scaled.split(chunk)])


def _weights(weights, num, like):
    if weights is None:
        return torch.full((num,), 1 / num, dtype=like.dtype, device=like.device)
    if weights.shape != (num,):
        raise ValueError(f'weights must have shape ({num},), one per member, '
                         f'got {tuple(weights.shape)}')
    if (weights < 0).any() or weights.sum() <= 0:
        raise ValueError('weights must be non-negative with a positive sum')
    return (weights / weights.sum()).to(like.device, like.dtype)


def arithmetic_mean(logits, weights=None):
    """Σ_m w_m softmax(z_m): the ensemble's averaged probabilities. logits: (members, ..., C)."""
    w = _weights(weights, logits.shape[0], logits)
    return torch.tensordot(w, torch.softmax(logits, dim=-1), dims=1)


def geometric_mean(logits, weights=None):
    """Normalized geometric mean Π_m softmax(z_m)^{w_m} / Z of the members' probabilities."""
    w = _weights(weights, logits.shape[0], logits)
    return torch.softmax(torch.tensordot(w, torch.log_softmax(logits, dim=-1), dims=1), dim=-1)


def _is_dropout(module):
    # torch's dropout layers, or a leaf layer named like one (d2l_ext.Dropout, a scratch class)
    return isinstance(module, nn.modules.dropout._DropoutNd) or (
        type(module).__name__.endswith('Dropout') and not any(module.children()))


@contextlib.contextmanager
def dropout_active(net):
    """Within the block, `net` is in eval mode except its dropout modules, which keep sampling."""
    modules = [m for m in net.modules() if _is_dropout(m)]
    if not modules:
        raise ValueError(f'{type(net).__name__} has no dropout module (nn.Dropout or a leaf layer '
                         'named *Dropout*); a model that gates dropout on `if self.training:` '
                         'must be put in train mode by hand for Monte-Carlo dropout')
    modes = {m: m.training for m in net.modules()}
    net.eval()
    for m in modules:
        m.training = True  # only this layer: a container's train() would recurse
    try:
        yield net
    finally:
        for m, mode in modes.items():
            m.training = mode


def mc_predict(net, X, num_samples):
    """Monte-Carlo dropout: softmax outputs of `num_samples` thinned passes, (num_samples, N, C)."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f'num_samples must be a positive int, got {num_samples!r}')
    with torch.no_grad(), dropout_active(net):
        return torch.stack([torch.softmax(net(X), dim=-1) for _ in range(num_samples)])


def predictive_entropy(probs, dim=-1):
    """Entropy -Σ p log p (nats) of probability vectors along `dim`, with 0 log 0 = 0."""
    return torch.special.entr(probs).sum(dim=dim)


def auroc(scores_in, scores_out):
    """P(score of an out-example > score of an in-example), ties counting 1/2 (area under ROC)."""
    scores_in, scores_out = torch.as_tensor(scores_in), torch.as_tensor(scores_out)
    if scores_in.numel() == 0 or scores_out.numel() == 0:
        raise ValueError('auroc needs at least one score on each side')
    diff = scores_out.reshape(-1, 1) - scores_in.reshape(1, -1)
    return ((diff > 0).double().mean() + 0.5 * (diff == 0).double().mean()).item()
