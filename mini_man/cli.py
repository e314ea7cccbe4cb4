"""The command line of `python -m mini_man.train`: train MAN and its baselines, print a Table 2 of the paper.

With no arguments it is the first run: `man`, `single`, `sasrec` and `pop` on the sample files with seed 0, each
trained once with the recipe (`train.TrainConfig`, `train.recipe`: plain Adam after a warm-up, until validation stops
improving), the runs spread over the cores (`--jobs`). The reference protocol of docs/results.md adds the weight-decay
grid `train.WEIGHT_DECAY_GRID` (`--weight-decay-grid 0,1`) and more models and seeds.
Results go to stdout, one progress line per epoch to stderr. Bad input exits with code 2 and one line on stderr.
The JSON of --out records the CPU kernels the run computed with (`config.cpu_kernels`): on another CPU a training
run can print other digits.
`torchrun --nproc_per_node=N -m mini_man.train --ddp ...` trains data-parallel in N processes (`mini_man.distributed`);
rank 0 prints and writes the files.
"""
import argparse
import inspect
import itertools
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

import mini_man
from mini_man import checkpoint, distributed, models, parallel, reproducibility, train
from mini_man import data as mdata
from mini_man.config import HEADS, POOLS, MANConfig
from mini_man.sasrec import BLOCKS as SASREC_BLOCKS, INITS as SASREC_INITS

SAMPLE_FILES = ("video_games.csv", "toys.csv")
MAIN_MODELS = ("man", "single", "sasrec", "pop")  # the first run
ROWS = {"auc": "AUC", "gauc": "GAUC", "mrr": "MRR", "ndcg@10": "NDCG@10", "hr@10": "HR@10",
        "hr@10_full": "HR@10 (full)", "ndcg@10_full": "NDCG@10 (full)"}
CORES = parallel.CORES
PREPARE = inspect.signature(mdata.prepare).parameters  # data defaults live in one place: data.prepare


def sample_path(name: str) -> Path:
    """data/sample/<name>: under the working directory if there, else next to the installed package."""
    local = Path("data/sample") / name
    return local if local.is_file() else Path(mini_man.__file__).resolve().parent.parent / "data/sample" / name


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage block); the exit code stays 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(low: int, high: int | None = None):
    """An argparse type: an integer >= low (and <= high if given)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < low or high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be >= {low}" + (f" and <= {high}" if high is not None else "")
                                             + f", got {value}")
        return value
    return parse


def _fraction(text):
    """An argparse type: a number in [0, 1) (a dropout probability)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


def _positive_float(text):
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _full_ranking(text):
    """An argparse type: 'all' (None) or an integer >= 0."""
    return None if text == "all" else _int_at_least(0)(text)


