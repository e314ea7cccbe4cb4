"""What the analysis notebooks (08-10) share: their fast settings, training with a sampled-only test, and the
comparison of learned user representations with the sample's planted groups (Fig. 4-5, Sec. 4.4).

Nothing here is part of the model; it sits on top of `mini_man.train`.
"""
import copy
import tempfile
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from mini_man import data as mdata
from mini_man import sample, train

T = 5  # history length of the notebooks' fast runs (paper: 20)
# The recipe's settings (`train.TrainConfig`: lr 3e-3 after a 300-step warm-up, patience that does not act on the
# popularity plateau, at most 100 epochs), made fast: 4 training negatives instead of 9, patience 2 instead of 5, and
# plain Adam only, as the command line's default (the reference protocol also trains every model with weight decay 1
# and keeps the better run per domain: the weight-decay grid, which would double every run). Every model still
# trains until its validation score has not improved for 2 epochs off the plateau (notebook 08 checks that none reaches the 100-epoch budget).
FAST = train.TrainConfig(epochs=100, batch_size=128, lr=3e-3, warmup_steps=300, n_neg=4, patience=2, seed=0)
OVERRIDES = dict(n_blocks=1)  # one SASRec block (official code: 2); GRU4Rec has no blocks
# Notebooks 09-10's toy (`sample.SETTINGS["toy"]`): `FAST` with a 100-step warm-up (the toy's A has ~32 steps per
# epoch), at most 60 epochs, and a patience that counts only once a domain's validation GAUC is 0.1 above
# popularity's (`plateau_margin`; the recipe: 0.01). B's validation set is small (236 targets), its GAUC wanders by
# a few hundredths from epoch to epoch, and B can only improve once A's side has learned: with the recipe's margin, a
# patience counted from B's early noise stops B before any transfer can arrive (notebook 10, exercise 1). A domain
# that never gets 0.1 above popularity (B without transfer) trains the whole 60 epochs. Each domain is tested with
# its best-validation state.
TOY_FIT = replace(FAST, epochs=60, warmup_steps=100, plateau_margin=0.1)


def fast_config(name: str, tcfg: train.TrainConfig = FAST) -> train.TrainConfig:
    """`tcfg` with model `name`'s own optimizer settings (`train.recipe`: `sasrec` keeps its reference's)."""
    return replace(tcfg, **train.recipe(name))


def overrides(name: str, **extra) -> dict:
    """The model overrides of the fast runs for model `name`: `OVERRIDES` plus `extra`; none for `pop`."""
    return {} if name == "pop" else {**OVERRIDES, **extra}


def fit_and_test(name: str, data: mdata.CrossDomainData, tensors=None, tcfg: train.TrainConfig = FAST, **extra):
    """`train.train_and_test` without the full ranking, keeping the last weights: build model `name` seeded with
    `tcfg.seed` (with `overrides(name, **extra)`), `train.fit` it with `fast_config(name, tcfg)`, test each domain
    with its best state (sampled 1 + 9 metrics; the "(full)" ones are NaN). Returns the model with its LAST
    epoch's weights, the `FitResult` and {domain: {metric: float}}. `tensors`: `train.to_device(data, ...)`, made
    here if None (as in a worker process of `parallel.call_all`)."""
    tcfg = fast_config(name, tcfg)
    tensors = tensors if tensors is not None else train.to_device(data, tcfg.device)
    torch.manual_seed(tcfg.seed)
    model = train.build_model(name, data, tcfg.device, **overrides(name, **extra))
    fit = train.fit(model, data, tensors, tcfg)
    last = copy.deepcopy(model.state_dict())
    results = train.test(model, data, tensors, fit.best_state, tcfg.eval_batch_size, full_ranking=0)
    model.load_state_dict(last)
    return model, fit, results


def toy(premise: bool = True, seed: int = 0, **changes) -> tuple[mdata.CrossDomainData, sample.Sample]:
    """Notebooks 09-10's toy, `sample.generate(**SETTINGS["toy"], **changes)`, prepared like the sample (time split,
    T = 5, the toy's 2-core). Returns the prepared data and the generated `Sample` (with its planted truth)."""
    made = sample.generate(premise=premise, seed=seed, **{**sample.SETTINGS["toy"], **changes})
    with tempfile.TemporaryDirectory() as folder:
        a, b = made.write(folder)[:2]
        return mdata.prepare(a, b, max_len=T, kcore=sample.KCORE["toy"]), made


def latest_histories(d: mdata.DomainData):
    """One history per user: the one before the user's last interaction. Returns (user index (U,), hist (U, T))."""
    user = np.concatenate([d.train.user, d.valid.user, d.test.user])  # splits in time order, users sorted inside
    hist = np.concatenate([d.train.hist, d.valid.hist, d.test.hist])
    last = len(user) - 1 - np.unique(user[::-1], return_index=True)[1]  # last occurrence of each user
    return user[last], hist[last]


def planted_groups(d: mdata.DomainData, users: np.ndarray, truth: pd.DataFrame) -> np.ndarray:
    """(U,) planted group of each user (a domain user index), looked up by the raw user string in `truth`
    (columns domain, user, group: `data/sample/user_groups.csv`)."""
    table = truth[truth["domain"] == d.name].set_index("user")["group"]
    groups = table.reindex(d.users[users]).to_numpy()
    if np.isnan(groups).any():
        raise ValueError(f"domain {d.name}: {int(np.isnan(groups).sum())} users have no planted group in the table")
    return groups.astype(int)


@torch.no_grad()
def representations(model, X: str, hist: np.ndarray) -> dict:
    """`model.encode_history` of the given histories (U, T), as numpy arrays (g_Xu, s_X, s_Xg, ...)."""
    model.eval()
    device = next(model.parameters()).device
    return {k: v.cpu().numpy() for k, v in model.encode_history(X, torch.as_tensor(hist, device=device)).items()}


def nmi(labels_true, labels_pred) -> float:
    """Normalised mutual information of two labelings (arithmetic mean normalisation)."""
    return float(normalized_mutual_info_score(labels_true, labels_pred, average_method="arithmetic"))


def kmeans(x: np.ndarray, k: int) -> KMeans:
    """K-Means with k clusters, 10 restarts, seed 0 (Fig. 4 clusters the pooled group representations)."""
    return KMeans(n_clusters=k, n_init=10, random_state=0).fit(x)


def nearest_A_group(rep_A: np.ndarray, groups_A: np.ndarray, rep_B: np.ndarray) -> np.ndarray:
    """(U_B,) for each B user, the planted group whose A centroid is nearest (each domain centred on its mean).
    rep_A (U_A, D), groups_A (U_A,), rep_B (U_B, D)."""
    a, b = rep_A - rep_A.mean(0), rep_B - rep_B.mean(0)
    centroids = np.stack([a[groups_A == g].mean(0) for g in range(groups_A.max() + 1)])  # (G, D)
    return ((b[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
