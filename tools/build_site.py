"""Build the course website from the repository as it is: the one command (docs/website.md).

    pip install -r requirements.txt -r requirements-site.txt -e .[site]
    python tools/build_site.py                  # -> _build/site/index.html
    python -m http.server -d _build/site        # then open http://localhost:8000

Sphinx (configuration: tools/site/conf.py) renders the README, data/README.md, the datasheet, docs/ and every
notebooks/*.ipynb with its stored outputs (nothing is executed). Fails on any Sphinx warning, so a broken link,
a missing anchor or a docstring that does not parse stops the build. `--out DIR` builds elsewhere (the browser
test builds into a temporary folder).
"""
import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The site's home page is the README (Sphinx's root document); GitHub Pages and browsers open index.html.
INDEX = '<!DOCTYPE html>\n<meta charset="utf-8">\n<meta http-equiv="refresh" content="0; url=README.html">\n' \
        '<title>mini-MAN</title>\n<a href="README.html">mini-MAN</a>\n'


def build(out: Path) -> None:
    subprocess.run([sys.executable, "-m", "sphinx", "--builder", "html", "--quiet", "--fail-on-warning",
                    "--conf-dir", str(ROOT / "tools" / "site"),
                    "--doctree-dir", str(out.parent / (out.name + ".doctrees")), str(ROOT), str(out)],
                   check=True, cwd=ROOT)
    (out / "index.html").write_text(INDEX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "site", help="output folder")
    args = parser.parse_args()
    try:
        build(args.out.resolve())
    except subprocess.CalledProcessError as err:
        sys.exit(f"site build failed (exit {err.returncode}); see Sphinx's messages above")
    print(f"site: {args.out.resolve() / 'index.html'}")


if __name__ == "__main__":
    main()