def _models(text):
    """An argparse type: comma-separated model names of `models.NAMES`, each once."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"no model given; choose from {', '.join(models.NAMES)}")
    names = [n.strip() for n in text.split(",")]
    unknown = [n for n in names if n not in models.NAMES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown model {unknown[0]!r}; choose from {', '.join(models.NAMES)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a model is listed twice in {text!r}")
    return names


def _as_text(values) -> str:
    """[0.0, 1.0] -> '0,1': settings as the command line, the logs and the JSON keys write them (`train.setting_label`).
    Two values with the same text would share one label, so the grid options refuse them."""
    return ",".join(f"{v:g}" for v in values)


def _lrs(text):
    """An argparse type: comma-separated learning rates > 0, each once."""
    lrs = [_positive_float(x.strip()) for x in text.split(",")]
    if len(set(_as_text(lrs).split(","))) != len(lrs):
        raise argparse.ArgumentTypeError(f"a learning rate is listed twice in {text!r} (values must differ in their "
                                          "first 6 significant digits)")
    return lrs


def _weight_decays(text):
    """'0,1' -> [0.0, 1.0]: distinct weight decays >= 0."""
    try:
        wds = [float(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"weight decays must be numbers separated by commas, got {text!r}") from None
    if any(not math.isfinite(w) or w < 0 for w in wds) or len(set(_as_text(wds).split(","))) != len(wds):
        raise argparse.ArgumentTypeError(f"weight decays must be distinct numbers >= 0 (differing in their first 6 "
                                         f"significant digits), got {text!r}")
    return [w + 0.0 for w in wds]  # -0 -> 0


def _seeds(text):
    """An argparse type: comma-separated seeds >= 0, each once."""
    if not text.strip():
        raise argparse.ArgumentTypeError("no seed given, e.g. 0 or 0,1,2")
    seeds = [_int_at_least(0)(s.strip()) for s in text.split(",")]
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"a seed is listed twice in {text!r}")
    return seeds


def build_parser() -> Parser:
    """Every option, with its default taken from where it is defined (TrainConfig, MANConfig, data.prepare)."""
    tc, mc = train.TrainConfig(), MANConfig()
    p = Parser(prog="python -m mini_man.train", description=(
        "Train MAN and its baselines on two domains and print a table like the paper's Table 2 (rows: domain x "
        "metric; columns: models). Sampled metrics rank the target among 1 + 9 fixed negatives; '(full)' metrics "
        "rank it among all items of its domain. Each domain is tested with its best epoch on validation "
        "(--select-by)."))
    p.add_argument("--domain-a", type=Path, default=None, metavar="PATH",
                   help="rating file of domain A, in a format of --format "
                        f"(default: data/sample/{SAMPLE_FILES[0]})")
    p.add_argument("--domain-b", type=Path, default=None, metavar="PATH",
                   help=f"rating file of domain B (default: data/sample/{SAMPLE_FILES[1]})")
    p.add_argument("--format", choices=mdata.formats.NAMES, default=PREPARE["format"].default,
                   help="format of both files (data/README.md); 'auto' decides per file from its content and asks "
                        "when two readings are possible (default: %(default)s)")
    p.add_argument("--models", type=_models, default=list(MAIN_MODELS), metavar="M1,M2",
                   help=f"comma-separated models from: {', '.join(models.NAMES)} (default: {','.join(MAIN_MODELS)})")
    p.add_argument("--seeds", type=_seeds, default=[0], metavar="S1,S2",
                   help="comma-separated seeds of the models' weights, negatives and batch order; with several, the "
                        "table shows mean ± std. The evaluation candidates stay fixed (default: 0)")
    p.add_argument("--split", choices=("time", "loo"), default=PREPARE["split"].default,
                   help="'time': the last days are validation/test; 'loo': each user's last two items "
                        "(default: %(default)s)")
    p.add_argument("--kcore", type=_int_at_least(1), default=PREPARE["kcore"].default, metavar="K",
                   help="keep users and items with at least K interactions; 1 = no filter (default: %(default)s)")
    p.add_argument("--warm-targets-only", action="store_true",
                   help="evaluate only the validation/test targets that occur in training (default: all, as in the "
                        "paper's numbers)")
    p.add_argument("--shared-item-ids", action="store_true",
                   help="the two files number their items in one id space: SASRec and RecBole files number items per "
                        "file, so their item ids are per domain unless this is given (Amazon ids are always shared)")
    p.add_argument("--epochs", type=_int_at_least(1), default=tc.epochs, metavar="N",
                   help="most epochs any model trains, the same for every model (default: %(default)s)")
    p.add_argument("--batch-size", type=_int_at_least(1), default=None, metavar="N",
                   help=f"training instances per step, each from one domain; users' sequences for the every-position "
                        f"models (default: each model's recipe, train.recipe: {tc.batch_size}, *-ep "
                        f"{train.recipe('man-ep')['batch_size']})")
    p.add_argument("--patience", type=_int_at_least(0), default=tc.patience, metavar="N",
                   help="a domain stops after N epochs without a better validation score, but never while it is "
                        "within --plateau-margin of popularity; 0 = train the whole budget (the best epoch is still "
                        "selected) (default: %(default)s; appendix A.5: 2)")
    p.add_argument("--plateau-margin", type=float, default=tc.plateau_margin, metavar="M",
                   help="no early stop while a domain's best validation score is within M of the popularity "
                        "scorer's (still on the popularity plateau); 0 = plain patience (default: %(default)s)")
    p.add_argument("--patience-scope", choices=train.PATIENCE_SCOPES, default=tc.patience_scope,
                   help="domain: each domain's patience counts from its own best epoch; both: from the last epoch in "
                        "which either domain improved, so a domain waiting for the other is not stopped (default: "
                        "%(default)s)")
    lr = p.add_mutually_exclusive_group()
    lr.add_argument("--lr", type=_positive_float, default=None,
                    help=f"Adam learning rate for every model (default: each model's recipe, train.recipe: {tc.lr:g}, "
                         f"sasrec {train.recipe('sasrec')['lr']:g})")
    lr.add_argument("--lr-grid", type=_lrs, default=None, metavar="LR1,LR2",
                    help="train each model and seed once per learning rate and keep, per domain, the one with the "
                         "best validation score (--select-by; the test set is scored once, with the chosen run)")
    p.add_argument("--warmup", type=_int_at_least(0), default=None, metavar="STEPS",
                   help=f"linear learning-rate warm-up over the first STEPS optimizer steps (default: each model's "
                        f"recipe: {tc.warmup_steps}, sasrec {train.recipe('sasrec')['warmup_steps']})")
    wd = p.add_mutually_exclusive_group()
    wd.add_argument("--weight-decay", type=float, default=None, metavar="WD",
                    help="decoupled weight decay (AdamW) for every model, one run per seed and learning rate "
                         f"(default: {train.TrainConfig().weight_decay:g} = plain Adam, the paper's optimizer)")
    wd.add_argument("--weight-decay-grid", type=_weight_decays, default=None, metavar="WD1,WD2",
                    help="train each model and seed once per weight decay (times each learning rate of --lr-grid) "
                         "and keep, per domain, the one with the best validation score (--select-by) "
                         f"(the reference protocol: {_as_text(train.WEIGHT_DECAY_GRID)}; default: none, one run)")
    p.add_argument("--eval-negatives", type=_int_at_least(1), default=PREPARE["n_eval_neg"].default, metavar="N",
                   help="fixed negatives per validation/test instance: each target is ranked among 1 + N candidates "
                        "(default: %(default)s, the paper's; SASRec's papers use 100 with --split loo)")
    p.add_argument("--select-by", choices=train.SELECT, default=tc.select,
                   help="validation metric that picks each domain's best epoch (and setting, with --lr-grid or "
                        "--weight-decay-grid): "
                        "'auto' = GAUC with <= 10 candidates (the paper's protocol), NDCG@10 with more (SASRec's) "
                        "(default: %(default)s)")
    p.add_argument("--by-history-length", action="store_true",
                   help="also print the test AUC per bucket of history length (the user's items in the domain before "
                        "the target: 1-2, 3-5, 6-10, 11+), with the number of targets in each; the JSON always has it")
    p.add_argument("--pool", choices=POOLS, default=None,
                   help="read-out of the history summaries of Eq. (14)-(15) in the MAN family: 'mean' over positions "
                        "(the paper's average pooling) or the 'last' (newest) position (default: each model's own: "
                        "'last' for gru4rec, GRU4Rec's final hidden state; 'mean' for the others)")
    p.add_argument("--head", choices=HEADS, default=None,
                   help="prediction layer of Eq. (14)-(15) in the MAN family: 'mlp' (the paper's) or 'dot', the dot "
                        "product of the history summaries with the target vector, as sasrec scores (default: 'mlp')")
    p.add_argument("--dropout", type=_fraction, default=None, metavar="P",
                   help="dropout in the SASRec backbone of the MAN family, in [0, 1) (default: 0, the paper's; "
                        "sasrec's reference uses 0.2, see --sasrec-dropout)")
    p.add_argument("--scale-embeddings", action="store_true",
                   help="MAN family: the history's item vectors times sqrt(D) before the position is added, as "
                        "sasrec's reference scales its inputs (default: off, the paper's)")
    p.add_argument("--batch-norm", action="store_true",
                   help="MAN family: BatchNorm before each ReLU of the prediction MLPs, as the official code has "
                        "(default: off, the paper's; not with --head dot)")
    p.add_argument("--negatives", type=_int_at_least(1), default=None, metavar="K",
                   help="sampled negatives per training target, redrawn every epoch (default: each model's recipe: "
                        "9, the paper's K; 1 for sasrec, its reference's)")
    p.add_argument("--windows", choices=train.WINDOWS, default=None,
                   help="every-position models (sasrec, *-ep): 'last' trains each user's newest T items only "
                        "(SASRec's reference), so older training targets are never trained; 'every' adds the windows "
                        "T, 2T, ... items before it, so every training target is trained once per epoch, as the "
                        "one-target models train them (default: last)")
    p.add_argument("--sasrec-hidden", type=_int_at_least(1, 4096), default=None, metavar="N",
                   help="sasrec's hidden size, at most 4096 (default: 50, its reference's; the MAN family's D is 20)")
    p.add_argument("--sasrec-dropout", type=_fraction, default=None, metavar="P",
                   help="sasrec's dropout, in [0, 1) (default: 0.2, its reference's; the MAN family's: --dropout, "
                        "default 0)")
    p.add_argument("--sasrec-unscaled", action="store_true",
                   help="sasrec's item embeddings not multiplied by sqrt(hidden), as the MAN family's")
    p.add_argument("--sasrec-block", choices=SASREC_BLOCKS, default=None,
                   help="sasrec's blocks: 'reference' (SASRec.pytorch's, the default) or 'pre-ln', the MAN family's "
                        "x + MHA(LN(x)), x + FFN(LN(x))")
    p.add_argument("--sasrec-init", choices=SASREC_INITS, default=None,
                   help="sasrec's initialisation: 'xavier' (Xavier normal, the reference's, the default) or 'man' "
                        "(the MAN family's: Xavier uniform tables, PyTorch's defaults elsewhere)")
    p.add_argument("--max-len", type=_int_at_least(1), default=mc.max_len, metavar="T",
                   help="history length T (default: %(default)s)")
    p.add_argument("--num-groups", type=_int_at_least(1), default=mc.num_groups, metavar="N",
                   help="group prototypes N_g of GPA (default: %(default)s)")
    p.add_argument("--full-ranking", type=_full_ranking, default=tc.full_ranking, metavar="N|all",
                   help="test histories per domain ranked against all items for the '(full)' metrics: 'all', N (a "
                        "fixed random N, the same for every model), or 0 to skip them; at the processed Amazon "
                        "size 'all' takes ~13 min on 2 cores (default: all)")
    p.add_argument("--device", choices=("cpu", "cuda"), default=tc.device,
                   help="with --ddp and cuda, each process uses cuda:LOCAL_RANK (default: %(default)s)")
    p.add_argument("--ddp", action="store_true",
                   help="data-parallel training with DistributedDataParallel (gloo on cpu, nccl on cuda); start with "
                        "torchrun --nproc_per_node=N -m mini_man.train --ddp ...; --batch-size is per process, the "
                        "global batch N times it; only rank 0 evaluates and prints")
    p.add_argument("--jobs", type=_int_at_least(1), default=CORES, metavar="N",
                   help="train N runs (model x seed) at once, in N processes of one thread each; the results are "
                        "those of --jobs 1 on one core (default: the cores available, %(default)s)")
    p.add_argument("--out", type=Path, metavar="PATH", help="also write all results as JSON to PATH")
    p.add_argument("--save", type=Path, metavar="PATH",
                   help="save the trained model (one model, one seed): each domain's best state_dict")
    p.add_argument("--load", type=Path, metavar="PATH",
                   help="skip training: test a checkpoint written by --save (give the same --models and options)")
    return p


def check_args(p: Parser, args) -> None:
    """Reject impossible option combinations with one line and exit code 2."""
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: no CUDA GPU is available to PyTorch")
    if args.ddp:
        missing = distributed.missing_env()
        if missing:
            p.error(f"--ddp: start with torchrun --nproc_per_node=N -m mini_man.train --ddp ... "
                    f"({', '.join(missing)} not set)")
        if args.load:
            p.error("--ddp trains a model; --load only tests one: drop --ddp")
        args.jobs = 1  # the torchrun processes share the cores already
        if args.device == "cuda" and int(os.environ["LOCAL_RANK"]) >= torch.cuda.device_count():
            p.error(f"--ddp --device cuda: LOCAL_RANK {os.environ['LOCAL_RANK']} but only "
                    f"{torch.cuda.device_count()} GPU(s)")
    family = [m for m in args.models if m in models.VARIANTS]
    for flag, value in (("--head", args.head), ("--pool", args.pool), ("--dropout", args.dropout),
                        ("--scale-embeddings", args.scale_embeddings or None),
                        ("--batch-norm", args.batch_norm or None)):
        if value is not None and not family:
            p.error(f"{flag} sets an option of the MAN family ({', '.join(models.VARIANTS)}); none of --models "
                    f"{','.join(args.models)} is one")
    on_gru = [m for m in family if models.VARIANTS[m].get("backbone") == "gru4rec"]
    if args.dropout and on_gru:
        p.error(f"--dropout acts in the SASRec backbone; {', '.join(on_gru)} runs on GRU4Rec: drop --dropout or "
                f"leave {', '.join(on_gru)} out of --models")
    if args.batch_norm and args.head == "dot":
        p.error("--batch-norm acts in the prediction MLPs; --head dot has none: drop one of them")
    if args.windows is not None and not set(args.models) & set(models.EVERY_POSITION):
        p.error(f"--windows sets how an every-position model trains ({', '.join(models.EVERY_POSITION)}); none of "
                f"--models {','.join(args.models)} is one")
    if args.negatives is not None and all(m == "pop" for m in args.models):
        p.error("--negatives sets how a model trains; pop does not train")
    for flag, value in (("--sasrec-hidden", args.sasrec_hidden), ("--sasrec-dropout", args.sasrec_dropout),
                        ("--sasrec-unscaled", args.sasrec_unscaled or None), ("--sasrec-block", args.sasrec_block),
                        ("--sasrec-init", args.sasrec_init)):
        if value is not None and "sasrec" not in args.models:
            p.error(f"{flag} sets an option of sasrec; it is not in --models {','.join(args.models)}")
    for flag in ("save", "load"):
        if getattr(args, flag) and (len(args.models) != 1 or len(args.seeds) != 1):
            p.error(f"--{flag} needs exactly one model (--models) and one seed (--seeds)")
    if args.save and args.load:
        p.error("--save and --load cannot be combined")
    training = [flag for flag, value in (("--lr", args.lr), ("--lr-grid", args.lr_grid), ("--warmup", args.warmup),
                                         ("--negatives", args.negatives), ("--windows", args.windows),
                                         ("--weight-decay", args.weight_decay),
                                         ("--weight-decay-grid", args.weight_decay_grid)) if value is not None]
    if args.load and training:
        p.error(f"--load only tests a checkpoint: drop {', '.join(training)} (they choose how to train)")
    if args.models == ["pop"] and training:
        p.error(f"pop has nothing to train (it scores by popularity): drop {', '.join(training)}")
    for flag in ("out", "save"):
        check_output(p, flag, args)
    for flag in ("domain_a", "domain_b"):
        path = getattr(args, flag)
        if path.is_dir():
            p.error(f"--{flag.replace('_', '-')}: {path} is a folder; give one ratings file of the domain")
        if not path.is_file():
            p.error(f"--{flag.replace('_', '-')}: file not found: {path}")


def _cannot_create(path: Path) -> str | None:
    """None when a new file can be made at `path` (tried, then removed), else why not. Catches what the permission
    bits do not show, such as a virtual or read-only file system (/proc, where even root cannot create files)."""
    try:
        path.touch(exist_ok=False)
    except OSError as e:
        return e.strerror or type(e).__name__
    path.unlink()
    return None


def check_output(p: Parser, flag: str, args) -> None:
    """Refuse an output path (--out, --save) that cannot be written, before anything trains: a folder, a missing
    or unwritable folder, an unwritable file, a new file that cannot be created, an input file, or the other
    output's path."""
    path = getattr(args, flag)
    if path is None:
        return
    path = path.resolve()
    other = "save" if flag == "out" else "out"
    others = {"--domain-a": args.domain_a, "--domain-b": args.domain_b, "--load": args.load,
              f"--{other}": getattr(args, other)}
    clash = [name for name, given in others.items() if given is not None and Path(given).resolve() == path]
    if path.is_dir():
        example = path / ("results.json" if flag == "out" else "model.pt")
        problem = f"{path} is a folder: give a file path, e.g. {example}"
    elif not path.parent.is_dir():
        problem = f"directory not found: {path.parent}"
    elif not os.access(path.parent, os.W_OK | os.X_OK):
        problem = f"directory not writable: {path.parent}"
    elif path.exists() and not os.access(path, os.W_OK):
        problem = f"file not writable: {path}"
    elif not path.exists() and (reason := _cannot_create(path)):
        problem = f"cannot create {path}: {reason}"
    elif clash:
        problem = f"{path} is also {clash[0]}: give another path"
    else:
        return
    p.error(f"--{flag}: {problem}")


