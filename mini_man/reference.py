"""The committed reference results (`docs/results/*.json`, written by `python -m mini_man.train --out`): the one
place that reads them, for `tools/make_docs.py` (the tables of README.md and docs/results.md), notebooks and tests.

A *setting* (`SETTINGS`) names one committed result set: for every model, the file(s) that hold its runs and how
they combine:
- one file stem, e.g. "sample_baselines": that file's runs of the model;
- {label: stem, ...}: a grid over the settings `label` (the weight-decay grid {0, 1} of the reference protocol, a
  learning-rate grid): per seed and domain the run with the best validation score, the first label on a tie
  (`mini_man.compare.grid`, the trainer's own rule, `mini_man.selection`; training is deterministic per seed, so
  this is what the grid option prints: tests/test_train.py);
- [stem, ...]: files of the same command on different seeds, their runs put together.
A setting whose "models" is one stem takes every model of that file.

    >>> reference.summary("sample", "man", "A")          # (mean, sample std, number of seeds) of test AUC
    >>> reference.paired("sample", "man", "sasrec", "B")  # (mean of man - sasrec, 95% t-interval low, high, seeds)
"""
import functools
import math
from pathlib import Path

import numpy as np

from mini_man import compare

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
DOMAINS = compare.DOMAINS

_SAMPLE = "python -m mini_man.train --weight-decay-grid 0,1 --models man,man-local --seeds 0,1,2,3,4\n" \
          "python -m mini_man.train --weight-decay-grid 0,1 --models single,shared,gru4rec,sasrec,pop --seeds 0,1,2,3,4"
_SPARSE = "python -m mini_man.sample --setting sparse\n" \
          "python -m mini_man.train --domain-a data/sparse/video_games.csv --domain-b data/sparse/toys.csv " \
          "--kcore 2 --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length --models man,man-local,single,sasrec,pop"
