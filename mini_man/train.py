"""Training and evaluation of MAN and its baselines (paper Sec. 3.3.2, 4.1, appendix A.5).

One trainer for every model of the experiments:
- Adam, lr 1e-3 (Sec. 4.1.3), one optimizer over all parameters. `zero_grad(set_to_none=True)` leaves the
  other domain's parameters with `grad=None`, and Adam skips those, so a batch of domain X updates only the
  parameters on X's path: X's own and the shared ones ("independent updating", Sec. 3.3.2 Discussion).
- Every batch comes from one domain; A and B batches alternate (A, B, A, B, ...; when one domain runs out, the
  rest of the other's follow). The loss of an X batch is `model.objective(X, logits)` = L^X (+ L^g) + lambda^X
  ||Theta^X||^2, never the joint sum of Eq. (18). A domain without training data is simply left out (Sec. 3.3.2).
- Training instances: a history (B, T) and 1 + K candidates (the target, then K uniform negatives drawn anew
  every epoch).
- After every epoch: validation GAUC per domain; early stopping per domain with a patience (A.5: 2; default: off); each
  domain keeps a copy of its own best state and is tested with it (as the official code does, §6 of the notes).
- Test: sampled metrics on the fixed 1 + 9 candidates, and full-ranking HR@10/NDCG@10 over all local items (for
  every test history, or a fixed random subset: `TrainConfig.full_ranking`).

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
from dataclasses import dataclass, field

import numpy as np
import torch

from mini_man import data as mdata
from mini_man import distributed, metrics
from mini_man.config import variant
from mini_man.model import MAN

DOMAINS = ("A", "B")
METRICS = ("auc", "gauc", "mrr", "ndcg@10", "hr@10_full", "ndcg@10_full")


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained; the model itself is described by `MANConfig`.

    Paper: batch 20 on Amazon (Sec. 4.1.3), early stop 2 (A.5), up to 100 epochs (official code). Here: batch 128,
    12 epochs for every model, no early stopping by default. Models first learn popularity and may leave that plateau
    only many epochs later (on the sample at batch 256: `man` after epoch ~10 in A and ~20 in B; `single` and
    `shared` not within 24 epochs), which patience 2 never reaches: see the learning curves in notebook 08.
    """

    epochs: int = 12  # the same budget for every model (upper limit when early stopping is on)
    # Paper: batch 20 on Amazon (Sec. 4.1.3). Here: 128, so that the main job (12 epochs, three models) fits in about
    # two minutes on a 2-core CPU and MAN still gets enough steps to leave the popularity plateau (README, "Results").
    batch_size: int = 128  # instances per step, all from one domain
    lr: float = 1e-3  # Adam (Sec. 4.1.3)
    n_neg: int = 9  # K training negatives per positive (official train_num_ngs = 9)
    # Appendix A.5 stops after 2 epochs without improvement. On the sample, every model sits on a popularity plateau
    # for several epochs first, and patience 2 stops all of them there, before anything sequential is learned. So the
    # default trains the whole budget (0) and still tests each domain with its best validation epoch; --patience 2
    # gives the paper's rule.
    patience: int = 0  # epochs without a better validation GAUC before a domain stops; 0 = never stop
    seed: int = 0
    device: str = "cpu"
    ddp: bool = False  # data-parallel over the processes of `torchrun` (the process group must be initialised)
    eval_batch_size: int = 64  # histories per chunk at evaluation; bounds the memory of full ranking (all items)
    # Test histories per domain ranked against all items for the "(full)" metrics: None = all; N = a fixed random N
    # (the same for every model and seed); 0 = none (NaN). At the processed Amazon size, ranking all ~9k test
    # histories against 27-42k items each (ISA included) takes ~13 min on 2 cores, far longer than an epoch (~20 s).
    full_ranking: int | None = None

    def __post_init__(self):
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch size must be >= 1, got {self.batch_size}"),
            (self.lr > 0, f"learning rate must be > 0, got {self.lr}"),
            (self.n_neg >= 1, f"number of training negatives must be >= 1, got {self.n_neg}"),
            (self.patience >= 0, f"patience must be >= 0, got {self.patience}"),
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


