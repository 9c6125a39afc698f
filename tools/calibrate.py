"""Measure how much room every notebook assertion has, over other seeds and CPU kernels.

A trained or sampled number changes with the seed and with the CPU's kernels (AVX2, AVX-512, ARM,
or torch's portable ones under ATEN_CPU_CAPABILITY=default), so a bound fitted to one run fails on
the next machine. This script re-runs notebooks with every seed shifted by an offset and under
both kernel sets and, instead of stopping at an `assert`, records its slack: for `a < b` (or
`a > b`) the distance b - a (a - b) left before it fails, the smallest over `and`, chains and
`all(...)`; a check that is not a comparison counts as +inf (holds) or -inf (fails).

    python tools/calibrate.py notebooks/00_why_regularize.ipynb ...   # default: every notebook
    python tools/calibrate.py --shifts 0 1000 --kernels default --jobs 2
    python tools/calibrate.py --report                               # table from recorded runs

Each run appends one JSON line per assertion to build/calibration/runs.jsonl; --report prints,
per assertion, the smallest slack over all runs and the run it came from. `make calibrate` runs the
set behind the bounds in the notebooks (tools/calibration.md holds its last table).
"""

import argparse
import collections
import concurrent.futures
import json
import math
import os
import pathlib
import subprocess
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / 'build' / 'calibration'
KERNELS = {'native': None, 'default': 'default'}  # value of ATEN_CPU_CAPABILITY

# Runs first in the kernel: shift every seed, and record each top-level assert's slack instead of
# raising (asserts inside a function body check arguments, not results, and are left alone).
PRELUDE = r'''
import ast as _ast, json as _json, math as _math, random as _random
import numpy as _np, torch as _torch

_SHIFT, _LOG, _NOTEBOOK = {shift}, {log!r}, {notebook!r}
_seeders = [(_torch, 'manual_seed'), (_random, 'seed'), (_np.random, 'seed')]
for _mod, _name in _seeders:
    def _shifted(seed=None, *args, _f=getattr(_mod, _name), **kwargs):
        return _f(seed if seed is None else seed + _SHIFT, *args, **kwargs)
    setattr(_mod, _name, _shifted)


class _Generator(_torch.Generator):
    def manual_seed(self, seed):
        return super().manual_seed(seed + _SHIFT)


_torch.Generator = _Generator


def _lowest(x):
    """Smallest entry of a number, tensor or array, as a float."""
    if hasattr(x, 'min') and not isinstance(x, (int, float)):
        x = x.min()
    return float(x.item() if hasattr(x, 'item') else x)


_tightest = None  # (left, op, right, slack) of the closest comparison in the current assert


def _scalar(x):
    try:
        return float(x)
    except (TypeError, ValueError, RuntimeError):
        return None  # a tensor or array: only its slack is kept


def _pair(left, op, right):
    global _tightest
    slack = _compare(left, op, right)
    if _tightest is None or slack < _tightest[3]:
        _tightest = (_scalar(left), op, _scalar(right), slack)
    return slack


def _compare(left, op, right):
    if op in ('<', '<='):
        return _lowest(right - left)
    if op in ('>', '>='):
        return _lowest(left - right)
    holds = {{'==': lambda: left == right, '!=': lambda: left != right,
             'in': lambda: left in right, 'not in': lambda: left not in right,
             'is': lambda: left is right, 'is not': lambda: left is not right}}[op]()
    holds = bool(holds.all()) if hasattr(holds, 'all') else bool(holds)
    return _math.inf if holds else -_math.inf


def _chain(thunks, ops):
    values = [thunks[0]()]
    slacks = []
    for thunk, op in zip(thunks[1:], ops):
        values.append(thunk())
        slacks.append(_pair(values[-2], op, values[-1]))
    return min(slacks)


def _truth(value):
    holds = bool(value.all()) if hasattr(value, 'all') and not isinstance(value, bool) else value
    return _math.inf if holds else -_math.inf


_OPS = {{_ast.Lt: '<', _ast.LtE: '<=', _ast.Gt: '>', _ast.GtE: '>=', _ast.Eq: '==',
        _ast.NotEq: '!=', _ast.In: 'in', _ast.NotIn: 'not in', _ast.Is: 'is', _ast.IsNot: 'is not'}}


def _call(name, *args):
    return _ast.Call(_ast.Name(name, _ast.Load()), list(args), [])


def _thunk(node):
    return _ast.Lambda(_ast.arguments([], [], None, [], [], None, []), node)


def _slack(node):
    """An expression for the slack of the boolean expression `node`."""
    if isinstance(node, _ast.Compare):
        thunks = _ast.List([_thunk(n) for n in [node.left, *node.comparators]], _ast.Load())
        ops = _ast.List([_ast.Constant(_OPS[type(op)]) for op in node.ops], _ast.Load())
        return _call('_chain', thunks, ops)
    if isinstance(node, _ast.BoolOp):
        return _call('min' if isinstance(node.op, _ast.And) else 'max',
                     *[_slack(v) for v in node.values])
    if isinstance(node, _ast.UnaryOp) and isinstance(node.op, _ast.Not):
        return _ast.UnaryOp(_ast.USub(), _slack(node.operand))
    if (isinstance(node, _ast.Call) and len(node.args) == 1 and not node.keywords
            and isinstance(node.args[0], (_ast.GeneratorExp, _ast.ListComp))
            and isinstance(node.func, _ast.Name) and node.func.id in ('all', 'any')):
        gen = node.args[0]
        inner = _ast.GeneratorExp(_slack(gen.elt), gen.generators)
        return _ast.Call(_ast.Name('min' if node.func.id == 'all' else 'max', _ast.Load()),
                         [inner], [_ast.keyword('default', _ast.Constant(_math.inf))])
    if (isinstance(node, _ast.Call) and len(node.args) == 1 and not node.keywords
            and _ast.unparse(node.func) in ('torch.all', 'np.all')):
        return _slack(node.args[0])
    return _call('_truth', node)


def _record(cell, source, slack):
    global _tightest
    with open(_LOG, 'a') as f:
        f.write(_json.dumps({{'notebook': _NOTEBOOK, 'cell': cell, 'assert': source,
                             'slack': slack, 'shift': _SHIFT, 'closest': _tightest}}) + '\n')
    _tightest = None


class _RecordAsserts(_ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        return node  # argument checks inside functions stay asserts

    def visit_Assert(self, node):
        # the cell's execution count in the notebook: IPython has counted it already, and the
        # prelude took count 1
        cell = get_ipython().execution_count - 2
        call = _call('_record', _ast.Constant(cell), _ast.Constant(_ast.unparse(node.test)),
                     _slack(node.test))
        return _ast.copy_location(_ast.Expr(call), node)


get_ipython().ast_transformers.append(_RecordAsserts())
'''


