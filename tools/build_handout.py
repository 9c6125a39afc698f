"""Print every deck that `make slides` built to a PDF handout, one page per slide.

    python tools/build_handout.py [--slides build/slides] [--out build/handout]

Headless Chromium (Debian's `chromium`, or the binary in $CHROMIUM), driven by Playwright, opens
each OUT/NN_*.slides.html with reveal.js's `?print-pdf` layout and prints it: every slide is one
1280x720 page (the decks are built so that each slide fits one; `make browser` checks it), and a
sub-slide that continues a section repeats the section's heading, so every page has its title.
Only the local files are read: no network is needed.
"""

import argparse
import os
import re
import shutil
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_MS = 180_000  # for one deck to load, start and typeset (a busy 2-core machine is slow)
# reveal.js has started and MathJax 3 has finished its first typesetting pass
READY = (
    "!!window.Reveal && document.querySelector('.reveal').classList.contains('ready')"
    " && !!window.MathJax && !!MathJax.startup && !!MathJax.startup.promise"
)


def chromium_path():
    """The Chromium binary: $CHROMIUM, else the first of chromium/chromium-browser on PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def launch(playwright, binary):
    """Headless Chromium from `binary` (Playwright downloads no browser of its own)."""
    return playwright.chromium.launch(
        executable_path=binary,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


def open_deck(page, url):
    """Load a deck and wait until reveal.js is ready and every formula is typeset."""
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_function(READY, timeout=TIMEOUT_MS)
    page.evaluate("MathJax.startup.promise.then(() => true)")


def pdf_pages(pdf):
    """The number of pages of a PDF that Chromium wrote (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", Path(pdf).read_bytes()))


def print_deck(page, deck, pdf):
    """Print `deck` to `pdf`; return (pages, slides)."""
    open_deck(page, deck.resolve().as_uri() + "?print-pdf")
    page.wait_for_function("document.querySelectorAll('.pdf-page').length > 0", timeout=TIMEOUT_MS)
    slides = page.evaluate("Reveal.getTotalSlides()")
    page.pdf(path=str(pdf), print_background=True, prefer_css_page_size=True)
    return pdf_pages(pdf), slides


def build(slides_dir, out):
    """One PDF per deck of `slides_dir` in `out`; fails when a page count is not the slide count."""
    slides_dir, out = Path(slides_dir), Path(out)
    decks = sorted(slides_dir.glob("[0-9]*.slides.html"))
    if not decks:
        raise SystemExit(f"no decks NN_*.slides.html in {slides_dir}: run `make slides` first")
    binary = chromium_path()
    if binary is None:
        raise SystemExit("Chromium not found: apt-get install chromium, or set CHROMIUM=/path")
    out.mkdir(parents=True, exist_ok=True)
    problems = []
    with sync_playwright() as p:
        browser = launch(p, binary)
        page = browser.new_page()
        for deck in decks:
            pdf = out / deck.name.replace(".slides.html", ".pdf")
            pages, slides = print_deck(page, deck, pdf)
            print(f"{pdf}: {pages} pages for {slides} slides")
            if pages != slides:
                problems.append(f"{pdf.name}: {pages} pages for {slides} slides")
        browser.close()
    if problems:
        raise SystemExit("a slide spills onto a second page: " + "; ".join(problems))
    return decks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slides", default="build/slides", help="folder `make slides` wrote")
    parser.add_argument("--out", default="build/handout", help="folder for the PDFs")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    decks = build(args.slides, args.out)
    print(f"{len(decks)} handouts in {time.perf_counter() - start:.1f} s in {args.out}")


if __name__ == "__main__":
    sys.exit(main())
