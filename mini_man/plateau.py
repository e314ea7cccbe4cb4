"""Measuring the popularity plateau (docs/results.md, notebook 08): how much of a model's ranking depends on the
history, and what the ReLU units of a prediction MLP do.

A model that ranks every user's candidates in the same order ranks by a property of the item alone; on this data
that is popularity (test AUC = the popularity scorer's). The prediction layer of Eq. (14)-(15) is an MLP over
`[s || M_target]`: while each of its first-layer ReLU units is either off for every (history, candidate) pair
("dead") or on for every pair ("always on"), the MLP is an affine function of its input, so its logit is
`a(s) + b(M_target)`: the history shifts the whole candidate list and the ranking is `b`'s alone. Only units that
switch between pairs can make the ranking depend on the history. Nothing here is part of the model.
"""
from dataclasses import dataclass

import numpy as np
import torch

from mini_man import data as mdata
from mini_man import train


@torch.no_grad()
def interaction_share(model, domain: str, hist: torch.Tensor, items: torch.Tensor) -> float:
    """The share of the within-list spread of logits that depends on the history.

    Scores the same candidate `items` (I,) for every history of `hist` (U, T) and splits the logits L (U, I) as
    in a two-way analysis of variance, `L_ui = mu + r_u + c_i + e_ui` (r: history, c: item, e: their
    interaction). Within one history's list, the ranking is set by `c + e`; returns var(e) / (var(c) + var(e)),
    in [0, 1]: 0 for a model that ranks every list alike (popularity), near 1 when the item alone says little.
    """
    model.eval()
    L = model(domain, hist, items.expand(len(hist), -1)).double()  # (U, I)
    e = L - L.mean(1, keepdim=True) - L.mean(0, keepdim=True) + L.mean()  # (U, I) interaction
    c = L.mean(0) - L.mean()  # (I,) item effect
    return float(e.pow(2).mean() / (c.pow(2).mean() + e.pow(2).mean()))


@torch.no_grad()
def relu_regimes(model, mlp, domain: str, hist: torch.Tensor, cand: torch.Tensor) -> dict:
    """Fractions of the first-layer ReLU units of `mlp` (an `MLP` of `model`, e.g. `model.mlp["B"]`) that are
    "dead" (off for every (history, candidate) pair of `hist` (U, T) x `cand` (U, C)), "always on" (on for every
    pair) or "switching" (the rest). Read from the input of the MLP's second layer: the units after their ReLU."""
    seen = []
    handle = mlp.layers[1].register_forward_hook(lambda module, inputs, out: seen.append(inputs[0] > 0))
    try:
        model.eval()
        model(domain, hist, cand)
    finally:
        handle.remove()
    on = torch.cat([s.reshape(-1, s.shape[-1]) for s in seen]).float().mean(0)  # (H,) share of pairs per unit
    return {"dead": float((on == 0).float().mean()), "always on": float((on == 1).float().mean()),
            "switching": float(((on > 0) & (on < 1)).float().mean())}


def plateau_exit(history: list[dict], domain: str, left: float) -> dict:
    """How a run left the plateau, from its per-epoch curve (`FitResult.history`; "curves" of a `--out` JSON):
    {"left_at": the first epoch whose validation GAUC is above `left` (None: never), "loss_fall": how much the
    training loss fell while the domain was still on the plateau, from epoch 2 (epoch 1 fits popularity) to the
    epoch before it left (0.0 if it left by epoch 2), "best_valid": the best validation GAUC}.

    A fall with a flat validation GAUC is memorisation: the model fits its training pairs without ranking unseen
    ones better (docs/results.md: in the recipe's runs, the seeds that do it most settle lowest once they leave).
    Assumes epoch 1 fitted popularity, as it does at the recipe's learning rate; where popularity takes longer (e.g.
    `gru4rec` at lr 1e-3: about 8 epochs) the fall includes that fit too."""
    rows = [e for e in history if domain in e["valid"]]
    if not rows:
        raise ValueError(f"the curve has no epoch of domain {domain!r}")
    gauc = [e["valid"][domain]["gauc"] for e in rows]
    loss = [e["train_loss"][domain] for e in rows]
    first = next((i for i, g in enumerate(gauc) if g > left), None)
    end = len(rows) if first is None else first  # epochs 1..end are on the plateau
    return {"left_at": None if first is None else rows[first]["epoch"],
            "loss_fall": float(loss[1] - loss[end - 1]) if end >= 2 else 0.0, "best_valid": max(gauc)}


