"""Training and evaluation of MAN and its baselines (paper Sec. 3.3.2, 4.1, appendix A.5).

One trainer for every model of the experiments:
- Adam (Sec. 4.1.3; the learning rate and its warm-up: `TrainConfig`), one optimizer over all parameters.
  `zero_grad(set_to_none=True)` leaves the
  other domain's parameters with `grad=None`, and Adam skips those, so a batch of domain X updates only the
  parameters on X's path: X's own and the shared ones ("independent updating", Sec. 3.3.2 Discussion).
- Every batch comes from one domain; A and B batches alternate (A, B, A, B, ...; when one domain runs out, the
  rest of the other's follow). The loss of an X batch is `model.objective(X, logits)` = L^X (+ L^g) + lambda^X
  ||Theta^X||^2, never the joint sum of Eq. (18). A domain without training data is simply left out (Sec. 3.3.2).
- Training instances: a history (B, T) and 1 + K candidates (the target, then K uniform negatives drawn anew
  every epoch). `sasrec` and the MAN family's `*-ep` models instead train every position of each user's sequence
  in one causal pass (`mini_man.every_position`).
- After every epoch: the validation metrics per domain; early stopping per domain with a patience (A.5: 2; here 5,
  and never while the domain is still on the popularity plateau); each domain keeps a copy of its own best state
  and is tested with it once (as the official code does, §6 of the notes). With a learning-rate grid, each domain
  also keeps the learning rate of its best validation score (`train_and_test`).
- Test: sampled metrics on the fixed 1 + 9 candidates (overall and per bucket of history length), and
  full-ranking HR@10/NDCG@10 over all local items (for every test history, or a fixed random subset:
  `TrainConfig.full_ranking`).

Tensors live on the training device: each split is moved once; batches are index tensors on that device; the
only host round trips are the per-epoch loss logging, the per-epoch negatives, and evaluation.

With `ddp` (`torchrun ... -m mini_man.train --ddp`, see `mini_man.distributed`), the same loop runs in N processes:
each trains on its share of every domain's batches, DDP averages the gradients, and only rank 0 evaluates.

`python -m mini_man.train` runs the command line of `mini_man.cli`.
"""
import copy
import itertools
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from mini_man import data as mdata
from mini_man import distributed, metrics, models, selection
from mini_man.config import VARIANTS
from mini_man.sasrec import next_items

