"""The assembled MAN (Fig. 2) and its local/global prediction layer, Eq. (14)-(15).

`MAN(cfg, n_items, n_global_items, global_ids)(domain, hist, cand) -> logits (B, C)`. Histories hold local item
ids (B, T), right-aligned, 0 = padding; candidates hold local ids (B, C). The target-independent work (embedding
and encoding the history, SFA, GPA, pooling) runs once per history; only ISA and the prediction layer see the
C candidates.
"""
import torch
from torch import nn

from mini_man.attention import GroupPrototypeAttention, ItemSimilarityAttention, SequenceFusionAttention
from mini_man.config import MANConfig
from mini_man.embeddings import ItemEmbedding, local_and_global_embeddings
from mini_man.encoders import make_encoder
from mini_man.layers import MLP, masked_mean
from mini_man.losses import domain_objective

DOMAINS = ("A", "B")


def per_domain(make, shared: bool) -> nn.ModuleDict:
    """{"A": module, "B": module}: one module object used by both domains if `shared`, else one each."""
    if shared:
        module = make()
        return nn.ModuleDict({X: module for X in DOMAINS})
    return nn.ModuleDict({X: make() for X in DOMAINS})


class Prototypes(nn.Module):
    """The group prototypes `G` (N_g, D) of Eq. (11) and (13)."""

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.G = nn.Parameter(torch.empty(cfg.num_groups, cfg.D))
        nn.init.xavier_uniform_(self.G)


def prediction_logit(mlp: MLP, parts: list) -> torch.Tensor:
    """Eq. (14) (domain A) and Eq. (15) (domain B): one prediction MLP over the concatenation of `parts`.

    The parts come in the paper's order. History summaries come shaped (B, 1, d) and candidate vectors (B, C, d);
    the first layer takes the history parts once per history (see `concat_linear`). Returns logits (B, C).
    """
    return mlp.on_parts(parts).squeeze(-1)  # (B, C)


