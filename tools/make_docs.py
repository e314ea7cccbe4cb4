"""Rewrite the generated blocks of README.md and docs/results.md from the committed results.

A block is the text between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; everything outside the blocks is
written by hand. Each NAME is a function of `BLOCKS` below, which reads the committed JSON through
`mini_man.reference` (docs/results/*.json, grid-combined as the trainer would) or, for the first run's timing,
benchmarks/results/first_run.json. A block may appear in both files.

    python tools/make_docs.py            # rewrite the blocks in place
    python tools/make_docs.py --check    # exit 1 naming every block that differs from what its files give

A block whose files are not there yet is written as one line naming the command that makes them, and `--check`
names it as missing (exit 1).
"""
import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's mini_man, installed or not
from mini_man import reference  # noqa: E402

FILES = ("README.md", "docs/results.md")
FIRST_RUN = ROOT / "benchmarks" / "results" / "first_run.json"
FIRST_RUN_COMMAND = "python benchmarks/bench_first_run.py --out benchmarks/results/first_run.json"
BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end: \2 -->)", re.S)
METRICS = {"auc": "AUC", "gauc": "GAUC", "mrr": "MRR", "ndcg@10": "NDCG@10", "hr@10": "HR@10",
           "hr@10_full": "HR@10 (full)", "ndcg@10_full": "NDCG@10 (full)"}
SAMPLED = ("auc", "gauc", "mrr", "ndcg@10")
MARGIN = 0.02  # "off the plateau": test AUC more than popularity's + 0.02
MAN_HEAD = ("man", "man-local", "single", "shared", "gru4rec")  # the models with the paper's MLP prediction layer


class Missing(Exception):
    """A block's input file is not there: the message names the command that writes it."""


# --- formatting -------------------------------------------------------------------------------------------------

def ms(setting: str, model: str, domain: str, metric: str = "auc") -> str:
    """'0.838 ± 0.014': mean and sample std over seeds."""
    mean, std, _ = reference.summary(setting, model, domain, metric)
    return f"{mean:.3f} ± {std:.3f}"


def interval(r: tuple) -> str:
    """'+0.014 [-0.007, +0.035]' from a `reference.paired` result."""
    return f"{r[0]:+.3f} [{r[1]:+.3f}, {r[2]:+.3f}]"


def interval4(label: str, r: tuple) -> str:
    """'label: +0.0138 [-0.0069, +0.0346] (5 seeds)'."""
    return f"{label}: {r[0]:+.4f} [{r[1]:+.4f}, {r[2]:+.4f}] ({r[3]} seeds)"


def seeds_text(values) -> str:
    return " ".join(f"{v:.3f}" for v in values)


def table(header: list, rows: list) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def runs(setting: str, model: str) -> list:
    return reference.report(setting, model)["runs"][model]


def weight_decays(setting: str, model: str, domain: str) -> str:
    """The weight decay kept per seed: the grid's label, or what a grid run wrote."""
    try:
        return " ".join(reference.kept(setting, model, domain))
    except ValueError:
        return " ".join(f"{run['weight_decay'][domain]:g}" for run in runs(setting, model))


def above(setting: str, model: str, domain: str, pop_setting: str) -> str:
    """'5/5': the seeds whose test AUC is more than popularity's + MARGIN."""
    pop = reference.summary(pop_setting, "pop", domain)[0]
    values = reference.per_seed(setting, model, domain).values()
    return f"{sum(v > pop + MARGIN for v in values)}/{len(values)}"


def metrics_table(setting: str, names, metrics, wd: bool = False) -> str:
    """Per model and domain: test metrics (mean ± std over seeds), per seed the best and stop epoch (and the weight
    decay kept), and the mean seconds per seed (the grid's settings summed)."""
    header = ["model", "domain"] + [METRICS[m] for m in metrics] + ["best epoch", "stop epoch"] \
        + (["weight decay"] if wd else []) + ["seconds per seed"]
    rows = []
    for model in names:
        for d in reference.DOMAINS:
            kept = runs(setting, model)
            cells = [ms(setting, model, d, m) for m in metrics]
            if model == "pop":
                epochs = ["-", "-"] + (["-"] if wd else [])
            else:
                epochs = [" ".join(str(run[k][d]) for run in kept) for k in ("best_epoch", "last_epoch")]
                epochs += [weight_decays(setting, model, d)] if wd else []
            seconds = f"{np.mean([run['seconds'] for run in kept]):.0f}" if d == "A" else ""
            rows.append([f"`{model}`", d] + cells + epochs + [seconds])
    return table(header, rows)


# --- README.md --------------------------------------------------------------------------------------------------

def bench_json(path: Path, command: str) -> dict:
    """A benchmark's committed JSON; raises Missing naming the command that writes it when it is not there."""
    if not path.exists():
        where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        raise Missing(f"{where} is not there: it is written by `{command}`")
    return json.loads(path.read_text())


