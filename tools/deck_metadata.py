"""Write the lecture decks' cell metadata into the chapter notebooks: speaker notes and splits.

    python tools/deck_metadata.py notes   # tools/speaker_notes.toml -> metadata.speaker_notes
    python tools/deck_metadata.py fit     # measure the built decks, split what is too tall

`notes` makes a '## Setup' slide 'skip' (its code is skipped: it would show a bare heading) and
copies each note of tools/speaker_notes.toml onto the markdown cell that starts its
slide, found by the cell's id, else by its heading (so a re-executed notebook keeps working), and
fails naming every section slide that has no note or every note that matches no cell.

`fit` opens each deck of build/slides (run `make slides` first) in headless Chromium at 1280x720,
measures every cell, and where a slide runs past the bottom edge makes the first cell that does not
fit start a sub-slide (`slideshow.slide_type = "subslide"`, which RISE understands too). Run it,
then `make slides` again, until it changes nothing; a single cell taller than a slide is reported,
since no split can help it.

Only cell metadata changes. Both edits hold the notebooks' lock (the folder .nb-lock, see the
README) for one quick pass, and write the JSON back as nbformat does.
"""

import argparse
import json
import re
import sys
import time
import tomllib
from contextlib import contextmanager, nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "tools" / "speaker_notes.toml"
LOCK = ROOT / ".nb-lock"
HEIGHT = 720  # the decks' slide height (tools/build_slides.py)
SLACK = 24  # px kept free below the last cell, so a re-run's slightly longer output still fits
TITLE = 40  # px of the running title a new sub-slide starts with
NOTE_KEYS = {"heading", "id", "say", "point", "ask", "minutes"}


def chapters(src):
    return sorted(Path(src).glob("[0-9]*.ipynb"))


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def first_line(cell):
    text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return text.strip().split("\n", 1)[0].strip()


def section_cells(nb):
    """Markdown cells that start a '## ' (or title '# ') slide: the slides that get notes."""
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "markdown"
        and slide_type(c) == "slide"
        and re.match(r"^##? ", first_line(c))
    ]


@contextmanager
def notebooks_lock(wait=30, tries=20):
    """The shared notebooks' lock: mkdir .nb-lock (retried), always removed afterwards."""
    for _ in range(tries):
        try:
            LOCK.mkdir()
            break
        except FileExistsError:
            print(f"{LOCK} exists: waiting {wait} s", flush=True)
            time.sleep(wait)
    else:
        raise SystemExit(f"{LOCK} held too long; try again later")
    try:
        yield
    finally:
        LOCK.rmdir()