def write_output(prog: str, flag: str, path: Path, write) -> bool:
    """`write(path)`; if that fails (the path changed during the run), `write` a fallback file in the temporary
    folder instead and say where on stderr, so that a finished run is never lost. Returns True if `path` was
    written."""
    try:
        write(path)
        return True
    except (OSError, RuntimeError) as e:  # torch.save raises RuntimeError for a folder
        reason = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    fd, fallback = tempfile.mkstemp(prefix=f"mini-man-{flag}-", suffix=path.suffix)
    os.close(fd)
    write(Path(fallback))
    print(f"{prog}: error: --{flag} {path}: cannot write ({reason}); written to {fallback} instead", file=sys.stderr)
    return False


def log(text: str) -> None:
    """Progress goes to stderr, results to stdout; with --ddp only rank 0 writes."""
    if distributed.rank() == 0:
        print(text, file=sys.stderr, flush=True)


def setup(p: Parser, args):
    """Data, configs and checkpoint; any bad input becomes a one-line error (exit 2)."""
    try:
        base = train.TrainConfig(epochs=args.epochs, patience=args.patience,
                                 plateau_margin=args.plateau_margin, patience_scope=args.patience_scope,
                                 select=args.select_by, device=args.device, ddp=args.ddp,
                                 full_ranking=args.full_ranking)
        given = {k: v for k, v in (("lr", args.lr), ("warmup_steps", args.warmup), ("batch_size", args.batch_size),
                                   ("n_neg", args.negatives), ("windows", args.windows)) if v is not None}
        tcfgs = {m: replace(base, **{**train.recipe(m), **given}) for m in args.models}
        for t in tcfgs.values():  # every setting of the grids, checked before the first one trains
            for lr, wd in itertools.product(args.lr_grid or [t.lr], args.weight_decay_grid or [t.weight_decay]):
                try:
                    replace(t, lr=lr, weight_decay=wd)
                except ValueError as e:
                    if args.weight_decay is not None:  # one value, given by the user: the message names it
                        raise
                    raise ValueError(f"{e} (the weight-decay grid {_as_text(args.weight_decay_grid)}, "
                                     f"--weight-decay-grid; --weight-decay WD "
                                     f"trains with one value)") from None
        cfgs = {m: models.model_config(m, args.max_len, **model_overrides(args, m)) for m in args.models}
        with mdata.warnings_as_lines(log):
            data = mdata.prepare(args.domain_a, args.domain_b, max_len=args.max_len, kcore=args.kcore,
                                 split=args.split, n_eval_neg=args.eval_negatives, format=args.format,
                                 warm_only=args.warm_targets_only, shared_item_ids=args.shared_item_ids,
                                 seed=0)  # seed 0: the same evaluation candidates for every run
        if args.negatives is not None:  # K negatives are drawn among a domain's items other than the target
            few = {d: dd.n_items - 2 for d, dd in data.domains.items() if args.negatives > dd.n_items - 2}
            if few:
                raise ValueError(f"--negatives {args.negatives}: more than the items a negative can be drawn from ("
                                 + ", ".join(f"{d}: {n}" for d, n in few.items()) + ")")
        ckpt = None
        if args.load:
            ckpt = checkpoint.load(args.load)
            checkpoint.check_config(ckpt, args.models[0], cfgs[args.models[0]], args.load)
            checkpoint.check_data(ckpt, checkpoint.identity(data, args.split, args.kcore), args.load)
            model = train.build_model(args.models[0], data, **model_overrides(args, args.models[0]))
            for state in ckpt["states"].values():
                checkpoint.load_into(model, state, args.load)
    except (ValueError, OSError) as e:  # data.DataError is a ValueError
        p.error(str(e).splitlines()[0] if str(e) else type(e).__name__)
    return tcfgs, cfgs, data, ckpt


