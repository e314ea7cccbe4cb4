"""Metrics of the paper (Sec. 4.1.2, appendix A.4) on fixed candidate lists, and full-ranking metrics.

Sampled metrics score each valid/test instance's 1 + C candidates (column 0 = the positive):
- AUC: pooled over all candidate rows of the split, as the official `roc_auc_score` over the whole file
  (notes §9.2). A tie between a positive and a negative counts 1/2.
- GAUC: per-user AUC over all that user's candidate rows, weighted by the user's number of positive
  instances ("weight is his/her click number", A.4); users with a single class are skipped.
  Paper: weight = clicks. Official `wauc`: weight = rows (= 10 x instances, the same ratio), but unknown users
  all merge into vocab id 0 (notes §9.4). Here: real user ids of the domain, weight = positives.
- MRR and NDCG@10 over each 1 + C list, with PESSIMISTIC ties: rank = 1 + #(neg > pos) + #(neg == pos), so a
  tie never favours the positive (the official heapsort order is pessimistic too, notes §9.3). With C = 9, 1 + 9
  candidates, NDCG@10 is untruncated.
Full ranking ranks the target among ALL local items of the domain (history items excluded), the modern
protocol; sampled metrics can order models differently (Krichene & Rendle, KDD'20).
"""
import numpy as np


def auc_by_group(scores: np.ndarray, labels: np.ndarray, group: np.ndarray):
    """Per-group AUC with ties counted 1/2, from average ranks (Mann-Whitney U); no loop over groups.

    scores, labels (1 = positive, 0 = negative), group: (n,). Returns (aucs, n_pos) over the groups
    0..group.max(); a group without both classes has AUC NaN.
    """
    scores, labels, group = np.asarray(scores, np.float64), np.asarray(labels, bool), np.asarray(group, np.int64)
    check_finite(scores)
    order = np.lexsort((scores, group))  # by group, then score
    g, s = group[order], scores[order]
    new = np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])]  # start of a run of equal (group, score)
    run = np.cumsum(new) - 1
    first = np.flatnonzero(new)  # position of each run's first row
    size = np.diff(np.r_[first, len(s)])
    group_start = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    start_of = np.repeat(group_start, np.diff(np.r_[group_start, len(g)]))  # (n,) first row of the row's group
    rank = first[run] - start_of + (size[run] + 1) / 2.0  # 1-based average rank within the group
    y = labels[order].astype(np.float64)
    n_groups = int(group.max()) + 1 if len(group) else 0
    n_pos = np.bincount(g, weights=y, minlength=n_groups)
    n_neg = np.bincount(g, weights=1 - y, minlength=n_groups)
    rank_sum = np.bincount(g, weights=rank * y, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        aucs = (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    aucs[(n_pos == 0) | (n_neg == 0)] = np.nan
    return aucs, n_pos.astype(np.int64)


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Pooled AUC over all rows: P(score of a positive > score of a negative), ties 1/2."""
    return float(auc_by_group(scores, labels, np.zeros(len(scores), np.int64))[0][0])


def gauc(scores: np.ndarray, labels: np.ndarray, user: np.ndarray) -> float:
    """Sum over users of n_pos(u) * AUC(u) / sum of n_pos(u), over users that have both classes."""
    aucs, n_pos = auc_by_group(scores, labels, user)
    ok = ~np.isnan(aucs)
    return float(np.sum(aucs[ok] * n_pos[ok]) / np.sum(n_pos[ok]))


def check_finite(scores: np.ndarray) -> None:
    """Raise a one-line ValueError if any score is NaN or infinite: such a score has no rank (a NaN compares
    False with everything, so it would rank first or last by accident)."""
    bad = ~np.isfinite(scores)
    if bad.any():
        raise ValueError(f"{int(bad.sum()):,} of {bad.size:,} scores are NaN or infinite (e.g. {scores[bad][0]}); "
                         "no rank is defined: did training diverge?")


def sampled_ranks(scores: np.ndarray) -> np.ndarray:
    """(N,) 1-based pessimistic rank of column 0 (the positive) in each row: 1 + #(neg >= pos)."""
    scores = np.asarray(scores, np.float64)
    return 1 + np.sum(scores[:, 1:] >= scores[:, :1], axis=1)


def sampled_metrics(scores: np.ndarray, user: np.ndarray) -> dict:
    """{"auc", "gauc", "mrr", "ndcg@10", "hr@10"} of (N, C) candidate scores, column 0 the positive; user (N,).

    Ties: 1/2 in AUC and GAUC; pessimistic in MRR and NDCG@10 (a tie ranks the positive below the negative).
    """
    scores = np.asarray(scores, np.float64)
    check_finite(scores)
    N, C = scores.shape
    if C < 2:
        raise ValueError(f"need a positive and at least one negative per row, got {C} column(s)")
    labels = np.zeros((N, C), bool)
    labels[:, 0] = True
    users = np.repeat(np.asarray(user), C)  # (N * C,) the user of every candidate row
    rank = sampled_ranks(scores)
    return {"auc": auc(scores.ravel(), labels.ravel()), "gauc": gauc(scores.ravel(), labels.ravel(), users),
            "mrr": float(np.mean(1.0 / rank)), "ndcg@10": _ndcg(rank, 10), "hr@10": _hr(rank, 10)}


def full_ranks(scores: np.ndarray, target: np.ndarray, hist: np.ndarray) -> np.ndarray:
    """(N,) 1-based rank of the target among all local items, pessimistic in ties.

    scores: (N, n_items) over all local ids; column 0 (padding) and the row's history items are excluded (a
    user does not get re-recommended an item he has already interacted with). rank = 1 + #(other candidate
    items with score >= the target's).
    """
    scores = np.asarray(scores, np.float64)  # (N, n_items)
    check_finite(scores)
    rows = np.arange(len(scores))
    beats = scores >= scores[rows, target][:, None]  # (N, n_items) candidates scored >= the target
    np.put_along_axis(beats, np.asarray(hist), False, axis=1)  # history items (and padding 0) drop out
    beats[:, 0] = False
    beats[rows, target] = False
    return 1 + beats.sum(axis=1)


def full_ranking_metrics(ranks: np.ndarray, k: int = 10) -> dict:
    """{"hr@k_full", "ndcg@k_full"}: hit rate and NDCG at k of full-ranking ranks (one target per row)."""
    ranks = np.asarray(ranks)
    return {f"hr@{k}_full": _hr(ranks, k), f"ndcg@{k}_full": _ndcg(ranks, k)}


def _hr(rank: np.ndarray, k: int) -> float:
    """HR@k (hit rate) with one relevant item: the share of rows whose rank is <= k."""
    return float(np.mean(rank <= k))


def _ndcg(rank: np.ndarray, k: int) -> float:
    """NDCG@k with one relevant item: 1 / log2(rank + 1) if rank <= k else 0, averaged."""
    return float(np.mean(np.where(rank <= k, 1.0 / np.log2(rank + 1.0), 0.0)))
