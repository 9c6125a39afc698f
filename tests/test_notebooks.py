"""The shape every notebook shares, checked on the stored .ipynb files, not running them.

Chapters (notebooks/NN_*.ipynb): an H1 title and a sentence first; `## Summary`, then
`## Exercises` with 4-7 items, then `## References` (written by tools/references.py);
`slideshow.slide_type` on every cell, following the deck convention
(title and `## ` sections start a slide, `### ` a subslide, code stays in its section: on its
markdown's slide, or on a sub-slide of its own when the output or figure would not fit);
execution counts 1..n from one top-to-bottom run; no stored errors; no machine paths or memory
addresses; no widget state (it would load JavaScript from a CDN in the offline pages and decks).
Solutions (notebooks/solutions/NN_*_solutions.ipynb) share the title, run and output rules.
nbval, not this file, checks that the stored outputs are what the code prints.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
ALL = CHAPTERS + SOLUTIONS

SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
MACHINE_PATH = re.compile(
    r"/home/|/Users/|/root/|/work/|/tmp/|/private/var/|site-packages|dist-packages"
    r"|\b[A-Za-z]:\\(?:Users|Windows|Program)"
)
ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}|<[^<>\n]* object at 0x")
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def _id(path):
    return str(path.relative_to(ROOT / "notebooks"))


def _read(path):
    return nbformat.read(path, as_version=4)


def _slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def _output_texts(cell):
    """The text of every stored output of a code cell (images excluded)."""
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            yield out["text"]
        elif out["output_type"] == "error":
            yield "\n".join(out.get("traceback", []))
        else:
            for mime in TEXT_MIMES:
                value = out.get("data", {}).get(mime)
                if value is not None:
                    yield value if isinstance(value, str) else str(value)


def _where(nb, i):
    first = nb.cells[i].source.strip().splitlines()[:1]
    return f"cell {i} ({first[0][:50]!r})" if first else f"cell {i} (empty)"


def test_there_are_notebooks():
    assert CHAPTERS, "no notebooks/NN_*.ipynb"


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_chapter_file_name(path):
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name), (
        f"{path.name}: name chapters NN_snake_case.ipynb"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=_id)
def test_solutions_belong_to_a_chapter(path):
    m = re.fullmatch(r"(\d\d_[a-z0-9_]+)_solutions\.ipynb", path.name)
    assert m, f"{path.name}: name solutions NN_<chapter>_solutions.ipynb"
    assert (ROOT / "notebooks" / f"{m[1]}.ipynb").exists(), f"{path.name}: no chapter {m[1]}.ipynb"


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_title_first(path):
    nb = _read(path)
    assert nb.cells and nb.cells[0].cell_type == "markdown", "the first cell must be markdown"
    lines = [line for line in nb.cells[0].source.strip().splitlines() if line.strip()]
    assert lines and re.match(r"# \S", lines[0]), "the first cell must start with an H1 '# Title'"
    if path in CHAPTERS:
        assert len(lines) > 1, "after the title, one sentence: what the reader can do afterwards"
    h1 = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if re.match(r"# \S", line)
    ]
    assert h1 == [0], f"one H1 only, in the first cell (found in cells {h1})"


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_summary_then_exercises(path):
    nb = _read(path)
    headings = [
        (i, line.strip())
        for i, c in enumerate(nb.cells)
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    names = [h for _, h in headings]
    assert "## Summary" in names, "missing a '## Summary' section"
    assert "## Exercises" in names, "missing a '## Exercises' section"
    assert names.index("## Summary") < names.index("## Exercises"), "Summary comes before Exercises"
    assert names[-1] == "## References", (
        f"the last section is '## References' (`python tools/references.py`), not {names[-1]!r}"
    )
    assert names[-2] == "## Exercises", f"Exercises comes right before References: {names[-2]!r}"
    start = headings[names.index("## Exercises")][0]
    text = "\n".join(c.source for c in nb.cells[start:] if c.cell_type == "markdown")
    text = text.split("## Exercises", 1)[1].split("## References", 1)[0]
    items = re.findall(r"^(?:\d+[.)]|[-*])\s+\S", text, flags=re.M)
    assert 4 <= len(items) <= 7, f"4-7 exercises (top-level list items), found {len(items)}"


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_exercises_link_their_solutions(path):
    """Every chapter has solutions/<chapter>_solutions.ipynb, and its Exercises cell links it with
    a relative Markdown link: one that JupyterLab follows and the site turns into a page link."""
    rel = f"solutions/{path.stem}_solutions.ipynb"
    assert (path.parent / rel).exists(), f"no notebooks/{rel}: write the solutions of {path.name}"
    cells = [c.source for c in _read(path).cells if c.cell_type == "markdown"]
    exercises = [s for s in cells if any(line.strip() == "## Exercises" for line in s.splitlines())]
    assert exercises, "no '## Exercises' cell"
    assert f"]({rel})" in exercises[0], (
        f"the Exercises cell does not link {rel} "
        f"(`python tools/link_solutions.py notebooks/{path.name}`)"
    )


@pytest.mark.parametrize("path", CHAPTERS, ids=_id)
def test_slide_metadata(path):
    """Every cell says where it goes in the deck; the structure follows the headings."""
    nb = _read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        t = _slide_type(cell)
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        if t not in SLIDE_TYPES:
            problems.append(
                f"{_where(nb, i)}: slideshow.slide_type is {t!r}, not one of {sorted(SLIDE_TYPES)}"
            )
        elif i == 0 and t != "slide":
            problems.append(f"{_where(nb, i)}: the title cell is 'slide', not {t!r}")
        elif cell.cell_type == "markdown" and first.startswith("## "):
            skippable = first.strip() in ("## Setup", "## References")
            allowed = {"slide", "skip"} if skippable else {"slide"}
            if t not in allowed:
                problems.append(f"{_where(nb, i)}: a '## ' section starts a 'slide', not {t!r}")
        elif cell.cell_type == "markdown" and first.startswith("### ") and t != "subslide":
            problems.append(f"{_where(nb, i)}: a '### ' subsection is a 'subslide', not {t!r}")
        elif cell.cell_type == "code" and t == "slide":
            problems.append(
                f"{_where(nb, i)}: code stays in its section ('-', 'subslide' or 'skip')"
            )
    section = None  # the '## ' heading each cell falls under
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            heads = [line.strip() for line in cell.source.splitlines() if line.startswith("## ")]
            section = heads[-1] if heads else section
        elif section == "## Setup" and _slide_type(cell) != "skip":
            problems.append(f"{_where(nb, i)}: setup code is 'skip' (it is not the lesson)")
    assert not problems, "\n".join(problems)
    shown = [c for c in nb.cells if _slide_type(c) not in ("skip", "notes")]
    assert any(c.cell_type == "code" for c in shown), "the deck would show no code at all"


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_one_clean_run(path):
    """Execution counts 1..n (one top-to-bottom run), results numbered as their cells, no errors."""
    nb = _read(path)
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    counts = [c.get("execution_count") for _, c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"execution counts {counts}: store the outputs of one fresh top-to-bottom run "
        "(jupyter nbconvert --to notebook --execute --inplace)"
    )
    for i, cell in code:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", (
                f"{_where(nb, i)} stores an error: {out.get('ename')}: {out.get('evalue')}"
            )
            if out["output_type"] == "execute_result":
                assert out.get("execution_count") == cell.execution_count, (
                    f"{_where(nb, i)}: its result is numbered {out.get('execution_count')}"
                )


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_nothing_machine_specific(path):
    """No paths of the author's machine and no memory addresses, in code or outputs."""
    nb = _read(path)
    problems = []
    for i, cell in enumerate(nb.cells):
        outputs = list(_output_texts(cell)) if cell.cell_type == "code" else []
        for text in [cell.source, *outputs]:
            m = MACHINE_PATH.search(text)
            if m:
                line = text[text.rfind("\n", 0, m.start()) + 1 :].splitlines()[0]
                problems.append(f"{_where(nb, i)}: machine path {line.strip()[:100]!r}")
        for text in outputs:
            m = ADDRESS.search(text)
            if m:
                problems.append(f"{_where(nb, i)}: memory address {m[0]!r} in an output")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ALL, ids=_id)
def test_no_widget_state(path):
    """Widget outputs would make the offline pages and decks load JavaScript from unpkg."""
    nb = _read(path)
    assert "widgets" not in nb.metadata, "notebook metadata stores widget state"
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), (
                f"{_where(nb, i)} stores a widget: use text tqdm (`from tqdm import tqdm`)"
            )
