"""Small building blocks used by several equations: MLPs, masked softmax and masked pooling.

Masks are `(B, T)` bool tensors, True at real (non-padding) positions.
"""
import torch
from torch import nn

NEG_INF = -1e9  # added to masked scores before a softmax (finite, so fully masked rows give no NaN)


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Softmax of `scores` over `dim`, with weight exactly 0 where `mask` is False."""
    weights = torch.softmax(scores.masked_fill(~mask, NEG_INF), dim=dim)
    return weights * mask  # rows with no valid entry become all-zero instead of uniform


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of `x` (B, T, D) over the valid positions of `mask` (B, T) -> (B, D).

    Paper Eq. (14)-(15): `s^A = sum_t S^A_t`, "which denotes average pooling". Here: the mean over real items,
    so padding never counts (the official code does the same).
    """
    m = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, D)


class MLP(nn.Module):
    """Linear -> ReLU -> ... -> Linear. `sizes = (in, hidden..., out)`; ReLU as in appendix A.5.

    With `batch_norm`, Linear -> BatchNorm -> ReLU in every hidden layer, as the official code's scoring MLPs
    (the prediction MLPs of Eq. (14)-(15) with `MANConfig.batch_norm`; TF momentum 0.95 = PyTorch momentum 0.05,
    eps 1e-4). The BatchNorm normalises each feature over all rows of a batch (every leading dimension: (B, C, h) is
    B * C rows); in eval mode it applies the running statistics.
    """

    def __init__(self, sizes: tuple, batch_norm: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b, eps=1e-4, momentum=0.05) for b in sizes[1:-1]) if batch_norm \
            else None

    def activate(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """ReLU of hidden layer i's output x (..., h), after its BatchNorm if there is one."""
        if self.norms is not None:
            x = self.norms[i](x.reshape(-1, x.shape[-1])).view(x.shape)
        return torch.relu(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.after_first(self.layers[0](x))

    def on_parts(self, parts: list) -> torch.Tensor:
        """`self(cat(parts, -1))`, with the first layer applied part by part (see `concat_linear`), so parts shaped
        (B, 1, d) that are the same for every candidate are multiplied once."""
        return self.after_first(concat_linear(self.layers[0], parts))

    def after_first(self, x: torch.Tensor) -> torch.Tensor:
        """The rest of the MLP, given the first layer's output `x` (before its ReLU)."""
        for i, layer in enumerate(self.layers[1:]):
            x = layer(self.activate(i, x))
        return x

    def after_first_inplace(self, x: torch.Tensor) -> torch.Tensor:
        """`after_first` for inference on a block of rows x (R, h1), overwriting x: the ReLUs run in place and each
        bias is added inside its matrix product, so a block of pair activations is never copied. No autograd and
        no BatchNorm (ISA's scorer, the one MLP that uses this, has none)."""
        assert self.norms is None, "after_first_inplace runs MLPs without BatchNorm"
        for layer in self.layers[1:]:
            x = torch.addmm(layer.bias, x.relu_(), layer.weight.T)  # (R, next width)
        return x


def concat_linear(layer: nn.Linear, parts: list) -> torch.Tensor:
    """`layer(cat(parts, -1))` without building the concatenation.

    A linear map of a concatenation is the sum of linear maps of its parts, so a part shaped (B, 1, d) that is
    the same for every candidate (a history summary) is multiplied once, not once per candidate, and broadcast
    against parts shaped (B, C, d). Used for the first layer of every MLP that mixes history and candidate.
    """
    out, start = layer.bias, 0
    for p in parts:
        out = out + p @ layer.weight[:, start:start + p.shape[-1]].T
        start += p.shape[-1]
    assert start == layer.in_features, f"parts have {start} features, the layer expects {layer.in_features}"
    return out


class FeedForwardSandwich(nn.Module):
    """The "MLP" of Eq. (7) and (11) for the SASRec backbone.

    Appendix A.3: "MLP for SASRec backbone is a MLP layer sandwiched [by] two normalization layers".
    Paper: no more detail. Here: LayerNorm -> point-wise FFN (D -> D -> D, ReLU) with a residual -> LayerNorm,
    as in the official code's LN + FFN + residual blocks.
    """

    def __init__(self, D: int):
        super().__init__()
        self.norm_in = nn.LayerNorm(D)
        self.ffn = MLP((D, D, D))
        self.norm_out = nn.LayerNorm(D)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm_in(x)
        return self.norm_out(h + self.ffn(h))
