"""The whole test suite timed as the README runs it (`pytest --nbval`, which checks every notebook too), with pytest's own
per-test durations summed per notebook. Targets: the suite in at most 5 minutes on 2 cores, every notebook and
solution in at most 60 s.

    python benchmarks/bench_tests.py --out benchmarks/results/tests.json      # one run of the suite

Written as JSON: the command, the machine, the load average before and after, the suite's wall time and counts, and
per notebook the seconds of its cells (setup included), slowest first. Measure on a quiet machine.
No assertions: this script prints figures.
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from bench_train import cpu_name

ROOT = Path(__file__).resolve().parent.parent
DURATION = re.compile(r"^\s*([\d.]+)s (?:setup|call|teardown)\s+(\S+?\.ipynb)::")
SUMMARY = re.compile(r"(\d+ (?:passed|failed).*?) in [\d.]+s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, help="write the figures as JSON to PATH")
    args = p.parse_args()
    load_before = os.getloadavg()
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "pytest", "--nbval", "-q", "--durations=0", "--durations-min=0.05"],
                         cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    per_notebook = defaultdict(float)
    for line in res.stdout.splitlines():
        m = DURATION.match(line)
        if m:
            per_notebook[m.group(2)] += float(m.group(1))
    summary = next((m.group(1) for line in res.stdout.splitlines()[::-1] if (m := SUMMARY.search(line))), "")
    failed = [line.split()[1] for line in res.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
    result = {"command": "pytest --nbval", "exit_code": res.returncode, "summary": summary, "failed": failed, "wall_s": wall,
              "machine": {"cpu": cpu_name() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                          "python": platform.python_version()},
              "load_average": {"before": load_before, "after": os.getloadavg()},
              "notebooks_s": dict(sorted(per_notebook.items(), key=lambda kv: -kv[1]))}
    print(f"pytest: {summary} in {wall:.0f} s (exit code {res.returncode}); failed: {failed or 'none'}; slowest "
          "notebooks:")
    for name, seconds in list(result["notebooks_s"].items())[:8]:
        print(f"  {seconds:6.1f} s  {name}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
