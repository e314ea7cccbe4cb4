"""Paired comparisons of two models over seeds, from the JSON files of `python -m mini_man.train --out`.

`python -m mini_man.compare RUN.json man single [--metric auc]` prints, per domain, the mean of the per-seed
differences (first model minus second) with a 95% t-interval over seeds. Both models must have been trained with
the same seeds on the same data (the same file, or two files of the same command with other models); a seed pairs
the two runs: same data, same evaluation candidates, same negatives drawn in the first epoch. A second file
(`--against OTHER.json`) compares the same model across two runs, e.g. the premise on and off.
`--by-history-length` adds the same comparison per bucket of history length (1-2, 3-5, 6-10, 11+ items before the
target; written by every run since the buckets were added), with the bucket's number of test targets ("76 / 74"
when the two files differ: first file / second file); a bucket of fewer than 2 targets is listed, not compared.

Two files must share the evaluation protocol (split, k-core, T, number of candidates, warm targets): otherwise the
command refuses. Files of different data (e.g. the premise on and off) are paired by seed, with a note saying so;
seeds that only one run has are left out, with a note.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from mini_man import selection

DOMAINS = ("A", "B")
PROTOCOL = ("split", "kcore", "max_len", "eval_negatives", "warm_targets_only")  # config keys two files must share


def load(path: Path) -> dict:
    """The report of a `python -m mini_man.train --out` JSON file, its path kept under "source"; raises ValueError
    (naming the file) if it is not such a report."""
    try:
        report = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON ({e})") from None
    if not isinstance(report, dict) or not isinstance(report.get("runs"), dict):
        raise ValueError(f"{path}: not a report of `python -m mini_man.train --out` (no 'runs' table)")
    for model, runs in report["runs"].items():
        if not isinstance(runs, list) or not all(isinstance(r, dict) and "seed" in r and isinstance(
                r.get("results"), dict) and all(d in r["results"] for d in DOMAINS) for r in runs):
            raise ValueError(f"{path}: the runs of {model!r} lack a seed or results for domains A and B")
    report["source"] = str(path)
    return report


def mismatch(first: dict, second: dict) -> tuple[list, list]:
    """What differs between two reports: (protocol settings of `PROTOCOL`, as 'key: a vs b'; data, as the data
    files and the domain sizes that differ, 'what: a vs b'). Reports without a config (hand-made) compare as equal."""
    ca, cb = first.get("config", {}), second.get("config", {})
    protocol = [f"{k}: {ca[k]} vs {cb[k]}" for k in PROTOCOL if k in ca and k in cb and ca[k] != cb[k]]
    da, db = first.get("data", {}), second.get("data", {})
    data = [f"{k}: {ca[k]} vs {cb[k]}" for k in ("domain_a", "domain_b") if k in ca and k in cb and ca[k] != cb[k]]
    data += [f"{d}: {da[d]} vs {db[d]}" for d in DOMAINS if d in da and d in db and da[d] != db[d]]
    return protocol, data


def per_seed(report: dict, model: str, domain: str, metric: str, bucket: str | None = None) -> dict[int, float]:
    """{seed: test metric} of `model` in `domain` from a `--out` JSON report, over all test targets or over one
    history-length `bucket` (e.g. "1-2"); raises ValueError (naming the file, and the metrics it has) if absent."""
    source = report.get("source", "this file")
    if model not in report["runs"]:
        raise ValueError(f"{source}: model {model!r} is not in this file (it has {', '.join(report['runs'])})")
    out = {}
    for run in report["runs"][model]:
        results = run["results"][domain]
        if bucket is not None:
            if "by_history_length" not in results:
                raise ValueError(f"{source}: {model} has no per-bucket results (rerun with the current trainer)")
            results = results["by_history_length"].get(bucket, {})
        value = results.get(metric)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or metric == "n":
            known = ", ".join(k for k, v in results.items() if isinstance(v, (int, float)) and k != "n")
            raise ValueError(f"{source}: {model} has no {metric!r} in domain {domain}"
                             f"{' history ' + bucket if bucket else ''} (it has: {known or 'nothing'})")
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
    if not sizes:
        raise ValueError(f"{first.get('source', 'the first file')}: {first_model} has no per-bucket results "
                         "(rerun with the current trainer)")
    out = {"all": (sum(sizes.values()), paired(per_seed(first, first_model, domain, metric),
                                               per_seed(second, second_model, domain, metric)))}
    for label, n in sizes.items():
        if n >= 2:
            out[label] = (n, paired(per_seed(first, first_model, domain, metric, label),
                                    per_seed(second, second_model, domain, metric, label)))
    return out


def grid(reports: dict[str, dict], model: str) -> dict:
    """What a grid run over the settings of `reports` ({setting label: report of the same command with that
    setting}) keeps for `model`: per seed and domain the run with the best validation score, the first setting on
    a tie (`selection.choose`, as the trainer; training is deterministic per seed, so this equals running the grid:
    tests/test_train.py). Returns a report {"runs": {model: [{"seed", "results", "setting": {domain: label},
    "lr": {domain: lr}, "best_epoch", "last_epoch", "seconds"}]}, "source"} for `per_seed`, where "seconds" is the
    sum over the settings (what the grid costs) and absent epochs are None; raises ValueError when the reports do
    not hold the same seeds of `model`."""
    runs = {label: {r["seed"]: r for r in report["runs"].get(model, [])} for label, report in reports.items()}
    seeds = [set(by_seed) for by_seed in runs.values()]
    if not seeds or not seeds[0] or any(s != seeds[0] for s in seeds):
        raise ValueError(f"the reports must hold the same seeds of {model!r}: "
                         + "; ".join(f"{label}: {sorted(s)}" for label, s in zip(runs, seeds)))
    kept = []
    for seed in sorted(seeds[0]):
        run = {"seed": seed, "results": {}, "setting": {}, "lr": {}, "best_epoch": {}, "last_epoch": {},
               "seconds": sum(by_seed[seed].get("seconds", math.nan) for by_seed in runs.values())}
        for d in DOMAINS:
            label = selection.choose({k: by_seed[seed]["best_valid"] for k, by_seed in runs.items()}, [d])[d]
            best = runs[label][seed]
            run["results"][d], run["setting"][d] = best["results"][d], label
            run["lr"][d], run["best_epoch"][d] = best.get("lr", {}).get(d), best["best_epoch"][d]
            run["last_epoch"][d] = best.get("last_epoch", {}).get(d)
        kept.append(run)
    return {"runs": {model: kept}, "source": " + ".join(r.get("source", label) for label, r in reports.items())}


def paired(first: dict[int, float], second: dict[int, float], level: float = 0.95) -> dict:
    """Mean difference first - second over the seeds both have, its sample std and a `level` t-interval.

    Returns {"n", "mean", "std", "low", "high", "diffs", "unpaired"} (the seeds only one side has, left out); with
    one seed std and the interval are nan. Raises ValueError when no seed is shared.
    """
    seeds = sorted(set(first) & set(second))
    if not seeds:
        raise ValueError("the two runs share no seed: they cannot be paired")
    d = np.array([first[s] - second[s] for s in seeds])
    n, mean = len(d), float(d.mean())
    std = float(d.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n)) if n > 1 else math.nan
    return {"n": n, "mean": mean, "std": std, "low": mean - half, "high": mean + half, "diffs": d.tolist(),
            "unpaired": sorted(set(first) ^ set(second))}


def line(label: str, r: dict) -> str:
    """'label: +0.0123 [-0.0040, +0.0286] (5 seeds)'; one seed: 'label: +0.0123 (1 seed: no interval)'."""
    if r["n"] < 2:
        return f"{label}: {r['mean']:+.4f} (1 seed: no interval)"
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
        a = load(args.report)
        b = load(args.against) if args.against else a
        protocol, data = mismatch(a, b)
        if protocol:
            raise ValueError(f"{a['source']} and {b['source']} differ in their evaluation protocol "
                             f"({'; '.join(protocol)}): their metrics are not comparable")
        lines, notes = [], []  # everything is computed before anything is printed
        if data:
            notes.append(f"note: the two files hold different data ({'; '.join(data)}); runs are paired by seed only")
        for d in DOMAINS:
            r = paired(per_seed(a, args.first, d, args.metric), per_seed(b, args.second, d, args.metric))
            if r["unpaired"]:
                notes.append(f"note: {d}: seeds {r['unpaired']} are in one run only and left out")
            lines.append(line(f"{d} {args.metric} {args.first} - {args.second}", r))
            if args.by_history_length:
                diffs = by_bucket(a, args.first, b, args.second, d, args.metric)
                other = buckets(b, args.second, d)
                for label, n in buckets(a, args.first, d).items():
                    targets = f"{n:,}" if other.get(label, n) == n else f"{n:,} / {other[label]:,}"
                    if label in diffs:
                        lines.append(line(f"  {d} history {label:>4} ({targets} targets)", diffs[label][1]))
                    else:
                        lines.append(f"  {d} history {label:>4} ({targets} targets): too few targets to compare")
        for note in notes:
            print(note, file=sys.stderr)
        print("\n".join(lines))
    except (OSError, ValueError) as e:
        print(f"{p.prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyError as e:
        print(f"{p.prog}: error: a report lacks the entry {e} (not written by python -m mini_man.train --out?)",
              file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