@dataclass
class Probe:
    """The fixed inputs of `diagnose`: `hist` (U, T) validation histories with their `cand` (U, 1 + 9) validation
    candidates, `items` (I,) candidate items scored for every one of them, and a fixed training batch
    `g_hist` (N, T), `g_cand` (N, 1 + K) for the gradient measurement."""
    hist: torch.Tensor
    cand: torch.Tensor
    items: torch.Tensor
    g_hist: torch.Tensor
    g_cand: torch.Tensor


def diagnose(model, data: mdata.CrossDomainData, tensors, domain: str, probe: Probe) -> dict:
    """Notebook 08a's five measurements of `model` (with a prediction MLP `model.mlp[domain]`) in `domain`:
    "valid GAUC" (every validation history), "interaction share" (`interaction_share` on probe.hist x
    probe.items), "dead" / "always on" / "switching" (`relu_regimes` on probe.hist x probe.cand), "spread of s"
    (the RMS distance of the history summaries s^X of probe.hist from their mean, over the norm of the mean: 0 when
    every user has the same s) and "encoder gradient" (the norm of the gradient of the loss of the probe's
    training batch with respect to every parameter below the prediction MLPs, in eval mode)."""
    model.eval()
    with torch.no_grad():
        s_X = model.encode_history(domain, probe.hist)["s_X"]  # (U, D)
    spread = float((s_X - s_X.mean(0)).pow(2).sum(1).mean().sqrt() / s_X.mean(0).norm())
    model.zero_grad()
    model.objective(domain, model(domain, probe.g_hist, probe.g_cand)).backward()
    below = [p for name, p in model.named_parameters() if not name.startswith("mlp") and p.grad is not None]
    grad = float(torch.sqrt(sum(p.grad.pow(2).sum() for p in below)))
    model.zero_grad()
    dd = data.domains[domain]
    return {"valid GAUC": train.evaluate(model, domain, dd.valid, tensors[domain]["valid"])["gauc"],
            "interaction share": interaction_share(model, domain, probe.hist, probe.items),
            **relu_regimes(model, model.mlp[domain], domain, probe.hist, probe.cand),
            "spread of s": spread, "encoder gradient": grad}


def train_with_diagnostics(name: str, data: mdata.CrossDomainData, tcfg: train.TrainConfig, domain: str,
                           epochs: int, probe: Probe) -> list[dict]:
    """Model `name` (seeded with `tcfg.seed`) trained on `domain` alone for `epochs` epochs with `tcfg`'s optimizer
    and warm-up: `train.fit`'s loop written out (no early stopping), `diagnose` at initialisation and after every
    epoch. Returns one dict per epoch, epoch 0 first. A module function, so `parallel.call_all` can run it."""
    tensors = train.to_device(data, tcfg.device)
    torch.manual_seed(tcfg.seed)
    model = train.build_model(name, data, tcfg.device)
    optimizer = train.make_optimizer(model.parameters(), tcfg)
    scheduler = train.warmup(optimizer, tcfg.warmup_steps)  # None without warm-up
    rng = np.random.default_rng(tcfg.seed)
    curve = [{"epoch": 0, **diagnose(model, data, tensors, domain, probe)}]
    for epoch in range(1, epochs + 1):
        train.train_epoch(model, optimizer, data, tensors, [domain], tcfg, rng, scheduler=scheduler)
        curve.append({"epoch": epoch, **diagnose(model, data, tensors, domain, probe)})
    return curve
