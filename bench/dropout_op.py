"""The cost of the dropout op itself: scratch, F.dropout, compiled, d2l_ext's fast version.

    python bench/dropout_op.py [--sizes 65536 1048576 4194304] [--device cpu|cuda] [--no-compile]

Every implementation runs once per repetition, in turn (interleaved), so that a neighbour's load
hits all of them alike; the table shows medians, and ratios to F.dropout within this one run.
Each timed call follows an untimed one of the same op (see `measure`).
"X * 2" is the memory-bandwidth reference: one read and one write per element, no randomness.
Also printed: the bytes per element that autograd keeps for the backward pass (measured with
saved-tensor hooks, not assumed).
"""

import argparse
import platform
import statistics
import time

import torch
from torch.nn import functional as F

import d2l_ext
from d2l_ext import fast_dropout as fd

P = 0.5


def _compiled(fn):
    return torch.compile(fn, dynamic=False)


def implementations(device, compile_):
    impls = {
        'scratch': lambda X: d2l_ext.dropout_layer(X, P),
        'F.dropout': lambda X: F.dropout(X, P, True),
    }
    if compile_:
        impls['compiled F.dropout'] = _compiled(lambda X: F.dropout(X, P, True))
    impls['fast'] = lambda X: fd.fast_dropout_layer(X, P)
    if device.type == 'cpu' and fd.native_available():  # as on a GPU or without a C compiler
        impls['fast, torch ops'] = lambda X: fd.fast_dropout_layer(X, P, backend='torch')
    impls['X * 2'] = lambda X: X * 2
    return impls


def measure(impls, n, device, reps, sync):
    """Median seconds of forward and of forward + backward, for each implementation."""
    X = torch.randn(n, device=device)
    Xg = X.clone().requires_grad_()
    G = torch.randn(n, device=device)
    fwd = {name: [] for name in impls}
    both = {name: [] for name in impls}
    for name, fn in impls.items():  # warm up (and compile) every implementation first
        fn(Xg).backward(G)
    Xg.grad = None
    for _ in range(reps):
        for name, fn in impls.items():
            # Each measured call follows an untimed call of the same op: after another op the
            # memory allocator may have handed pages back to the OS, and faulting them in again
            # is not the op's cost.
            for timed in [False, True]:
                sync()
                t0 = time.perf_counter()
                with torch.no_grad():
                    fn(X)
                sync()
                t1 = time.perf_counter()
                fn(Xg).backward(G)
                sync()
                t2 = time.perf_counter()
                Xg.grad = None
            fwd[name].append(t1 - t0)
            both[name].append(t2 - t1)
    return ({k: statistics.median(v) for k, v in fwd.items()},
            {k: statistics.median(v) for k, v in both.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--sizes', type=int, nargs='+', default=[2 ** 16, 2 ** 20, 2 ** 22])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--reps', type=int, default=9)
    parser.add_argument('--threads', type=int, default=d2l_ext.training.NUM_THREADS,
                        help='torch CPU threads (default: the course setting)')
    parser.add_argument('--no-compile', action='store_true', help='skip torch.compile')
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == 'cuda' else lambda: None
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else platform.processor()
    print(f'device: {device.type} ({name or platform.machine()}), torch {torch.__version__}, '
          f'{torch.get_num_threads()} CPU thread(s), p = {P}, float32, median of {args.reps}')
    if device.type == 'cpu':
        print(f'fast dropout: {"C kernel" if fd.native_available() else "torch ops (no C kernel)"}')
    impls = implementations(device, not args.no_compile)

    X = torch.randn(4096, device=device, requires_grad=True)
    per_elem = {k: d2l_ext.saved_bytes(fn, X) / X.numel() for k, fn in impls.items()
                if not k.startswith('compiled')}  # compiled graphs save what they decide
    for n in args.sizes:
        fwd, both = measure(impls, n, device, args.reps, sync)
        print(f'\n{n:,} elements ({n * 4 / 2 ** 20:.2f} MiB)')
        print(f'| {"implementation":<20} | forward ms | vs F.dropout | fwd+bwd ms | vs F.dropout |'
              f' saved for backward |')
        print(f'|{"-" * 22}|-----------:|-------------:|-----------:|-------------:|'
              f'-------------------:|')
        for k in impls:
            saved = f'{per_elem[k]:.0f} B/element' if k in per_elem else 'n/a'
            print(f'| {k:<20} | {fwd[k] * 1e3:10.2f} | {fwd["F.dropout"] / fwd[k]:11.1f}x |'
                  f' {both[k] * 1e3:10.2f} | {both["F.dropout"] / both[k]:11.1f}x | {saved:>18} |')


if __name__ == '__main__':
    main()
