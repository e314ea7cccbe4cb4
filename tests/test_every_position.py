"""The every-position objective of the MAN family (`mini_man.every_position`, models `*-ep`) and the dot head."""
import pytest
import torch

from tiny import N_GLOBAL, N_ITEMS, global_ids, make_batch, make_model
from mini_man import train
from mini_man.config import variant
from mini_man.model import MAN, dot_logit
from mini_man.sasrec import next_items

EP = ["man-ep", "man-local-ep", "single-ep"]
HEADS = ["mlp", "dot"]


def sequences(domain="A", K=3, T=8):
    """Sequences (4, T) with 0, 2, 4, 6 padded positions, their next items (4, T) and K negatives (4, T, K)."""
    hist, _ = make_batch(domain, T=T)
    g = torch.Generator().manual_seed(1)
    pos = next_items(hist, torch.randint(1, N_ITEMS[domain], (4,), generator=g))  # (4, T)
    return hist, pos, torch.randint(1, N_ITEMS[domain], (*pos.shape, K), generator=g)


def alone(hist, b, t):
    """The prefix of row b ending at position t as a history of its own: its items, left-padded to T."""
    T = hist.shape[1]
    return torch.cat([torch.zeros(T - 1 - t, dtype=torch.long), hist[b, : t + 1]]).unsqueeze(0)  # (1, T)


def each_prefix_alone(m, domain, hist, pos, neg):
    """(N, 1 + K) logits of every real target, each prefix scored on its own by `forward`, row-major."""
    rows = [(b, t) for b in range(len(hist)) for t in range(hist.shape[1]) if pos[b, t] > 0]
    return torch.cat([m(domain, alone(hist, b, t), torch.cat([pos[b, t : t + 1], neg[b, t]]).unsqueeze(0))
                      for b, t in rows])


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("name", EP)
@pytest.mark.parametrize("domain", ["A", "B"])
def test_causal_pass_gives_the_logits_and_loss_of_scoring_each_prefix_alone(name, head, domain):
    m = make_model(name, head=head)
    hist, pos, neg = sequences(domain)
    logits, (b, t) = m.sequence_logits(domain, hist, pos, neg)
    assert logits.shape == (int((pos > 0).sum()), 4)  # one row per real target, 1 + K candidates
    expected = each_prefix_alone(m, domain, hist, pos, neg)
    assert torch.allclose(logits, expected, atol=1e-5)
    assert torch.allclose(m.sequence_loss(domain, hist, pos, neg), m.objective(domain, expected), atol=1e-5)


@pytest.mark.parametrize("broken", ["sfa not causal", "positions from the newest"])
def test_the_prefix_check_fails_when_a_module_reads_past_its_prefix(broken):
    """The check above can fail: SFA attending to later keys, or positions counted from the newest item (then a
    prefix's items get other positions inside the sequence than alone), make a target's logit differ."""
    m = make_model("man-ep")
    hist, pos, neg = sequences()
    if broken == "sfa not causal":
        m.sfa["A"].causal = False
    else:
        m.emb["A"].positions = m.emb_g["A"].positions = "newest"
    logits, _ = m.sequence_logits("A", hist, pos, neg)
    assert not torch.allclose(logits, each_prefix_alone(m, "A", hist, pos, neg), atol=1e-4)


@pytest.mark.parametrize("name", EP)
def test_no_logit_depends_on_a_later_position(name):
    """Gradient check: d logit(b, t) / d E_{b, t'} = 0 for t' > t (and for other sequences), != 0 at t' = t."""
    m = make_model(name)
    hist, pos, neg = sequences()
    E = []
    hooks = [emb.register_forward_hook(lambda mod, args, out: E.append(out))
             for emb in [m.emb["A"], *([m.emb_g["A"]] if m.cfg.use_global else [])]]
    logits, (b, t) = m.sequence_logits("A", hist, pos, neg)
    for hook in hooks:
        hook.remove()
    for n in range(len(b)):
        grads = torch.autograd.grad(logits[n].sum(), E, retain_graph=True)
        for g in grads:  # (4, T, D)
            assert (g[b[n], t[n] + 1:] == 0).all() and (g[torch.arange(4) != b[n]] == 0).all()
        assert (grads[0][b[n], t[n]] != 0).any()


def test_no_logit_changes_when_later_items_change():
    """The same for the modules whose inputs are detached (SFA, GPA: A.3's stop-gradient): change every item after
    position 3 and the logits of targets at positions <= 3 stay, those after do not."""
    m = make_model("man-ep")
    hist, pos, neg = sequences()
    changed = hist.clone()
    changed[:, 4:] = torch.where(hist[:, 4:] > 0, hist[:, 4:] % (N_ITEMS["A"] - 1) + 1, 0)
    a, (_, t) = m.sequence_logits("A", hist, pos, neg)
    c, _ = m.sequence_logits("A", changed, pos, neg)
    assert torch.allclose(a[t <= 3], c[t <= 3], atol=1e-6)
    assert not torch.allclose(a[t > 4], c[t > 4], atol=1e-4)


