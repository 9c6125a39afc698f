"""tools/check_prereqs.py names every missing tool, how to install it and what works without it.

Each check runs the script (or make itself) with a PATH of stand-ins for the tools it looks for,
minus the ones a test hides, so the result does not depend on what this machine has installed.
"""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'tools' / 'check_prereqs.py'
_spec = importlib.util.spec_from_file_location('check_prereqs', SCRIPT)
prereqs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prereqs)

ON_PATH = [tool for tool in prereqs.TOOLS if hasattr(tool.problem, 'names')]
MAIN = ['install', 'run', 'test', 'lab']  # the goals tried for a tool that every target needs
SUDO = '' if os.geteuid() == 0 else 'sudo '
# Variables that would leak the caller's tools or its make (MAKELEVEL under `make unit`) into a run.
LEAKS = ('CC', 'CHROMIUM', 'MAKELEVEL', 'MAKEFLAGS', 'MFLAGS', 'MAKEOVERRIDES')


def stand_ins(folder, hidden=(), extra=()):
    """A folder of executables named like every tool the check looks for, except `hidden`."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name in [n for tool in ON_PATH for n in tool.problem.names] + list(extra):
        if name not in hidden:
            (folder / name).write_text('#!/bin/sh\n')
            (folder / name).chmod(0o755)
    return str(folder)


def env_with(path):
    env = {k: v for k, v in os.environ.items() if k not in LEAKS}
    env['PATH'] = path
    return env


def check(tmp_path, *args, hidden=()):
    """Run the script for `args` with the tools `hidden` missing; return (exit status, stdout)."""
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env_with(stand_ins(tmp_path / 'bin', hidden)), timeout=60)
    assert done.stderr == ''
    return done.returncode, done.stdout


def block(out, name):
    """The lines about tool `name` in the script's output, continuation lines joined."""
    text = out.split('\n' + name + ': ', 1)[1].split('\n\n', 1)[0]
    return re.sub(r'\n {20}', ' ', text)


def works_without(out, name):
    return block(out, name).split('works without it: ', 1)[1].split('\n')[0].split(', ')


def names(tools):
    return [tool.name for tool in tools]


def commands(*tools):
    """Every command name the check accepts for the tools named `tools`."""
    return [n for tool in ON_PATH if tool.name in tools for n in tool.problem.names]


@pytest.mark.parametrize('goal', ['run', 'test', 'lab'])
def test_silent_when_every_tool_is_there(tmp_path, goal):
    assert check(tmp_path, goal) == (0, '')


def goals(targets):
    return MAIN if targets == prereqs.ALL else list(targets)


# (tool, goal, whether the goal stops without it), for every tool the check looks for on PATH
CASES = ([(tool, goal, True) for tool in ON_PATH for goal in goals(tool.needed_by)]
         + [(tool, goal, False) for tool in ON_PATH for goal in goals(tool.optional_for)])


@pytest.mark.parametrize('tool, goal, required', CASES,
                         ids=[f'{tool.name}-{goal}' for tool, goal, _ in CASES])
def test_a_hidden_tool_is_named_with_its_install_commands_and_what_works_without_it(
        tmp_path, tool, goal, required):
    status, out = check(tmp_path, goal, hidden=tool.problem.names)
    if required:
        assert status == 1, out
        assert out.startswith(f'make {goal} cannot start: install what is MISSING below')
        head = f'MISSING, needed by make {goal} (not on PATH: '
    else:
        assert status == 0, out
        assert out.startswith(f'make {goal} goes on without these optional tools:')
        head = f'missing, optional for make {goal} (not on PATH: '
    lines = block(out, tool.name)
    assert lines.startswith(head)
    if not required:  # an optional tool says what is skipped without it
        assert tool.without and f'without it:       {tool.without}\n' in lines
    assert f'Debian/Ubuntu:    {tool.debian.format(sudo=SUDO, goal=goal)}\n' in lines
    assert f'macOS (Homebrew): {tool.macos.format(goal=goal)}\n' in lines
    assert (f'make {goal}' in works_without(out, tool.name)) != required


def test_without_npm_make_run_goes_on_and_ends_with_what_it_skipped(tmp_path):
    status, out = check(tmp_path, 'run', hidden=commands('npm'))
    assert status == 0
    for line in (f'Debian/Ubuntu:    {SUDO}apt-get install npm',
                 'macOS (Homebrew): brew install node',
                 'skips all their decks (build/slides/'):
        assert line in block(out, 'npm')
    still = works_without(out, 'npm')
    assert {'make run', 'make lab', 'make unit', 'make nbval'} <= set(still)
    assert not {'make test', 'make slides', 'make browser'} & set(still)
    status, end = check(tmp_path, '--skipped', 'run', hidden=commands('npm'))
    assert status == 0
    assert end.startswith('make run is done, but skipped what needs npm:')
    assert '`make slides SLIDES_SRC=build/notebooks`' in block(end, 'npm')
    assert check(tmp_path, '--skipped', 'run') == (0, '')


def test_every_missing_tool_is_listed_at_once(tmp_path):
    status, out = check(tmp_path, 'test', hidden=commands('npm', 'Chromium', 'a C compiler'))
    assert status == 1
    assert 'npm: MISSING' in out and 'Chromium: MISSING' in out
    assert 'a C compiler: missing, optional for make test' in out