DOMAINS = ("A", "B")
SAMPLED = ("auc", "gauc", "mrr", "ndcg@10", "hr@10")  # on the fixed 1 + n_eval_neg candidates
FULL = ("hr@10_full", "ndcg@10_full")  # against every item of the domain
METRICS = SAMPLED + FULL
SELECT = ("auto", "gauc", "ndcg@10")  # validation metrics that can choose the best epoch
PATIENCE_SCOPES = ("domain", "both")  # what a domain's patience counts from (`TrainConfig.patience_scope`)
WINDOWS = ("last", "every")  # the training windows of every-position models (`TrainConfig.windows`)


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; the model itself is described by `MANConfig`. The defaults are the recipe
    (docs/glossary.md; why each choice: notebook 08): models with the paper's MLP prediction layer first fit item
    popularity and then sit on that "popularity plateau" for many epochs; the recipe gets every model off it. The
    command line trains once with it; the reference protocol of docs/results.md adds the weight-decay grid
    `WEIGHT_DECAY_GRID` (`--weight-decay-grid 0,1`, `train_and_test(..., weight_decays=...)`).

    Paper: Adam lr 1e-3, batch 20 (Sec. 4.1.3), early stop 2 (A.5), up to 100 epochs (official code).
    Here: Adam lr 3e-3 with a linear warm-up over the first 300 steps, batch 128, at most 100 epochs, patience 5,
    and no early stop while a domain is still on the plateau (`plateau_margin`).
    """

    epochs: int = 100  # the most epochs any model trains (the same budget for every model)
    # Paper: batch 20. Here: 128. Measured on the sample (`single`, B): batch 32 or 512-1024 stayed longer on the
    # plateau (30 epochs, 0 of 3 seeds left) than 128; 128 also keeps the first run short.
    batch_size: int = 128  # instances per step, all from one domain
    # Paper: lr 1e-3, no schedule. Here: 3e-3 after a linear warm-up over 300 steps (about 1 epoch of A + B). The
    # first full-size Adam steps fit popularity so fast that the history summaries of all users collapse onto one
    # vector and the prediction MLP's ReLU units end up dead or always on: the MLP is then additive in
    # [s || M_target], its ranking cannot depend on the history, and leaving that state takes many epochs. The
    # warm-up keeps more units switching (notebook 08). Measured (`single`, B, seeds 0-2, 30 epochs): lr 3e-3 alone
    # left the plateau on 1 of 3 seeds, with the warm-up on 3 of 3 (at epochs 14-18); lr 1e-2 with warm-up on 0 of 3.
    lr: float = 3e-3
    warmup_steps: int = 300  # the learning rate rises linearly over the first N optimizer steps (0 = none)
    betas: tuple = (0.9, 0.999)  # Adam's defaults (the official TF code's); SASRec.pytorch uses (0.9, 0.98)
    # Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): every step multiplies each updated parameter by
    # (1 - lr * weight_decay), apart from Adam's step. 0 = plain Adam (the paper's optimizer). Not Eq. (18)'s L2
    # term (`MANConfig.lambda_l2`), which goes through Adam's normalisation and switches ISA and GPA off.
    weight_decay: float = 0.0
    select: str = "auto"  # validation metric for the best epoch: "gauc", "ndcg@10" or "auto" (`selection_metric`)
    n_neg: int = 9  # K training negatives per target (official train_num_ngs = 9); per position for every-position
    # Appendix A.5 stops after 2 epochs without improvement, which stops every model on the plateau. Here: patience 5,
    # counted only once the domain's best validation GAUC is `plateau_margin` above the popularity scorer's on the same
    # validation candidates: a model still on the plateau trains on (up to `epochs`) instead of being stopped before
    # it learns anything beyond popularity. GAUC whatever the selection metric: the plateau is a ranking that is the
    # same for every user, which GAUC measures on its 0.5-1 scale (with NDCG@10 on 1 + 100 candidates, a margin of
    # 0.01 let `single` stop in B at popularity's level: docs/results.md).
    patience: int = 5  # epochs without a better validation score before a domain stops; 0 = never stop
    plateau_margin: float = 0.01  # see `patience`; 0 = plain patience (the paper's rule with --patience 2)
    # "domain" (default): each domain's patience counts from its own best epoch. "both": from the last epoch in which
    # any active domain improved, so the sparse domain is not stopped while the other domain, whose learning it may
    # be waiting for, still improves (in notebook 10's toy B learns only after A; in the sparse setting MAN's seed 1
    # stopped B at epoch 14 while A improved until epoch 24). The same rule for every model; each domain still
    # keeps its own best state.
    patience_scope: str = "domain"
    # Which windows of a user's training sequence an every-position model (`sasrec`, the MAN family's `*-ep`) trains
    # on. "last" (SASRec's reference, the default): the newest T items only, so a user's older targets are never
    # trained. "every": that window and the ones T, 2T, ... items before it, so every training target is trained
    # once per epoch, as the one-target models train them (`window_rows`).
    windows: str = "last"
    seed: int = 0
    device: str = "cpu"
    ddp: bool = False  # data-parallel over the processes of `torchrun` (the process group must be initialised)
    eval_batch_size: int = 64  # histories per chunk of the full ranking (all items), bounding its memory; the
    # sampled metrics take `SAMPLED_CHUNKS` times as many (`evaluate`)
    # Test histories per domain ranked against all items for the "(full)" metrics: None = all; N = a fixed random N
    # (the same for every model and seed); 0 = none (NaN). At the processed Amazon size, ranking all ~9k test
    # histories against 27-42k items each (ISA included) takes ~13 min on 2 cores, far longer than an epoch (~20 s).
    full_ranking: int | None = None

    def __post_init__(self):
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"learning rate must be > 0, got {self.lr}"),
            (self.warmup_steps >= 0, f"warm-up steps must be >= 0, got {self.warmup_steps}"),
            (math.isfinite(self.weight_decay) and self.weight_decay >= 0,
             f"weight decay must be a finite number >= 0, got {self.weight_decay}"),
            (self.lr * self.weight_decay < 1, f"learning rate x weight decay must be < 1 (every step multiplies the "
                                              f"weights by 1 - lr x weight decay), got {self.lr:g} x "
                                              f"{self.weight_decay:g}"),
            (self.select in SELECT, f"select must be one of {SELECT}, got {self.select!r}"),
            (self.n_neg >= 1, f"number of training negatives must be >= 1, got {self.n_neg}"),
            (self.patience >= 0, f"patience must be >= 0, got {self.patience}"),
            (self.plateau_margin >= 0, f"plateau margin must be >= 0, got {self.plateau_margin}"),
            (self.patience_scope in PATIENCE_SCOPES,
             f"patience scope must be one of {PATIENCE_SCOPES}, got {self.patience_scope!r}"),
            (self.windows in WINDOWS, f"windows must be one of {WINDOWS}, got {self.windows!r}"),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (self.eval_batch_size >= 1, f"eval batch size must be >= 1, got {self.eval_batch_size}"),
            (self.full_ranking is None or self.full_ranking >= 0,
             f"full-ranking histories must be >= 0, got {self.full_ranking}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


@dataclass
class SplitTensors:
    """One split of one domain on the training device (moved once)."""

    hist: torch.Tensor  # (N, T) int64
    target: torch.Tensor  # (N,) int64
    cand: torch.Tensor | None  # (N, 1 + n_eval_neg) int64; None for train


def split_to_device(split: mdata.Split, device) -> SplitTensors:
    """Move a `data.Split` to `device` once; `user` stays on the host (it is only used by the metrics)."""
    cand = None if split.cand is None else torch.as_tensor(split.cand, device=device)
    return SplitTensors(torch.as_tensor(split.hist, device=device), torch.as_tensor(split.target, device=device),
                        cand)


def to_device(data: mdata.CrossDomainData, device) -> dict[str, dict[str, SplitTensors]]:
    """`{domain: {"train" | "valid" | "test": SplitTensors}}` for both domains."""
    return {d: {s: split_to_device(getattr(dd, s), device) for s in ("train", "valid", "test")}
            for d, dd in data.domains.items()}


def recipe(name: str) -> dict:
    """The `TrainConfig` fields in which model `name` is trained differently from the common recipe (the
    defaults): `sasrec` keeps the reference implementation's optimizer (lr 1e-3, Adam betas (0.9, 0.98), no
    warm-up) and its one negative per position, so that it can be checked against SASRec.pytorch's numbers
    (docs/results.md). The MAN family's every-position models (`*-ep`) take 16 users' sequences per step (~240
    targets on the sample, about two one-target batches, ~170 steps per epoch of A + B): with 128 users a step held
    ~1,900 targets, an epoch had 21 steps, and `man-ep` sat on the popularity plateau for 17 epochs (~360 steps;
    `man` leaves it after thousands). Their warm-up, 150 steps, sees about the targets of the recipe's 300."""
    if name == "sasrec":
        return dict(lr=1e-3, betas=(0.9, 0.98), warmup_steps=0, n_neg=1)
    if VARIANTS.get(name, {}).get("objective") == "every-position":
        return dict(batch_size=16, warmup_steps=150)
    return {}