def model_overrides(args, name: str) -> dict:
    """The model options of the command line that apply to model `name` (N_g, the read-out, the head, the
    dropout, the scaling and BatchNorm: MAN family; the hidden size and dropout: sasrec)."""
    if name == "sasrec":
        return {k: v for k, v in (("hidden", args.sasrec_hidden), ("dropout", args.sasrec_dropout),
                                  ("scale", False if args.sasrec_unscaled else None), ("block", args.sasrec_block),
                                  ("init", args.sasrec_init)) if v is not None}
    pool = {} if args.pool is None else {"pool": args.pool}  # None: the model's own read-out (config.VARIANTS)
    head = {} if args.head is None else {"head": args.head}
    dropout = {} if args.dropout is None else {"dropout": args.dropout}
    scale = {"scale_embeddings": True} if args.scale_embeddings else {}
    norm = {"batch_norm": True} if args.batch_norm else {}
    return models.family_overrides(name, num_groups=args.num_groups, **pool, **head, **dropout, **scale, **norm)


def run_loaded(name: str, data, tensors, tcfg, ckpt: dict, overrides: dict) -> train.RunResult:
    """Test a checkpoint (checked by `setup`) without training; its best epochs come from the checkpoint."""
    start = time.perf_counter()
    model = train.build_model(name, data, tcfg.device, **overrides)
    results = train.test(model, data, tensors, ckpt["states"], tcfg.eval_batch_size, tcfg.full_ranking)
    fit = train.FitResult(best_epoch=ckpt["best_epoch"], best_valid={})
    return train.RunResult(name, tcfg.seed, results, fit, time.perf_counter() - start)


