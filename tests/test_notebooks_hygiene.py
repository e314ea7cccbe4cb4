"""Notebook hygiene: stored outputs exist, ran top to bottom, nothing volatile is stored; the kernels `pytest --nbval`
starts get the pinned CPU kernels, and those the root conftest starts ahead bind no name."""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mini_man.reproducibility import CPU_KERNELS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)  # solutions/ too
VOLATILE = [r"0x[0-9a-f]{6,}", r"/tmp/ipykernel_", r"/work/", r"/home/", r"/root/", r"site-packages", r"cuda"]


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def test_sanitize_patterns_parse():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    root_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root_conftest)
    assert len(root_conftest.SANITIZE_PATTERNS) == 2
    for regex, replacement in root_conftest.SANITIZE_PATTERNS:
        assert re.sub(regex, replacement, "at 0x7f3a2b1c") in ("at 0xADDRESS", "at 0x7f3a2b1c")
        re.compile(regex)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_was_executed_top_to_bottom_with_python3(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    counts = [c["execution_count"] for c in code_cells(path)]
    assert counts == list(range(1, len(counts) + 1)), "re-run the notebook top to bottom (tools/run_notebooks.py)"
    assert any(c["outputs"] for c in code_cells(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_outputs_hold_nothing_volatile(path):
    for cell in code_cells(path):
        for out in cell["outputs"]:
            assert out.get("name") != "stderr", f"stderr output (a warning?) in {path.name}: {out.get('text')}"
            assert out["output_type"] != "error" or "raises-exception" in cell["metadata"].get("tags", [])
            text = "".join(out.get("text", [])) + "".join(out.get("data", {}).get("text/plain", []))
            for pattern in VOLATILE:
                assert not re.search(pattern, text), f"{pattern!r} in an output of {path.name}"
        assert "execution" not in cell["metadata"], "timestamps in cell metadata: run tools/run_notebooks.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_defines_no_model_of_its_own(path):
    for cell in code_cells(path):
        assert not re.search(r"class \w+\((torch\.)?nn\.Module\)", "".join(cell["source"])), \
            f"{path.name} defines an nn.Module: import it from mini_man instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_starts_with_notebook_setup(path):
    """The stored outputs were made under `notebook_setup`'s kernel set and thread count, before any computation."""
    first = "".join(code_cells(path)[0]["source"]).splitlines()[0]
    assert re.fullmatch(r"from mini_man\.reproducibility import notebook_setup; rng = notebook_setup\(\d+\)", first), first


def test_pin_cpu_kernels_takes_effect_after_import_torch():
    """The kernel set is read at the first computation, so `notebook_setup` after `import torch` still selects it
    (checked with PyTorch's own kernels: the portable `default` set instead of the pinned one)."""
    code = ("import torch, mini_man.reproducibility as r; r.CPU_KERNELS['ATEN_CPU_CAPABILITY'] = 'default'; "
            "r.pin_cpu_kernels(); torch.ones(3).sum(); print(torch.backends.cpu.get_cpu_capability())")
    env = {k: v for k, v in os.environ.items() if k != "ATEN_CPU_CAPABILITY"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "DEFAULT"


def openblas_in_a_child(env=None) -> str:
    """The pinned variable and the OpenBLAS kernels (`threadpoolctl`) of a new Python process with `env`."""
    code = ("import os, numpy, sklearn.cluster, threadpoolctl; print(os.environ.get('OPENBLAS_CORETYPE'), "
            "sorted({i['architecture'] for i in threadpoolctl.threadpool_info() if i['internal_api'] == 'openblas'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return out.stdout.strip()


def test_notebook_kernels_get_the_pinned_openblas():
    """The processes this test session starts (as nbval's notebook kernels) inherit the pinned variable and run
    NumPy's and scikit-learn's OpenBLAS with its kernels (`CPU_KERNELS["OPENBLAS_CORETYPE"]`), whatever this CPU
    would pick by itself. Many CPUs (AMD Zen among them) pick the pinned kernels anyway, so the variable is checked
    too, and a control shows that the probe reports what the variable selects."""
    pinned = CPU_KERNELS["OPENBLAS_CORETYPE"]
    assert openblas_in_a_child() == f"{pinned} ['{pinned}']"
    other = "Sandybridge" if pinned != "Sandybridge" else "Nehalem"
    assert openblas_in_a_child({**os.environ, "OPENBLAS_CORETYPE": other}) == f"{other} ['{other}']"


def notebook(path: Path, *cells: tuple) -> None:
    """A notebook of code cells given as (source, what it stored on stdout)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    nb.cells = [nbformat.v4.new_code_cell(source, execution_count=n, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=output)]) for n, (source, output) in enumerate(cells, 1)]
    nbformat.write(nb, path)


def test_kernels_started_ahead_have_the_imports_loaded_but_no_name_bound(tmp_path):
    """The root conftest's `KernelsAhead` under `pytest --nbval`: the 2nd notebook's kernel was started while the
    1st ran and holds torch, but binds none of the names a notebook imports: a cell that uses `torch` without
    importing it fails as it would in a fresh kernel."""
    notebook(tmp_path / "a.ipynb", ("print(1)", "1\n"))
    notebook(tmp_path / "b.ipynb", ("import sys\nprint('torch' in sys.modules, [k for k in globals() if k in "
                                    "('torch', 'pandas', 'matplotlib', 'mini_man', 'm')])", "True []\n"),
             ("print(torch.ones(1))", "tensor([1.])\n"))
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "--nbval", "--nbval-current-env", "-q",
                          "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "a.ipynb", "b.ipynb"],
                         cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         timeout=300)
    assert "1 failed, 2 passed" in out.stdout, out.stdout[-2000:]
    assert "b.ipynb::Cell 1" in out.stdout and "NameError" in out.stdout
