"""Metrics: AUC and GAUC against scikit-learn, hand-made ties, pessimistic MRR/NDCG, full ranking."""
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mini_man import metrics


def test_pooled_auc_matches_sklearn_with_many_ties():
    rng = np.random.default_rng(0)
    scores = np.round(rng.normal(size=(300, 10)), 1)  # rounding makes ties common
    scores[:, 0] += 0.3
    labels = np.zeros((300, 10), int)
    labels[:, 0] = 1
    got = metrics.sampled_metrics(scores, rng.integers(0, 40, 300))["auc"]
    assert got == pytest.approx(roc_auc_score(labels.ravel(), scores.ravel()), abs=1e-12)


def test_gauc_is_per_user_auc_weighted_by_positives():
    rng = np.random.default_rng(1)
    scores = np.round(rng.normal(size=(200, 5)), 1)
    user = rng.integers(0, 15, 200)
    expected, weights = [], []
    for u in np.unique(user):
        s = scores[user == u]
        y = np.zeros_like(s, int)
        y[:, 0] = 1
        expected.append(roc_auc_score(y.ravel(), s.ravel()))
        weights.append(len(s))  # positives of user u = its instances
    got = metrics.sampled_metrics(scores, user)["gauc"]
    assert got == pytest.approx(np.average(expected, weights=weights), abs=1e-12)


def test_gauc_skips_users_with_one_class():
    scores = np.array([0.9, 0.1, 0.5, 0.4, 0.8])
    labels = np.array([1, 0, 1, 1, 0])
    user = np.array([0, 0, 1, 1, 2])  # user 1: positives only; user 2: negatives only
    assert metrics.gauc(scores, labels, user) == 1.0
    aucs, n_pos = metrics.auc_by_group(scores, labels, user)
    assert aucs[0] == 1.0 and np.isnan(aucs[1:]).all() and n_pos.tolist() == [1, 2, 0]


def test_ties_count_half_in_auc_and_never_favour_the_positive_in_ranks():
    # row 0: positive tied with all 9 negatives; row 1: positive beats 7, ties 1, loses to 1
    scores = np.array([[0.5] * 10, [0.5, 0.9, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]])
    m = metrics.sampled_metrics(scores, np.array([0, 1]))
    assert metrics.sampled_ranks(scores).tolist() == [10, 3]
    assert m["mrr"] == pytest.approx((1 / 10 + 1 / 3) / 2)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(11) + 1 / math.log2(4)) / 2)
    assert m["gauc"] == pytest.approx((0.5 + 7.5 / 9) / 2)  # user 1: (7 wins + 1 tie / 2) / 9
    # pooled: positive 0.5 vs 18 negatives (10 x 0.5, 1 x 0.9, 7 x 0.1) twice
    assert m["auc"] == pytest.approx((7 + 10 / 2) / 18)


def test_all_equal_scores_give_chance_auc_and_worst_rank():
    m = metrics.sampled_metrics(np.zeros((4, 10)), np.arange(4))
    assert m["auc"] == 0.5 and m["gauc"] == 0.5
    assert m["mrr"] == pytest.approx(0.1) and m["ndcg@10"] == pytest.approx(1 / math.log2(11))


def test_ndcg_at_10_is_truncated_beyond_rank_10():
    scores = np.zeros((1, 16))
    scores[0, 1:11], scores[0, 11:] = 1.0, -1.0  # 10 negatives above the positive, 5 below -> rank 11
    assert metrics.sampled_ranks(scores).tolist() == [11]
    assert metrics.sampled_metrics(scores, np.zeros(1))["ndcg@10"] == 0.0
    assert metrics.sampled_metrics(scores, np.zeros(1))["hr@10"] == 0.0
    scores[0, 1] = -1.0  # rank 10: a hit
    assert metrics.sampled_metrics(scores, np.zeros(1))["hr@10"] == 1.0


def test_perfect_scores():
    scores = np.tile(np.arange(10, 0, -1.0), (5, 1))  # positive (column 0) highest
    m = metrics.sampled_metrics(scores, np.array([0, 0, 1, 1, 2]))
    assert m == {"auc": 1.0, "gauc": 1.0, "mrr": 1.0, "ndcg@10": 1.0, "hr@10": 1.0}


def test_sampled_metrics_rejects_nan_and_single_column():
    with pytest.raises(ValueError):
        metrics.sampled_metrics(np.array([[np.nan, 0.0]]), np.zeros(1))
    with pytest.raises(ValueError):
        metrics.sampled_metrics(np.ones((3, 1)), np.zeros(3))


def test_full_ranks_exclude_padding_and_history_and_are_pessimistic():
    # 8 local ids; column 0 is padding. Row 0: target 3, history [0, 5, 6]: 5 and 6 do not count.
    scores = np.array([[9.0, 0.1, 0.7, 0.5, 0.2, 0.9, 0.8, 0.5],
                       [9.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]])
    target = np.array([3, 7])
    hist = np.array([[0, 5, 6], [0, 0, 1]])
    # row 0: others left 1, 2, 4, 7 -> 2 (0.7) beats, 7 (0.5) ties -> rank 3; row 1: nothing above -> rank 1
    assert metrics.full_ranks(scores, target, hist).tolist() == [3, 1]


def test_full_ranking_metrics():
    ranks = np.array([1, 3, 10, 11, 200])
    m = metrics.full_ranking_metrics(ranks)
    assert m["hr@10_full"] == pytest.approx(3 / 5)
    assert m["ndcg@10_full"] == pytest.approx((1 + 1 / math.log2(4) + 1 / math.log2(11)) / 5)
    assert set(metrics.full_ranking_metrics(ranks, k=5)) == {"hr@5_full", "ndcg@5_full"}
