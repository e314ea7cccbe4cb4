"""mini_man.analysis: the helpers of notebooks 08-10 (fast training, planted-group comparisons)."""
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mini_man import analysis, sample, train
from mini_man import data as mdata
from test_train import TINY


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny sample prepared with the notebooks' T, and its planted user groups."""
    s = sample.generate(**TINY)
    folder = tmp_path_factory.mktemp("analysis")
    s.write(folder)
    data = mdata.prepare(folder / sample.FILES[0], folder / sample.FILES[1], max_len=analysis.T, kcore=3)
    return data, s.user_groups


def test_latest_histories_give_each_user_the_history_before_their_last_item(tiny):
    data, _ = tiny
    d = data.domains["A"]
    users, hist = analysis.latest_histories(d)
    all_users = np.concatenate([d.train.user, d.valid.user, d.test.user])
    assert sorted(users.tolist()) == sorted(set(all_users.tolist())) and hist.shape == (len(users), analysis.T)
    u = users[0]  # its latest history is the one of its last instance, in time order train -> valid -> test
    rows = [s.hist[s.user == u] for s in (d.train, d.valid, d.test) if (s.user == u).any()]
    assert (hist[0] == rows[-1][-1]).all()


def test_planted_groups_are_looked_up_by_raw_user_id_and_missing_ones_are_an_error(tiny):
    data, truth = tiny
    d = data.domains["B"]
    users, _ = analysis.latest_histories(d)
    groups = analysis.planted_groups(d, users, truth)
    table = truth[truth["domain"] == "B"].set_index("user")["group"]
    assert groups.tolist() == [int(table[d.users[u]]) for u in users]
    with pytest.raises(ValueError, match="no planted group"):
        analysis.planted_groups(d, users, truth[truth["domain"] == "A"])


def test_nearest_a_group_assigns_each_b_user_to_the_nearest_centred_a_centroid():
    rep_A = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 2.0]])  # groups 0 and 1 at x = 0 and x = 10
    groups_A = np.array([0, 0, 1, 1])
    rep_B = np.array([[100.0, 5.0], [110.0, 5.0], [101.0, 5.0]])  # centred: -3.67, 6.33, -2.67
    assert analysis.nearest_A_group(rep_A, groups_A, rep_B).tolist() == [0, 1, 0]


def test_nmi_is_1_for_a_relabelling_and_0_for_independent_labels():
    assert analysis.nmi([0, 0, 1, 1], [1, 1, 0, 0]) == pytest.approx(1.0)
    assert analysis.nmi([0, 1, 0, 1], [0, 0, 1, 1]) == pytest.approx(0.0, abs=1e-12)


def test_fit_and_test_returns_the_last_weights_and_sampled_metrics_only(tiny):
    data, _ = tiny
    tensors = train.to_device(data, "cpu")
    tcfg = replace(analysis.FAST, epochs=2)
    model, fit, results = analysis.fit_and_test("man", data, tensors, tcfg)
    assert model.cfg.n_blocks == analysis.OVERRIDES["n_blocks"] and len(fit.history) == 2
    for d in ("A", "B"):
        assert all(0 <= results[d][m] <= 1 for m in train.SAMPLED)
        assert all(math.isnan(results[d][m]) for m in train.FULL)
    torch.manual_seed(tcfg.seed)  # the same run again, to see which weights the first one returned
    again = train.build_model("man", data, "cpu", **analysis.OVERRIDES)
    train.fit(again, data, tensors, tcfg)
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), again.state_dict().values()))
    reps = analysis.representations(model, "A", data.domains["A"].test.hist[:7])
    assert reps["g_Xu"].shape == (7, model.cfg.D) and isinstance(reps["s_Xg"], np.ndarray)


def test_fit_and_test_restores_the_last_weights_after_testing_with_the_best_ones(tiny, monkeypatch):
    """In the tiny run both best epochs are the last one, so the test above cannot see a missing restore: here
    `train.test` is replaced by one that leaves other weights in the model, as loading an earlier best state does."""
    data, _ = tiny
    tensors = train.to_device(data, "cpu")
    tcfg = replace(analysis.FAST, epochs=1)

    def test_with_other_weights(model, *args, **kwargs):
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
        return {}

    monkeypatch.setattr(train, "test", test_with_other_weights)
    model, _, _ = analysis.fit_and_test("single", data, tensors, tcfg)
    assert any(p.abs().sum() > 0 for p in model.parameters())
    torch.manual_seed(tcfg.seed)
    again = train.build_model("single", data, "cpu", **analysis.OVERRIDES)
    train.fit(again, data, tensors, tcfg)
    assert all(torch.equal(p, q) for p, q in zip(model.state_dict().values(), again.state_dict().values()))


def test_fast_config_is_the_recipe_made_fast_and_keeps_each_models_own_optimizer():
    recipe = train.TrainConfig()
    fast = analysis.fast_config("man")
    assert (fast.lr, fast.warmup_steps, fast.plateau_margin) == (recipe.lr, recipe.warmup_steps, recipe.plateau_margin)
    # shorter in what each epoch costs and how soon it stops, not in the budget: every model trains to convergence
    assert 0 < fast.patience < recipe.patience and fast.n_neg < recipe.n_neg and fast.epochs == recipe.epochs
    sasrec = analysis.fast_config("sasrec")
    assert (sasrec.lr, sasrec.betas, sasrec.warmup_steps) == (1e-3, (0.9, 0.98), 0) and sasrec.epochs == fast.epochs
    assert analysis.overrides("pop") == {} and analysis.overrides("man", num_groups=3) == {"n_blocks": 1, "num_groups": 3}


def test_toy_shares_every_B_item_with_A_and_only_the_premise_ties_their_kinds():
    for premise in (True, False):
        data, made = analysis.toy(premise=premise)
        A, B = data.domains["A"], data.domains["B"]
        assert np.isin(B.global_ids[1:], A.global_ids[1:]).all()  # every B item is also an A item
        assert np.median((B.test.hist > 0).sum(1)) <= 2 and A.train.hist.shape[1] == analysis.T  # B: short histories
        kinds = made.item_kinds.pivot(index="item", columns="domain", values="kind").dropna()
        same = (kinds["A"] == kinds["B"]).mean()
        assert same == 1.0 if premise else same < 0.6  # off: random kinds (3 kinds: ~1/3 agree by chance)
