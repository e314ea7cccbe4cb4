"""A tiny two-domain vocabulary, a tiny MAN built from it, and a batch of histories (for the model tests)."""
import torch

from mini_man.config import variant
from mini_man.model import MAN

N_ITEMS = {"A": 30, "B": 20}  # local vocabularies, padding included
N_GLOBAL = 45  # 5 items occur in both domains

def global_ids():
    """Local -> global ids: A's items are globals 1..29; B's first 5 items are A's last 5 (shared), the rest new."""
    A = torch.arange(30)
    B = torch.cat([torch.tensor([0]), torch.arange(25, 30), torch.arange(30, 44)])
    return {"A": A, "B": B}

def make_model(name="man", seed=0, **overrides):
    torch.manual_seed(seed)
    return MAN(variant(name, max_len=8, **overrides), N_ITEMS, N_GLOBAL, global_ids())

def make_batch(domain="A", B=4, T=8, C=5, seed=0):
    """Right-aligned histories with 0..T-1 padded positions on the left, and C candidates (column 0 positive)."""
    g = torch.Generator().manual_seed(seed)
    n = N_ITEMS[domain]
    hist = torch.randint(1, n, (B, T), generator=g)
    for b in range(B):
        hist[b, : b * 2] = 0  # row b has 2b padded positions
    cand = torch.randint(1, n, (B, C), generator=g)
    return hist, cand
