"""One epoch of the lesson's MLP three ways, measured side by side in one run.

784-256-256-10 with dropout 0.5/0.5, batch 256, SGD lr 0.1, one pass over the 60,000 training
images plus one over the 10,000 validation images:
  stock    d2l.FashionMNIST (PIL per image, 4 worker processes) + d2l.Trainer
  project  d2l_ext.FashionMNIST (tensors in memory) + d2l_ext.Trainer
  floor    a bare loop over pre-loaded tensors: nothing left to remove but the model's own work
The project path also runs with 2 torch threads, the measurement behind d2l_ext.setup's choice.
Each way is timed on an epoch only (data modules are built once, outside the timings).
Usage: python bench/epoch.py [--repeats N]
"""

import argparse
import functools
import os
import statistics
import time
import warnings
from pathlib import Path

import torch
from d2l import torch as d2l

import d2l_ext

os.chdir(Path(__file__).resolve().parents[1] / 'notebooks')  # d2l's data root is '../data'
warnings.filterwarnings('ignore', message='This DataLoader will create')  # d2l's 4 workers


# The lesson's model (d2l_ext.DropoutMLP, notebook 05) with its hyperparameters.
DropoutMLP = functools.partial(d2l_ext.DropoutMLP, num_outputs=10, num_hiddens_1=256,
                               num_hiddens_2=256, dropout_1=0.5, dropout_2=0.5, lr=0.1)


def stock():
    """d2l as the book runs it: PIL decoding in 4 workers, torch's default thread count."""
    data = d2l.FashionMNIST(batch_size=256)
    def epoch():
        trainer, model = d2l.Trainer(max_epochs=1), DropoutMLP()
        model.board.display = False  # time the training, not d2l's live plot
        trainer.fit(model, data)
    return epoch


def project():
    data = d2l_ext.FashionMNIST(batch_size=256)
    def epoch():
        d2l_ext.Trainer(max_epochs=1, progress=False, plot=False).fit(DropoutMLP(), data)
    return epoch


def floor():
    (X, y), (X_val, y_val) = (d2l_ext.load_tensors(str(Path('../data').resolve()), train)
                              for train in (True, False))
    X, X_val = X.float().div(255).unsqueeze(1), X_val.float().div(255).unsqueeze(1)
    def epoch():
        model = DropoutMLP()
        model(X[:1])  # materialize the lazy layers before the optimizer sees them
        optim = model.configure_optimizers()
        for idx in torch.randperm(len(y)).split(256):
            loss = model.loss(model(X[idx]), y[idx])
            optim.zero_grad()
            loss.backward()
            optim.step()
        model.eval()
        with torch.no_grad():
            for Xb, yb in zip(X_val.split(256), y_val.split(256)):
                model.loss(model(Xb), yb)
    return epoch


def timed(epoch, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    start = time.perf_counter()
    epoch()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3, help='runs of each way (median)')
    args = parser.parse_args()
    default_threads = torch.get_num_threads()  # what a student gets from d2l
    d2l_ext.setup(0)
    STOCK = f'stock d2l (4 workers, {default_threads} threads)'
    ways = {'project (1 thread)': (project(), 1), 'project (2 threads)': (project(), 2),
            'floor (1 thread)': (floor(), 1), STOCK: (stock(), default_threads)}
    for epoch, threads in ways.values():  # warm up: first-touch memory, lazy imports
        timed(epoch, threads)
    times = {name: [] for name in ways}
    for _ in range(args.repeats):  # interleaved, so a busy moment hits every way alike
        for name, (epoch, threads) in ways.items():
            times[name].append(timed(epoch, threads))
    seconds = {name: statistics.median(t) for name, t in times.items()}
    base, fl = seconds['project (1 thread)'], seconds['floor (1 thread)']
    print(f"one epoch of the lesson's MLP (median of {args.repeats}), {os.cpu_count()} CPUs, "
          f'torch {torch.__version__}')
    print(f'{"way":36s} {"seconds":>8s} {"runs":>18s} {"vs project":>11s} {"vs floor":>9s}')
    for name, s in sorted(seconds.items(), key=lambda kv: kv[1]):
        runs = ' '.join(f'{t:.1f}' for t in times[name])
        print(f'{name:36s} {s:8.2f} {runs:>18s} {s / base:10.2f}x {s / fl:8.2f}x')
    print(f'stock / project = {seconds[STOCK] / base:.1f}x (goal >= 6x); '
          f'project / floor = {base / fl:.2f}x (goal <= 1.3x)')


if __name__ == '__main__':
    main()
