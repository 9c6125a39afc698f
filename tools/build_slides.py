"""Build the offline lecture decks: a reveal.js deck per notebook, and an index of them.

    python tools/build_slides.py [--src notebooks] [--out build/slides] [--site build/site]

Decks are made by nbconvert's SlidesExporter from each cell's `slideshow.slide_type` metadata, with
the course's template (tools/templates/course_reveal). The stored outputs are used as they are
(nbval checks they are what a fresh run prints), so this takes seconds. Every asset a deck needs
(reveal.js 5, MathJax 3 and require.js: the npm packages pinned in package.json, installed into
node_modules/ by `make slides`) is copied into OUT/assets/, so OUT is self-contained: copy it to
the lecture laptop and open OUT/index.html, no network needed. The pages to read are the site's
(`make site`, tools/build_site.py, in SITE/_build/html/): the index links each deck's page and
solutions there.
"""

import argparse
import copy
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

import jinja2
import nbformat
from markupsafe import Markup
from nbconvert import SlidesExporter
from nbconvert.filters.markdown import markdown2html
from traitlets.config import Config

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "tools" / "templates"

# (source under node_modules/, destination under OUT/assets/); directories are copied whole.
ASSETS = [
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js/dist/theme", "reveal.js/dist/theme"),
    ("reveal.js/plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("reveal.js/LICENSE", "reveal.js/LICENSE"),
    # The decks' MathJax bundle, and what it loads on demand (menu, accessibility, other outputs)
    # from the folders beside it; the other top-level bundles are alternatives, not needed.
    ("mathjax/es5/tex-svg-full.js", "mathjax/es5/tex-svg-full.js"),
    *((f"mathjax/es5/{d}", f"mathjax/es5/{d}") for d in ("a11y", "adaptors", "input", "output")),
    *((f"mathjax/es5/{d}", f"mathjax/es5/{d}") for d in ("sre", "ui")),
    ("mathjax/LICENSE", "mathjax/LICENSE"),
    ("requirejs/require.js", "require.js"),
]
INDEX_TITLE = "Dropout: lecture slides"
REVEAL_PREFIX = "assets/reveal.js"
URLS = {
    "require_js_url": "assets/require.js",
    "mathjax_url": "assets/mathjax/es5/tex-svg-full.js",
}


def chapters(src):
    """The chapter notebooks NN_*.ipynb of `src`, in reading order."""
    return sorted(Path(src).glob("[0-9]*.ipynb"))


def solutions_of(chapter):
    """The solutions notebook of `chapter` (solutions/NN_*.ipynb), or None."""
    number = chapter.name.split("_")[0]
    found = sorted((chapter.parent / "solutions").glob(f"{number}_*.ipynb"))
    return found[0] if found else None


def count_slides(nb):
    """Slides reveal.js shows for `nb`: one at the first visible cell, one per slide/subslide."""
    types = [c.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for c in nb.cells]
    visible = [i for i, t in enumerate(types) if t not in ("skip", "notes")]
    if not visible:
        return 0
    return 1 + sum(t in ("slide", "subslide") for t in types[visible[0] + 1 :])


HEADING = re.compile(r"^#{1,3} +(.+)$")


def deck_copy(nb):
    """`nb` as the deck shows it. A code cell with metadata `deck.output == "subslide"` (set by
    tools/deck_metadata.py fit where code and output together are taller than a slide) shows its
    output on the next sub-slide; a sub-slide without a heading of its own (a long output or a
    figure moved onto the next screen) repeats the heading it continues, as `running_title`."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and cell.metadata.get("deck", {}).get("output") == "subslide":
            output = copy.deepcopy(cell)
            output.metadata["slideshow"] = {"slide_type": "subslide"}
            output.metadata["transient"] = {"remove_source": True}
            output.id = f"{cell.id}-output"
            cell.outputs = []
            cells.append(output)
    nb.cells = cells
    heading = None
    for cell in nb.cells:
        first = cell.source.lstrip().split("\n", 1)[0]
        m = HEADING.match(first) if cell.cell_type == "markdown" else None
        if m:
            heading = re.sub(r"[`*]", "", m[1]).strip()
        elif cell.metadata.get("slideshow", {}).get("slide_type") == "subslide" and heading:
            cell.metadata["running_title"] = heading
    return nb


def planned_minutes(nb):
    """The minutes the speaker notes plan for the deck of `nb` (0 without notes)."""
    return sum(c.metadata.get("speaker_notes", {}).get("minutes", 0) for c in nb.cells)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def title_and_goal(nb):
    """The H1 title of the first cell and the sentence after it (plain text)."""
    lines = nb.cells[0].source.strip().splitlines() if nb.cells else []
    title = lines[0].lstrip("#").strip() if lines and lines[0].startswith("# ") else ""
    goal = " ".join(line.strip() for line in lines[1:] if line.strip())
    return title, goal


def sync_assets(node_modules, assets):
    """Copy the browser assets from `node_modules` to `assets`, skipping unchanged files."""
    node_modules = Path(node_modules)
    missing = [s for s, _ in ASSETS if not (node_modules / s).exists()]
    if missing:
        raise SystemExit(
            f"missing in {node_modules}: {', '.join(missing)}; run `npm ci` (or `make slides`)"
        )
    for source, dest in ASSETS:
        source, dest = node_modules / source, Path(assets) / dest
        files = sorted(p for p in source.rglob("*") if p.is_file()) if source.is_dir() else [source]
        for f in files:
            target = dest / f.relative_to(source) if source.is_dir() else dest
            st = f.stat()
            if (
                target.exists()
                and target.stat().st_size == st.st_size
                and (int(target.stat().st_mtime) == int(st.st_mtime))
            ):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target)


def exporter():
    """The deck exporter, configured for local assets and the course template."""
    c = Config()
    for key, url in URLS.items():
        setattr(c.SlidesExporter, key, url)
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]  # course_reveal/
    c.SlidesExporter.extra_template_paths = [str(TEMPLATES)]  # mathjax3.html.j2, shared with index
    c.SlidesExporter.template_name = "course_reveal"
    c.SlidesExporter.reveal_url_prefix = REVEAL_PREFIX
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.reveal_transition = "slide"
    c.SlidesExporter.reveal_number = "c/t"
    c.SlidesExporter.reveal_width = "1280"
    c.SlidesExporter.reveal_height = "720"
    # In [3]: prompts take a fifth of a slide's width and mean nothing to an audience.
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    return SlidesExporter(config=c)


def build(src, out, node_modules, site="build/site"):
    """Write OUT/assets, OUT/<name>.slides.html and OUT/index.html, whose links to the reading
    pages point into SITE/_build/html/ (where `make site` writes them)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sync_assets(node_modules, out / "assets")
    slides_exporter = exporter()
    pages = Path(os.path.relpath(Path(site) / "_build" / "html", out)).as_posix()
    entries = []
    sources = {}  # file -> SHA-256 of the notebook it was made from, for the staleness check
    for path in chapters(src):
        nb = nbformat.read(path, as_version=4)
        title, goal = title_and_goal(nb)
        sol = solutions_of(path)
        entries.append(
            {
                "path": path,
                "nb": nb,
                "title": title or path.stem,
                "goal": goal,
                "deck": f"{path.stem}.slides.html",
                "page": f"{pages}/{path.stem}.html",
                "solutions": f"{pages}/solutions/{sol.stem}.html" if sol else None,
                "slides": count_slides(deck_copy(nb)),
                "minutes": planned_minutes(nb),
            }
        )
    if not entries:
        raise SystemExit(f"no notebooks NN_*.ipynb in {src}")

    for e in entries:
        resources = {"metadata": {"name": e["title"]}}
        body, _ = slides_exporter.from_notebook_node(deck_copy(e["nb"]), resources=resources)
        (out / e["deck"]).write_text(body, encoding="utf-8")
        sources[e["deck"]] = sha256(e["path"])
        title = re.sub(r"^(\d+)\. ", r"\1\\. ", e["title"])  # "1. Title" is no list
        e["title_html"] = Markup(re.sub(r"^<p>|</p>\s*$", "", markdown2html(title)))
        # a citation in the goal, [Label](#References), links the References of the site page
        # (whose heading ids Sphinx writes in lower case)
        goal = re.sub(
            r'href="#([^"]*)"',
            lambda m, page=e["page"]: f'href="{page}#{m[1].lower()}"',
            markdown2html(e["goal"]),
        )
        e["goal_html"] = Markup(goal)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, keep_trailing_newline=True
    )
    index = env.get_template("index.html.j2").render(
        title=INDEX_TITLE, entries=entries, mathjax_url=URLS["mathjax_url"]
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    manifest = {"sources": sources, "slides": {e["deck"]: e["slides"] for e in entries}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    # decks of notebooks that were renamed or removed since the last build, and the reading pages
    # earlier versions of this script wrote here (the site has them now)
    made = {"index.html"} | {e["deck"] for e in entries}
    for stale in sorted(set(p.name for p in out.glob("*.html")) - made):
        (out / stale).unlink()
    return entries


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default="notebooks", help="folder of the NN_*.ipynb notebooks")
    parser.add_argument("--out", default="build/slides", help="output folder (self-contained)")
    parser.add_argument("--site", default="build/site", help="where `make site` puts the site")
    parser.add_argument("--node-modules", default=str(ROOT / "node_modules"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    entries = build(args.src, args.out, args.node_modules, args.site)
    for e in entries:
        print(f"{e['deck']}: {e['slides']} slides")
    index = Path(args.out) / "index.html"
    print(f"{len(entries)} decks in {time.perf_counter() - start:.1f} s; open {index}")


if __name__ == "__main__":
    sys.exit(main())