# Paper: Adam without weight decay, as the command line's default (the recipe: each model trained once, plain Adam).
# Here, in the reference protocol of docs/results.md (`--weight-decay-grid 0,1`): every trained model is trained
# twice per seed, with plain Adam and with decoupled weight decay 1 (AdamW), and per domain the run with the
# better validation score is kept (`train_and_test`'s grid, `selection.choose`); each domain is tested once. Weight
# decay stops runs that memorise training pairs while on the popularity plateau and later settle lower (`man` in B:
# std .044 without, .006 with the grid), but it holds `single`, `shared` and `gru4rec` on the plateau: the grid keeps
# what works for each run, by validation only (notebook 08a, "After the plateau"). Each model trains twice: 1.7-5.5x
# the time of one run (docs/results.md).
WEIGHT_DECAY_GRID = (0.0, 1.0)


def build_model(name: str, data: mdata.CrossDomainData, device="cpu", **overrides) -> torch.nn.Module:
    """The model `name` (see `models.NAMES`) sized for `data`, on `device`; `overrides` change its config."""
    return models.build(models.model_config(name, data.max_len, **overrides), data).to(device)


# ---- one epoch of independent updating (Sec. 3.3.2) -------------------------------------------------------

def epoch_batches(n: int, batch_size: int, rng: np.random.Generator, device, parts: int = 1) -> list[torch.Tensor]:
    """A shuffled partition of range(n) into index tensors of near-equal size (at most `batch_size`) on `device`.

    Their number is the smallest multiple of `parts` that is >= n / batch_size: ceil(n / batch_size) for one
    process; with `parts` = N DDP processes every process gets the same number of batches and no row is left out.
    """
    if n == 0:
        return []
    perm = torch.as_tensor(rng.permutation(n), device=device)  # (n,)
    return list(torch.tensor_split(perm, parts * math.ceil(n / (batch_size * parts))))


def interleave(batches: dict[str, list]) -> list[tuple[str, object]]:
    """A, B, A, B, ...; when one domain runs out, the rest of the other's batches follow."""
    rounds = itertools.zip_longest(*[[(d, b) for b in bs] for d, bs in batches.items()])
    return [step for r in rounds for step in r if step is not None]


