"""The built lecture decks (`make slides`, build/slides/) in a real browser: headless Chromium.

For each chapter notebook the deck must start (reveal.js gives `.reveal` the class `ready`), show
as many slides as the notebook's `slideshow` metadata asks for, typeset every formula (no raw `$`
left, no MathJax errors), show every figure the notebook stores, keep code inside the slide at a
projector-size font, and make no request other than to its own local files. One slide per deck
(the first with a figure, else with a formula) is saved as build/slides-screenshots/<name>.png.

Chromium is driven over the DevTools protocol through a pipe (`--remote-debugging-pipe`), so no
port, no websocket and no extra package are needed. Without Chromium these tests skip, except
under CI (CI=true), where they fail: install it with `apt-get install chromium` or set CHROMIUM.
"""

import base64
import fcntl
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# SLIDES_SRC / SLIDES_OUT: the same overrides as `make slides` takes (defaults: the course's own).
SRC = ROOT / os.environ.get("SLIDES_SRC", "notebooks")
NOTEBOOKS = sorted(SRC.glob("[0-9]*.ipynb"))
SOLUTIONS = sorted(SRC.glob("solutions/[0-9]*.ipynb"))
SITE = ROOT / os.environ.get("SLIDES_OUT", "build/slides")
SHOTS = SITE.parent / "slides-screenshots"
WIDTH, HEIGHT = 1280, 720  # the decks' slide size (tools/build_slides.py) and the window
MIN_CODE_PX = 18  # code font size on the 1280x720 slide
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
TIMEOUT = 60  # seconds for one deck to load, start and typeset


def _rel(path):
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def _unavailable(reason):
    """Skip, or fail under CI, where a missing browser or build must not pass silently."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def _chromium_binary():
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


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


# ---------------------------------------------------------------- a minimal DevTools client


class Browser:
    """Headless Chromium spoken to over the DevTools protocol on fds 3 (in) and 4 (out)."""

    def __init__(self, binary, profile):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Move the child's ends above 10 so that bash's 3<&N 4>&M cannot clobber them.
        r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--mute-audio",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            # Any request that slips past the check below fails at once instead of hanging.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "about:blank",
        ]
        script = f'exec "$0" "$@" 3<&{r} 4>&{w} {r}<&- {w}>&-'
        self.proc = subprocess.Popen(
            ["bash", "-c", script, binary, *args],
            pass_fds=(r, w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(r)
        os.close(w)
        self._next_id = 0
        self._responses = {}
        self._cond = threading.Condition()
        self.events = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        buf = b""
        while True:
            chunk = os.read(self._from_chrome, 1 << 20)
            if not chunk:
                break
            buf += chunk
            *messages, buf = buf.split(b"\0")
            for raw in messages:
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._responses[msg["id"]] = msg
                        self._cond.notify_all()
                else:
                    self.events.put(msg)
        with self._cond:
            self._responses[None] = {"error": {"message": "Chromium closed the pipe"}}
            self._cond.notify_all()

    def send(self, method, params=None, session=None, timeout=TIMEOUT):
        """Call `method`; return its result or raise RuntimeError with the browser's message."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._next_id not in self._responses and None not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{method}: no answer from Chromium in {timeout} s")
                self._cond.wait(left)
            reply = self._responses.pop(self._next_id, None) or self._responses[None]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)


