"""Eq. (13) and (16)-(18): disentanglement, likelihood, and the per-domain objective."""
import math

import pytest
import torch

from tiny import make_batch, make_model
from mini_man.losses import disentanglement_loss, domain_objective, l2_penalty, likelihood_loss


def double_loop(G, lam):
    N = len(G)
    return -lam * sum(((G[i] - G[j]) ** 2).sum() for i in range(N) for j in range(i + 1, N))


def test_eq13_printed_form_equals_the_double_sum():
    G = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(disentanglement_loss(G, 0.1, "printed"), double_loop(G, 0.1), atol=1e-5)


def test_eq13_bounded_form_is_the_double_sum_on_unit_rows():
    G = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    G_hat = G / G.norm(dim=1, keepdim=True)
    assert torch.allclose(disentanglement_loss(G, 0.1, "bounded"), double_loop(G_hat, 0.1), atol=1e-5)


def test_eq13_printed_form_is_unbounded_below_and_bounded_form_is_not():
    G = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    printed = [disentanglement_loss(s * G, 1.0, "printed").item() for s in (1, 10, 100)]
    assert printed[1] == pytest.approx(100 * printed[0], rel=1e-4)
    assert printed[2] == pytest.approx(10000 * printed[0], rel=1e-4)
    bounded = [disentanglement_loss(s * G, 1.0, "bounded").item() for s in (1, 10, 100)]
    assert bounded == pytest.approx([bounded[0]] * 3, rel=1e-4)
    assert -5 ** 2 <= bounded[0] <= 0


def test_eq16_bce_against_a_hand_computation():
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected = -(math.log(sig(2.0)) + math.log(1 - sig(-1.0)) + math.log(1 - sig(0.5))) / 3
    assert likelihood_loss(logits, "bce").item() == pytest.approx(expected, rel=1e-6)


def test_softmax_loss_is_cross_entropy_of_the_positive():
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    e = [math.exp(x) for x in (2.0, -1.0, 0.5)]
    expected = (-math.log(e[0] / sum(e)) + math.log(3)) / 2
    assert likelihood_loss(logits, "softmax").item() == pytest.approx(expected, rel=1e-6)


def test_eq18_objective_adds_l2_of_own_parameters_and_disentanglement():
    m = make_model(lambda_l2=1e-3)
    hist, cand = make_batch("A")
    logits = m("A", hist, cand)
    own = m.domain_parameters("A")
    G = m.prototypes["A"].G
    expected = likelihood_loss(logits) + m.cfg.lambda_l2 * sum((p ** 2).sum() for p in own) \
        + disentanglement_loss(G, m.cfg.lambda_g)
    assert torch.allclose(m.objective("A", logits), expected)
    assert torch.allclose(domain_objective(logits, None, [], 0.0, 1.0), likelihood_loss(logits))
    assert torch.allclose(l2_penalty([torch.ones(2, 2)]), torch.tensor(4.0))


def test_l2_covers_only_the_domains_own_parameters():
    m = make_model()
    A = {id(p) for p in m.domain_parameters("A")}
    B = {id(p) for p in m.domain_parameters("B")}
    shared = {id(p) for p in list(m.emb_g["A"].parameters()) + list(m.enc_g["A"].parameters())} | {id(m.prototypes["A"].G)}
    assert A and B and not A & B and not (A | B) & shared
    assert id(m.emb["A"].M.weight) in A and id(m.gpa["B"].W_P) in B
