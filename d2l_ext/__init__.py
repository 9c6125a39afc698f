"""What the dropout course derives, packaged for the notebooks that come after."""

from .data import FashionMNIST, fetch, load_tensors
from .dropout import Dropout, check_dropout_p, dropout_layer
from .ensemble import (
    all_masks,
    arithmetic_mean,
    auroc,
    dropout_active,
    geometric_mean,
    mask_probs,
    masked_outputs,
    mc_predict,
    predictive_entropy,
)
from .experiments import (
    final_metrics,
    loss_gap,
    paired_difference,
    plot_seed_curves,
    run_seeds,
    seed_table,
    summary_table,
)
from .fast_dropout import FastDropout, fast_dropout_layer, saved_bytes
from .plotting import plot_history
from .training import Trainer, evaluate, seed_everything, setup
from .variants import DropConnectLinear, GaussianDropout, eval_nondeterminism

__all__ = ['Dropout', 'check_dropout_p', 'dropout_layer', 'FashionMNIST', 'fetch', 'load_tensors',
           'plot_history', 'Trainer', 'evaluate', 'seed_everything', 'setup', 'run_seeds',
           'loss_gap',
           'final_metrics', 'seed_table', 'summary_table', 'paired_difference',
           'plot_seed_curves', 'DropConnectLinear', 'GaussianDropout', 'eval_nondeterminism',
           'FastDropout', 'fast_dropout_layer', 'saved_bytes', 'all_masks', 'mask_probs',
           'masked_outputs', 'arithmetic_mean', 'geometric_mean', 'dropout_active', 'mc_predict',
           'predictive_entropy', 'auroc']
