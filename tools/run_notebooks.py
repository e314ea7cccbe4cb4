"""Regenerate the stored outputs of the notebooks -- the one command to run after changing a notebook or mini_man.

    .venv/bin/python tools/run_notebooks.py                           # every notebooks/*.ipynb, in name order
    .venv/bin/python tools/run_notebooks.py notebooks/03_item_similarity.ipynb   # only these

For each notebook: execute it top to bottom in a fresh `python3` kernel (in place, no timing metadata), normalise
it with `nbstripout --keep-output --keep-count` (drops stale timestamps, renumbers cell ids, keeps outputs and
execution counts, which strict `pytest --nbval` needs), and force the kernelspec name `python3`. Fails if a
notebook wrote anything to stderr or raised outside a cell tagged `raises-exception`: stored outputs must hold
nothing volatile. Then check with `pytest notebooks/` (`pytest` runs nbval: pyproject.toml).
"""
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def problems(nb) -> list:
    """Outputs that must not be stored: stderr streams and unexpected errors."""
    found = []
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                found.append(f"code cell {i}: stderr: {out.text.strip()[:200]}")
            if out.output_type == "error" and "raises-exception" not in cell.metadata.get("tags", []):
                found.append(f"code cell {i}: {out.ename}: {out.evalue}")
    return found


def run(path: Path) -> list:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # Agg would drop the figures' text output
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    "--ExecutePreprocessor.record_timing=False", "--ExecutePreprocessor.kernel_name=python3",
                    str(path)], check=True, cwd=ROOT, env=env)
    subprocess.run([sys.executable, "-m", "nbstripout", "--keep-output", "--keep-count", str(path)], check=True)
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nbformat.write(nb, path)
    return problems(nb)


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    paths = [Path(a).resolve() for a in args] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    failed = False
    for path in paths:
        print(f"running {path.relative_to(ROOT)}", flush=True)
        for line in run(path):
            print(f"  {path.name}: {line}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
