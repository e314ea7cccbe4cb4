"""Training cost per target of MAN (one target per history, and every position in one causal pass) vs `sasrec`.

A target is one next item the loss scores: one training instance of `man` (a history and its 1 + K candidates),
one real position of a sequence for `man-ep` (1 + K candidates per position, K = the recipe's 9) and `sasrec`
(1 + 1: the reference's one negative). A step is `train.train_step` on a batch of the trainer's own epoch rows
(`train.epoch_inputs`, `epoch_batches`, `interleave`: A, B, A, B, ...): forward, backward and the Adam step of
the model's recipe. The models take turns step by step, so a slow spell of the machine hits all of them alike.
After `--warmup` steps each, `--steps` steps of each are timed; seconds per target = their total time / the
targets they held. Also measured, each a change to `man-ep`'s recipe or build: K = 1 (what ISA's per-candidate
work costs), 128 sequences per step (sasrec's batch) instead of the recipe's 16 (what the small batch costs), both
(sasrec's steps), sasrec's build (dot head, last position, dropout 0.2, sqrt(D) scaling: `SASREC_BUILD`), and
that build trained as sasrec is (128 sequences, K = 1, lr 1e-3 without warm-up: `SASREC_TRAINING`).

Per target is not per run: a model that needs more epochs costs more however cheap its steps. So for the rows
whose training has committed 5-seed (or 2-seed) runs (`RUNS`, read through `mini_man.reference`), the script also
prints the training targets those runs saw until they stopped (epochs per domain x targets per epoch) and what
they cost at this run's seconds per target (training only, validation not counted): `per_run`.

    python benchmarks/bench_per_target.py --out benchmarks/results/bench_per_target.json   # data/sample, 1 thread

Target: a MAN-family model at most 3x `sasrec` per target (`*_per_target_over_sasrec`). No assertions: this
script prints figures.
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
from mini_man import data, reference, train

ROOT = Path(__file__).resolve().parent.parent
SASREC_TRAINING = dict(batch_size=128, n_neg=1, lr=1e-3, warmup_steps=0)  # sasrec's steps (its Adam betas aside)
SASREC_BUILD = dict(head="dot", pool="last", dropout=0.2, scale_embeddings=True)  # sasrec's scoring and backbone
MODELS = {  # label -> (changes to the model's recipe, `train.recipe`; changes to its config, `train.build_model`)
    "man": ({}, {}), "man-ep": ({}, {}), "man-ep (K = 1)": (dict(n_neg=1), {}),
    "man-ep (batch 128)": (dict(batch_size=128), {}), "man-ep (batch 128, K = 1)": (SASREC_TRAINING, {}),
    "man-ep (sasrec's build)": ({}, SASREC_BUILD), "man-ep (as sasrec)": (SASREC_TRAINING, SASREC_BUILD),
    "sasrec": ({}, {})}
RUNS = {  # label -> (setting, model) of `mini_man.reference` whose committed runs were trained so: epochs per run
    "man": ("sample-plain", "man"), "man-ep": ("factorial-man_ep", "man-ep"),
    "man-ep (sasrec's build)": ("scale-ep-dot-last", "man-ep"), "man-ep (as sasrec)": ("sasrec-training", "man-ep"),
    "sasrec": ("sample-plain", "sasrec")}


def timed_steps(d: data.CrossDomainData, steps: int, warmup: int, batch_size: int | None = None,
                seed: int = 0) -> dict:
    """{label: {"seconds", "targets", "steps", "n_neg", "batch_size", "seconds_per_target"}} over the timed steps
    of each model of `MODELS`, each with its recipe's batch size unless `batch_size` is given."""
    tensors = train.to_device(d, "cpu")
    runs = {}
    for label, (change, build) in MODELS.items():
        name = label.split(" ")[0]
        tcfg = replace(train.TrainConfig(seed=seed), **{**train.recipe(name), **change})
        tcfg = tcfg if batch_size is None else replace(tcfg, batch_size=batch_size)
        torch.manual_seed(seed)
        model = train.build_model(name, d, **build).train()
        rng = np.random.default_rng(seed)
        inputs = {x: train.epoch_inputs(model, d.domains[x], tensors[x]["train"], tcfg, rng) for x in train.DOMAINS}
        batches = {x: train.epoch_batches(len(inputs[x][0]), tcfg.batch_size, rng, "cpu") for x in train.DOMAINS}
        order = train.interleave(batches)
        order = (order * (1 + (warmup + steps) // len(order)))[: warmup + steps]  # epochs repeat if too short
        per_epoch = {x: int((inputs[x][1] > 0).sum()) if model.every_position else len(inputs[x][0])
                     for x in train.DOMAINS}  # training targets of an epoch per domain
        runs[label] = dict(model=model, optimizer=train.make_optimizer(model.parameters(), tcfg), inputs=inputs,
                           order=order, n_neg=tcfg.n_neg, batch_size=tcfg.batch_size, seconds=0.0, targets=0,
                           targets_per_epoch=per_epoch)
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
                        batch_size=r["batch_size"], seconds_per_target=r["seconds"] / r["targets"],
                        targets_per_epoch=r["targets_per_epoch"]) for label, r in runs.items()}


