# ruff: noqa: E501 (the replacements are notebook source lines, quoted)
"""Notebook 06, sections 3-5, and its solutions' exercise 6 in the course's small-data setting with
paired intervals (issue 12, sections 2 and 6). Re-runnable: each replacement is skipped once done.

    .venv/bin/python tools/issue12_small_data_06.py   # then re-execute both notebooks
"""

import json
import os
import pathlib
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / '.nb-lock'
NB = ROOT / 'notebooks' / '06_why_dropout_works.ipynb'
SOL = ROOT / 'notebooks' / 'solutions' / '06_why_dropout_works_solutions.ipynb'

PRINT_TABLE_OLD = '''def print_table(stats):
    """One row per config, each statistic as mean ± std over the seeds."""
    keys = list(next(iter(stats.values()))[0])
    print(f'{"":7}' + ''.join(f'{k:>19}' for k in keys))
    for config, rows in stats.items():
        cols = [torch.tensor([r[k] for r in rows]) for k in keys]
        print(f'{config:7}' + ''.join(f'{c.mean():>11.4f} ± {c.std():.4f}' for c in cols))'''
PRINT_TABLE_NEW = '''def print_table(stats, pairs):
    """Each statistic as mean ± std over the seeds, then each pair's paired difference a - b."""
    keys = list(next(iter(stats.values()))[0])
    print(f'{"":7}' + ''.join(f'{k:>19}' for k in keys))
    for config, rows in stats.items():
        cols = [torch.tensor([r[k] for r in rows]) for k in keys]
        print(f'{config:7}' + ''.join(f'{c.mean():>11.4f} ± {c.std():.4f}' for c in cols))
    diffs = {}
    for a, b in pairs:  # row i of a and of b come from one seed: same weights, same data order
        print(f'{a} minus {b}, paired by seed:')
        for k in keys:
            d = [x[k] - y[k] for x, y in zip(stats[a], stats[b])]
            diffs[a, b, k] = d2l_ext.difference_of(d)
            print(f'  {k:14}{d2l_ext.difference_text(diffs[a, b, k], digits=4)}')
    return diffs'''

# (file, text the cell contains, [(old, new), ...]): code changes inside a cell.
CODE = [
    (NB, "fashion = d2l_ext.FashionMNIST(", [
        ("fashion = d2l_ext.FashionMNIST(batch_size=64, num_train=6000)",
         "fashion = d2l_ext.FashionMNIST(**d2l_ext.SMALL_DATA)  # notebook 05, section 5.2"),
        ("fashion, seeds=range(3), max_epochs=8,\n                                       desc=f'p={p}')",
         "fashion, seeds=range(3),\n                                       max_epochs=30, desc=f'p={p}')"),
    ]),
    (NB, "final validation accuracy per seed", [
        ('''          ' '.join(f"{h['val_acc'][-1]:.3f}" for h in histories))''',
         '''          ' '.join(f"{h['val_acc'][-1]:.3f}" for h in histories))
for key in ('val_acc', 'val_loss'):
    d = d2l_ext.paired_difference(results, key)
    print(f'{key}: p=0.5 minus p=0 {d2l_ext.difference_text(d)}')
print(d2l_ext.summary_table(results, last=5).to_string())  # notebook 05's table: last 5 epochs'''),
    ]),
    (NB, "def coadaptation(model", [("# (10000, 256)", "# (2000, 256)")]),
    (NB, "def print_table(", [(PRINT_TABLE_OLD, PRINT_TABLE_NEW)]),
    (NB, "coadapt = {f'p={p}'", [
        ("print_table(coadapt)", "coadapt_diff = print_table(coadapt, [('p=0.5', 'p=0.0')])"),
    ]),
    (NB, "batches = math.ceil(", [
        ("batches = math.ceil(6000 / 64)  # training batches per epoch",
         "batches = math.ceil(fashion.num_train / fashion.batch_size)  # training batches per epoch"),
    ]),
    (NB, "variance = {f'p={p}'", [
        ("print_table(variance)", "variance_diff = print_table(variance, [('p=0.5', 'p=0.0')])"),
    ]),
    (NB, "uncert = {'MC K=32'", [
        ("print_table(uncert)",
         "uncert_diff = print_table(uncert, [('MC K=32', 'eval'), ('eval', 'p=0'), ('MC K=32', 'p=0')])"),
    ]),
    (SOL, "fashion = d2l_ext.FashionMNIST(", [
        ("fashion = d2l_ext.FashionMNIST(batch_size=64, num_train=6000, root='../../data')",
         "fashion = d2l_ext.FashionMNIST(**d2l_ext.SMALL_DATA, root='../../data')"),
        ("d2l_ext.Trainer(max_epochs=8,", "d2l_ext.Trainer(max_epochs=30,"),
    ]),
]