def train_candidates(split: mdata.Split, n_items: int, k: int, rng: np.random.Generator, device) -> torch.Tensor:
    """(N, 1 + K) training candidates on `device`: the target, then K fresh uniform negatives."""
    neg = mdata.sample_negatives(split.target, n_items, k, rng)  # (N, K)
    return torch.as_tensor(np.concatenate([split.target[:, None], neg], axis=1), device=device)


def last_rows(split: mdata.Split) -> np.ndarray:
    """Row of each user's LAST instance in `split` (rows are sorted by user, then time): (n_users,)."""
    return np.flatnonzero(np.r_[split.user[1:] != split.user[:-1], True])


def window_rows(split: mdata.Split, width: int, windows: str = "last") -> np.ndarray:
    """Rows of `split` whose history (`width` = T items) and target make the training windows of every-position
    models, in row order. "last": each user's last instance (`last_rows`), (U,). "every": also the instances T,
    2T, ... targets before it, (W,) with W >= U: consecutive instances of a user are consecutive targets, so the
    windows' positions predict each of the user's training targets exactly once (tested)."""
    last = last_rows(split)  # (U,)
    if windows == "last":
        return last
    if windows != "every":
        raise ValueError(f"windows must be one of {WINDOWS}, got {windows!r}")
    first = np.r_[0, last[:-1] + 1]  # (U,) each user's first row
    to_last = np.repeat(last, last - first + 1) - np.arange(len(split.target))  # (N,) rows until the user's last
    return np.flatnonzero(to_last % width == 0)


def sequence_batch_data(split: mdata.Split, st: SplitTensors, n_items: int, k: int, rng, device,
                        windows: str = "last"):
    """The training data of every-position models (`sasrec`, the MAN family's `*-ep`): one sequence per window of
    `window_rows` (with "last", SASRec's, one per user: its last training instance). Returns hist (W, T), pos (W, T)
    = the next item at every position (0 where nothing is predicted) and neg (W, T, k) = k fresh uniform negatives
    per position (never the positive), all on `device`."""
    rows = torch.as_tensor(window_rows(split, st.hist.shape[1], windows), device=device)
    hist = st.hist[rows]  # (W, T)
    pos = next_items(hist, st.target[rows])  # (W, T)
    neg = mdata.sample_negatives(pos.cpu().numpy().ravel(), n_items, k, rng).reshape(*pos.shape, k)  # (W, T, k)
    return hist, pos, torch.as_tensor(neg, device=device)


def epoch_inputs(model, dd: mdata.DomainData, st: SplitTensors, tcfg: TrainConfig, rng) -> tuple:
    """One epoch's training rows of a domain, with fresh negatives: (hist (W, T), pos (W, T), neg (W, T, K)) per
    window for every-position models (`sequence_batch_data`), else (hist (N, T), cand (N, 1 + K)) per instance."""
    if getattr(model, "every_position", False):
        return sequence_batch_data(dd.train, st, dd.n_items, tcfg.n_neg, rng, tcfg.device, tcfg.windows)
    return st.hist, train_candidates(dd.train, dd.n_items, tcfg.n_neg, rng, tcfg.device)


def train_step(model, net, optimizer, domain: str, batch: list) -> torch.Tensor:
    """One optimizer step on a batch of `domain` (rows of `epoch_inputs`); returns the loss. `net` is `model` or
    its DDP wrapper, through which a one-target forward runs."""
    if getattr(model, "every_position", False):
        loss = model.sequence_loss(domain, *batch)
    else:
        loss = model.objective(domain, net(domain, *batch))  # logits (B, 1 + K)
    optimizer.zero_grad(set_to_none=True)  # the other domain's parameters keep grad None: Adam skips them
    loss.backward()
    optimizer.step()
    return loss


def train_epoch(model, optimizer, data, tensors, domains, tcfg: TrainConfig, rng, ddp=None,
                scheduler=None) -> dict[str, float]:
    """One epoch over the training sets of `domains`; returns the mean loss per batch row of each domain.

    The MAN family scores every training instance's 1 + K candidates (`model.objective`). Every-position models
    (`model.every_position`: `sasrec`, the MAN family's `*-ep`) see each user's training sequence once, every
    position predicting the next item against K = `tcfg.n_neg` negatives in one causal pass (`sequence_loss`); a
    batch row is then a window (`tcfg.windows`: with "last", one per user).
    With `ddp` (`model` wrapped by `distributed.wrap`), this process trains on its share of the batches; the
    forward runs through the wrapper (DDP hooks the gradients of that call), the objective on `model` itself.
    `scheduler` (the learning-rate warm-up) steps after every optimizer step.
    """
    inputs, batches = {}, {}
    parts = distributed.world_size() if ddp is not None else 1
    for d in domains:
        inputs[d] = epoch_inputs(model, data.domains[d], tensors[d]["train"], tcfg, rng)
        batches[d] = epoch_batches(len(inputs[d][0]), tcfg.batch_size, rng, tcfg.device, parts)
        if ddp is not None:  # the same batches on every process (same rng); each takes its share
            batches[d] = distributed.shard(batches[d])
    total = {d: torch.zeros((), device=tcfg.device) for d in domains}
    net = model if ddp is None else ddp
    net.train()
    for d, idx in interleave(batches):
        loss = train_step(model, net, optimizer, d, [x[idx] for x in inputs[d]])
        if scheduler is not None:
            scheduler.step()
        total[d] += loss.detach() * len(idx)
    if ddp is not None and domains:  # every process saw its share of the rows: the domain's loss sums over all of them
        total = dict(zip(domains, distributed.sum_over_processes(torch.stack([total[d] for d in domains]))))
    return {d: total[d].item() / len(inputs[d][0]) for d in domains}