def _train_one(name: str, data, tcfg, lrs, weight_decays, overrides: dict, threads: int) -> train.RunResult:
    """One model and seed, trained and tested (`train.train_and_test`); top-level so that a worker process of
    `--jobs` can run it. Its progress lines carry the model and seed."""
    torch.set_num_threads(threads)
    try:
        _, run = train.train_and_test(name, data, tcfg, log=lambda s: log(f"[{name} {tcfg.seed}] {s}"), lrs=lrs,
                                      weight_decays=weight_decays, **overrides)
    except train.Diverged as e:
        raise train.Diverged(f"model {name}, seed {tcfg.seed}: {e}") from None
    return run


def effective_jobs(args) -> int:
    """How many processes train at once: --jobs, at most one per run, 1 with --load (nothing trains)."""
    return 1 if args.load else min(args.jobs, len(args.models) * len(args.seeds))


def run_all(args, tcfgs, cfgs, data, ckpt) -> dict[str, list[train.RunResult]]:
    """Every model with every seed, on the same data and the same fixed candidates. With `args.jobs` > 1 the runs
    train in that many worker processes at once, one thread each; every run seeds itself (`train_and_test`), so the
    results are those of one process with one thread, in the same order."""
    runs = {name: [] for name in args.models}
    tasks = [(name, seed) for name in args.models for seed in args.seeds]
    if ckpt is not None:
        tensors = train.to_device(data, args.device)
        for name, seed in tasks:
            runs[name].append(run_loaded(name, data, tensors, tcfgs[name], ckpt, model_overrides(args, name)))
        return runs
    jobs = effective_jobs(args)
    threads = 1 if jobs > 1 else torch.get_num_threads()
    calls = [(name, data, replace(tcfgs[name], seed=seed), args.lr_grid, args.weight_decay_grid,
              model_overrides(args, name), threads) for name, seed in tasks]
    if jobs == 1:
        results = []
        for call in calls:
            log(f"== {call[0]}, seed {call[2].seed} ==")
            results.append(_train_one(*call))
    else:
        log(f"== {len(tasks)} runs in {jobs} processes ({', '.join(f'{n} {s}' for n, s in tasks)}) ==")
        results = parallel.call_all([partial(_train_one, *call) for call in calls], jobs)
    for (name, _), run in zip(tasks, results):
        runs[name].append(run)
    return runs


