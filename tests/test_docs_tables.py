"""The front door and the results pages: every generated table agrees with its committed files
(`tools/make_docs.py --check`), the README stays short, and the user-facing text links to files that exist."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import make_docs  # noqa: E402

from mini_man import reference  # noqa: E402

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "data" / "README.md",
         ROOT / "data" / "sample" / "README.md"]
FIRST_RUN_BLOCKS = ("first-run", "first-run-seeds")  # their files come from the first run's benchmark


def blocks() -> list[tuple[str, str]]:
    """(file, block name) of every generated block of README.md and docs/results.md."""
    return [(name, m.group(2)) for name in make_docs.FILES
            for m in make_docs.BLOCK.finditer((ROOT / name).read_text())]


@pytest.mark.parametrize("name, block", blocks())
def test_every_generated_block_is_what_its_committed_results_give(name, block):
    text, missing = make_docs.render(block)
    if missing:
        assert block in FIRST_RUN_BLOCKS, f"{name}: block '{block}': {missing}"
        pytest.skip(missing)
    committed = dict((m.group(2), m.group(3)) for m in make_docs.BLOCK.finditer((ROOT / name).read_text()))
    assert committed[block] == text, f"{name}: block '{block}' differs: run python tools/make_docs.py"


def test_check_names_a_table_edited_by_hand(tmp_path):
    for name in make_docs.FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    clean = [p for p in make_docs.check(tmp_path) if "cannot be checked" not in p]
    assert clean == []
    readme = (tmp_path / "README.md").read_text()
    mean = f"{reference.summary('sample', 'man', 'A')[0]:.3f}"
    assert f"| {mean} ±" in readme
    (tmp_path / "README.md").write_text(readme.replace(f"| {mean} ±", "| 0.901 ±", 1))
    problems = [p for p in make_docs.check(tmp_path) if "cannot be checked" not in p]
    assert problems == ["README.md: block 'headline' differs from what its results give (run python "
                        "tools/make_docs.py)"]


def test_every_block_of_the_generator_is_used_and_every_notebook_has_an_outcome():
    assert {block for _, block in blocks()} == set(make_docs.BLOCKS)
    for path in (ROOT / "notebooks").glob("*.ipynb"):  # every notebook opens with its minutes and outcome
        minutes, outcome = make_docs.header(path)
        assert 5 <= minutes <= 60 and len(outcome) > 20, path.name


def test_the_first_run_blocks_from_stand_in_files(tmp_path, monkeypatch):
    """The first run's benchmark block from a made-up file of its format; its seeds block from the committed runs."""
    bench = {"command": "python -m mini_man.train", "machine": {"cpu": "Test CPU", "cores": 2},
             "runs": [{"wall_s": w, "peak_rss_mb": 900.0 + w} for w in (80.0, 70.0, 95.0)],
             "wall_s": {"min": 70.0, "median": 80.0, "max": 95.0}, "peak_rss_mb": {"max": 995.0},
             "stdout": "Domain  Metric  man\nA  AUC  0.8000\n"}
    (tmp_path / "first_run.json").write_text(json.dumps(bench))
    monkeypatch.setattr(make_docs, "FIRST_RUN", tmp_path / "first_run.json")
    text, missing = make_docs.render("first-run")
    assert missing is None and "**80 s** (median of 3 runs, 70-95 s)" in text and "995 MB" in text
    assert "; cpu: Test CPU; cores: 2)" in text and "```\nDomain  Metric  man\nA  AUC  0.8000\n```" in text
    text, missing = make_docs.render("first-run-seeds")  # the committed plain-Adam runs, 5 seeds
    assert missing is None and "A test AUC, 5 seeds (range)" in text
    assert "| `sasrec` | 0.865 ± 0.002 (0.86" in text and "| 0.807 ± 0.006 (0." in text


def test_the_first_run_blocks_name_the_command_that_makes_their_files(monkeypatch, tmp_path):
    monkeypatch.setattr(make_docs, "FIRST_RUN", tmp_path / "first_run.json")
    text, missing = make_docs.render("first-run")
    assert missing.endswith(f"is not there: it is written by `{make_docs.FIRST_RUN_COMMAND}`")
    assert text.startswith("*Not measured yet: ") and make_docs.FIRST_RUN_COMMAND in text


def test_readme_is_a_front_door_of_at_most_200_lines():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines"


def test_readme_test_command_is_what_ci_runs_after_its_install():
    readme = (ROOT / "README.md").read_text()
    commands = re.search(r"## Install, first run, tests\n\n```bash\n(.*?)```", readme, re.S).group(1).splitlines()
    assert commands[1].startswith("pip install -r requirements.txt -e .")
    assert commands[2].split("#")[0].strip() == "python -m mini_man.train"
    test = commands[3].split("#")[0].strip()
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci[-1] == test == "pytest --nbval"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_facing_text_tells_results_not_their_history(page):
    text = page.read_text()
    for pattern in (r"\bissues? \d+", r"\bcommit [0-9a-f]{7}", r"\bat commit\b", r"this session", r"first published",
                    r"[Hh]ow the recipe was found", r"earlier sessions?"):
        assert not re.search(pattern, text), f"{page.name}: '{re.search(pattern, text).group(0)}'"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_that_exists(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if not re.match(r"\w+://", target) and target.strip(".") and not target.startswith("$"):
            assert (page.parent / target).exists(), f"{page.name}: link to {target}"


def test_the_site_test_skips_in_one_line_without_its_browser_and_fails_where_it_is_required(tmp_path):
    """The README's install has neither the `site` extra nor Chromium: `pytest` skips the website test with the
    install line; `.ci/run` sets MINI_MAN_REQUIRE_SITE_TEST=1, and there the same lack fails."""
    env = {k: v for k, v in os.environ.items() if k != "MINI_MAN_REQUIRE_SITE_TEST"}
    env["MINI_MAN_CHROMIUM"] = str(tmp_path / "no-chromium")  # lacking at least the browser, wherever this runs
    command = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_site.py"), "-q", "--noconftest"]  # no torch
    skipped = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert skipped.returncode in (0, 5) and "1 skipped" in skipped.stdout, skipped.stdout  # 5: nothing else ran
    (line,) = [x for x in skipped.stdout.splitlines() if x.startswith("SKIPPED")]
    assert 'the website test needs' in line and 'pip install -r requirements.txt -r requirements-site.txt -e ".[site]"' in line \
        and "apt-get install chromium" in line
    failed = subprocess.run(command, env={**env, "MINI_MAN_REQUIRE_SITE_TEST": "1"}, cwd=ROOT, capture_output=True,
                            text=True)
    assert failed.returncode != 0 and "MINI_MAN_REQUIRE_SITE_TEST=1: required here" in failed.stdout
