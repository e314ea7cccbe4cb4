"""The README's transfer table and plot, from the runs of `tools/results.sh sparse` / `sparse-control`: paired
differences of test AUC in B over seeds, 95% t-intervals, per bucket of history length (`mini_man.compare.by_bucket`).

    python tools/transfer_report.py            # prints the Markdown table, writes docs/results/sparse_transfer.png
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mini_man import compare  # noqa: E402

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
# label -> (file, model, file, model): first minus second, paired by seed
PAIRS = {"MAN − man-local": ("sparse_man", "man", "sparse_man", "man-local"),
         "MAN: premise on − off": ("sparse_man", "man", "sparse_control", "man"),
         "MAN − single": ("sparse_man", "man", "sparse_baselines", "single"),
         "MAN − sasrec": ("sparse_man", "man", "sparse_baselines", "sasrec")}


def differences(metric="auc", domain="B") -> dict:
    """{label: {bucket ("all", "1-2", ...): (targets, compare.paired result)}} for every pair of `PAIRS`."""
    files = {name: compare.load(RESULTS / f"{name}.json") for p in PAIRS.values() for name in p[::2]}
    return {label: compare.by_bucket(files[fa], ma, files[fb], mb, domain, metric)
            for label, (fa, ma, fb, mb) in PAIRS.items()}


def sizes(diffs: dict) -> dict[str, int]:
    """{bucket: number of test targets} (the same for every pair: the first file's)."""
    return {b: n for b, (n, _) in next(iter(diffs.values())).items()}


def table(diffs: dict) -> str:
    """Markdown: one row per pair, one column per bucket, 'mean [low, high]'."""
    n = sizes(diffs)
    lines = ["| B test AUC, 5 seeds | " + " | ".join(f"{b} ({k:,})" for b, k in n.items()) + " |",
             "|---|" + "---|" * len(n)]
    for label, by in diffs.items():
        cells = [f"{r['mean']:+.3f} [{r['low']:+.3f}, {r['high']:+.3f}]" for _, r in by.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(diffs: dict, path: Path) -> None:
    """The buckets with 100+ targets, one point with its interval per pair, saved to `path` (PNG)."""
    n = sizes(diffs)
    buckets = [b for b, k in n.items() if k >= 100]
    fig, ax = plt.subplots(figsize=(9, 3.8), layout="constrained")
    width = 0.8 / len(diffs)
    for i, (label, by) in enumerate(diffs.items()):
        x = [j + (i - (len(diffs) - 1) / 2) * width for j in range(len(buckets))]
        mean = [by[b][1]["mean"] for b in buckets]
        err = [[by[b][1]["mean"] - by[b][1]["low"] for b in buckets],
               [by[b][1]["high"] - by[b][1]["mean"] for b in buckets]]
        ax.errorbar(x, mean, yerr=err, fmt="o", capsize=3, label=label)
    ax.axhline(0, color="gray", lw=1)
    ax.set(xticks=range(len(buckets)), xticklabels=[f"{b}\n({n[b]:,} targets)" for b in buckets],
           xlabel="history length in B (items before the target); buckets with 100+ targets",
           ylabel="paired difference of B test AUC",
           title="Sparse setting: MAN against its controls and baselines, 5 seeds, 95% t-intervals")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def main() -> None:
    diffs = differences()
    print(table(diffs))
    plot(diffs, RESULTS / "sparse_transfer.png")


if __name__ == "__main__":
    main()
