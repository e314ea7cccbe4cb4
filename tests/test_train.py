"""The trainer: independent updating (Sec. 3.3.2), early stopping per domain (A.5), test with the best states."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_man import data as mdata
from mini_man import metrics, sample, train


def test_interleave_alternates_domains_then_runs_out_the_longer_one():
    steps = train.interleave({"A": [1, 2, 3], "B": [10]})
    assert steps == [("A", 1), ("B", 10), ("A", 2), ("A", 3)]
    assert train.interleave({"A": [], "B": [10, 11]}) == [("B", 10), ("B", 11)]


def test_epoch_batches_partition_the_rows_in_near_equal_batches():
    batches = train.epoch_batches(10, 4, np.random.default_rng(0), "cpu")
    assert [len(b) for b in batches] == [4, 3, 3]  # near-equal sizes: never a last batch of one row
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    assert train.epoch_batches(0, 4, np.random.default_rng(0), "cpu") == []


# ---- end to end on a tiny generated dataset ----------------------------------------------------------------

# The paper's optimizer (lr 1e-3, no warm-up) and no early stopping: these tests check the trainer, not the recipe.
TCFG = train.TrainConfig(epochs=4, batch_size=64, lr=1e-3, warmup_steps=0, patience=0, seed=0)
# A tiny generated sample whose signal is learnable within a few epochs: a steep popularity curve and no
# Markov steps (leaving the popularity plateau for sequential patterns takes hundreds of steps).
TINY = dict(users=(200, 120), items=(300, 250), p_next=0.0, zipf_shift=(1.0, 1.0), seed=0)


def write_tiny(out):
    """Write the tiny sample's two ratings CSVs to folder `out`; returns their paths (A, B)."""
    sample.generate(**TINY).write(out)
    return out / sample.FILES[0], out / sample.FILES[1]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return mdata.prepare(*write_tiny(tmp_path_factory.mktemp("tiny")), max_len=8, kcore=3)


