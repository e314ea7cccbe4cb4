"""A whole run of `man` and `single` at the scale of issue 14's real Amazon Game/Toy set: training per epoch, the
test with full ranking of every test history, and man's whole run over single's, in one process.

`mini_man.sample.generate` makes a two-domain set of about 8,000 users and 11.7k + 37.9k items (the real set's
sizes; popularity flattened so that most of each catalogue occurs), prepared with `--kcore 1` and the
leave-one-out split (1 + 9 candidates). Each model is built, trained for `--epochs` epochs with the trainer's
defaults (`TrainConfig`: batch 128, K = 9) and tested with `train.test`: sampled metrics, and full-ranking
HR/NDCG@10 of every test history against every item of its domain. Printed and written: seconds per epoch
(training + validation), test seconds, the whole run (build + training + test), and the same whole run with 12
epochs (the CLI's default) projected from the median epoch -- labelled as projected.
Target (issue 14): man's whole run <= 3x single's, full ranking included.

    python benchmarks/bench_scale.py --epochs 2 --out benchmarks/results/bench_scale.json
"""
import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import torch

from mini_man import data, train
from mini_man.sample import generate


def run_model(name: str, d, tensors, tcfg: train.TrainConfig) -> dict:
    """Build, fit and test `name` once; the seconds of each part."""
    start = time.perf_counter()
    torch.manual_seed(tcfg.seed)
    model = train.build_model(name, d, tcfg.device)
    fit = train.fit(model, d, tensors, tcfg)
    trained = time.perf_counter()
    results = train.test(model, d, tensors, fit.best_state, tcfg.eval_batch_size, tcfg.full_ranking)
    end = time.perf_counter()
    epochs = [h["seconds"] for h in fit.history]
    return {"epoch_seconds": epochs, "train_seconds": trained - start, "test_seconds": end - trained,
            "whole_seconds": end - start,
            "whole_seconds_12_epochs_projected": end - start - sum(epochs) + 12 * statistics.median(epochs),
            "hr@10_full": {x: results[x]["hr@10_full"] for x in results}}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, nargs=2, default=(4000, 4000), help="users of A and B (generated)")
    p.add_argument("--items", type=int, nargs=2, default=(12500, 40500), help="catalogue of A and B (generated)")
    p.add_argument("--epochs", type=int, default=2, help="training epochs per model (default 2)")
    p.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    p.add_argument("--full-ranking", type=int, default=None, metavar="N",
                   help="full-rank N random test histories per domain (default: all, as the target requires)")
    p.add_argument("--out", help="write the results as JSON here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        sample = generate(users=tuple(args.users), items=tuple(args.items), length=(20.0, 20.0),
                          zipf_shift=(1000.0, 1000.0), seed=0)
        d = data.prepare(*sample.write(tmp)[:2], kcore=1, split="loo")
    sizes = {x: {"users": len(dd.users), "items": dd.n_items - 1, "train": len(dd.train.target),
                 "test": len(dd.test.target)} for x, dd in d.domains.items()}
    print(f"data: {sizes}")
    tcfg = train.TrainConfig(epochs=args.epochs, full_ranking=args.full_ranking)
    tensors = train.to_device(d, tcfg.device)
    out = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "machine": platform.machine(),
           "threads": torch.get_num_threads(), "torch": torch.__version__, "data": sizes,
           "loadavg_before": os.getloadavg()}
    for name in ("man", "single"):
        out[name] = r = run_model(name, d, tensors, tcfg)
        print(f"{name:<7} epochs {', '.join(f'{s:.1f}' for s in r['epoch_seconds'])} s; test {r['test_seconds']:.1f} s;"
              f" whole run {r['whole_seconds']:.1f} s ({r['whole_seconds_12_epochs_projected']:.0f} s projected to "
              f"12 epochs); HR@10 (full) {r['hr@10_full']}", flush=True)
    out["loadavg_after"] = os.getloadavg()
    for key in ("whole_seconds", "whole_seconds_12_epochs_projected", "test_seconds"):
        out[f"man_over_single_{key}"] = out["man"][key] / out["single"][key]
    out["man_over_single_epoch"] = (statistics.median(out["man"]["epoch_seconds"])
                                    / statistics.median(out["single"]["epoch_seconds"]))
    print(f"man / single: whole run {out['man_over_single_whole_seconds']:.2f}x ({args.epochs} epochs), "
          f"{out['man_over_single_whole_seconds_12_epochs_projected']:.2f}x (12 epochs, projected); epoch "
          f"{out['man_over_single_epoch']:.2f}x; test {out['man_over_single_test_seconds']:.2f}x; load average "
          f"{out['loadavg_before'][0]:.1f} -> {out['loadavg_after'][0]:.1f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