def first_run() -> str:
    """The first run's command, its wall time and peak memory over the benchmark's runs, and what it prints."""
    bench = bench_json(FIRST_RUN, FIRST_RUN_COMMAND)
    wall, machine = bench["wall_s"], bench.get("machine", {})
    where = "; ".join(f"{k}: {v}" for k, v in machine.items())
    return (f"`{bench['command']}` took **{wall['median']:.0f} s** (median of {len(bench['runs'])} runs, "
            f"{wall['min']:.0f}-{wall['max']:.0f} s)\nand at most {bench['peak_rss_mb']['max']:.0f} MB of memory, all its "
            f"processes together (their PSS: `time -v` reports the main process alone; {where}). It prints:\n\n```\n{bench['stdout'].rstrip()}\n```\n")


INSTALL = ROOT / "benchmarks" / "results" / "install.json"
INSTALL_COMMAND = "python benchmarks/bench_install.py --out benchmarks/results/install.json"


def install_time() -> str:
    """The README's install as measured by benchmarks/bench_install.py: a new environment, no download cache."""
    bench = bench_json(INSTALL, INSTALL_COMMAND)
    wall, machine = bench["wall_s"], bench["machine"]
    runs = len(bench["runs"])
    spread = f"median of {runs} runs, {wall['min']:.0f}-{wall['max']:.0f} s; " if runs > 1 else ""
    return (f"The install took **{wall['median']:.0f} s** in a new virtual environment with pip's download cache off "
            f"({spread}{machine['cores']} cores, {machine['cpu']}, python {machine['python']}: "
            f"[benchmarks/results/install.json](benchmarks/results/install.json)); the package index's speed counts "
            f"as much as the CPU.\n")


TESTS = ROOT / "benchmarks" / "results" / "tests.json"
TESTS_COMMAND = "python benchmarks/bench_tests.py --out benchmarks/results/tests.json"


def test_time() -> str:
    """The whole `pytest --nbval` as measured by benchmarks/bench_tests.py: its wall time, counts and slowest notebook."""
    bench = bench_json(TESTS, TESTS_COMMAND)
    name, seconds = next(iter(bench["notebooks_s"].items()))
    machine = bench["machine"]
    return (f"The whole `pytest --nbval` took **{bench['wall_s'] / 60:.1f} minutes** on {machine['cores']} cores "
            f"({machine['cpu']}; {bench['summary']}; the slowest notebook, `{Path(name).name}`, {seconds:.0f} s: "
            f"[benchmarks/results/tests.json](benchmarks/results/tests.json)).\n")


def first_run_seeds() -> str:
    """The first run on 5 seeds: test AUC per model and domain, mean ± std and the range over seeds."""
    try:
        names = reference.models("first-run")
    except reference.MissingResults as e:
        raise Missing(str(e)) from None
    rows = []
    for model in names:
        cells = []
        for d in reference.DOMAINS:
            values = list(reference.per_seed("first-run", model, d).values())
            cells.append(f"{ms('first-run', model, d)} ({min(values):.3f}-{max(values):.3f})")
        rows.append([f"`{model}`"] + cells)
    n = reference.summary("first-run", names[0], "A")[2]
    return table(["model", f"A test AUC, {n} seeds (range)", f"B test AUC, {n} seeds (range)"], rows)


def first_run_ep() -> str:
    """`man-ep` trained as the first run trains (5 seeds, newest window and every window): test AUC, paired with the
    first run's `man` and `single`, and the epochs it trained."""
    rows = []
    for setting, what in (("first-run-ep", "newest training window (its default)"),
                          ("first-run-ep-every", "every training window (`--windows every`)")):
        runs = reference.report(setting, "man-ep")["runs"]["man-ep"]
        epochs = ", ".join(f"{np.mean([r['last_epoch'][d] for r in runs]):.0f}" for d in reference.DOMAINS)
        rows.append([f"`man-ep`, {what}", *(ms(setting, "man-ep", d) for d in reference.DOMAINS),
                     *(interval(reference.paired(setting, "man-ep", other, d, against="first-run"))
                       for other in ("man", "single") for d in reference.DOMAINS), epochs])
    return table(["model", "A test AUC", "B test AUC", "− man, A (95%)", "− man, B (95%)", "− single, A (95%)",
                  "− single, B (95%)", "epochs trained (A, B; mean)"], rows)


def first_run_t10() -> str:
    """The first run with histories of 10 items (5 seeds): test AUC per model, `sasrec` − each model paired over
    the seeds, and how many seeds the epoch budget stopped."""
    rows = [[f"`{m}`", *(ms("first-run-t10", m, d) for d in reference.DOMAINS),
             *(interval(reference.paired("first-run-t10", "sasrec", m, d)) if m != "sasrec" else "-"
               for d in reference.DOMAINS), budget_stops("first-run-t10", m) if m != "pop" else "-"]
            for m in ("man", "single", "sasrec", "pop")]
    return table(["model (`--max-len 10`)", "A test AUC", "B test AUC", "sasrec − model, A (95%)",
                  "sasrec − model, B (95%)", "stopped by the epoch budget (A, B)"], rows)


