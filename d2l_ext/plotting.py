"""Plots of training runs.

Introduced in notebooks/00_why_regularize.ipynb.
"""

from matplotlib import pyplot as plt

__all__ = ['plot_history']

STYLES = {'train_loss': ('C0', '-'), 'val_loss': ('C1', '--'),
          'train_acc': ('C2', '-.'), 'val_acc': ('C3', ':')}


def plot_history(history, ax=None, title=None):
    """Learning curves of a `Trainer.history`: losses and accuracies against the epoch."""
    if ax is None:
        ax = plt.figure(figsize=(4.5, 3)).gca()
    for key, (color, ls) in STYLES.items():
        if key in history:
            ax.plot(history['epoch'], history[key], color=color, ls=ls, label=key)
    ax.set_xlabel('epoch')
    ax.set_xlim(1, max(history['epoch'][-1], 2))
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax
