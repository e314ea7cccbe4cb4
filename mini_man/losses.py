"""The objective: prototype disentanglement (Eq. 13), the per-domain likelihood (Eq. 16-17) and the total with
L2 regularisation (Eq. 18). Logits are (B, C): C = 1 + K candidates per history, column 0 the positive."""
import torch
import torch.nn.functional as F


def disentanglement_loss(G: torch.Tensor, lambda_g: float, form: str = "bounded") -> torch.Tensor:
    """Eq. (13): `L^g = -lambda_g sum_{i<j} (G_i - G_j)^2` over the N_g prototypes G (N_g, D).

    `form="printed"` is the formula as printed. It is unbounded below: scaling G by s scales it by s^2, so the
    loss can fall without limit just by inflating the prototypes. `form="bounded"` (the default) applies the same
    sum to row-normalised prototypes G_i / ||G_i||; it then lies in [-lambda_g N_g^2, 0] and can only be lowered by
    spreading the prototypes' directions apart, which is what "each group prototype should be distinct" asks for.
    Paper: Eq. (13) only. Official code: the printed form with lambda_g = 1e-5 and a factor 1/2.
    """
    if form == "bounded":
        G = F.normalize(G, dim=-1)
    elif form != "printed":
        raise ValueError(f"form must be 'bounded' or 'printed', got {form!r}")
    N_g = G.shape[0]
    # sum_{i<j} ||G_i - G_j||^2 = N_g sum_i ||G_i||^2 - ||sum_i G_i||^2  (no N_g x N_g matrix, no sqrt)
    pairwise = N_g * G.pow(2).sum() - G.sum(0).pow(2).sum()
    return -lambda_g * pairwise


def likelihood_loss(logits: torch.Tensor, kind: str = "bce") -> torch.Tensor:
    """Eq. (16) (domain A) and Eq. (17) (domain B):
    `L^X = -1/|R^X| sum (y log y_hat + (1 - y) log(1 - y_hat))`, y_hat = sigmoid(logit).

    logits (B, C), column 0 the positive (y = 1), the others sampled negatives (y = 0); the mean runs over all
    B * C rows. `kind="softmax"` is the official code's loss instead: cross-entropy of the positive among the C
    candidates of its history, averaged over histories.
    """
    if kind == "bce":
        y = torch.zeros_like(logits)
        y[:, 0] = 1.0
        return F.binary_cross_entropy_with_logits(logits, y)
    if kind == "softmax":
        return F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long, device=logits.device))
    raise ValueError(f"kind must be 'bce' or 'softmax', got {kind!r}")


def l2_penalty(params) -> torch.Tensor:
    """`||Theta^X||^2` of Eq. (18): the sum of squares of one domain's own parameters.

    Paper: `lambda^X ||Theta^X||_2`. Here: the squared norm (weight decay), the usual reading.
    """
    return sum(p.pow(2).sum() for p in params)


def domain_objective(logits: torch.Tensor, G, domain_params, lambda_l2: float, lambda_g: float,
                     kind: str = "bce", form: str = "bounded") -> torch.Tensor:
    """Eq. (18) for one domain's batch: `L^X + lambda^X ||Theta^X||^2 + L^g`.

    Sec. 3.3.2 ("independent updating"): a batch comes from one domain and only that domain's terms exist; the
    sum over both domains in Eq. (18) is what alternating A and B batches optimise. `G` is None without GPA.
    """
    loss = likelihood_loss(logits, kind)
    if lambda_l2 > 0:
        loss = loss + lambda_l2 * l2_penalty(domain_params)
    if G is not None:
        loss = loss + disentanglement_loss(G, lambda_g, form)
    return loss