SETTINGS = {
    "sample": {
        "what": "the shipped sample, the reference protocol: the recipe and the weight-decay grid {0, 1} per seed "
                "and domain, seeds 0-4",
        "command": _SAMPLE,
        "made_by": "bash tools/results.sh; bash tools/results.sh weight-decay; "
                   "bash tools/results.sh weight-decay-baselines",
        "models": {"man": {"0": "sample_man", "1": "man_wd1"},
                   "man-local": {"0": "sample_man", "1": "man_local_wd1"},
                   "single": {"0": "sample_baselines", "1": "baselines_wd1"},
                   "shared": {"0": "sample_baselines", "1": "baselines_wd1"},
                   "gru4rec": {"0": "sample_baselines", "1": "baselines2_wd1"},
                   "sasrec": {"0": "sample_baselines", "1": "baselines2_wd1"},
                   "pop": "sample_baselines"}},
    "sample-plain": {
        "what": "the shipped sample, plain Adam (weight decay 0: the grid's first half, with full ranking), seeds 0-4",
        "command": _SAMPLE.replace("--weight-decay-grid 0,1", "--weight-decay 0"),
        "made_by": "bash tools/results.sh",
        "models": {"man": "sample_man", "man-local": "sample_man", "single": "sample_baselines",
                   "shared": "sample_baselines", "gru4rec": "sample_baselines", "sasrec": "sample_baselines",
                   "pop": "sample_baselines"}},
    "sample-wd1": {
        "what": "the shipped sample, decoupled weight decay 1 (AdamW; the grid's second half), seeds 0-4",
        "command": _SAMPLE.replace("--weight-decay-grid 0,1", "--weight-decay 1 --full-ranking 0").replace(",pop", ""),
        "made_by": "bash tools/results.sh weight-decay; bash tools/results.sh weight-decay-baselines",
        "models": {"man": "man_wd1", "man-local": "man_local_wd1", "single": "baselines_wd1",
                   "shared": "baselines_wd1", "gru4rec": "baselines2_wd1", "sasrec": "baselines2_wd1"}},
    "control": {
        "what": "the sample with the premise off in B (toys_control.csv), `man`, the reference protocol, seeds 0-4",
        "command": "python -m mini_man.train --weight-decay-grid 0,1 --domain-b data/sample/toys_control.csv "
                   "--models man --seeds 0,1,2,3,4 --full-ranking 0 --by-history-length",
        "made_by": "bash tools/results.sh 1; bash tools/results.sh control-weight-decay",
        "models": {"man": {"0": "control_man", "1": "control_man_wd1"}}},
    "control-plain": {
        "what": "the sample with the premise off in B, `man`, plain Adam, seeds 0-4",
        "command": "python -m mini_man.train --weight-decay 0 --domain-b data/sample/toys_control.csv --models man "
                   "--seeds 0,1,2,3,4 --full-ranking 0 --by-history-length",
        "made_by": "bash tools/results.sh 1",
        "models": {"man": "control_man"}},
    "man-new-seeds": {
        "what": "`man` with the reference protocol (the grid in one run) on seeds 5-9",
        "command": "python -m mini_man.train --weight-decay-grid 0,1 --models man --seeds 5,6,7,8,9 --full-ranking 0",
        "made_by": "bash tools/results.sh weight-decay-grid-new-seeds",
        "models": {"man": "man_wd_grid_seeds5-9"}},
    "man-local-new-seeds": {
        "what": "`man-local` with the reference protocol on seeds 5-9, one run per seed",
        "command": "python -m mini_man.train --weight-decay-grid 0,1 --models man-local --seeds SEED --full-ranking 0"
                   "  # SEED = 5, ..., 9",
        "made_by": "bash tools/results.sh man-local-new-seeds",
        "models": {"man-local": [f"man_local_seed{s}" for s in range(5, 10)]}},
    "gru4rec-lr-grid": {
        "what": "`gru4rec` with a learning-rate grid {1e-3, 3e-3, 1e-2}, plain Adam, seeds 0-4",
        "command": "python -m mini_man.train --weight-decay 0 --models gru4rec --lr-grid 1e-3,3e-3,1e-2 "
                   "--seeds 0,1,2,3,4 --full-ranking 0",
        "made_by": "bash tools/results.sh; bash tools/results.sh gru4rec-lr-grid",
        "models": {"gru4rec": {"3e-3": "sample_baselines", "1e-3 or 1e-2": "gru4rec_lr_grid"}}},
    "gru4rec-mean-lr1e-3": {
        "what": "`gru4rec` with the mean read-out, plain Adam at lr 1e-3, seeds 0-2",
        "command": "python -m mini_man.train --weight-decay 0 --models gru4rec --pool mean --lr 0.001 "
                   "--seeds 0,1,2 --full-ranking 0",
        "made_by": "bash tools/results.sh gru4rec-lr",
        "models": {"gru4rec": "gru4rec_lr1e-3"}},
    "gru4rec-mean-lr1e-2": {
        "what": "`gru4rec` with the mean read-out, plain Adam at lr 1e-2, seeds 0-2",
        "command": "python -m mini_man.train --weight-decay 0 --models gru4rec --pool mean --lr 0.01 "
                   "--seeds 0,1,2 --full-ranking 0",
        "made_by": "bash tools/results.sh gru4rec-lr",
        "models": {"gru4rec": "gru4rec_lr1e-2"}},
    "warmup1000": {
        "what": "`man` and `man-local`, plain Adam with a 1000-step warm-up, seeds 0-4",
        "command": "python -m mini_man.train --weight-decay 0 --models man,man-local --warmup 1000 "
                   "--seeds 0,1,2,3,4 --full-ranking 0",
        "made_by": "bash tools/results.sh warmup1000",
        "models": {"man": "man_warmup1000", "man-local": "man_warmup1000"}},
    "warmup1000-both": {
        "what": "`man`, plain Adam with a 1000-step warm-up and patience counted for both domains, seeds 0-4",
        "command": "python -m mini_man.train --weight-decay 0 --models man --warmup 1000 --patience-scope both "
                   "--seeds 0,1,2,3,4 --full-ranking 0",
        "made_by": "bash tools/results.sh warmup1000",
        "models": {"man": "man_warmup1000_both"}},
    "pool-last": {
        "what": "`man` reading the newest position (`--pool last`), plain Adam, seeds 0-2",
        "command": "python -m mini_man.train --weight-decay 0 --models man --pool last --seeds 0,1,2 --full-ranking 0",
        "made_by": "bash tools/results.sh 0",
        "models": {"man": "man_pool_last"}},
    "loo100": {
        "what": "leave-one-out split, 1 + 100 candidates (SASRec's protocol), plain Adam, seeds 0-2",
        "command": "python -m mini_man.train --weight-decay 0 --split loo --eval-negatives 100 --models sasrec,single "
                   "--seeds 0,1,2 --full-ranking 0",
        "made_by": "bash tools/results.sh 0",
        "models": "sasrec_loo100"},
    "main-job": {
        "what": "the grid in one command (the reference protocol): man, single, shared, sasrec, pop, seed 0",
        "command": "python -m mini_man.train --weight-decay-grid 0,1 --models man,single,shared,sasrec,pop "
                   "--out docs/results/main_job.json",
        "made_by": "bash tools/results.sh main-job",
        "models": "main_job"},
    "sparse": {
        "what": "the sparse setting: the reference protocol (weight-decay grid {0, 1}) for man, man-local, single "
                "and sasrec, seeds 0-4",
        "command": _SPARSE.replace("--kcore", "--weight-decay-grid 0,1 --kcore"),
        "made_by": "bash tools/results.sh sparse; bash tools/results.sh sparse-weight-decay; "
                   "bash tools/results.sh sparse-weight-decay-rest",
        "models": {"man": {"0": "sparse_man", "1": "sparse_man_wd1"},
                   "man-local": {"0": "sparse_man", "1": "sparse_man_wd1"},
                   "single": {"0": "sparse_baselines", "1": "sparse_baselines_wd1"},
                   "sasrec": {"0": "sparse_baselines", "1": "sparse_baselines_wd1"},
                   "pop": "sparse_baselines"}},
    "sparse-plain": {
        "what": "the sparse setting, plain Adam, seeds 0-4",
        "command": _SPARSE.replace("--kcore", "--weight-decay 0 --kcore"),
        "made_by": "bash tools/results.sh sparse",
        "models": {"man": "sparse_man", "man-local": "sparse_man", "single": "sparse_baselines",
                   "sasrec": "sparse_baselines", "pop": "sparse_baselines"}},
    "sparse-control": {
        "what": "the sparse setting with the premise off in B, `man`, plain Adam, seeds 0-4",
        "command": _SPARSE.replace("--kcore", "--weight-decay 0 --kcore").replace("toys.csv", "toys_control.csv")
        .replace("man,man-local,single,sasrec,pop", "man"),
        "made_by": "bash tools/results.sh sparse-control",
        "models": {"man": "sparse_control"}},
    "sparse-both": {
        "what": "the sparse setting, plain Adam, patience counted from either domain's last improvement, seeds 0-4",
        "command": _SPARSE.replace("--kcore", "--weight-decay 0 --patience-scope both --kcore"),
        "made_by": "bash tools/results.sh sparse-both; bash tools/results.sh sparse-both-rest",
        "models": {"man": "sparse_man_both", "man-local": "sparse_man_both", "single": "sparse_baselines_both",
                   "sasrec": "sparse_baselines_both", "pop": "sparse_baselines_both"}},
    "sparse-control-both": {
        "what": "the sparse setting with the premise off in B, `man`, plain Adam, `--patience-scope both`, seeds 0-4",
        "command": _SPARSE.replace("--kcore", "--weight-decay 0 --patience-scope both --kcore")
        .replace("toys.csv", "toys_control.csv").replace("man,man-local,single,sasrec,pop", "man"),
        "made_by": "bash tools/results.sh sparse-both-rest",
        "models": {"man": "sparse_control_both"}},
    # The first run trains each model once with plain Adam, one thread per run: the plain-Adam runs of the sample
    # (its seed 0, docs/results/first_run.json, is checked against them in tests/test_reference.py).
    "first-run": {
        "what": "the first run (`python -m mini_man.train`, no arguments: man, single, sasrec, pop, plain Adam) "
                "on seeds 0-4",
        "command": "python -m mini_man.train --seeds 0,1,2,3,4",
        "made_by": "bash tools/results.sh",
        "models": {"man": "sample_man", "single": "sample_baselines", "sasrec": "sample_baselines",
                   "pop": "sample_baselines"}},
    # The every-position MAN trained as the first run trains (plain Adam, both cores), in place of `man`.
    "first-run-ep": {
        "what": "`man-ep` as the first run trains it (its recipe, plain Adam, the newest training window), seeds 0-4",
        "command": "python -m mini_man.train --models man-ep --seeds 0,1,2,3,4",
        "made_by": "bash tools/results.sh first-run-ep", "models": {"man-ep": "first_run_man_ep"}},
    "first-run-ep-every": {
        "what": "`man-ep` as the first run trains it, every training window (`--windows every`), seeds 0-4",
        "command": "python -m mini_man.train --models man-ep --windows every --seeds 0,1,2,3,4",
        "made_by": "bash tools/results.sh first-run-ep", "models": {"man-ep": "first_run_man_ep_every"}},
    # The first run with histories of 10 items instead of the paper's 20 (`--max-len 10`).
    "first-run-t10": {
        "what": "the first run with histories of 10 items (`--max-len 10`), seeds 0-4",
        "command": "python -m mini_man.train --max-len 10 --seeds 0,1,2,3,4",
        "made_by": "bash tools/results.sh first-run-t10",
        "models": {m: "first_run_t10" for m in ("man", "single", "sasrec", "pop")}},
}

