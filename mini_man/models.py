"""Every model the trainer knows, by name: MAN and its variants (`config.VARIANTS`), plus two baselines that are
not MAN with parts switched off, `sasrec` (canonical SASRec, `mini_man.sasrec`) and `pop` (`mini_man.popularity`).

All share one call signature, `model(domain, hist, cand) -> logits (B, C)`, so the trainer, metrics and CLI treat
them alike.
"""
import numpy as np
import torch

from mini_man import data as mdata
from mini_man.config import VARIANTS, MANConfig, variant
from mini_man.model import MAN
from mini_man.popularity import Popularity
from mini_man.sasrec import SASRec, SASRecConfig

BASELINES = ("sasrec", "pop")
NAMES = (*VARIANTS, *BASELINES)
# The models trained every position of a sequence in one causal pass (`train.sequence_batch_data`)
EVERY_POSITION = ("sasrec", *(m for m, v in VARIANTS.items() if v.get("objective") == "every-position"))


def model_config(name: str, max_len: int, **overrides):
    """The config dataclass of model `name` with history length `max_len` (T) and field `overrides` (e.g.
    `num_groups` for the MAN family, `hidden` for `sasrec`); `pop` has no config (None) and takes no overrides.
    Raises ValueError for an unknown name or field."""
    if name == "pop":
        if overrides:
            raise ValueError(f"pop has no settings, got {', '.join(overrides)}")
        return None
    if name == "sasrec":
        try:
            return SASRecConfig(max_len=max_len, **overrides)
        except TypeError as e:
            raise ValueError(f"sasrec: {e}") from None
    if name not in VARIANTS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(NAMES)}")
    return variant(name, max_len=max_len, **overrides)


def family_overrides(name: str, **overrides) -> dict:
    """The `overrides` that apply to model `name`: MAN's settings (e.g. `num_groups`) go to the MAN family only."""
    return overrides if name in VARIANTS else {}


def build(cfg: MANConfig | SASRecConfig | None, data: mdata.CrossDomainData) -> torch.nn.Module:
    """The model described by `cfg` (from `model_config`), sized for `data`; None builds `pop`, whose counts are
    the domains' training targets."""
    n_items = {d: dd.n_items for d, dd in data.domains.items()}
    if cfg is None:
        return Popularity({d: np.bincount(dd.train.target, minlength=dd.n_items) for d, dd in data.domains.items()})
    if isinstance(cfg, SASRecConfig):
        return SASRec(cfg, n_items)
    global_ids = {d: torch.as_tensor(dd.global_ids) for d, dd in data.domains.items()}
    return MAN(cfg, n_items, data.n_global_items, global_ids)