def test_without_goals_every_target_is_checked(tmp_path):
    status, out = check(tmp_path)
    assert status == 0
    assert out == 'Found every prerequisite: %s.\n' % ', '.join(names(prereqs.TOOLS))
    status, out = check(tmp_path, hidden=commands('Chromium'))
    assert status == 1
    head = block(out, 'Chromium').split('\n')[0]
    assert head.startswith('MISSING, needed by') and 'make test' in head and 'make browser' in head


def test_python_version_and_venv_are_checked():
    assert 'is Python 3.12.1' in prereqs.python_problem((3, 12, 1), has_venv=True)
    assert 'is Python 3.10.13' in prereqs.python_problem((3, 10, 13), has_venv=True)
    assert 'without the venv module' in prereqs.python_problem((3, 11, 7), has_venv=False)
    assert prereqs.python_problem((3, 11, 7), has_venv=True) is None


def test_the_python_asked_for_is_pyprojects_requires_python():
    wanted = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']['requires-python']
    low, high = re.fullmatch(r'>=(\d+\.\d+),<(\d+\.\d+)', wanted).groups()
    assert f'{prereqs.LOWEST[0]}.{prereqs.LOWEST[1]}' == low
    assert f'{prereqs.EXCLUDED[0]}.{prereqs.EXCLUDED[1]}' == high
    python = prereqs.TOOLS[0]
    assert f'apt-get install python{low} python{low}-venv' in python.debian
    assert python.macos == f'brew install python@{low}'


def test_the_readmes_first_screen_names_every_prerequisite_with_its_commands():
    first_screen = '\n'.join((ROOT / 'README.md').read_text().splitlines()[:40])
    for tool in prereqs.TOOLS:
        debian = tool.debian.format(sudo='sudo ', goal='run').split('  (')[0]
        for command in (debian, tool.macos):
            assert f'`{command}`' in first_screen, (tool.name, command)


def test_every_target_the_table_names_is_in_the_makefile():
    targets = set(prereqs.makefile_targets())
    assert {'run', 'test', 'lab', 'install'} <= targets
    for tool in prereqs.TOOLS:
        for named in (tool.needed_by, tool.optional_for):
            assert named == prereqs.ALL or set(named) <= targets, (tool.name, named)


def test_a_target_that_builds_on_one_needing_a_tool_is_listed_as_needing_it_too():
    rules = re.findall(r'^([a-z][\w-]*):(?!=)([^#\n]*)', (ROOT / 'Makefile').read_text(), re.M)
    deps = {target: set(words.split()) for target, words in rules}

    def closure(target, seen):
        for dep in deps.get(target, ()):
            if dep not in seen:
                seen.add(dep)
                closure(dep, seen)
        return seen

    for tool in prereqs.TOOLS:
        if tool.needed_by != prereqs.ALL:
            for target in deps:
                if closure(target, set()) & set(tool.needed_by):
                    assert target in tool.needed_by, (tool.name, target)


def make_dry_run(tmp_path, goal, hidden=(), uid='0'):
    """`make -n goal` with `hidden` off PATH and `id -u` answering `uid`; return its stdout.

    -W package.json: as if the npm packages were out of date, so a step that installs them shows.
    """
    path = stand_ins(tmp_path / 'bin', hidden, extra=['id'])
    (tmp_path / 'bin' / 'id').write_text(f'#!/bin/sh\necho {uid}\n')
    done = subprocess.run([shutil.which('make'), '-n', '-W', 'package.json', goal,
                           f'PYTHON={sys.executable}'],
                          cwd=ROOT, capture_output=True, text=True, env=env_with(path), timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


# make -n prints the recipe lines; its last one reports what was skipped, where npm is missing.
SKIP_NOTE = '[ -n "%s" ] || ' + sys.executable + ' tools/check_prereqs.py --skipped run'


def test_make_run_without_npm_runs_the_notebooks_then_ends_with_the_skipped_decks(tmp_path):
    out = make_dry_run(tmp_path, 'run', hidden=commands('npm'))
    assert out.index('tools/check_prereqs.py run') < out.index('nbconvert --to notebook --execute')
    assert 'npm ci' not in out and 'build_slides.py' not in out
    assert out.splitlines()[-1] == SKIP_NOTE % ''


def test_make_run_with_npm_still_builds_the_decks(tmp_path):
    out = make_dry_run(tmp_path, 'run')
    assert out.index('npm ci') < out.index('nbconvert --to notebook --execute')
    assert 'build_slides.py --src build/notebooks' in out
    assert out.splitlines()[-1] == SKIP_NOTE % (tmp_path / 'bin' / 'npm')


@pytest.mark.parametrize('uid, flag', [('0', True), ('1000', False)])
def test_make_lab_allows_root_only_for_root(tmp_path, uid, flag):
    lab = [line for line in make_dry_run(tmp_path, 'lab', uid=uid).splitlines()
           if 'jupyter lab notebooks' in line]
    assert len(lab) == 1 and lab[0].endswith('--allow-root') == flag


def test_make_alone_lists_prereqs_and_the_main_targets():
    done = subprocess.run([shutil.which('make'), '-s'], cwd=ROOT, capture_output=True, text=True,
                          env=env_with(os.environ['PATH']), timeout=60)
    listed = re.findall(r'^  make (\S+)', done.stdout, re.M)
    assert {'prereqs', 'run', 'test', 'lab', 'install'} <= set(listed)
