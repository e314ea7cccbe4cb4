"""Eq. (1)-(2): local and global item + domain + position embeddings."""
import torch

from tiny import make_batch, make_model
from mini_man.embeddings import DOMAIN_INDEX, local_and_global_embeddings


def test_local_embedding_is_item_and_domain_concatenated_plus_position():
    m = make_model()
    hist, _ = make_batch("A")
    emb = m.emb["A"]
    E = emb(hist, "A")  # (B, T, D)
    assert E.shape == (4, 8, 20)
    b, t = 3, 7  # a real position
    i = hist[b, t]
    expected = torch.cat([emb.M.weight[i], emb.C.weight[DOMAIN_INDEX["A"]]]) + emb.P[t]
    assert torch.allclose(E[b, t], expected)


def test_padded_positions_are_zero():
    m = make_model()
    hist, _ = make_batch("A")
    E = m.emb["A"](hist, "A")
    assert (E[hist == 0] == 0).all()
    assert (E[hist > 0].abs().sum(-1) > 0).all()


def test_global_embedding_uses_the_shared_table_not_M_A():
    """Paper Eq. (1) prints M^A inside E^{A_g}; the text and official code use the shared M."""
    m = make_model()
    hist, _ = make_batch("B")
    hist_g = m.to_global("B", hist)
    E_B, E_Bg = local_and_global_embeddings(m.emb["B"], m.emb_g["B"], hist, hist_g, "B")
    b, t = 0, 3
    emb_g = m.emb_g["B"]
    expected = torch.cat([emb_g.M.weight[hist_g[b, t]], emb_g.C.weight[DOMAIN_INDEX["B"]]]) + emb_g.P[t]
    assert torch.allclose(E_Bg[b, t], expected)
    assert not torch.allclose(E_Bg, E_B)


def test_global_tables_are_shared_and_local_tables_are_not(model):
    assert model.emb_g["A"] is model.emb_g["B"]
    assert model.emb["A"] is not model.emb["B"]
    assert model.emb["A"].M.num_embeddings == 30 and model.emb["B"].M.num_embeddings == 20
    assert model.emb_g["A"].M.num_embeddings == 45


def test_shorter_history_uses_the_newest_positions():
    """Right-aligned histories: the last column is always the newest item and gets P_T."""
    m = make_model()
    emb = m.emb["A"]
    short = torch.tensor([[0, 5, 6]])
    E = emb(short, "A")
    assert torch.allclose(E[0, 2], emb.target(torch.tensor(6), "A") + emb.P[-1])


def test_scale_embeddings_multiplies_the_history_items_by_sqrt_D_not_the_targets():
    from mini_man.config import MANConfig
    from mini_man.embeddings import ItemEmbedding
    torch.manual_seed(0)
    plain = ItemEmbedding(10, MANConfig(max_len=4))
    torch.manual_seed(0)
    scaled = ItemEmbedding(10, MANConfig(max_len=4, scale_embeddings=True))
    hist = torch.tensor([[0, 3, 5, 7]])
    items = plain.target(hist, "A")  # (1, 4, D)
    E_plain, E_scaled = plain(hist, "A"), scaled(hist, "A")
    D = MANConfig().D
    assert torch.allclose(E_scaled - E_plain, (D ** 0.5 - 1) * items * (hist > 0).unsqueeze(-1), atol=1e-6)
    assert torch.equal(plain.target(hist, "A"), scaled.target(hist, "A"))  # candidates are not scaled
