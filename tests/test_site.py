"""The course website (docs/website.md): built by `python tools/build_site.py`, read in headless Chromium.

Needs the `site` extra and Debian's `chromium`: without them the whole module is skipped with one line saying what
to install, unless MINI_MAN_REQUIRE_SITE_TEST=1 (set by `.ci/run`, which installs both), where that is a failure.
Screenshots of two pages go to <tmp>/mini-man-site-screenshots/ (the path is printed; `pytest -s` shows it).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("MINI_MAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(tempfile.gettempdir()) / "mini-man-site-screenshots"
UNRENDERED = re.compile(r"\$\$|\\frac|\\\(|\\\[|\\begin\{")
EQ_IN_HEADING = re.compile(r"Eq\.\s*\(?(\d+)\)?(?:\s*-\s*\(?(\d+)\)?)?")

# Everything the test reads off one page, in the browser, after MathJax has typeset it.
INSPECT = """() => {
  const skip = 'pre, code, script, style, mjx-container, .highlight';
  const text = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el.closest(skip) && el.offsetParent !== null) text.push(n.textContent);
  }
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) {
    const section = el.closest('section');
    const h = section && section.querySelector(':scope > h1, :scope > h2, :scope > h3, :scope > h4');
    ids[el.id] = h ? h.textContent.replace(/#$/, '') : '';
  }
  return {
    text: text.join(' '),
    images: [...document.images].map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]),
    math: document.querySelectorAll('.math').length,
    mathUnrendered: [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container')).length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: ids,
    nav: [...document.querySelectorAll('.bd-sidebar-primary nav a')].map(a => a.href),
  };
}"""


def missing() -> str | None:
    """What the site test lacks on this machine (the `site` extra or Chromium), None when nothing."""
    try:
        import myst_nb  # noqa: F401
        import playwright.sync_api  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as err:
        return f"the `site` extra (no module {err.name!r})"
    if not Path(CHROMIUM).exists():
        return f"Chromium (none at {CHROMIUM})"
    return None


LACKS = missing()
if LACKS:
    WHY = (f"the website test needs {LACKS}: pip install -r requirements.txt -r requirements-site.txt -e \".[site]\" "
           "and apt-get install chromium")
    if os.environ.get("MINI_MAN_REQUIRE_SITE_TEST") == "1":
        pytest.fail(WHY + " (MINI_MAN_REQUIRE_SITE_TEST=1: required here)", pytrace=False)
    pytest.skip(WHY, allow_module_level=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site") / "site"
    subprocess.run([sys.executable, str(ROOT / "tools" / "build_site.py"), "--out", str(out)], check=True)
    return out


class Handler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves a page's many files

    def end_headers(self):
        self.send_header("Cache-Control", "max-age=600")  # the theme's files are fetched once, not once a page
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def base_url(site):
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # Flags from the machine notes: no background connections out of a machine without network.
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def crawl(browser, base_url):
    """Open every HTML page reachable from the home page; record what each shows and every problem met."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    outside = []  # a request that leaves the site: a CDN script, a web font ...

    def only_local(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    status, pages, todo = {}, {}, [base_url + "README.html"]
    while todo:
        url = todo.pop()
        if url in pages:
            continue
        errors.clear()
        status[url] = page.goto(url, wait_until="load").status
        try:  # MathJax's script runs before "load"; then wait until it has typeset the page
            page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)",
                                   timeout=5_000)
            page.evaluate("() => window.MathJax && MathJax.startup.promise")
        except PlaywrightTimeout:
            errors.append("MathJax did not start")
        info = page.evaluate(INSPECT)
        info["errors"] = list(errors)
        info["links"] = [link for link in info["links"] if link.startswith(base_url)]
        pages[url] = info
        for link in info["links"]:
            target = urldefrag(link).url
            if target not in status:
                status[target] = context.request.head(target).status
            if target.endswith(".html") and target not in pages:
                todo.append(target)
    context.close()
    return {"pages": pages, "status": status, "outside": outside, "base": base_url}


def test_build_writes_the_home_page_and_every_notebook(site):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        assert (site / "notebooks" / (nb.stem + ".html")).is_file(), nb.name
    assert (site / "index.html").is_file() and (site / "README.html").is_file()
    assert (site / "_static" / "mathjax" / "tex-mml-chtml.js").is_file()


def test_index_opens_the_home_page(browser, base_url):
    page = browser.new_page()
    page.goto(base_url + "index.html")
    page.wait_for_url(base_url + "README.html")
    assert page.title().startswith("mini-MAN")
    page.close()