# The factorial from `single` (the paper's SASRec) towards `sasrec` and MAN with what closes the gap: one setting per
# row, "factorial-<stem>", the recipe (plain Adam), seeds 0-1 (`bash tools/results.sh factorial`).
FACTORIAL = {  # stem: (model, what differs from `single` / `man`, the command's options)
    "single_last": ("single", "read-out: the newest position instead of the mean", "--models single --pool last"),
    "single_opt": ("single", "optimizer: lr 1e-3, no warm-up (sasrec's)", "--models single --lr 0.001 --warmup 0"),
    "single_dot": ("single", "head: dot product with the item table", "--models single --head dot"),
    "single_ep": ("single-ep", "objective: every position in one causal pass", "--models single-ep"),
    "single_ep_dot": ("single-ep", "objective and head", "--models single-ep --head dot"),
    "single_ep_dot_last": ("single-ep", "objective, head and read-out", "--models single-ep --head dot --pool last"),
    "man_ep": ("man-ep", "MAN, objective: every position", "--models man-ep"),
    "man_dot": ("man", "MAN, head: dot product", "--models man --head dot"),
    "man_ep_dot": ("man-ep", "MAN, objective and head", "--models man-ep --head dot"),
}
for _stem, (_model, _what, _options) in FACTORIAL.items():
    SETTINGS[f"factorial-{_stem}"] = {
        "what": f"`{_model}`, {_what}, the recipe, seeds 0-1",
        "command": f"python -m mini_man.train {_options} --seeds 0,1 --full-ranking 0",
        "made_by": "bash tools/results.sh factorial", "models": {_model: f"factorial_{_stem}"}}