# ---- evaluation ----------------------------------------------------------------------------------------------

@torch.no_grad()
def candidate_scores(model, domain: str, st: SplitTensors, chunk: int) -> np.ndarray:
    """(N, C) logits of the fixed candidates, column 0 the positive."""
    model.eval()
    parts = [model(domain, st.hist[i:i + chunk], st.cand[i:i + chunk]) for i in range(0, len(st.target), chunk)]
    return torch.cat(parts).float().cpu().numpy()


@torch.no_grad()
def full_ranks(model, domain: str, split: mdata.Split, st: SplitTensors, chunk: int, rows=None) -> np.ndarray:
    """(N,) 1-based rank of each target among all local items of `domain` (history items excluded); with `rows`
    (an index array of length R), only those rows of the split: (R,)."""
    model.eval()
    rows = np.arange(len(split.target)) if rows is None else rows
    ranks = []
    for i in range(0, len(rows), chunk):
        r = rows[i:i + chunk]
        scores = model.score_all(domain, st.hist[torch.as_tensor(r, device=st.hist.device)])  # (chunk, n_items)
        ranks.append(metrics.full_ranks(scores.float().cpu().numpy(), split.target[r], split.hist[r]))
    return np.concatenate(ranks)


def full_ranking_rows(n: int, limit: int | None) -> np.ndarray:
    """The rows of an n-row test split that get full ranking: all if `limit` is None or >= n, else `limit` rows
    drawn at random with a fixed seed (0), so every model and seed is ranked on the same histories."""
    if limit is None or limit >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=limit, replace=False))


# The sampled metrics score 1 + N candidates per history where the full ranking scores every item of the domain:
# they take this many times `chunk` histories at once (fewer calls, far fewer pairs than a full-ranking chunk).
SAMPLED_CHUNKS = 8


def evaluate(model, domain: str, split: mdata.Split, st: SplitTensors, chunk: int = 64, full: bool = False,
             full_rows=None) -> dict:
    """Sampled metrics (AUC, GAUC, MRR, NDCG@10) of one split; with `full`, also HR@10/NDCG@10 (full), over the
    rows `full_rows` of the split (None: all rows; empty: NaN). `chunk`: histories per call of the full ranking;
    `SAMPLED_CHUNKS` times as many per call of the sampled metrics."""
    if len(split.target) == 0:
        return {m: math.nan for m in (METRICS if full else SAMPLED)}
    scores = candidate_scores(model, domain, st, chunk * SAMPLED_CHUNKS)  # (N, C)
    result = metrics.sampled_metrics(scores, split.user)
    if full:  # test: the sampled metrics per bucket of history length too
        result["by_history_length"] = by_history_length(scores, split)
    if full and full_rows is not None and len(full_rows) == 0:
        result.update({m: math.nan for m in FULL})
    elif full:
        result.update(metrics.full_ranking_metrics(full_ranks(model, domain, split, st, chunk, full_rows)))
    return result


HISTORY_BUCKETS = ((1, 2), (3, 5), (6, 10), (11, None))  # the user's items before the target: 1-2, 3-5, 6-10, 11+


def by_history_length(scores: np.ndarray, split: mdata.Split) -> dict:
    """Sampled metrics of (N, C) candidate `scores` per bucket of history length, the number of the user's items
    in this domain before the target (capped at T by the history window; `HISTORY_BUCKETS`). New users sit in the
    short buckets, where the paper expects transfer to help most. Returns {"1-2": {metric: x, "n": rows}, ...};
    a bucket without rows has "n" 0 and NaN metrics."""
    length = (split.hist > 0).sum(1)  # (N,)
    out = {}
    for low, high in HISTORY_BUCKETS:
        rows = (length >= low) & (length <= (high if high is not None else length.max()))
        label = f"{low}-{high}" if high is not None else f"{low}+"
        out[label] = ({**metrics.sampled_metrics(scores[rows], split.user[rows]), "n": int(rows.sum())}
                      if rows.any() else {**{m: math.nan for m in SAMPLED}, "n": 0})
    return out