def test_an_a_epoch_leaves_the_parameters_of_domain_b_untouched(tiny_data):
    """Sec. 3.3.2: zero_grad(set_to_none) and one Adam: A batches move A's and the shared parameters only,
    even after B batches gave B's parameters Adam moments that would keep moving them under a zero gradient."""
    torch.manual_seed(0)
    model = train.build_model("man", tiny_data)
    tensors, rng = train.to_device(tiny_data, "cpu"), np.random.default_rng(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train.train_epoch(model, optimizer, tiny_data, tensors, ["B"], TCFG, rng)
    own = {d: model.domain_parameters(d) for d in ("A", "B")}
    shared = [p for p in model.parameters() if not any(p is q for q in own["A"] + own["B"])]
    b_before, shared_before = [p.detach().clone() for p in own["B"]], [p.detach().clone() for p in shared]
    train.train_epoch(model, optimizer, tiny_data, tensors, ["A"], TCFG, rng)
    assert all(torch.equal(p, q) for p, q in zip(own["B"], b_before))
    assert all(not torch.equal(p, q) for p, q in zip(shared, shared_before))


@pytest.fixture(scope="module")
def man_run(tiny_data):
    return train.train_and_test("man", tiny_data, TCFG)


def test_training_lowers_the_loss_of_both_domains(man_run):
    history = man_run[1].fit.history
    for d in ("A", "B"):
        assert history[-1]["train_loss"][d] < 0.9 * history[0]["train_loss"][d]


def test_test_metrics_are_in_range_and_better_than_random(man_run):
    results = man_run[1].results
    random_mrr = np.mean(1 / np.arange(1, 11))  # 1 positive among 1 + 9 candidates in random order: 0.293
    for d in ("A", "B"):
        r = results[d]
        assert all(0.0 <= r[m] <= 1.0 for m in train.METRICS)
        assert r["auc"] > 0.6 and r["gauc"] > 0.6 and r["mrr"] > random_mrr + 0.05


def test_each_domain_is_tested_with_its_own_best_validation_epoch(man_run, tiny_data):
    model, run = man_run
    for d in ("A", "B"):
        curve = [h["valid"][d]["gauc"] for h in run.fit.history]
        assert run.fit.best_epoch[d] == 1 + int(np.argmax(curve))
        model.load_state_dict(run.fit.best_state[d])
        tensors = train.to_device(tiny_data, "cpu")
        again = train.evaluate(model, d, tiny_data.domains[d].valid, tensors[d]["valid"])["gauc"]
        assert again == pytest.approx(run.fit.best_valid[d], abs=1e-12)


def test_full_ranking_of_a_fixed_subset_of_test_histories(man_run, tiny_data):
    model, run = man_run
    tensors = train.to_device(tiny_data, "cpu")
    some = train.test(model, tiny_data, tensors, run.fit.best_state, full_ranking=5)
    none = train.test(model, tiny_data, tensors, run.fit.best_state, full_ranking=0)
    for d in ("A", "B"):
        split = tiny_data.domains[d].test
        rows = train.full_ranking_rows(len(split.target), 5)
        assert len(set(rows.tolist())) == 5 and (rows == train.full_ranking_rows(len(split.target), 5)).all()
        assert (train.full_ranking_rows(len(split.target), 10**6) == np.arange(len(split.target))).all()
        model.load_state_dict(run.fit.best_state[d])
        every = train.full_ranks(model, d, split, tensors[d]["test"], chunk=7)
        subset = train.full_ranks(model, d, split, tensors[d]["test"], chunk=3, rows=rows)
        assert (subset == every[rows]).all()
        assert some[d]["hr@10_full"] == metrics.full_ranking_metrics(subset)["hr@10_full"]
        assert all(some[d][m] == none[d][m] == run.results[d][m] for m in train.SAMPLED)  # sampled: unchanged
        assert all(math.isnan(none[d][m]) for m in train.FULL)


def test_metrics_by_history_length_partition_the_test_rows(man_run, tiny_data):
    model, run = man_run
    split = tiny_data.domains["A"].test
    buckets = run.results["A"]["by_history_length"]
    length = (split.hist > 0).sum(1)
    assert [b["n"] for b in buckets.values()] == [int(((length >= lo) & (length <= (hi or 99))).sum())
                                                  for lo, hi in train.HISTORY_BUCKETS]
    model.load_state_dict(run.fit.best_state["A"])
    scores = train.candidate_scores(model, "A", train.to_device(tiny_data, "cpu")["A"]["test"], 64)
    short = (length >= 3) & (length <= 5)
    assert buckets["3-5"]["auc"] == pytest.approx(metrics.sampled_metrics(scores[short], split.user[short])["auc"])


def test_same_seed_gives_the_same_numbers_and_another_seed_does_not(tiny_data, man_run):
    cfg = replace(TCFG, epochs=1)
    first = train.train_and_test("single", tiny_data, cfg)[1].results
    assert train.train_and_test("single", tiny_data, cfg)[1].results == first
    assert train.train_and_test("single", tiny_data, replace(cfg, seed=1))[1].results != first


def test_early_stopping_stops_a_domain_patience_epochs_after_its_best(tiny_data):
    run = train.train_and_test("single", tiny_data, replace(TCFG, epochs=6, patience=1, lr=1e-1, plateau_margin=0))[1]
    for d in ("A", "B"):
        trained = [h["epoch"] for h in run.fit.history if d in h["valid"]]
        curve = [h["valid"][d]["gauc"] for h in run.fit.history if d in h["valid"]]
        assert all(g <= run.fit.best_valid[d] for g in curve)
        assert trained[-1] == 6 or trained[-1] == run.fit.best_epoch[d] + 1


def test_no_early_stop_while_a_domain_is_within_the_margin_of_popularity(tiny_data):
    """A margin of 1 keeps every domain "on the plateau" (no score exceeds popularity's + 1): patience never acts."""
    run = train.train_and_test("single", tiny_data, replace(TCFG, epochs=4, patience=1, lr=1e-1, plateau_margin=1.0))[1]
    assert run.fit.last_epoch == {"A": 4, "B": 4}
    tensors = train.to_device(tiny_data, "cpu")
    pop = train.build_model("pop", tiny_data)
    for d in ("A", "B"):  # the plateau's level is the popularity scorer's validation score
        expected = train.evaluate(pop, d, tiny_data.domains[d].valid, tensors[d]["valid"])["gauc"]
        assert train.popularity_valid(tiny_data, tensors, d, "gauc", 64) == expected


def test_warmup_raises_the_learning_rate_linearly_then_holds_it():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([p], lr=0.5)
    sched = train.warmup(opt, 4)
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.125, 0.25, 0.375, 0.5, 0.5, 0.5])
    assert train.warmup(opt, 0) is None


