"""Unit tests of d2l_ext.experiments on a tiny synthetic problem (a second or two on CPU)."""

import functools

import numpy as np
import pytest
import torch
from matplotlib import pyplot as plt

from d2l_ext import experiments
from d2l_ext.experiments import (
    difference_of,
    difference_text,
    final_metrics,
    loss_gap,
    paired_difference,
    plot_seed_curves,
    run_seeds,
    seed_table,
    summary_table,
    t_interval,
)


@pytest.fixture(scope='module')
def data(blobs):
    return blobs(n=96, num_inputs=4, batch_size=16)


@pytest.fixture(scope='module')
def net(blob_net):
    """make_model for run_seeds: a fresh BlobNet with 4 inputs (dropout=0.2 unless given)."""
    return functools.partial(blob_net, num_inputs=4, lr=0.1)


def test_one_history_per_seed(data, net):
    histories = run_seeds(net, data, seeds=[3, 4], max_epochs=3, progress=False)
    assert [h['seed'] for h in histories] == [3, 4]
    for h in histories:
        assert h['epoch'] == [1, 2, 3]
        assert {'train_loss', 'val_loss', 'val_acc'} <= set(h)
        assert len(h['val_acc']) == 3 and all(0 <= a <= 1 for a in h['val_acc'])


def test_same_seed_same_run_other_seed_other_run(data, net):
    make = lambda: net(dropout=0.5)
    a, b, c = run_seeds(make, data, seeds=[7, 7, 8], max_epochs=2, progress=False)
    assert a['train_loss'] == b['train_loss'] and a['val_loss'] == b['val_loss']
    assert a['train_loss'] != c['train_loss']


def test_make_data_may_be_a_callable(data, net):
    calls = []
    def make_data():
        calls.append(1)
        return data
    run_seeds(net, make_data, seeds=[0, 1], max_epochs=1, progress=False)
    assert len(calls) == 2


def test_eval_train_records_dropout_free_training_loss(data, net):
    (h,) = run_seeds(lambda: net(dropout=0.9), data, seeds=[0], max_epochs=2,
                     eval_train=True, progress=False)
    assert len(h['train_eval_loss']) == 2 and len(h['train_acc']) == 2
    # Training-mode loss with 90% of the hidden units dropped is not the eval-mode loss.
    assert h['train_eval_loss'][-1] != pytest.approx(h['train_loss'][-1])
    m = final_metrics(h)
    assert m['gap_eval'] == pytest.approx(h['val_loss'][-1] - h['train_eval_loss'][-1])
    assert m['gap'] == pytest.approx(h['val_loss'][-1] - h['train_loss'][-1])


def test_loss_gap_needs_the_recorded_key():
    h = {'val_loss': [1.0, 0.5], 'train_loss': [0.9, 0.2]}
    assert loss_gap(h) == pytest.approx(0.3)
    with pytest.raises(KeyError, match='eval_train=True'):
        loss_gap(h, 'train_eval_loss')


@pytest.mark.parametrize('kwargs, error', [
    (dict(make_model=None), TypeError),
    (dict(make_data='data'), TypeError),
    (dict(seeds=[]), ValueError),
    (dict(seeds=[0.5]), ValueError),
    (dict(max_epochs=0), ValueError),
    (dict(eval_train='last'), ValueError),
])
def test_bad_arguments_raise(data, kwargs, error, net):
    args = dict(make_model=net, make_data=data, seeds=[0], max_epochs=1, progress=False)
    with pytest.raises(error):
        run_seeds(**{**args, **kwargs})


def fake(seed, acc, val_loss, train_loss):
    return {'seed': seed, 'epoch': [1, 2], 'val_acc': [0.0, acc], 'val_loss': [9.0, val_loss],
            'train_loss': [9.0, train_loss]}


RESULTS = {'p=0': [fake(0, 0.80, 0.5, 0.2), fake(1, 0.84, 0.7, 0.3)],
           'p=0.5': [fake(0, 0.90, 0.4, 0.4), fake(1, 0.92, 0.4, 0.3)]}


def test_seed_table_rows_and_statistics():
    table = seed_table(RESULTS)
    assert list(table.index) == [0, 1, 'mean', 'std']
    assert table.loc['mean', ('p=0', 'val_acc')] == pytest.approx(0.82)
    assert table.loc['std', ('p=0', 'val_acc')] == pytest.approx(np.std([0.80, 0.84], ddof=1),
                                                                 abs=1e-3)
    assert table.loc[1, ('p=0', 'gap')] == pytest.approx(0.4)
    assert table.loc['mean', ('p=0.5', 'gap')] == pytest.approx(0.05)


def test_summary_table_formats_mean_and_std():
    table = summary_table(RESULTS, digits=2)
    assert table.loc['p=0', 'val_acc'] == '0.82 ± 0.03'
    assert table.loc['p=0.5', 'seeds'] == 2


