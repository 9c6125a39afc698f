"""Train the same configuration over several seeds and summarize the spread.

Introduced in notebooks/04_dropout_mlp_scratch.ipynb.

    results = {f'p={p}': run_seeds(lambda: Model(dropout=p), data, range(5), max_epochs=10)
               for p in (0, 0.5)}
    seed_table(results)  # one row per seed, then mean and std; summary_table: 'mean ± std'
    print(difference_text(paired_difference(results, 'val_acc')))  # 95 % t-interval, verdict
"""

import math
import numbers

import numpy as np
import pandas as pd
import torch
from d2l import torch as d2l
from matplotlib import pyplot as plt
from scipy import stats
from tqdm import tqdm  # plain text, as d2l_ext.training: stored notebooks keep the last frame

from .training import BAR_FORMAT, Trainer, seed_everything

__all__ = ['run_seeds', 'loss_gap', 'final_metrics', 'seed_table', 'summary_table',
           't_interval', 'paired_difference', 'difference_of', 'difference_text',
           'plot_seed_curves']


class _SeedTrainer(Trainer):
    """d2l_ext.Trainer feeding run_seeds' bar; eval_train='final' or k evaluates the training set
    after the last epoch or the last k epochs only; eval_val=k the validation set likewise."""
    def __init__(self, max_epochs, outer_bar, eval_train, order, eval_val=True):
        super().__init__(max_epochs, progress=False, plot=False, eval_train=eval_train is True,
                         order=order)
        self.outer_bar = outer_bar
        self.eval_last = (0 if isinstance(eval_train, bool) else
                          1 if eval_train == 'final' else eval_train)
        self.val_last = max_epochs if eval_val is True else eval_val

    def _validate(self):
        if self.epoch >= self.max_epochs - self.val_last:
            return super()._validate()
        # Starting a DataLoader's iterator draws its base seed from torch's generator (the dropout
        # masks' here): draw it anyway, so that skipping changes nothing else in the run.
        iter(self.val_dataloader)
        return math.nan, math.nan

    def _record(self, **values):
        if self.eval_last:
            due = self.epoch >= self.max_epochs - self.eval_last
            values['train_eval_loss'], values['train_acc'] = (
                self._evaluate_train() if due else (math.nan, math.nan))
            for key in values:
                self.history.setdefault(key, [])
        super()._record(**values)
        self.outer_bar.set_postfix(val_acc=f'{values["val_acc"]:.3f}', refresh=False)
        self.outer_bar.update()


def run_seeds(make_model, make_data, seeds, max_epochs, eval_train=False, progress=True,
              desc=None, eval_val=True):
    """Train a fresh `make_model()` once per seed with d2l_ext.Trainer; one history per seed.

    make_data: a d2l.DataModule shared by all runs, or a callable returning one per run. Run i
    depends on seeds[i] only, through three generators seeded from it: initial weights (and data
    that make_data samples), minibatch order, dropout masks; lazy layers are built first by one
    eval-mode pass. So two configurations' runs of one seed differ in their masks alone.
    eval_train: also record 'train_eval_loss' and 'train_acc' (whole training set, eval mode)
    after every epoch (True), the last only ('final') or the last k (an integer k), earlier
    entries nan: what final_metrics(h, last) reads costs no more than it needs.
    eval_val: evaluate the validation set after every epoch (True) or the last k only (an integer
    k, earlier 'val_loss' and 'val_acc' nan): for tables of the last epochs, not for curves.
    """
    if not callable(make_model):
        raise TypeError('make_model must be a callable returning a new model, '
                        f'e.g. lambda: DropoutMLP(**hparams); got {type(make_model).__name__}')
    if not (isinstance(make_data, d2l.DataModule) or callable(make_data)):
        raise TypeError('make_data must be a d2l.DataModule or a callable returning one; '
                        f'got {type(make_data).__name__}')
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, numbers.Integral) for s in seeds):
        raise ValueError(f'seeds must be a non-empty list of integers, got {seeds!r}')
    if not isinstance(max_epochs, numbers.Integral) or max_epochs < 1:
        raise ValueError(f'max_epochs must be a positive integer, got {max_epochs!r}')
    if not (isinstance(eval_train, bool) or eval_train == 'final' or
            isinstance(eval_train, numbers.Integral) and 1 <= eval_train <= max_epochs):
        raise ValueError("eval_train must be False, True, 'final' or a number of last epochs "
                         f'from 1 to max_epochs ({max_epochs}), got {eval_train!r}')
    if not (eval_val is True or isinstance(eval_val, numbers.Integral) and
            not isinstance(eval_val, bool) and 1 <= eval_val <= max_epochs):
        raise ValueError('eval_val must be True or a number of last epochs from 1 to max_epochs '
                         f'({max_epochs}), got {eval_val!r}')
    histories = []
    with tqdm(total=len(seeds) * max_epochs, desc=desc or 'seeds', unit='epoch',
              bar_format=BAR_FORMAT, disable=not progress) as bar:
        for seed in seeds:
            init_seed, order_seed, mask_seed = np.random.SeedSequence(seed).generate_state(3)
            seed_everything(int(init_seed))
            data = make_data if isinstance(make_data, d2l.DataModule) else make_data()
            model = _built(make_model(), data)
            seed_everything(int(mask_seed))
            order = torch.Generator().manual_seed(int(order_seed))
            trainer = _SeedTrainer(max_epochs, bar, eval_train, order, eval_val)
            history = trainer.fit(model, data)
            history['seed'] = int(seed)
            histories.append(history)
    return histories


