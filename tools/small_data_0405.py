"""One-off: notebooks 04, 05 and their solutions build the small-data set from d2l_ext.SMALL_DATA."""
import sys
sys.path.insert(0, '/tmp')
from nbedit import edit

SMALL = "small = d2l_ext.FashionMNIST(**d2l_ext.SMALL_DATA)"
SMALL_SOL = "small = d2l_ext.FashionMNIST(**d2l_ext.SMALL_DATA, root='../../data')"
VAL = "small.val = torch.utils.data.TensorDataset(*small.val[:2000])"


def drop_line(fragment):
    return lambda s: '\n'.join(line for line in s.split('\n') if fragment not in line)


def swap(old, new):
    def f(s):
        assert old in s, old
        return s.replace(old, new)
    return f


edit('notebooks/04_dropout_mlp_scratch.ipynb', [
    (22, 'To keep the runs cheap we validate on the first 2 000 test images', swap(
        'To keep the runs cheap we validate on the first 2 000 test images, the same for every run.',
        "This is the course's small-data setting, `d2l_ext.SMALL_DATA` (notebook 00): 1 000 images,\n"
        'batch 64, and validation on the first 2 000 test images, the same for every run, which keeps\n'
        'the runs cheap.')),
    (23, 'num_train=1000', lambda s: drop_line(VAL)(s).replace(
        'small = d2l_ext.FashionMNIST(batch_size=64, num_train=1000)', SMALL)),
])
edit('notebooks/05_dropout_mlp_concise.ipynb', [
    (16, 'num_train=1000', swap('small = d2l_ext.FashionMNIST(batch_size=64, num_train=1000)', SMALL)),
    (24, 'Setting of notebook', swap('Setting of notebook\n04, section 4 (1 000 training images',
                                     "The course's small-data setting\n(`d2l_ext.SMALL_DATA`, "
                                     'as in notebook 04, section 4: 1 000 training images')),
    (25, VAL, drop_line(VAL)),
])
for path in ('notebooks/solutions/04_dropout_mlp_scratch_solutions.ipynb',
             'notebooks/solutions/05_dropout_mlp_concise_solutions.ipynb'):
    edit(path, [(2, 'num_train=1000', lambda s: drop_line('small.val = ')(s).replace(
        "small = d2l_ext.FashionMNIST(batch_size=64, num_train=1000, root='../../data')", SMALL_SOL))])
edit('notebooks/solutions/04_dropout_mlp_scratch_solutions.ipynb', [
    (13, 'more.val = small.val', lambda s: drop_line('more.val = small.val')(s).replace(
        "more = d2l_ext.FashionMNIST(batch_size=64, num_train=5000, root='../../data')",
        "more = d2l_ext.FashionMNIST(**dict(d2l_ext.SMALL_DATA, num_train=5000), root='../../data')"))])
