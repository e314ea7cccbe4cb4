"""MAN's architecture (paper Fig. 2) drawn with matplotlib, for the notebooks: one domain's path from a history
and its candidates to the logits, with each tensor's name and shape in `mini_man` and each block's equation and
teaching notebook. Presentation only: nothing here is part of the model.

    from mini_man.diagram import architecture
    fig = architecture(highlight="03")  # the ISA block stands out

Shapes: B histories, T positions, D = item_dim + domain_dim, C = 1 + K candidates, N_g group prototypes.
Blue blocks belong to one domain (B has its own copy); green blocks are shared by A and B (one object).
"""
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

LOCAL, SHARED, OTHER = "#dbe8f6", "#dcefd9", "#eeeeee"  # domain-specific, shared by A and B, data/evaluation

# key: (x, y, width, height, colour, text, notebook). (x, y) is the lower-left corner, in a 13.6 x 8 canvas.
BLOCKS = {
    "hist": (0.1, 4.3, 1.9, 1.3, OTHER, "history of a user of A\n$i^A_1 \\dots i^A_T$\nhist (B, T)", "00"),
    "cand": (0.1, 0.4, 1.9, 1.3, OTHER, "candidates $i^A_{t+1}$\n1 positive + K negatives\ncand (B, C)", "00"),
    "emb": (2.5, 5.3, 2.3, 1.5, LOCAL, "local embedding\n$E^A$: $M^A$, $C^A$, $P^A$\nE_X (B, T, D)", "01"),
    "emb_g": (2.5, 3.2, 2.3, 1.5, SHARED, "global embedding\n$E^{A_g}$: $M$, $C$, $P$\nE_Xg (B, T, D)", "01"),
    "enc": (5.3, 5.3, 2.1, 1.5, LOCAL, "Encoder (SASRec)\n$S^A$\nS_X (B, T, D)", "02"),
    "enc_g": (5.3, 3.2, 2.1, 1.5, SHARED, "Encoder$_g$\n$S^{A_g}$\nS_Xg (B, T, D)", "02"),
    "isa": (7.9, 0.4, 2.3, 1.5, LOCAL, "ISA (item similarity)\n$e^{A_i}$\ne_Xi (B, C, D)", "03"),
    "sfa": (7.9, 2.2, 2.3, 1.5, LOCAL, "SFA (sequence fusion)\n$s^{A_s}$\ns_Xs (B, D)", "04"),
    "gpa": (7.9, 4.7, 2.3, 1.5, LOCAL, "GPA (group prototypes)\n$g^{A_u}$, softmax($C^A$)\ng_Xu (B, D), weights (B, N$_g$)", "05"),
    "G": (7.9, 6.75, 2.3, 1.15, SHARED, "prototypes $\\mathbf{G}$\nG (N$_g$, D), loss $\\mathcal{L}^g$", "06"),
    "pred": (10.7, 3.2, 2.8, 1.9, LOCAL, "prediction layer: MLP (local) of\n$e^{A_i}, s^{A_s}, g^{A_u}, s^A, M_{i_{t+1}}$"
             "\n+ MLP$_g$ (shared) of $s^{A_g}, M_{i_{t+1}}$\nlogits (B, C)", "07"),
    "loss": (10.7, 5.7, 2.8, 1.3, OTHER, "objective\nBCE + $\\lambda\\|\\Theta\\|^2$ + $\\mathcal{L}^g$", "07"),
    "metrics": (10.7, 0.4, 2.8, 1.5, OTHER, "metrics on 1 + 9 candidates\nAUC, GAUC, MRR, NDCG@10", "07a"),
}
EQUATIONS = {"hist": "§2", "cand": "§2", "emb": "Eq. 1-2", "emb_g": "Eq. 1-2", "enc": "Eq. 3", "enc_g": "Eq. 4",
             "isa": "Eq. 5-6", "sfa": "Eq. 7-9", "gpa": "Eq. 10-12", "G": "Eq. 13", "pred": "Eq. 14-15",
             "loss": "Eq. 16-18", "metrics": "§4.1.2"}