HEADLINE = {"man": "MAN (the paper's model)", "man-local": "MAN with nothing shared across domains",
            "single": "a SASRec per domain with the paper's MLP head (the paper's \"SASRec\")",
            "sasrec": "the canonical SASRec: dot-product head, every position trained",
            "pop": "popularity, no learning"}


def headline() -> str:
    """The sample with the reference protocol, 5 seeds: test AUC per model, and MAN minus each model paired over
    seeds."""
    rows = []
    for model, what in HEADLINE.items():
        paired = ["", ""] if model == "man" else [interval(reference.paired("sample", "man", model, d))
                                                  for d in reference.DOMAINS]
        rows.append([f"`{model}`", what] + [ms("sample", model, d) for d in reference.DOMAINS] + paired)
    return table(["model", "what", "A test AUC", "B test AUC", "MAN − model, A", "MAN − model, B"], rows)


def header(path: Path) -> tuple[int, str]:
    """A notebook's minutes and learning outcome, read from its opening cell ("**Time:** about N minutes",
    "**Learning outcome:** after this notebook you can ..."), so that the map and the notebook cannot disagree."""
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells[:3] if c["cell_type"] == "markdown")
    minutes = re.search(r"\*\*Time:\*\* about (\d+) minutes", text)
    outcome = re.search(r"\*\*Learning outcome:\*\* after this notebook you can (.+?)(?:  \n|\n\n|\n\*\*|$)", text,
                        re.S)
    if not (minutes and outcome):
        raise ValueError(f"tools/make_docs.py: notebook {path.name} does not open with '**Time:** about N minutes' "
                         "and '**Learning outcome:** after this notebook you can ...'")
    return int(minutes.group(1)), " ".join(outcome.group(1).split()).rstrip(".")


def notebooks() -> str:
    """The notebook map: every notebooks/*.ipynb in reading order, its reading minutes, the seconds it and its
    solutions took to execute in the measured suite (`TESTS`), and its learning outcome."""
    seconds = bench_json(TESTS, TESTS_COMMAND)["notebooks_s"]

    def run(name: str) -> str:
        return f"{seconds[name]:.0f}" if name in seconds else "-"

    rows = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        minutes, outcome = header(path)
        solutions = f"notebooks/solutions/{path.stem}_solutions.ipynb"
        ran = run(f"notebooks/{path.name}") + (f" ({run(solutions)})" if (ROOT / solutions).exists() else "")
        rows.append([f"[`{path.stem}`](notebooks/{path.name})", minutes, ran, outcome])
    return table(["notebook", "minutes", "seconds (solutions)", "after it you can"], rows)


# --- docs/results.md --------------------------------------------------------------------------------------------

def recipe() -> str:
    return metrics_table("sample", ["man", "man-local", "single", "shared", "gru4rec", "sasrec", "pop"], SAMPLED,
                         wd=True)


def recipe_plateau() -> str:
    pop = {d: reference.summary("sample", "pop", d)[0] for d in reference.DOMAINS}
    rows = [[f"`{m}`", " / ".join(above("sample", m, d, "sample") for d in reference.DOMAINS),
             " / ".join(f"{reference.summary('sample', m, d)[1]:.3f}" for d in reference.DOMAINS)]
            for m in ("man", "man-local", "single", "shared", "gru4rec", "sasrec")]
    return table([f"model (popularity: A {pop['A']:.3f}, B {pop['B']:.3f})", "seeds > popularity + 0.02 (A / B)",
                  "test-AUC std (A / B)"], rows)


def recipe_paired() -> str:
    return "\n".join(f"- {interval4(f'{d}: man − {other}', reference.paired('sample', 'man', other, d))}"
                     for other in ("single", "man-local", "sasrec") for d in reference.DOMAINS)


def main_job() -> str:
    """The grid in one command (seed 0) against seed 0 of the combined halves."""
    rows, total = [], 0.0
    for model in reference.models("main-job"):
        (job,) = runs("main-job", model)
        total += job["seconds"]
        if model == "pop":
            rows.append(["`pop`", f"{job['seconds']:.0f}", "-", "-", "-"])
            continue
        combined = runs("sample", model)[0]
        diff = max(abs(job["results"][d][m] - combined["results"][d][m]) for d in reference.DOMAINS for m in SAMPLED)
        same = all(f"{job['weight_decay'][d]:g}" == combined["setting"][d] for d in reference.DOMAINS)
        rows.append([f"`{model}`", f"{job['seconds']:.0f}",
                     " / ".join(f"{job['weight_decay'][d]:g}" for d in reference.DOMAINS),
                     " / ".join(f"{job['results'][d]['auc']:.3f}" for d in reference.DOMAINS),
                     f"{'yes' if same else 'NO'}, largest difference {diff:.1e}"])
    return table(["model", "seconds", "weight decay kept (A / B)", "test AUC (A / B)",
                  "same as seed 0 of the reference protocol's table"], rows) + f"\n\nIn all: {total / 60:.0f} minutes."


