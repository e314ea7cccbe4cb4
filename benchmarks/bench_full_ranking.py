"""Full-ranking throughput of `man` (`MAN.score_all`) against the machine's throughput on the same matrix products.

(a) `score_all` on a batch of test histories (the trainer's eval batch, 64) against every item of a domain of the
real-scale two-domain set (issue 14: ~12k items in A, ~38k in B), in (history, item) pairs per second. (b) The
matrix products that this `score_all` call runs -- recorded with torch.profiler (every aten::mm, addmm and bmm,
with its shapes and count), then replayed as plain `torch.mm` / `torch.bmm` on random contiguous tensors of those
shapes -- in the same pairs per second: the speed `score_all` would have if everything but its matrix products
were free. Target (issue 14): (a) within 2x of (b). A large square matrix product gives the machine's peak for
reference. (a) and (b) take turns (see bench_train.median_seconds); medians over `--repeats` rounds.

`single` (SASRec with the paper's MLP head) is timed in the same turns, with the floating-point operations of its
matrix products. The time of man's matrix products alone, at the speed of (b), over single's whole `score_all` time
is a lower bound on the ratio of their full-ranking times that any restructuring of the same arithmetic can reach.

    python benchmarks/bench_full_ranking.py --out benchmarks/results/bench_full_ranking.json

Histories: right-aligned, lengths uniform in 1..T (about half the positions real, as in bench_train).
"""
import argparse
import json
import os
import platform
import sys
import time
from collections import Counter

import torch
from torch.profiler import ProfilerActivity, profile

from bench_train import build, cpu_name, median_seconds

SETTING = dict(batch=64, n_items={"A": 11_700, "B": 37_900}, n_global=49_600,
               cfg=dict(item_dim=16, domain_dim=4, max_len=20))
MATMULS = ("aten::mm", "aten::addmm", "aten::bmm")


def histories(setting: dict, domain: str, seed: int = 0) -> torch.Tensor:
    """(B, T) right-aligned histories of random items, lengths uniform in 1..T."""
    B, T, n = setting["batch"], setting["cfg"]["max_len"], setting["n_items"][domain]
    g = torch.Generator().manual_seed(seed)
    hist = torch.randint(1, n, (B, T), generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    hist[torch.arange(T).expand(B, T) < (T - lengths).unsqueeze(1)] = 0
    return hist


def recorded_matmuls(fn) -> Counter:
    """Counter {(op, shapes): calls} of the matrix products that `fn()` runs (the profiler's leaf aten ops)."""
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        fn()
    calls = Counter()
    for e in prof.events():
        if e.name in MATMULS:
            shapes = [tuple(s) for s in e.input_shapes if len(s) >= 2]  # addmm: drop the bias
            calls[(e.name, tuple(shapes))] += 1
    return calls


def replay(calls: Counter):
    """A function running the recorded matrix products as plain mm / bmm on random tensors of the same shapes,
    and their floating-point operations."""
    work, flops = [], 0
    for (name, (a, b)), count in calls.items():
        x, y = torch.randn(a), torch.randn(b)
        work += [(torch.bmm if name == "aten::bmm" else torch.mm, x, y)] * count
        flops += 2 * count * x.numel() * y.shape[-1]
    return (lambda: [f(x, y) for f, x, y in work]), flops


def peak_gflops(n: int = 1024, repeats: int = 5) -> float:
    """GFLOP/s of an (n, n) @ (n, n) product, the best of `repeats`."""
    x, y = torch.randn(n, n), torch.randn(n, n)
    best = min(_seconds(lambda: x @ y) for _ in range(repeats))
    return 2 * n ** 3 / best / 1e9


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (median)")
    parser.add_argument("--domains", default="A,B", help="comma-separated: A, B")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--profile", action="store_true",
                        help="also print where man's score_all spends its time in the last domain: a torch.profiler "
                             "table, and the share of ISA (man-no-isa's score_all, timed in turns)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, single = build("man", SETTING).eval(), build("single", SETTING).eval()
    results = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "machine": platform.processor()
               or platform.machine(), "cpu": cpu_name(), "threads": torch.get_num_threads(),
               "torch": torch.__version__, "loadavg_before": os.getloadavg()}
    for d in args.domains.split(","):
        hist = histories(SETTING, d)
        score = lambda: model.score_all(d, hist)  # noqa: E731
        score_single = lambda: single.score_all(d, hist)  # noqa: E731
        matmuls, flops = replay(recorded_matmuls(score))
        _, flops_single = replay(recorded_matmuls(score_single))
        t = median_seconds({"score_all": score, "matmuls": matmuls, "single": score_single}, args.repeats, warmup=1)
        pairs = len(hist) * SETTING["n_items"][d]
        results[d] = {"histories": len(hist), "items": SETTING["n_items"][d], "real_positions": int((hist > 0).sum()),
                      "score_all_pairs_per_s": pairs / t["score_all"], "matmul_pairs_per_s": pairs / t["matmuls"],
                      "score_all_over_matmul": t["score_all"] / t["matmuls"],
                      "matmul_gflop_per_s": flops / t["matmuls"] / 1e9, "score_all_seconds": t["score_all"],
                      "matmul_flop_per_pair": flops / pairs, "single_matmul_flop_per_pair": flops_single / pairs,
                      "single_score_all_seconds": t["single"], "man_over_single_seconds": t["score_all"] / t["single"],
                      "man_matmuls_over_single_seconds": t["matmuls"] / t["single"]}
    results["peak_gflop_per_s_1024"] = peak_gflops()
    results["loadavg_after"] = os.getloadavg()
    print(f"{'domain':<7} {'items':>6} {'(a) score_all pairs/s':>22} {'(b) matmuls pairs/s':>20} {'a/b time':>9} "
          f"{'(b) GFLOP/s':>11} {'FLOP/pair man':>13} {'single':>7} {'man/single':>10} {'(b)/single':>10}")
    for d in args.domains.split(","):
        r = results[d]
        print(f"{d:<7} {r['items']:>6} {r['score_all_pairs_per_s']:>22,.0f} {r['matmul_pairs_per_s']:>20,.0f} "
              f"{r['score_all_over_matmul']:>9.2f} {r['matmul_gflop_per_s']:>11.1f} "
              f"{r['matmul_flop_per_pair']:>13,.0f} {r['single_matmul_flop_per_pair']:>7,.0f} "
              f"{r['man_over_single_seconds']:>10.1f} "
              f"{r['man_matmuls_over_single_seconds']:>10.1f}")
    print(f"peak (1024^3 matmul): {results['peak_gflop_per_s_1024']:.0f} GFLOP/s; {results['threads']} threads; "
          f"load average {results['loadavg_before'][0]:.1f} -> {results['loadavg_after'][0]:.1f}")
    if args.profile:
        print(profile_score_all(model, args.domains.split(",")[-1], args.repeats))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)


def profile_score_all(model, domain: str, repeats: int) -> str:
    """A torch.profiler table of `model.score_all` on `domain`'s test histories, then its median time against
    man-no-isa's (the same call without ISA), in turns."""
    hist = histories(SETTING, domain)
    no_isa = build("man-no-isa", SETTING).eval()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.score_all(domain, hist)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
    t = median_seconds({"man": lambda: model.score_all(domain, hist),
                        "man-no-isa": lambda: no_isa.score_all(domain, hist)}, repeats, warmup=1)
    return (f"{table}\nscore_all on {domain}: man {t['man']:.3f} s, man-no-isa {t['man-no-isa']:.3f} s "
            f"(ISA: {1 - t['man-no-isa'] / t['man']:.0%} of man's time)")


if __name__ == "__main__":
    main()
