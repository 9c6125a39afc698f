"""The reading site (`make site`, build/site/_build/html/) in a real browser: headless Chromium.

Checks that a reader gets the course: the home page and the sidebar list every notebook in reading
order (solutions after the chapters); the search page finds notebook 02 from a phrase of it; every
citation links to its entry in the page's bibliography; every page loads with no request outside
the built folder and no script error, typesets its formulas without a MathJax error, shows every
figure the notebook stores and links to its deck, solutions and .ipynb. Screenshots of a page with
math, a page with a citation and the search results go to build/site-screenshots/.

Chromium is the system's (Debian's `chromium`, or $CHROMIUM), driven by Playwright; no browser is
downloaded. Without Chromium or the built site these tests skip, except under CI (CI=true), where
they fail.
"""

import json
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import references as refs  # noqa: E402

# SITE_SRC / SITE_OUT / SLIDES_OUT: the overrides `make site` takes (defaults: the course's own).
SRC = ROOT / os.environ.get("SITE_SRC", "notebooks")
HTML = ROOT / os.environ.get("SITE_OUT", "build/site") / "_build" / "html"
SLIDES = ROOT / os.environ.get("SLIDES_OUT", "build/slides")
SHOTS = HTML.parent.parent.parent / "site-screenshots"
CHAPTERS = sorted(SRC.glob("[0-9]*.ipynb"))
SOLUTIONS = sorted(SRC.glob("solutions/[0-9]*.ipynb"))
PAGES = {f"{p.stem}.html": p for p in CHAPTERS} | {f"solutions/{p.stem}.html": p for p in SOLUTIONS}
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
QUERY = "inverted scaling"  # a phrase of notebook 02 (checked below)
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser(browser_on):
    return browser_on(HTML / "index.html", "make site")


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@contextmanager
def opened(browser, rel, query="", lands_on=None):
    """A tab on the built page `rel` (formulas typeset), and what it requested or raised.

    lands_on: a pattern of the URL that `rel` forwards to; its MathJax is the one waited for.
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = {"requests": [], "failed": [], "errors": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url[:200]}: {r.failure}"))
    page.on("pageerror", lambda e: seen["errors"].append(f"uncaught: {e}"))
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    try:
        page.goto((HTML / rel).as_uri() + query, wait_until="load", timeout=TIMEOUT_MS)
        if lands_on:  # else the forward can replace the page between the two waits below
            page.wait_for_url(lands_on, wait_until="load", timeout=TIMEOUT_MS)
        # the page's MathJax (a configuration object until its script has run) typesets once
        page.wait_for_function("!window.MathJax || !!(MathJax.startup && MathJax.startup.promise)")
        page.evaluate("window.MathJax ? MathJax.startup.promise.then(() => true) : true")
        yield page, seen
    finally:
        page.close()


def assert_offline(rel, seen):
    outside = [u[:200] for u in seen["requests"] if not u.startswith(LOCAL_SCHEMES)]
    outside += [u[:200] for u in seen["requests"] if u.startswith("file:") and not _inside(u)]
    assert not outside, f"{rel} requested something outside the built folder: {outside}"
    assert not seen["failed"], f"{rel}: files that failed to load: {seen['failed']}"
    assert not seen["errors"], f"{rel}: errors in the page: {seen['errors']}"


def _inside(url):
    return Path(unquote(urlparse(url).path)).resolve().is_relative_to(HTML.resolve())


def _markdown(nb):
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def _stored_figures(nb):
    return sum(
        any(k in out.get("data", {}) for k in ("image/svg+xml", "image/png", "image/jpeg"))
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for out in cell.get("outputs", [])
    )


# Everything the page shows a reader, measured once it has loaded.
INSPECT = """() => {
  const article = document.querySelector('article.bd-article');
  const text = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT, {acceptNode: n =>
    n.parentElement.closest('code, pre, mjx-container, script, style, .cell_output')
      ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
  while (walker.nextNode()) text.push(walker.currentNode.textContent);
  const figures = [...article.querySelectorAll('.cell_output img')];
  const cites = [...article.querySelectorAll('.bibtex-citation a')].map(a => {
    const target = document.getElementById(decodeURIComponent(a.hash.slice(1)));
    return {text: a.textContent, href: a.getAttribute('href'),
            entry: target && target.closest('.citation') ? target.textContent : null};
  });
  return {
    math: article.querySelectorAll('mjx-container').length,
    math_errors: [...document.querySelectorAll('mjx-merror, [data-mjx-error]')]
      .map(n => n.getAttribute('data-mjx-error') || n.textContent),
    raw_tex: text.join(' ').match(/\\$[^$\\s][^$]*\\$|\\\\\\(|\\\\\\[|\\\\begin\\{/g) || [],
    figures: figures.length,
    broken: figures.filter(img => !(img.complete && img.naturalWidth > 0)).length,
    cites,
    links: [...article.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
    outline: [...document.querySelectorAll('li.toc-entry a')].map(a => a.textContent.trim()),
    prev_next: [...document.querySelectorAll('.prev-next-area a')].map(a => a.getAttribute('href')),
  };
}"""


def test_there_are_notebooks():
    assert CHAPTERS, f"no NN_*.ipynb in {SRC}"


def test_home_lists_every_notebook(browser):
    expected = list(PAGES)  # chapters in reading order, then the solutions
    # index.html forwards to the home page
    with opened(browser, "index.html", lands_on=re.compile(r"intro\.html$")) as (page, seen):
        sidebar = page.eval_on_selector_all(
            "nav.bd-docs-nav a.reference", "els => els.map(a => a.getAttribute('href'))"
        )
        body = page.eval_on_selector_all(
            "article.bd-article a.reference", "els => els.map(a => a.getAttribute('href'))"
        )
    assert_offline("index.html", seen)
    assert [h for h in sidebar if h in expected] == expected, (
        f"the sidebar lists {sidebar}, not every notebook in reading order, solutions last"
    )
    chapters = [f"{p.stem}.html" for p in CHAPTERS]
    assert [h for h in body if h in chapters] == chapters, f"the home page links {body}"


def test_search_finds_notebook_02(browser, shots):
    nb02 = next(p for p in CHAPTERS if p.name.startswith("02_"))
    text = " ".join(_markdown(json.loads(nb02.read_text(encoding="utf-8")))).lower()
    assert QUERY in text, f"{QUERY!r} is no longer a phrase of {nb02.name}: pick another"
    with opened(browser, "search.html", "?q=" + QUERY.replace(" ", "+")) as (page, seen):
        page.wait_for_selector("#search-results ul.search li", timeout=TIMEOUT_MS)
        page.wait_for_function(  # Sphinx's search says so when it has gone through the index
            "/found/i.test(document.querySelector('#search-results .search-summary').textContent)",
            timeout=TIMEOUT_MS,
        )
        found = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(a => a.getAttribute('href'))"
        )
        page.screenshot(path=shots / "search.png")
    assert_offline("search.html", seen)
    print(f"\nsearch {QUERY!r}: {len(found)} results, screenshot {shots / 'search.png'}")
    assert any(h.split("?")[0].split("#")[0] == f"{nb02.stem}.html" for h in found), (
        f"searching {QUERY!r} does not find {nb02.stem}.html: {found}"
    )


@pytest.mark.parametrize("rel", ["intro.html", *PAGES], ids=lambda r: r.removesuffix(".html"))
def test_page(rel, browser):
    with opened(browser, rel) as (page, seen):
        report = page.evaluate(INSPECT)
    assert_offline(rel, seen)
    assert not report["math_errors"], f"{rel}: MathJax errors: {report['math_errors']}"
    assert not report["raw_tex"], f"{rel}: formulas left as raw TeX: {report['raw_tex'][:5]}"
    assert not report["broken"], f"{rel}: {report['broken']} figures do not show"
    if rel not in PAGES:
        return
    nb = json.loads(PAGES[rel].read_text(encoding="utf-8"))
    print(
        f"\n{rel}: {report['math']} formulas, {report['figures']} figures, "
        f"{len(report['cites'])} citations"
    )
    assert report["figures"] == _stored_figures(nb), (
        f"{rel} shows {report['figures']} figures, the notebook stores {_stored_figures(nb)}"
    )
    has_math = any(re.search(r"\$[^$]+\$", t) for t in _markdown(nb))
    assert report["math"] or not has_math, f"{rel}: the notebook has formulas, the page none"
    assert len(report["outline"]) >= 2, f"{rel}: no on-page outline"
    assert report["prev_next"], f"{rel}: no previous/next links"
    cited = [k for t in _markdown(nb) for k in refs.cited(t)]
    assert len(report["cites"]) == len(cited), (
        f"{rel} shows {len(report['cites'])} citations, the notebook makes {len(cited)}"
    )
    bib = refs.bibliography()
    for cite, key in zip(report["cites"], cited):  # in the order the notebook makes them
        assert cite["text"] == refs.label(bib[key]), f"{rel}: {cite} for {key}"
        assert cite["entry"] is not None, f"{rel}: {cite['text']} links to no entry ({cite})"
        entry = " ".join(cite["entry"].split())
        assert refs.title(bib[key]) in entry, f"{rel}: {cite['text']} links to {entry!r}"
    # its deck, its solutions (or, from solutions, its chapter), its notebook
    stem = PAGES[rel].stem
    here = (HTML / rel).parent
    targets = [(here / h.split("#")[0]).resolve() for h in report["links"] if "://" not in h]
    if rel.startswith("solutions/"):
        wanted = [HTML / f"{stem.removesuffix('_solutions')}.html"]
    else:
        wanted = [SLIDES / f"{stem}.slides.html"]
        wanted += [
            HTML / "solutions" / f"{s.stem}.html" for s in SOLUTIONS if s.name[:3] == stem[:3]
        ]
    wanted.append(HTML / "_sources" / Path(rel).with_suffix(".ipynb"))
    for target in wanted:
        assert target.resolve() in targets, f"{rel} does not link {target}"
        assert target.exists(), f"{rel} links {target}, which is missing (`make slides`?)"


def test_screenshots(browser, shots):
    """A page with math and a page whose citation was followed to its entry, for a person."""
    with opened(browser, f"{CHAPTERS[2].stem}.html") as (page, seen):
        page.locator("mjx-container").first.scroll_into_view_if_needed()
        page.screenshot(path=shots / "math.png")
    assert_offline("math page", seen)
    cited = [p for p in CHAPTERS if refs.notebook_keys(json.loads(p.read_text(encoding="utf-8")))]
    with opened(browser, f"{cited[-1].stem}.html") as (page, seen):
        link = page.locator(".bibtex-citation a").first
        link.scroll_into_view_if_needed()
        page.screenshot(path=shots / "citation.png")
        link.click()
        page.wait_for_timeout(300)
        target = page.evaluate("decodeURIComponent(location.hash.slice(1))")
        entry = page.evaluate(f"document.getElementById({json.dumps(target)}).className")
        page.screenshot(path=shots / "citation-entry.png")
    assert_offline("citation page", seen)
    assert "citation" in entry, f"the citation link went to #{target} ({entry}), not an entry"
    print(f"\nscreenshots in {shots}: math.png, citation.png, citation-entry.png, search.png")
