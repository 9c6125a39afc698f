"""Citations in the notebooks, drawn from the course's one bibliography, notebooks/references.bib.

    python tools/references.py [--check]

A notebook cites an entry with a Markdown link whose text is the entry's author-year label and
whose target is the notebook's own References section:

    ... the variance shift ([Li et al., 2019](#References)).

That reads as plain text in Jupyter, in the HTML pages and in the reveal.js decks, where the link
jumps to the References cell or slide; `make site` (tools/build_site.py) turns each one into a
linked citation with `cite_role`. Labels follow the author_year style of sphinxcontrib-bibtex,
which the site uses: "Bishop, 1995", "Gal and Ghahramani, 2016", "Srivastava et al., 2014".

This script writes the last cell of every chapter notebook (notebooks/NN_*.ipynb), and of every
solutions notebook that cites an entry, `## References`, listing the entries the notebook cites,
formatted from the .bib file, so the cell and the bibliography never disagree. It edits markdown
cells only, holding the checkout's notebook lock (.nb-lock), and writes a notebook only when its
text changes; `--check` only reports.
"""

import argparse
import json
import re
import sys
import time
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from pybtex.database import parse_file
from pybtex.plugin import find_plugin
from pybtex.richtext import Text

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "notebooks" / "references.bib"
HEADING = "## References"
ANCHOR = "#References"  # the id Jupyter, nbconvert and reveal.js give the heading '## References'
CITATION = re.compile(r"\[([^\[\]]+)\]\(" + ANCHOR + r"\)")
LOCK = ROOT / ".nb-lock"


@cache
def bibliography(path=BIB):
    """The entries of the .bib file, by key."""
    return dict(parse_file(str(path)).entries)


def _plain(latex):
    return Text.from_latex(latex).render_as("text")


def title(entry):
    """The entry's title as plain text."""
    return _plain(entry.fields["title"])


def label(entry):
    """The author-year label the site renders: 'Bishop, 1995', 'A and B, 2016', 'A et al., 2014'."""
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in entry.persons["author"]]
    names = (
        last[0] if len(last) == 1 else " and ".join(last) if len(last) == 2 else f"{last[0]} et al."
    )
    return f"{names}, {entry.fields['year']}"


@cache
def keys_by_label(path=BIB):
    found = {}
    for key, entry in bibliography(path).items():
        lab = label(entry)
        if lab in found:
            raise SystemExit(f"{path}: {found[lab]} and {key} share the label {lab!r}; add a or b")
        found[lab] = key
    return found


def cited(text, path=BIB):
    """The bib keys cited in `text`, in order; an unknown label is an error that says what to do."""
    by_label = keys_by_label(path)
    keys = []
    for m in CITATION.finditer(text):
        if m[1] not in by_label:
            raise ValueError(
                f"citation [{m[1]}]({ANCHOR}) matches no entry of {path.name}; labels are: "
                + "; ".join(sorted(by_label))
            )
        keys.append(by_label[m[1]])
    return keys


def cite_role(text, path=BIB):
    """`text` with every citation link replaced by the MyST role of sphinxcontrib-bibtex."""
    cited(text, path)  # an unknown label: ValueError naming it and the labels there are
    by_label = keys_by_label(path)
    return CITATION.sub(lambda m: "{cite:alp}`" + by_label[m[1]] + "`", text)


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def is_references(cell):
    return cell["cell_type"] == "markdown" and _source(cell).lstrip().startswith(HEADING)


def notebook_keys(nb, path=BIB):
    """The keys a notebook cites (markdown cells other than its References cell), each once."""
    keys = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and not is_references(cell):
            keys += [k for k in dict.fromkeys(cited(_source(cell), path)) if k not in keys]
    return keys


def format_reference(entry):
    """One bibliography entry as a line of Markdown (pybtex's plain style, as the site shows it)."""
    style = find_plugin("pybtex.style.formatting", "plain")()
    markdown = find_plugin("pybtex.backends", "markdown")()
    text = next(iter(style.format_entries([entry]))).text.render(markdown)
    text = re.sub(r"\\([.()\-'])", r"\1", text)  # the backend's escapes that Markdown does not need
    return " ".join(text.split())


def references_source(keys, path=BIB):
    """The text of a References cell listing `keys`, sorted by label."""
    bib = bibliography(path)
    entries = sorted((label(bib[k]), bib[k]) for k in keys)
    lines = [HEADING, ""]
    lines += [f"- **{lab}.** {format_reference(entry)}" for lab, entry in entries]
    return "\n".join(lines)


def _lines(text):
    return text.splitlines(keepends=True)


def update(nb, path=BIB):
    """Make the notebook's last cell its References cell; True if anything changed."""
    source = references_source(notebook_keys(nb, path), path)
    cells = nb["cells"]
    if cells and is_references(cells[-1]):
        if _source(cells[-1]) == source:
            return False
        cells[-1]["source"] = _lines(source)
        return True
    # Not in the decks ('skip'): a slide must fit the screen, and a lecture needs no bibliography
    # slide; the pages and the site show the cell.
    cell = {"cell_type": "markdown", "metadata": {"slideshow": {"slide_type": "skip"}}}
    if cells and "id" in cells[0]:  # nbformat 4.5 gives every cell an id
        cell["id"] = "references"
    cell["source"] = _lines(source)
    cells.append(dict(sorted(cell.items())))  # key order as nbformat writes it
    return True


def chapters(src=ROOT / "notebooks"):
    return sorted(Path(src).glob("[0-9]*.ipynb"))


def citing_notebooks(src=ROOT / "notebooks"):
    """The chapters, then the solutions notebooks that cite an entry: each ends with References."""
    solutions = sorted(Path(src).glob("solutions/*.ipynb"))
    return chapters(src) + [p for p in solutions
                            if CITATION.search(p.read_text(encoding="utf-8"))]


@contextmanager
def notebook_lock():
    """Hold the checkout's notebook lock (.nb-lock) while editing: others edit the notebooks too."""
    while True:
        try:
            LOCK.mkdir()
            break
        except FileExistsError:
            print(f"waiting for {LOCK.name} ...", file=sys.stderr)
            time.sleep(30)
    try:
        yield
    finally:
        LOCK.rmdir()


def write(path, nb):
    """Write a notebook as nbformat does (indent 1, UTF-8, trailing newline)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    stale = []
    for path in citing_notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        try:
            if update(nb):
                stale.append(path)
        except ValueError as e:  # a citation of no entry
            raise SystemExit(f"{path}: {e}") from None
    if stale and not args.check:
        with notebook_lock():
            for path in stale:  # read again under the lock: someone may have saved meanwhile
                nb = json.loads(path.read_text(encoding="utf-8"))
                update(nb)
                write(path, nb)
    verb = "out of date" if args.check else "updated"
    print(f"References cells {verb}: {', '.join(p.name for p in stale) or 'none'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
