"""One configuration for the model: `MANConfig`, with the paper's Amazon settings as defaults.

Sizes follow the paper's appendix A.5 and Sec. 4.1.3 (Amazon): item embedding 16 + domain embedding 4 = D = 20,
T = 20, ISA MLP [32, 16], prediction MLP [20, 10]. The model variants of the experiments (Table 2, Table 3,
Fig. 3) are the same model with parts switched off; `variant(name)` names them.
"""
from dataclasses import dataclass, replace

BACKBONES = ("sasrec", "gru4rec")
LOSSES = ("bce", "softmax")
DISENTANGLE_FORMS = ("bounded", "printed")
POOLS = ("mean", "last")
OBJECTIVES = ("one-target", "every-position")
POSITIONS = ("newest", "oldest")
HEADS = ("mlp", "dot")


@dataclass(frozen=True)
class MANConfig:
    """Hyper-parameters of MAN (paper Sec. 4.1.3 and appendix A.5, Amazon column)."""

    item_dim: int = 16  # item embedding size (A.5, Amazon)
    domain_dim: int = 4  # domain embedding concatenated to every item embedding (A.3, A.5)
    max_len: int = 20  # T: the most recent T history items are kept (Sec. 4.1.3)
    num_groups: int = 5  # N_g: Fig. 5 finds 5 best on Amazon (the official code's flag says 10)
    n_blocks: int = 2  # SASRec blocks (official sasrec.yaml)
    n_heads: int = 1  # attention heads in SASRec blocks (official code)
    isa_hidden: tuple = (32, 16)  # MLP of item similarity attention, Eq. (5) (A.5, Amazon)
    pred_hidden: tuple = (20, 10)  # prediction MLPs, Eq. (14)-(15) (Sec. 4.1.3, Amazon)
    backbone: str = "sasrec"  # Encoder / Encoder_g of Eq. (3)-(4): "sasrec" or "gru4rec" (Fig. 3)
    # The read-out of s^X, s^Xg, s^Xs in Eq. (14)-(15). Paper: "average pooling" (after Eq. 15). Here: "mean" (the
    # default) or "last", the output at the newest position, which is SASRec's own read-out (Kang & McAuley 2018)
    # and keeps short-term patterns (what the last item says about the next) that a mean over T positions dilutes.
    pool: str = "mean"
    # Eq. (14)-(15)'s prediction layer. "mlp" (the paper): MLP(e^Xi || s^Xs || g^Xu || s^X || M^X_target) +
    # MLP_g(s^Xg || M_target). "dot": the same parts as dot products with the target, no MLP (`model.dot_logit`).
    head: str = "mlp"
    # What one training step sees (`mini_man.every_position`). "one-target" (the paper, Sec. 3.3): a history and the
    # 1 + K candidates of its one target. "every-position": every position of a user's sequence predicts the next
    # item in one causal pass (as SASRec trains), each target scored against the prefix before it only.
    objective: str = "one-target"
    # How P of Eq. (1)-(2) is indexed. "newest" (the official code): right-aligned, P_T is always the newest item.
    # "oldest" (SASRec's reference): P_k is the k-th item of the history, so a prefix of a sequence gets the vectors
    # it gets inside the whole sequence; the every-position objective needs it.
    positions: str = "newest"
    # Dropout in the SASRec backbone (Eq. 3-4): on its input embeddings, its attention weights and its FFN's output
    # (SASRec's reference, 0.2 there, also drops inside the FFN). Paper and official code: none (0, the default).
    # Here: an option, one of the two settings canonical SASRec loses most without (docs/results.md).
    dropout: float = 0.0
    # The history's item vectors [M_i ; C_dom] times sqrt(D) before the position is added (Eq. 1-2), as SASRec's
    # reference scales its input embeddings (the candidates' target vectors are not scaled). Paper and official
    # code: no scaling (False, the default). Here: an option, the other setting docs/results.md finds sasrec needs.
    scale_embeddings: bool = False
    # BatchNorm before each ReLU of the prediction MLPs (Eq. 14-15). Paper: none. Official code: Linear ->
    # BatchNorm (TF momentum 0.95, eps 1e-4) -> ReLU in every hidden layer of its scoring MLPs, their statistics
    # updated by the batches of both domains (notes: a leak). Here: an option (off, the default), in the
    # prediction MLPs only (ISA's scorer keeps none), each MLP with its own BatchNorm: the local MLPs' statistics
    # come from their domain's batches, the shared MLP_g's from both domains' (it is shared, so is its input).
    batch_norm: bool = False

    # Which parts exist. MAN has all of them; the baselines and ablations switch some off.
    use_local: bool = True  # domain-specific branch: M^X, P^X, Encoder, local MLP
    use_global: bool = True  # cross-domain branch: M, P, Encoder_g, MLP_g
    use_isa: bool = True  # item similarity attention, Eq. (5)-(6)
    use_sfa: bool = True  # sequence-fusion attention, Eq. (7)-(9)
    use_gpa: bool = True  # group-prototype attention, Eq. (10)-(13)
    share_across_domains: bool = True  # False = `man-local`: every "shared" module is built once per domain

    # Objective, Eq. (13) and (16)-(18).
    loss: str = "bce"  # "bce": Eq. (16)-(17) per candidate; "softmax": official code, CE over the 1+K candidates
    disentangle: str = "bounded"  # Eq. (13): "bounded" (row-normalised G, the default) or "printed"
    lambda_g: float = 1e-3  # lambda_g of Eq. (13)
    # lambda^A = lambda^B of Eq. (18). Paper: searched in {1e-7, 1e-5, 1e-3}. Official SASRec run: no L2. Here: 0 by
    # default. With Adam, an L2 term in the loss outweighs the tiny data gradients of ISA's and GPA's weights from the
    # first step, and Adam's normalised steps then shrink them to zero (measured: GPA's group weights became exactly
    # 1/N_g within 3 epochs at 1e-5), which silently switches ISA and GPA off.
    lambda_l2: float = 0.0

    @property
    def D(self) -> int:
        """Width of every item/sequence vector: item embedding ++ domain embedding (A.3)."""
        return self.item_dim + self.domain_dim

    def __post_init__(self):
        checks = [
            (self.backbone in BACKBONES, f"backbone must be one of {BACKBONES}, got {self.backbone!r}"),
            (self.loss in LOSSES, f"loss must be one of {LOSSES}, got {self.loss!r}"),
            (self.pool in POOLS, f"pool must be one of {POOLS}, got {self.pool!r}"),
            (self.head in HEADS, f"head must be one of {HEADS}, got {self.head!r}"),
            (self.objective in OBJECTIVES, f"objective must be one of {OBJECTIVES}, got {self.objective!r}"),
            (self.positions in POSITIONS, f"positions must be one of {POSITIONS}, got {self.positions!r}"),
            (self.objective == "one-target" or self.positions == "oldest",
             "objective 'every-position' needs positions='oldest' (a prefix must get the positions it has inside "
             "its sequence)"),
            (self.disentangle in DISENTANGLE_FORMS,
             f"disentangle must be one of {DISENTANGLE_FORMS}, got {self.disentangle!r}"),
            (self.use_local or self.use_global, "at least one of use_local / use_global must be on"),
            (self.use_local or not (self.use_isa or self.use_sfa or self.use_gpa),
             "ISA, SFA and GPA feed the local prediction layer: they need use_local"),
            (self.use_global or not (self.use_isa or self.use_sfa),
             "ISA and SFA mix local and global sequences: they need use_global"),
            (min(self.item_dim, self.domain_dim, self.max_len, self.num_groups, self.n_blocks, self.n_heads) >= 1,
             "sizes (item_dim, domain_dim, max_len, num_groups, n_blocks, n_heads) must be >= 1"),
            (self.D % self.n_heads == 0, f"D = {self.D} must be divisible by n_heads = {self.n_heads}"),
            (self.lambda_g >= 0 and self.lambda_l2 >= 0, "lambda_g and lambda_l2 must be >= 0"),
            (0 <= self.dropout < 1, f"dropout must be in [0, 1), got {self.dropout}"),
            (self.dropout == 0 or self.backbone == "sasrec",
             f"dropout acts in the SASRec backbone only, not in {self.backbone!r}"),
            (not self.batch_norm or self.head == "mlp", "batch_norm acts in the prediction MLPs: it needs head='mlp'"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


# The models of the experiments, as switches on MANConfig.
# single / gru4rec: the local branch alone = a single-domain SASRec / GRU4Rec per domain (Table 2, Fig. 3 "Single").
# shared: the global branch alone, one backbone trained on both domains (Fig. 3 "Shared").
# man-no-*: the ablations of Table 3. man-gru4rec: MAN on a GRU4Rec backbone (Fig. 3 "Cross").
# man-local: MAN's architecture with nothing shared across domains -- the control for transfer.
# *-ep: the same models trained every position in one causal pass, positions counted from the oldest item
# (`mini_man.every_position`); a different model from the one-target one, not only a different training.
_PLAIN = dict(use_isa=False, use_sfa=False, use_gpa=False)
VARIANTS = {
    "man": {},
    "single": dict(use_global=False, **_PLAIN),
    "shared": dict(use_local=False, **_PLAIN),
    # Paper: "average pooling" for every summary. Here: `gru4rec` reads the last hidden state, GRU4Rec's own session
    # representation (Hidasi et al., 2016; the official code's GRU models use `final_state` too). Measured on the sample
    # (docs/results.md, 5 seeds): A leaves the plateau on 5/5 seeds with std 0.002 (mean read-out: 0.037).
    "gru4rec": dict(use_global=False, backbone="gru4rec", pool="last", **_PLAIN),
    "man-gru4rec": dict(backbone="gru4rec"),
    "man-no-isa": dict(use_isa=False),
    "man-no-sfa": dict(use_sfa=False),
    "man-no-gpa": dict(use_gpa=False),
    "man-local": dict(share_across_domains=False),
}
_EVERY_POSITION = dict(objective="every-position", positions="oldest")
VARIANTS.update({"man-ep": _EVERY_POSITION, "single-ep": {**VARIANTS["single"], **_EVERY_POSITION},
                 "man-local-ep": {**VARIANTS["man-local"], **_EVERY_POSITION}})


def variant(name: str, **overrides) -> MANConfig:
    """The `MANConfig` of a named model (see `VARIANTS`), with optional overrides (e.g. `num_groups=10`)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(VARIANTS)}")
    return replace(MANConfig(), **{**VARIANTS[name], **overrides})
