"""Check, all at once, the tools that make's goals need, and say how to install each missing one.

    python3 tools/check_prereqs.py [GOAL ...]        # no GOAL: every target of the Makefile
    python3 tools/check_prereqs.py --skipped GOAL    # what GOAL left out for want of a tool

`make install` runs it first (and so `make run`, `make test`, `make lab`, ...) with the goals of
make's command line, before anything long starts. It prints nothing when every tool is there, and
exits 1 when a goal cannot run without a missing tool. A tool that a goal can do without (npm for
`make run`, a C compiler for all) gets a note saying what is skipped, and exit status 0.

To add a tool or a target, edit TOOLS only. Standard library only, in syntax that Python 3.6 and
later run, so that a too-old `python3` gets the message instead of a SyntaxError.
"""

import os
import re
import shutil
import sys
import textwrap
from collections import namedtuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL = "every target"  # needed_by/optional_for value: every target but help and clean
NEEDS_NOTHING = ("help", "clean")


def _python_range():
    """(lowest, first excluded) (major, minor) of pyproject.toml's requires-python."""
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        m = re.search(r'^requires-python = ">=(\d+)\.(\d+),<(\d+)\.(\d+)"', f.read(), re.M)
    if not m:
        sys.exit('tools/check_prereqs.py: pyproject.toml needs requires-python = ">=X.Y,<X.Z"')
    n = [int(g) for g in m.groups()]
    return (n[0], n[1]), (n[2], n[3])


LOWEST, EXCLUDED = _python_range()
PY = "%d.%d" % LOWEST
PY_NAME = "Python " + (PY if EXCLUDED == (LOWEST[0], LOWEST[1] + 1)
                       else ">=%s,<%d.%d" % (PY, EXCLUDED[0], EXCLUDED[1]))


def python_problem(version=None, has_venv=None):
    """What is wrong with the Python running this script for the course, or None."""
    version = tuple(version or sys.version_info[:3])
    this = "%s is Python %s" % (sys.executable, ".".join(str(v) for v in version))
    if not LOWEST <= version[:2] < EXCLUDED:
        return this
    if has_venv is None:  # Debian ships venv's ensurepip in a package of its own
        import importlib.util
        has_venv = importlib.util.find_spec("ensurepip") is not None
    return None if has_venv else this + " without the venv module (no ensurepip)"


def on_path(names, env=None, fallback=True):
    """A check that passes when one of `names` is an executable on PATH. The variable `env`, when
    set, names the one to try first (and the only one, unless `fallback`), as the tool's user does.
    """
    def problem():
        chosen = os.environ.get(env) if env else None
        wanted = ([chosen] if chosen else []) + (list(names) if fallback or not chosen else [])
        if any(shutil.which(n) for n in wanted):
            return None
        return "not on PATH: " + ", ".join(wanted)
    problem.names = names
    return problem


FIELDS = "name why problem needed_by optional_for without debian macos then"
Tool = namedtuple("Tool", FIELDS)
TOOLS = (
    Tool(name=PY_NAME, problem=python_problem, needed_by=ALL, optional_for=(), without="",
         why="the course's pinned environment in .venv (requires-python in pyproject.toml)",
         debian="{sudo}apt-get install python%s python%s-venv" % (PY, PY),
         macos="brew install python@" + PY,
         then="make {goal} PYTHON=python%s  (where python3 is another version)" % PY),
    Tool(name="make", problem=on_path(["make"]), needed_by=ALL, optional_for=(), without="",
         why="runs the course's targets (GNU make)",
         debian="{sudo}apt-get install make", macos="xcode-select --install", then=""),
    Tool(name="a C compiler", problem=on_path(["cc"], env="CC", fallback=False),
         needed_by=(), optional_for=ALL,
         why="compiles d2l_ext's fast dropout kernel once, at make install",
         without="d2l_ext.FastDropout computes the same bits with torch ops, slower",
         debian="{sudo}apt-get install gcc", macos="xcode-select --install", then=""),
    Tool(name="npm", problem=on_path(["npm"]),
         needed_by=("slides", "browser", "handout", "sitecheck", "test"),
         optional_for=("run",),
         why="installs the decks' reveal.js, MathJax and require.js (package-lock.json)",
         without="make run executes every notebook into build/notebooks/ and builds the site, "
                 "but skips all their decks (build/slides/, which the site links to); "
                 "`make slides SLIDES_SRC=build/notebooks` builds them once npm is there",
         debian="{sudo}apt-get install npm", macos="brew install node", then=""),
    Tool(name="Chromium", needed_by=("browser", "handout", "sitecheck", "test"),
         optional_for=(), without="",
         problem=on_path(["chromium", "chromium-browser", "google-chrome"], env="CHROMIUM"),
         why="the headless browser that checks every deck and site page (tests/test_slides.py, "
             "tests/test_site.py) and prints the handouts",
         debian="{sudo}apt-get install chromium  (Ubuntu: {sudo}snap install chromium)",
         macos="brew install --cask chromium",
         then="export CHROMIUM=/Applications/Chromium.app/Contents/MacOS/Chromium  (macOS)"),
)


