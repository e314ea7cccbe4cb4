"""The popularity baseline `pop`: score = how often the candidate occurs as a training target of its domain.

No learning. The reference point every trained model must beat: a model that ranks by popularity alone sits on the
"popularity plateau" (docs/results.md, notebook 08). Same call signature as `MAN`:
`model(domain, hist, cand) -> logits (B, C)`; the history is ignored.
"""
import torch
from torch import nn

DOMAINS = ("A", "B")


class Popularity(nn.Module):
    """`logit = log(1 + count)` of the candidate among the domain's training targets (ties stay ties)."""

    def __init__(self, counts: dict):
        """counts: {domain: (n_items,) training-target counts per local id (index 0 = padding, count 0)}."""
        super().__init__()
        for X in DOMAINS:
            self.register_buffer(f"log_count_{X}", torch.log1p(torch.as_tensor(counts[X], dtype=torch.float32)))

    def forward(self, domain: str, hist: torch.Tensor, cand: torch.Tensor) -> torch.Tensor:
        """Logits (B, C) of candidates `cand` (B, C); `hist` (B, T) is not used."""
        return getattr(self, f"log_count_{domain}")[cand]  # (B, C)

    def score_all(self, domain: str, hist: torch.Tensor) -> torch.Tensor:
        """Logits (B, n_items) of every local item of `domain` (column 0, padding, is meaningless)."""
        log_count = getattr(self, f"log_count_{domain}")  # (n_items,)
        return log_count.expand(len(hist), -1)  # (B, n_items)
