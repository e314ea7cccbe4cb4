"""Local and global item embeddings with positions and a domain embedding: Eq. (1)-(2), appendix A.3."""
import torch
from torch import nn

from mini_man.config import MANConfig

DOMAIN_INDEX = {"A": 1, "B": 2}  # row of the domain-embedding table; row 0 is padding


class ItemEmbedding(nn.Module):
    """One item table `M` (or `M^A`, `M^B`), its domain-embedding table and its positional table `P`.

    Appendix A.3: "Each item embedding is concatenated with a domain embedding", so an item vector is
    `[M_i ; C_dom]` with D = item_dim + domain_dim (Amazon: 16 + 4 = 20); the positional embedding has D dims and
    is added to that concatenation. Index 0 of `M` is padding. `C` has rows {pad, A, B}: inside a local table only
    its own domain's row is ever used (one learned vector); the global table tells the two domains apart.
    Paper: no table sizes for C. Official code: a 2-row table with domain A's id out of range (A's embedding was
    zero on GPU). Here: a 3-row table, every domain a learned row.
    """

    def __init__(self, n_items: int, cfg: MANConfig):
        super().__init__()
        self.M = nn.Embedding(n_items, cfg.item_dim, padding_idx=0)  # M: (|I|, item_dim)
        self.C = nn.Embedding(3, cfg.domain_dim, padding_idx=0)  # domain embedding: (3, domain_dim)
        self.P = nn.Parameter(torch.empty(cfg.max_len, cfg.D))  # P: (T, D)
        self.positions = cfg.positions  # "newest": P_T is the newest item; "oldest": P_1 is the oldest
        self.scale = cfg.D ** 0.5 if cfg.scale_embeddings else None  # SASRec's sqrt(d) on the input side
        for w in (self.M.weight, self.C.weight, self.P):
            nn.init.xavier_uniform_(w)  # Sec. 4.1.3: Xavier initialisation
        with torch.no_grad():
            self.M.weight[0].zero_()
            self.C.weight[0].zero_()

    def target(self, items: torch.Tensor, domain: str) -> torch.Tensor:
        """`[M_i ; C_dom]` for candidate items (any shape S) -> (S, D); no position (official code)."""
        dom = self.C.weight[DOMAIN_INDEX[domain]].expand(*items.shape, -1)  # (S, domain_dim)
        return torch.cat([self.M(items), dom], dim=-1)  # (S, D)

    def forward(self, hist: torch.Tensor, domain: str) -> torch.Tensor:
        """Eq. (1)-(2): `E_t = [M_{i_t} ; C_dom] + P_t` for a history (B, T) -> (B, T, D), zero at padding.

        Paper: P_t for "position t" of a history of length T. Here: `positions="newest"` (the default, the official
        code) indexes P by the column of the right-aligned window, so P_T is always the newest item;
        `positions="oldest"` (SASRec's reference) gives the k-th item of the history P_k, so every prefix of a
        sequence gets the vectors it has inside the whole sequence (the every-position objective needs that).
        Paper: no scaling. Here, with `scale_embeddings`: `E_t = sqrt(D) [M_{i_t} ; C_dom] + P_t`, SASRec's input
        scaling; the candidates' target vectors (`target`) are never scaled.
        """
        T = hist.shape[1]
        real = hist > 0  # (B, T)
        if self.positions == "newest":
            P = self.P[-T:]  # (T, D); right-aligned: P_T is the newest item
        else:
            P = self.P[(real.cumsum(1) - 1).clamp(min=0)]  # (B, T, D): P_1 is the oldest kept item
        items = self.target(hist, domain)  # (B, T, D)
        if self.scale is not None:  # `scale_embeddings`: SASRec's reference scales its inputs by sqrt(D)
            items = items * self.scale
        E = items + P  # (B, T, D)
        return E * real.unsqueeze(-1)  # padded positions carry nothing


def local_and_global_embeddings(emb: ItemEmbedding, emb_g: ItemEmbedding, hist: torch.Tensor,
                                hist_g: torch.Tensor, domain: str):
    """Eq. (1) (domain A) and Eq. (2) (domain B): local `E^X` and global `E^{X_g}` of one history.

    Paper: Eq. (1)-(2) print `M^A_{i}` inside `E^{A_g}` (and `M^B` inside `E^{B_g}`). Here: the shared table `M`,
    as the text of Sec. 3.1.1 ("a shared embedding matrix M") and the official code do -- the print is a typo.
    `hist` holds local item ids, `hist_g` the same items' global ids; both (B, T). Returns two (B, T, D).
    """
    E_X = emb(hist, domain)  # (B, T, D) local: M^X, C^X, P^X
    E_Xg = emb_g(hist_g, domain)  # (B, T, D) global: M, C, P shared by both domains
    return E_X, E_Xg
