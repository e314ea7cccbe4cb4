"""The assembled model, Eq. (14)-(15), its variants, and the one-pass scoring of 1+K candidates."""
import pytest
import torch

from tiny import make_batch, make_model
from mini_man.config import VARIANTS, variant
from mini_man.layers import MLP, concat_linear


@pytest.mark.parametrize("name", list(VARIANTS))
@pytest.mark.parametrize("domain", ["A", "B"])
def test_every_variant_runs_forward_and_backward_on_both_domains(name, domain):
    m = make_model(name)
    hist, cand = make_batch(domain)
    logits = m(domain, hist, cand)
    assert logits.shape == (4, 5) and torch.isfinite(logits).all()
    m.objective(domain, logits).backward()
    assert any(p.grad is not None for p in m.parameters())


def test_scoring_candidates_together_equals_scoring_them_one_by_one(model):
    hist, cand = make_batch("A", C=6)
    together = model("A", hist, cand)
    alone = torch.cat([model("A", hist, cand[:, c : c + 1]) for c in range(6)], dim=1)
    assert torch.allclose(together, alone, atol=1e-5)


@pytest.mark.parametrize("name", ["man", "single", "shared", "man-no-isa", "man-local"])
@pytest.mark.parametrize("pairs", [1, 28, 10**6])  # one item per chunk, 7 (the last chunk shorter), all at once
def test_score_all_equals_forward_on_every_item(name, pairs):
    model = make_model(name).eval()
    hist, _ = make_batch("B")  # rows with 0, 2, 4, 6 padded positions
    every = torch.arange(20).expand(4, -1)  # (4, 20): every local item of B as a per-history candidate
    assert torch.allclose(model.score_all("B", hist, pairs=pairs), model("B", hist, every), atol=1e-5)


@pytest.mark.parametrize("rows", [1, 5, 10**6])
def test_isa_scores_of_shared_candidates_equal_the_per_history_scores(model, rows):
    isa = model.isa["A"]
    torch.manual_seed(1)
    M_t, H = torch.randn(6, 20), torch.randn(4, 8, 20)  # 6 candidates shared by 4 histories, T = 8, D = 20
    hist, _ = make_batch("A")
    mask = hist > 0
    shared = isa.scores_shared(M_t, H, mask, rows=rows)  # (4, 6, 8)
    with torch.no_grad():
        per_history = isa.scores(M_t.expand(4, 6, 20), H, mask, skip_padding=False)
    assert shared.shape == (4, 6, 8)
    assert torch.allclose(shared, per_history, atol=1e-5)
    assert (shared[0] > -1e8).all() and (shared[1, :, :2] == -1e9).all()  # padding, and only padding, is NEG_INF


def test_after_first_inplace_equals_after_first():
    torch.manual_seed(0)
    mlp = MLP((6, 5, 3, 1))
    x = torch.randn(7, 5)
    with torch.no_grad():
        assert torch.allclose(mlp.after_first_inplace(x.clone()), mlp.after_first(x), atol=1e-6)


def test_concat_linear_equals_linear_of_the_concatenation():
    torch.manual_seed(0)
    layer = torch.nn.Linear(7, 3)
    a, b = torch.randn(2, 1, 4), torch.randn(2, 5, 3)
    full = layer(torch.cat([a.expand(-1, 5, -1), b], dim=-1))
    assert torch.allclose(concat_linear(layer, [a, b]), full, atol=1e-6)


def test_eq14_local_mlp_input_is_the_five_parts_in_order(model):
    hist, cand = make_batch("A")
    h = model.encode_history("A", hist)
    M_t = model.emb_g["A"].target(model.to_global("A", cand), "A")
    e_Ai, _ = model.isa["A"](M_t, h["E_X"], h["E_Xg"], h["mask"])
    C = cand.shape[1]
    x = torch.cat([e_Ai] + [h[k].unsqueeze(1).expand(-1, C, -1) for k in ("s_Xs", "g_Xu", "s_X")]
                  + [model.emb["A"].target(cand, "A")], dim=-1)  # (B, C, 5D)
    x_g = torch.cat([h["s_Xg"].unsqueeze(1).expand(-1, C, -1), M_t], dim=-1)  # (B, C, 2D)
    expected = model.mlp["A"](x).squeeze(-1) + model.mlp_g["A"](x_g).squeeze(-1)
    assert torch.allclose(model("A", hist, cand), expected, atol=1e-5)


def test_padded_positions_do_not_change_any_output(model):
    hist, cand = make_batch("A")
    before = model("A", hist, cand)
    with torch.no_grad():  # write garbage into every padding row
        for emb in (model.emb["A"], model.emb_g["A"]):
            emb.M.weight[0] = 7.0
    assert torch.allclose(before, model("A", hist, cand), atol=1e-5)


def test_a_batch_of_A_touches_only_A_and_shared_parameters(model):
    hist, cand = make_batch("A")
    model.objective("A", model("A", hist, cand)).backward()
    for p in model.domain_parameters("B"):
        assert p.grad is None
    assert model.enc_g["A"].blocks[0].qkv.weight.grad is not None
    assert model.prototypes["A"].G.grad is not None