def sample_plain() -> str:
    return metrics_table("sample-plain", ["man", "man-local", "single", "shared", "gru4rec", "sasrec", "pop"],
                         ("auc", "gauc", "mrr", "ndcg@10", "hr@10_full", "ndcg@10_full"))


def b_variants() -> str:
    rows = [[f"`{m}`"] + [ms(s, m, "B") for s in ("sample-plain", "warmup1000", "sample-wd1")]
            + [f"**{ms('sample', m, 'B')}**"] for m in ("man", "man-local")]
    return table(["B, test AUC, 5 seeds", "plain Adam", "1000-step warm-up", "weight decay 1 (AdamW)",
                  "weight-decay grid {0, 1}"], rows)


def warmup() -> str:
    lines = [f"- {interval4(f'B: {m}, warm-up 1000 − 300', reference.paired('warmup1000', m, m, 'B', against='sample-plain'))}"
             for m in ("man", "man-local")]
    a, b = (reference.per_seed(s, "man", "B") for s in ("warmup1000-both", "warmup1000"))
    lines.append(f"- B: man, warm-up 1000 with `--patience-scope both` − without: largest per-seed difference "
                 f"{max(abs(a[s] - b[s]) for s in a):.4f}")
    return "\n".join(lines)


def grid_halves() -> str:
    rows = []
    for m in ("man", "man-local", "single", "shared", "gru4rec", "sasrec"):
        for d in reference.DOMAINS:
            std = reference.summary("sample", m, d)[1]
            rows.append([f"`{m}`", d] + [ms(s, m, d) for s in ("sample-plain", "sample-wd1", "sample")]
                        + [" ".join(reference.kept("sample", m, d)), above("sample", m, d, "sample"),
                           "yes" if std <= 0.02 else "no"])
    return table(["model", "domain", "weight decay 0", "weight decay 1", "grid {0, 1} (the reference protocol)",
                  "kept per seed", "seeds > popularity + 0.02", "std <= 0.02"], rows)


def grid_gain() -> str:
    return "\n".join(f"- {interval4(f'B: {m}, grid − plain Adam', reference.paired('sample', m, m, 'B', against='sample-plain'))}"
                     for m in ("man", "man-local"))


def new_seeds() -> str:
    rows = []
    for setting, m in (("man-new-seeds", "man"), ("man-local-new-seeds", "man-local")):
        for d in reference.DOMAINS:
            rows.append([f"`{m}`", d, seeds_text(reference.per_seed(setting, m, d).values()), ms(setting, m, d),
                         above(setting, m, d, "sample"), weight_decays(setting, m, d)])
    return table(["model", "domain", "test AUC, seeds 5-9", "mean ± std", "seeds > popularity + 0.02",
                  "weight decay kept"], rows)


def gru4rec_lr() -> str:
    rows = []
    for d in reference.DOMAINS:
        kept = [f"{run['lr'][d]:g} (epoch {run['best_epoch'][d]})" for run in runs("gru4rec-lr-grid", "gru4rec")]
        rows.append([d, seeds_text(reference.per_seed("gru4rec-lr-grid", "gru4rec", d).values()),
                     ms("gru4rec-lr-grid", "gru4rec", d), above("gru4rec-lr-grid", "gru4rec", d, "sample"),
                     ", ".join(kept)])
    return table(["domain", "test AUC, seeds 0-4", "mean ± std", "seeds > popularity + 0.02",
                  "learning rate kept (best epoch)"], rows)


def gru4rec_mean() -> str:
    rows = [[lr, seeds_text(reference.per_seed(f"gru4rec-mean-lr{lr}", "gru4rec", "B").values()),
             above(f"gru4rec-mean-lr{lr}", "gru4rec", "B", "sample")] for lr in ("1e-3", "1e-2")]
    return table(["learning rate", "B test AUC, seeds 0-2", "seeds > popularity + 0.02"], rows)


def sample_buckets() -> str:
    return "\n".join(f"- {interval4(f'B, history {label} ({n:,} targets): man − man-local', r)}"
                     for label, (n, r) in reference.by_bucket("sample", "man", "man-local", "B").items())


def control() -> str:
    rows = [[d, ms("sample", "man", d), ms("control", "man", d),
             interval(reference.paired("sample", "man", "man", d, against="control"))] for d in reference.DOMAINS]
    kept = " ".join(reference.kept("control", "man", "B"))
    return table(["`man`, test AUC, 5 seeds", "premise on", "premise off", "on − off, paired, 95% interval"], rows) \
        + f"\n\nWith the premise off, the weight decay kept in B per seed: {kept}."


