"""The course's models and spiral data, as notebooks 04 (DropoutMLPScratch), 05 (DropoutMLP), 06
(spiral, Spiral, TinyMLP, tv) and 07 (SGDClassifier, AdamWClassifier) define them:
tests/test_dropout.py checks each against its cell.
"""

import math

import torch
from d2l import torch as d2l
from torch import nn

from .dropout import dropout_layer

__all__ = ['DropoutMLPScratch', 'DropoutMLP', 'spiral', 'Spiral', 'TinyMLP', 'tv',
           'SGDClassifier', 'AdamWClassifier']


class DropoutMLPScratch(d2l.Classifier):
    """Two-hidden-layer MLP with dropout after each hidden activation (training mode only)."""
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2,
                 dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.lin1 = nn.LazyLinear(num_hiddens_1)
        self.lin2 = nn.LazyLinear(num_hiddens_2)
        self.lin3 = nn.LazyLinear(num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((X.shape[0], -1))))  # (batch_size, num_hiddens_1)
        if self.training:  # model.eval() turns dropout off
            H1 = dropout_layer(H1, self.dropout_1)
        H2 = self.relu(self.lin2(H1))  # (batch_size, num_hiddens_2)
        if self.training:
            H2 = dropout_layer(H2, self.dropout_2)
        return self.lin3(H2)


class DropoutMLP(d2l.Classifier):
    """Two-hidden-layer MLP with nn.Dropout after each hidden activation."""
    def __init__(self, num_outputs, num_hiddens_1, num_hiddens_2,
                 dropout_1, dropout_2, lr):
        super().__init__()
        self.save_hyperparameters()
        self.net = nn.Sequential(
            nn.Flatten(), nn.LazyLinear(num_hiddens_1), nn.ReLU(),
            nn.Dropout(dropout_1), nn.LazyLinear(num_hiddens_2), nn.ReLU(),
            nn.Dropout(dropout_2), nn.LazyLinear(num_outputs))


def spiral(num_per_class, num_classes=3, noise=0.2):
    """Points on `num_classes` interleaved spiral arms in the plane, and their labels."""
    r = torch.linspace(0.05, 1, num_per_class).repeat(num_classes)  # radius
    y = torch.arange(num_classes).repeat_interleave(num_per_class)
    theta = 3 * r + 2 * math.pi * y / num_classes + noise * torch.randn(r.shape)
    return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1), y


class Spiral(d2l.DataModule):
    """The spiral points, shuffled, split into `num_train` training and `num_val` validation."""
    def __init__(self, num_train=300, num_val=300, batch_size=32):
        super().__init__()
        self.save_hyperparameters()
        X, y = spiral((num_train + num_val) // 3)
        order = torch.randperm(len(y))
        self.X, self.y = X[order], y[order]

    def get_dataloader(self, train):
        i = slice(0, self.num_train) if train else slice(self.num_train, None)
        return self.get_tensorloader((self.X, self.y), train, i)


class TinyMLP(d2l.Classifier):
    """2 -> num_hiddens (ReLU, dropout) [-> num_hiddens (ReLU) if deep] -> num_outputs."""
    def __init__(self, num_hiddens, num_outputs, dropout, lr, deep=False):
        super().__init__()
        self.save_hyperparameters()
        layers = [nn.Linear(2, num_hiddens), nn.ReLU(), nn.Dropout(dropout)]
        if deep:  # a nonlinearity between the dropped units and the softmax
            layers += [nn.Linear(num_hiddens, num_hiddens), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(num_hiddens, num_outputs))

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def tv(P, Q):
    """Total-variation distance between the rows of two tables of probabilities."""
    return 0.5 * (P - Q).abs().sum(dim=-1)


class SGDClassifier(d2l.Classifier):
    """d2l.Classifier's minibatch SGD, with weight decay `self.weight_decay` if set, else 0."""
    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr,
                               weight_decay=getattr(self, 'weight_decay', 0.0))


class AdamWClassifier(d2l.Classifier):
    """d2l.Classifier trained with AdamW; weight decay `self.weight_decay` if set, else 0."""
    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.lr,
                                 weight_decay=getattr(self, 'weight_decay', 0.0))