def build_model(name: str, data: mdata.CrossDomainData, device="cpu", **overrides) -> MAN:
    """The model `name` (see `config.VARIANTS`) sized for `data`, on `device`."""
    cfg = variant(name, max_len=data.max_len, **overrides)
    n_items = {d: dd.n_items for d, dd in data.domains.items()}
    global_ids = {d: torch.as_tensor(dd.global_ids) for d, dd in data.domains.items()}
    return MAN(cfg, n_items, data.n_global_items, global_ids).to(device)


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


def train_epoch(model, optimizer, data, tensors, domains, tcfg: TrainConfig, rng, ddp=None) -> dict[str, float]:
    """One epoch over the training sets of `domains`; returns the mean loss per instance of each domain.

    With `ddp` (`model` wrapped by `distributed.wrap`), this process trains on its share of the batches; the
    forward runs through the wrapper (DDP hooks the gradients of that call), the objective on `model` itself.
    """
    cands, batches = {}, {}
    parts = distributed.world_size() if ddp is not None else 1
    for d in domains:
        dd = data.domains[d]
        cands[d] = train_candidates(dd.train, dd.n_items, tcfg.n_neg, rng, tcfg.device)  # (N, 1 + K)
        batches[d] = epoch_batches(len(dd.train.target), tcfg.batch_size, rng, tcfg.device, parts)
        if ddp is not None:  # the same batches on every process (same rng); each takes its share
            batches[d] = distributed.shard(batches[d])
    total = {d: torch.zeros((), device=tcfg.device) for d in domains}
    net = model if ddp is None else ddp
    net.train()
    for d, idx in interleave(batches):
        logits = net(d, tensors[d]["train"].hist[idx], cands[d][idx])  # (B, 1 + K)
        loss = model.objective(d, logits)
        optimizer.zero_grad(set_to_none=True)  # the other domain's parameters keep grad None: Adam skips them
        loss.backward()
        optimizer.step()
        total[d] += loss.detach() * len(idx)
    if ddp is not None and domains:  # every process saw its share of the rows: the domain's loss sums over all of them
        total = dict(zip(domains, distributed.sum_over_processes(torch.stack([total[d] for d in domains]))))
    return {d: total[d].item() / len(data.domains[d].train.target) for d in domains}


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


def evaluate(model, domain: str, split: mdata.Split, st: SplitTensors, chunk: int = 64, full: bool = False,
             full_rows=None) -> dict:
    """Sampled metrics (AUC, GAUC, MRR, NDCG@10) of one split; with `full`, also HR@10/NDCG@10 (full), over the
    rows `full_rows` of the split (None: all rows; empty: NaN)."""
    if len(split.target) == 0:
        return {m: math.nan for m in (METRICS if full else METRICS[:4])}
    result = metrics.sampled_metrics(candidate_scores(model, domain, st, chunk), split.user)
    if full and full_rows is not None and len(full_rows) == 0:
        result.update({m: math.nan for m in METRICS[4:]})
    elif full:
        result.update(metrics.full_ranking_metrics(full_ranks(model, domain, split, st, chunk, full_rows)))
    return result


# ---- fit with per-domain early stopping (A.5), test with per-domain best states ----------------------------

@dataclass
class FitResult:
    """What training produced: learning curves, and per domain the best epoch, its GAUC and its state."""

    history: list[dict] = field(default_factory=list)  # per epoch: {"epoch", "train_loss", "valid_gauc", "seconds"}
    best_epoch: dict[str, int | None] = field(default_factory=dict)  # None: the domain had no training data
    best_valid_gauc: dict[str, float] = field(default_factory=dict)
    best_state: dict[str, dict] = field(default_factory=dict)  # domain -> state_dict copy at its best epoch