def per_run(runs: dict) -> dict:
    """{label: {"setting", "epochs", "targets", "seconds"}} for the labels of `RUNS`: the mean over the committed
    runs (`mini_man.reference`) of the epochs each domain trained (until early stopping or the budget) and of the
    training targets that makes (epochs x `targets_per_epoch`, summed over the domains), and the training seconds
    that many targets take at this run's seconds per target (validation not counted)."""
    out = {}
    for label, (setting, model) in RUNS.items():
        trained = reference.report(setting, model)["runs"][model]
        per_epoch = runs[label]["targets_per_epoch"]
        targets = float(np.mean([sum(r["last_epoch"][x] * per_epoch[x] for x in train.DOMAINS) for r in trained]))
        out[label] = dict(setting=setting, seeds=len(trained),
                          epochs={x: float(np.mean([r["last_epoch"][x] for r in trained])) for x in train.DOMAINS},
                          targets=targets, seconds=targets * runs[label]["seconds_per_target"])
    return out


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
    whole = per_run(runs)
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
        "man_every_position_batch128_k1_per_target_over_sasrec":
            runs["man-ep (batch 128, K = 1)"]["seconds_per_target"] / sasrec,
        "man_every_position_as_sasrec_per_target_over_sasrec":
            runs["man-ep (as sasrec)"]["seconds_per_target"] / sasrec,
        "per_run": whole,
        "man_per_run_over_sasrec": whole["man"]["seconds"] / whole["sasrec"]["seconds"],
        "man_every_position_per_run_over_sasrec": {label: whole[label]["seconds"] / whole["sasrec"]["seconds"]
                                                   for label in whole if label.startswith("man-ep")},
        "notes": NOTES,
    }
    print(f"{'model':<26} {'batch':>5} {'1 + K':>5} {'targets':>8} {'seconds':>8} {'ms/target':>10} {'/ sasrec':>8}")
    for label, r in runs.items():
        print(f"{label:<26} {r['batch_size']:>5} {1 + r['n_neg']:>5} {r['targets']:>8} {r['seconds']:>8.2f} "
              f"{1e3 * r['seconds_per_target']:>10.4f} {r['seconds_per_target'] / sasrec:>8.2f}")
    print(f"\n{'per converged run':<26} {'setting':<18} {'epochs A, B':>12} {'targets':>9} {'seconds':>8} {'/ sasrec':>8}")
    for label, r in whole.items():
        print(f"{label:<26} {r['setting']:<18} {r['epochs']['A']:>5.1f}, {r['epochs']['B']:>5.1f} {r['targets']:>9.0f} "
              f"{r['seconds']:>8.1f} {r['seconds'] / whole['sasrec']['seconds']:>8.2f}")
    m = result["machine"]
    print(f"{m['threads']} thread(s), {m['cpu']}, torch {m['torch']}, load average "
          f"{m['loadavg_before'][0]:.1f} -> {m['loadavg_after'][0]:.1f}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


NOTES = ("man re-encodes each target's history (two encoders, SFA, GPA, ISA, both MLPs per instance). man-ep "
         "encodes a sequence once (embeddings, both encoders, the query-causal SFA) and per target computes only "
         "what depends on the target's prefix or candidates: GPA per prefix, the running means, ISA over the "
         "prefix's real positions for each of the 1 + K candidates, and both prediction heads per candidate. What "
         "remains per target is mostly ISA's MLP over (prefix position, candidate) pairs (the K = 1 rows) and, at "
         "the recipe's 16 sequences per step, the fixed cost of a step (the batch-128 rows). per_run: what the "
         "committed runs of each training cost until they stopped, at these speeds (training only). Timings on a "
         "shared machine: compare the rows of one run.")


def shown(path: Path) -> str:
    """`path` relative to the repository when it lies inside it (the JSON does not depend on the checkout)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


if __name__ == "__main__":
    main()