def makefile_targets():
    """The targets `make help` lists (those with a `## ` description), in the Makefile's order."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        return re.findall(r"^([a-z][\w-]*):[^=\n]*## ", f.read(), re.M)


def applies(targets, goal):
    return goal not in NEEDS_NOTHING if targets == ALL else goal in targets


def describe(tool, goals, required, rerun="run"):
    """The lines that tell what the tool is for, how to install it and what works without it."""
    sudo = "" if os.geteuid() == 0 else "sudo "
    fill = {"sudo": sudo, "goal": rerun}
    status = "MISSING, needed by" if required else "missing, optional for"
    users = [g for g in goals if applies(tool.needed_by if required else tool.optional_for, g)]
    still = [t for t in makefile_targets()
             if t not in NEEDS_NOTHING + ("prereqs",) and not applies(tool.needed_by, t)]
    # Install commands stay on one line, to be copied; prose wraps at 100 columns.
    rows = [("what for", tool.why, 100), ("Debian/Ubuntu", tool.debian.format(**fill), 0),
            ("macOS (Homebrew)", tool.macos.format(**fill), 0),
            ("then", tool.then.format(**fill), 0), ("without it", tool.without, 100),
            ("works without it", ", ".join("make\0" + t for t in still) or "nothing", 100)]
    head = "\n%s: %s make %s (%s)" % (tool.name, status, ", make ".join(users), tool.problem())
    return [head] + [textwrap.fill(text, width or len(text) + 20, break_on_hyphens=False,
                                   initial_indent="  %-18s" % (label + ":"),
                                   subsequent_indent=" " * 20)
                     .replace("\0", " ")  # \0: a space that never breaks "make lint" apart
                     for label, text, width in rows if text]


def check(goals):
    """Print what `goals` miss; return the exit status (1 when a goal cannot run)."""
    explicit = bool(goals)
    goals = goals or [t for t in makefile_targets() if t not in NEEDS_NOTHING]
    blocking, optional = [], []
    for tool in TOOLS:
        if any(applies(tool.needed_by, g) for g in goals):
            if tool.problem():
                blocking.append(tool)
        elif any(applies(tool.optional_for, g) for g in goals) and tool.problem():
            optional.append(tool)
    rerun = " ".join(goals) if explicit else "run"
    if blocking:
        print("%s: install what is MISSING below, then run it again."
              % ("make %s cannot start" % rerun if explicit else "Some targets cannot run"))
    elif optional:
        print("%s without these optional tools:"
              % ("make %s goes on" % rerun if explicit else "Every target runs, some"))
    elif not explicit:
        print("Found every prerequisite: %s." % ", ".join(t.name for t in TOOLS))
    for tool in blocking + optional:
        print("\n".join(describe(tool, goals, tool in blocking, rerun)))
    return 1 if blocking else 0


def skipped(goal):
    """Print what `goal` left out because an optional tool is missing."""
    for tool in TOOLS:
        if applies(tool.optional_for, goal) and tool.problem():
            print("make %s is done, but skipped what needs %s:" % (goal, tool.name))
            print("\n".join(describe(tool, [goal], False, goal)))


def main(argv):
    if argv[:1] == ["--skipped"]:
        if len(argv) != 2:
            sys.exit("usage: tools/check_prereqs.py --skipped GOAL")
        skipped(argv[1])
        return 0
    return check(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
