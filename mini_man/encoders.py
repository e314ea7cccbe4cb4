"""Sequence encoders: Eq. (3) `S^X = Encoder(E^X)` (one per domain) and Eq. (4) `S^{X_g} = Encoder_g(E^{X_g})`
(one module shared by both domains).

Both backbones take `E` (B, T, D) and `mask` (B, T) and return `S` (B, T, D), zero at padded positions, where
`S_t` depends only on items up to t (causal). Histories are right-aligned (newest item at t = T).
"""
import math

import torch
from torch import nn

from mini_man.config import MANConfig
from mini_man.layers import MLP, NEG_INF


class SASRecBlock(nn.Module):
    """One SASRec block: causal multi-head self-attention and a point-wise FFN, each pre-LayerNorm + residual;
    with `dropout` > 0, dropout on the attention weights and on the FFN's output (as SASRec's reference)."""

    def __init__(self, D: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        self.n_heads = n_heads
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()  # Identity: 0 draws no random numbers
        self.norm_attn = nn.LayerNorm(D)
        self.qkv = nn.Linear(D, 3 * D)  # W^Q, W^K, W^V in one matrix
        self.norm_ffn = nn.LayerNorm(D)
        self.ffn = MLP((D, D, D))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.norm_attn(x)).split(D, dim=-1)  # 3 x (B, T, D)
        q, k, v = (z.view(B, T, self.n_heads, D // self.n_heads).transpose(1, 2) for z in (q, k, v))  # (B, h, T, D/h)
        scores = q @ k.transpose(-1, -2) / math.sqrt(D // self.n_heads)  # (B, h, T, T)
        a = self.drop(torch.softmax(scores.masked_fill(~attn_mask, NEG_INF), dim=-1)) @ v  # (B, h, T, D/h)
        x = x + a.transpose(1, 2).reshape(B, T, D)  # (B, T, D)
        return x + self.drop(self.ffn(self.norm_ffn(x)))


class SASRecEncoder(nn.Module):
    """SASRec (Kang & McAuley, 2018), the backbone of the paper's Table 2 on Micro Video: Eq. (3)-(4)."""

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.blocks = nn.ModuleList(SASRecBlock(cfg.D, cfg.n_heads, cfg.dropout) for _ in range(cfg.n_blocks))
        self.norm = nn.LayerNorm(cfg.D)
        self.drop = nn.Dropout(cfg.dropout) if cfg.dropout > 0 else nn.Identity()  # on the input embeddings

    def forward(self, E: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """E (B, T, D), mask (B, T) -> S (B, T, D)."""
        T = E.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=E.device).tril()  # (T, T): query t sees keys <= t
        eye = torch.eye(T, dtype=torch.bool, device=E.device)
        # Keys must be causal and real; every query also sees itself, so a padded query's row is never empty
        # (its output is zeroed below anyway). Plain matmul + softmax: faster than the fused kernel at T = 20.
        attn_mask = ((causal & mask[:, None, :]) | eye).unsqueeze(1)  # (B, 1, T, T)
        m = mask.unsqueeze(-1)  # (B, T, 1)
        x = self.drop(E) * m
        for block in self.blocks:
            x = block(x, attn_mask) * m  # padded positions are reset after every block
        return self.norm(x) * m  # (B, T, D)


class GRU4RecEncoder(nn.Module):
    """GRU4Rec (Hidasi et al., 2016): `S_t` = GRU hidden state after item t. The same interface as SASRec,
    so MAN can run on it (Fig. 3, "MAN is model-agnostic")."""

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.gru = nn.GRU(cfg.D, cfg.D, batch_first=True)

    def forward(self, E: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """E (B, T, D), mask (B, T) -> S (B, T, D). Padding is on the left, so shift each history to start at
        t = 0 and run the GRU over all T steps: the outputs at a history's real positions have only seen its real
        items (its padding now comes after them), and the rest is zeroed after shifting back. This gives the same
        numbers as packing the sequences, without moving their lengths to the host (a sync on a GPU)."""
        B, T, D = E.shape
        shift = (T - mask.sum(1)).unsqueeze(1)  # (B, 1): number of padded positions
        t = torch.arange(T, device=E.device).unsqueeze(0)  # (1, T)
        to_left = ((t + shift) % T).unsqueeze(-1).expand(B, T, D)  # (B, T, D): left-aligned position -> source
        H, _ = self.gru(E.gather(1, to_left))  # (B, T, D) left-aligned
        to_right = ((t - shift) % T).unsqueeze(-1).expand(B, T, D)  # (B, T, D)
        return H.gather(1, to_right) * mask.unsqueeze(-1)  # (B, T, D) right-aligned, zero at padding


def make_encoder(cfg: MANConfig) -> nn.Module:
    """The backbone named by `cfg.backbone` ("Encoder" / "Encoder_g" of Eq. (3)-(4))."""
    return {"sasrec": SASRecEncoder, "gru4rec": GRU4RecEncoder}[cfg.backbone](cfg)
