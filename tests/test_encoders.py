"""Eq. (3)-(4): SASRec and GRU4Rec encoders, per domain (local) and shared (global)."""
import pytest
import torch

from tiny import make_model
from mini_man.config import MANConfig
from mini_man.encoders import GRU4RecEncoder, SASRecEncoder

BACKBONES = [SASRecEncoder, GRU4RecEncoder]


def inputs(seed=0, B=4, T=8, D=20):
    g = torch.Generator().manual_seed(seed)
    E = torch.randn(B, T, D, generator=g)
    mask = torch.ones(B, T, dtype=torch.bool)
    for b in range(B):
        mask[b, : b * 2] = False
    return E, mask


@pytest.mark.parametrize("Encoder", BACKBONES)
def test_shape_and_zero_padding(Encoder):
    torch.manual_seed(0)
    enc = Encoder(MANConfig(max_len=8))
    E, mask = inputs()
    S = enc(E, mask)
    assert S.shape == (4, 8, 20)
    assert (S[~mask] == 0).all()


@pytest.mark.parametrize("Encoder", BACKBONES)
def test_padded_positions_do_not_change_output(Encoder):
    torch.manual_seed(0)
    enc = Encoder(MANConfig(max_len=8))
    E, mask = inputs()
    garbage = E.clone()
    garbage[~mask] = 100.0 * torch.randn(int((~mask).sum()), 20)
    assert torch.allclose(enc(E, mask), enc(garbage, mask), atol=1e-6)


@pytest.mark.parametrize("Encoder", BACKBONES)
def test_causal_later_items_do_not_change_earlier_outputs(Encoder):
    torch.manual_seed(0)
    enc = Encoder(MANConfig(max_len=8))
    E, mask = inputs()
    E2 = E.clone()
    E2[:, -1] = torch.randn(4, 20)  # change the newest item only
    S, S2 = enc(E, mask), enc(E2, mask)
    assert torch.allclose(S[:, :-1], S2[:, :-1], atol=1e-6)
    assert not torch.allclose(S[:, -1], S2[:, -1])


def test_gru4rec_output_is_zero_for_an_all_padding_history():
    torch.manual_seed(0)
    enc = GRU4RecEncoder(MANConfig(max_len=8))
    E, mask = inputs()
    mask[0] = False
    assert (enc(E, mask)[0] == 0).all()


def test_gru4rec_equals_a_plain_gru_on_the_unpadded_sequence():
    torch.manual_seed(0)
    enc = GRU4RecEncoder(MANConfig(max_len=8))
    E, mask = inputs()
    S = enc(E, mask)
    b = 2  # 4 padded positions, 4 real ones
    out, _ = enc.gru(E[b : b + 1, 4:])
    assert torch.allclose(S[b, 4:], out[0], atol=1e-6)


def test_global_encoder_is_shared_and_local_encoders_are_not(model):
    assert model.enc_g["A"] is model.enc_g["B"]
    assert model.enc["A"] is not model.enc["B"]
    shared = {id(p) for p in model.enc_g["A"].parameters()}
    assert not shared & {id(p) for p in model.enc["A"].parameters()}


def test_man_local_shares_nothing():
    m = make_model("man-local")
    assert m.enc_g["A"] is not m.enc_g["B"] and m.emb_g["A"] is not m.emb_g["B"]
    assert m.prototypes["A"] is not m.prototypes["B"] and m.mlp_g["A"] is not m.mlp_g["B"]
    A = {id(p) for p in m.domain_parameters("A")}
    B = {id(p) for p in m.domain_parameters("B")}
    assert len(A) + len(B) == len(list(m.parameters()))  # every parameter belongs to exactly one domain


def test_dropout_acts_in_training_only_and_zero_is_the_paper_encoder():
    torch.manual_seed(0)
    plain = SASRecEncoder(MANConfig(max_len=8))
    torch.manual_seed(0)
    dropped = SASRecEncoder(MANConfig(max_len=8, dropout=0.5))
    E, mask = inputs()
    assert all(isinstance(m, torch.nn.Identity) for m in [plain.drop, *(b.drop for b in plain.blocks)])
    assert torch.equal(plain.eval()(E, mask), dropped.eval()(E, mask))  # same weights; eval: no dropout
    dropped.train()
    S1, S2 = dropped(E, mask), dropped(E, mask)
    assert not torch.allclose(S1, S2) and (S1[~mask] == 0).all()  # random in training, padding still zero


@pytest.mark.parametrize("changes, words", [(dict(dropout=1.0), "[0, 1)"), (dict(dropout=-0.1), "[0, 1)"),
                                            (dict(dropout=0.2, backbone="gru4rec"), "SASRec backbone")])
def test_bad_dropout_is_refused(changes, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace(")", r"\)")):
        MANConfig(**changes)