class MAN(nn.Module):
    """Mixed Attention Network (Sec. 3): local/global encoding, mixed attention, local/global prediction."""

    def __init__(self, cfg: MANConfig, n_items: dict, n_global_items: int, global_ids: dict):
        super().__init__()
        self.cfg = cfg
        D = cfg.D
        shared = cfg.share_across_domains  # False for `man-local`: nothing crosses domains
        for X in DOMAINS:  # local id -> global id, (n_items[X],)
            self.register_buffer(f"global_ids_{X}", torch.as_tensor(global_ids[X], dtype=torch.long))
        if cfg.use_local:  # domain-specific: M^X, C^X, P^X (Eq. 1-2), Encoder (Eq. 3), local MLP (Eq. 14-15)
            self.emb = nn.ModuleDict({X: ItemEmbedding(n_items[X], cfg) for X in DOMAINS})
            self.enc = per_domain(lambda: make_encoder(cfg), shared=False)
            local_in = [cfg.use_isa, cfg.use_sfa, cfg.use_gpa, True, True]  # e^Xi, s^Xs, g^Xu, s^X, M^X_target
            self.mlp = per_domain(lambda: MLP((D * sum(local_in), *cfg.pred_hidden, 1)), shared=False)
        if cfg.use_isa:  # Eq. (5)-(6), per domain
            self.isa = per_domain(lambda: ItemSimilarityAttention(cfg), shared=False)
        if cfg.use_sfa:  # Eq. (7)-(9), per domain
            self.sfa = per_domain(lambda: SequenceFusionAttention(cfg), shared=False)
        if cfg.use_gpa:  # Eq. (10)-(12), per domain; the prototypes G are shared
            self.gpa = per_domain(lambda: GroupPrototypeAttention(cfg), shared=False)
            self.prototypes = per_domain(lambda: Prototypes(cfg), shared)
        if cfg.use_global:  # shared across domains: M, C, P (Eq. 1-2), Encoder_g (Eq. 4), MLP_g (Eq. 14-15)
            self.emb_g = per_domain(lambda: ItemEmbedding(n_global_items, cfg), shared)
            self.enc_g = per_domain(lambda: make_encoder(cfg), shared)
            self.mlp_g = per_domain(lambda: MLP((2 * D, *cfg.pred_hidden, 1)), shared)

    def to_global(self, domain: str, items: torch.Tensor) -> torch.Tensor:
        """Local item ids of `domain` (any shape) -> global ids (same shape); 0 stays 0."""
        return getattr(self, f"global_ids_{domain}")[items]

    def pool(self, S: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The read-out (B, D) of a sequence S (B, T, D) for Eq. (14)-(15): the mean over real positions (paper:
        "average pooling") or, with `cfg.pool == "last"`, the newest position (histories are right-aligned)."""
        return masked_mean(S, mask) if self.cfg.pool == "mean" else S[:, -1]

    def encode_history(self, domain: str, hist: torch.Tensor) -> dict:
        """Everything that does not depend on the candidate, once per history (B, T).

        Returns a dict of tensors named as in the paper: E_X, E_Xg, S_X, S_Xg (B, T, D); s_X, s_Xg, s_Xs, g_Xu
        (B, D); group_weights (B, N_g); mask (B, T). Entries of switched-off modules are absent.
        """
        cfg, X = self.cfg, domain
        mask = hist > 0  # (B, T)
        h = {"mask": mask}
        if cfg.use_local:
            h["E_X"] = self.emb[X](hist, X)  # (B, T, D)  Eq. (1)-(2) local
            h["S_X"] = self.enc[X](h["E_X"], mask)  # (B, T, D)  Eq. (3)
            h["s_X"] = self.pool(h["S_X"], mask)  # (B, D)
        if cfg.use_global:
            h["E_Xg"] = self.emb_g[X](self.to_global(X, hist), X)  # (B, T, D)  Eq. (1)-(2) global
            h["S_Xg"] = self.enc_g[X](h["E_Xg"], mask)  # (B, T, D)  Eq. (4)
            h["s_Xg"] = self.pool(h["S_Xg"], mask)  # (B, D)
        if cfg.use_sfa:
            h["s_Xs"] = self.pool(self.sfa[X](h["S_X"], h["S_Xg"], mask), mask)  # (B, D)  Eq. (7)
        if cfg.use_gpa:
            h["g_Xu"], h["group_weights"] = self.gpa[X](self.prototypes[X].G, h["S_X"], mask)  # Eq. (10)-(12)
        return h

    def score(self, domain: str, h: dict, cand: torch.Tensor) -> torch.Tensor:
        """Eq. (14)-(15): logits (B, C) of candidates `cand` (B, C, local ids) for encoded histories `h`; `cand` (C,)
        scores the same C candidates for every history, each candidate's own work done once (full ranking).

        `y_hat = MLP(e^Xi || s^Xs || g^Xu || s^X || M^X_target) + MLP_g(s^Xg || M_target)`; sigmoid(logit) = y_hat.
        Paper: Eq. (14) feeds `M^A_target` to MLP_g as well. Here: the shared table's target vector `M_target`,
        as the official code does -- MLP_g is shared, so its input should live in the shared space.
        """
        cfg, X = self.cfg, domain
        logit = 0.0
        if cfg.use_global:
            M_t = self.emb_g[X].target(self.to_global(X, cand), X)  # (B, C, D)
            logit = logit + prediction_logit(self.mlp_g[X], [h["s_Xg"].unsqueeze(1), M_t])  # MLP_g
        if cfg.use_local:
            parts = []  # e^Xi || s^Xs || g^Xu || s^X || M^X_target, the paper's order
            if cfg.use_isa:
                e_Xi, _ = self.isa[X](M_t, h["E_X"], h["E_Xg"], h["mask"])  # (B, C, D)  Eq. (5)-(6)
                parts.append(e_Xi)
            parts += [h[k].unsqueeze(1) for k, on in (("s_Xs", cfg.use_sfa), ("g_Xu", cfg.use_gpa), ("s_X", True))
                      if on]  # (B, 1, D) each
            parts.append(self.emb[X].target(cand, X))  # M^X_target (B, C, D)
            logit = logit + prediction_logit(self.mlp[X], parts)  # local MLP
        return logit  # (B, C)

    def forward(self, domain: str, hist: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Logits (B, C) of C candidates for each of B histories of `domain` ("A" or "B")."""
        return self.score(domain, self.encode_history(domain, hist), cand)

    @torch.no_grad()
    def score_all(self, domain: str, hist: torch.Tensor, pairs: int = 2**14) -> torch.Tensor:
        """Logits (B, n_items) of every local item of `domain` (column 0, padding, is meaningless).

        The items go to `score` as candidates shared by every history, about `pairs` // B at a time, so that each
        item's target vectors and their products with the first layers of ISA, MLP and MLP_g are computed once per
        item, and the (history, item) tensors of a chunk, (B, c, D), stay small enough for the cache.
        """
        h = self.encode_history(domain, hist)
        n = len(getattr(self, f"global_ids_{domain}"))
        chunk = max(1, pairs // len(hist))
        return torch.cat([self.score(domain, h, torch.arange(start, min(start + chunk, n), device=hist.device))
                          for start in range(0, n, chunk)], dim=1)  # (B, n_items)

    def domain_parameters(self, domain: str) -> list:
        """Theta^X of Eq. (18): the parameters used by `domain` only (shared modules are registered under both
        domain keys, so they are excluded; for `man-local` everything a domain uses is its own)."""
        names = {}
        for name, p in self.named_parameters(remove_duplicate=False):
            names.setdefault(p, set()).update(X for X in DOMAINS if f".{X}." in f".{name}")
        return [p for p, where in names.items() if where == {domain}]

    def objective(self, domain: str, logits: torch.Tensor) -> torch.Tensor:
        """Eq. (18) for a batch of `domain`: `L^X + lambda^X ||Theta^X||^2 + L^g` (Eq. 13, 16-17)."""
        cfg = self.cfg
        G = self.prototypes[domain].G if cfg.use_gpa else None
        params = self.domain_parameters(domain) if cfg.lambda_l2 > 0 else []  # (no need to look them up for 0)
        return domain_objective(logits, G, params, cfg.lambda_l2, cfg.lambda_g,
                                kind=cfg.loss, form=cfg.disentangle)