def fit(model, data: mdata.CrossDomainData, tensors, tcfg: TrainConfig, log=None) -> FitResult:
    """Train `model` with independent updating (Sec. 3.3.2) and early stopping per domain (A.5).

    A domain stops after `tcfg.patience` epochs without a better validation GAUC (never when patience is 0);
    the other domain goes on. Training ends when every domain has stopped or after `tcfg.epochs` epochs.
    The random state is `tcfg.seed` (set `torch.manual_seed` before building the model for the weights).
    With `tcfg.ddp`, every process calls `fit`; only rank 0 evaluates, logs and returns the curves and best
    states (the other processes return an empty FitResult), and it broadcasts which domains go on training.
    # Official code: when one domain stalls, training stops for both, and a B improvement in that epoch is lost
    # (notes §6). Here: each domain stops on its own, so neither domain's budget depends on the other's curve.
    """
    rng = np.random.default_rng(tcfg.seed)  # with ddp: the same negatives and batch order on every process
    optimizer = torch.optim.Adam(model.parameters(), lr=tcfg.lr, fused=True)  # fused: ~15% faster steps on CPU
    active = [d for d in DOMAINS if len(data.domains[d].train.target) > 0]
    res = FitResult(best_epoch={d: None for d in DOMAINS}, best_valid_gauc={d: math.nan for d in DOMAINS})
    ddp, lead = None, True
    if tcfg.ddp:
        small = [d for d in active if len(data.domains[d].train.target) < distributed.world_size()]
        if small:
            raise ValueError(f"domain {small[0]} has fewer training instances than the {distributed.world_size()} "
                             "DDP processes")
        ddp, lead = distributed.wrap(model), distributed.rank() == 0
    for epoch in range(1, tcfg.epochs + 1):
        start = time.perf_counter()
        loss = train_epoch(model, optimizer, data, tensors, active, tcfg, rng, ddp)
        if lead:
            gauc = {d: evaluate(model, d, data.domains[d].valid, tensors[d]["valid"], tcfg.eval_batch_size)["gauc"]
                    for d in active}
            improved = [d for d in active if res.best_epoch[d] is None or gauc[d] > res.best_valid_gauc[d]]
            state = copy.deepcopy(model.state_dict()) if improved else None  # one copy, shared by both domains
            for d in improved:
                res.best_epoch[d], res.best_valid_gauc[d], res.best_state[d] = epoch, gauc[d], state
            res.history.append({"epoch": epoch, "train_loss": loss, "valid_gauc": gauc,
                                "seconds": time.perf_counter() - start})
            if log:
                log(_epoch_line(epoch, tcfg.epochs, loss, gauc, improved, res.history[-1]["seconds"]))
            active = [d for d in active if tcfg.patience == 0 or epoch - res.best_epoch[d] < tcfg.patience]
        if ddp is not None:  # rank 0's early-stopping decision, so that every process runs the same steps
            active = distributed.broadcast(active)
        if not active:
            break
    return res


def _epoch_line(epoch, epochs, loss, gauc, improved, seconds) -> str:
    """One progress line: train loss and validation GAUC per domain, '*' where the domain improved."""
    parts = [f"{d}: loss {loss[d]:.4f} valid GAUC {gauc[d]:.4f}{'*' if d in improved else ' '}" for d in loss]
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
    """One model trained with one seed and tested."""

    name: str
    seed: int
    results: dict  # {domain: {metric: float}}, NaN where a domain could not be trained
    fit: FitResult
    seconds: float


def train_and_test(name: str, data: mdata.CrossDomainData, tcfg: TrainConfig, tensors=None, log=None,
                   **overrides) -> tuple[MAN, RunResult]:
    """Build model `name` (seeded with `tcfg.seed`), fit it, test each domain with its best state."""
    start = time.perf_counter()
    tensors = tensors if tensors is not None else to_device(data, tcfg.device)
    torch.manual_seed(tcfg.seed)
    model = build_model(name, data, tcfg.device, **overrides)
    res = fit(model, data, tensors, tcfg, log)
    results = test(model, data, tensors, res.best_state, tcfg.eval_batch_size, tcfg.full_ranking)
    return model, RunResult(name, tcfg.seed, results, res, time.perf_counter() - start)


if __name__ == "__main__":
    from mini_man.cli import main

    raise SystemExit(main())
