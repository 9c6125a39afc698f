"""d2l_ext.training: repeatable setup, a Trainer that records history, evaluate()."""

import math

import pytest
import torch
from d2l import torch as d2l

import d2l_ext


@pytest.fixture
def fit(blobs, blob_net):
    def fit(seed=0, model=None, **kwargs):
        d2l_ext.setup(seed)
        trainer = d2l_ext.Trainer(max_epochs=5, plot=False, progress=False, **kwargs)
        model = model or blob_net()
        return trainer, model, trainer.fit(model, blobs())
    return fit


def test_history_has_one_finite_value_per_epoch_and_learns(fit):
    trainer, _, history = fit()
    assert history is trainer.history
    assert list(history) == ['epoch', 'train_loss', 'val_loss', 'val_acc']
    assert history['epoch'] == [1, 2, 3, 4, 5]
    assert all(len(v) == 5 and all(math.isfinite(x) for x in v) for v in history.values())
    assert history['val_loss'][-1] < history['val_loss'][0]
    assert history['val_acc'][-1] > 0.85


def test_eval_train_adds_training_loss_and_accuracy_in_eval_mode(fit, blobs):
    _, model, history = fit(eval_train=True)
    assert len(history['train_acc']) == len(history['train_eval_loss']) == 5
    X, y = blobs().train
    assert history['train_acc'][-1] == pytest.approx(model.accuracy(model.eval()(X), y).item())


def test_eval_train_leaves_the_training_run_unchanged(fit):
    # measuring the training set must not consume the generator that shuffles later epochs
    plain, measured = fit(seed=4)[2], fit(seed=4, eval_train=True)[2]
    assert all(measured[k] == v for k, v in plain.items())


def test_same_seed_same_history_other_seed_other_history(fit):
    assert fit(seed=1)[2] == fit(seed=1)[2]
    assert fit(seed=1)[2] != fit(seed=2)[2]


def test_a_models_own_validation_step_runs_on_every_validation_batch(fit, blob_net):
    class Counted(blob_net):
        def validation_step(self, batch):
            self.seen.append((self.training, torch.is_grad_enabled(), len(batch[-1])))

    model = Counted()
    model.seen = []
    _, _, history = fit(model=model)
    assert model.seen == [(False, False, 64)] * 4 * 5  # 256 points in batches of 64, 5 epochs
    assert len(history['val_loss']) == 5  # the history is recorded as before


def test_a_models_own_training_step_trains_it_and_d2ls_gives_the_same_run(fit, blob_net):
    class Scaled(blob_net):  # its own loss: half of d2l's
        def training_step(self, batch):
            self.calls += 1
            return 0.5 * self.loss(self(*batch[:-1]), batch[-1])

    class D2l(blob_net):  # d2l's own step, live plot included, as an override
        def training_step(self, batch):
            return d2l.Module.training_step(self, batch)

    def history(model_class):
        d2l_ext.setup(0)  # the same initial weights for every class
        model = model_class()
        model.calls = 0
        return model, fit(model=model)[2]

    scaled, scaled_history = history(Scaled)
    assert scaled.calls == 4 * 5  # 256 points in batches of 64, 5 epochs
    assert history(D2l)[1] == history(blob_net)[1] != scaled_history  # d2l's plot changes nothing


def test_evaluate_restores_the_mode_and_averages_over_examples(blobs, blob_net):
    model = blob_net().train()
    X, y = blobs().val
    loader = [(X[:100], y[:100]), (X[100:], y[100:])]  # unequal batches
    loss, acc = d2l_ext.evaluate(model, loader)
    assert model.training
    model.eval()
    assert loss == pytest.approx(model.loss(model(X), y).item(), rel=1e-5)
    assert acc == pytest.approx(model.accuracy(model(X), y).item())


def test_setup_fixes_threads_and_generators():
    d2l_ext.setup(3, num_threads=2)
    a = torch.rand(3)
    assert torch.get_num_threads() == 2
    d2l_ext.setup(3)
    assert torch.equal(a, torch.rand(3))
    assert torch.get_num_threads() == d2l_ext.training.NUM_THREADS


def _order(loader):
    return torch.cat([y for _, y in loader]).tolist()


@pytest.mark.parametrize('batched', [False, True], ids=['batch_size', 'BatchSampler'])
def test_shuffle_with_takes_the_order_from_the_generator_only(batched):
    data = torch.utils.data.TensorDataset(torch.zeros(20, 1), torch.arange(20))
    if batched:  # as d2l_ext.FashionMNIST: a batch sampler over a random sampler, batch_size=None
        sampler = torch.utils.data.BatchSampler(torch.utils.data.RandomSampler(data), 4, False)
        make = lambda: torch.utils.data.DataLoader(data, batch_size=None, sampler=sampler)
    else:
        make = lambda: torch.utils.data.DataLoader(data, batch_size=4, shuffle=True)
    orders = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        loader = d2l_ext.shuffle_with(make(), torch.Generator().manual_seed(3))
        orders.append([_order(loader), _order(loader)])
    assert orders[0] == orders[1]  # the global generator no longer matters
    assert orders[0][0] != orders[0][1] and sorted(orders[0][0]) == list(range(20))


def test_shuffle_with_refuses_a_loader_whose_shuffling_it_cannot_reach():
    data = torch.utils.data.TensorDataset(torch.zeros(8, 1), torch.arange(8))
    sampler = torch.utils.data.SubsetRandomSampler(range(8))
    loader = torch.utils.data.DataLoader(data, batch_size=4, sampler=sampler)
    with pytest.raises(TypeError, match='RandomSampler'):
        d2l_ext.shuffle_with(loader, torch.Generator())
    plain = torch.utils.data.DataLoader(data, batch_size=4)  # not shuffled: nothing to fix
    assert d2l_ext.shuffle_with(plain, torch.Generator()) is plain
