"""The built lecture decks (`make slides`, build/slides/) in a real browser: headless Chromium.

For each chapter notebook the deck must start (reveal.js gives `.reveal` the class `ready`), show
as many slides as the notebook's `slideshow` metadata asks for, typeset every formula (no raw `$`
left, no MathJax errors), show every figure the notebook stores, keep code inside the slide at a
projector-size font, and make no request other than to its own local files. For a lecture:
every slide fits the 1280x720 screen after reveal.js's scaling (a clicker cannot scroll), has a
title (a heading, or the running title of the section it continues), keeps its content clear of
the navigation controls and the slide number, shows syntax colours at 7:1 or better on the code
background, and each section slide has speaker notes. One slide per deck (the first with a figure,
else with a formula) is saved as build/slides-screenshots/<name>.png.

Chromium is the system's (Debian's `chromium`, or $CHROMIUM), driven by Playwright; no browser
is downloaded. Without Chromium these tests skip, except under CI (CI=true), where they fail.
"""

import hashlib
import json
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_handout  # noqa: E402  (tools/ is no package)
import build_slides  # noqa: E402
import deck_metadata  # noqa: E402

# SLIDES_SRC / SLIDES_OUT: the same overrides as `make slides` takes (defaults: the course's own).
SRC = ROOT / os.environ.get("SLIDES_SRC", "notebooks")
NOTEBOOKS = sorted(SRC.glob("[0-9]*.ipynb"))
SOLUTIONS = sorted(SRC.glob("solutions/[0-9]*.ipynb"))
SITE = ROOT / os.environ.get("SLIDES_OUT", "build/slides")
# where the index links the reading pages (`make site`; SITE_OUT as it takes)
SITE_HTML = ROOT / os.environ.get("SITE_OUT", "build/site") / "_build" / "html"
SHOTS = SITE.parent / "slides-screenshots"
WIDTH, HEIGHT = 1280, 720  # the decks' slide size (tools/build_slides.py) and the window
MIN_CODE_PX = 18  # code font size on the 1280x720 slide
MIN_CONTRAST = 7.0  # WCAG AAA for text: syntax colours against the code background
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


def _rel(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


# ---------------------------------------------------------------- what the notebook asks for


def slide_types(nb):
    return [c.get("metadata", {}).get("slideshow", {}).get("slide_type", "-") for c in nb.cells]


def expected_slides(nb):
    """nbconvert starts a slide at the first visible cell, then one at each slide/subslide cell."""
    types = slide_types(nb)
    visible = [i for i, t in enumerate(types) if t not in ("skip", "notes")]
    if not visible:
        return 0
    return 1 + sum(t in ("slide", "subslide") for t in types[visible[0] + 1 :])


def shown_cells(nb):
    return [c for c, t in zip(nb.cells, slide_types(nb)) if t not in ("skip", "notes")]


MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]|\\begin\{", re.S)


def has_math(cells):
    """Whether a markdown cell has a formula outside code spans and blocks."""
    for cell in cells:
        if cell.cell_type == "markdown":
            text = re.sub(r"```.*?```|`[^`\n]*`", "", cell.source, flags=re.S)
            if MATH.search(text):
                return True
    return False


def expected_figures(cells):
    """Image outputs (SVG, PNG, JPEG) of the code cells."""
    return sum(
        any(k in out.get("data", {}) for k in ("image/svg+xml", "image/png", "image/jpeg"))
        for cell in cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
    )


# ---------------------------------------------------------------- the browser


class Recorder:
    """Every request, failed load, console error and uncaught exception of one tab."""

    def __init__(self, page):
        self.requests, self.failed, self.errors = [], [], []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url[:200]}: {r.failure}"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(f"console.error: {m.text}"),
        )

    def assert_offline(self, path):
        network = [u[:200] for u in self.requests if not u.startswith(LOCAL_SCHEMES)]
        assert not network, f"{_rel(path)} requested the network: {network}"
        assert not self.failed, f"{_rel(path)}: local files failed to load: {self.failed}"
        assert not self.errors, f"{_rel(path)}: errors in the page: {self.errors}"


@contextmanager
def new_page(browser):
    """A 1280x720 tab and its Recorder; closed afterwards."""
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    try:
        yield page, Recorder(page)
    finally:
        page.close()


# ---------------------------------------------------------------- what the deck shows