# ---- fit with per-domain early stopping (A.5), test with per-domain best states ----------------------------

@dataclass
class FitResult:
    """What training produced: learning curves, and per domain the best epoch, its GAUC and its state."""

    # per epoch: {"epoch", "train_loss": {d: loss}, "valid": {d: {metric: value}}, "seconds"}
    history: list[dict] = field(default_factory=list)
    best_epoch: dict[str, int | None] = field(default_factory=dict)  # None: the domain had no training data
    best_valid: dict[str, float] = field(default_factory=dict)  # the selection metric at the best epoch
    best_state: dict[str, dict] = field(default_factory=dict)  # domain -> state_dict copy at its best epoch
    last_epoch: dict[str, int | None] = field(default_factory=dict)  # the last epoch a domain trained (it stopped)
    metric: str = "gauc"  # the validation metric that chose the best epoch (`selection_metric`)


def selection_metric(tcfg: TrainConfig, data: mdata.CrossDomainData) -> str:
    """The validation metric that picks each domain's best epoch (and learning rate): `tcfg.select`, where "auto"
    means GAUC under the paper's protocol (1 + 9 candidates; official code: AUC-type early stopping) and NDCG@10
    when the candidate lists are longer (SASRec's 1 + 100 protocol, whose reference keeps the best NDCG@10)."""
    if tcfg.select != "auto":
        return tcfg.select
    return "gauc" if data.domains["A"].valid.cand.shape[1] <= 10 else "ndcg@10"


def popularity_valid(data: mdata.CrossDomainData, tensors, domain: str, metric: str, chunk: int) -> float:
    """The validation `metric` of the popularity scorer (`pop`) in `domain`: the level of the plateau."""
    pop = models.build(None, data).to(tensors[domain]["valid"].hist.device)
    return evaluate(pop, domain, data.domains[domain].valid, tensors[domain]["valid"], chunk)[metric]


def make_optimizer(params, tcfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam with `tcfg`'s learning rate and betas, or AdamW when `tcfg.weight_decay` > 0. Either skips parameters
    whose gradient is None, so independent updating (Sec. 3.3.2) holds: weight decay too moves only the parameters
    on the path of the batch's domain."""
    adam = dict(lr=tcfg.lr, betas=tcfg.betas, fused=True)  # fused: faster on CPU
    if tcfg.weight_decay:
        return torch.optim.AdamW(params, weight_decay=tcfg.weight_decay, **adam)
    return torch.optim.Adam(params, **adam)


def warmup(optimizer, steps: int):
    """A scheduler that raises the learning rate linearly from lr / steps to lr over the first `steps` optimizer
    steps (both domains' steps count), then keeps it; None when `steps` is 0. See `TrainConfig.warmup_steps`."""
    if steps == 0:
        return None
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / steps))