ASSERTS_COADAPT = """mean = lambda config, key: sum(r[key] for r in coadapt[config]) / len(coadapt[config])
half, corr = (coadapt_diff['p=0.5', 'p=0.0', key] for key in ('half', '|corr|'))
# Bounds with room over other seeds and both CPU kernel sets (tools/calibration.md).
assert max(abs(mean(c, 'single mean')) for c in coadapt) < 0.002  # one unit: almost nothing
assert half['mean'] < 0  # a random half costs the dropout networks less
assert corr['low'] > -0.03  # and their units are not less correlated"""

ASSERTS_VARIANCE = """# Bounds with room over other seeds and both CPU kernel sets (tools/calibration.md).
for key in ('var H1', 'var H2'):
    assert variance_diff['p=0.5', 'p=0.0', key]['high'] < 0, key  # lower with dropout, beyond noise
assert variance_diff['p=0.5', 'p=0.0', 'top share H2']['mean'] < 0"""

ASSERTS_UNCERT = """mean = lambda config, key: sum(r[key] for r in uncert[config]) / len(uncert[config])
# Bounds with room over other seeds and both CPU kernel sets (tools/calibration.md).
for key in ('H test', 'H rotated'):
    assert uncert_diff['MC K=32', 'eval', key]['low'] > 0, key  # MC raises entropy, beyond noise
assert uncert_diff['MC K=32', 'eval', 'AUROC rotated']['mean'] > 0
assert abs(uncert_diff['MC K=32', 'p=0', 'AUROC rotated']['mean']) < 0.05  # MC and p=0 alike
auroc = [mean(config, 'AUROC rotated') for config in uncert]
assert max(auroc) - min(auroc) < 0.1  # no method far ahead on rotated images
assert max(auroc) < 0.8  # a modest separation"""

