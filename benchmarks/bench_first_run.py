"""The first run, `python -m mini_man.train` with no arguments, timed as a newcomer runs it: a fresh process, the
README's command, both cores (the CLI's `--jobs` default). Target: at most 2 minutes wall time on 2 cores and at
most 1.5 GB peak RSS.

Each run starts the command in a child process and samples, every 0.2 s, the memory of the child and all its
descendants (the worker processes of `--jobs`) from /proc: their proportional set size (PSS: resident memory, each
page shared by n processes, such as torch's libraries, counted 1/n in each) summed, so that the sum is the memory the
run holds; its peak is the run's peak RSS (Linux only). Printed and written as JSON: the command, the machine (CPU,
cores, torch and the CPU kernel set it computes with, which decides the printed digits), the load average before and
after, each run's wall time and peak RSS, their min / median / max, and the stdout of the last run (the table the
README shows as the expected output: `python tools/make_docs.py` copies it from this file).

    python benchmarks/bench_first_run.py --out benchmarks/results/first_run.json     # 3 runs, ~5 minutes

Measure on a quiet machine: other work on the cores makes every figure larger (the load average is recorded).
No assertions: this script prints figures.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from bench_train import cpu_name

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-m", "mini_man.train"]


def pss_mb(pid: int) -> float:
    """Proportional set size (MB) of process `pid` from /proc/<pid>/smaps_rollup; 0 if it has ended."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:  # the process ended while we looked
        pass
    return 0.0


def tree_memory_mb(root: int) -> float:
    """Summed PSS (MB) of process `root` and all its descendants (parents read from /proc/<pid>/stat)."""
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += pss_mb(pid)
        todo += [child for child, up in parent.items() if up == pid]
    return total


def one_run() -> dict:
    """Run the first run once; wall seconds, peak RSS of the process tree, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(COMMAND, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_memory_mb(proc.pid))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    stdout = proc.stdout.read()
    if proc.returncode:
        raise SystemExit(f"{' '.join(COMMAND)} exited with code {proc.returncode}")
    return {"wall_s": wall, "peak_rss_mb": peak, "stdout": stdout}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="how many times to run it (default 3)")
    p.add_argument("--out", type=Path, help="write the figures as JSON to PATH")
    args = p.parse_args()
    if args.out and not args.out.resolve().parent.is_dir():
        p.error(f"--out: directory not found: {args.out.resolve().parent}")
    load_before = os.getloadavg()
    runs = []
    for i in range(args.runs):
        runs.append(one_run())
        print(f"run {i + 1}: {runs[-1]['wall_s']:.1f} s, peak RSS {runs[-1]['peak_rss_mb']:.0f} MB", flush=True)
    walls, peaks = [r["wall_s"] for r in runs], [r["peak_rss_mb"] for r in runs]
    result = {
        "command": "python -m mini_man.train",
        # "torch kernels": the CPU's own set, which the command line computes with (it pins none), and which decides
        # the printed digits
        "machine": {"cpu": cpu_name() or platform.machine(), "cores": len(os.sched_getaffinity(0)),
                    "torch": torch.__version__, "torch kernels": torch.backends.cpu.get_cpu_capability(),
                    "python": platform.python_version()},
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "runs": [{"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"]} for r in runs],
        "wall_s": {"min": min(walls), "median": statistics.median(walls), "max": max(walls)},
        "peak_rss_mb": {"max": max(peaks)},
        "stdout": runs[-1]["stdout"],
    }
    print(f"wall time min / median / max: {min(walls):.1f} / {statistics.median(walls):.1f} / {max(walls):.1f} s; "
          f"peak RSS {max(peaks):.0f} MB; {result['machine']['cores']} cores, load average "
          f"{load_before[0]:.1f} -> {result['load_average']['after'][0]:.1f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
