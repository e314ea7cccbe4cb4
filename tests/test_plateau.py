"""mini_man.plateau: the interaction share of a ranking and the regimes of a prediction MLP's ReLU units."""
import copy

import numpy as np
import pytest
import torch

from tiny import make_batch, make_model
from mini_man import plateau, train
from mini_man.analysis import TOY_FIT, fit_and_test, toy
from mini_man.sample import reference_scores


class Additive(torch.nn.Module):
    """logit = a(history) + b(item): ranks every list alike."""

    def forward(self, domain, hist, cand):
        return hist.float().sum(1, keepdim=True) + cand.float() ** 2


class Product(Additive):
    """logit = a(history) * b(item): the ranking flips with the sign of a."""

    def forward(self, domain, hist, cand):
        return (hist.float().sum(1, keepdim=True) - 40) * cand.float()


def test_interaction_share_is_zero_for_an_additive_model_and_large_for_a_product():
    hist, _ = make_batch("A")
    items = torch.arange(1, 10)
    assert plateau.interaction_share(Additive(), "A", hist, items) == pytest.approx(0.0, abs=1e-12)
    assert plateau.interaction_share(Product(), "A", hist, items) > 0.5


def test_relu_regimes_partition_the_units_and_see_a_dead_and_an_always_on_unit():
    model = make_model("single")
    mlp = model.mlp["A"]
    with torch.no_grad():
        mlp.layers[0].bias[0] = -1e6  # unit 0 off for every input
        mlp.layers[0].bias[1] = 1e6  # unit 1 on for every input
    hist, cand = make_batch("A")
    r = plateau.relu_regimes(model, mlp, "A", hist, cand)
    H = mlp.layers[0].out_features
    assert r["dead"] + r["always on"] + r["switching"] == pytest.approx(1.0)
    assert r["dead"] >= 1 / H and r["always on"] >= 1 / H
    assert not mlp.layers[1]._forward_hooks  # the hook is removed


@pytest.mark.parametrize("name", ["single", "man"])
def test_the_recipe_leaves_the_popularity_plateau_on_a_tiny_generated_set(name):
    """End to end, seconds: the recipe (warm-up, lr 3e-3; `analysis.TOY_FIT` is it with a 100-step warm-up and at
    most 60 epochs) takes `single` and `man` off the plateau in the toy's domain A, where popularity is flat (AUC ~0.5) and
    only the planted kinds can be learned. Without the recipe's fix, models sit on the plateau for many epochs
    (notebook 08a); here both must be far above popularity on the test set."""
    data, made = toy(premise=True)
    _, fit, results = fit_and_test(name, data, train.to_device(data, "cpu"), TOY_FIT)
    popularity = reference_scores(data, made.user_groups, made.item_kinds)["popularity"]["A"]["auc"]
    assert results["A"]["auc"] > popularity + 0.15, (results["A"]["auc"], popularity)


def _curve(gauc, loss):
    """A per-epoch curve of domain B, as `FitResult.history` writes it."""
    return [{"epoch": i + 1, "train_loss": {"B": l}, "valid": {"B": {"gauc": g}}}
            for i, (g, l) in enumerate(zip(gauc, loss))]


def test_plateau_exit_by_hand():
    # epoch 1 fits popularity; on the plateau (epochs 2-4) the loss falls 0.30 -> 0.27; it leaves at epoch 5
    c = _curve([0.51, 0.52, 0.52, 0.53, 0.70, 0.75], [0.50, 0.30, 0.28, 0.27, 0.24, 0.22])
    assert plateau.plateau_exit(c, "B", left=0.55) == {"left_at": 5, "loss_fall": pytest.approx(0.03),
                                                       "best_valid": 0.75}
    never = plateau.plateau_exit(c[:4], "B", left=0.55)
    assert never["left_at"] is None and never["loss_fall"] == pytest.approx(0.03)  # on the plateau to the end
    assert plateau.plateau_exit(_curve([0.6], [0.5]), "B", left=0.55)["loss_fall"] == 0.0  # left in epoch 1
    with pytest.raises(ValueError, match="domain 'A'"):
        plateau.plateau_exit(c, "A", left=0.55)


def toy_probe(data) -> plateau.Probe:
    """A probe of the toy's domain B: 20 validation rows, 10 items, 64 training histories with 5 random items."""
    B, st = data.domains["B"], train.to_device(data, "cpu")["B"]
    gen = torch.Generator().manual_seed(0)
    return plateau.Probe(hist=st["valid"].hist[:20], cand=st["valid"].cand[:20],
                         items=torch.arange(1, min(B.n_items, 11)), g_hist=st["train"].hist[:64],
                         g_cand=torch.randint(1, B.n_items, (64, 5), generator=gen))


def test_train_with_diagnostics_gives_one_row_per_epoch_with_each_measurement_in_its_range():
    """`train_with_diagnostics` on the toy's domain B: epoch 0 (initialisation) and every epoch. (That a worker of
    `parallel.call_all` gives the numbers of this process, as notebook 08a relies on, nbval checks there.)"""
    data, _ = toy(premise=True)
    here = plateau.train_with_diagnostics("single", data, train.TrainConfig(n_neg=4), "B", 2, toy_probe(data))
    assert [row["epoch"] for row in here] == [0, 1, 2]
    for row in here:
        assert row["dead"] + row["always on"] + row["switching"] == pytest.approx(1.0)
        assert 0 <= row["interaction share"] <= 1 and row["spread of s"] >= 0 and row["encoder gradient"] > 0
        assert 0 <= row["valid GAUC"] <= 1
    assert here[0]["valid GAUC"] != here[2]["valid GAUC"]  # it trained


def test_the_diagnostics_leave_the_training_as_it_is_without_them():
    """The curve notebook 08a reads is plain training's: the same loop without `diagnose` in it (which runs a
    backward pass of its own, then clears it), each epoch's model diagnosed on a copy, gives every measurement of
    every epoch to the last bit."""
    data, _ = toy(premise=True)
    tcfg, probe = train.TrainConfig(n_neg=4), toy_probe(data)
    rows = plateau.train_with_diagnostics("single", data, tcfg, "B", 2, probe)
    tensors = train.to_device(data, "cpu")
    torch.manual_seed(tcfg.seed)
    model = train.build_model("single", data, "cpu")
    optimizer = train.make_optimizer(model.parameters(), tcfg)
    scheduler, rng = train.warmup(optimizer, tcfg.warmup_steps), np.random.default_rng(tcfg.seed)
    for epoch in (1, 2):
        train.train_epoch(model, optimizer, data, tensors, ["B"], tcfg, rng, scheduler=scheduler)
        plain = plateau.diagnose(copy.deepcopy(model), data, tensors, "B", probe)
        assert {"epoch": epoch, **plain} == rows[epoch]