def run_one(notebook, kernel, shift, log):
    """Execute `notebook` once in a fresh kernel with seeds shifted by `shift`; return seconds."""
    nb = nbformat.read(notebook, as_version=4)
    name = str(pathlib.Path(notebook).resolve().relative_to(ROOT))
    prelude = PRELUDE.format(shift=shift, log=str(log), notebook=name)
    nb.cells.insert(0, nbformat.v4.new_code_cell(prelude))
    start = time.perf_counter()
    NotebookClient(nb, timeout=3600, allow_errors=True, kernel_name='python3',
                   resources={'metadata': {'path': str(pathlib.Path(notebook).parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])
              if o.output_type == 'error']
    with open(log, 'a') as f:
        for e in errors:  # a crash is a failed claim too
            f.write(json.dumps({'notebook': name, 'cell': None, 'assert': f'error: {e.ename}',
                                'slack': -math.inf, 'shift': shift}) + '\n')
    return time.perf_counter() - start


def launch(notebook, kernel, shift):
    """Run one (notebook, kernel, shift) in its own process, so the kernel sees its own env."""
    log = OUT / f'{pathlib.Path(notebook).stem}.{kernel}.{shift}.jsonl'
    log.unlink(missing_ok=True)
    env = dict(os.environ)
    env.pop('ATEN_CPU_CAPABILITY', None)
    if KERNELS[kernel]:
        env['ATEN_CPU_CAPABILITY'] = KERNELS[kernel]
    cmd = [sys.executable, __file__, '--one', str(notebook), kernel, str(shift), str(log)]
    start = time.perf_counter()
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode:
        raise RuntimeError(f'{notebook} ({kernel}, shift {shift}) failed:\n{result.stderr[-2000:]}')
    return notebook, kernel, shift, time.perf_counter() - start


def report(paths):
    """Markdown table: per assertion, the smallest slack over all recorded runs."""
    runs = collections.defaultdict(list)
    for path in paths:
        kernel = path.name.split('.')[-3]
        for line in path.read_text().splitlines():
            r = json.loads(line)
            if r['cell'] is not None and 'closest' not in r:
                r['cell'] -= 1  # recorded before the prelude counted cells as above
            runs[r['notebook'], r['cell'], r['assert']].append(
                (r['slack'], kernel, r['shift'], r.get('closest')))
    lines = ['| notebook | cell (execution count) | assertion | runs | '
             'smallest slack (kernel, shift) | slack per run (by kernel, shift) |',
             '| --- | --- | --- | --- | --- | --- |']
    for (notebook, cell, source), values in sorted(runs.items(), key=lambda kv: (
            kv[0][0], -1 if kv[0][1] is None else kv[0][1], kv[0][2])):
        low = min(values, key=lambda v: v[0])
        each = ' '.join(f'{s:.3g}' for s, *_ in sorted(values, key=lambda v: v[1:3]))
        flag = ' **FAILS**' if low[0] < 0 else ''
        closest = ''
        if low[3] and None not in low[3][::2]:
            left, op, right, _ = low[3]
            scale = max(abs(left), abs(right))
            share = (f', {low[0] / scale:.0%} of {scale:.3g}'
                     if scale and math.isfinite(low[0]) else '')
            closest = f': {left:.4g} {op} {right:.4g}{share}'
        source = source.replace('|', '\\|')  # a markdown table cell
        lines.append(f'| {pathlib.Path(notebook).stem} | {cell} | `{source}` | {len(values)} | '
                     f'{low[0]:.3g} ({low[1]}, {low[2]}){closest}{flag} | {each} |')
    return '\n'.join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('notebooks', nargs='*')
    parser.add_argument('--shifts', type=int, nargs='+', default=[0, 1000])
    parser.add_argument('--kernels', nargs='+', default=list(KERNELS), choices=list(KERNELS))
    parser.add_argument('--jobs', type=int, default=2, help='notebooks run at once (one per core)')
    parser.add_argument('--report', action='store_true', help='only print the table')
    parser.add_argument('--one', nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        notebook, kernel, shift, log = args.one
        run_one(notebook, kernel, int(shift), log)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.report:
        notebooks = args.notebooks or sorted(map(str, ROOT.glob('notebooks/**/[0-9]*.ipynb')))
        jobs = [(nb, k, s) for nb in notebooks for k in args.kernels for s in args.shifts]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for nb, kernel, shift, seconds in pool.map(lambda job: launch(*job), jobs):
                print(f'{nb} ({kernel}, shift {shift}): {seconds:.0f} s', flush=True)
    print(report(sorted(OUT.glob('*.jsonl'))))


if __name__ == '__main__':
    main()
