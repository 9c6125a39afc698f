"""What the dropout course derives, packaged for the notebooks that come after."""

from .data import FashionMNIST, fetch, load_tensors
from .dropout import Dropout, check_dropout_p, dropout_layer
from .plotting import plot_history
from .training import Trainer, evaluate, setup

__all__ = ['Dropout', 'check_dropout_p', 'dropout_layer', 'FashionMNIST', 'fetch', 'load_tensors',
           'plot_history', 'Trainer', 'evaluate', 'setup']