def control_plain() -> str:
    return "\n".join([
        f"- {interval4('B: man − man-local', reference.paired('sample-plain', 'man', 'man-local', 'B'))}",
        f"- {interval4('B: man, premise on − off', reference.paired('sample-plain', 'man', 'man', 'B', against='control-plain'))}"])


SPARSE_PAIRS = {"MAN − man-local": ("man-local", None), "MAN: premise on − off": ("man", "control"),
                "MAN − single": ("single", None), "MAN − sasrec": ("sasrec", None)}


def sparse_table(setting: str, control_setting: str) -> str:
    diffs = {label: reference.by_bucket(setting, "man", other, "B", against=control_setting if against else None)
             for label, (other, against) in SPARSE_PAIRS.items()}
    sizes = {b: n for b, (n, _) in next(iter(diffs.values())).items()}
    rows = [[label] + [interval(r) for _, r in by.values()] for label, by in diffs.items()]
    return table(["B test AUC, 5 seeds"] + [f"{b} ({n:,})" for b, n in sizes.items()], rows)


def sparse_plain() -> str:
    return sparse_table("sparse-plain", "sparse-control")


def sparse_means(setting: str, control_setting: str, domains=("B", "A")) -> str:
    rows = [[f"`{m}`"] + [ms(setting, m, d) for d in domains] for m in ("man", "man-local", "single", "sasrec", "pop")]
    rows.insert(1, ["`man`, premise off"] + [ms(control_setting, "man", d) for d in domains])
    return table(["sparse setting, 5 seeds"] + [f"{d} test AUC" for d in domains], rows)


def sparse_plain_means() -> str:
    return sparse_means("sparse-plain", "sparse-control") + "\n\n" \
        + interval4("A: man − sasrec", reference.paired("sparse-plain", "man", "sasrec", "A"))


def sparse_both_seeds() -> str:
    rows = []
    for setting, label in (("sparse-plain", "per domain (default)"), ("sparse-both", "both")):
        for run in runs(setting, "man"):
            rows.append([label, run["seed"], run["best_epoch"]["B"], run["last_epoch"]["B"],
                         f"{run['best_valid']['B']:.3f}", f"{run['results']['B']['auc']:.3f}"])
    return table(["`man`, B, patience counted", "seed", "best epoch", "stop epoch", "best validation GAUC",
                  "test AUC"], rows)


def sparse_both() -> str:
    return sparse_means("sparse-both", "sparse-control-both", ("B",)) + "\n\n" + sparse_table(
        "sparse-both", "sparse-control-both")


def sparse_grid() -> str:
    rows = []
    for m in ("man", "man-local", "single", "sasrec"):
        rows.append([f"`{m}`", ms("sparse", m, "B"), ms("sparse-plain", m, "B"), " ".join(reference.kept("sparse", m, "B")),
                     " ".join(reference.kept("sparse", m, "A")), above("sparse", m, "B", "sparse")])
    pop = reference.summary("sparse", "pop", "B")[0]
    return table(["sparse setting, 5 seeds", "B test AUC, grid {0, 1}", "plain Adam", "weight decay kept in B",
                  "... in A", f"B seeds > popularity ({pop:.3f}) + 0.02"], rows) + "\n\n" + "\n".join(
        [f"- {interval4(f'B, history {label} ({n:,} targets): man − man-local', r)}"
         for label, (n, r) in reference.by_bucket("sparse", "man", "man-local", "B").items()]
        + [f"- {interval4(f'B: man − {m}', reference.paired('sparse', 'man', m, 'B'))}" for m in ("single", "sasrec")])


def loo100() -> str:
    rows = [[f"`{m}`"] + [ms("loo100", m, d, metric) for d in reference.DOMAINS for metric in ("hr@10", "ndcg@10")]
            + [f"{np.mean([run['seconds'] for run in runs('loo100', m)]):.0f}"] for m in ("sasrec", "single")]
    return table(["mini-MAN, 3 seeds", "A HR@10", "A NDCG@10", "B HR@10", "B NDCG@10", "seconds per run"], rows)


def pool_last() -> str:
    rows = []
    for d in reference.DOMAINS:
        mean = [v for s, v in reference.per_seed("sample-plain", "man", d).items() if s in (0, 1, 2)]
        rows.append([d, f"{np.mean(mean):.3f} ± {np.std(mean, ddof=1):.3f}", ms("pool-last", "man", d),
                     interval(reference.paired("pool-last", "man", "man", d, against="sample-plain"))])
    ndcg = [interval4(f"{d} NDCG@10", reference.paired("pool-last", "man", "man", d, "ndcg@10", against="sample-plain"))
            for d in reference.DOMAINS]
    return table(["`man`, test AUC, seeds 0-2", "mean (default)", "last", "last − mean, paired, 95% interval"],
                 rows) + "\n\n" + "; ".join(ndcg)


