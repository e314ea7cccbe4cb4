"""Measuring the popularity plateau (docs/results.md, notebook 08): how much of a model's ranking depends on the
history, and what the ReLU units of a prediction MLP do.

A model that ranks every user's candidates in the same order ranks by a property of the item alone; on this data
that is popularity (test AUC = the popularity scorer's). The prediction layer of Eq. (14)-(15) is an MLP over
`[s || M_target]`: while each of its first-layer ReLU units is either off for every (history, candidate) pair
("dead") or on for every pair ("always on"), the MLP is an affine function of its input, so its logit is
`a(s) + b(M_target)`: the history shifts the whole candidate list and the ranking is `b`'s alone. Only units that
switch between pairs can make the ranking depend on the history. Nothing here is part of the model.
"""
import torch


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