def fit(model, data: mdata.CrossDomainData, tensors, tcfg: TrainConfig, log=None) -> FitResult:
    """Train `model` with independent updating (Sec. 3.3.2) and early stopping per domain (A.5).

    A domain stops after `tcfg.patience` epochs without a better validation score (never when patience is 0, nor
    while its best validation GAUC is within `tcfg.plateau_margin` of the popularity scorer's); the other domain
    goes on. With `tcfg.patience_scope == "both"` the epochs are counted from the last improvement of any active
    domain.
    Training ends when every domain has stopped or after `tcfg.epochs` epochs.
    The random state is `tcfg.seed` (set `torch.manual_seed` before building the model for the weights).
    With `tcfg.ddp`, every process calls `fit`; only rank 0 evaluates, logs and returns the curves and best
    states (the other processes return an empty FitResult), and it broadcasts which domains go on training.
    # Official code: when one domain stalls, training stops for both, and a B improvement in that epoch is lost
    # (notes §6). Here: each domain stops on its own, so neither domain's budget depends on the other's curve.
    """
    rng = np.random.default_rng(tcfg.seed)  # with ddp: the same negatives and batch order on every process
    active = [d for d in DOMAINS if len(data.domains[d].train.target) > 0]
    metric = selection_metric(tcfg, data)
    floor = {d: popularity_valid(data, tensors, d, "gauc", tcfg.eval_batch_size) + tcfg.plateau_margin
             for d in active} if tcfg.plateau_margin > 0 else {d: -math.inf for d in active}
    best_gauc = {d: -math.inf for d in active}  # the plateau test reads GAUC (see `TrainConfig.patience`)
    res = FitResult(best_epoch={d: None for d in DOMAINS}, best_valid={d: math.nan for d in DOMAINS},
                    last_epoch={d: None for d in DOMAINS}, metric=metric)
    if not any(p.requires_grad for p in model.parameters()):  # `pop`: nothing to train; "epoch 0" is the model
        state = copy.deepcopy(model.state_dict())
        for d in active:
            res.best_epoch[d], res.last_epoch[d], res.best_state[d] = 0, 0, state
            res.best_valid[d] = evaluate(model, d, data.domains[d].valid, tensors[d]["valid"],
                                         tcfg.eval_batch_size)[metric]
        return res
    if tcfg.ddp and getattr(model, "every_position", False):
        raise ValueError("--ddp trains one-target models only; train sasrec and the *-ep models in one process")
    optimizer = make_optimizer(model.parameters(), tcfg)
    scheduler = warmup(optimizer, tcfg.warmup_steps)
    ddp, lead = None, True
    if tcfg.ddp:
        small = [d for d in active if len(data.domains[d].train.target) < distributed.world_size()]
        if small:
            raise ValueError(f"domain {small[0]} has fewer training instances than the {distributed.world_size()} "
                             "DDP processes")
        ddp, lead = distributed.wrap(model), distributed.rank() == 0
    for epoch in range(1, tcfg.epochs + 1):
        start = time.perf_counter()
        loss = train_epoch(model, optimizer, data, tensors, active, tcfg, rng, ddp, scheduler)
        check_finite(model, loss, epoch, tcfg)
        for d in active:
            res.last_epoch[d] = epoch
        if lead:
            valid = {d: evaluate(model, d, data.domains[d].valid, tensors[d]["valid"], tcfg.eval_batch_size)
                     for d in active}
            score = {d: valid[d][metric] for d in active}
            improved = [d for d in active if res.best_epoch[d] is None or score[d] > res.best_valid[d]]
            state = copy.deepcopy(model.state_dict()) if improved else None  # one copy, shared by both domains
            for d in improved:
                res.best_epoch[d], res.best_valid[d], res.best_state[d] = epoch, score[d], state
            for d in active:
                best_gauc[d] = max(best_gauc[d], valid[d]["gauc"])
            res.history.append({"epoch": epoch, "train_loss": loss, "valid": valid,
                                "seconds": time.perf_counter() - start})
            if log:
                log(_epoch_line(epoch, tcfg.epochs, loss, score, metric, improved, res.history[-1]["seconds"]))
            active = still_training(active, epoch, res.best_epoch, best_gauc, floor, tcfg)
        if ddp is not None:  # rank 0's early-stopping decision, so that every process runs the same steps
            active = distributed.broadcast(active)
        if not active:
            break
    return res


def still_training(active: list, epoch: int, best_epoch: dict, best_gauc: dict, floor: dict, tcfg: TrainConfig) -> list:
    """The domains of `active` that train on after `epoch` (early stopping, A.5 with the recipe's changes): those
    whose best validation GAUC is still at or below `floor` (the plateau), and those with fewer than
    `tcfg.patience` epochs since their best epoch -- or, with `tcfg.patience_scope == "both"`, since the last
    best epoch of any active domain. Patience 0 never stops a domain."""
    joint = max(best_epoch[d] for d in active)  # the last improvement of any active domain
    since = {d: best_epoch[d] if tcfg.patience_scope == "domain" else joint for d in active}
    return [d for d in active if tcfg.patience == 0 or epoch - since[d] < tcfg.patience or best_gauc[d] <= floor[d]]


class Diverged(ValueError):
    """Training produced a non-finite loss or weight; the message names the model, domain, epoch and a remedy."""


def check_finite(model, loss: dict[str, float], epoch: int, tcfg: TrainConfig) -> None:
    """Raise `Diverged` if an epoch's training loss (per domain) or a weight of `model` is NaN or infinite, so that no
    metric is ever computed from a diverged model; the remedy names `tcfg`'s learning rate (and weight decay)."""
    bad = [d for d, value in loss.items() if not math.isfinite(value)]
    if bad or not all(torch.isfinite(p).all() for p in model.parameters()):
        what = f"in domain {bad[0]}: training loss {loss[bad[0]]}" if bad else "(a weight is NaN or infinite)"
        decay = f" or weight decay than {tcfg.weight_decay:g}" if tcfg.weight_decay else ""
        raise Diverged(f"training diverged at epoch {epoch} {what}; try a lower learning rate than {tcfg.lr:g}"
                       f"{decay}")