def factorial() -> str:
    """From `single` to `sasrec` one difference at a time, and MAN with them: test AUC of seeds 0 and 1 per domain,
    their mean, and the mean gap to `sasrec` (plain-Adam runs of the sample for the three reference rows)."""
    seeds = (0, 1)
    def row(setting, model, label, what):
        cells, means = [], {}
        for d in reference.DOMAINS:
            values = reference.per_seed(setting, model, d)
            missing = [s for s in seeds if s not in values]
            if missing:
                raise ValueError(f"tools/make_docs.py: {setting} has no seed {missing[0]} for {model}")
            means[d] = float(np.mean([values[s] for s in seeds]))
            cells.append(" / ".join(f"{values[s]:.3f}" for s in seeds) + f" ({means[d]:.3f})")
        return label, what, cells, means
    rows = [row("sample-plain", "single", "`single`", "the paper's SASRec: MLP head, mean read-out, one target")]
    rows += [row(f"factorial-{stem}", model, f"`{model}`", what)
             for stem, (model, what, _) in reference.FACTORIAL.items() if model != "man" and not stem.startswith("man")]
    rows += [row("sample-plain", "man", "`man`", "MAN as the paper: MLP head, mean read-out, one target")]
    rows += [row(f"factorial-{stem}", model, f"`{model}`", what)
             for stem, (model, what, _) in reference.FACTORIAL.items() if stem.startswith("man")]
    rows += [row("sample-plain", "sasrec", "`sasrec`", "canonical SASRec: all of the above, and its own sizes")]
    ref = rows[-1][3]
    body = [[label, what, *cells, *(f"{means[d] - ref[d]:+.3f}" for d in reference.DOMAINS)]
            for label, what, cells, means in rows]
    return table(["model", "what differs", "A test AUC, seeds 0 / 1 (mean)", "B test AUC, seeds 0 / 1 (mean)",
                  "mean − sasrec, A", "mean − sasrec, B"], body)


def against_sasrec(setting: str, model: str, baseline: str = "sample-plain") -> list:
    """Four cells: `model`'s test AUC in `setting` (mean ± std, A then B), then `model` − `sasrec` of `baseline`,
    paired over the seeds with its 95% interval (A then B)."""
    return [*(ms(setting, model, d) for d in reference.DOMAINS),
            *(interval(reference.paired(setting, model, "sasrec", d, against=baseline)) for d in reference.DOMAINS)]


VERSUS_SASREC = ["A test AUC", "B test AUC", "− sasrec, A (95%)", "− sasrec, B (95%)"]


def factorial_sasrec(where: str = "sample", stems=tuple(reference.FACTORIAL_SASREC)) -> str:
    """From `sasrec` towards `single` in `where` ("sample" or "sparse"): one of sasrec's settings at a time (5 seeds,
    plain Adam), paired with sasrec's plain-Adam runs there; `single` and `man` under the same training for scale."""
    plain, prefix = f"{where}-plain", "factorial-" if where == "sample" else f"{where}-factorial-"
    rows = [["`sasrec`", "canonical SASRec (plain Adam)", *(ms(plain, "sasrec", d) for d in reference.DOMAINS),
             "-", "-"]]
    rows += [["`sasrec`", reference.FACTORIAL_SASREC[stem][0], *against_sasrec(f"{prefix}{stem}", "sasrec", plain)]
             for stem in stems]
    rows += [[f"`{m}`", "for scale: the same training", *against_sasrec(plain, m, plain)] for m in ("single", "man")]
    return table(["model", "what differs from `sasrec`", *VERSUS_SASREC], rows)


def sparse_factorial_sasrec() -> str:
    """`factorial_sasrec` in the sparse setting, without "the four together"."""
    return factorial_sasrec("sparse", reference.SPARSE_FACTORIAL_SASREC)


def dropout() -> str:
    """The MAN family with sasrec's dropout (5 seeds, plain Adam): against sasrec and against itself without."""
    settings = {"man": "dropout", "single": "dropout", "single-ep": "dropout-ep-dot-last", "man-ep": "dropout-ep-dot-last",
                "man-local-ep": "dropout-ep-dot-last-local"}
    label = {"man": "`man`", "single": "`single`", **{m: f"`{m}`, dot head, last position"
                                                      for m in ("single-ep", "man-ep", "man-local-ep")}}
    rows = [[label[m], *against_sasrec(setting, m),
             *((interval(reference.paired(setting, m, m, d, against="sample-plain")) for d in reference.DOMAINS)
               if m in ("man", "single") else ("-", "-"))] for m, setting in settings.items()]
    return table(["with dropout 0.2", *VERSUS_SASREC, "− without dropout, A", "− without dropout, B"], rows)


def batch_norm() -> str:
    """`man` and `single` with the official code's BatchNorm in their prediction MLPs (5 seeds, plain Adam), in the
    sample and the sparse setting: against sasrec and against themselves without."""
    rows = [[f"{where}: `{m}`", *against_sasrec(setting, m, plain),
             *(interval(reference.paired(setting, m, m, d, against=plain)) for d in reference.DOMAINS)]
            for where, setting, plain in (("sample", "batch-norm", "sample-plain"),
                                          ("sparse", "sparse-batch-norm", "sparse-plain"))
            for m in ("man", "single")]
    return table(["with BatchNorm", *VERSUS_SASREC, "− without BatchNorm, A", "− without BatchNorm, B"], rows)


