"""One training epoch of `man` through the CLI on a generated dataset of the processed Amazon release's size.

The authors' processed Amazon files have 9,684 users and 66,161 items over both domains (notes
`official_code.md` §8), about 20 interactions per user. `mini_man.sample.generate` makes a pair of files of that
size in a temporary folder (seed 0, the defaults below):
  A (Video Games): 4,000 users, a catalogue of 30,650 items of which 27,441 occur;
  B (Toys):        5,718 users (34 of them also A users), a catalogue of 49,450 of which 42,107 occur;
  together:        9,684 users, 66,152 items, 193,212 interactions (20.0 per user).
Popularity is flattened (zipf_shift 1000) so that most of each catalogue occurs, and `--kcore 1` keeps every user
and item, so the sizes above are the sizes trained on. Then

    python -m mini_man.train --models man --epochs 1 --kcore 1 --patience 0 --weight-decay 0 --out ...

runs in a child process (T = 20, D = 20, K = 9, batch 128: the CLI's defaults). Printed: the time of
`data.prepare` (timed here, in this process), the epoch's seconds from the JSON history (training plus the
validation pass), training instances per second over that time, the test time, the child's wall and CPU
time (CPU time shows whether other work on the machine slowed the run) and its peak RSS.
Target: < 60 s per epoch on 2 cores. No assertions: this script prints figures.
The CLI's test ranks every test history against every item of its domain (HR/NDCG@10 full, ISA included): at this
size that takes far longer than the epoch; `--full-ranking N` ranks N random test histories per domain instead, and
`--epoch-only` stops the CLI after the epoch.

    .venv/bin/python benchmarks/bench_epoch.py --epoch-only              # ~1 min
    .venv/bin/python benchmarks/bench_epoch.py --full-ranking 500        # with the test, 500 histories fully ranked
    .venv/bin/python benchmarks/bench_epoch.py                           # with the full test
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mini_man import data
from mini_man.sample import generate

EPOCH_LINE = re.compile(r"epoch +1/1 .*\(([0-9.]+) s\)")  # train.fit's progress line


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", type=int, nargs=2, default=(4000, 5718), help="users of A and B (generated)")
    p.add_argument("--items", type=int, nargs=2, default=(30650, 49450), help="catalogue of A and B (generated)")
    p.add_argument("--batch-size", type=int, default=None, help="passed to the CLI (default: the CLI's)")
    p.add_argument("--cores", type=int, default=None,
                   help="run the CLI on N of this process's cores (it uses one thread per core; default: all). "
                        "On a busy machine, 1 avoids threads waiting for each other at every parallel region")
    p.add_argument("--epoch-only", action="store_true",
                   help="stop the CLI after the epoch: skip its test, whose full ranking (every test history "
                        "against every item of its domain, ISA included) takes far longer than the epoch here")
    p.add_argument("--full-ranking", default="all", metavar="N|all",
                   help="passed to the CLI: test histories per domain ranked against all items (default: all)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        sample = generate(users=tuple(args.users), items=tuple(args.items), length=(20.0, 20.0),
                          zipf_shift=(1000.0, 1000.0), seed=0)
        paths = sample.write(tmp)[:2]  # the two ratings CSVs (then the ground truth, unused here)
        print(f"generated {len(sample.a):,} + {len(sample.b):,} rows in {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        d = data.prepare(*paths, kcore=1)
        prepare_s = time.perf_counter() - t
        users = np.union1d(*[dd.users for dd in d.domains.values()])
        stats = {name: dd.stats() for name, dd in d.domains.items()}
        records = sum(s["train"] + s["valid"] + s["test"] + s["users"] for s in stats.values())  # + 1st item each
        for name, s in stats.items():
            print(f"  domain {name}: {s}")
        print(f"  both: {len(users):,} users, {d.n_global_items - 1:,} items, {records:,} interactions "
              f"({records / len(users):.1f} per user)")
        print(f"prepare(): {prepare_s:.1f} s")

        out = tmp / "epoch.json"
        cmd = [sys.executable, "-m", "mini_man.train", "--domain-a", str(paths[0]), "--domain-b", str(paths[1]),
               "--models", "man", "--epochs", "1", "--kcore", "1", "--patience", "0", "--weight-decay", "0",
               "--out", str(out), "--full-ranking", args.full_ranking]  # one setting: plain Adam
        if args.batch_size:
            cmd += ["--batch-size", str(args.batch_size)]
        cores = sorted(os.sched_getaffinity(0))[:args.cores]
        t = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=lambda: os.sched_setaffinity(0, cores))
        epoch_s = None
        for line in child.stderr:  # the CLI's progress lines
            found = EPOCH_LINE.search(line)
            if found:
                epoch_s = float(found.group(1))  # as logged: 0.1 s resolution
                if args.epoch_only:
                    child.terminate()
        child.wait()
        wall = time.perf_counter() - t
        if epoch_s is None:
            sys.exit(f"the CLI failed (exit {child.returncode}): {' '.join(cmd)}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mb, cpu_s = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # Linux: ru_maxrss in KiB
        n_train = sum(s["train"] for s in stats.values())
        test = "test skipped (--epoch-only)"
        if not args.epoch_only:
            run = json.loads(out.read_text())["runs"]["man"][0]
            epoch_s = run["history"][0]["seconds"]
            test = (f"test (sampled, and full ranking of {args.full_ranking} test histories per domain) "
                    f"{run['seconds'] - epoch_s:.1f} s")
        print(f"one epoch of man (batch {args.batch_size or 'default'}, {len(cores)} threads): {epoch_s:.1f} s for "
              f"{n_train:,} training instances + validation = {n_train / epoch_s:,.0f} instances/s; {test}; CLI wall "
              f"{wall:.1f} s (CPU {cpu_s:.1f} s); peak RSS {peak_mb:.0f} MB")

if __name__ == "__main__":
    main()
