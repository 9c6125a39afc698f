"""tools/calibrate.py: the slack it records for an assert, and the seeds it shifts."""

import ast
import importlib.util
import json
import math
import pathlib
import random
import types

import numpy as np
import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location('calibrate', ROOT / 'tools' / 'calibrate.py')
calibrate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(calibrate)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """Run the prelude as the kernel would, then return run(cell) -> the records it wrote."""
    # The prelude replaces the seeding functions; monkeypatch puts them back afterwards.
    for module, name in [(torch, 'manual_seed'), (random, 'seed'), (np.random, 'seed'),
                         (torch, 'Generator')]:
        monkeypatch.setattr(module, name, getattr(module, name))
    log = tmp_path / 'runs.jsonl'
    shell = types.SimpleNamespace(ast_transformers=[], execution_count=3)
    namespace = {'get_ipython': lambda: shell, 'torch': torch, 'np': np}
    exec(calibrate.PRELUDE.format(shift=7, log=str(log), notebook='nb.ipynb'), namespace)

    def run(source):
        tree = shell.ast_transformers[0].visit(ast.parse(source))
        exec(compile(ast.fix_missing_locations(tree), 'cell', 'exec'), namespace)
        if not log.exists():
            return []
        records = [json.loads(line) for line in log.read_text().splitlines()]
        log.unlink()
        return records
    return run


@pytest.mark.parametrize('source, slack', [
    ('assert 0.2 < 0.5 < 0.9', 0.3),                      # the closer of the two bounds
    ('assert 0.5 > 0.75', -0.25),                          # fails by 0.25
    ('assert 1 < 2 and 5 < 5.5', 0.5),                     # and: the smallest
    ('assert 1 < 0 or 5 < 5.5', 0.5),                      # or: the largest
    ('assert not 2 < 1', 1.0),
    ('assert all(a < b for a, b in [(1, 4), (3, 3.5)])', 0.5),
    ('assert all(a < 0 for a in [])', math.inf),
    ('assert torch.all(torch.tensor([1.0, 2.0]) > 0.5)', 0.5),
    ('assert isinstance(1, int)', math.inf),               # not a comparison: holds or not
    ('assert 1 == 2', -math.inf),
])
def test_slack(kernel, source, slack):
    [record] = kernel(source)
    assert record['slack'] == pytest.approx(slack)
    assert record['cell'] == 1 and record['notebook'] == 'nb.ipynb' and record['shift'] == 7


def test_failing_assert_is_recorded_not_raised(kernel):
    records = kernel('assert 1 > 2\nafter = True')
    assert records[0]['closest'] == [1.0, '>', 2.0, -1.0]


def test_asserts_inside_functions_stay_asserts(kernel):
    with pytest.raises(AssertionError):
        kernel('def check(p):\n    assert 0 <= p <= 1\ncheck(2)')


def test_seeds_are_shifted(kernel):
    kernel('torch.manual_seed(0)\nnp.random.seed(1)')
    assert torch.initial_seed() == 7
    assert torch.Generator().manual_seed(0).initial_seed() == 7  # the prelude's Generator
    assert np.random.get_state()[1][0] == 8
