"""d2l_ext.training: repeatable setup, a Trainer that records history, evaluate()."""

import math

import pytest
import torch
from d2l import torch as d2l
from torch import nn

import d2l_ext


class Blobs(d2l.DataModule):
    """Two Gaussian blobs in 2-D: learnable in a few epochs."""
    def __init__(self, n=512, batch_size=64):
        super().__init__()
        self.save_hyperparameters()
        gen = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (n,), generator=gen)
        X = torch.randn(n, 2, generator=gen) + 2.0 * y[:, None]
        self.train, self.val = (X[: n // 2], y[: n // 2]), (X[n // 2:], y[n // 2:])

    def get_dataloader(self, train):
        return self.get_tensorloader(self.train if train else self.val, train)


class SoftmaxNet(d2l.Classifier):
    def __init__(self, lr=0.5):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def fit(seed=0, **kwargs):
    d2l_ext.setup(seed)
    trainer = d2l_ext.Trainer(max_epochs=5, plot=False, progress=False, **kwargs)
    model = SoftmaxNet()
    return trainer, model, trainer.fit(model, Blobs())


def test_history_has_one_finite_value_per_epoch_and_learns():
    trainer, _, history = fit()
    assert history is trainer.history
    assert list(history) == ['epoch', 'train_loss', 'val_loss', 'val_acc']
    assert history['epoch'] == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 and all(math.isfinite(x) for x in v) for v in history.values())
    assert history['val_loss'][-1] < history['val_loss'][0]
    assert history['val_acc'][-1] > 0.85


def test_eval_train_adds_training_loss_and_accuracy_in_eval_mode():
    _, model, history = fit(eval_train=True)
    assert len(history['train_acc']) == len(history['train_eval_loss']) == 5
    X, y = Blobs().train
    assert history['train_acc'][-1] == pytest.approx(model.accuracy(model.eval()(X), y).item())


def test_eval_train_leaves_the_training_run_unchanged():
    # measuring the training set must not consume the generator that shuffles later epochs
    plain, measured = fit(seed=4)[2], fit(seed=4, eval_train=True)[2]
    assert all(measured[k] == v for k, v in plain.items())


def test_same_seed_same_history_other_seed_other_history():
    assert fit(seed=1)[2] == fit(seed=1)[2]
    assert fit(seed=1)[2] != fit(seed=2)[2]


def test_evaluate_restores_the_mode_and_averages_over_examples():
    model = SoftmaxNet().train()
    X, y = Blobs().val
    loader = [(X[:100], y[:100]), (X[100:], y[100:])]  # unequal batches
    loss, acc = d2l_ext.evaluate(model, loader)
    assert model.training
    model.eval()
    assert loss == pytest.approx(model.loss(model(X), y).item(), rel=1e-5)
    assert acc == pytest.approx(model.accuracy(model(X), y).item())


def test_setup_fixes_threads_and_generators():
    d2l_ext.setup(3)
    a = torch.rand(3)
    d2l_ext.setup(3)
    assert torch.equal(a, torch.rand(3))
    assert torch.get_num_threads() == d2l_ext.training.NUM_THREADS
