"""Time `data.prepare` end to end on a generated 3-million-row pair of files, and report its peak memory.

The real Amazon-2014 files have 1.3M (Video Games) and 2.25M (Toys and Games) rows. Both files are generated
by `mini_man.sample.generate` into a temporary folder, in the real format. Two shapes:
- dense (default): A 1.3M rows, B about 1.75M rows, ~20 and ~13 rows per user; most rows survive the 10-core,
  the expensive case for building instances and candidates;
- amazon: the real files' sizes (Table 5: 826,767 + 1,342,911 users, 50,210 + 327,698 items, 1.3M + 2.25M rows,
  ~1.6 rows per user); the 10-core keeps few rows, so loading and filtering dominate. `prepare` runs in a fresh child process, so the peak RSS is that of `prepare` alone
(loading, filtering, splitting, histories and candidates). Targets: < 60 s and < 4 GB on 2 cores.
No assertions: this script prints figures.

    .venv/bin/python benchmarks/bench_data.py [--shape amazon]
"""
import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mini_man import data
from mini_man.sample import FILES, generate

SHAPES = {
    "dense": dict(users=(62000, 130000), items=(30000, 60000)),
    "amazon": dict(users=(826767, 1342911), items=(50210, 327698), length=(1.6, 1.68), min_len=1),
}


def child(path_a: str, path_b: str) -> None:
    t = time.perf_counter()
    d = data.prepare(path_a, path_b)
    seconds = time.perf_counter() - t
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB
    for name, dd in d.domains.items():
        print(f"  domain {name}: {dd.stats()}")
    print(f"prepare(): {seconds:.1f} s, peak RSS {peak_gb:.2f} GB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", choices=SHAPES, default="dense")
    p.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child(*args.child)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        sample = generate(**SHAPES[args.shape], seed=0)
        paths = [Path(tmp) / f for f in FILES]
        for df, path in zip((sample.a, sample.b), paths):
            df.to_csv(path, header=False, index=False, float_format="%.1f", lineterminator="\n")
        print(f"generated {len(sample.a):,} + {len(sample.b):,} = {len(sample.a) + len(sample.b):,} rows "
              f"({sum(f.stat().st_size for f in paths) / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        subprocess.run([sys.executable, __file__, "--child", *map(str, paths)], check=True)


if __name__ == "__main__":
    main()
