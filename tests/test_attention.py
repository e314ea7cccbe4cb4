"""Eq. (5)-(12): item similarity, sequence-fusion and group-prototype attention."""
import math

import torch

from tiny import make_batch, make_model
from mini_man.attention import (CrossAttention, GroupPrototypeAttention, ItemSimilarityAttention,
                                SequenceFusionAttention, atten)
from mini_man.config import MANConfig
from mini_man.layers import NEG_INF

CFG = MANConfig(max_len=6, num_groups=3)


def seqs(seed=0, B=3, T=6, D=20):
    g = torch.Generator().manual_seed(seed)
    S, S_g = torch.randn(B, T, D, generator=g), torch.randn(B, T, D, generator=g)
    mask = torch.ones(B, T, dtype=torch.bool)
    mask[1, :2] = False
    mask[2, :5] = False
    S, S_g = S * mask.unsqueeze(-1), S_g * mask.unsqueeze(-1)
    return S, S_g, mask


def with_garbage(x, mask):
    y = x.clone()
    y[~mask] = 50.0 * torch.randn(int((~mask).sum()), x.shape[-1])
    return y


def test_eq9_atten_matches_an_explicit_softmax():
    g = torch.Generator().manual_seed(1)
    Q, K, V = (torch.randn(1, 2, 4, generator=g) for _ in range(3))
    mask = torch.tensor([[True, True]])
    out = atten(Q, K, V, mask)
    for n in range(2):
        s = [(Q[0, n] @ K[0, j]).item() / math.sqrt(4) for j in range(2)]
        w = [math.exp(x) / sum(math.exp(y) for y in s) for x in s]
        assert torch.allclose(out[0, n], w[0] * V[0, 0] + w[1] * V[0, 1], atol=1e-6)


def test_eq9_padded_keys_get_no_weight():
    g = torch.Generator().manual_seed(2)
    Q, K, V = (torch.randn(1, 3, 4, generator=g) for _ in range(3))
    mask = torch.tensor([[False, True, True]])
    out = atten(Q, K, V, mask)
    V2 = V.clone()
    V2[0, 0] = 1e3
    assert torch.allclose(out, atten(Q, K, V2, mask))


def test_eq8_cross_attention_projects_queries_keys_values():
    torch.manual_seed(0)
    ca = CrossAttention(20)
    S, S_g, mask = seqs()
    expected = atten(S @ ca.W_Q.weight.T, S_g @ ca.W_K.weight.T, S_g @ ca.W_V.weight.T, mask)
    assert torch.allclose(ca(S, S_g, mask), expected, atol=1e-6)


def test_eq5_eq6_isa_against_a_hand_computation():
    torch.manual_seed(0)
    isa = ItemSimilarityAttention(CFG)
    E, E_g, mask = seqs()
    M_t = torch.randn(3, 2, 20)  # 2 candidates
    e, alpha = isa(M_t, E, E_g, mask)
    assert e.shape == (3, 2, 20) and alpha.shape == (3, 2, 6)
    b, c = 1, 1
    H = E[b] + E_g[b]
    F = torch.stack([isa.mlp(torch.cat([M_t[b, c], H[t]])) for t in range(6)]).squeeze(-1)  # Eq. (5)
    w = torch.softmax(F[mask[b]], 0)
    assert torch.allclose(alpha[b, c, mask[b]], w, atol=1e-6)
    assert (alpha[b, c, ~mask[b]] == 0).all()
    assert torch.allclose(e[b, c], (w.unsqueeze(-1) * H[mask[b]]).sum(0), atol=1e-5)  # Eq. (6), summed


def test_isa_padded_positions_do_not_change_output():
    torch.manual_seed(0)
    isa = ItemSimilarityAttention(CFG)
    E, E_g, mask = seqs()
    M_t = torch.randn(3, 2, 20)
    e1, _ = isa(M_t, E, E_g, mask)
    e2, _ = isa(M_t, with_garbage(E, mask), with_garbage(E_g, mask), mask)
    assert torch.allclose(e1, e2, atol=1e-5)