def aggregate(runs: list[train.RunResult]) -> dict:
    """{domain: {metric: mean, (metric_std: sample std if several seeds)}} over the runs of one model."""
    out = {}
    for d in train.DOMAINS:
        out[d] = {}
        for m in train.METRICS:
            values = np.array([r.results[d][m] for r in runs], dtype=float)
            out[d][m] = float(values.mean())
            if len(values) > 1:
                out[d][f"{m}_std"] = float(values.std(ddof=1))
    return out


def _cell(mean: float, std: float | None) -> str:
    """'0.1234', '0.1234 ± 0.0056' with several seeds, 'n/a' for NaN (a domain without training data)."""
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def _epochs_cell(runs: list[train.RunResult], domain: str, budget: int) -> str:
    """Best epoch per seed; '+' marks a domain still improving when the budget ran out."""
    best = [r.fit.best_epoch.get(domain) for r in runs]
    return " ".join("-" if b is None else f"{b}{'+' if b == budget else ''}" for b in best)


def _per_seed_cell(values) -> str:
    """One value per seed, space-separated; '-' where there is none."""
    return " ".join("-" if v is None else f"{v:g}" for v in values)


def table(runs: dict[str, list[train.RunResult]], results: dict, labels: dict[str, str], budget: int,
          candidates: int = 10) -> str:
    """The paper's Table 2 layout: rows domain x metric, one column per model. HR@10 over `candidates` <= 10
    fixed candidates is always 1 and is left out. A "+" after a best epoch (a domain still improving when the
    `budget` of epochs ran out) is explained in a line under the table."""
    names = list(runs)
    decay = any(wd for rs in runs.values() for r in rs for _, wd in r.curves)  # a run tried weight decay: a row
    rows = [["Domain", "Metric", *names]]
    for d in train.DOMAINS:
        label = labels[d]
        for m, title in ROWS.items():
            if m == "hr@10" and candidates <= 10:
                continue
            rows.append([label, title, *[_cell(results[n][d][m], results[n][d].get(f"{m}_std")) for n in names]])
        rows.append([label, "best epoch", *[_epochs_cell(runs[n], d, budget) for n in names]])
        rows.append([label, "stop epoch", *[_per_seed_cell([r.fit.last_epoch.get(d) for r in runs[n]])
                                            for n in names]])
        rows.append([label, "lr", *[_per_seed_cell([r.lr.get(d) for r in runs[n]]) for n in names]])
        if decay:
            rows.append([label, "weight decay", *[_per_seed_cell([r.weight_decay.get(d) for r in runs[n]])
                                                  for n in names]])
    rows.append(["", "seconds", *[f"{np.mean([r.seconds for r in runs[n]]):.1f}" for n in names]])
    text = _aligned(rows)
    if any(r.fit.best_epoch.get(d) == budget for rs in runs.values() for r in rs for d in train.DOMAINS):
        text += (f"\n+: the best epoch is the budget's last ({budget}): that domain was still improving when --epochs "
                 "ran out")
    return text