@pytest.mark.parametrize("name", EP)
def test_padding_does_not_change_the_logits(name):
    """Three more padded columns on the left (T = 8 -> 11): the same logits for every target and at evaluation."""
    torch.manual_seed(0)
    m = MAN(variant(name, max_len=11), N_ITEMS, N_GLOBAL, global_ids())
    hist, pos, neg = sequences()
    pad = lambda x: torch.cat([x.new_zeros(4, 3, *x.shape[2:]), x], dim=1)  # noqa: E731
    short, _ = m.sequence_logits("A", hist, pos, neg)
    long, _ = m.sequence_logits("A", pad(hist), pad(pos), pad(neg))
    assert torch.allclose(short, long, atol=1e-5)
    cand = torch.randint(1, N_ITEMS["A"], (4, 5))
    assert torch.allclose(m("A", hist, cand), m("A", pad(hist), cand), atol=1e-5)


@pytest.mark.parametrize("name", ["man-ep", "man-local-ep"])
def test_a_batch_of_one_domain_updates_only_its_branch_and_the_shared_parameters(name):
    """Independent updating (Sec. 3.3.2) under the every-position objective: an A batch leaves B's own
    parameters without a gradient and unchanged by Adam; the shared ones (man-ep) get a gradient."""
    m = make_model(name)
    opt = train.make_optimizer(m.parameters(), train.TrainConfig())
    only_B = m.domain_parameters("B")
    before = [p.detach().clone() for p in only_B]
    hist, pos, neg = sequences("A")
    opt.zero_grad(set_to_none=True)
    m.sequence_loss("A", hist, pos, neg).backward()
    opt.step()
    assert only_B and all(p.grad is None for p in only_B)
    assert all(torch.equal(b, p) for b, p in zip(before, only_B))
    shared = [p for p in m.parameters() if all(p is not q for q in m.domain_parameters("A") + only_B)]
    assert bool(shared) == (name == "man-ep") and all(p.grad is not None for p in shared)


def test_dot_logit_by_hand():
    s = torch.tensor([[[1.0, 2.0]]])  # (B=1, 1, D=2): a history summary
    e = torch.tensor([[[0.0, 1.0], [1.0, 0.0]]])  # (1, C=2, 2): a candidate-dependent part (ISA's e^Xi)
    M = torch.tensor([[[3.0, 4.0], [5.0, 6.0]]])  # (1, 2, 2): the candidates' target vectors
    # candidate 0: <(1, 2) + (0, 1), (3, 4)> = 3 + 12 = 15; candidate 1: <(1, 2) + (1, 0), (5, 6)> = 10 + 12 = 22
    assert dot_logit([s, e], M).tolist() == [[15.0, 22.0]]
    assert dot_logit([s], M[0]).tolist() == [[11.0, 17.0]]  # (C, D) targets shared by every history


@pytest.mark.parametrize("name", ["man", "man-ep"])
def test_dot_head_sums_the_local_and_global_dot_products(name):
    """man's dot head: <e^Xi + s^Xs + g^Xu + s^X, M^X_target> + <s^Xg, M_target>, and no prediction MLPs."""
    m = make_model(name, head="dot")
    assert not hasattr(m, "mlp") and not hasattr(m, "mlp_g")
    hist, cand = make_batch("B")
    h = m.encode_history("B", hist)
    M_g = m.emb_g["B"].target(m.to_global("B", cand), "B")  # (4, 5, D)
    M_l = m.emb["B"].target(cand, "B")
    e_Xi, _ = m.isa["B"](M_g, h["E_X"], h["E_Xg"], h["mask"])
    local = ((e_Xi + (h["s_Xs"] + h["g_Xu"] + h["s_X"]).unsqueeze(1)) * M_l).sum(-1)
    glob = (h["s_Xg"].unsqueeze(1) * M_g).sum(-1)
    assert torch.allclose(m("B", hist, cand), local + glob, atol=1e-6)
    every = torch.arange(N_ITEMS["B"]).expand(4, -1)
    assert torch.allclose(m.score_all("B", hist), m("B", hist, every), atol=1e-5)