def test_tables_reject_non_dicts():
    with pytest.raises(TypeError):
        seed_table([fake(0, 0.8, 0.5, 0.2)])
    with pytest.raises(TypeError):
        summary_table({})


def test_module_exports():
    assert set(experiments.__all__) == {'run_seeds', 'loss_gap', 'final_metrics', 'seed_table',
                                        'summary_table', 't_interval', 'paired_difference',
                                        'difference_of', 'difference_text', 'plot_seed_curves'}


def test_eval_train_final_evaluates_the_last_epoch_only(data, net):
    (h,) = run_seeds(net, data, seeds=[0], max_epochs=3, eval_train='final', progress=False)
    assert np.isnan(h['train_eval_loss'][:2]).all() and np.isnan(h['train_acc'][:2]).all()
    (full,) = run_seeds(net, data, seeds=[0], max_epochs=3, eval_train=True, progress=False)
    assert h['train_eval_loss'][-1] == pytest.approx(full['train_eval_loss'][-1])
    assert final_metrics(h)['gap_eval'] == pytest.approx(final_metrics(full)['gap_eval'])


def test_eval_train_k_evaluates_the_last_k_epochs_only(data, net):
    (h,) = run_seeds(net, data, seeds=[0], max_epochs=3, eval_train=2, progress=False)
    (full,) = run_seeds(net, data, seeds=[0], max_epochs=3, eval_train=True, progress=False)
    assert np.isnan(h['train_eval_loss'][0]) and not np.isnan(h['train_eval_loss'][1:]).any()
    assert h['train_eval_loss'][1:] == pytest.approx(full['train_eval_loss'][1:])
    gap_eval = [final_metrics(h, last=2)['gap_eval'] for h in (h, full)]
    assert gap_eval[0] == pytest.approx(gap_eval[1])
    for bad in (0, 4, 'last'):
        with pytest.raises(ValueError, match='number of last epochs from 1 to max_epochs'):
            run_seeds(net, data, seeds=[0], max_epochs=3, eval_train=bad, progress=False)


def test_eval_val_k_validates_the_last_k_epochs_only(data, net):
    make = lambda: net(dropout=0.5)
    (h,) = run_seeds(make, data, seeds=[0], max_epochs=3, eval_val=2, progress=False)
    (full,) = run_seeds(make, data, seeds=[0], max_epochs=3, progress=False)
    for key in ('val_loss', 'val_acc'):
        assert np.isnan(h[key][0]) and h[key][1:] == full[key][1:]
    assert h['train_loss'] == full['train_loss']  # the training run itself is the same
    assert final_metrics(h, last=2) == final_metrics(full, last=2)
    for bad in (0, 4, False, 'last'):
        with pytest.raises(ValueError, match='eval_val must be True or a number of last epochs'):
            run_seeds(make, data, seeds=[0], max_epochs=3, eval_val=bad, progress=False)


def test_eval_train_does_not_change_the_training_run(data, net):
    make = lambda: net(dropout=0.5)
    (plain,) = run_seeds(make, data, seeds=[0], max_epochs=3, progress=False)
    (recorded,) = run_seeds(make, data, seeds=[0], max_epochs=3, eval_train=True, progress=False)
    assert plain['train_loss'] == recorded['train_loss']
    assert plain['val_loss'] == recorded['val_loss']


def test_plot_seed_curves_draws_the_mean_over_seeds():
    ax = plot_seed_curves(RESULTS, keys=('val_acc', 'val_loss'))
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {'p=0: val_acc', 'p=0: val_loss', 'p=0.5: val_acc', 'p=0.5: val_loss'}
    np.testing.assert_allclose(lines['p=0: val_loss'].get_ydata(), [9.0, 0.6])
    with pytest.raises(KeyError, match='train_eval_loss'):
        plot_seed_curves(RESULTS, ax=ax)
    plt.close(ax.figure)


def test_paired_difference_pairs_by_seed():
    d = paired_difference(RESULTS, 'val_acc')
    assert d['n'] == 2
    assert d['mean'] == pytest.approx(0.09)  # (0.90 - 0.80 + 0.92 - 0.84) / 2
    assert d['std'] == pytest.approx(np.std([0.10, 0.08], ddof=1))
    # 95 % t-interval with 1 degree of freedom: mean +- 12.706 * std / sqrt(2)
    half = 12.7062 * d['std'] / np.sqrt(2)
    assert (d['low'], d['high']) == pytest.approx((0.09 - half, 0.09 + half), abs=1e-4)
    assert d['beyond_noise'] is False  # 0.09 +- 0.127 covers 0
    assert difference_text(d) == '+0.090 (95 % CI -0.037 to +0.217, 2 seeds): within noise'
    shuffled = {'p=0': RESULTS['p=0'][::-1], 'p=0.5': RESULTS['p=0.5']}
    assert paired_difference(shuffled, 'val_acc')['mean'] == pytest.approx(0.09)
    reverse = paired_difference(RESULTS, 'val_acc', base='p=0.5', other='p=0')
    assert reverse['mean'] == pytest.approx(-0.09)