@pytest.mark.parametrize("name, missing", [("man-no-isa", "isa"), ("man-no-sfa", "sfa"), ("man-no-gpa", "gpa")])
def test_each_ablation_removes_exactly_its_module(name, missing):
    full, ablated = make_model("man"), make_model(name)
    assert not hasattr(ablated, missing)
    removed = sum(p.numel() for p in getattr(full, missing).parameters())
    if missing == "gpa":
        removed += full.prototypes["A"].G.numel()
    D = full.cfg.D
    mlp_inputs = 2 * D * full.cfg.pred_hidden[0]  # one fewer D-wide input to each domain's local MLP
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(full) - n(ablated) == removed + mlp_inputs


def test_baselines_have_one_branch_only():
    single, shared = make_model("single"), make_model("shared")
    assert not hasattr(single, "emb_g") and hasattr(single, "emb")
    assert not hasattr(shared, "emb") and shared.enc_g["A"] is shared.enc_g["B"]
    assert make_model("gru4rec").enc["A"].__class__.__name__ == "GRU4RecEncoder"
    assert make_model("man-gru4rec").enc_g["A"].__class__.__name__ == "GRU4RecEncoder"


def test_gru4rec_reads_the_last_hidden_state_and_man_the_mean():
    """`gru4rec` summarises a history by its last GRU state (GRU4Rec's read-out); MAN's variants keep the paper's
    average pooling; an explicit `pool` overrides either."""
    assert variant("gru4rec").pool == "last" and variant("man-gru4rec").pool == variant("man").pool == "mean"
    assert variant("gru4rec", pool="mean").pool == "mean"
    model = make_model("gru4rec")
    hist, _ = make_batch("A")
    h = model.encode_history("A", hist)
    assert torch.equal(h["s_X"], h["S_X"][:, -1])


def test_same_seed_same_output_and_different_seed_different_output():
    hist, cand = make_batch("A")
    a, b, c = (make_model(seed=s)("A", hist, cand) for s in (0, 0, 1))
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_bad_config_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown model"):
        variant("sasrec++")
    with pytest.raises(ValueError, match="backbone"):
        variant("man", backbone="lstm")
    with pytest.raises(ValueError, match="use_global"):
        variant("single", use_sfa=True)


def test_pooling_averages_over_real_items_only():
    """Eq. (14)-(15) pooling: "average pooling" over the history's items, padding excluded."""
    from mini_man.layers import masked_mean

    S = torch.tensor([[[9.0], [9.0], [1.0], [3.0]]])  # padded rows hold garbage
    mask = torch.tensor([[False, False, True, True]])
    assert masked_mean(S, mask).item() == pytest.approx(2.0)


def test_batch_norm_mlp_normalises_each_hidden_feature_over_all_rows_before_the_relu():
    torch.manual_seed(0)
    mlp = MLP((6, 5, 1), batch_norm=True)
    x = torch.randn(3, 4, 6)  # 12 rows: (B, C, features)
    h = mlp.layers[0](x).reshape(12, 5)
    normed = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-4)  # gamma 1, beta 0 at initialisation
    by_hand = mlp.layers[1](torch.relu(normed)).view(3, 4, 1)
    assert torch.allclose(mlp(x), by_hand, atol=1e-5)
    assert torch.allclose(mlp.norms[0].running_mean, 0.05 * h.mean(0).detach(), atol=1e-6)  # momentum 0.05
    mlp.eval()  # the running statistics, not the batch's
    rm, rv = mlp.norms[0].running_mean, mlp.norms[0].running_var
    by_hand = mlp.layers[1](torch.relu((h - rm) / torch.sqrt(rv + 1e-4))).view(3, 4, 1)
    assert torch.allclose(mlp(x), by_hand, atol=1e-5)


def test_batch_norm_sits_in_the_prediction_mlps_only_with_domain_statistics_for_the_local_ones():
    model = make_model("man", batch_norm=True)
    assert model.mlp["A"].norms is not None and model.mlp_g["A"].norms is not None
    assert model.isa["A"].mlp.norms is None and make_model("man").mlp["A"].norms is None
    before = {k: v.clone() for k, v in model.state_dict().items() if "running_mean" in k}
    hist, cand = make_batch("A")
    model("A", hist, cand).sum().backward()
    changed = {k for k, v in model.state_dict().items() if "running_mean" in k and not torch.equal(v, before[k])}
    assert changed and all(k.startswith(("mlp.A.", "mlp_g.")) for k in changed)  # B's local MLP untouched
    model.eval()
    every = torch.arange(30).expand(4, -1)
    assert torch.allclose(model.score_all("A", hist), model("A", hist, every), atol=1e-5)


def test_batch_norm_needs_the_mlp_head():
    with pytest.raises(ValueError, match="batch_norm"):
        variant("single", batch_norm=True, head="dot")
