"""README "Results", the weight-decay grid: each model trained with weight decay 0 (the recipe) and 1 (AdamW), and
per seed and domain the run with the better validation GAUC kept (`mini_man.compare.grid`), from the runs of
`tools/results.sh` (parts 0 and 1: weight decay 0) and `tools/results.sh weight-decay` / `weight-decay-baselines`
(weight decay 1). Training is deterministic per seed, so this is what `--weight-decay-grid 0,1` prints.

    python tools/weight_decay_grid.py      # prints Markdown tables
"""
from pathlib import Path

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


def main() -> None:
    runs = reports()
    pop = compare.load(RESULTS / "sample_baselines.json")["results"]["pop"]
    print("| model | domain | weight decay 0 (recipe) | weight decay 1 | grid {0, 1} | kept per seed | "
          "seeds > popularity + 0.02 | std <= 0.02 |")
    print("|---|---|---|---|---|---|---|---|")
    for model, r in runs.items():
        for d in compare.DOMAINS:
            cells = []
            for key in ("0", "1", "grid"):
                values = list(compare.per_seed(r[key], model, d, "auc").values())
                mean = sum(values) / len(values)
                std = (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5
                cells.append(f"{mean:.3f} ± {std:.3f}")
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


if __name__ == "__main__":
    main()
