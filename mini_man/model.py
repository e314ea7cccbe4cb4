"""The assembled MAN (Fig. 2) and its local/global prediction layer, Eq. (14)-(15).

`MAN(cfg, n_items, n_global_items, global_ids)(domain, hist, cand) -> logits (B, C)`. Histories hold local item
ids (B, T), right-aligned, 0 = padding; candidates hold local ids (B, C). The target-independent work (embedding
and encoding the history, SFA, GPA, pooling) runs once per history; only ISA and the prediction layer see the
C candidates. With `cfg.objective == "every-position"` (models `*-ep`), `sequence_loss` trains every position of
a sequence in one causal pass (`mini_man.every_position`); `forward` is then the same code on a history's last
prefix, the history itself.
"""
import torch
from torch import nn

from mini_man.attention import GroupPrototypeAttention, ItemSimilarityAttention, SequenceFusionAttention
from mini_man.config import MANConfig
from mini_man.embeddings import ItemEmbedding, local_and_global_embeddings
from mini_man.encoders import make_encoder
from mini_man.every_position import prefix_pool, prefix_view, target_rows
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


def dot_logit(history_parts: list, target: torch.Tensor) -> torch.Tensor:
    """The dot-product head (`MANConfig.head = "dot"`): `<sum of history_parts, target>`, which is
    `[p_1 || ... || p_n] . [target || ... || target]`, the MLP head's concatenation with the target once per part.

    history_parts: (B, 1, D) summaries and/or (B, C, D) candidate-dependent vectors (ISA's e^Xi); target (B, C, D)
    or (C, D) for candidates shared by every history. Returns logits (B, C).
    """
    return (sum(history_parts) * target).sum(-1)  # (B, C)


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
            if cfg.head == "mlp":  # the dot head has no parameters of its own
                local_in = [cfg.use_isa, cfg.use_sfa, cfg.use_gpa, True, True]  # e^Xi, s^Xs, g^Xu, s^X, M^X_target
                self.mlp = per_domain(lambda: MLP((D * sum(local_in), *cfg.pred_hidden, 1), cfg.batch_norm),
                                      shared=False)
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
            if cfg.head == "mlp":
                self.mlp_g = per_domain(lambda: MLP((2 * D, *cfg.pred_hidden, 1), cfg.batch_norm), shared)

    def to_global(self, domain: str, items: torch.Tensor) -> torch.Tensor:
        """Local item ids of `domain` (any shape) -> global ids (same shape); 0 stays 0."""
        return getattr(self, f"global_ids_{domain}")[items]

    def pool(self, S: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The read-out (B, D) of a sequence S (B, T, D) for Eq. (14)-(15): the mean over real positions (paper:
        "average pooling") or, with `cfg.pool == "last"`, the newest position (histories are right-aligned)."""
        return masked_mean(S, mask) if self.cfg.pool == "mean" else S[:, -1]

    def encode_sequence(self, domain: str, hist: torch.Tensor) -> dict:
        """The per-position tensors of a history (B, T): embeddings, encoders, SFA's rows (causal with the
        every-position objective). Returns mask (B, T) and E_X, E_Xg, S_X, S_Xg, S_Xs (B, T, D); entries of
        switched-off modules are absent."""
        cfg, X = self.cfg, domain
        mask = hist > 0  # (B, T)
        h = {"mask": mask}
        if cfg.use_local:
            h["E_X"] = self.emb[X](hist, X)  # (B, T, D)  Eq. (1)-(2) local
            h["S_X"] = self.enc[X](h["E_X"], mask)  # (B, T, D)  Eq. (3)
        if cfg.use_global:
            h["E_Xg"] = self.emb_g[X](self.to_global(X, hist), X)  # (B, T, D)  Eq. (1)-(2) global
            h["S_Xg"] = self.enc_g[X](h["E_Xg"], mask)  # (B, T, D)  Eq. (4)
        if cfg.use_sfa:
            h["S_Xs"] = self.sfa[X](h["S_X"], h["S_Xg"], mask)  # (B, T, D)  Eq. (7)
        return h

    def summarise(self, domain: str, h: dict) -> dict:
        """`h` from `encode_sequence` plus the summaries: s_X, s_Xg, s_Xs, g_Xu (B, D) and group_weights (B, N_g),
        each over the real positions of h["mask"], and ISA's H = E^X + E^{X_g} (B, T, D)."""
        cfg, X, mask = self.cfg, domain, h["mask"]
        h = dict(h)
        if cfg.use_local:
            h["s_X"] = self.pool(h["S_X"], mask)  # (B, D)
        if cfg.use_global:
            h["s_Xg"] = self.pool(h["S_Xg"], mask)  # (B, D)
        if cfg.use_sfa:
            h["s_Xs"] = self.pool(h["S_Xs"], mask)  # (B, D)
        if cfg.use_gpa:
            h["g_Xu"], h["group_weights"] = self.gpa[X](self.prototypes[X].G, h["S_X"], mask)  # Eq. (10)-(12)
        if cfg.use_isa:
            h["H"] = h["E_X"] + h["E_Xg"]  # (B, T, D): ISA's history side, Eq. (5)-(6)
        return h

    def encode_history(self, domain: str, hist: torch.Tensor) -> dict:
        """Everything that does not depend on the candidate, once per history (B, T).

        Returns a dict of tensors named as in the paper: E_X, E_Xg, S_X, S_Xg, S_Xs, H = E_X + E_Xg (B, T, D);
        s_X, s_Xg, s_Xs, g_Xu (B, D); group_weights (B, N_g); mask (B, T). Entries of switched-off modules are absent.
        With the every-position objective, the summaries are those of the history's last prefix (t = T), computed
        by the training path `summarise_prefixes`.
        """
        h = self.encode_sequence(domain, hist)
        if self.every_position:
            B, T = hist.shape
            last = torch.arange(B, device=hist.device), torch.full((B,), T - 1, device=hist.device)
            return {**h, **self.summarise_prefixes(domain, h, *last)}
        return self.summarise(domain, h)

    def summarise_prefixes(self, domain: str, h: dict, b: torch.Tensor, t: torch.Tensor) -> dict:
        """`summarise` for N prefixes of one causal pass `h` (`encode_sequence`, (B, T)) at once: prefix n is row
        b_n up to position t_n; b, t (N,). The numbers are those `summarise` gives each prefix as a history of its
        own (tested). Returns ISA's inputs mask (N, T) and H = E_X + E_Xg (N, T, D) as right-aligned prefix views,
        and s_X, s_Xg, s_Xs, g_Xu (N, D), group_weights (N, N_g)."""
        cfg, X, mask = self.cfg, domain, h["mask"]
        out = {"mask": prefix_view(mask, b, t)}  # (N, T)
        if cfg.use_isa:
            out["H"] = prefix_view(h["E_X"] + h["E_Xg"], b, t)  # (N, T, D)
        out.update({s: prefix_pool(h[S], mask, b, t, cfg.pool)  # (N, D) running means
                    for s, S in (("s_X", "S_X"), ("s_Xg", "S_Xg"), ("s_Xs", "S_Xs")) if S in h})
        if cfg.use_gpa:  # Eq. (10)-(12) per prefix
            out["g_Xu"], out["group_weights"] = self.gpa[X].prefixes(self.prototypes[X].G, h["S_X"], mask, b, t)
        return out

    def score(self, domain: str, h: dict, cand: torch.Tensor) -> torch.Tensor:
        """Eq. (14)-(15): logits (B, C) of candidates `cand` (B, C, local ids) for encoded histories `h`; `cand` (C,)
        scores the same C candidates for every history, each candidate's own work done once (full ranking).

        `y_hat = MLP(e^Xi || s^Xs || g^Xu || s^X || M^X_target) + MLP_g(s^Xg || M_target)`; sigmoid(logit) = y_hat.
        Paper: Eq. (14) feeds `M^A_target` to MLP_g as well. Here: the shared table's target vector `M_target`,
        as the official code does -- MLP_g is shared, so its input should live in the shared space.
        With `cfg.head == "dot"`: `<e^Xi + s^Xs + g^Xu + s^X, M^X_target> + <s^Xg, M_target>` (`dot_logit`), the
        target vectors from the same tables as the history's items (as `sasrec`'s one table for input and output).
        Paper: MLPs only. Here (dot): each MLP becomes the dot product of its history parts with its target, and
        the local and global logits are summed as Eq. (14)-(15) sum the two MLPs. ISA's candidate-dependent e^Xi
        enters as s_i = s + e^Xi: `<e^Xi, M_i>` scores the target against the history items ISA chose for it
        (DIN-like), with no new parameters, so `single-ep` with the dot head scores as `sasrec` does, `<s, M_i>`.
        """
        cfg, X = self.cfg, domain
        logit = 0.0
        if cfg.use_global:
            M_t = self.emb_g[X].target(self.to_global(X, cand), X)  # (B, C, D)
            logit = logit + self.head("mlp_g", X, [h["s_Xg"].unsqueeze(1), M_t])  # MLP_g
        if cfg.use_local:
            parts = []  # e^Xi || s^Xs || g^Xu || s^X || M^X_target, the paper's order
            if cfg.use_isa:
                e_Xi, _ = self.isa[X].attend(M_t, h["H"], h["mask"])  # (B, C, D)  Eq. (5)-(6)
                parts.append(e_Xi)
            parts += [h[k].unsqueeze(1) for k, on in (("s_Xs", cfg.use_sfa), ("g_Xu", cfg.use_gpa), ("s_X", True))
                      if on]  # (B, 1, D) each
            parts.append(self.emb[X].target(cand, X))  # M^X_target (B, C, D)
            logit = logit + self.head("mlp", X, parts)  # local MLP
        return logit  # (B, C)

    def head(self, mlp: str, domain: str, parts: list) -> torch.Tensor:
        """Logits (B, C) of the prediction MLP `mlp` ("mlp" or "mlp_g") of `domain` over `parts` (the target vector
        last), or with `cfg.head == "dot"` the dot product of the history parts with the target (`dot_logit`)."""
        if self.cfg.head == "dot":
            return dot_logit(parts[:-1], parts[-1])
        return prediction_logit(getattr(self, mlp)[domain], parts)

    def forward(self, domain: str, hist: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Logits (B, C) of C candidates for each of B histories of `domain` ("A" or "B")."""
        return self.score(domain, self.encode_history(domain, hist), cand)

    @property
    def every_position(self) -> bool:
        """True when the trainer should call `sequence_loss` (`cfg.objective == "every-position"`)."""
        return self.cfg.objective == "every-position"

    def sequence_logits(self, domain: str, hist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor):
        """The every-position objective's logits (`mini_man.every_position`): one causal pass over `hist` (B, T),
        then every real target of `pos` (B, T) (the next item at each position, 0 = none) scored with its K
        negatives `neg` (B, T, K) against the prefix up to its position. Returns logits (N, 1 + K), column 0 the
        positive, and the targets' (row, position) indices, two (N,), row-major."""
        b, t = target_rows(pos)  # (N,) each
        h = self.summarise_prefixes(domain, self.encode_sequence(domain, hist), b, t)  # (N, T, ...), (N, D)
        cand = torch.cat([pos[b, t].unsqueeze(1), neg[b, t]], dim=1)  # (N, 1 + K)
        return self.score(domain, h, cand), (b, t)

    def sequence_loss(self, domain: str, hist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """Eq. (18) for a batch of `domain` under the every-position objective: `objective` of `sequence_logits`
        (the BCE mean over every target's 1 + K candidates, plus Eq. 13's L^g)."""
        return self.objective(domain, self.sequence_logits(domain, hist, pos, neg)[0])

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
