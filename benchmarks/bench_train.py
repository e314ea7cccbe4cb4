"""Training throughput of MAN and its SASRec baseline (`single`), measured in the same run.

One instance = one history plus its 1 + K candidates. A step = forward + backward + Adam step on one domain's
batch, as in training. Reported: the median over repeats after warm-up (the measured steps take turns, see
`median_seconds`), instances per second, the ratio man/single, seconds per step with K = 1 and K = 9 (for `man`,
and for `man-no-isa`: ISA is the only part that runs per candidate), and the peak resident memory; with
`--profile`, the cost of each attention module and a torch.profiler table.

    python benchmarks/bench_train.py                     # both settings, 2 threads
    python benchmarks/bench_train.py --settings amazon --runs 3 --profile --out benchmarks/results/bench_train.json

Settings: "amazon" = the paper's Amazon setup (T = 20, D = 16 + 4, K = 9, the processed release's 66,161 items
split over the two domains); "microvideo" = T = 250, D = 32 + 8, ISA MLP [80, 40], prediction MLP [100, 64]
(Sec. 4.1.3, A.5), at a smaller batch than the paper's 200 so the run stays short on a CPU.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch

from mini_man.config import variant
from mini_man.model import MAN

SETTINGS = {
    "amazon": dict(batch=256, n_items={"A": 26_000, "B": 40_162}, n_global=66_161,
                   cfg=dict(item_dim=16, domain_dim=4, max_len=20)),
    "microvideo": dict(batch=64, n_items={"A": 20_000, "B": 20_000}, n_global=36_000,
                       cfg=dict(item_dim=32, domain_dim=8, max_len=250, isa_hidden=(80, 40), pred_hidden=(100, 64))),
}


def build(name: str, setting: dict, seed: int = 0, device: str = "cpu") -> MAN:
    torch.manual_seed(seed)
    nA, nB, nG = setting["n_items"]["A"], setting["n_items"]["B"], setting["n_global"]
    global_ids = {"A": torch.arange(nA),  # B's items: the last nB - 1 global ids (A and B share none here)
                  "B": torch.cat([torch.zeros(1, dtype=torch.long), torch.arange(nG - nB + 1, nG)])}
    return MAN(variant(name, **setting["cfg"]), setting["n_items"], nG, global_ids).to(device)


def training_step(model: MAN, setting: dict, K: int):
    """A function doing one training step on a fixed domain-A batch with 1 + K candidates, as in training."""
    B, T, n = setting["batch"], setting["cfg"]["max_len"], setting["n_items"]["A"]
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(0)
    hist = torch.randint(1, n, (B, T), generator=g)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    hist[torch.arange(T).expand(B, T) < (T - lengths).unsqueeze(1)] = 0  # right-aligned, lengths 1..T
    cand = torch.randint(1, n, (B, 1 + K), generator=g)
    hist, cand = hist.to(device), cand.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)  # as in mini_man.train

    def step():
        opt.zero_grad(set_to_none=True)
        model.objective("A", model("A", hist, cand)).backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
    return step


def median_seconds(steps: dict, repeats: int, warmup: int = 3) -> dict:
    """{name: median seconds of `steps[name]()`}. The steps take turns (one of each per round), so a slow spell
    of the machine hits all of them alike and their ratios stay fair."""
    times = {name: [] for name in steps}
    for i in range(warmup + repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def run_setting(name: str, repeats: int) -> dict:
    setting = SETTINGS[name]
    B = setting["batch"]
    man, single, no_isa = (build(m, setting) for m in ("man", "single", "man-no-isa"))
    t = median_seconds({"man_k9": training_step(man, setting, 9), "man_k1": training_step(man, setting, 1),
                        "single_k9": training_step(single, setting, 9),
                        "no_isa_k9": training_step(no_isa, setting, 9),
                        "no_isa_k1": training_step(no_isa, setting, 1)}, repeats)
    r = {"batch": B, "T": setting["cfg"]["max_len"],
         "D": setting["cfg"]["item_dim"] + setting["cfg"]["domain_dim"], "K": 9}
    r["man_per_s"] = B / t["man_k9"]
    r["single_per_s"] = B / t["single_k9"]
    r["man_over_single_cost"] = t["man_k9"] / t["single_k9"]
    r["k1_seconds"], r["k9_seconds"] = t["man_k1"], t["man_k9"]
    r["k9_over_k1"] = t["man_k9"] / t["man_k1"]
    r["no_isa_k9_over_k1"] = t["no_isa_k9"] / t["no_isa_k1"]
    return r


def module_costs(repeats: int) -> str:
    """Milliseconds per `man` step at the Amazon setting (K = 9) with each attention module switched off in turn,
    and `single`, measured in turns: what each module costs is the gap to `man`."""
    setting = SETTINGS["amazon"]
    names = ("man", "man-no-isa", "man-no-sfa", "man-no-gpa", "single")
    t = median_seconds({n: training_step(build(n, setting), setting, 9) for n in names}, repeats)
    return "\n".join(f"{n:<11} {1e3 * t[n]:6.1f} ms/step  (man minus this: {1e3 * (t['man'] - t[n]):5.1f} ms)"
                     for n in names)


def profile_step(repeats: int = 5) -> str:
    """torch.profiler table of `man` training steps at the Amazon setting (self CPU time, top 15 ops)."""
    from torch.profiler import ProfilerActivity, profile

    step = training_step(build("man", SETTINGS["amazon"]), SETTINGS["amazon"], 9)
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default 2)")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per measurement (median)")
    parser.add_argument("--settings", default="amazon,microvideo", help="comma-separated: amazon, microvideo")
    parser.add_argument("--runs", type=int, default=1,
                        help="measure each setting this many times; the JSON keeps every run and the median run")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--profile", action="store_true",
                        help="also print what each attention module costs and a torch.profiler table of `man`")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "cpu": cpu_name()
               or platform.machine(), "torch": torch.__version__, "loadavg_before": os.getloadavg()}
    for name in args.settings.split(","):
        runs = [run_setting(name, args.repeats) for _ in range(args.runs)]
        ratios = [r["man_over_single_cost"] for r in runs]
        median = runs[ratios.index(statistics.median_low(ratios))]  # the run with the median cost ratio
        results[name] = {**median, "runs_man_over_single_cost": ratios}
    results["loadavg_after"] = os.getloadavg()
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results["threads"] = torch.get_num_threads()
    print(f"{'setting':<11} {'batch':>5} {'man/s':>8} {'single/s':>9} {'cost ratio':>10} "
          f"{'K=1 s':>8} {'K=9 s':>8} {'K9/K1':>6} {'K9/K1 no ISA':>12}")
    for name in args.settings.split(","):
        r = results[name]
        print(f"{name:<11} {r['batch']:>5} {r['man_per_s']:>8.0f} {r['single_per_s']:>9.0f} "
              f"{r['man_over_single_cost']:>10.2f} {r['k1_seconds']:>8.4f} {r['k9_seconds']:>8.4f} "
              f"{r['k9_over_k1']:>6.2f} {r['no_isa_k9_over_k1']:>12.2f}")
        if args.runs > 1:
            print(f"{'':<11} cost ratio over {args.runs} runs: "
                  f"{', '.join(f'{x:.2f}' for x in r['runs_man_over_single_cost'])} (the row is the median run)")
    print(f"peak RSS {results['peak_rss_mb']:.0f} MB, {results['threads']} threads, {results['cpu']}, load average "
          f"{results['loadavg_before'][0]:.1f} -> {results['loadavg_after'][0]:.1f}")
    if args.profile:
        print(module_costs(args.repeats))
        print(profile_step())
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else ''."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        return ""


if __name__ == "__main__":
    main()
