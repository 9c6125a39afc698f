"""Unit tests of d2l_ext.ensemble (notebooks/06_why_dropout_works.ipynb)."""

import math

import pytest
import torch
from torch import nn

from d2l_ext import ensemble as E
from d2l_ext.dropout import Dropout


def test_all_masks_are_the_binary_numbers():
    masks = E.all_masks(3)
    assert masks.shape == (8, 3)
    assert masks[5].tolist() == [1, 0, 1]  # 5 = 0b101, least significant bit first
    assert len({tuple(m.tolist()) for m in masks}) == 8
    assert E.all_masks(0).shape == (1, 0)


@pytest.mark.parametrize('n, error', [(-1, ValueError), (E.MAX_UNITS + 1, ValueError),
                                      (2.0, TypeError), (True, TypeError)])
def test_all_masks_rejects_bad_n(n, error):
    with pytest.raises(error):
        E.all_masks(n)


@pytest.mark.parametrize('p', [0.0, 0.3, 0.5])
def test_mask_probs_sum_to_one_and_keep_the_expectation(p):
    masks = E.all_masks(5)
    w = E.mask_probs(masks, p)
    assert w.sum().item() == pytest.approx(1.0)
    # each unit is kept with probability 1 - p
    assert (w @ masks.double()).tolist() == pytest.approx([1 - p] * 5)


def test_mask_probs_rejects_bad_dropout():
    with pytest.raises(ValueError, match='below 1'):
        E.mask_probs(E.all_masks(2), 1.0)
    with pytest.raises(ValueError, match='real number'):
        E.mask_probs(E.all_masks(2), '0.5')
    with pytest.raises(ValueError, match='shape'):
        E.mask_probs(torch.ones(4), 0.5)


def test_masked_outputs_applies_inverted_dropout():
    H = torch.tensor([[1.0, 2.0, 3.0]])
    out = E.masked_outputs(lambda Z: Z.sum(-1, keepdim=True), H, E.all_masks(3), 0.5, chunk=3)
    assert out.shape == (8, 1, 1)
    assert out[0].item() == 0  # the empty subnetwork
    assert out[7].item() == 12  # all kept, doubled
    assert out[2].item() == 4  # only unit 1 kept
    with pytest.raises(ValueError, match='units'):
        E.masked_outputs(nn.Identity(), H, E.all_masks(2), 0.5)


def test_weight_scaling_is_the_geometric_mean_for_a_softmax_layer():
    torch.manual_seed(0)
    H, head = torch.randn(7, 6), nn.Linear(6, 4)
    masks, p = E.all_masks(6), 0.4
    with torch.no_grad():
        Z = E.masked_outputs(head.double(), H.double(), masks, p)
        w = E.mask_probs(masks, p)
        gm, am = E.geometric_mean(Z, w), E.arithmetic_mean(Z, w)
        ws = torch.softmax(head.double()(H.double()), dim=-1)
    assert torch.allclose(gm, ws, atol=1e-12)
    assert not torch.allclose(am, ws, atol=1e-3)  # the arithmetic mean differs
    assert torch.allclose(am.sum(-1), torch.ones(7, dtype=torch.float64))


def test_means_with_uniform_weights_and_bad_weights():
    logits = torch.log(torch.tensor([[[0.5, 0.5]], [[0.9, 0.1]]]))  # 2 members, 1 example
    assert E.arithmetic_mean(logits)[0].tolist() == pytest.approx([0.7, 0.3])
    g = torch.tensor([math.sqrt(0.45), math.sqrt(0.05)])
    assert E.geometric_mean(logits)[0].tolist() == pytest.approx((g / g.sum()).tolist())
    with pytest.raises(ValueError, match='one per member'):
        E.arithmetic_mean(logits, torch.ones(3))
    with pytest.raises(ValueError, match='non-negative'):
        E.geometric_mean(logits, torch.tensor([1.0, -1.0]))


DEVICES = ['meta'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('mean', [E.arithmetic_mean, E.geometric_mean])
def test_means_stay_on_the_logits_device(device, mean):
    logits = torch.randn(3, 5, 4, device=device)  # (members, examples, classes)
    assert mean(logits).device == logits.device
    assert mean(logits, torch.tensor([1.0, 2.0, 1.0])).device == logits.device  # CPU weights


@pytest.mark.parametrize('layer', [nn.Dropout(0.5), Dropout(0.5)])
def test_mc_predict_samples_dropout_only_and_restores_modes(layer):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), layer, nn.Linear(8, 3))
    net.train()
    X = torch.randn(5, 4)
    probs = E.mc_predict(net, X, 10)
    assert probs.shape == (10, 5, 3)
    assert torch.allclose(probs.sum(-1), torch.ones(10, 5))
    assert not torch.allclose(probs[0], probs[1])  # dropout was sampling
    assert all(m.training for m in net.modules())  # modes restored
    assert net[1].num_batches_tracked.item() == 0  # BatchNorm stayed in eval mode
    net.eval()
    E.mc_predict(net, X, 2)
    assert not any(m.training for m in net.modules())


def test_mc_predict_errors():
    with pytest.raises(ValueError, match='no dropout'):
        E.mc_predict(nn.Linear(2, 2), torch.randn(1, 2), 3)
    with pytest.raises(ValueError, match='positive'):
        E.mc_predict(nn.Sequential(nn.Dropout()), torch.randn(1, 2), 0)


def test_model_named_dropout_is_not_a_dropout_layer():
    class DropoutMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))

        def forward(self, X):
            return self.net(X)

    model = DropoutMLP().eval()
    with E.dropout_active(model):
        assert not model.training and model.net[1].training


def test_predictive_entropy_and_auroc():
    probs = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    assert E.predictive_entropy(probs).tolist() == pytest.approx([0.0, math.log(2)])
    assert E.auroc([0.1, 0.2], [0.3, 0.4]) == 1.0
    assert E.auroc([0.3, 0.4], [0.1, 0.2]) == 0.0
    assert E.auroc([0.5], [0.5]) == 0.5
    with pytest.raises(ValueError):
        E.auroc([], [1.0])
