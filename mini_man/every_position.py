"""The every-position objective of the MAN family (`MANConfig.objective = "every-position"`, models `*-ep`).

SASRec trains every position of a user's sequence in one causal pass: the encoder runs once per sequence, and
the output at position t predicts item t + 1. MAN's prediction reads more than the encoder's output at t (ISA
over the history's items for each candidate, GPA's prototypes and its recency pooling W^P, mean read-outs), so
here each target reads the per-position tensors of the one pass (embeddings, encoder outputs, the query-causal
SFA rows) up to its position t only -- exactly the tensors a history made of that prefix alone would have,
because the encoders and SFA are causal and positions count from the oldest item (`MANConfig.positions =
"oldest"`). The target-dependent parts then read their prefix only, one row per target
(`MAN.summarise_prefixes`, `MAN.sequence_logits`), and give the numbers the prefix alone gets (tested). At
evaluation a history is its own last prefix (t = T), so `MAN.forward` scores it with the same code.

Per module, for the prefix ending at t:
- read-outs s^X, s^Xg (Eq. 14-15): the mean over the prefix's real positions (a running mean), or with
  `pool="last"` the output at t;
- SFA (Eq. 7-9): query-causal (`attention.SequenceFusionAttention`), s^Xs = the running mean of its rows;
- GPA (Eq. 10-12): exactly per prefix -- the prototypes attend to the prefix's positions only, and W^P's last
  column weighs position t (recency keeps its meaning per prefix);
- ISA (Eq. 5-6): over the prefix's real positions, for each of the target's 1 + K candidates.
Eq. (13) and the independent updating (Sec. 3.3.2) are unchanged: one domain per batch, one `MAN.objective`.

Paper: Sec. 3.3 trains one target per history, the history re-encoded for each; A.5's K negatives per target.
Here: each user's last training window (as `sasrec`: the trainer's `sequence_batch_data`), every real position a
target with its own 1 + K candidates (K = `TrainConfig.n_neg`, fresh every epoch); the BCE mean runs over all
targets' candidates, so every target weighs as much as a one-target instance. Paper (A.5): batch 20 targets.
Here: 16 users' sequences per step (~240 targets on the sample) and a 150-step warm-up (`train.recipe`).
Positions are a different model from `man`'s (counted from the oldest item, not the newest).
"""
import torch


def target_rows(pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The (row, position) of every real target of `pos` (B, T) (0 = nothing to predict): two (N,) long tensors,
    row-major (all targets of sequence 0 first, oldest first)."""
    b, t = pos.nonzero(as_tuple=True)
    return b, t


def prefix_view(x: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x (B, T, ...) -> (N, T, ...): row n is x[b_n, :t_n + 1] right-aligned in T columns, zeros (False) before.

    For histories (B, T) this is the history of each prefix as the data would give it (left padding); for the
    per-position tensors of a causal pass, the tensors that history would produce on its own.
    """
    T = x.shape[1]
    src = torch.arange(T, device=x.device) - (T - 1 - t).unsqueeze(1)  # (N, T): source column, < 0 = before t = 0
    inside = src >= 0  # (N, T)
    view = x[b.unsqueeze(1), src.clamp(min=0)]  # (N, T, ...)
    return view.masked_fill(~inside.view(*inside.shape, *[1] * (x.dim() - 2)), 0)


def prefix_pool(S: torch.Tensor, mask: torch.Tensor, b: torch.Tensor, t: torch.Tensor, pool: str) -> torch.Tensor:
    """The read-out of Eq. (14)-(15) (`MAN.pool`) of N prefixes of S (B, T, D): the running mean over the real
    positions <= t_n of row b_n (`pool="mean"`), or the output at t_n (`pool="last"`). mask (B, T) -> (N, D)."""
    if pool == "last":
        return S[b, t]  # (N, D)
    m = mask.unsqueeze(-1).to(S.dtype)  # (B, T, 1)
    return (S * m).cumsum(1)[b, t] / m.cumsum(1)[b, t].clamp(min=1.0)  # (N, D)