def _epoch_line(epoch, epochs, loss, score, metric, improved, seconds) -> str:
    """One progress line: train loss and the validation selection metric per domain, '*' where it improved."""
    parts = [f"{d}: loss {loss[d]:.4f} valid {metric.upper()} {score[d]:.4f}{'*' if d in improved else ' '}"
             for d in loss]
    return f"epoch {epoch:>3}/{epochs}  " + "  ".join(parts) + f"  ({seconds:.1f} s)"


def test(model, data: mdata.CrossDomainData, tensors, states: dict[str, dict], chunk: int = 64,
         full_ranking: int | None = None) -> dict:
    """Test metrics per domain, each domain with its own best state; NaN for a domain without a state.
    `full_ranking`: how many test histories per domain get the "(full)" metrics (see `TrainConfig`)."""
    out = {}
    for d in DOMAINS:
        if d not in states:
            out[d] = {m: math.nan for m in METRICS}
            continue
        model.load_state_dict(states[d])
        split = data.domains[d].test
        out[d] = evaluate(model, d, split, tensors[d]["test"], chunk, full=True,
                          full_rows=full_ranking_rows(len(split.target), full_ranking))
    return out


@dataclass
class RunResult:
    """One model trained with one seed (and each setting of a grid) and tested once."""

    name: str
    seed: int
    results: dict  # {domain: {metric: float}}, NaN where a domain could not be trained
    fit: FitResult  # per domain: the best epoch, last epoch and best state of the setting chosen for it
    seconds: float
    lr: dict = field(default_factory=dict)  # {domain: the learning rate chosen on validation}
    weight_decay: dict = field(default_factory=dict)  # {domain: the weight decay chosen on validation}
    curves: dict = field(default_factory=dict)  # {(lr, weight decay): FitResult.history} for every setting tried


def setting_label(lr: float, weight_decay: float) -> str:
    """'0.003' for plain Adam, '0.003, weight decay 1' with weight decay: a grid setting in logs and JSON keys."""
    return f"{lr:g}" if not weight_decay else f"{lr:g}, weight decay {weight_decay:g}"


def train_and_test(name: str, data: mdata.CrossDomainData, tcfg: TrainConfig, tensors=None, log=None,
                   lrs=None, weight_decays=None, **overrides) -> tuple[torch.nn.Module, RunResult]:
    """Build model `name` (seeded with `tcfg.seed`) once per setting of the grid `lrs` x `weight_decays`
    (defaults: `tcfg.lr`, `tcfg.weight_decay`), fit each, choose per domain the one with the best validation score
    (`selection_metric`, `selection.choose`), and test each domain once, with the best state of its chosen run.
    Validation only decides; the test set is scored once per domain. A model without trainable parameters (`pop`)
    is fitted once, with the first setting."""
    start = time.perf_counter()
    tensors = tensors if tensors is not None else to_device(data, tcfg.device)
    grid = list(itertools.product(lrs or [tcfg.lr], weight_decays or [tcfg.weight_decay]))
    fits = {}
    for lr, wd in grid:
        torch.manual_seed(tcfg.seed)
        model = build_model(name, data, tcfg.device, **overrides)
        fits[lr, wd] = fit(model, data, tensors, replace(tcfg, lr=lr, weight_decay=wd),
                           log if log is None or len(grid) == 1
                           else (lambda s, label=setting_label(lr, wd): log(f"lr {label}: {s}")))
        trained = any(p.requires_grad for p in model.parameters())
        if not trained:  # `pop`: no setting changes anything, and it has no learning rate
            break
    chosen = selection.choose({key: {d: f.best_valid[d] for d in DOMAINS if f.best_epoch[d] is not None}
                               for key, f in fits.items()}, DOMAINS)  # domains no run trained are left out
    first = next(iter(fits.values()))  # for a domain no run trained: its None / NaN entries
    res = FitResult(history=first.history if len(fits) == 1 else [],
                    best_state={d: fits[lr].best_state[d] for d, lr in chosen.items()},
                    **{k: {d: getattr(fits[chosen.get(d)] if d in chosen else first, k)[d] for d in DOMAINS}
                       for k in ("best_epoch", "best_valid", "last_epoch")}, metric=first.metric)
    results = test(model, data, tensors, res.best_state, tcfg.eval_batch_size, tcfg.full_ranking)
    return model, RunResult(name, tcfg.seed, results, res, time.perf_counter() - start,
                            lr={d: lr for d, (lr, _) in chosen.items()} if trained else {},
                            weight_decay={d: wd for d, (_, wd) in chosen.items()} if trained else {},
                            curves={key: f.history for key, f in fits.items()})


if __name__ == "__main__":
    from mini_man.cli import main

    raise SystemExit(main())
