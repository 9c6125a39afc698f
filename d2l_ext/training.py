"""Reproducible setup and a d2l.Trainer that records what it trains.

Introduced in notebooks/00_why_regularize.ipynb.
"""

import os
import random

import matplotlib
import numpy as np
import torch
from d2l import torch as d2l
from matplotlib import pyplot as plt
from tqdm import tqdm  # plain text: stored notebooks show the final frame, no widget

from .plotting import plot_history

__all__ = ['NUM_THREADS', 'seed_everything', 'setup', 'evaluate', 'shuffle_with', 'Trainer']

# One thread: slower than two on a quiet 2-core machine (1.40 s against 0.91 s an epoch, `make
# bench`), but `make test` runs two notebooks at once, and runs are bit-for-bit repeatable.
NUM_THREADS = 1
# A progress bar without timings, so that a stored notebook shows the same text on every run.
BAR_FORMAT = '{l_bar}{bar:20}| {n_fmt}/{total_fmt}{postfix}'
_PLOT_ONLY = (d2l.Module.validation_step, d2l.Classifier.validation_step)  # d2l's own


def seed_everything(seed):
    """Seed Python's, NumPy's and torch's generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def setup(seed=0, num_threads=NUM_THREADS):
    """Seed every generator, fix the thread count and make figures byte-for-byte repeatable."""
    seed_everything(seed)
    torch.set_num_threads(num_threads)
    # SVG figures carry a date and random ids unless these are fixed.
    os.environ['SOURCE_DATE_EPOCH'] = '0'
    matplotlib.rcParams['svg.hashsalt'] = 'd2l_ext'
    d2l.use_svg_display()


def evaluate(model, dataloader):
    """Mean loss and accuracy of `model` over `dataloader`, in eval mode and without gradients."""
    was_training = model.training
    model.eval()
    loss, correct, n = 0.0, 0.0, 0
    with torch.no_grad():
        for *X, y in dataloader:
            y_hat = model(*X)
            loss += model.loss(y_hat, y, averaged=False).sum().item()
            correct += model.accuracy(y_hat, y, averaged=False).sum().item()
            n += y.numel()
    model.train(was_training)
    return loss / n, correct / n


def shuffle_with(loader, generator):
    """Make a DataLoader draw its shuffling (and worker seeds) from `generator`, finding its
    RandomSampler inside any batch sampler; a loader that does not shuffle is left as it is."""
    loader.generator = generator  # the loader's own draw each epoch: the seed of worker processes
    sampler = loader.batch_sampler or loader.sampler
    while sampler is not None:
        if isinstance(sampler, torch.utils.data.RandomSampler):
            sampler.generator = generator
            return loader
        if isinstance(sampler, torch.utils.data.SequentialSampler):
            return loader
        sampler = getattr(sampler, 'sampler', None)
    raise TypeError('cannot find the RandomSampler of this training DataLoader, so its minibatch '
                    'order cannot be fixed; build it with shuffle=True or a RandomSampler')


class Trainer(d2l.Trainer):
    """d2l.Trainer that keeps per-epoch history, shows a progress bar and plots the curves.

    `history`: per-epoch lists of 'epoch', 'train_loss' (running mean in training mode, as d2l
    plots it), 'val_loss', 'val_acc'; eval_train=True adds 'train_eval_loss' and 'train_acc' (the
    whole training set in eval mode; later minibatch orders unchanged). order: a torch.Generator
    that shuffles, so minibatch orders do not depend on other draws (dropout's).
    """
    def __init__(self, max_epochs, num_gpus=0, gradient_clip_val=0, progress=True, plot=True,
                 eval_train=False, order=None):
        super().__init__(max_epochs, num_gpus, gradient_clip_val)
        self.save_hyperparameters()

    def prepare_data(self, data):
        super().prepare_data(data)
        if self.order is not None:
            shuffle_with(self.train_dataloader, self.order)

    def prepare_model(self, model):
        super().prepare_model(model)
        model.board.display = False  # d2l's live animation; we plot once, at the end

    def fit(self, model, data):
        keys = ['epoch', 'train_loss', 'val_loss', 'val_acc']
        keys += ['train_eval_loss', 'train_acc'] if self.eval_train else []
        self.history = {k: [] for k in keys}
        self.bar = tqdm(total=self.max_epochs, desc=type(model).__name__, unit='epoch',
                        bar_format=BAR_FORMAT, disable=not self.progress)
        with self.bar:
            super().fit(model, data)
        if self.plot:
            plot_history(self.history)
            plt.show()
        return self.history

    def fit_epoch(self):
        self.model.train()
        loss_sum, n = 0.0, 0
        for batch in self.train_dataloader:
            batch = self.prepare_batch(batch)
            # d2l's own training_step adds a point to its live plot (off here): a quarter of the
            # time of a small-batch run. A model's own training_step still runs.
            if getattr(self.model.training_step, '__func__', None) is d2l.Module.training_step:
                loss = self.model.loss(self.model(*batch[:-1]), batch[-1])
            else:
                loss = self.model.training_step(batch)
            self.optim.zero_grad()
            with torch.no_grad():
                loss.backward()
                if self.gradient_clip_val > 0:
                    self.clip_gradients(self.gradient_clip_val, self.model)
                self.optim.step()
            self.train_batch_idx += 1
            size = batch[-1].numel()
            loss_sum += loss.item() * size
            n += size
        val_loss, val_acc = self._validate()
        # d2l's own validation_step only feeds its live plot (off here); a model's own still runs.
        if type(self.model).validation_step not in _PLOT_ONLY:
            self.model.eval()
            with torch.no_grad():
                for batch in self.val_dataloader:
                    self.model.validation_step(self.prepare_batch(batch))
                    self.val_batch_idx += 1
        record = dict(epoch=self.epoch + 1, train_loss=loss_sum / n, val_loss=val_loss,
                      val_acc=val_acc)
        if self.eval_train:
            record['train_eval_loss'], record['train_acc'] = self._evaluate_train()
        self._record(**record)

    def _evaluate(self, dataloader):
        return evaluate(self.model, map(self.prepare_batch, dataloader))

    def _validate(self):
        return self._evaluate(self.val_dataloader)

    def _evaluate_train(self):
        # The shuffled training loader draws from torch's generator (or `order`): restore it, so
        # that measuring does not change the minibatch order of the epochs that follow.
        with torch.random.fork_rng(devices=[]):
            state = None if self.order is None else self.order.get_state()
            loss_acc = self._evaluate(self.train_dataloader)
            if state is not None:
                self.order.set_state(state)
            return loss_acc

    def _record(self, **values):
        for k, v in values.items():
            self.history[k].append(v)
        self.bar.set_postfix({k: f'{v:.3f}' for k, v in values.items() if k != 'epoch'},
                             refresh=False)
        self.bar.update()