def scale() -> str:
    """The MAN family with sasrec's sqrt(D) input scaling (5 seeds, plain Adam), against sasrec."""
    shown = (("scale-ep-dot-last", "single-ep", "`single-ep`, dot head, last position, dropout 0.2"),
             ("scale-ep-dot-last", "man-ep", "`man-ep`, dot head, last position, dropout 0.2"),
             ("scale", "single", "`single` (the paper's head and objective)"),
             ("scale", "man", "`man` (the paper's head and objective)"))
    rows = [[label, *against_sasrec(setting, m)] for setting, m, label in shown]
    return table(["with sqrt(D) input scaling", *VERSUS_SASREC], rows)


def sparse_dropout() -> str:
    """The sparse setting: the every-position models with sasrec's scoring and dropout, and the paper's `man`,
    against sasrec (plain Adam, 5 seeds)."""
    rows = [[f"`{m}`, dot head, last position, dropout 0.2",
             *against_sasrec("sparse-dropout-ep-dot-last", m, "sparse-plain")] for m in ("single-ep", "man-ep")]
    rows.append(["`man` (the paper's)", *against_sasrec("sparse-plain", "man", "sparse-plain")])
    return table(["sparse setting, plain Adam, 5 seeds", *VERSUS_SASREC], rows)


SCALED = "dot head, last position, dropout 0.2, sqrt(D) scaling"  # scale-ep-dot-last's build


def scale_sharing() -> str:
    """The paper's question on the closest build (5 seeds): MAN with nothing shared and MAN with the premise off,
    each against sasrec and paired with `man-ep` so built."""
    shown = (("scale-ep-dot-last-local", "man-local-ep", "`man-local-ep`: nothing shared across domains"),
             ("scale-ep-dot-last-control", "man-ep", "`man-ep`, the premise off in B"))
    rows = [["`man-ep`: MAN", *against_sasrec("scale-ep-dot-last", "man-ep"), "-", "-"]]
    rows += [[label, *against_sasrec(setting, m),
              *(interval(reference.paired("scale-ep-dot-last", "man-ep", m, d, against=setting))
                for d in reference.DOMAINS)] for setting, m, label in shown]
    return table([f"built as above ({SCALED})", *VERSUS_SASREC, "`man-ep` − this, A", "`man-ep` − this, B"], rows)


def scale_new_seeds() -> str:
    """The closest build and sasrec on seeds 5-9, which chose nothing: against sasrec of the same seeds."""
    rows = [["`sasrec`", *(ms("scale-new-seeds", "sasrec", d) for d in reference.DOMAINS), "-", "-"]]
    rows += [[f"`{m}`", *against_sasrec("scale-new-seeds", m, "scale-new-seeds")]
             for m in ("single-ep", "man-ep", "man-local-ep")]
    return table([f"seeds 5-9 ({SCALED})", *VERSUS_SASREC], rows)


def sparse_scale() -> str:
    """The sparse setting with the closest build: against sasrec's plain-Adam runs there (5 seeds)."""
    rows = [[f"`{m}`", *against_sasrec("sparse-scale-ep-dot-last", m, "sparse-plain")] for m in ("single-ep", "man-ep")]
    return table([f"sparse setting ({SCALED})", *VERSUS_SASREC], rows)


def budget_stops(setting: str, model: str) -> str:
    """'3/5, 4/5': per domain, the seeds stopped by the epoch budget instead of by early stopping."""
    cfg = reference.config(setting, model)["train"][model]
    return ", ".join(f"{sum(run['last_epoch'][d] == cfg['epochs'] for run in runs(setting, model))}/"
                     f"{len(runs(setting, model))}" for d in reference.DOMAINS)


def sasrec_training() -> str:
    """The closest build trained as sasrec is (5 seeds): against sasrec, against the same build under the recipe,
    and how many seeds the epoch budget stopped."""
    names = ("single-ep", "man-ep")
    rows = [[f"`{m}`", *against_sasrec("sasrec-training", m),
             *(interval(reference.paired("sasrec-training", m, m, d, against="scale-ep-dot-last"))
               for d in reference.DOMAINS), budget_stops("sasrec-training", m)] for m in names]
    budgets = {reference.config("sasrec-training", m)["train"][m]["epochs"] for m in names}
    if len(budgets) != 1:
        raise ValueError(f"sasrec-training: the models were trained with different epoch budgets {sorted(budgets)}")
    return table(["trained as `sasrec` is", *VERSUS_SASREC, "− the recipe's training, A", "− the recipe's training, B",
                  f"stopped by the {budgets.pop()}-epoch budget (A, B)"], rows)


