"""The README's install, timed as a newcomer runs it: a new virtual environment, then
`pip install -r requirements.txt -e .` from the repository, with pip's download cache off (`--no-cache-dir`), so
every wheel, torch's CPU build included, is downloaded and unpacked as on a fresh machine.

    python benchmarks/bench_install.py --out benchmarks/results/install.json     # 1 run, about a minute

Written as JSON: the command, the machine (CPU, cores, python), the load average before and after, each run's wall
time (creating the environment included) and their min / median / max. The time depends on the package index's
speed as much as on the CPU. No assertions: this script prints figures.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_train import cpu_name

ROOT = Path(__file__).resolve().parent.parent
COMMAND = "pip install -r requirements.txt -e ."


def one_install() -> float:
    """Seconds to create a virtual environment in a temporary folder and run the README's install into it."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / ".venv"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-cache-dir", "-r", "requirements.txt",
                        "-e", "."], cwd=ROOT, check=True)
        return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1, help="installs to time (default: 1)")
    p.add_argument("--out", type=Path, help="write the figures as JSON to PATH")
    args = p.parse_args()
    if args.runs < 1:
        p.error(f"--runs must be at least 1, got {args.runs}")
    load_before = os.getloadavg()
    walls = [one_install() for _ in range(args.runs)]
    result = {"command": COMMAND, "cache": "off (--no-cache-dir), a new virtual environment per run",
              "machine": {"cpu": cpu_name() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                          "python": platform.python_version()},
              "load_average": {"before": load_before, "after": os.getloadavg()},
              "runs": [{"wall_s": w} for w in walls],
              "wall_s": {"min": min(walls), "median": statistics.median(walls), "max": max(walls)}}
    print(f"{COMMAND}: {', '.join(f'{w:.0f} s' for w in walls)} (median {result['wall_s']['median']:.0f} s)")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