@pytest.mark.parametrize("name", ["single-ep", "man-ep"])
def test_the_trainer_trains_every_position_with_k_negatives_each(name, tmp_path):
    from mini_man import data
    from mini_man.sample import generate

    paths = generate(users=(40, 40), items=(60, 60), length=(14.0, 14.0), seed=0).write(tmp_path)[:2]
    d = data.prepare(*paths, kcore=1, split="loo")
    tensors = train.to_device(d, "cpu")
    hist, pos, neg = train.sequence_batch_data(d.domains["A"].train, tensors["A"]["train"], d.domains["A"].n_items,
                                               9, __import__("numpy").random.default_rng(0), "cpu")
    assert neg.shape == (*pos.shape, 9) and (neg != pos.unsqueeze(-1)).all()
    model, r = train.train_and_test(name, d, train.TrainConfig(epochs=2, patience=0, warmup_steps=0),
                                    tensors, head="dot")
    assert model.every_position and all(0 <= r.results[x]["auc"] <= 1 for x in "AB")
    assert r.fit.history[1]["train_loss"]["A"] < r.fit.history[0]["train_loss"]["A"]


@pytest.mark.parametrize("width", [3, 5])
def test_every_window_trains_each_training_target_once(tmp_path, width):
    """windows="every": the positions of the windows predict each (user, target) of the split exactly once; "last"
    (SASRec's): one window per user, ending at the user's last target, so long histories leave targets out."""
    from collections import Counter

    import numpy as np

    from mini_man import data
    from mini_man.sample import generate

    paths = generate(users=(40, 40), items=(60, 60), length=(14.0, 14.0), seed=0).write(tmp_path)[:2]
    d = data.prepare(*paths, kcore=1, split="loo", max_len=width)
    split = d.domains["A"].train
    st = train.to_device(d, "cpu")["A"]["train"]
    rng = np.random.default_rng(0)
    want = Counter(zip(split.user.tolist(), split.target.tolist()))
    got = {}
    for windows in train.WINDOWS:
        rows = train.window_rows(split, width, windows)
        hist, pos, neg = train.sequence_batch_data(split, st, d.domains["A"].n_items, 2, rng, "cpu", windows)
        assert len(hist) == len(rows) and (neg != pos.unsqueeze(-1)).all()
        users = np.repeat(split.user[rows], width).reshape(len(rows), width)  # (W, T)
        real = pos.numpy() > 0
        got[windows] = Counter(zip(users[real].tolist(), pos.numpy()[real].tolist()))
    assert got["every"] == want
    assert len(train.window_rows(split, width, "last")) == len(set(split.user.tolist()))
    assert sum(got["last"].values()) < sum(want.values()) and not got["last"] - want


@pytest.mark.parametrize("pool", ["mean", "last"])
@pytest.mark.parametrize("name", ["man-ep", "man-local-ep"])
def test_the_prefix_path_on_a_whole_history_is_the_one_target_summary(name, pool):
    """At t = T a prefix is the whole history: the running means, GPA per prefix (W^P's recency, the prototypes'
    attention) and ISA's prefix view give what the paper's modules (`summarise`, GPA's `forward`) give it."""
    m = make_model(name, pool=pool)
    hist, _ = make_batch("A")
    h = m.encode_sequence("A", hist)
    last = torch.arange(4), torch.full((4,), hist.shape[1] - 1)
    prefix, whole = m.summarise_prefixes("A", h, *last), m.summarise("A", h)
    assert set(prefix) <= set(whole)
    for k, v in prefix.items():
        assert torch.allclose(v.float(), whole[k].float(), atol=1e-6), k


def test_gpa_per_prefix_weighs_the_newest_item_of_each_prefix_with_the_last_column_of_w_p():
    """A shorter prefix of a full row: W^P's last column goes to its newest item (recency), as for that prefix alone."""
    m = make_model("man-ep")
    gpa, G = m.gpa["A"], m.prototypes["A"].G
    torch.manual_seed(2)
    S, mask = torch.randn(1, 8, 20), torch.ones(1, 8, dtype=torch.bool)
    g, w = gpa.prefixes(G, S, mask, torch.tensor([0]), torch.tensor([4]))  # the prefix of positions 0..4
    alone = torch.cat([torch.zeros(1, 3, 20), S[:, :5]], dim=1)  # right-aligned on its own
    g_alone, w_alone = gpa(G, alone, torch.arange(8).unsqueeze(0) >= 3)
    assert torch.allclose(g, g_alone, atol=1e-6) and torch.allclose(w, w_alone, atol=1e-6)
    g_unshifted, _ = gpa(G, S * (torch.arange(8) <= 4).view(1, 8, 1), (torch.arange(8) <= 4).unsqueeze(0))
    assert not torch.allclose(g, g_unshifted, atol=1e-4)  # the same items at the window's columns 0..4 differ


def test_the_head_option_of_the_command_line_reaches_the_man_family_only():
    from types import SimpleNamespace

    from mini_man import cli

    args = SimpleNamespace(num_groups=5, pool=None, head="dot", dropout=None, sasrec_hidden=None, sasrec_dropout=None,
                           sasrec_unscaled=False, sasrec_block=None, sasrec_init=None,
                           scale_embeddings=False, batch_norm=False)
    assert cli.model_overrides(args, "man-ep")["head"] == "dot"
    assert cli.model_overrides(args, "sasrec") == {}