def _built(model, data):
    """`model` with its lazy layers built by one forward pass in eval mode (no mask drawn)."""
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in model.parameters()):
        *inputs, _ = next(iter(data.val_dataloader()))
        model.eval()
        with torch.no_grad():
            model(*inputs)
        model.train()
    return model


def loss_gap(history, train_key='train_loss', last=1):
    """Validation minus training loss, averaged over the last `last` epochs: with 'train_loss' the
    gap d2l plots (training mode, dropout on); with 'train_eval_loss' (eval_train) dropout off."""
    if train_key not in history:
        raise KeyError(f'history has no {train_key!r}; record it with '
                       'run_seeds(..., eval_train=True)')
    _check_last(last, history)
    val, train = np.asarray(history['val_loss'][-last:]), np.asarray(history[train_key][-last:])
    return float(np.mean(val - train))


def final_metrics(history, last=1):
    """val_acc, val_loss, gap (loss_gap) and, if recorded, gap_eval of the last epoch, or their
    means over the last `last` epochs (smoothing the swings of SGD at a constant learning rate)."""
    _check_last(last, history)
    metrics = {'val_acc': float(np.mean(history['val_acc'][-last:])),
               'val_loss': float(np.mean(history['val_loss'][-last:])),
               'gap': loss_gap(history, last=last)}
    if 'train_eval_loss' in history:
        metrics['gap_eval'] = loss_gap(history, 'train_eval_loss', last)
    return metrics


def _check_last(last, history):
    if not isinstance(last, numbers.Integral) or not 1 <= last <= len(history['val_loss']):
        raise ValueError(f'last must be an integer from 1 to the number of epochs '
                         f"({len(history['val_loss'])}), got {last!r}")


def _check_results(results):
    if not isinstance(results, dict) or not results:
        raise TypeError('results must be a non-empty dict {config name: list of histories}, as '
                        'returned by run_seeds')


def seed_table(results, digits=3, last=1):
    """final_metrics(history, last) by seed (rows) and (config, metric), then 'mean' and 'std'."""
    _check_results(results)
    frames = {}
    for name, histories in results.items():
        rows = {h.get('seed', i): final_metrics(h, last) for i, h in enumerate(histories)}
        frame = pd.DataFrame.from_dict(rows, orient='index')
        frame.loc['mean'] = frame.mean()
        frame.loc['std'] = frame.iloc[:-1].std(ddof=1) if len(histories) > 1 else np.nan
        frames[name] = frame
    table = pd.concat(frames, axis=1)
    table.index.name = 'seed'
    return table.round(digits)


def summary_table(results, digits=3, last=1):
    """One row per config, each final_metrics(history, last) as 'mean ± std' over the seeds."""
    _check_results(results)
    rows = {}
    for name, histories in results.items():
        frame = pd.DataFrame([final_metrics(h, last) for h in histories])
        std = frame.std(ddof=1) if len(frame) > 1 else frame.mean() * np.nan
        rows[name] = {k: f'{frame[k].mean():.{digits}f} ± {std[k]:.{digits}f}' for k in frame}
        rows[name]['seeds'] = len(frame)
    table = pd.DataFrame.from_dict(rows, orient='index')
    table.index.name = 'config'
    return table


