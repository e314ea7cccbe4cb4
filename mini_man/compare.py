"""Paired comparisons of two models over seeds, from the JSON files of `python -m mini_man.train --out`.

`python -m mini_man.compare RUN.json man single [--metric auc]` prints, per domain, the mean of the per-seed
differences (first model minus second) with a 95% t-interval over seeds. Both models must have been trained with
the same seeds on the same data (the same file, or two files of the same command with other models); a seed pairs
the two runs: same data, same evaluation candidates, same negatives drawn in the first epoch. A second file
(`--against OTHER.json`) compares the same model across two runs, e.g. the premise on and off.
`--by-history-length` adds the same comparison per bucket of history length (1-2, 3-5, 6-10, 11+ items before the
target; written by every run since the buckets were added), with the bucket's number of test targets.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

DOMAINS = ("A", "B")


def per_seed(report: dict, model: str, domain: str, metric: str, bucket: str | None = None) -> dict[int, float]:
    """{seed: test metric} of `model` in `domain` from a `--out` JSON report, over all test targets or over one
    history-length `bucket` (e.g. "1-2"); raises ValueError if absent."""
    if model not in report["runs"]:
        raise ValueError(f"model {model!r} is not in this file (it has {', '.join(report['runs'])})")
    out = {}
    for run in report["runs"][model]:
        results = run["results"][domain]
        if bucket is not None:
            if "by_history_length" not in results:
                raise ValueError(f"{model}: this file has no per-bucket results (rerun with the current trainer)")
            results = results["by_history_length"][bucket]
        value = results.get(metric)
        if value is None:
            raise ValueError(f"{model}: no {metric!r} in domain {domain}")
        out[run["seed"]] = float(value)
    return out


def buckets(report: dict, model: str, domain: str) -> dict[str, int]:
    """{bucket label: number of test targets} of `model` in `domain` (the same for every seed), {} if absent."""
    by = report["runs"][model][0]["results"][domain].get("by_history_length", {})
    return {label: r["n"] for label, r in by.items()}


def by_bucket(first: dict, first_model: str, second: dict, second_model: str, domain: str, metric: str = "auc") -> dict:
    """`paired` differences of `first_model` (report `first`) minus `second_model` (report `second`) in `domain`:
    {"all": (targets, result), "1-2": (targets, result), ...}, the buckets of history length of `buckets` with at
    least 2 targets (an empty bucket has no metric; one target has no per-user ranking spread)."""
    sizes = buckets(first, first_model, domain)
    out = {"all": (sum(sizes.values()), paired(per_seed(first, first_model, domain, metric),
                                               per_seed(second, second_model, domain, metric)))}
    for label, n in sizes.items():
        if n >= 2:
            out[label] = (n, paired(per_seed(first, first_model, domain, metric, label),
                                    per_seed(second, second_model, domain, metric, label)))
    return out


def paired(first: dict[int, float], second: dict[int, float], level: float = 0.95) -> dict:
    """Mean difference first - second over the seeds both have, its sample std and a `level` t-interval.

    Returns {"n", "mean", "std", "low", "high", "diffs"}; with one seed the interval is (nan, nan).
    Raises ValueError when no seed is shared.
    """
    seeds = sorted(set(first) & set(second))
    if not seeds:
        raise ValueError("the two runs share no seed: they cannot be paired")
    d = np.array([first[s] - second[s] for s in seeds])
    n, mean = len(d), float(d.mean())
    std = float(d.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n)) if n > 1 else math.nan
    return {"n": n, "mean": mean, "std": std, "low": mean - half, "high": mean + half, "diffs": d.tolist()}


def line(label: str, r: dict) -> str:
    """'label: +0.0123 [-0.0040, +0.0286] (5 seeds)'."""
    return f"{label}: {r['mean']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}] ({r['n']} seeds)"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m mini_man.compare", description=__doc__.splitlines()[0])
    p.add_argument("report", type=Path, help="JSON written by python -m mini_man.train --out")
    p.add_argument("first", help="model name (its metric minus the second's)")
    p.add_argument("second", help="model name; with --against, the same model in the other file")
    p.add_argument("--against", type=Path, help="take the second model from this JSON file instead")
    p.add_argument("--metric", default="auc", help="test metric (default: auc)")
    p.add_argument("--by-history-length", action="store_true", help="also per bucket of history length")
    args = p.parse_args(argv)
    try:
        a = json.loads(args.report.read_text())
        b = json.loads(args.against.read_text()) if args.against else a
        for d in DOMAINS:
            r = paired(per_seed(a, args.first, d, args.metric), per_seed(b, args.second, d, args.metric))
            print(line(f"{d} {args.metric} {args.first} - {args.second}", r))
            if args.by_history_length:
                for label, (n, r) in list(by_bucket(a, args.first, b, args.second, d, args.metric).items())[1:]:
                    print(line(f"  {d} history {label:>4} ({n:,} targets)", r))
    except (OSError, ValueError, KeyError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