def test_isa_skipping_padded_pairs_gives_the_same_scores_and_gradients():
    """The CPU path (pairs with a padded position left out) and the GPU path (every pair scored) agree."""
    torch.manual_seed(0)
    isa = ItemSimilarityAttention(CFG)
    E, E_g, mask = seqs()
    mask[0, :] = False  # a history with no item at all
    M_t = torch.randn(3, 4, 20)
    results = []
    for skip in (True, False):
        isa.zero_grad()
        M = M_t.clone().requires_grad_(True)
        F = isa.scores(M, E + E_g, mask, skip_padding=skip)  # (B, C, T)
        (F.masked_fill(~mask.unsqueeze(1), 0) * torch.arange(6.0)).sum().backward()
        results.append((F, M.grad, [p.grad.clone() for p in isa.parameters()]))
    (F1, g1, p1), (F2, g2, p2) = results
    assert F1.shape == (3, 4, 6) and (F1[~mask.unsqueeze(1).expand_as(F1)] == NEG_INF).all()
    assert torch.allclose(F1, F2, atol=1e-6) and torch.allclose(g1, g2, atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(p1, p2))


def test_eq7_sfa_formula_and_padding():
    torch.manual_seed(0)
    sfa = SequenceFusionAttention(CFG)
    S, S_g, mask = seqs()
    out = sfa(S, S_g, mask)
    expected = sfa.mlp(sfa.CA(S, S_g, mask) + S) * mask.unsqueeze(-1)
    assert torch.allclose(out, expected, atol=1e-6)
    assert torch.allclose(out, sfa(S, with_garbage(S_g, mask), mask), atol=1e-5)


def test_sfa_stops_gradients_into_both_sequences():
    """Appendix A.3: S^A and S^{A_g} are detached in sequence-fusion attention."""
    torch.manual_seed(0)
    sfa = SequenceFusionAttention(CFG)
    S, S_g, mask = seqs()
    S.requires_grad_(True)
    S_g.requires_grad_(True)
    sfa(S, S_g, mask).sum().backward()
    assert S.grad is None and S_g.grad is None
    assert sfa.CA.W_Q.weight.grad is not None  # its own parameters still learn


def test_eq10_relevance_against_a_hand_computation_and_padding():
    torch.manual_seed(0)
    gpa = GroupPrototypeAttention(CFG)
    S, _, mask = seqs()
    C = gpa.relevance(S, mask)
    assert C.shape == (3, 3)
    b = 1
    pooled = gpa.W_P @ S[b]  # (N_g, D): padded rows of S are zero
    assert torch.allclose(C[b], gpa.mlp_C(pooled).squeeze(-1), atol=1e-6)
    assert torch.allclose(C, gpa.relevance(with_garbage(S, mask), mask), atol=1e-5)


def test_eq11_eq12_group_prototypes_and_weights():
    torch.manual_seed(0)
    gpa = GroupPrototypeAttention(CFG)
    S, _, mask = seqs()
    G = torch.randn(3, 20)
    g_u, w = gpa(G, S, mask)
    assert g_u.shape == (3, 20) and w.shape == (3, 3)
    assert torch.allclose(w.sum(-1), torch.ones(3))
    G_X = gpa.mlp_G(gpa.CA(G, S, mask))  # Eq. (11)
    expected = (torch.softmax(gpa.relevance(S, mask), -1).unsqueeze(-1) * G_X).sum(1)  # Eq. (12) + pooling
    assert torch.allclose(g_u, expected, atol=1e-6)
    g_u2, _ = gpa(G, with_garbage(S, mask), mask)
    assert torch.allclose(g_u, g_u2, atol=1e-5)


def test_gpa_stops_gradient_into_the_sequence_but_trains_the_prototypes():
    """Appendix A.3: S^A is detached in group-prototype attention; G is not."""
    torch.manual_seed(0)
    gpa = GroupPrototypeAttention(CFG)
    S, _, mask = seqs()
    S.requires_grad_(True)
    G = torch.randn(3, 20, requires_grad=True)
    g_u, _ = gpa(G, S, mask)
    g_u.sum().backward()
    assert S.grad is None
    assert G.grad is not None and G.grad.abs().sum() > 0


def test_model_stop_gradient_keeps_encoder_gradients_from_sfa_and_gpa():
    """With ISA off and only the SFA/GPA path left, the local encoder gets gradient only through s^A."""
    m = make_model("man-no-isa")
    hist, cand = make_batch("A")
    h = m.encode_history("A", hist)
    (h["s_Xs"].sum() + h["g_Xu"].sum()).backward()
    assert all(p.grad is None for p in m.enc["A"].parameters())
    assert all(p.grad is None for p in m.enc_g["A"].parameters())
    assert m.prototypes["A"].G.grad is not None


def test_prototypes_are_shared_by_both_domains(model):
    assert model.prototypes["A"] is model.prototypes["B"]
    assert model.gpa["A"] is not model.gpa["B"]
    assert model.sfa["A"] is not model.sfa["B"] and model.isa["A"] is not model.isa["B"]
