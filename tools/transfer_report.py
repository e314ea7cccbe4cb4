"""The plot of docs/results.md's sparse setting: paired differences of B test AUC over seeds, 95% t-intervals, per
bucket of history length, plain Adam (`mini_man.reference` settings "sparse-plain" and "sparse-control", from
`tools/results.sh sparse` / `sparse-control`). The same numbers are the table above the plot
(`tools/make_docs.py`, block "sparse-plain").

    python tools/transfer_report.py            # writes docs/results/sparse_transfer.png
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's mini_man, installed or not
from mini_man import reference  # noqa: E402

# label -> (second model, its setting): MAN of "sparse-plain" minus it, paired by seed
PAIRS = {"MAN − man-local": ("man-local", "sparse-plain"), "MAN: premise on − off": ("man", "sparse-control"),
         "MAN − single": ("single", "sparse-plain"), "MAN − sasrec": ("sasrec", "sparse-plain")}


def differences(domain="B") -> dict:
    """{label: {bucket ("all", "1-2", ...): (targets, (mean, low, high, seeds))}} for every pair of `PAIRS`."""
    return {label: reference.by_bucket("sparse-plain", "man", other, domain, against=setting)
            for label, (other, setting) in PAIRS.items()}


def plot(diffs: dict, path: Path) -> None:
    """The buckets with 100+ targets, one point with its interval per pair, saved to `path` (PNG)."""
    n = {b: k for b, (k, _) in next(iter(diffs.values())).items()}
    buckets = [b for b, k in n.items() if k >= 100]
    fig, ax = plt.subplots(figsize=(9, 3.8), layout="constrained")
    width = 0.8 / len(diffs)
    for i, (label, by) in enumerate(diffs.items()):
        x = [j + (i - (len(diffs) - 1) / 2) * width for j in range(len(buckets))]
        mean = [by[b][1][0] for b in buckets]
        err = [[by[b][1][0] - by[b][1][1] for b in buckets], [by[b][1][2] - by[b][1][0] for b in buckets]]
        ax.errorbar(x, mean, yerr=err, fmt="o", capsize=3, label=label)
    ax.axhline(0, color="gray", lw=1)
    ax.set(xticks=range(len(buckets)), xticklabels=[f"{b}\n({n[b]:,} targets)" for b in buckets],
           xlabel="history length in B (items before the target); buckets with 100+ targets",
           ylabel="paired difference of B test AUC",
           title="Sparse setting: MAN against its controls and baselines, 5 seeds, 95% t-intervals")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    plot(differences(), reference.RESULTS / "sparse_transfer.png")
