"""Canonical SASRec (Kang & McAuley, ICDM 2018), as the field runs it (pmixer/SASRec.pytorch): the `sasrec` baseline.

Not MAN with parts switched off: its own small module with the same call signature as `MAN`
(`model(domain, hist, cand) -> logits (B, C)`), so the trainer, metrics and CLI treat it like every other model.
What makes it "canonical", and differ from the paper's `single` (Table 2 "SASRec" = MAN's local branch):
- read-out: the encoder's output at the LAST position (the newest item), not the mean over positions;
- score: dot product of that vector with the candidate's item embedding, one table shared by input and output
  (no MLP over `[s || M_target]`);
- training: every position of a user's sequence predicts the next item in one causal pass, one sampled negative
  per position (K = 1, `train.recipe`), BCE (`sequence_loss`); the trainer calls it instead of scoring 1 + K
  candidates per history;
- the reference's sizes: hidden 50, 2 blocks, 1 head, dropout 0.2, embeddings scaled by sqrt(hidden),
  post-attention residual `LN(x) + MHA(LN(x), x, x)` and a point-wise FFN with its own residual.
One model per domain (nothing crosses domains), like `single`.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


DOMAINS = ("A", "B")
BLOCKS = ("reference", "pre-ln")
INITS = ("xavier", "man")


@dataclass(frozen=True)
class SASRecConfig:
    """Hyper-parameters of the reference implementation (SASRec.pytorch defaults; maxlen 20 as MAN's T)."""

    hidden: int = 50
    max_len: int = 20
    n_blocks: int = 2
    n_heads: int = 1
    dropout: float = 0.2
    # Switches towards the MAN family's encoder (the factorial of docs/results.md); the defaults are the reference's.
    scale: bool = True  # item embeddings times sqrt(hidden) (the MAN family: not scaled)
    block: str = "reference"  # "reference" (see SASRecBlock) or "pre-ln": x + MHA(LN(x)), x + FFN(LN(x)), as MAN's
    init: str = "xavier"  # "xavier": Xavier normal where it applies (the reference); "man": the MAN family's (Xavier
    # uniform for the embedding tables, PyTorch's defaults for the rest)

    def __post_init__(self):
        if min(self.hidden, self.max_len, self.n_blocks, self.n_heads) < 1 or self.hidden % self.n_heads:
            raise ValueError(f"sizes must be >= 1 and hidden divisible by n_heads, got {self}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.block not in BLOCKS or self.init not in INITS:
            raise ValueError(f"block must be one of {BLOCKS} and init one of {INITS}, got {self.block!r}, "
                             f"{self.init!r}")


class SASRecBlock(nn.Module):
    """One block of the reference: `Q = LN(x)`, `x = Q + MHA(Q, x, x)` (causal), `x = LN(x)`, `x = x + FFN(x)`;
    with `cfg.block == "pre-ln"` the MAN family's block instead: `x = x + MHA(LN(x))`, `x = x + FFN(LN(x))`."""

    def __init__(self, cfg: SASRecConfig):
        super().__init__()
        self.pre_ln = cfg.block == "pre-ln"
        d = cfg.hidden
        self.norm_attn = nn.LayerNorm(d, eps=1e-8)
        self.attn = nn.MultiheadAttention(d, cfg.n_heads, dropout=cfg.dropout, batch_first=True)
        self.norm_ffn = nn.LayerNorm(d, eps=1e-8)
        self.ffn = nn.Sequential(nn.Linear(d, d), nn.Dropout(cfg.dropout), nn.ReLU(), nn.Linear(d, d),
                                 nn.Dropout(cfg.dropout))

    def forward(self, x: torch.Tensor, blocked: torch.Tensor) -> torch.Tensor:
        """x (B, T, d); blocked (B * heads, T, T) bool, True where a query may NOT see a key."""
        q = self.norm_attn(x)
        if self.pre_ln:
            x = x + self.attn(q, q, q, attn_mask=blocked, need_weights=False)[0]  # (B, T, d)
            return x + self.ffn(self.norm_ffn(x))
        a, _ = self.attn(q, x, x, attn_mask=blocked, need_weights=False)  # (B, T, d)
        x = self.norm_ffn(q + a)
        return x + self.ffn(x)


class SASRecDomain(nn.Module):
    """The model of one domain: item table (shared by input and output), positions, blocks, final LayerNorm."""

    def __init__(self, n_items: int, cfg: SASRecConfig):
        super().__init__()
        self.cfg = cfg
        self.item = nn.Embedding(n_items, cfg.hidden, padding_idx=0)  # (|I^X|, d), row 0 = padding
        self.pos = nn.Embedding(cfg.max_len + 1, cfg.hidden, padding_idx=0)  # position 1..T, 0 = padding
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(SASRecBlock(cfg) for _ in range(cfg.n_blocks))
        self.norm = nn.LayerNorm(cfg.hidden, eps=1e-8)

    def encode(self, hist: torch.Tensor) -> torch.Tensor:
        """hist (B, T) right-aligned local ids, 0 = padding -> F (B, T, d); F_t depends on items <= t only and
        is zero at padded positions."""
        T = hist.shape[1]
        real = hist > 0  # (B, T)
        mask = real.unsqueeze(-1)  # (B, T, 1)
        # Reference: positions count back from the end of the padded window, and padded keys stay visible (as zero
        # vectors). Here: position k is the k-th item of the history (the oldest kept item is 1), and padded keys
        # are masked. Then a prefix of a sequence gets exactly the vectors it gets inside the whole sequence, so
        # the every-position training of `sequence_loss` is exact, and no score depends on the amount of padding.
        positions = real.cumsum(1) * real  # (B, T); 0 at padding
        scale = self.cfg.hidden ** 0.5 if self.cfg.scale else 1.0
        x = self.drop(self.item(hist) * scale + self.pos(positions)) * mask  # (B, T, d)
        eye = torch.eye(T, dtype=torch.bool, device=hist.device)
        future = torch.ones(T, T, dtype=torch.bool, device=hist.device).triu(1)  # (T, T)
        blocked = (future | ~real[:, None, :]) & ~eye  # (B, T, T); every query sees itself: no empty row
        blocked = blocked.repeat_interleave(self.cfg.n_heads, dim=0)  # (B * heads, T, T)
        for block in self.blocks:
            x = block(x, blocked) * mask
        return self.norm(x) * mask  # (B, T, d)


class SASRec(nn.Module):
    """Canonical SASRec for each domain; `forward(domain, hist, cand) -> logits (B, C)`."""

    every_position = True  # the trainer calls `sequence_loss`

    def __init__(self, cfg: SASRecConfig, n_items: dict):
        super().__init__()
        self.cfg = cfg
        self.net = nn.ModuleDict({X: SASRecDomain(n_items[X], cfg) for X in DOMAINS})
        for p in self.parameters():  # the reference: Xavier normal where it applies
            if p.dim() > 1 and cfg.init == "xavier":
                nn.init.xavier_normal_(p)
        for X in DOMAINS if cfg.init == "man" else ():  # the MAN family's: Xavier uniform tables (Sec. 4.1.3)
            for table in (self.net[X].item, self.net[X].pos):
                nn.init.xavier_uniform_(table.weight)
        for X in DOMAINS:
            with torch.no_grad():
                self.net[X].item.weight[0].zero_()
                self.net[X].pos.weight[0].zero_()

    def forward(self, domain: str, hist: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Logits (B, C): the last position's vector (the newest item, t = T) dotted with each candidate's
        item embedding. hist (B, T), cand (B, C) local ids."""
        net = self.net[domain]
        F_T = net.encode(hist)[:, -1]  # (B, d) right-aligned: position T is the newest item
        return (net.item(cand) @ F_T.unsqueeze(-1)).squeeze(-1)  # (B, C)

    @torch.no_grad()
    def score_all(self, domain: str, hist: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_items) of every local item of `domain` (column 0, padding, is meaningless)."""
        net = self.net[domain]
        return net.encode(hist)[:, -1] @ net.item.weight.T  # (B, n_items)

    def sequence_loss(self, domain: str, hist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """Every-position training (Kang & McAuley, Sec. III-E): BCE of each next item `pos` (B, T) against its
        negatives `neg` (B, T, K) (the reference: K = 1), all scored by the vector at the same position of one
        causal pass over `hist` (B, T). Positions where `pos` is 0 (padding) do not count; the sum over the real
        positions' candidates is divided by the number of real positions."""
        net = self.net[domain]
        F_all = net.encode(hist)  # (B, T, d)
        logit_pos = (F_all * net.item(pos)).sum(-1)  # (B, T)
        logit_neg = (F_all.unsqueeze(2) * net.item(neg)).sum(-1)  # (B, T, K)
        real = pos > 0  # (B, T)
        loss = F.binary_cross_entropy_with_logits(logit_pos[real], torch.ones_like(logit_pos[real]), reduction="sum")
        loss = loss + F.binary_cross_entropy_with_logits(logit_neg[real], torch.zeros_like(logit_neg[real]),
                                                         reduction="sum")
        return loss / real.sum().clamp(min=1)


def next_items(hist: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B, T) the item that follows each position of `hist` (B, T) in the user's sequence: hist shifted left by
    one with `target` (B,) appended; 0 where `hist` is padding (a padded input predicts nothing)."""
    pos = torch.cat([hist[:, 1:], target.unsqueeze(1)], dim=1)  # (B, T)
    return pos * (hist > 0)
