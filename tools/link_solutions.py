"""Put a link to each chapter's solutions notebook right under its `## Exercises` heading.

    python tools/link_solutions.py [notebooks ...]

Idempotent: a chapter whose exercises already carry the link is left as it is; an older
`Solutions: `solutions/...`` line (a path in code, not a link) is replaced. The link is relative
(`solutions/NN_..._solutions.ipynb`), so it works in JupyterLab and, through MyST, on the reading
site (`make site`). Takes the shared notebook lock (.nb-lock) while it writes.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / ".nb-lock"
HEADING = "## Exercises"


def solutions_link(chapter):
    """The Markdown line that links `chapter`'s solutions notebook."""
    rel = f"solutions/{chapter.stem}_solutions.ipynb"
    if not (chapter.parent / rel).exists():
        raise SystemExit(f"{chapter}: no {rel}; write the solutions notebook first")
    return f"Worked solutions: [`{rel}`]({rel})."


def with_link(source, line):
    """`source` of the Exercises cell with `line` right under the heading (and no old path line)."""
    if f"]({line.split('](')[1]}" in source:
        return source
    kept = [s for s in source.splitlines() if not re.fullmatch(r"Solutions: `solutions/\S+`\.", s)]
    text = "\n".join(kept).rstrip()
    head, rest = text.split(HEADING, 1)
    return f"{head}{HEADING}\n\n{line}\n\n{rest.lstrip()}"


def link(path):
    """Add the link to the notebook at `path`; return whether it changed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "markdown"
             and any(s.strip() == HEADING for s in "".join(c["source"]).splitlines())]
    if len(cells) != 1:
        raise SystemExit(f"{path}: {len(cells)} cells with a '{HEADING}' heading, expected one")
    old = "".join(cells[0]["source"])
    new = with_link(old, solutions_link(path))
    if new == old:
        return False
    cells[0]["source"] = new.splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def main(paths):
    for _ in range(8):
        try:
            LOCK.mkdir()
            break
        except FileExistsError:
            time.sleep(15)
    else:
        raise SystemExit(f"{LOCK} is held; try again later")
    try:
        for path in paths:
            print(f"{path}: {'linked' if link(path) else 'already linked'}")
    finally:
        os.rmdir(LOCK)


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")))