# Text of rendered markdown (outside code and typeset math) that still looks like TeX.
UNTYPESET = """const untypeset = root => {
  const raw = /\\$[^$\\s][^$]*\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/;
  const found = [];
  for (const md of root.querySelectorAll('.jp-RenderedMarkdown')) {
    const walker = document.createTreeWalker(md, NodeFilter.SHOW_TEXT, {acceptNode: n =>
      n.parentElement.closest('code, pre, mjx-container, script, style')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
    while (walker.nextNode()) {
      if (raw.test(walker.currentNode.textContent)) {
        found.push(walker.currentNode.textContent.trim().slice(0, 80));
      }
    }
  }
  return found;
};
// MathJax's messages for formulas it could not typeset (SVG and CHTML output)
const mathErrors = root => [...root.querySelectorAll('[data-mml-node="merror"], mjx-merror')]
  .map(n => n.getAttribute('data-mjx-error') || n.textContent);
"""

# WCAG contrast ratio of two CSS colours 'rgb(r, g, b)'.
CONTRAST = """
const luminance = css => {
  const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(v => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const overlaps = (a, b) => a.width > 0 && a.height > 0 && b.width > 0 && b.height > 0 &&
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
"""

# Walk every slide (no transition), measuring what a projector would show. Heights are in the
# slide's own 1280x720 coordinates (before reveal.js scales the slide to the window).
INSPECT_DECK = (
    "(async () => {"
    + UNTYPESET
    + CONTRAST
    + """
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const slides = Reveal.getSlides();
  const report = {total: Reveal.getTotalSlides(), sections: slides.length, slides: []};
  // what the audience sees of the navigation: the enabled arrows and the slide number
  const chrome = () => [...document.querySelectorAll(
      '.reveal .controls button.enabled, .reveal .slide-number')]
    .filter(el => getComputedStyle(el).display !== 'none' && el.offsetParent !== null)
    .map(el => el.getBoundingClientRect());
  for (let i = 0; i < slides.length; i++) {
    const s = slides[i];
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v);
    await frame();
    const figures = [...s.querySelectorAll('.jp-OutputArea-output img')];
    const code = [...s.querySelectorAll('.jp-InputArea-editor pre')];
    const outputs = [...s.querySelectorAll('.jp-OutputArea-output pre')];
    const title = s.querySelector('h1, h2, h3, .running-title');
    const content = [...s.querySelectorAll(
        'p, li, pre, img, table, mjx-container, h1, h2, h3, .jp-InputArea-editor')]
      .filter(el => !el.closest('aside'));
    const covered = chrome();
    const clash = content.filter(el => covered.some(r => overlaps(r, el.getBoundingClientRect())));
    const low = [];
    for (const pre of code) {
      const bg = getComputedStyle(pre.closest('.jp-InputArea-editor')).backgroundColor;
      for (const span of [pre, ...pre.querySelectorAll('span')]) {
        if (!span.textContent.trim()) continue;
        const ratio = contrast(getComputedStyle(span).color, bg);
        if (ratio < %(min_contrast)s) {
          low.push(`${span.className || 'text'} ${getComputedStyle(span).color} on ${bg}: ` +
                   ratio.toFixed(2));
        }
      }
    }
    const shown = el => !el.closest('aside') && !el.matches('h1, h2, h3, .running-title');
    report.slides.push({
      h: idx.h, v: idx.v,
      title: title ? title.textContent.replace(/\\u00b6/g, '').trim().slice(0, 60) : null,
      height: s.scrollHeight,
      notes: !!s.querySelector('aside.notes'),
      empty: ![...s.querySelectorAll('p, li, pre, img, table, mjx-container')].some(shown),
      covered: clash.map(el => el.textContent.trim().slice(0, 40) || el.tagName),
      low_contrast: [...new Set(low)],
      math: s.querySelectorAll('mjx-container').length,
      math_errors: mathErrors(s),
      untypeset: untypeset(s),
      figures: figures.length,
      broken_figures: figures.filter(img => !(img.complete && img.naturalWidth > 0)).length,
      small_figures: figures.filter(img => img.getBoundingClientRect().height < 50).length,
      code_px: code.map(pre => parseFloat(getComputedStyle(pre).fontSize)),
      code_overflow: code.filter(pre => pre.scrollWidth > pre.clientWidth + 1)
                         .map(pre => pre.textContent.split('\\n')[0].slice(0, 60)),
      wide_outputs: outputs.filter(pre => pre.scrollWidth > pre.clientWidth + 1).length,
    });
  }
  Reveal.slide(0, 0);
  return report;
})()"""
    % {"min_contrast": MIN_CONTRAST}
)