PER_TARGET = ROOT / "benchmarks" / "results" / "bench_per_target.json"
PER_TARGET_COMMAND = "python benchmarks/bench_per_target.py --out benchmarks/results/bench_per_target.json"


def cost() -> str:
    """Training cost per target and per converged run against sasrec's, from benchmarks/bench_per_target.py."""
    bench = bench_json(PER_TARGET, PER_TARGET_COMMAND)
    runs, whole, sasrec = bench["runs"], bench["per_run"], bench["runs"]["sasrec"]["seconds_per_target"]
    rows = []
    for label, r in runs.items():
        w = whole.get(label)
        rows.append([f"`{label}`", r["batch_size"], 1 + r["n_neg"], f"{1e3 * r['seconds_per_target']:.3f}",
                     f"{r['seconds_per_target'] / sasrec:.1f}x",
                     *((f"{w['epochs']['A']:.0f}, {w['epochs']['B']:.0f}", f"{w['targets'] / 1e6:.2f}M",
                        f"{w['seconds'] / whole['sasrec']['seconds']:.1f}x") if w else ("-", "-", "-"))])
    m = bench["machine"]
    return (table(["training", "batch", "1 + K", "ms per target", "per target / sasrec", "epochs A, B (committed runs)",
                   "targets per run", "per run / sasrec"], rows)
            + f"\n\n{m['threads']} thread, {m['cpu']}, load average {m['loadavg_before'][0]:.1f} -> "
              f"{m['loadavg_after'][0]:.1f}: `{bench['command']}`\n")


BLOCKS = {"cost": cost, "factorial": factorial, "scale-sharing": scale_sharing, "scale-new-seeds": scale_new_seeds,
          "sparse-scale": sparse_scale, "sasrec-training": sasrec_training, "factorial-sasrec": factorial_sasrec, "sparse-factorial-sasrec": sparse_factorial_sasrec, "dropout": dropout, "batch-norm": batch_norm, "scale": scale,
          "sparse-dropout": sparse_dropout, "install-time": install_time, "test-time": test_time, "first-run": first_run, "first-run-seeds": first_run_seeds, "first-run-ep": first_run_ep, "first-run-t10": first_run_t10, "headline": headline, "notebooks": notebooks,
          "recipe": recipe, "recipe-plateau": recipe_plateau, "recipe-paired": recipe_paired, "main-job": main_job,
          "sample-plain": sample_plain, "b-variants": b_variants, "warmup": warmup, "grid-halves": grid_halves,
          "grid-gain": grid_gain, "new-seeds": new_seeds, "gru4rec-lr": gru4rec_lr, "gru4rec-mean": gru4rec_mean,
          "sample-buckets": sample_buckets, "control": control, "control-plain": control_plain,
          "sparse-plain": sparse_plain, "sparse-plain-means": sparse_plain_means,
          "sparse-both-seeds": sparse_both_seeds, "sparse-both": sparse_both, "sparse-grid": sparse_grid,
          "loo100": loo100, "pool-last": pool_last}


def render(name: str) -> tuple[str, str | None]:
    """(the block's text, None) or, when its files are not there, (one line naming the command, that message)."""
    if name not in BLOCKS:
        raise ValueError(f"tools/make_docs.py: no block {name!r} (known: {', '.join(BLOCKS)})")
    try:
        text = BLOCKS[name]()
    except Missing as e:
        return f"*Not measured yet: {e}; then run `python tools/make_docs.py`.*\n", str(e)
    return text.rstrip("\n") + "\n", None


def update(text: str, cache: dict) -> tuple[str, list]:
    """`text` with every generated block rewritten; also [(name, what is missing or None, matched?)]."""
    found = []

    def replace(m):
        name = m.group(2)
        if name not in cache:
            cache[name] = render(name)
        body, missing = cache[name]
        found.append((name, missing, m.group(3) == body))
        return m.group(1) + body + m.group(4)

    return BLOCK.sub(replace, text), found


def check(root: Path = ROOT) -> list[str]:
    """Problems of the committed files, one line each: a block that differs, or whose files are missing."""
    problems, cache = [], {}
    for name in FILES:
        _, found = update((root / name).read_text(), cache)
        for block, missing, same in found:
            if missing:
                problems.append(f"{name}: block '{block}' cannot be checked: {missing}")
            elif not same:
                problems.append(f"{name}: block '{block}' differs from what its results give "
                                "(run python tools/make_docs.py)")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 naming every block that differs")
    args = p.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for line in problems:
                print(line, file=sys.stderr)
            return 1 if problems else 0
        cache = {}
        for name in FILES:
            path = ROOT / name
            text, found = update(path.read_text(), cache)
            path.write_text(text)
            for block, missing, same in found:
                if missing:
                    print(f"{name}: block '{block}': {missing}", file=sys.stderr)
                elif not same:
                    print(f"{name}: block '{block}' rewritten")
    except (OSError, ValueError) as e:
        print(f"tools/make_docs.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