# (file, texts of which the cell contains one, the cell's whole new source)
REWRITE = [
    (NB, ('assert mean(\'p=0.5\', \'half\')', 'coadapt_diff[\'p=0.5\''), ASSERTS_COADAPT),
    (NB, ("mean('p=0.5', 'var H1')", "variance_diff['p=0.5', 'p=0.0', key]"), ASSERTS_VARIANCE),
    (NB, ("uncert[config]) / len(uncert[config])",), ASSERTS_UNCERT),
    (NB, ("## 3. Co-adaptation on Fashion-MNIST",), """## 3. Co-adaptation on Fashion-MNIST

Notebook 05's `DropoutMLP`, from `d2l_ext` (784-256-256-10, dropout after each hidden layer, SGD with
learning rate 0.1), in the course's small-data setting (`d2l_ext.SMALL_DATA`: 1,000 training images,
batch 64, the first 2,000 test images to validate) for 30 epochs, with $p = 0$ and with $p = 0.5$, 3
seeds each (`d2l_ext.run_seeds`). These are the very networks whose overfitting notebook 05 measured
(section 5.2, rows 0 and 0.5): a run depends on its seed alone, so sections 3 to 5 look inside them.
We keep the trained models, and a forward hook logs the variance of each hidden layer on every
training batch (section 4 uses it)."""),
    (NB, ("The last epoch's accuracy spreads",), """The last epoch's accuracy spreads over several points in both rows (p = 0: 0.691, 0.726, 0.804;
p = 0.5: 0.722, 0.762, 0.790): at learning rate 0.1 on 1,000 images it still jumps from epoch to
epoch. Paired by seed, dropout moves the final validation accuracy by +0.018 (95 % CI -0.052 to
+0.088) and the loss by -0.086 (CI -0.359 to +0.187), both within noise: the data cannot tell the
two sets of three networks apart by their scores, so sections 3 to 5 compare what is inside them.
Averaged over the last 5 epochs, the table repeats notebook 05's sweep rows 0 and 0.5 digit for
digit (accuracy 0.760 ± 0.016 and 0.767 ± 0.006, loss 0.683 ± 0.035 and 0.628 ± 0.024): they are
the same networks."""),
    (NB, ("### 3.1 Three measurements of co-adaptation",), """### 3.1 Three measurements of co-adaptation

If a unit co-adapts ([Hinton et al., 2012](#References)), its usefulness depends on particular partner units. On the 2,000 validation images, in
eval mode, we measure:

* **single-unit ablation**: the accuracy lost when one unit of the second hidden layer is set to zero (mean
  and worst case over its 256 units);
* **half ablation**: the accuracy lost when a random half of the first hidden layer is set to zero and the
  survivors are doubled, as in training (mean over 20 random halves);
* **mean |correlation|** between pairs of units of the second hidden layer.

Under each table, `print_table` pairs the two rows seed by seed (same initial weights, same minibatch
order) and prints the mean difference with its 95 % t-interval over the 3 seeds
(`d2l_ext.difference_of`); as everywhere in the course, a difference is beyond noise only when its
interval excludes 0."""),
    (NB, ("What the numbers show (mean ± sd over the 3 seeds",), """What the numbers show (mean ± sd over the 3 seeds, differences paired by seed):

* Removing any **single** unit costs almost nothing in either network (-0.0005 and -0.0002 of accuracy
  on average: removing a unit even helps a little). A 256-unit layer does not depend on one unit even
  without dropout. The worst unit costs 0.0048 without dropout and 0.0032 with it; the paired
  difference, -0.0017 (95 % CI -0.0068 to +0.0035), is within noise: the data cannot tell them apart.
* Removing a random **half** of the first layer costs the plain networks 0.046 ± 0.017 of accuracy and
  the dropout networks 0.014 ± 0.007, about a third as much: -0.032 (CI -0.063 to -0.0005), beyond
  noise here, but only just: on seeds 1000-1002 the difference has the same sign with an interval
  that reaches above 0. This is the measurable content of "anti-co-adaptation": units that work
  with any random set of partners.
* Dropout does **not** make the units less correlated: their mean |correlation| is 0.320 against
  0.283, +0.036 (CI -0.005 to +0.078). The interval includes 0, so 3 seeds cannot say it is higher,
  but it leaves no room for a drop of more than 0.005. That fits the lecture's other phrase,
  "redundant features": the robustness comes from redundancy, not from independence."""),
    (NB, ("explanation holds here in a weak",), """With dropout, the first layer's activation variance during training is lower from the fifth epoch
on, by a quarter to a third (about 0.10 against 0.15 in the figure). The second layer's is about
the same for the first 7 epochs, when the dropped inputs add their own noise, and then up to 14%
lower (0.19 against 0.22 at epoch 30). In eval mode both are lower beyond noise: 0.088 against
0.138 for the first layer (-0.050, CI -0.056 to -0.044) and 0.145 against 0.215 for the second
(-0.070, CI -0.091 to -0.049). A smaller share of the second layer's variance lies along its top
direction (0.348 against 0.438: -0.090, CI -0.116 to -0.063, beyond noise here; on seeds 1000-1002
the interval reaches just above 0). So the "variance bound"
explanation holds here in a weak form: dropout lowers the variance and spreads it over more
directions, but nothing here shows a cap on any single one."""),
    (NB, ("Rows: Monte-Carlo dropout with 32 samples",), """Rows: Monte-Carlo dropout with 32 samples and eval mode for the $p = 0.5$ networks, and the plain $p = 0$
networks in eval mode (mean ± sd over the 3 seeds), then three comparisons paired by seed. What the
numbers show:

* Monte-Carlo averaging raises the entropy of the same networks on test images (0.76 against 0.58 in
  eval mode: +0.18, CI +0.14 to +0.22) and on rotated images (1.10 against 0.87: +0.23, CI +0.18 to
  +0.28), both beyond noise. On noise images (1.49 against 1.26: +0.23, CI -0.03 to +0.48) the data
  cannot tell them apart.
* All three separate rotated images from test images modestly: AUROC 0.67 with MC dropout, 0.64 in
  eval mode, 0.69 for the plain networks. MC dropout does better than eval mode of the same networks
  (+0.035, CI +0.014 to +0.056, beyond noise but small). Eval mode does worse than the plain
  networks here (-0.056, CI -0.101 to -0.012), but within noise on seeds 1000-1002. MC dropout and the plain networks cannot be told apart
  (-0.021, CI -0.063 to +0.020).
* On noise images the AUROC is 0.86, 0.82 and 0.80, but each swings by ± 0.16 to 0.21 from seed to
  seed and every paired difference is within noise: a network may put uniform noise confidently into
  one class.

MC dropout is a cheap uncertainty signal, but here it is no reliable out-of-distribution detector, and
no better at spotting rotated images than the entropy of a network trained without dropout."""),
    (NB, ("## Summary",), """## Summary

* **Ensemble**: with dropout before a single softmax layer, the network in eval mode computes the normalized
  *geometric* mean of all $2^n$ subnetworks exactly. With a nonlinearity in between it is only close to it.
  The arithmetic mean is softer, but it almost always predicts the same class.
* **Monte-Carlo dropout** estimates the arithmetic mean with an error of order $1/\\sqrt K$. A few samples
  already beat weight scaling as an estimate of it.
* **Noise as regularization**: for a linear model, input dropout adds exactly
  $\\frac{p}{1-p}\\sum_j w_j^2 \\sum_i x_{ij}^2$ to the expected squared error, a ridge penalty scaled by each
  feature's energy, that is, one ordinary ridge on standardized features. Training with Bernoulli or Gaussian dropout lands on that ridge solution.
* **Co-adaptation**: a dropout-trained layer loses less accuracy when a random half of its units is
  removed (0.014 against 0.046: -0.032, 95 % CI -0.063 to -0.0005, beyond noise only just). Its units
  are not less correlated (+0.036, within noise): redundant rather than independent.
* **Variance**: in eval mode dropout lowers the activation variance of both hidden layers (by 36% and
  32%, beyond noise) and spreads the second layer's variance over more directions (top share 0.35
  against 0.44: -0.090, CI -0.116 to -0.063).
* **Uncertainty**: MC dropout raises the entropy beyond noise (rotated images 1.10 against 0.87 in eval
  mode) and tells rotated images apart a little better than eval mode (AUROC 0.67 against 0.64:
  +0.035, CI +0.014 to +0.056), but no better than a plain network's softmax entropy (0.69: -0.021,
  CI -0.063 to +0.020, within noise)."""),
    (SOL, ("## Exercise 6: entropy against rotation angle",), """## Exercise 6: entropy against rotation angle

One dropout MLP as in Section 3 (the course's small-data setting, `d2l_ext.SMALL_DATA`: 1,000 training
images, 30 epochs, $p = 0.5$), then the MC-dropout entropy ($K = 32$) of 1,000 test images rotated by
0° to 180°."""),
    (SOL, ("The entropy is lowest for upright images",), """The entropy is lowest for upright images (0.70) and rises as soon as they are rotated, but it is **not**
largest at 90°. At 90° (1.11) it is lower than at any oblique angle we tried (1.35 to 1.63), and the peak
is at 150°. An oblique rotation does more than turn the garment: it interpolates the pixels (blurring
them) and moves the corners of the image out of the frame. Multiples of 90° only permute pixels. So the
entropy measures how unfamiliar an image looks to the network, not how far it has been rotated."""),
]