FACTORIAL_SASREC = {  # stem: (what differs from `sasrec`: one of its settings set to `single`'s, the command's options)
    "sasrec_d20": ("size: hidden 20 (the MAN family's D) instead of 50", "--sasrec-hidden 20"),
    "sasrec_dropout0": ("dropout 0 (the MAN family's default) instead of 0.2", "--sasrec-dropout 0"),
    "sasrec_k9": ("9 negatives per position (the paper's K) instead of 1", "--negatives 9"),
    "sasrec_opt": ("the recipe's optimizer: lr 3e-3 after a 300-step warm-up (Adam betas stay 0.9, 0.98)",
                   "--lr 0.003 --warmup 300"),
    "sasrec_all": ("the four above together",
                   "--sasrec-hidden 20 --sasrec-dropout 0 --negatives 9 --lr 0.003 --warmup 300"),
    "sasrec_unscaled": ("item embeddings not scaled by sqrt(hidden)", "--sasrec-unscaled"),
    "sasrec_preln": ("the MAN family's pre-LayerNorm blocks", "--sasrec-block pre-ln"),
    "sasrec_maninit": ("the MAN family's initialisation", "--sasrec-init man"),
    "sasrec_all7": ("all seven together", "--sasrec-hidden 20 --sasrec-dropout 0 --negatives 9 --lr 0.003 --warmup 300 "
                                 "--sasrec-unscaled --sasrec-block pre-ln --sasrec-init man"),
    "sasrec_windows": ("every training target (every window, as `single` trains), not the newest T only",
                       "--windows every"),
}
for _stem, (_what, _options) in FACTORIAL_SASREC.items():
    SETTINGS[f"factorial-{_stem}"] = {
        "what": f"`sasrec`, {_what}, the recipe, seeds 0-4",
        "command": f"python -m mini_man.train --models sasrec {_options} --seeds 0,1,2,3,4 --full-ranking 0",
        "made_by": "bash tools/results.sh factorial-sasrec", "models": {"sasrec": f"factorial_{_stem}"}}