def t_interval(values, confidence=0.95):
    """Mean of `values` and its t-interval: (mean, low, high), n - 1 degrees of freedom."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError(f'need at least two values for an interval, got {values.tolist()}')
    mean, sem = values.mean(), values.std(ddof=1) / math.sqrt(len(values))
    half = stats.t.ppf((1 + confidence) / 2, len(values) - 1) * sem
    return float(mean), float(mean - half), float(mean + half)


def paired_difference(results, key, base=None, other=None, last=1, confidence=0.95):
    """The course's rule for "A differs from B": the mean of the per-seed differences other - base
    of final_metrics(h, last)[key] and its t_interval; beyond noise if that excludes 0. Pairing by
    seed (run_seeds) removes the spread both configs share; base, other: first two by default.
    Returns mean, low, high, beyond_noise, std and diffs (of the differences), n, confidence.
    """
    _check_results(results)
    names = list(results)
    base, other = base or names[0], other or (names[1] if len(names) > 1 else None)
    if other is None or base not in results or other not in results:
        raise ValueError(f'need two configs to compare; results has {names}')
    values = {}
    for name in (base, other):
        values[name] = {h.get('seed', i): final_metrics(h, last)[key]
                        for i, h in enumerate(results[name])}
    if set(values[base]) != set(values[other]):
        raise ValueError(f'{base!r} and {other!r} were run with different seeds: '
                         f'{sorted(values[base])} and {sorted(values[other])}')
    return difference_of([values[other][s] - values[base][s] for s in values[base]], confidence)


def difference_of(diffs, confidence=0.95):
    """paired_difference's summary of per-seed (or per-network) differences `diffs`: mean, low,
    high (t_interval), beyond_noise, std, diffs, n, confidence; difference_text prints it."""
    d = np.asarray(diffs, dtype=float)
    mean, low, high = t_interval(d, confidence)
    return {'mean': mean, 'low': low, 'high': high, 'beyond_noise': bool(low > 0 or high < 0),
            'std': float(d.std(ddof=1)), 'n': len(d), 'diffs': d.tolist(),
            'confidence': confidence}


def difference_text(d, digits=3):
    """A paired_difference as '+0.012 (95 % CI -0.004 to +0.028, 5 seeds): within noise'."""
    verdict = 'beyond noise' if d['beyond_noise'] else 'within noise'
    low, high = (f'{d[k]:+.{digits}f}' for k in ('low', 'high'))
    return (f"{d['mean']:+.{digits}f} ({100 * d['confidence']:g} % CI {low} to {high}, "
            f"{d['n']} seeds): {verdict}")


LINESTYLES = ['-', '--', ':', '-.']


def plot_seed_curves(results, keys=('train_eval_loss', 'val_loss'), ax=None, title=None):
    """Per-epoch mean (line) and +-1 std (band) over seeds of `keys` (a line style each), a color
    per config; nan entries (eval_train='final') are skipped."""
    _check_results(results)
    if ax is None:
        ax = plt.figure(figsize=(5.5, 3.2)).gca()
    for i, (name, histories) in enumerate(results.items()):
        for key, ls in zip(keys, LINESTYLES):
            missing = [h.get('seed', j) for j, h in enumerate(histories) if key not in h]
            if missing:
                raise KeyError(f'histories of {name!r} (seeds {missing}) have no {key!r}')
            values = np.array([h[key] for h in histories], dtype=float)  # (seeds, epochs)
            epochs = np.asarray(histories[0]['epoch'])
            mean = values.mean(axis=0)
            std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros_like(mean)
            ax.plot(epochs, mean, color=f'C{i}', ls=ls, label=f'{name}: {key}')
            ax.fill_between(epochs, mean - std, mean + std, color=f'C{i}', alpha=0.2, lw=0)
    ax.set_xlabel('epoch')
    ax.grid(alpha=0.3)
    ax.legend(fontsize='small')
    if title:
        ax.set_title(title)
    return ax
