"""The baselines that are not MAN with parts switched off: canonical `sasrec` (Kang & McAuley 2018) and `pop`."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tiny import N_ITEMS, make_batch
from mini_man.popularity import Popularity
from mini_man.sasrec import SASRec, SASRecConfig, next_items


def make_sasrec(seed=0, **kw):
    torch.manual_seed(seed)
    return SASRec(SASRecConfig(max_len=8, hidden=12, **kw), N_ITEMS).eval()


@pytest.mark.parametrize("domain", ["A", "B"])
def test_sasrec_forward_shapes_and_backward(domain):
    m = make_sasrec().train()
    hist, cand = make_batch(domain)
    logits = m(domain, hist, cand)
    assert logits.shape == (4, 5) and torch.isfinite(logits).all()
    logits.sum().backward()
    other = "B" if domain == "A" else "A"
    assert all(p.grad is None for p in m.net[other].parameters())  # nothing crosses domains
    assert m.net[domain].item.weight.grad is not None


def test_sasrec_score_is_the_dot_product_of_the_last_position_with_the_shared_item_table():
    m = make_sasrec()
    hist, cand = make_batch("A")
    F_T = m.net["A"].encode(hist)[:, -1]  # (B, d)
    expected = torch.einsum("bd,bcd->bc", F_T, m.net["A"].item.weight[cand])
    assert torch.allclose(m("A", hist, cand), expected, atol=1e-6)
    assert torch.allclose(m.score_all("A", hist)[torch.arange(4)[:, None], cand], expected, atol=1e-5)


SWITCHES = [{}, dict(block="pre-ln"), dict(scale=False), dict(init="man")]  # the reference, then one switch each


@pytest.mark.parametrize("switch", SWITCHES, ids=["reference", "pre-ln", "unscaled", "man-init"])
def test_sasrec_scores_do_not_depend_on_padding(switch):
    """More left padding (a longer T) or garbage in a padded slot's embedding must not change a history's scores."""
    m = make_sasrec(**switch)
    hist, cand = make_batch("A")
    longer = torch.cat([torch.zeros(4, 3, dtype=torch.long), hist[:, 3:]], dim=1)  # rows lose their 3 oldest items
    shorter = hist[:, 3:]  # the same histories without those 3 padded columns
    assert torch.allclose(m("A", longer, cand), m("A", shorter, cand), atol=1e-5)
    with torch.no_grad():
        m.net["A"].item.weight[0] = 5.0  # the padding row: must never reach a real position
    assert torch.allclose(m("A", longer, cand), m("A", shorter, cand), atol=1e-5)


@pytest.mark.parametrize("switch", SWITCHES, ids=["reference", "pre-ln", "unscaled", "man-init"])
def test_sasrec_is_causal_an_item_changes_only_later_positions(switch):
    m = make_sasrec(**switch)
    hist, _ = make_batch("A")
    changed = hist.clone()
    changed[:, 5] = (hist[:, 5] % (N_ITEMS["A"] - 1)) + 1
    a, b = m.net["A"].encode(hist), m.net["A"].encode(changed)
    assert (a[hist == 0] == 0).all()  # padded positions carry nothing
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not torch.allclose(a[:, 5:], b[:, 5:], atol=1e-4)


def test_every_position_loss_equals_scoring_each_prefix_separately():
    """The causal pass is exact: position t's vector is what the model gives the prefix ending at t alone."""
    m = make_sasrec()
    hist, _ = make_batch("A")
    target = torch.tensor([3, 4, 5, 6])
    pos = next_items(hist, target)  # (B, T)
    g = torch.Generator().manual_seed(1)
    neg = torch.randint(1, N_ITEMS["A"], pos.shape, generator=g)
    losses = []
    T = hist.shape[1]
    for t in range(T):  # the prefix ending at position t, right-aligned again (padding on the left)
        prefix = torch.cat([torch.zeros(4, T - 1 - t, dtype=torch.long), hist[:, : t + 1]], dim=1)
        real = pos[:, t] > 0
        if not real.any():
            continue
        both = torch.stack([pos[real, t], neg[real, t]], dim=1)  # (R, 2)
        logits = m("A", prefix[real], both)
        losses.append(F.binary_cross_entropy_with_logits(logits, torch.tensor([[1.0, 0.0]]).expand_as(logits),
                                                         reduction="none").sum(1))
    expected = torch.cat(losses).mean()
    assert torch.allclose(m.sequence_loss("A", hist, pos, neg.unsqueeze(-1)), expected, atol=1e-5)  # K = 1


def test_next_items_shifts_left_and_predicts_nothing_from_padding():
    hist = torch.tensor([[0, 0, 7, 8], [1, 2, 3, 4]])
    assert next_items(hist, torch.tensor([9, 5])).tolist() == [[0, 0, 8, 9], [2, 3, 4, 5]]


def test_sasrec_config_rejects_impossible_sizes():
    with pytest.raises(ValueError, match="divisible"):
        SASRecConfig(hidden=10, n_heads=3)
    with pytest.raises(ValueError, match="dropout"):
        SASRecConfig(dropout=1.0)


def test_popularity_scores_log_counts_and_ignores_the_history():
    counts = {"A": np.array([0, 5, 0, 2]), "B": np.array([0, 1, 1])}
    pop = Popularity(counts)
    cand = torch.tensor([[1, 2, 3], [3, 1, 2]])
    out = pop("A", torch.tensor([[0, 1], [2, 3]]), cand)
    assert torch.allclose(out, torch.log1p(torch.tensor([[5.0, 0, 2], [2, 5, 0]])))
    assert torch.equal(pop("A", torch.tensor([[3, 3], [0, 1]]), cand), out)
    assert pop.score_all("B", torch.zeros(2, 4, dtype=torch.long)).shape == (2, 3)
    assert not any(p.requires_grad for p in pop.parameters())


@pytest.mark.parametrize("switch", SWITCHES[1:], ids=["pre-ln", "unscaled", "man-init"])
def test_each_factorial_switch_changes_the_model(switch):
    hist, cand = make_batch("A")
    assert not torch.allclose(make_sasrec()("A", hist, cand), make_sasrec(**switch)("A", hist, cand), atol=1e-4)


def test_man_init_draws_the_tables_xavier_uniform_and_keeps_padding_zero():
    m = make_sasrec(init="man")
    item = m.net["A"].item.weight
    bound = (6 / sum(item.shape)) ** 0.5  # Xavier uniform's bound
    assert item.abs().max() <= bound and (item[0] == 0).all() and (m.net["A"].pos.weight[0] == 0).all()


@pytest.mark.parametrize("bad", [dict(block="post"), dict(init="kaiming")])
def test_sasrec_config_rejects_unknown_switches(bad):
    with pytest.raises(ValueError, match="block must be one of"):
        SASRecConfig(**bad)