# The same in the sparse setting (`bash tools/results.sh sparse-factorial-sasrec`), without "the four together".
SPARSE_FACTORIAL_SASREC = tuple(stem for stem in FACTORIAL_SASREC if stem != "sasrec_all")
for _stem in SPARSE_FACTORIAL_SASREC:
    SETTINGS[f"sparse-factorial-{_stem}"] = {
        "what": f"the sparse setting: `sasrec`, {FACTORIAL_SASREC[_stem][0]}, plain Adam, seeds 0-4",
        "command": "python -m mini_man.sample --setting sparse\n"
                   f"python -m mini_man.train --models sasrec {FACTORIAL_SASREC[_stem][1]} --domain-a "
                   "data/sparse/video_games.csv --domain-b data/sparse/toys.csv --kcore 2 --seeds 0,1,2,3,4 "
                   "--full-ranking 0 --by-history-length",
        "made_by": "bash tools/results.sh sparse-factorial-sasrec", "models": {"sasrec": f"sparse_factorial_{_stem}"}}

_SCALED = "--head dot --pool last --dropout 0.2 --scale-embeddings"  # sasrec's scoring, dropout and input scaling
FAMILY_OPTIONS = {  # setting: (what, the options of `python -m mini_man.train`, its tools/results.sh part, file stem)
    "dropout": ("`man` and `single` with dropout 0.2 in the SASRec backbone (sasrec's)",
                "--models man,single --dropout 0.2", "dropout", "factorial_dropout"),
    "dropout-ep-dot-last": ("`single-ep` and `man-ep` with sasrec's scoring (dot head, last position) and dropout 0.2",
                            "--models single-ep,man-ep --head dot --pool last --dropout 0.2", "dropout",
                            "factorial_dropout_ep_dot_last"),
    "dropout-ep-dot-last-local": ("`man-local-ep` (MAN with nothing shared) with the dot head, the last position and "
                                  "dropout 0.2", "--models man-local-ep --head dot --pool last --dropout 0.2",
                                  "dropout", "factorial_dropout_ep_dot_last_local"),
    "scale-ep-dot-last": ("`single-ep` and `man-ep` with sasrec's scoring (dot head, last position), its dropout 0.2 "
                          "and its sqrt(D) input scaling",
                          "--models single-ep,man-ep --head dot --pool last --dropout 0.2 --scale-embeddings", "scale",
                          "factorial_scale_ep_dot_last"),
    "scale": ("`single` and `man` with sasrec's sqrt(D) input scaling", "--models single,man --scale-embeddings",
              "scale", "factorial_scale"),
    "scale-ep-dot-last-local": ("`man-local-ep` (MAN with nothing shared) built as in scale-ep-dot-last",
                                f"--models man-local-ep {_SCALED}", "scale-sharing",
                                "factorial_scale_ep_dot_last_local"),
    "scale-ep-dot-last-control": ("`man-ep` built as in scale-ep-dot-last with the premise off in B",
                                  f"--models man-ep {_SCALED} --domain-b data/sample/toys_control.csv",
                                  "scale-sharing", "factorial_scale_ep_dot_last_control"),
    "batch-norm": ("`man` and `single` with BatchNorm before each ReLU of the prediction MLPs (the official code's)",
                   "--models man,single --batch-norm", "batch-norm", "factorial_batch_norm"),
    "sasrec-training": ("`single-ep` and `man-ep` built as in scale-ep-dot-last and trained as sasrec is: 128 users' "
                        "sequences per step, one negative per position, lr 1e-3 without warm-up",
                        f"--models single-ep,man-ep {_SCALED} --batch-size 128 --negatives 1 --lr 0.001 --warmup 0",
                        "sasrec-training", "factorial_sasrec_training"),
}
for _name, (_what, _options, _part, _stem) in FAMILY_OPTIONS.items():
    SETTINGS[_name] = {"what": f"{_what}, {'' if '--lr' in _options else 'the recipe, '}seeds 0-4",
                       "command": f"python -m mini_man.train {_options} --seeds 0,1,2,3,4 --full-ranking 0",
                       "made_by": f"bash tools/results.sh {_part}", "models": _stem}

