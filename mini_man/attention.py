"""The mixed attention layer (Sec. 3.2): item similarity attention (Eq. 5-6), sequence-fusion attention
(Eq. 7-9) and group-prototype attention (Eq. 10-12). One instance of each module per domain."""
import math

import torch
from torch import nn

from mini_man.config import MANConfig
from mini_man.layers import MLP, NEG_INF, FeedForwardSandwich, masked_softmax


def atten(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """Eq. (9): `Atten(Q, K, V) = softmax(Q K^T / sqrt(D)) V`, padded keys excluded.

    Q (B, n, D) or (n, D), K and V (B, T, D), key_mask (B, T) (the same keys for every query) or (B, n, T) (per
    query) -> (B, n, D).
    """
    D = K.shape[-1]
    scores = Q @ K.transpose(-1, -2) / math.sqrt(D)  # (B, n, T)
    mask = key_mask.unsqueeze(1) if key_mask.dim() == 2 else key_mask  # (B, 1 or n, T)
    return masked_softmax(scores, mask) @ V  # (B, n, D)


class CrossAttention(nn.Module):
    """Eq. (8): `CA(X, Y) = Atten(X W^Q, Y W^K, Y W^V)`, with `W^Q, W^K, W^V` in R^{D x D} (no bias, as printed)."""

    def __init__(self, D: int):
        super().__init__()
        self.W_Q = nn.Linear(D, D, bias=False)
        self.W_K = nn.Linear(D, D, bias=False)
        self.W_V = nn.Linear(D, D, bias=False)

    def forward(self, X: torch.Tensor, Y: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        """Eq. (8). X (B, n, D) or (n, D) queries, Y (B, T, D) keys/values, key_mask (B, T) -> (B, n, D)."""
        return atten(self.W_Q(X), self.W_K(Y), self.W_V(Y), key_mask)


class ItemSimilarityAttention(nn.Module):
    """Eq. (5)-(6): weigh the history's items by their similarity to the target item.

    Paper: `F^A = MLP(M_{i_{t+1}} || E^A + E^{A_g})`. The target embedding has no domain superscript: here it is
    the shared table's target vector, as in the official code. Official code: a DIN-style scorer
    `[KW, q, KW - q, KW * q]` with BatchNorm; here: the MLP on the concatenation that the paper prints
    (sizes [32, 16] for Amazon, A.5).
    """

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.mlp = MLP((2 * cfg.D, *cfg.isa_hidden, 1))

    def forward(self, M_t: torch.Tensor, E_X: torch.Tensor, E_Xg: torch.Tensor, mask: torch.Tensor):
        """M_t (B, C, D) target vectors of C candidates, or (C, D) for candidates shared by every history (full
        ranking); E_X, E_Xg (B, T, D); mask (B, T).

        Returns `e^{X_i}` (B, C, D) = sum_t E^{X_i}_t (Eq. 6 then the pooling of Eq. 14) and the weights
        softmax(F^X) (B, C, T). `scores` (or `scores_shared`) computes F^X (Eq. 5).
        """
        return self.attend(M_t, E_X + E_Xg, mask)

    def attend(self, M_t: torch.Tensor, H: torch.Tensor, mask: torch.Tensor):
        """`forward` given H = E^X + E^{X_g} (B, T, D), the history side of Eq. (5)-(6)."""
        F_X = self.scores(M_t, H, mask) if M_t.dim() == 3 else self.scores_shared(M_t, H, mask)  # (B, C, T)  Eq. (5)
        alpha = masked_softmax(F_X, mask.unsqueeze(1))  # (B, C, T), zero at padding
        e_Xi = alpha @ H  # (B, C, D)  Eq. (6) summed over t: E^{X_i}_t = alpha_t (E^X + E^{X_g})_t
        return e_Xi, alpha

    def scores(self, M_t: torch.Tensor, H: torch.Tensor, mask: torch.Tensor,
               skip_padding: bool | None = None) -> torch.Tensor:
        """Eq. (5): `F^X = MLP(M_t || H)` for every (candidate, position) pair. M_t (B, C, D), H (B, T, D),
        mask (B, T) -> F^X (B, C, T); padded positions get NEG_INF.

        The first layer is split into a target part (once per candidate) and a history part (once per position);
        only the rest of the MLP runs per pair. `skip_padding` (default: on the CPU) leaves out the pairs whose
        position is padding: histories are often much shorter than T (30-80% real positions in the sample), and
        these pairs are most of a MAN step on a CPU. On a GPU every pair is scored: skipping needs the number of
        real positions on the host (a sync), and the GPU does not mind the padding. Both give the same numbers.
        """
        first = self.mlp.layers[0]
        W_t, W_h = first.weight.split(M_t.shape[-1], dim=1)  # (h1, D) each: target and history columns
        cand = M_t @ W_t.T + first.bias  # (B, C, h1)
        hist = H @ W_h.T  # (B, T, h1)
        if skip_padding is None:
            skip_padding = not H.is_cuda
        if not skip_padding:
            return self.mlp.after_first(cand.unsqueeze(2) + hist.unsqueeze(1)).squeeze(-1).masked_fill(
                ~mask.unsqueeze(1), NEG_INF)  # (B, C, T)
        (B, T), C = mask.shape, M_t.shape[1]
        real = mask.flatten().nonzero().squeeze(1)  # (N,) flat indices b * T + t of the real positions
        pairs = (cand.index_select(0, real // T)  # (N, C, h1): the candidates of each real position's history
                 + hist.flatten(0, 1).index_select(0, real).unsqueeze(1))  # (N, C, h1)
        F_real = self.mlp.after_first(pairs).squeeze(-1)  # (N, C)
        F_X = F_real.new_full((B * T, C), NEG_INF).index_copy(0, real, F_real)  # (B * T, C)
        return F_X.view(B, T, C).transpose(1, 2).contiguous()  # (B, C, T)

    @torch.no_grad()
    def scores_shared(self, M_t: torch.Tensor, H: torch.Tensor, mask: torch.Tensor, rows: int = 2**14) -> torch.Tensor:
        """`scores` for C candidates shared by every history (full ranking): M_t (C, D), H (B, T, D), mask (B, T) ->
        F^X (B, C, T), the same numbers as `scores(M_t.expand(B, C, D), H, mask)` (tested). No autograd.

        The target half of the first layer runs once per candidate, the history half once per real position, and
        the rest of the MLP on blocks of about `rows` (candidate, real position) pairs, small enough for the cache
        (measured on a 2-core CPU: 2^14 rows x 32 floats, 2 MB; blocks several times larger ran 2-4x slower).
        Padded positions are left out, as in `scores` on the CPU (on a GPU too: one host sync per call).
        """
        first = self.mlp.layers[0]
        W_t, W_h = first.weight.split(M_t.shape[-1], dim=1)  # (h1, D) each
        cand = M_t @ W_t.T + first.bias  # (C, h1)
        (B, T), C = mask.shape, len(M_t)
        real = mask.flatten().nonzero().squeeze(1)  # (N,) flat indices b * T + t of the real positions
        hist = H.flatten(0, 1).index_select(0, real) @ W_h.T  # (N, h1)
        F_real = hist.new_empty(C, len(real))  # (C, N)
        step = max(1, rows // max(1, len(real)))  # candidates per block
        for c in range(0, C, step):
            pairs = torch.add(cand[c:c + step].unsqueeze(1), hist)  # (c, N, h1): first layer, before its ReLU
            F_real[c:c + step] = self.mlp.after_first_inplace(pairs.flatten(0, 1)).view(-1, len(real))  # (c, N)
        F_X = F_real.new_full((C, B * T), NEG_INF).index_copy_(1, real, F_real)  # (C, B * T)
        return F_X.view(C, B, T).transpose(0, 1)  # (B, C, T)


class SequenceFusionAttention(nn.Module):
    """Eq. (7)-(9): `S^{A_s} = MLP(CA(S^A, S^{A_g}) + S^A)`, the local sequence attending to the global one.

    Appendix A.3: back-propagation of S^A and S^{A_g} is stopped here. Paper: no mask. Here: padded global
    positions are excluded as keys. With the one-target objective no causal mask -- every item of the history
    precedes the target, so nothing leaks. With the every-position objective (`cfg.objective`) query-causal, as
    the official code: position t attends to global keys <= t, so S^{X_s} is computed once per sequence and the
    summary of a prefix is the running mean of its rows (`every_position`).
    Paper: Eq. (7) over the whole history. Here (every-position): S^{X_s}_t of a prefix ending at t' > t is the
    one computed within the prefix ending at t, not re-attended over keys up to t' (exact per prefix would cost
    T times more: a (B, T, T, D) tensor through the MLP per sequence).
    """

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.CA = CrossAttention(cfg.D)
        self.mlp = FeedForwardSandwich(cfg.D)
        self.causal = cfg.objective == "every-position"

    def forward(self, S_X: torch.Tensor, S_Xg: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Eq. (7). S_X, S_Xg (B, T, D), mask (B, T) -> S^{X_s} (B, T, D), zero at padding."""
        S_X, S_Xg = S_X.detach(), S_Xg.detach()  # A.3: stop-gradient into the encoders
        keys = mask
        if self.causal:
            T = mask.shape[1]
            keys = mask.unsqueeze(1) & torch.ones(T, T, dtype=torch.bool, device=mask.device).tril()  # (B, T, T)
        S_Xs = self.mlp(self.CA(S_X, S_Xg, keys) + S_X)  # (B, T, D)
        return S_Xs * mask.unsqueeze(-1)


class GroupPrototypeAttention(nn.Module):
    """Eq. (10)-(12): relevance of the user to each of N_g groups, and prototypes read against the history.

    Everything here is per domain; the prototypes `G` (N_g, D) are passed in because they are shared by both
    domains (Sec. 3.2.3). Appendix A.3: back-propagation of S^A is stopped here.
    """

    def __init__(self, cfg: MANConfig):
        super().__init__()
        self.W_P = nn.Parameter(torch.empty(cfg.num_groups, cfg.max_len))  # W^P_X: (N_g, T)
        nn.init.xavier_uniform_(self.W_P)
        # Paper: "MLP" in Eq. (10). Official code: two linear layers without activation. Here: D -> D -> 1, ReLU.
        self.mlp_C = MLP((cfg.D, cfg.D, 1))
        self.CA = CrossAttention(cfg.D)
        self.mlp_G = FeedForwardSandwich(cfg.D)

    def relevance(self, S_X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Eq. (10): `C^X = MLP(W^P_X S^X)`. S_X (B, T, D), mask (B, T) -> C^X (B, N_g).

        Padded rows of S^X are zeroed first, so they add nothing to the time pooling `W^P S^X`.
        """
        T = S_X.shape[1]
        S = S_X.detach() * mask.unsqueeze(-1)  # (B, T, D); A.3 stop-gradient
        pooled = self.W_P[:, -T:] @ S  # (B, N_g, D)
        return self.mlp_C(pooled).squeeze(-1)  # (B, N_g)

    def prototypes(self, G: torch.Tensor, S_X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Eq. (11): `G^X = MLP(CA(G, S^X))`. G (N_g, D), S_X (B, T, D) -> G^X (B, N_g, D).

        Official code: no W^Q on G, and a causal mask that lets prototype k see positions <= k only (a bug,
        notes §4.3). Here: Eq. (8) as printed, every real position visible to every prototype.
        """
        return self.mlp_G(self.CA(G, S_X.detach(), mask))  # (B, N_g, D)

    def forward(self, G: torch.Tensor, S_X: torch.Tensor, mask: torch.Tensor):
        """Eq. (12): `G^{X_u} = softmax(C^X) * G^X`, pooled over groups to `g^{X_u}` (Eq. 14).

        Returns g^{X_u} (B, D) and the group weights softmax(C^X) (B, N_g). Paper: `g = sum_k G^{X_u}_k`
        ("average pooling"); the softmax weights sum to 1, so the sum is already a weighted average.
        """
        w = torch.softmax(self.relevance(S_X, mask), dim=-1)  # (B, N_g)
        G_Xu = w.unsqueeze(-1) * self.prototypes(G, S_X, mask)  # (B, N_g, D)
        return G_Xu.sum(1), w  # (B, D), (B, N_g)

    def prefixes(self, G: torch.Tensor, S_X: torch.Tensor, mask: torch.Tensor, b: torch.Tensor, t: torch.Tensor):
        """`forward` for N prefixes of one causal pass at once (the every-position objective): prefix n is row b_n
        of S_X (B, T, D), mask (B, T), up to position t_n; b, t (N,). Returns g^{X_u} (N, D) and the group
        weights (N, N_g): the numbers `forward` gives each prefix as a right-aligned history of its own (tested).

        Eq. (10) per prefix: W^P's last column weighs the prefix's newest position t, the one before it the
        column before, and so on (W^P weighs by recency in every prefix); Eq. (11): the prototypes attend to the
        prefix's real positions only. Both are computed for all T prefixes of every row, (B, T, N_g, D), without
        a copy of the history per prefix, then the N rows are picked.
        """
        B, T, D = S_X.shape
        S = S_X.detach() * mask.unsqueeze(-1)  # (B, T, D); A.3 stop-gradient
        causal = torch.ones(T, T, dtype=torch.bool, device=S.device).tril()  # (T_s, T_u): prefix s holds u <= s
        lag = torch.arange(T, device=S.device).unsqueeze(1) - torch.arange(T, device=S.device)  # (T_s, T_u): s - u
        W = self.W_P[:, -T:][:, (T - 1 - lag).clamp(max=T - 1)] * causal  # (N_g, T_s, T_u): W^P of prefix s
        pooled = torch.einsum("gsu,bud->bsgd", W, S)[b, t]  # (N, N_g, D): W^P S^X per prefix, Eq. (10)
        w = torch.softmax(self.mlp_C(pooled).squeeze(-1), dim=-1)  # (N, N_g)
        CA = self.CA
        scores = CA.W_Q(G) @ CA.W_K(S).transpose(-1, -2) / math.sqrt(D)  # (B, N_g, T): Eq. (8)-(9)
        keys = mask[:, None, None, :] & causal[None, :, None, :]  # (B, T_s, 1, T_u): the prefix's real positions
        a = masked_softmax(scores.unsqueeze(1), keys) @ CA.W_V(S).unsqueeze(1)  # (B, T_s, N_g, D)
        G_X = self.mlp_G(a[b, t])  # (N, N_g, D)  Eq. (11)
        return (w.unsqueeze(-1) * G_X).sum(1), w  # (N, D), (N, N_g)  Eq. (12)
