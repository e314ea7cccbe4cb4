"""The one tested pin set (requirements.txt) and the conda description (environment.yml) must agree."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def pins(lines):
    out = {}
    for line in lines:
        line = line.split("#")[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([\w.]+)", line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def pinned_requirements():
    """requirements.txt (core and dev) and requirements-site.txt (the `site` extra): one tested pin set."""
    core = pins((ROOT / "requirements.txt").read_text().splitlines())
    site = pins((ROOT / "requirements-site.txt").read_text().splitlines())
    assert not core.keys() & site.keys(), "a package is pinned in both requirements files"
    return {**core, **site}


def test_environment_yml_pins_exactly_the_requirements():
    req = pinned_requirements()
    env_text = (ROOT / "environment.yml").read_text()
    env = pins(env_text.splitlines())
    assert req == env
    assert req["torch"] == "2.13.0"
    assert re.search(r"^\s*- -e \.\s*$", env_text, re.M), "environment.yml must pip-install the repo itself"


def test_pyproject_lists_every_runtime_dependency_that_is_pinned():
    text = (ROOT / "pyproject.toml").read_text().split("[project]", 1)[1].split("[tool.", 1)[0]
    declared = {m.lower() for m in re.findall(r'"([A-Za-z0-9_.\-]+)\s*>=', text)}
    req = pinned_requirements()
    assert declared == set(req), f"pyproject and requirements*.txt differ: {declared ^ set(req)}"


def test_every_equation_is_cited_in_the_package():
    """`grep "Eq. (k)" mini_man/` finds every equation k = 1..18 of the paper."""
    text = "".join(p.read_text() for p in (ROOT / "mini_man").glob("*.py"))
    missing = [k for k in range(1, 19) if f"Eq. ({k})" not in text]
    assert not missing, f"equations not cited in mini_man: {missing}"
