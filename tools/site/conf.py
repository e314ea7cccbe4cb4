"""Sphinx configuration of the course website. Build it with `python tools/build_site.py` (docs/website.md).

The source folder is the repository itself: the site renders the files a reader of the repository sees (README,
data/, docs/, the notebooks with their stored outputs), nothing is copied or rewritten on disk.
"""
import posixpath
import re
import sys
from pathlib import Path

import mathjax  # django-static-mathjax: MathJax 3's own release files, so math renders without a CDN
from docutils import nodes
from sphinx import addnodes
from sphinx.util.fileutil import copy_asset

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # autodoc imports this checkout's mini_man, installed or not

project = "mini-MAN"
author = "the mini-MAN authors"
root_doc = "README"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.viewcode"]
include_patterns = ["README.md", "data/README.md", "data/sample/README.md", "docs/*.md", "notebooks/*.ipynb",
                    "notebooks/solutions/*.ipynb", "tools/site/api.md"]
suppress_warnings = ["toc.empty_glob"]  # notebooks/solutions/ may hold no notebook yet
exclude_patterns = [".*", "_build", "build"]  # prunes .venv, .git, .ci/venv while Sphinx walks the tree

nb_execution_mode = "off"  # the committed outputs are what `pytest` checks (nbval); the site shows exactly those
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3  # GitHub's heading slugs, so README links like notebook.ipynb#eq-10-... work on both

mathjax_path = "mathjax/tex-mml-chtml.js"  # relative: served from _static/mathjax/, copied below
autodoc_member_order = "bysource"

html_theme = "sphinx_book_theme"
html_title = "mini-MAN"
html_theme_options = {"use_download_button": True, "home_page_in_toc": True, "show_toc_level": 2}
html_context = {"default_mode": "auto"}  # the theme's default is "", which logs a console error on a first visit

# Reading order of the left-hand table of contents. Added to the README when Sphinx reads it, so that the README
# stays plain Markdown on GitHub; the globs pick up every notebook in sorted (= reading) order and every page of
# docs/ (the results and the readings first, then the others by name).
READING_ORDER = """

```{toctree}
:hidden:
:caption: Notebooks
:glob:
notebooks/*
```

```{toctree}
:hidden:
:caption: Solutions to the exercises
:glob:
notebooks/solutions/*
```

```{toctree}
:hidden:
:caption: Data, docs and code
:glob:
docs/results
docs/readings
data/README
data/sample/README
docs/*
tools/site/api
```
"""


def add_reading_order_and_modules(app, docname, source):
    if docname == root_doc:
        source[0] += READING_ORDER
    elif docname == "tools/site/api":
        modules = sorted(p.stem for p in (ROOT / "mini_man").glob("*.py") if p.stem != "__init__")
        source[0] += "".join(f"\n```{{eval-rst}}\n.. automodule:: mini_man.{m}\n   :members:\n```\n"
                             for m in modules)  # autodoc writes reStructuredText


def link_sources_to_viewcode(app, doctree):
    """A Markdown link to `mini_man/X.py` (clickable on GitHub) opens the highlighted source page on the site.

    MyST turns a link to a non-document file into a download; for the package's modules, the page that
    sphinx.ext.viewcode writes (`_modules/mini_man/X.html`, one anchor per documented object) is what a reader
    wants. Runs before Sphinx's download collector (priority 400 < 500), so the .py files are not copied.
    """
    docname = app.env.docname
    for node in list(doctree.findall(addnodes.download_reference)):
        target = posixpath.normpath(posixpath.join(posixpath.dirname(docname), node["reftarget"]))
        match = re.fullmatch(r"mini_man/(\w+)\.py", target)
        if match:
            page = posixpath.relpath(f"_modules/mini_man/{match[1]}.html", posixpath.dirname(docname) or ".")
            node.replace_self(nodes.reference("", "", *node.children, refuri=page, internal=True))


def docstring_as_written(app, what, name, obj, options, lines):
    """mini_man's docstrings are plain text with the paper's notation, not reStructuredText: show them verbatim."""
    if lines:
        lines[:] = ["::", ""] + ["    " + line for line in lines] + [""]


def copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
        copy_asset(es5, Path(app.outdir) / "_static" / "mathjax")


def setup(app):
    app.connect("source-read", add_reading_order_and_modules)
    app.connect("autodoc-process-docstring", docstring_as_written)
    app.connect("doctree-read", link_sources_to_viewcode, priority=400)
    app.connect("build-finished", copy_mathjax)