def _edit(path, change):
    """Load notebook `path`, change(cells), write it back as nbformat does, holding the lock."""
    while True:
        try:
            os.mkdir(LOCK)
            break
        except FileExistsError:
            time.sleep(5)
    try:
        nb = json.loads(path.read_text())
        change(nb['cells'])
        with open(path, 'w') as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write('\n')
    finally:
        os.rmdir(LOCK)


def _cell(cells, path, markers):
    """The one cell whose source contains one of `markers`."""
    found = [c for c in cells if any(m in ''.join(c['source']) for m in markers)]
    assert len(found) == 1, (path.name, markers, len(found))
    return found[0]


def apply(path, edits, rewrites):
    """Replace old by new inside cells (skipped where done), then rewrite whole cells."""
    def change(cells):
        for marker, subs in edits:
            cell = _cell(cells, path, (marker,))
            src = ''.join(cell['source'])
            for old, new in subs:
                if new in src:
                    continue  # done before
                assert src.count(old) == 1, (path.name, marker, old)
                src = src.replace(old, new)
            cell['source'] = src.splitlines(keepends=True)
        for markers, new in rewrites:
            _cell(cells, path, markers)['source'] = new.splitlines(keepends=True)
    _edit(path, change)



def split_print_table(cells):
    """print_table gets its own cell and sub-slide: with it, the coadaptation cell outgrew a slide."""
    cell = _cell(cells, NB, ('def coadaptation(model',))
    src = ''.join(cell['source'])
    if 'def print_table' not in src:
        return  # done before
    head, tail = src.split('\n\n\ndef print_table')
    cell['source'] = head.splitlines(keepends=True)
    new = {'cell_type': 'code', 'execution_count': None, 'id': 'c7a1e2f5',
           'metadata': {'slideshow': {'slide_type': 'subslide'}}, 'outputs': [],
           'source': ('def print_table' + tail).splitlines(keepends=True)}
    cells.insert(cells.index(cell) + 1, new)


if __name__ == '__main__':
    for path in (NB, SOL):
        apply(path, [(m, subs) for p, m, subs in CODE if p == path],
              [(m, new) for p, m, new in REWRITE if p == path])
    _edit(NB, split_print_table)
