"""Build the course's reading site with Jupyter Book 1, from the notebooks' stored outputs, offline.

    python tools/build_site.py [--src notebooks] [--out build/site] [--slides build/slides]

OUT is the book's source folder: book/ (configuration, home page), notebooks/references.bib, a
table of contents in reading order (chapters, then solutions) and a copy of every notebook of SRC
with three changes, made on the copies only:
- each citation link `[Label](#References)` (tools/references.py) becomes the `{cite:alp}` role of
  sphinxcontrib-bibtex, which links it to its entry;
- the `## References` cell becomes the page's bibliography (the entries the page cites);
- under the title, links to the notebook's deck (in SLIDES, built by `make slides`), its solutions
  and its .ipynb.
Then `jupyter-book build` writes the site to OUT/_build/html/; nothing is executed (the stored
outputs are what nbval checks) and every script, style sheet, font and MathJax is served from that
folder. Files are rewritten only when their content changes, so an unchanged rebuild is quick.
"""

import argparse
import html
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import references as refs

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BIBLIOGRAPHY = "```{bibliography}\n:filter: docname in docnames\n```"
HTML_DIR = Path("_build/html")  # where jupyter-book writes the site, relative to OUT


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def title_and_goal(nb):
    """The H1 title of the first cell and the sentence after it."""
    lines = _source(nb["cells"][0]).strip().splitlines()
    title = lines[0].lstrip("#").strip()
    goal = " ".join(line.strip() for line in lines[1:] if line.strip())
    return title, goal


def links_line(rel, slides=None, solutions=None, chapter=None):
    """Links from the page of notebook `rel` (relative to OUT) to its deck, its solutions (or its
    chapter) and its .ipynb; raw HTML where the target is no page of the site."""
    up = "../" * (len(Path(rel).parts) - 1)
    links = []
    if chapter:
        links.append(f"Solutions of [{chapter[1]}]({up}{chapter[0]})")
    if slides is not None:
        deck = os.path.relpath(slides / f"{Path(rel).stem}.slides.html", HTML_DIR)
        links.append(f'<a class="course-deck" href="{up}{html.escape(deck)}">Slides</a>')
    if solutions:
        links.append(f"[Solutions]({solutions})")
    ipynb = f"{up}_sources/{rel}"
    links.append(f'<a class="course-ipynb" href="{ipynb}" download>Notebook (.ipynb)</a>')
    return " · ".join(links)


def site_notebook(nb, extra_line=None):
    """The copy the site builds from: citations as roles, References as the page's bibliography."""
    nb = json.loads(json.dumps(nb))
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        if refs.is_references(cell):
            text = f"{refs.HEADING}\n\n{BIBLIOGRAPHY}\n"
        else:
            text = refs.cite_role(_source(cell))
        if i == 0 and extra_line:
            text = text.rstrip() + "\n\n" + extra_line + "\n"
        cell["source"] = text
    return nb


def plan(src, slides):
    """{relative path in OUT: text} for everything the book is built from."""
    try:
        return _plan(src, slides)
    except ValueError as e:  # a citation of no entry of references.bib
        raise SystemExit(f"make site: {e}") from None


def _plan(src, slides):
    src = Path(src)
    chapters = sorted(src.glob("[0-9]*.ipynb"))
    if not chapters:
        raise SystemExit(f"no notebooks NN_*.ipynb in {src}")
    files = {}
    toc_chapters, toc_solutions, contents = [], [], []
    for path in chapters:
        nb = json.loads(path.read_text(encoding="utf-8"))
        sol = sorted((src / "solutions").glob(f"{path.name.split('_')[0]}_*.ipynb"))
        sol_rel = f"solutions/{sol[0].name}" if sol else None
        try:
            files[path.name] = site_notebook(nb, links_line(path.name, slides, sol_rel))
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None
        toc_chapters.append(path.stem)
        title, goal = title_and_goal(nb)
        contents.append(f"- [{title}]({path.name}): {refs.cite_role(goal)}")
        if sol:
            sol_nb = json.loads(sol[0].read_text(encoding="utf-8"))
            line = links_line(sol_rel, chapter=(path.name, title))
            files[sol_rel] = site_notebook(sol_nb, line)
            toc_solutions.append(f"solutions/{sol[0].stem}")
    files = {k: json.dumps(v, indent=1, ensure_ascii=False) + "\n" for k, v in files.items()}
    toc = ["format: jb-book", "root: intro", "parts:", "  - caption: Course", "    chapters:"]
    toc += [f"      - file: {f}" for f in toc_chapters]
    if toc_solutions:
        toc += ["  - caption: Solutions", "    chapters:"]
        toc += [f"      - file: {f}" for f in toc_solutions]
    files["_toc.yml"] = "\n".join(toc) + "\n"
    for path in sorted(p for p in BOOK.iterdir() if p.is_file()):  # config, home page, extension
        files[path.name] = path.read_text(encoding="utf-8")
    files["intro.md"] = (
        files["intro.md"].rstrip() + "\n\n## Contents\n\n" + "\n".join(contents) + "\n"
    )
    files["references.bib"] = refs.BIB.read_text(encoding="utf-8")
    return files


def sync(files, out):
    """Write `files` under `out` where their text differs; remove sources no longer planned."""
    out = Path(out)
    for rel, text in files.items():
        target = out / rel
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not rel.startswith("_build/") and rel not in files:
            path.unlink()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="notebooks", help="folder of the NN_*.ipynb notebooks")
    parser.add_argument(
        "--out", default="build/site", help="the book's source; site in _build/html"
    )
    parser.add_argument("--slides", default="build/slides", help="where `make slides` puts decks")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = Path(args.out).resolve()
    slides = Path(args.slides).resolve()
    files = plan(args.src, Path(os.path.relpath(slides, out)))
    sync(files, out)
    jb = shutil.which("jupyter-book", path=os.path.dirname(sys.executable)) or "jupyter-book"
    # -W: a broken citation, link or cross-reference fails the build instead of a quiet warning
    cmd = [jb, "build", str(out), "-W", "--keep-going", "--quiet"]
    done = subprocess.run(cmd, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"jupyter-book build failed ({done.returncode}): see the messages above")
    index = Path(args.out) / "_build" / "html" / "index.html"
    print(f"{len(files)} files, site built in {time.perf_counter() - start:.1f} s; open {index}")


if __name__ == "__main__":
    sys.exit(main())