_SPARSE_DATA = "--domain-a data/sparse/video_games.csv --domain-b data/sparse/toys.csv --kcore 2"
SPARSE_FAMILY_OPTIONS = {  # as FAMILY_OPTIONS, on the sparse setting's files (`_SPARSE_DATA`)
    "sparse-dropout-ep-dot-last": ("`single-ep` and `man-ep` with the dot head, the last position and dropout 0.2",
                                   "--models single-ep,man-ep --head dot --pool last --dropout 0.2", "sparse-dropout",
                                   "sparse_dropout_ep_dot_last"),
    "sparse-batch-norm": ("`man` and `single` with BatchNorm before each ReLU of the prediction MLPs",
                          "--models man,single --batch-norm", "sparse-batch-norm", "sparse_batch_norm"),
    "sparse-scale-ep-dot-last": ("`single-ep` and `man-ep` built as in scale-ep-dot-last",
                                 f"--models single-ep,man-ep {_SCALED}", "sparse-scale", "sparse_scale_ep_dot_last"),
}
for _name, (_what, _options, _part, _stem) in SPARSE_FAMILY_OPTIONS.items():
    SETTINGS[_name] = {"what": f"the sparse setting: {_what}, plain Adam, seeds 0-4",
                       "command": "python -m mini_man.sample --setting sparse\n"
                                  f"python -m mini_man.train {_options} {_SPARSE_DATA} --seeds 0,1,2,3,4 "
                                  "--full-ranking 0 --by-history-length",
                       "made_by": f"bash tools/results.sh {_part}", "models": _stem}

SETTINGS["scale-new-seeds"] = {
    "what": "`sasrec`, and `single-ep`, `man-ep`, `man-local-ep` built as in scale-ep-dot-last, the recipe, seeds 5-9",
    "command": f"python -m mini_man.train --models sasrec,single-ep,man-ep,man-local-ep {_SCALED} --seeds 5,6,7,8,9 "
               "--full-ranking 0",
    "made_by": "bash tools/results.sh scale-new-seeds", "models": "scale_new_seeds"}


class MissingResults(FileNotFoundError):
    """A committed result file that a setting needs is not there; the message names the command that writes it."""


def _setting(setting: str) -> dict:
    if setting not in SETTINGS:
        raise ValueError(f"mini_man.reference: no setting {setting!r} (known: {', '.join(SETTINGS)})")
    return SETTINGS[setting]


def load(stem: str) -> dict:
    """The report of `docs/results/STEM.json` (`compare.load`); raises MissingResults naming the file and the
    setting's command that writes it when it is not there."""
    path = RESULTS / f"{stem}.json"
    if not path.exists():
        makers = [s["made_by"] for s in SETTINGS.values() if stem in _stems(s)]
        raise MissingResults(f"{path.relative_to(RESULTS.parent.parent)} is not there: it is written by "
                             f"`{makers[0] if makers else 'python -m mini_man.train --out ' + str(path)}`")
    return _read(path)


@functools.lru_cache(maxsize=None)
def _read(path: Path) -> dict:
    return compare.load(path)


def clear_cache() -> None:
    """Forget the files read so far (after a file in `RESULTS` changed)."""
    _read.cache_clear()
    report.cache_clear()


def _stems(spec: dict) -> list[str]:
    """Every file stem a setting reads."""
    models = spec["models"]
    if isinstance(models, str):
        return [models]
    out = []
    for files in models.values():
        out += [files] if isinstance(files, str) else list(files.values()) if isinstance(files, dict) else files
    return out