def test_weight_decay_shrinks_updated_parameters_by_lr_times_decay_and_skips_the_rest():
    """AdamW's decoupled decay: a parameter with a zero gradient (Adam's step is then 0) is multiplied by
    (1 - lr * weight_decay); one whose gradient is None (the other domain's) does not move; 0 = plain Adam."""
    a, b = torch.nn.Parameter(torch.full((3,), 2.0)), torch.nn.Parameter(torch.full((3,), 2.0))
    opt = train.make_optimizer([a, b], replace(TCFG, lr=0.1, weight_decay=0.5))
    a.grad = torch.zeros(3)  # b.grad stays None
    opt.step()
    assert torch.allclose(a, torch.full((3,), 2.0 * (1 - 0.1 * 0.5))) and torch.equal(b, torch.full((3,), 2.0))
    assert type(train.make_optimizer([a], TCFG)) is torch.optim.Adam
    with pytest.raises(ValueError, match="weight decay"):
        replace(TCFG, weight_decay=-1.0)


def test_a_grid_run_equals_one_run_per_setting_and_keeps_the_better_validation_score(tiny_data):
    """What `compare.grid` and README's grid tables rely on: training is deterministic per seed, so a grid run's
    curves are those of separate runs, and per domain it keeps the setting with the better validation score."""
    tcfg = replace(TCFG, epochs=2)
    _, grid = train.train_and_test("single", tiny_data, tcfg, weight_decays=[0.0, 1.0])
    alone = {wd: train.train_and_test("single", tiny_data, replace(tcfg, weight_decay=wd))[1] for wd in (0.0, 1.0)}
    numbers = lambda curve: [{k: v for k, v in e.items() if k != "seconds"} for e in curve]  # all but the timing
    for wd, run in alone.items():
        assert numbers(grid.curves[tcfg.lr, wd]) == numbers(run.curves[tcfg.lr, wd])
    for d in ("A", "B"):
        best = max(alone, key=lambda wd: alone[wd].fit.best_valid[d])
        assert grid.weight_decay[d] == best and grid.results[d] == alone[best].results[d]


def test_a_domain_without_training_data_is_skipped_and_reported_as_nan(tiny_data):
    """Sec. 3.3.2 Discussion: without input from a domain, its objective is simply left out."""
    b = tiny_data.domains["B"]
    empty = mdata.Split(b.train.user[:0], b.train.hist[:0], b.train.target[:0], None)
    data = replace(tiny_data, domains={"A": tiny_data.domains["A"], "B": replace(b, train=empty)})
    torch.manual_seed(0)
    model = train.build_model("single", data)
    b_before = [p.detach().clone() for p in model.domain_parameters("B")]
    res = train.fit(model, data, train.to_device(data, "cpu"), replace(TCFG, epochs=1))
    assert res.best_epoch["B"] is None and "B" not in res.history[0]["train_loss"]
    assert all(torch.equal(p, q) for p, q in zip(model.domain_parameters("B"), b_before))
    results = train.test(model, data, train.to_device(data, "cpu"), res.best_state)
    assert all(math.isnan(results["B"][m]) for m in train.METRICS)
    assert not any(math.isnan(results["A"][m]) for m in train.METRICS)
    assert sum(b["n"] for b in results["A"]["by_history_length"].values()) == len(data.domains["A"].test.target)


def test_patience_scope_both_counts_from_the_last_improvement_of_either_domain(tiny_data):
    cfg = replace(TCFG, epochs=6, patience=1, lr=1e-1, plateau_margin=0, patience_scope="both")
    run = train.train_and_test("single", tiny_data, cfg)[1]
    last, best = run.fit.last_epoch, run.fit.best_epoch
    assert last["A"] == last["B"]  # one clock for both: they stop in the same epoch
    assert last["A"] == 6 or last["A"] == max(best.values()) + 1
    with pytest.raises(ValueError, match="patience scope"):
        replace(TCFG, patience_scope="global")


def test_the_stopping_rule_by_hand_for_both_patience_scopes():
    """B's best epoch 2, A's 6, patience 3, at epoch 7: B alone stops with `domain`; with `both` A's recent
    improvement keeps B going; a domain on the plateau (GAUC <= floor) never stops."""
    best, gauc, floor = {"A": 6, "B": 2}, {"A": 0.8, "B": 0.7}, {"A": 0.6, "B": 0.6}
    cfg = replace(TCFG, patience=3)
    assert train.still_training(["A", "B"], 7, best, gauc, floor, cfg) == ["A"]
    assert train.still_training(["A", "B"], 7, best, gauc, floor, replace(cfg, patience_scope="both")) == ["A", "B"]
    assert train.still_training(["A", "B"], 9, best, gauc, floor, replace(cfg, patience_scope="both")) == []
    assert train.still_training(["A", "B"], 7, best, {"A": 0.8, "B": 0.6}, floor, cfg) == ["A", "B"]
    assert train.still_training(["A", "B"], 50, best, gauc, floor, replace(cfg, patience=0)) == ["A", "B"]