class Page:
    """One tab; records every request, failed load, console error and uncaught exception."""

    def __init__(self, browser):
        self.browser = browser
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})
        self.session = attached["sessionId"]
        self.requests, self.failed, self.errors = [], [], []
        for domain in ("Network", "Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        )

    def send(self, method, params=None, timeout=TIMEOUT):
        result = self.browser.send(method, params, session=self.session, timeout=timeout)
        self._drain()
        return result

    def _drain(self):
        while True:
            try:
                msg = self.browser.events.get_nowait()
            except queue.Empty:
                break
            if msg.get("sessionId") != self.session:  # the browser's own, or a closed tab's
                continue
            method, params = msg["method"], msg.get("params", {})
            if method == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                self.failed.append(f"{params.get('errorText')} (request {params['requestId']})")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                self.errors.append(f"uncaught: {text}")
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                self.errors.append(
                    "console.error: "
                    + " ".join(
                        str(a.get("value", a.get("description", ""))) for a in params["args"]
                    )
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                self.errors.append(f"{entry.get('source')}: {entry['text']} {entry.get('url', '')}")

    def evaluate(self, expression, timeout=TIMEOUT):
        """The JSON value of a JavaScript expression; promises are awaited."""
        result = self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "awaitPromise": True,
                "returnByValue": True,
                "timeout": timeout * 1000,
            },
            timeout=timeout + 5,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise RuntimeError(details.get("exception", {}).get("description") or details["text"])
        return result["result"].get("value")

    def wait_for(self, expression, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.1)
        return False

    def close(self):
        self.browser.send("Target.closeTarget", {"targetId": self.target})


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

# Walk every slide (no transition), measuring what a projector would show.
INSPECT_DECK = (
    "(async () => {"
    + UNTYPESET
    + """
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const slides = Reveal.getSlides();
  const report = {total: Reveal.getTotalSlides(), sections: slides.length, slides: []};
  for (let i = 0; i < slides.length; i++) {
    const s = slides[i];
    const idx = Reveal.getIndices(s);
    Reveal.slide(idx.h, idx.v);
    await frame();
    const figures = [...s.querySelectorAll('.jp-OutputArea-output img')];
    const code = [...s.querySelectorAll('.jp-InputArea-editor pre')];
    const outputs = [...s.querySelectorAll('.jp-OutputArea-output pre')];
    report.slides.push({
      h: idx.h, v: idx.v,
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
      overflow_px: Math.max(0, s.scrollHeight - Reveal.getConfig().height),
    });
  }
  Reveal.slide(0, 0);
  return report;
})()"""
)

INSPECT_PAGE = (
    "(() => {"
    + UNTYPESET
    + """
  const figures = [...document.querySelectorAll('.jp-OutputArea-output img')];
  return {
    math: document.querySelectorAll('mjx-container').length,
    math_errors: mathErrors(document),
    untypeset: untypeset(document),
    figures: figures.length,
    broken_figures: figures.filter(img => !(img.complete && img.naturalWidth > 0)).length,
  };
})()"""
)


# Go to slide (h, v) and scroll its first figure (else formula) into view, for the screenshot.
SHOW_SLIDE = """(async () => {
  Reveal.slide(%d, %d);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const s = Reveal.getCurrentSlide();
  const target = s.querySelector('.jp-OutputArea-output img') || s.querySelector('mjx-container');
  if (target && s.scrollHeight > s.clientHeight) {
    s.scrollTop = Math.max(0, target.offsetTop - s.offsetTop - 120);
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return true;
})()"""


@pytest.fixture(scope="module")
def browser():
    binary = _chromium_binary()
    if binary is None:
        _unavailable("Chromium not found (apt-get install chromium, or set CHROMIUM=/path)")
    if not (SITE / "index.html").exists():
        _unavailable(f"{_rel(SITE)}/index.html is missing: run `make slides` first")
    with tempfile.TemporaryDirectory(prefix="slides-test-chromium-") as profile:
        b = Browser(binary, profile)
        try:
            version = b.send("Browser.getVersion", timeout=30)["product"]
        except (RuntimeError, TimeoutError) as e:
            b.proc.kill()
            stderr = b.proc.stderr.read().decode(errors="replace")[-2000:]
            pytest.fail(f"Chromium did not start: {e}\n{stderr}")
        print(f"\n{version}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb to make decks from"


def test_index_links_every_deck_and_page():
    if not (SITE / "index.html").exists():
        _unavailable(f"{_rel(SITE)}/index.html is missing: run `make slides` first")
    index = (SITE / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    expected = [x for nb in NOTEBOOKS for x in (f"{nb.stem}.slides.html", f"{nb.stem}.html")]
    assert [x for x in links if x in expected] == expected, "index must link decks+pages in order"
    for link in links:
        assert (SITE / link).exists(), f"index.html links {link}, which is not in {SITE}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_deck(notebook, browser, shots):
    deck = SITE / f"{notebook.stem}.slides.html"
    _assert_fresh(deck, notebook)
    nb = nbformat.read(notebook, as_version=4)
    page = Page(browser)
    try:
        page.send("Page.navigate", {"url": deck.as_uri()})
        started = page.wait_for(
            "!!document.querySelector('.reveal') && "
            "document.querySelector('.reveal').classList.contains('ready') && !!window.Reveal"
        )
        assert started, f"reveal.js never became ready; errors: {page.errors}"
        # MathJax 3 resolves startup.promise once the first typeset pass is over.
        assert page.evaluate("MathJax.startup.promise.then(() => true)"), "MathJax did not finish"
        report = page.evaluate(INSPECT_DECK, timeout=120)
        slides = report["slides"]

        # the screenshot: the first slide with a figure, else with math, else the title
        pick = next((s for s in slides if s["figures"]), None) or next(
            (s for s in slides if s["math"]), slides[0]
        )
        page.evaluate(SHOW_SLIDE % (pick["h"], pick["v"]))
        png = page.send("Page.captureScreenshot", {"format": "png"})["data"]
        shot = shots / f"{notebook.stem}.png"
        shot.write_bytes(base64.b64decode(png))
        time.sleep(0.2)
        page._drain()
    finally:
        page.close()

    math = sum(s["math"] for s in slides)
    figures = sum(s["figures"] for s in slides)
    tall = [f"{s['h']}/{s['v']} (+{s['overflow_px']} px)" for s in slides if s["overflow_px"] > 0]
    wide_out = [f"{s['h']}/{s['v']}" for s in slides if s["wide_outputs"]]
    print(
        f"\n{deck.name}: {report['total']} slides, {math} formulas, {figures} figures; "
        f"screenshot {_rel(shot)} (slide {pick['h']}/{pick['v']})"
        + (f"; taller than the screen, scrolls: {', '.join(tall)}" if tall else "")
        + (f"; outputs wider than the slide: {', '.join(wide_out)}" if wide_out else "")
    )

    network = [u for u in page.requests if not u.startswith(LOCAL_SCHEMES)]
    assert not network, f"the deck requested the network: {network}"
    assert not page.failed, f"local files failed to load: {page.failed}"
    assert not page.errors, f"errors in the page: {page.errors}"

    total, sections, expected = report["total"], report["sections"], expected_slides(nb)
    assert total == sections == expected, (
        f"reveal.js shows {total} slides ({sections} sections), the notebook's slideshow "
        f"metadata asks for {expected}"
    )
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
    page.send("Page.navigate", {"url": path.as_uri()})
    assert page.wait_for("document.readyState === 'complete'"), f"{_rel(path)} never loaded"
    page.evaluate("window.MathJax ? MathJax.startup.promise.then(() => true) : true")
    time.sleep(0.2)
    page._drain()


def _assert_offline(page, path):
    network = [u[:200] for u in page.requests if not u.startswith(LOCAL_SCHEMES)]
    assert not network, f"{_rel(path)} requested the network: {network}"
    assert not page.failed, f"{_rel(path)}: local files failed to load: {page.failed}"
    assert not page.errors, f"{_rel(path)}: errors in the page: {page.errors}"


@pytest.mark.parametrize("notebook", NOTEBOOKS + SOLUTIONS, ids=lambda p: p.stem)
def test_page(notebook, browser):
    """The reading page: offline, formulas typeset, every stored figure shown."""
    path = SITE / f"{notebook.stem}.html"
    _assert_fresh(path, notebook)
    nb = nbformat.read(notebook, as_version=4)
    page = Page(browser)
    try:
        _load(page, path)
        report = page.evaluate(INSPECT_PAGE)
    finally:
        page.close()
    _assert_offline(page, path)
    math, stored = has_math(nb.cells), expected_figures(nb.cells)
    print(f"\n{path.name}: {report['math']} formulas, {report['figures']} figures")
    assert report["math"] > 0 or not math, "the notebook has formulas but the page typeset none"
    assert not report["math_errors"], f"MathJax errors: {report['math_errors']}"
    assert not report["untypeset"], f"formulas left as raw TeX: {report['untypeset']}"
    assert report["figures"] == stored, f"the page shows {report['figures']} of {stored} figures"
    assert not report["broken_figures"], f"{report['broken_figures']} figures do not show"


def test_index_offline(browser):
    page = Page(browser)
    try:
        _load(page, SITE / "index.html")
        raw = page.evaluate(
            "(() => {" + UNTYPESET.replace(".jp-RenderedMarkdown", ".goal") + "\n"
            "return untypeset(document); })()"
        )
    finally:
        page.close()
    _assert_offline(page, SITE / "index.html")
    assert not raw, f"formulas left as raw TeX in index.html: {raw}"