def models(setting: str) -> list[str]:
    """The model names of `setting`, in its order (for a whole-file setting, the file's); raises ValueError for an
    unknown setting, MissingResults for a whole-file setting whose file is not there."""
    spec = _setting(setting)["models"]
    return list(load(spec)["runs"]) if isinstance(spec, str) else list(spec)


@functools.lru_cache(maxsize=None)
def report(setting: str, model: str) -> dict:
    """A `compare`-format report {"runs": {model: [run, ...]}, "source"} with the runs of `model` in `setting`, the
    grid combined (`compare.grid`: each run then has "setting": {domain: label kept} and "seconds" summed over the
    grid). Raises ValueError for an unknown setting or model, MissingResults when a file is not there."""
    spec = _setting(setting)["models"]
    files = spec if isinstance(spec, str) else spec.get(model)
    if files is None:
        raise ValueError(f"mini_man.reference: setting {setting!r} has no model {model!r} (it has "
                         f"{', '.join(models(setting))})")
    if isinstance(files, dict):
        return compare.grid({label: load(stem) for label, stem in files.items()}, model)
    stems = [files] if isinstance(files, str) else files
    runs = [run for stem in stems for run in _runs(load(stem), model)]
    return {"runs": {model: runs}, "source": " + ".join(str(RESULTS / f"{s}.json") for s in stems)}


def _runs(rep: dict, model: str) -> list:
    if model not in rep["runs"]:
        raise ValueError(f"{rep['source']}: model {model!r} is not in this file (it has {', '.join(rep['runs'])})")
    return rep["runs"][model]


def config(setting: str, model: str) -> dict:
    """The "config" of the (first) file behind `model` in `setting`: the command's settings as the CLI wrote them."""
    spec = _setting(setting)["models"]
    files = spec if isinstance(spec, str) else spec[model]
    stem = files if isinstance(files, str) else next(iter(files.values())) if isinstance(files, dict) else files[0]
    return load(stem).get("config", {})


def per_seed(setting: str, model: str, domain: str, metric: str = "auc", bucket: str | None = None) -> dict[int, float]:
    """{seed: test `metric`} of `model` in `domain` ("A" or "B") in `setting`, over all test targets or over one
    history-length `bucket` ("1-2", "3-5", "6-10", "11+"); raises ValueError when absent (`compare.per_seed`)."""
    return compare.per_seed(report(setting, model), model, domain, metric, bucket)


def summary(setting: str, model: str, domain: str, metric: str = "auc") -> tuple[float, float, int]:
    """(mean, sample std (ddof 1; nan for one seed), number of seeds) of `model`'s test `metric` in `domain`."""
    values = list(per_seed(setting, model, domain, metric).values())
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else math.nan, len(values)


def paired(setting: str, a: str, b: str, domain: str, metric: str = "auc", against: str | None = None,
           bucket: str | None = None) -> tuple[float, float, float, int]:
    """(mean of a - b, low, high of its 95% t-interval, number of seeds) of test `metric` in `domain`, paired by
    seed (`compare.paired`); `b` from setting `against` when given (e.g. the premise on against "control")."""
    r = compare.paired(per_seed(setting, a, domain, metric, bucket),
                       per_seed(against or setting, b, domain, metric, bucket))
    return r["mean"], r["low"], r["high"], r["n"]


def by_bucket(setting: str, a: str, b: str, domain: str, metric: str = "auc",
              against: str | None = None) -> dict[str, tuple[int, tuple[float, float, float, int]]]:
    """{"all" or a history-length bucket: (number of test targets, `paired` result)} for `a` - `b` in `domain`,
    the buckets with at least 2 targets (`compare.by_bucket`)."""
    out = compare.by_bucket(report(setting, a), a, report(against or setting, b), b, domain, metric)
    return {label: (n, (r["mean"], r["low"], r["high"], r["n"])) for label, (n, r) in out.items()}


def kept(setting: str, model: str, domain: str) -> list[str]:
    """Per seed (in seed order), the grid label kept in `domain` (e.g. "0" or "1" for the weight-decay grid);
    raises ValueError when `model` is not grid-combined in `setting`."""
    runs = report(setting, model)["runs"][model]
    if "setting" not in runs[0]:
        raise ValueError(f"mini_man.reference: {model!r} in {setting!r} is not a grid")
    return [run["setting"][domain] for run in runs]