def test_difference_of_summarizes_differences_as_paired_difference_does():
    d, paired = difference_of([0.10, 0.08]), paired_difference(RESULTS, 'val_acc')
    assert d['diffs'] == pytest.approx(paired['diffs'])  # RESULTS' per-seed val_acc differences
    for key in ('mean', 'low', 'high', 'std'):
        assert d[key] == pytest.approx(paired[key])
    assert (d['beyond_noise'], d['n'], d['confidence']) == (False, 2, 0.95)
    with pytest.raises(ValueError, match='at least two'):
        difference_of([0.1])


def test_t_interval_uses_n_minus_1_degrees_of_freedom():
    values = [0.01, 0.02, 0.03, 0.04, 0.05]  # mean 0.03, std 0.0158, t(0.975, 4) = 2.776
    mean, low, high = t_interval(values)
    half = 2.7764 * np.std(values, ddof=1) / np.sqrt(5)
    assert (mean, low, high) == pytest.approx((0.03, 0.03 - half, 0.03 + half), abs=1e-5)
    assert low > 0  # excludes 0: such a difference is beyond noise
    assert t_interval(values, confidence=0.5)[1] > low  # a narrower interval at lower confidence
    with pytest.raises(ValueError, match='at least two'):
        t_interval([0.1])


def test_beyond_noise_when_the_interval_excludes_zero():
    results = {'a': [fake(s, 0.80, 0.5, 0.2) for s in range(4)],
               'b': [fake(s, 0.82 + 0.001 * s, 0.5, 0.2) for s in range(4)]}
    d = paired_difference(results, 'val_acc')
    assert d['beyond_noise'] and d['low'] > 0 and d['n'] == 4
    assert difference_text(d).endswith('4 seeds): beyond noise')


def test_paired_difference_needs_the_same_seeds():
    with pytest.raises(ValueError, match='different seeds'):
        paired_difference({'a': [fake(0, 0.8, 0.5, 0.2)], 'b': [fake(1, 0.8, 0.5, 0.2)]},
                          'val_acc')
    with pytest.raises(ValueError, match='two configs'):
        paired_difference({'a': [fake(0, 0.8, 0.5, 0.2)]}, 'val_acc')


def test_last_averages_the_final_epochs():
    h = fake(0, 0.8, 0.5, 0.2)  # epochs: val_acc 0.0, 0.8; val_loss 9.0, 0.5; train_loss 9.0, 0.2
    m = final_metrics(h, last=2)
    assert m['val_acc'] == pytest.approx(0.4) and m['val_loss'] == pytest.approx(4.75)
    assert m['gap'] == pytest.approx((0.0 + 0.3) / 2)
    assert seed_table(RESULTS, last=2).loc['mean', ('p=0', 'val_acc')] == pytest.approx(0.41)
    assert paired_difference(RESULTS, 'val_acc', last=2)['mean'] == pytest.approx(0.045)
    with pytest.raises(ValueError, match='last'):
        final_metrics(h, last=3)
    with pytest.raises(ValueError, match='last'):
        summary_table(RESULTS, last=0)


class Recorder:
    """make_model for run_seeds that keeps, per model, its weights at the first training step and
    the inputs of every minibatch it trains on."""
    def __init__(self, blob_net, lazy):
        self.blob_net, self.lazy, self.models = blob_net, lazy, []

    def __call__(self, dropout):
        model = self.blob_net(dropout=dropout, num_inputs=4, lr=0.1)
        if self.lazy:
            model.net[0] = torch.nn.LazyLinear(16)
        model.first, model.batches = None, []
        step = model.training_step

        def training_step(batch):
            if model.first is None:
                model.first = {k: v.clone() for k, v in model.state_dict().items()}
            model.batches.append(batch[0].clone())
            return step(batch)
        model.training_step = training_step
        self.models.append(model)
        return model


@pytest.mark.parametrize('lazy', [False, True], ids=['linear', 'lazy-linear'])
def test_one_seed_pairs_configs_same_weights_same_batches_other_masks(data, blob_net, lazy):
    record = Recorder(blob_net, lazy)
    results = {p: run_seeds(lambda p=p: record(p), data, seeds=[5], max_epochs=3, progress=False)
               for p in (0.0, 0.5)}
    plain, dropped = record.models
    assert plain.first.keys() == dropped.first.keys()
    for key in plain.first:  # the same initial weights, although only one of them draws masks
        assert torch.equal(plain.first[key], dropped.first[key]), key
    assert len(plain.batches) == len(dropped.batches) == 3 * 3  # 48 images / 16, 3 epochs
    for a, b in zip(plain.batches, dropped.batches):  # the same minibatches in every epoch
        assert torch.equal(a, b)
    assert not torch.equal(plain.batches[0], plain.batches[3])  # and each epoch reshuffles
    assert results[0.0][0]['train_loss'] != results[0.5][0]['train_loss']