def test_every_page_loads_without_errors_or_requests_outside_the_site(crawl):
    assert len(crawl["pages"]) > len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert crawl["outside"] == []
    bad = {url: p["errors"] for url, p in crawl["pages"].items() if p["errors"]}
    assert bad == {}


def test_every_image_loaded(crawl):
    images = [(url, img) for url, p in crawl["pages"].items() for img in p["images"]]
    assert sum("/notebooks/" in url for url, _ in images) >= 10, "the notebooks' figures are missing"
    broken = [(url, src) for url, (src, complete, width) in images if not (complete and width > 0)]
    assert broken == []


def test_math_is_typeset_and_no_raw_tex_is_left_in_the_text(crawl):
    pages = crawl["pages"]
    assert sum(p["math"] for p in pages.values()) > 100
    assert {url: p["mathUnrendered"] for url, p in pages.items() if p["mathUnrendered"]} == {}
    raw = {url: UNRENDERED.findall(p["text"]) for url, p in pages.items() if UNRENDERED.search(p["text"])}
    assert raw == {}


def test_every_internal_link_resolves_and_its_anchor_exists(crawl):
    pages, status = crawl["pages"], crawl["status"]
    assert {url: code for url, code in status.items() if code != 200} == {}
    missing = set()
    for url, p in pages.items():
        for link in p["links"]:
            target, anchor = urldefrag(link)
            if anchor and target.endswith(".html") and anchor not in pages[target]["ids"]:
                missing.add((url, link))
    assert missing == set()


def test_equation_table_links_land_on_the_section_that_names_the_equation(crawl):
    pages, base = crawl["pages"], crawl["base"]
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Where each equation lives", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if re.match(r"\| \[\(\d", line)]
    covered = set()
    for row in rows:
        label, notebook, anchor = re.match(r"\| \[\(([\d()\-]+)\)\]\(notebooks/(\w+)\.ipynb#([\w\-]+)\)", row).groups()
        eqs = set(range(int(re.findall(r"\d+", label)[0]), int(re.findall(r"\d+", label)[-1]) + 1))
        covered |= eqs
        heading = pages[f"{base}notebooks/{notebook}.html"]["ids"].get(anchor)
        assert heading is not None, f"Eq. ({label}): no #{anchor} in {notebook}"
        named = {k for a, b in EQ_IN_HEADING.findall(heading) for k in range(int(a), int(b or a) + 1)}
        assert eqs & named, f"Eq. ({label}) links to the section '{heading}'"
        # On the site, the row's source files open their highlighted source pages.
        sources = re.findall(r"\]\(mini_man/(\w+)\.py\)", row)
        assert sources, f"Eq. ({label}): no source file linked"
        readme_links = pages[base + "README.html"]["links"]
        for module in sources:
            assert f"{base}_modules/mini_man/{module}.html" in readme_links
    assert covered == set(range(1, 19))


def test_left_toc_lists_the_notebooks_in_reading_order_and_each_can_be_downloaded(crawl):
    pages, status, base = crawl["pages"], crawl["status"], crawl["base"]
    expected = [f"{base}notebooks/{nb.stem}.html" for nb in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    nav = [link for link in pages[base + "README.html"]["nav"] if re.search(r"/notebooks/[^/]+\.html$", link)]
    assert nav == expected
    for url in expected:
        downloads = [link for link in pages[url]["links"] if link.endswith(".ipynb")]
        assert downloads, f"{url} has no download link"
        assert all(status[link] == 200 for link in downloads)


def test_search_finds_the_disentanglement_loss(browser, crawl):
    page = browser.new_page()
    page.goto(crawl["base"] + "search.html?q=disentanglement")
    page.wait_for_selector("#search-results li", timeout=30_000)
    hits = page.eval_on_selector_all("#search-results li a", "as => as.map(a => a.href)")
    page.close()
    assert any("06_disentanglement" in hit for hit in hits)


def test_screenshots_of_two_pages_for_a_human(browser, crawl):
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for name, path in [("equation_table", "README.html#where-each-equation-lives"), ("notebook05", "notebooks/05_group_prototypes.html")]:
        page.goto(crawl["base"] + path)
        page.evaluate("() => window.MathJax && MathJax.startup.promise")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    page.close()
    print(f"\nsite screenshots: {SHOTS}")
    assert all((SHOTS / f"{name}.png").stat().st_size > 10_000 for name in ("equation_table", "notebook05"))
