"""Training cost per target of MAN (one target per history, and every position in one causal pass) vs `sasrec`.

A target is one next item the loss scores: one training instance of `man` (a history and its 1 + K candidates),
one real position of a sequence for `man-ep` (1 + K candidates per position, K = the recipe's 9) and `sasrec`
(1 + 1: the reference's one negative). A step is `train.train_step` on a batch of the trainer's own epoch rows
(`train.epoch_inputs`, `epoch_batches`, `interleave`: A, B, A, B, ...): forward, backward and the Adam step of
the model's recipe. The models take turns step by step, so a slow spell of the machine hits all of them alike.
After `--warmup` steps each, `--steps` steps of each are timed; seconds per target = their total time / the
targets they held. Also measured: `man-ep` with K = 1, which shows what ISA's per-candidate work costs, and with
128 sequences per step (sasrec's batch) instead of its recipe's 16, which shows what the small batch costs.

    python benchmarks/bench_per_target.py --out benchmarks/results/bench_per_target.json   # data/sample, 1 thread

Target: `man_every_position_per_target_over_sasrec` <= 3. No assertions: this script prints figures.
"""
import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from bench_train import cpu_name
from mini_man import data, train

ROOT = Path(__file__).resolve().parent.parent
MODELS = {"man": {}, "man-ep": {}, "man-ep (K = 1)": dict(n_neg=1), "man-ep (batch 128)": dict(batch_size=128),
          "sasrec": {}}  # label -> changes to the model's recipe (`train.recipe`)


def timed_steps(d: data.CrossDomainData, steps: int, warmup: int, batch_size: int | None = None,
                seed: int = 0) -> dict:
    """{label: {"seconds", "targets", "steps", "n_neg", "batch_size", "seconds_per_target"}} over the timed steps
    of each model of `MODELS`, each with its recipe's batch size unless `batch_size` is given."""
    tensors = train.to_device(d, "cpu")
    runs = {}
    for label, change in MODELS.items():
        name = label.split(" ")[0]
        tcfg = replace(train.TrainConfig(seed=seed), **{**train.recipe(name), **change})
        tcfg = tcfg if batch_size is None else replace(tcfg, batch_size=batch_size)
        torch.manual_seed(seed)
        model = train.build_model(name, d).train()
        rng = np.random.default_rng(seed)
        inputs = {x: train.epoch_inputs(model, d.domains[x], tensors[x]["train"], tcfg, rng) for x in train.DOMAINS}
        batches = {x: train.epoch_batches(len(inputs[x][0]), tcfg.batch_size, rng, "cpu") for x in train.DOMAINS}
        order = train.interleave(batches)
        order = (order * (1 + (warmup + steps) // len(order)))[: warmup + steps]  # epochs repeat if too short
        runs[label] = dict(model=model, optimizer=train.make_optimizer(model.parameters(), tcfg), inputs=inputs,
                           order=order, n_neg=tcfg.n_neg, batch_size=tcfg.batch_size, seconds=0.0, targets=0)
    for i in range(warmup + steps):
        for r in runs.values():
            domain, idx = r["order"][i]
            batch = [x[idx] for x in r["inputs"][domain]]
            start = time.perf_counter()
            train.train_step(r["model"], r["model"], r["optimizer"], domain, batch)
            if i >= warmup:
                r["seconds"] += time.perf_counter() - start
                r["targets"] += int((batch[1] > 0).sum()) if r["model"].every_position else len(idx)
    return {label: dict(seconds=r["seconds"], targets=r["targets"], steps=steps, n_neg=r["n_neg"],
                        batch_size=r["batch_size"], seconds_per_target=r["seconds"] / r["targets"])
            for label, r in runs.items()}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--domain-a", type=Path, default=ROOT / "data/sample/video_games.csv")
    p.add_argument("--domain-b", type=Path, default=ROOT / "data/sample/toys.csv")
    p.add_argument("--kcore", type=int, default=10, help="k-core filter of data.prepare (default: the CLI's 10)")
    p.add_argument("--steps", type=int, default=60, help="timed steps per model (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=4, help="untimed steps per model first (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="rows per step for every model (default: each model's recipe: 128 instances for man, 128 "
                        "users' sequences for sasrec, 16 for man-ep)")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default: %(default)s)")
    p.add_argument("--out", type=Path, help="write the results as JSON here")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    d = data.prepare(args.domain_a, args.domain_b, kcore=args.kcore)
    load_before = os.getloadavg()
    runs = timed_steps(d, args.steps, args.warmup, args.batch_size)
    sasrec = runs["sasrec"]["seconds_per_target"]
    result = {
        "command": " ".join(["python", "benchmarks/bench_per_target.py", *(sys.argv[1:] if argv is None else argv)]),
        "machine": {"cpu": cpu_name() or platform.machine(), "cores": os.cpu_count(),
                    "threads": torch.get_num_threads(), "torch": torch.__version__,
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "data": {"domain_a": shown(args.domain_a), "domain_b": shown(args.domain_b), "kcore": args.kcore},
        "runs": runs,
        "man_per_target_over_sasrec": runs["man"]["seconds_per_target"] / sasrec,
        "man_every_position_per_target_over_sasrec": runs["man-ep"]["seconds_per_target"] / sasrec,
        "man_every_position_k1_per_target_over_sasrec": runs["man-ep (K = 1)"]["seconds_per_target"] / sasrec,
        "man_every_position_batch128_per_target_over_sasrec":
            runs["man-ep (batch 128)"]["seconds_per_target"] / sasrec,
        "notes": NOTES,
    }
    print(f"{'model':<18} {'batch':>5} {'1 + K':>5} {'targets':>8} {'seconds':>8} {'ms/target':>10} {'/ sasrec':>8}")
    for label, r in runs.items():
        print(f"{label:<18} {r['batch_size']:>5} {1 + r['n_neg']:>5} {r['targets']:>8} {r['seconds']:>8.2f} "
              f"{1e3 * r['seconds_per_target']:>10.4f} {r['seconds_per_target'] / sasrec:>8.2f}")
    m = result["machine"]
    print(f"{m['threads']} thread(s), {m['cpu']}, torch {m['torch']}, load average "
          f"{m['loadavg_before'][0]:.1f} -> {m['loadavg_after'][0]:.1f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


NOTES = ("man re-encodes each target's history (two encoders, SFA, GPA, ISA, both MLPs per instance). man-ep "
         "encodes a sequence once (embeddings, both encoders, the query-causal SFA) and per target computes only "
         "what depends on the target's prefix or candidates: GPA per prefix (all T prefixes of a sequence at "
         "once), the running means, ISA over the prefix's real positions for each of the 1 + K candidates, and "
         "both prediction MLPs per candidate. What remains is mostly ISA: its MLP runs on (prefix position, "
         "candidate) pairs, about t x (1 + K) per target at position t, where sasrec does one dot product per "
         "candidate (the K = 1 row); the rest is the recipe's small batch of 16 sequences (the batch-128 row: the "
         "same model and K at sasrec's batch). Timings on a shared machine: compare the rows of one run.")


def shown(path: Path) -> str:
    """`path` relative to the repository when it lies inside it (the JSON does not depend on the checkout)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    main()