@pytest.fixture(scope="module")
def browser(browser_on):
    b = browser_on(SITE / "index.html", "make slides")
    print(f"\nChromium {b.version}")
    return b


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb to make decks from"


def test_index_links_every_deck_and_its_site_pages(unavailable):
    """index.html links each deck, then its page and solutions on the reading site (`make site`),
    in reading order; the site's links resolve once the site is built."""
    if not (SITE / "index.html").exists():
        unavailable(f"{_rel(SITE)}/index.html is missing: run `make slides` first")
    index = (SITE / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    targets = [(SITE / link.split("#")[0]).resolve() for link in links]
    expected = []
    for nb in NOTEBOOKS:
        expected += [SITE / f"{nb.stem}.slides.html", SITE_HTML / f"{nb.stem}.html"]
        solutions = [s for s in SOLUTIONS if s.name[:3] == nb.name[:3]]  # NN_
        expected += [SITE_HTML / "solutions" / f"{s.stem}.html" for s in solutions]
    expected = [p.resolve() for p in expected]
    in_order = [t for link, t in zip(links, targets) if "#" not in link and t in expected]
    assert in_order == expected, (
        "index.html must link each deck, its site page and its solutions, in reading order"
    )
    decks = [(link, t) for link, t in zip(links, targets) if t.is_relative_to(SITE.resolve())]
    for link, target in decks:
        assert target.exists(), f"index.html links {link}, not in {_rel(SITE)}"
    if (SITE_HTML / "index.html").exists():
        for link, target in zip(links, targets):
            assert target.exists(), f"index.html links {link}, which `make site` did not make"
            anchor = link.partition("#")[2]
            if anchor:
                assert f'id="{anchor}"' in target.read_text(encoding="utf-8"), (
                    f"index.html links {link}: {_rel(target)} has no id {anchor!r}"
                )
    planned = re.findall(r"(\d+) min planned", index)
    assert len(planned) == len(NOTEBOOKS), "index.html gives each deck's planned minutes"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_speaker_notes_applied(notebook):
    """tools/speaker_notes.toml has a note for every section slide, and the notebook carries it."""
    nb = deck_metadata.read(notebook)
    changed, problems = deck_metadata.apply_notes(
        nb, deck_metadata.load_notes().get(notebook.stem, [])
    )
    assert not problems, f"{notebook.name}: {problems}"
    assert not changed, (
        f"{notebook.name}'s notes differ from tools/speaker_notes.toml: "
        "run `python tools/deck_metadata.py notes`"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_deck(notebook, browser, shots):
    deck = SITE / f"{notebook.stem}.slides.html"
    _assert_fresh(deck, notebook)
    nb = nbformat.read(notebook, as_version=4)
    with new_page(browser) as (page, rec):
        build_handout.open_deck(page, deck.as_uri())
        report = page.evaluate(INSPECT_DECK)
        slides = report["slides"]
        # the screenshot: the first slide with a figure, else with math, else the title
        pick = next((s for s in slides if s["figures"]), None) or next(
            (s for s in slides if s["math"]), slides[0]
        )
        page.evaluate(f"Reveal.slide({pick['h']}, {pick['v']})")
        page.wait_for_timeout(300)
        shot = shots / f"{notebook.stem}.png"
        page.screenshot(path=shot)

    where = lambda s: f"slide {s['h']}/{s['v']} ({s['title']!r})"  # noqa: E731
    math = sum(s["math"] for s in slides)
    figures = sum(s["figures"] for s in slides)
    tallest = max(slides, key=lambda s: s["height"])
    print(
        f"\n{deck.name}: {report['total']} slides, tallest {tallest['height']} px "
        f"({where(tallest)}), {math} formulas, {figures} figures; "
        f"screenshot {_rel(shot)} (slide {pick['h']}/{pick['v']})"
    )
    rec.assert_offline(deck)

    expected = expected_slides(build_slides.deck_copy(nb))  # with outputs moved to a sub-slide
    total, sections = report["total"], report["sections"]
    assert total == sections == expected, (
        f"reveal.js shows {total} slides ({sections} sections), the notebook's slideshow "
        f"metadata asks for {expected}"
    )
    tall = [f"{where(s)}: {s['height']} px" for s in slides if s["height"] > HEIGHT]
    assert not tall, (
        f"{deck.name}: slides taller than the {WIDTH}x{HEIGHT} screen (a clicker cannot scroll; "
        f"start a sub-slide before the long output or figure): {tall}"
    )
    untitled = [where(s) for s in slides if not s["title"]]
    assert not untitled, f"{deck.name}: slides without a title: {untitled}"
    empty = [where(s) for s in slides if s["empty"]]
    assert not empty, f"{deck.name}: slides with nothing but a heading: {empty}"
    covered = [f"{where(s)}: {s['covered']}" for s in slides if s["covered"]]
    assert not covered, f"{deck.name}: content under the controls or slide number: {covered}"
    low = [f"{where(s)}: {s['low_contrast']}" for s in slides if s["low_contrast"]]
    assert not low, f"{deck.name}: syntax colours under {MIN_CONTRAST}:1 contrast: {low}"
    silent = [where(s) for s in slides if s["v"] == 0 and not s["notes"]]
    assert not silent, f"{deck.name}: section slides without speaker notes: {silent}"

    expect_math = has_math(shown_cells(nb))
    assert math > 0 or not expect_math, "the notebook has formulas but the deck typeset none"
    errors = [(s["h"], s["v"], e) for s in slides for e in s["math_errors"]]
    assert not errors, f"MathJax errors (slide h, v, message): {errors}"
    raw = [(s["h"], s["v"], t) for s in slides for t in s["untypeset"]]
    assert not raw, f"formulas left as raw TeX: {raw}"

    stored = expected_figures(shown_cells(nb))
    assert figures == stored, (
        f"the deck shows {figures} figures, the notebook's shown cells store {stored}"
    )
    broken = [(s["h"], s["v"]) for s in slides if s["broken_figures"] or s["small_figures"]]
    assert not broken, f"figures that do not show (or show tiny) on slides {broken}"

    code_px = [px for s in slides for px in s["code_px"]]
    assert all(px >= MIN_CODE_PX for px in code_px), f"code font under {MIN_CODE_PX}px: {code_px}"
    wide = [(s["h"], s["v"], line) for s in slides for line in s["code_overflow"]]
    assert not wide, f"code wider than the slide (shorten the lines): {wide}"
    wide_out = [where(s) for s in slides if s["wide_outputs"]]
    assert not wide_out, f"{deck.name}: outputs wider than the slide: {wide_out}"


def test_handout_one_page_per_slide(browser, tmp_path):
    """`make handout` prints a deck to exactly one PDF page per slide."""
    deck = SITE / f"{NOTEBOOKS[0].stem}.slides.html"
    _assert_fresh(deck, NOTEBOOKS[0])
    with new_page(browser) as (page, rec):
        pages, slides = build_handout.print_deck(page, deck, tmp_path / "handout.pdf")
    rec.assert_offline(deck)
    nb = build_slides.deck_copy(nbformat.read(NOTEBOOKS[0], as_version=4))
    assert pages == slides == expected_slides(nb), (
        f"{deck.name} printed to {pages} pages for {slides} slides"
    )


def _assert_fresh(built, notebook):
    """`built` exists and was made from the notebook as it is now (build/slides/manifest.json)."""
    assert built.exists(), f"{_rel(built)} is missing: run `make slides`"
    manifest_path = SITE / "manifest.json"
    assert manifest_path.exists(), f"{_rel(manifest_path)} is missing: run `make slides`"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    made_from = manifest["sources"].get(built.name)
    now = hashlib.sha256(notebook.read_bytes()).hexdigest()
    fresh = made_from == now
    assert fresh, f"{_rel(notebook)} changed since `make slides` made {built.name}"


def _load(page, path):
    """Open a local file and wait for MathJax's first pass (when the page has MathJax)."""
    page.goto(path.as_uri(), timeout=build_handout.TIMEOUT_MS)
    page.evaluate("window.MathJax ? MathJax.startup.promise.then(() => true) : true")


def test_index_offline(browser):
    with new_page(browser) as (page, rec):
        _load(page, SITE / "index.html")
        raw = page.evaluate(
            "(() => {" + UNTYPESET.replace(".jp-RenderedMarkdown", ".goal") + "\n"
            "return untypeset(document); })()"
        )
    rec.assert_offline(SITE / "index.html")
    assert not raw, f"formulas left as raw TeX in index.html: {raw}"