def read(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path, nb):
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def load_notes(path=NOTES):
    """{notebook stem: [note, ...]} from the TOML file, each note checked for its keys."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    for stem, notes in data.items():
        for note in notes:
            missing = NOTE_KEYS - {"id"} - set(note)
            unknown = set(note) - NOTE_KEYS
            if missing or unknown:
                raise SystemExit(
                    f"{path}: note {note.get('heading')!r} of {stem}: "
                    f"missing {sorted(missing)}, unknown {sorted(unknown)}"
                )
    return data


def apply_notes(nb, notes):
    """Put each note on its cell; return (changed, problems)."""
    by_id = {c.get("id"): c for c in nb["cells"]}
    by_heading = {first_line(c): c for c in section_cells(nb)}
    changed, problems, placed = False, [], set()
    for note in notes:
        cell = by_id.get(note.get("id")) or by_heading.get(note["heading"])
        if cell is None:
            problems.append(f"no cell with id {note.get('id')} or heading {note['heading']!r}")
            continue
        value = {k: note[k] for k in ("say", "point", "ask", "minutes")}
        if cell["metadata"].get("speaker_notes") != value:
            cell["metadata"]["speaker_notes"] = value
            changed = True
        placed.add(id(cell))
    for cell in section_cells(nb):
        if id(cell) not in placed:
            problems.append(f"section slide {first_line(cell)!r} has no note")
    return changed, problems


def skip_setup(nb):
    """A '## Setup' heading whose code is skipped would be a slide with nothing but its heading."""
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown" and first_line(cell) == "## Setup":
            if slide_type(cell) != "skip":
                cell["metadata"].setdefault("slideshow", {})["slide_type"] = "skip"
                changed = True
    return changed


def cmd_notes(src):
    notes = load_notes()
    paths = {p.stem: p for p in chapters(src)}
    unknown = sorted(set(notes) - set(paths))
    problems = [f"{NOTES.name}: no notebook {s}.ipynb" for s in unknown]
    with notebooks_lock():
        for stem, path in paths.items():
            nb = read(path)
            skipped = skip_setup(nb)
            changed, found = apply_notes(nb, notes.get(stem, []))
            changed = changed or skipped
            problems += [f"{path.name}: {p}" for p in found]
            if changed:
                write(path, nb)
            minutes = sum(n["minutes"] for n in notes.get(stem, []))
            print(f"{path.name}: {len(notes.get(stem, []))} notes, {minutes} min", flush=True)
    if problems:
        raise SystemExit("\n".join(problems))


# Per slide: the top and height of each cell (its id), in the slide's own 1280x720 coordinates.
MEASURE = """(async () => {
  Reveal.configure({transition: 'none'});
  const out = [];
  for (const s of Reveal.getSlides()) {
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v);
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const top = s.getBoundingClientRect().top, scale = Reveal.getScale();
    out.push({h: idx.h, v: idx.v, height: s.scrollHeight, cells: [...s.querySelectorAll('.jp-Cell')]
      .map(c => ({id: c.id.replace('cell-id=', ''),
                  top: (c.getBoundingClientRect().top - top) / scale,
                  bottom: (c.getBoundingClientRect().bottom - top) / scale,
                  output_top: c.querySelector('.jp-Cell-inputWrapper') &&
                              c.querySelector('.jp-OutputArea-output') ?
                    (c.querySelector('.jp-Cell-outputWrapper').getBoundingClientRect().top - top)
                    / scale : null}))});
  }
  return out;
})()"""


def plan_splits(slides, limit=HEIGHT - SLACK):
    """Cells that must start a sub-slide, code cells whose output must move to the next one, and
    cells too tall for any slide (ids)."""
    splits, outputs, too_tall = [], [], []
    for s in slides:
        if s["height"] <= HEIGHT:
            continue
        start = 0.0  # the top of the current (new) sub-slide, in this slide's coordinates
        for i, cell in enumerate(s["cells"]):
            if cell["bottom"] - start <= limit:
                continue
            has_output = cell["output_top"] is not None
            whole_fits = cell["bottom"] - cell["top"] + TITLE <= limit
            if i > 0 and cell["top"] > start and (whole_fits or not has_output):
                splits.append(cell["id"])  # the cell, code and output together, on a new one
                start = cell["top"] - TITLE
            elif has_output and cell["output_top"] - start <= limit:
                outputs.append(cell["id"])  # its code stays here, its output goes below
                start = cell["output_top"] - TITLE
            elif has_output and i > 0 and cell["top"] > start:
                splits.append(cell["id"])  # code on a sub-slide of its own, output on the next
                outputs.append(cell["id"])
                start = cell["output_top"] - TITLE
            if cell["bottom"] - start > limit:
                too_tall.append((s["h"], s["v"], cell["id"]))
    return splits, outputs, too_tall


def cmd_fit(src, site, dry_run=False):
    sys.path.insert(0, str(ROOT / "tools"))
    from build_handout import chromium_path, launch, open_deck
    from playwright.sync_api import sync_playwright

    plans = {}
    with sync_playwright() as p:
        browser = launch(p, chromium_path())
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        for path in chapters(src):
            deck = Path(site) / f"{path.stem}.slides.html"
            open_deck(page, deck.resolve().as_uri())
            plans[path] = plan_splits(page.evaluate(MEASURE))
        browser.close()
    with notebooks_lock() if not dry_run else nullcontext():
        for path, (splits, outputs, too_tall) in plans.items():
            if (splits or outputs) and not dry_run:
                nb = read(path)
                for cell in nb["cells"]:
                    if cell.get("id") in splits:
                        cell["metadata"].setdefault("slideshow", {})["slide_type"] = "subslide"
                    if cell.get("id") in outputs:
                        cell["metadata"].setdefault("deck", {})["output"] = "subslide"
                write(path, nb)
            print(
                f"{path.name}: {len(splits)} new sub-slides {splits}, "
                f"{len(outputs)} outputs moved to one {outputs}",
                flush=True,
            )
            for h, v, cell_id in too_tall:
                print(f"  slide {h}/{v}: cell {cell_id} alone is taller than the slide")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["notes", "fit"])
    parser.add_argument("--src", default="notebooks", help="folder of the NN_*.ipynb notebooks")
    parser.add_argument("--site", default="build/slides", help="where `make slides` put the decks")
    parser.add_argument("--dry-run", action="store_true", help="fit: only print the splits")
    args = parser.parse_args(argv)
    if args.command == "notes":
        cmd_notes(args.src)
    else:
        cmd_fit(args.src, args.site, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