# (from, to, label[, from side, to side]): arrows between block edges; the label names the tensor that flows.
# Sides ("l", "r", "t", "b") are given where the nearest sides would cross another block.
ARROWS = [("hist", "emb", ""), ("hist", "emb_g", ""), ("emb", "enc", ""), ("emb_g", "enc_g", ""),
          ("emb_g", "isa", "$E^A + E^{A_g}$", "b", "l"), ("cand", "isa", "$M_{i_{t+1}}$"),
          ("enc", "sfa", "$S^A$", "b", "t"), ("enc_g", "sfa", "$S^{A_g}$"), ("enc", "gpa", "$S^A$"),
          ("G", "gpa", ""), ("isa", "pred", "$e^{A_i}$"), ("sfa", "pred", "$s^{A_s}$"), ("gpa", "pred", "$g^{A_u}$"),
          ("enc_g", "pred", "$s^{A_g}$", "t", "l"), ("pred", "loss", ""), ("pred", "metrics", "")]
NOTEBOOKS = sorted({spec[-1] for spec in BLOCKS.values()})


def _anchor(key, towards, side=None):
    """The centre of one side of block `key`: `side` ("l", "r", "t", "b"), else the side facing block `towards`."""
    x, y, w, h = BLOCKS[key][:4]
    if side is None:
        tx, ty, tw, th = BLOCKS[towards][:4]
        dx, dy = (tx + tw / 2) - (x + w / 2), (ty + th / 2) - (y + h / 2)
        side = ("r" if dx > 0 else "l") if abs(dx) >= abs(dy) * 1.2 else ("t" if dy > 0 else "b")
    return {"l": (x, y + h / 2), "r": (x + w, y + h / 2), "t": (x + w / 2, y + h), "b": (x + w / 2, y)}[side]


def architecture(highlight: str | None = None):
    """Fig. 2 of the paper for one domain (A): returns the matplotlib Figure (13.6 x 8 in).

    highlight: a notebook number ("00" ... "07", "07a") whose blocks are drawn in bold with a red border while
    the others fade; None draws every block alike.
    """
    if highlight is not None and highlight not in NOTEBOOKS:
        raise ValueError(f"highlight must be one of {NOTEBOOKS} or None, got {highlight!r}")
    fig, ax = plt.subplots(figsize=(13.6, 8))
    ax.set_xlim(0, 13.6)
    ax.set_ylim(-0.6, 8.2)
    ax.axis("off")
    for key, (x, y, w, h, colour, text, notebook) in BLOCKS.items():
        on = highlight is None or notebook == highlight
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.04", facecolor=colour,
                                    edgecolor="tab:red" if highlight is not None and on else "0.3",
                                    linewidth=3 if highlight is not None and on else 1, alpha=1 if on else 0.35))
        ax.text(x + w / 2, y + h / 2, f"{text}\n{EQUATIONS[key]} · notebook {notebook}", ha="center", va="center",
                fontsize=8.5, alpha=1 if on else 0.45, fontweight="bold" if highlight is not None and on else None)
    for start, end, label, *sides in ARROWS:
        from_side, to_side = sides or (None, None)
        p, q = _anchor(start, end, from_side), _anchor(end, start, to_side)
        ax.add_patch(FancyArrowPatch(p, q, arrowstyle="-|>", mutation_scale=12, color="0.35", linewidth=1))
        if label:
            ax.text((p[0] + q[0]) / 2, (p[1] + q[1]) / 2 + 0.12, label, fontsize=8, ha="center", color="0.2",
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    ax.text(0.1, -0.45, "blue: one per domain (B has its own)   green: one object shared by A and B   grey: data, "
            "objective, evaluation   B = batch, T = history length, D = item_dim + domain_dim, C = 1 + K candidates",
            fontsize=8.5, color="0.25")
    title = "MAN for domain A (paper Fig. 2): tensor names and shapes in mini_man"
    ax.set_title(title + (f" · this notebook: {highlight}" if highlight else ""), fontsize=12)
    fig.tight_layout()
    return fig
