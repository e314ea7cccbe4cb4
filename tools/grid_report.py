"""README "Results", the grids: per seed and domain, the run with the better validation GAUC kept
(`mini_man.compare.grid`) among runs of the same command with different settings. Training is deterministic per
seed, so this is what the grid options print.
- The weight-decay grid (`--weight-decay-grid 0,1`): every trained model with weight decay 0 (the recipe:
  `tools/results.sh` parts 0 and 1) and 1 (AdamW: `tools/results.sh weight-decay` and `weight-decay-baselines`).
- `gru4rec`'s learning-rate grid (`--lr-grid 1e-3,3e-3,1e-2`): the recipe's 3e-3 (part 0) and 1e-3, 1e-2
  (`tools/results.sh gru4rec-lr-grid`).

    python tools/grid_report.py      # prints Markdown tables
"""
from pathlib import Path

import numpy as np

from mini_man import compare

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
FILES = {  # model: (report with weight decay 0, report with weight decay 1)
    "man": ("sample_man", "man_wd1"), "man-local": ("sample_man", "man_local_wd1"),
    "single": ("sample_baselines", "baselines_wd1"), "shared": ("sample_baselines", "baselines_wd1"),
    "gru4rec": ("sample_baselines", "baselines2_wd1"), "sasrec": ("sample_baselines", "baselines2_wd1")}
MARGIN, MAX_STD = 0.02, 0.02  # issue 10's targets: every seed > popularity + 0.02 test AUC, std <= 0.02
PAIRS = [("man", "single"), ("man", "man-local"), ("man", "sasrec")]


def reports() -> dict[str, dict]:
    """{model: {"0": the recipe's runs, "1": weight decay 1, "grid": the grid's choice}} as `compare` reports."""
    loaded = {name: compare.load(RESULTS / f"{name}.json") for pair in FILES.values() for name in pair}
    out = {}
    for model, (plain, decay) in FILES.items():
        both = {"0": loaded[plain], "1": loaded[decay]}
        out[model] = {**both, "grid": compare.grid(both, model)}
    return out


def _mean_std(values: list) -> str:
    """'0.787 ± 0.006': mean and sample std over seeds."""
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}"


def main() -> None:
    runs = reports()
    pop = compare.load(RESULTS / "sample_baselines.json")["results"]["pop"]
    print("| model | domain | weight decay 0 (recipe) | weight decay 1 | grid {0, 1} | kept per seed | "
          "seeds > popularity + 0.02 | std <= 0.02 |")
    print("|---|---|---|---|---|---|---|---|")
    for model, r in runs.items():
        for d in compare.DOMAINS:
            cells = [_mean_std(list(compare.per_seed(r[key], model, d, "auc").values())) for key in ("0", "1", "grid")]
            values = list(compare.per_seed(r["grid"], model, d, "auc").values())
            std = float(np.std(values, ddof=1))
            kept = " ".join(run["setting"][d] for run in r["grid"]["runs"][model])
            above = sum(v > pop[d]["auc"] + MARGIN for v in values)
            print(f"| `{model}` | {d} | {' | '.join(cells)} | {kept} | {above}/{len(values)} | "
                  f"{'yes' if std <= MAX_STD else 'no'} |")
    print("\nPaired over seeds, test AUC, grid {0, 1} for every model (95% t-intervals):")
    for first, second in PAIRS:
        for d in compare.DOMAINS:
            diff = compare.paired(compare.per_seed(runs[first]["grid"], first, d, "auc"),
                                  compare.per_seed(runs[second]["grid"], second, d, "auc"))
            print("- " + compare.line(f"{d}: {first} − {second}", diff))
    print("\nGrid minus the recipe (weight decay 0), paired, test AUC in B:")
    for model in ("man", "man-local"):
        diff = compare.paired(compare.per_seed(runs[model]["grid"], model, "B", "auc"),
                              compare.per_seed(runs[model]["0"], model, "B", "auc"))
        print("- " + compare.line(f"{model}", diff))
    lr = compare.grid({"3e-3": compare.load(RESULTS / "sample_baselines.json"),
                       "1e-3 or 1e-2": compare.load(RESULTS / "gru4rec_lr_grid.json")}, "gru4rec")
    print("\n`gru4rec`, learning-rate grid {1e-3, 3e-3, 1e-2}, test AUC:")
    for d in compare.DOMAINS:
        values = list(compare.per_seed(lr, "gru4rec", d, "auc").values())
        kept = [f"{run['lr'][d]:g} (epoch {run['best_epoch'][d]})" for run in lr["runs"]["gru4rec"]]
        print(f"- {d}: " + " ".join(f"{v:.3f}" for v in values) + f"; {_mean_std(values)}; "
              f"{sum(v > pop[d]['auc'] + MARGIN for v in values)}/{len(values)} above popularity + 0.02; kept: "
              + ", ".join(kept))


if __name__ == "__main__":
    try:
        main()
    except (FileNotFoundError, ValueError) as e:  # a report not yet made, or not one of `mini_man.train --out`
        raise SystemExit(f"tools/grid_report.py: {e} (the runs come from tools/results.sh; see this file's docstring)")