def _aligned(rows: list[list[str]]) -> str:
    """Rows of cells as text columns: the first two left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     for r in rows)


def bucket_table(runs: dict[str, list[train.RunResult]], labels: dict[str, str], metric: str = "auc") -> str:
    """Test `metric` (mean ± std over seeds) per bucket of history length (`train.by_history_length`), one
    column per model, the number of test targets in each bucket beside it."""
    names = list(runs)
    rows = [["Domain", f"history ({metric.upper()})", "targets", *names]]
    for d in train.DOMAINS:
        first = next((r.results[d].get("by_history_length") for rs in runs.values() for r in rs
                      if "by_history_length" in r.results[d]), None)
        for bucket in first or {}:
            cells = []
            for n in names:
                values = np.array([r.results[d]["by_history_length"][bucket][metric] for r in runs[n]
                                   if "by_history_length" in r.results[d]], dtype=float)
                cells.append("n/a" if not len(values) else _cell(values.mean(), values.std(ddof=1) if len(values) > 1
                                                                  else None))
            rows.append([labels[d], bucket, str(first[bucket]["n"]), *cells])
    return _aligned(rows)


def _json_safe(x):
    """NaN -> None (null), recursively, so the file is strict JSON."""
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    if isinstance(x, float) and math.isnan(x):
        return None
    return x


def protocol(args, metric: str) -> str:
    """One line naming the evaluation protocol: the split, the fixed candidates (warm targets only with
    --warm-targets-only) and the validation metric that chose the best epochs."""
    warm = " (warm targets only)" if args.warm_targets_only else ""
    return (f"protocol: --split {args.split}, 1 + {args.eval_negatives} fixed candidates per validation/test "
            f"target{warm}; best epoch per domain by validation {metric.upper()}")


def report(args, tcfgs, cfgs, data, runs, results) -> dict:
    """The --out JSON: config, protocol, data, results, seconds, and per run the learning rate and weight decay chosen,
    the best and last epochs per domain and the learning curve of every setting tried (keys: `train.setting_label`).
    `config.train` holds each model's base setting (with --lr-grid, its lr is not what was tried); the weight decays
    tried are `config.weight_decay_grid` (null with --load: nothing is trained); the runs hold what was chosen."""
    jobs = effective_jobs(args)
    return _json_safe({
        "config": {"domain_a": str(args.domain_a), "domain_b": str(args.domain_b), "models": args.models,
                   "seeds": args.seeds, "split": args.split, "kcore": args.kcore, "max_len": args.max_len,
                   "eval_negatives": args.eval_negatives, "num_groups": args.num_groups,
                   "pool": args.pool or "each model's own (models_config)",
                   "lr_grid": args.lr_grid, "weight_decay_grid": args.weight_decay_grid, "format": args.format,
                   "warm_targets_only": args.warm_targets_only, "shared_item_ids": args.shared_item_ids,
                   "load": None if args.load is None else str(args.load),
                   "threads": 1 if jobs > 1 else torch.get_num_threads(), "jobs": jobs,
                   "processes": distributed.world_size(),
                   # PyTorch's kernel set, and the variables that select the others (None: the CPU's own choice;
                   # `reproducibility.CPU_KERNELS` pins them, at a cost in speed: MKL's COMPATIBLE branch)
                   "cpu_kernels": {"torch": torch.backends.cpu.get_cpu_capability(),
                                   **{k: os.environ.get(k) for k in reproducibility.CPU_KERNELS}},
                   # without weight_decay: the grid above holds it (each run, what was chosen); windows only for
                   # the every-position models, the only ones it changes
                   "train": {m: {k: v for k, v in asdict(t).items() if k not in ("seed", "weight_decay")
                                 and (k != "windows" or m in models.EVERY_POSITION)}
                             for m, t in tcfgs.items()},
                   "models_config": {m: None if c is None else asdict(c) for m, c in cfgs.items()}},
        "protocol": protocol(args, train.selection_metric(next(iter(tcfgs.values())), data)),
        "data": {d: dd.stats() for d, dd in data.domains.items()},
        "results": results,
        "seconds": {n: float(np.mean([r.seconds for r in rs])) for n, rs in runs.items()},
        "runs": {n: [{"seed": r.seed, "results": r.results, "lr": r.lr, "weight_decay": r.weight_decay,
                      "best_epoch": r.fit.best_epoch,
                      "last_epoch": r.fit.last_epoch, "selected_by": r.fit.metric, "best_valid": r.fit.best_valid,
                      "curves": {train.setting_label(*key): h for key, h in r.curves.items()}, "seconds": r.seconds}
                     for r in rs] for n, rs in runs.items()},
    })


def main(argv=None) -> int:
    """The command line: parse, check, (with --ddp: join the process group, and leave it also on errors), `run_job`."""
    p = build_parser()
    args = p.parse_args(argv)
    args.domain_a = args.domain_a or sample_path(SAMPLE_FILES[0])
    args.domain_b = args.domain_b or sample_path(SAMPLE_FILES[1])
    check_args(p, args)
    if args.weight_decay_grid is None and not args.load:  # one run, with the given weight decay or the recipe's
        wd = train.TrainConfig().weight_decay if args.weight_decay is None else args.weight_decay
        args.weight_decay_grid = [wd + 0.0]  # + 0.0: -0 -> 0
    if not args.ddp:
        torch.set_num_threads(CORES)
        return run_job(p, args)
    torch.set_num_threads(max(1, CORES // int(os.environ["LOCAL_WORLD_SIZE"])))  # the processes share the cores
    args.device = distributed.init(args.device)  # "cpu" or "cuda:LOCAL_RANK"
    try:
        return run_job(p, args)
    finally:
        distributed.teardown()


def run_job(p: Parser, args) -> int:
    """Prepare the data once, train and test every model and seed, report (with --ddp: rank 0 reports)."""
    tcfgs, cfgs, data, ckpt = setup(p, args)
    if args.domain_a.resolve() == args.domain_b.resolve():
        log(f"warning: --domain-a and --domain-b are the same file ({args.domain_a}): both domains hold the same "
            "interactions, so nothing here is cross-domain")
    for d, dd in data.domains.items():
        log(f"data {d}: format {dd.format}, " + ", ".join(f"{k} {v}" for k, v in dd.stats().items()))
        if mdata.cold_warning(dd):
            log(f"warning: {mdata.cold_warning(dd)}")
    try:
        runs = run_all(args, tcfgs, cfgs, data, ckpt)
    except train.Diverged as e:
        p.error(str(e))
    except MemoryError:
        p.error("out of memory: use smaller sizes (--sasrec-hidden, --negatives, --batch-size) or fewer --jobs")
    if distributed.rank() != 0:
        return 0
    results = {n: aggregate(rs) for n, rs in runs.items()}
    labels = {"A": f"A ({args.domain_a.stem})", "B": f"B ({args.domain_b.stem})"}
    print(table(runs, results, labels, args.epochs, 1 + args.eval_negatives))
    print(protocol(args, train.selection_metric(next(iter(tcfgs.values())), data)))
    if args.by_history_length:
        print()
        print(bucket_table(runs, labels))
    if args.full_ranking == 0:
        print("(full) metrics skipped (--full-ranking 0)")
    elif args.full_ranking is not None:
        print(f"(full) metrics: at most {args.full_ranking} random test histories per domain (--full-ranking)")
    written = True
    if args.save:  # one model, one seed (check_args)
        name, run = args.models[0], runs[args.models[0]][0]
        identity = checkpoint.identity(data, args.split, args.kcore)
        written &= write_output(p.prog, "save", args.save, lambda path: checkpoint.save(
            path, name, cfgs[name], run.fit.best_state, run.fit.best_epoch, identity))
    if args.out:
        text = json.dumps(report(args, tcfgs, cfgs, data, runs, results), indent=1, allow_nan=False)
        written &= write_output(p.prog, "out", args.out, lambda path: path.write_text(text))
    return 0 if written else 2


if __name__ == "__main__":
    raise SystemExit(main())
