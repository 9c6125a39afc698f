"""The environment that is installed is the one that is pinned, d2l included."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r'^\s*([A-Za-z0-9_.\-\[\]]+==[^\s#]+)\s*$')


def pins(text):
    return sorted(m.group(1).lower() for line in text.splitlines() if (m := PIN.match(line)))


def test_d2l_pin_agrees_everywhere():
    makefile = re.search(r'^D2L := (\S+)$', (ROOT / 'Makefile').read_text(), re.M).group(1)
    assert makefile == 'd2l==1.0.3'
    for doc in ('environment.yml', 'README.md'):
        assert f'pip install --no-deps {makefile} -e .' in (ROOT / doc).read_text(), doc


def test_installed_versions_are_the_pinned_ones():
    from importlib.metadata import version
    for pin in pins((ROOT / 'requirements.txt').read_text()) + ['d2l==1.0.3']:
        name, wanted = pin.split('==')
        assert version(name) == wanted, name
